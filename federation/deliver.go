package federation

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/httpsig"
)

// JobDeliver is the kind of the job that delivers one activity to one inbox.
const JobDeliver = "federation_deliver"

// deliveryAttempts and the back-off below retry a dead server for about
// three weeks (1 min, 2 min, 4 min, … 8 days) before giving up.
const deliveryAttempts = 15

type delivery struct {
	Signer string `json:"signer"` // local actor name
	// KeyID names the signer's key, so that each delivery of a fan-out
	// need not look its actor up again; jobs queued before it was added
	// do without.
	KeyID    string          `json:"keyId,omitempty"`
	Inbox    string          `json:"inbox"`
	Activity json.RawMessage `json:"activity"`
	// Tries counts the attempts made by the jobs this one was handed over
	// from (see postpone), and Busy how often it found its server busy.
	Tries int `json:"tries,omitempty"`
	Busy  int `json:"busy,omitempty"`
}

const (
	defaultHostLimit = 4
	defaultHostWait  = 250 * time.Millisecond
	defaultHostRetry = time.Second
)

// deliver queues an activity for each inbox, signed by the local actor.
func (f *Service) deliver(ctx context.Context, signer string, activity any, inboxes ...string) error {
	const op = "federation.deliver"
	body, err := json.Marshal(activity)
	if err != nil {
		return nineten.E(op, nineten.KindInvalid, "the activity does not encode as JSON", err)
	}
	iri, err := f.actorIRI(ctx, signer)
	if err != nil {
		return nineten.E(op, err)
	}
	seen := map[string]bool{}
	var queue []*nineten.Job
	for _, inbox := range inboxes {
		if inbox == "" || seen[inbox] || f.blocked(ctx, inbox) {
			continue
		}
		seen[inbox] = true
		payload, _ := json.Marshal(delivery{Signer: signer, KeyID: iri + "#main-key", Inbox: inbox, Activity: body})
		queue = append(queue, &nineten.Job{Kind: JobDeliver, Payload: payload, MaxAttempts: deliveryAttempts, RunAt: f.now()})
	}
	// A fan-out is queued in batches, a transaction each, and the workers
	// are woken after each: a commit per job would cost a thousand
	// commits on SQLite's one writer, and one transaction for all would
	// hold up the first delivery until the last one is queued.
	for batch := range slices.Chunk(queue, enqueueBatch) {
		err := f.Store.WithTx(ctx, func(tx nineten.Store) error {
			for _, j := range batch {
				if err := tx.Enqueue(ctx, j); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nineten.E(op, "could not queue the deliveries", err)
		}
		if f.Enqueued != nil {
			f.Enqueued()
		}
	}
	return nil
}

// enqueueBatch is how many deliveries are queued in one transaction.
const enqueueBatch = 100

// Deliverer is the job handler that POSTs queued activities.
type Deliverer struct{ *Service }

// Deliverer returns the handler for JobDeliver.
func (f *Service) Deliverer() Deliverer { return Deliverer{f} }

// Run delivers one activity, signed afresh (signatures expire).
func (d Deliverer) Run(ctx context.Context, job *nineten.Job, _ func(int)) error {
	const op = "federation.Deliver"
	var in delivery
	if err := json.Unmarshal(job.Payload, &in); err != nil {
		return nineten.E(op, nineten.KindInvalid, "bad delivery job", err)
	}
	if d.blocked(ctx, in.Inbox) {
		return nineten.E(op, nineten.KindInvalid, "not delivered: the server was blocked since")
	}
	host := hostOf(in.Inbox)
	if down, since := d.unavailable(ctx, host); down {
		d.Log.InfoContext(ctx, "not delivered: the server was given up on", "inbox", in.Inbox, "unavailable_since", since)
		return nil
	}
	release, ok := d.hosts.acquire(ctx, host, cmp.Or(d.HostLimit, defaultHostLimit), cmp.Or(d.hostWait, defaultHostWait))
	if !ok {
		return d.postpone(ctx, job, in)
	}
	defer release()
	err := d.send(ctx, in, host)
	// A refusal (4xx) is an answer too: only silence and server errors
	// count against the server.
	if err == nil || nineten.ErrorKind(err) == nineten.KindInvalid {
		d.hostAlive(ctx, host)
	} else {
		d.hostFailed(ctx, host)
	}
	if err != nil {
		// The queue's attempt counter restarts with each handed-over job:
		// pace the retry by every attempt this delivery made.
		return retryIn{err, d.Backoff(in.Tries + job.Attempts)}
	}
	return nil
}

// send signs and POSTs one delivery.
func (d Deliverer) send(ctx context.Context, in delivery, host string) error {
	const op = "federation.Deliver"
	k, err := d.Keys(ctx, in.Signer)
	if err != nil {
		return err
	}
	if in.KeyID == "" {
		iri, err := d.actorIRI(ctx, in.Signer)
		if err != nil {
			return nineten.E(op, nineten.KindInvalid, "the sender is gone", err)
		}
		in.KeyID = iri + "#main-key"
	}
	key := httpsig.Key{ID: in.KeyID, Private: k.RSA}
	// Draft-cavage first: every fediverse server reads it. A server that
	// answers 400/401 may accept only RFC 9421: knock again with that
	// (as Mastodon does), and remember the host's preference.
	_, rfcFirst := d.rfc9421Hosts.Load(host)
	status, msg, err := d.post(ctx, in, key, rfcFirst)
	if err == nil && !rfcFirst && (status == http.StatusUnauthorized || status == http.StatusBadRequest) {
		if status, msg, err = d.post(ctx, in, key, true); err == nil && status < 300 {
			d.rfc9421Hosts.Store(host, true)
		}
	}
	if err != nil {
		return err
	}
	switch {
	case status < 300:
		return nil
	case status == http.StatusTooManyRequests || status == http.StatusRequestTimeout || status >= 500:
		return nineten.E(op, nineten.KindUnavailable, fmt.Sprintf("%s answered %d: %s", in.Inbox, status, msg))
	}
	// The server refuses this activity: sending it again will not help.
	return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%s refused the delivery with %d: %s", in.Inbox, status, msg))
}

// postpone hands a delivery whose server is busy back to the queue, as a
// new job due a little later, and completes the claimed one. A new job
// rather than a retry: the queue counts an attempt at every claim, so
// retrying would use up the delivery's attempts though nothing was sent,
// and a server slow enough to keep its slots full would see deliveries
// given up untried. The new job keeps what the old one had left: its
// attempts, and the count of those made (for the back-off). Handing over
// happens in one transaction, so a crash leaves one of the two jobs.
func (d Deliverer) postpone(ctx context.Context, job *nineten.Job, in delivery) error {
	in.Tries += job.Attempts - 1
	in.Busy++
	payload, err := json.Marshal(in)
	if err != nil {
		return nineten.E("federation.Deliver", nineten.KindInvalid, "bad delivery job", err)
	}
	// Doubling, up to 64 times the first wait, while the server stays busy;
	// a random part spreads out deliveries that found it busy together.
	delay := cmp.Or(d.hostRetry, defaultHostRetry) << min(in.Busy-1, 6)
	delay += rand.N(delay/4 + 1)
	next := &nineten.Job{Kind: JobDeliver, Payload: payload, MaxAttempts: job.MaxAttempts - job.Attempts + 1, RunAt: d.now().Add(delay)}
	err = d.Store.WithTx(ctx, func(tx nineten.Store) error {
		if err := tx.Enqueue(ctx, next); err != nil {
			return err
		}
		return tx.Complete(ctx, job.ID, d.now())
	})
	if err != nil {
		return nineten.E("federation.Deliver", "could not put back a delivery to a busy server", err)
	}
	d.Log.DebugContext(ctx, "the server is busy; delivery postponed", "inbox", in.Inbox, "job", job.ID, "next_job", next.ID, "delay", delay)
	return nil
}

// retryIn is a failed delivery with the wait before the next attempt; the
// job runner reads it through the RetryAfter method.
type retryIn struct {
	error
	after time.Duration
}

func (r retryIn) Unwrap() error             { return r.error }
func (r retryIn) RetryAfter() time.Duration { return r.after }

// post sends one signed delivery and returns the status and the start of
// the answer.
func (d Deliverer) post(ctx context.Context, in delivery, key httpsig.Key, rfc9421 bool) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, in.Inbox, bytes.NewReader(in.Activity))
	if err != nil {
		return 0, nil, nineten.E("federation.Deliver", nineten.KindInvalid, err)
	}
	req.Header.Set("Content-Type", activityJSON)
	sign := httpsig.SignCavage
	if rfc9421 {
		sign = httpsig.SignRFC9421
	}
	if err := sign(req, in.Activity, key, d.now()); err != nil {
		return 0, nil, err
	}
	resp, err := d.Client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, msg, nil
}

func hostOf(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return ""
	}
	return strings.ToLower(u.Host)
}

// GiveUp logs a delivery that will not be retried.
func (d Deliverer) GiveUp(ctx context.Context, job *nineten.Job, err error) {
	d.Log.WarnContext(ctx, "gave up delivering an activity", "job", job.ID, "err", err)
}

// Backoff doubles the wait after each failed attempt, from RetryBase.
func (d Deliverer) Backoff(attempt int) time.Duration {
	return cmp.Or(d.RetryBase, time.Minute) << min(max(attempt-1, 0), 13)
}
