package main

import (
	"bytes"
	"cmp"
	"context"
	"crypto"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	nineten "nineten.dev"
	"nineten.dev/account"
	"nineten.dev/catalog"
	"nineten.dev/federation"
	"nineten.dev/federation/httpsig"
	"nineten.dev/federation/safehttp"
	"nineten.dev/jobs"
	"nineten.dev/sqlstore"
)

var (
	fanFollowers = flag.Int("fanout-followers", 1000, "followers (each with its own inbox) in the fan-out benchmark")
	fanReceivers = flag.Int("fanout-receivers", 8, "loopback servers the followers are spread over")
	fanWorkers   = flag.Int("fanout-workers", 0, "delivery workers (default: the node's default)")
	fanHostLimit = flag.Int("fanout-host-limit", 0, "deliveries in flight per server (default: the node's default)")
)

// The node's delivery settings when the flags above are not given; they
// must match cmd/9ten's defaults for the figure to mean anything.
const (
	nodeDeliveryWorkers = 16
	nodeHostLimit       = 4
)

// fanout measures one Create of a track delivered to every follower's
// inbox through the node's real delivery path (SQLite job queue, the job
// runner, signed POSTs through the SSRF-guarded client) to loopback
// servers that verify each signature, against the same signed POSTs sent
// by a plain loop of http.Client workers, as many as the node's
// delivery workers. Each side runs three times, alternating; the round
// with the median ratio is reported.
func fanout(ctx context.Context) {
	workers, limit := cmp.Or(*fanWorkers, nodeDeliveryWorkers), cmp.Or(*fanHostLimit, nodeHostLimit)
	dir, err := os.MkdirTemp("", "9ten-fanout-")
	check(err)
	defer os.RemoveAll(dir)
	fx := newFanoutNode(ctx, dir, workers, limit)
	defer fx.close()
	recv := newReceivers(*fanReceivers, fx.keyFromNode)
	defer recv.close()
	fx.follow(ctx, recv, *fanFollowers, false)

	type round struct{ ours, ref result }
	var rounds []round
	for i := range 3 {
		var r round
		if i%2 == 0 {
			r.ours, r.ref = fx.publish(ctx, recv), fx.plainLoop(ctx, recv, workers)
		} else {
			r.ref, r.ours = fx.plainLoop(ctx, recv, workers), fx.publish(ctx, recv)
		}
		rounds = append(rounds, r)
	}
	slices.SortFunc(rounds, func(a, b round) int { return cmp.Compare(a.ours.rate/a.ref.rate, b.ours.rate/b.ref.rate) })
	med := rounds[len(rounds)/2]
	name := fmt.Sprintf("fan-out %d inboxes/%d servers", *fanFollowers, *fanReceivers)
	fmt.Printf("%-34s %10.0f d/s %10.0f d/s %7.2fx %s\n", name, med.ours.rate, med.ref.rate, med.ours.rate/med.ref.rate, "≥ 200/s")
	fmt.Printf("%-34s %11.0f ms %11.0f ms %7.2fx\n", "  p50 enqueue to receipt", ms(med.ours.p50), ms(med.ref.p50), float64(med.ours.p50)/float64(med.ref.p50))
	fmt.Printf("%-34s %11.0f ms %11.0f ms %7.2fx  (%d workers, %d per server)\n", "  p99 enqueue to receipt", ms(med.ours.p99), ms(med.ref.p99), float64(med.ours.p99)/float64(med.ref.p99), workers, limit)
	// The rates depend on the CPU the machine leaves the benchmark; the
	// CPU time per delivery does not. On two otherwise idle cores a
	// fan-out runs at about 2 s / that time per second at most.
	fmt.Printf("%-34s %11.2f ms %11.2f ms %7.2fx  (≈ %.0f/s on 2 idle cores)\n", "  CPU per delivery (both ends)", ms(med.ours.cpu), ms(med.ref.cpu), float64(med.ours.cpu)/float64(med.ref.cpu), 2/med.ours.cpu.Seconds())

	// With shared inboxes the same Create is one delivery per server.
	fx.follow(ctx, recv, *fanFollowers, true)
	shared := fx.publish(ctx, recv)
	fmt.Printf("%-34s %11.0f ms %14s %8s  (%d deliveries)\n", "  same, shared inboxes: all in", ms(shared.all), "-", "-", shared.n)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// result is one fan-out: deliveries per second over the whole fan-out,
// and latencies from the start of the enqueue to each receipt.
type result struct {
	n             int
	rate          float64
	p50, p99, all time.Duration
	// cpu is the process's CPU time per delivery, senders and receivers
	// together: unlike the rates, it does not depend on what else the
	// machine runs.
	cpu time.Duration
}

// clock notes the wall and CPU time at the start of a fan-out.
type clock struct {
	wall time.Time
	cpu  time.Duration
}

func startClock() clock { return clock{time.Now(), cpuTime()} }

func cpuTime() time.Duration {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func measure(start clock, got []time.Time) result {
	cpu := cpuTime() - start.cpu
	lat := make([]time.Duration, len(got))
	for i, at := range got {
		lat[i] = at.Sub(start.wall)
	}
	slices.Sort(lat)
	all := lat[len(lat)-1]
	return result{
		n: len(lat), rate: float64(len(lat)) / all.Seconds(), all: all,
		p50: lat[len(lat)/2], p99: lat[(len(lat)*99+99)/100-1], cpu: cpu / time.Duration(len(lat)),
	}
}

// fanoutNode is the sending node: its federation service on a real store,
// served on loopback so that receivers can fetch its actor and key.
type fanoutNode struct {
	db     *sqlstore.DB
	fed    *federation.Service
	srv    *httptest.Server
	runner *jobs.Runner
	stop   context.CancelFunc
	done   chan struct{}
	artist *nineten.Artist
	track  *nineten.Track
}

func newFanoutNode(ctx context.Context, dir string, workers, limit int) *fanoutNode {
	db, err := sqlstore.Open(ctx, filepath.Join(dir, "9ten.db"))
	check(err)
	fx := &fanoutNode{db: db, done: make(chan struct{})}
	var h http.Handler
	fx.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	base, _ := url.Parse(fx.srv.URL)
	fx.runner = &jobs.Runner{Queue: db, Workers: workers}
	fx.fed = &federation.Service{
		Store: db, Base: base, Version: "bench", Clock: nineten.SystemClock{},
		Log:       slog.New(slog.DiscardHandler),
		Client:    safehttp.New(safehttp.Options{AllowLoopback: true, UserAgent: "9ten/bench"}),
		Enqueued:  fx.runner.Kick,
		HostLimit: limit,
	}
	h = fx.fed.Handler()
	fx.runner.Handlers = map[string]jobs.Handler{federation.JobDeliver: fx.fed.Deliverer()}
	fx.runner.Log = slog.New(slog.DiscardHandler)

	acc := &account.Service{Store: db}
	u, err := acc.CreateUser(ctx, "fanout", "fanout-password", "", nineten.RoleListener)
	check(err)
	cat := &catalog.Service{Store: db}
	fx.artist, err = cat.CreateArtist(ctx, u, "Fan-out Artist", "")
	check(err)
	// Keys are made once, on first use: not part of the measurement.
	_, err = fx.fed.Keys(ctx, fx.actorName())
	check(err)
	now := time.Now().UTC()
	fx.track = &nineten.Track{ID: 1, ArtistID: fx.artist.ID, Title: "Fan-out", DurationMS: 215_000, Status: nineten.TrackReady,
		Original: nineten.Original{MIMEType: "audio/mpeg", Size: 5 << 20}, CreatedAt: now, UpdatedAt: now}

	runCtx, stop := context.WithCancel(ctx)
	fx.stop = stop
	go func() { defer close(fx.done); fx.runner.Run(runCtx) }()
	return fx
}

func (fx *fanoutNode) close() {
	fx.stop()
	<-fx.done
	fx.srv.Close()
	fx.db.Close()
}

// actorName is how the federation store names the artist's actor.
func (fx *fanoutNode) actorName() string { return fmt.Sprintf("artist:%d", fx.artist.ID) }

func (fx *fanoutNode) actorIRI() string { return fx.srv.URL + "/artists/" + fx.artist.Slug }

// follow makes n remote actors, spread over the receivers, follow the
// artist; with shared, each server offers a shared inbox.
func (fx *fanoutNode) follow(ctx context.Context, recv *receivers, n int, shared bool) {
	now := time.Now().UTC()
	for i := range n {
		host := recv.servers[i%len(recv.servers)].URL
		iri := fmt.Sprintf("%s/users/u%d", host, i)
		a := &nineten.RemoteActor{IRI: iri, Inbox: iri + "/inbox", KeyID: iri + "#main-key", Handle: fmt.Sprintf("u%d@%s", i, host), FetchedAt: now}
		if shared {
			a.SharedInbox = host + "/inbox"
		}
		check(fx.db.SaveRemoteActor(ctx, a))
		check(fx.db.SaveFollow(ctx, &nineten.Follow{Local: fx.actorName(), Remote: iri, Inbound: true, State: nineten.FollowAccepted,
			Activity: iri + "#follow", CreatedAt: now}))
	}
}

// publish tells the followers about the track, as the catalogue does when
// a track becomes playable, and waits for every delivery to arrive.
func (fx *fanoutNode) publish(ctx context.Context, recv *receivers) result {
	inboxes, err := fx.db.Follows(ctx, fx.actorName(), true)
	check(err)
	want := len(inboxes)
	if a, err := fx.db.RemoteActor(ctx, inboxes[0].Remote); err == nil && a.SharedInbox != "" {
		want = len(recv.servers)
	}
	wait := recv.expect(want)
	start := startClock()
	fx.fed.TrackChanged(ctx, fx.track, nineten.TrackPublished)
	return measure(start, wait())
}

// plainLoop sends the same signed Create to the same inboxes from workers
// goroutines with a plain http.Client: the floor of what delivering costs.
func (fx *fanoutNode) plainLoop(ctx context.Context, recv *receivers, workers int) result {
	follows, err := fx.db.Follows(ctx, fx.actorName(), true)
	check(err)
	keys, err := fx.fed.Keys(ctx, fx.actorName())
	check(err)
	key := httpsig.Key{ID: fx.actorIRI() + "#main-key", Private: keys.RSA}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: workers}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	wait := recv.expect(len(follows))
	start := startClock()
	body, err := json.Marshal(map[string]any{
		"@context": "https://www.w3.org/ns/activitystreams", "id": fx.actorIRI() + "/plain/" + start.wall.Format(time.RFC3339Nano), "type": "Create",
		"actor": fx.actorIRI(), "object": map[string]any{"type": "Note", "content": "<p>New track: Fan-out</p>"},
	})
	check(err)
	inboxes := make(chan string, len(follows))
	for _, fw := range follows {
		inboxes <- fw.Remote + "/inbox"
	}
	close(inboxes)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for inbox := range inboxes {
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, inbox, bytes.NewReader(body))
				check(err)
				req.Header.Set("Content-Type", "application/activity+json")
				check(httpsig.SignCavage(req, body, key, time.Now()))
				resp, err := client.Do(req)
				check(err)
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	return measure(start, wait())
}

// keyFromNode fetches the sender's public key from its actor document, as
// a receiving server does on first sight of a key id.
func (fx *fanoutNode) keyFromNode(ctx context.Context, keyID string) (crypto.PublicKey, error) {
	actor, _, _ := bytes.Cut([]byte(keyID), []byte("#"))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, string(actor), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/activity+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var doc struct {
		PublicKey struct {
			ID           string `json:"id"`
			PublicKeyPem string `json:"publicKeyPem"`
		} `json:"publicKey"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		return nil, err
	}
	block, _ := pem.Decode([]byte(doc.PublicKey.PublicKeyPem))
	if block == nil || doc.PublicKey.ID != keyID {
		return nil, fmt.Errorf("%s publishes no key %s", actor, keyID)
	}
	return x509.ParsePKIXPublicKey(block.Bytes)
}

// receivers are the followers' servers: each verifies the signature of
// every delivery (keys cached after the first fetch, as servers do) and
// notes when it arrived.
type receivers struct {
	servers []*httptest.Server
	keys    sync.Map // key id → crypto.PublicKey

	mu      sync.Mutex
	arrived []time.Time
	want    int
	all     chan struct{}
	bad     atomic.Int64
}

func newReceivers(n int, fetch func(context.Context, string) (crypto.PublicKey, error)) *receivers {
	rs := &receivers{}
	v := httpsig.Verifier{Scheme: "http", Lookup: func(ctx context.Context, keyID string, refresh bool) (crypto.PublicKey, error) {
		if k, ok := rs.keys.Load(keyID); ok && !refresh {
			return k, nil
		}
		k, err := fetch(ctx, keyID)
		if err == nil {
			rs.keys.Store(keyID, k)
		}
		return k, err
	}}
	for range n {
		rs.servers = append(rs.servers, httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			body, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			if err == nil {
				_, err = v.Verify(r.Context(), r, body)
			}
			if err != nil {
				rs.bad.Add(1)
				http.Error(w, err.Error(), http.StatusUnauthorized)
				return
			}
			w.WriteHeader(http.StatusAccepted)
			rs.mu.Lock()
			rs.arrived = append(rs.arrived, time.Now())
			if len(rs.arrived) == rs.want {
				close(rs.all)
			}
			rs.mu.Unlock()
		})))
	}
	return rs
}

// expect prepares for n deliveries and returns the wait for their times.
func (rs *receivers) expect(n int) func() []time.Time {
	rs.mu.Lock()
	rs.arrived, rs.want, rs.all = nil, n, make(chan struct{})
	all := rs.all
	rs.mu.Unlock()
	return func() []time.Time {
		select {
		case <-all:
		case <-time.After(2 * time.Minute):
			rs.mu.Lock()
			got := len(rs.arrived)
			rs.mu.Unlock()
			check(fmt.Errorf("fan-out: %d of %d deliveries arrived in 2 minutes (%d refused)", got, n, rs.bad.Load()))
		}
		if bad := rs.bad.Load(); bad > 0 {
			check(fmt.Errorf("fan-out: receivers refused %d deliveries", bad))
		}
		rs.mu.Lock()
		defer rs.mu.Unlock()
		return slices.Clone(rs.arrived)
	}
}

func (rs *receivers) close() {
	for _, s := range rs.servers {
		s.Close()
	}
}
