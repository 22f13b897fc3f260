package federation

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	Signer   string          `json:"signer"` // local actor name
	Inbox    string          `json:"inbox"`
	Activity json.RawMessage `json:"activity"`
}

// deliver queues an activity for each inbox, signed by the local actor.
func (f *Service) deliver(ctx context.Context, signer string, activity any, inboxes ...string) error {
	body, err := json.Marshal(activity)
	if err != nil {
		return err
	}
	seen := map[string]bool{}
	for _, inbox := range inboxes {
		if inbox == "" || seen[inbox] || f.blocked(ctx, inbox) {
			continue
		}
		seen[inbox] = true
		payload, _ := json.Marshal(delivery{Signer: signer, Inbox: inbox, Activity: body})
		if err := f.Store.Enqueue(ctx, &nineten.Job{Kind: JobDeliver, Payload: payload, MaxAttempts: deliveryAttempts, RunAt: f.now()}); err != nil {
			return err
		}
	}
	if f.Enqueued != nil {
		f.Enqueued()
	}
	return nil
}

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
	k, err := d.Keys(ctx, in.Signer)
	if err != nil {
		return err
	}
	iri, err := d.actorIRI(ctx, in.Signer)
	if err != nil {
		return nineten.E(op, nineten.KindInvalid, "the sender is gone", err)
	}
	key := httpsig.Key{ID: iri + "#main-key", Private: k.RSA}
	// Draft-cavage first: every fediverse server reads it. A server that
	// answers 400/401 may accept only RFC 9421: knock again with that
	// (as Mastodon does), and remember the host's preference.
	host := hostOf(in.Inbox)
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
		return fmt.Errorf("%s answered %d: %s", in.Inbox, status, msg)
	}
	// The server refuses this activity: sending it again will not help.
	return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%s refused the delivery with %d: %s", in.Inbox, status, msg))
}

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

// Backoff doubles the wait after each failed attempt, from one minute.
func (d Deliverer) Backoff(attempt int) time.Duration {
	return time.Minute << min(attempt-1, 13)
}
