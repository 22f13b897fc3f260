package federation

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/safehttp"
	"nineten.dev/jobs"
	"nineten.dev/sqlstore"
)

// newDeliveryService is a Service on a fresh SQLite store that delivers
// to loopback servers, signing as the node actor.
func newDeliveryService(t *testing.T) (*Service, *sqlstore.DB) {
	t.Helper()
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	f := &Service{
		Store: db, Base: &url.URL{Scheme: "http", Host: "node.test"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: safehttp.New(safehttp.Options{AllowLoopback: true}),
	}
	if _, err := f.Keys(t.Context(), nodeActorName); err != nil {
		t.Fatal(err)
	}
	return f, db
}

// startRunner runs the deliveries of f on workers until the test ends.
func startRunner(t *testing.T, f *Service, db *sqlstore.DB, workers int) {
	t.Helper()
	r := &jobs.Runner{
		Queue: db, Workers: workers, Poll: 5 * time.Millisecond,
		Handlers: map[string]jobs.Handler{JobDeliver: f.Deliverer()},
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	f.Enqueued = r.Kick
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
}

// receiver is an inbox server that reports each delivery by its path and
// can hold requests until released.
type receiver struct {
	*httptest.Server
	got              chan string
	inFlight, most   atomic.Int32
	release, entered chan struct{}
	once             sync.Once
}

// open lets held and later requests through.
func (rc *receiver) open() { rc.once.Do(func() { close(rc.release) }) }

func newReceiver(t *testing.T, stall bool) *receiver {
	rc := &receiver{got: make(chan string, 100), entered: make(chan struct{}, 100), release: make(chan struct{})}
	if !stall {
		rc.open()
	}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		n := rc.inFlight.Add(1)
		for m := rc.most.Load(); n > m && !rc.most.CompareAndSwap(m, n); m = rc.most.Load() {
		}
		rc.entered <- struct{}{}
		select {
		case <-rc.release:
		case <-r.Context().Done():
		}
		rc.inFlight.Add(-1)
		w.WriteHeader(http.StatusAccepted)
		rc.got <- r.URL.Path
	}))
	t.Cleanup(rc.Close)
	t.Cleanup(rc.open) // runs first: Close waits for held requests
	return rc
}

// collect waits for n deliveries and returns how often each path came.
func (rc *receiver) collect(t *testing.T, n int, what string) map[string]int {
	t.Helper()
	seen := map[string]int{}
	timeout := time.After(20 * time.Second)
	for range n {
		select {
		case p := <-rc.got:
			seen[p]++
		case <-timeout:
			t.Fatalf("%s: %d of %d deliveries arrived", what, len(seen), n)
		}
	}
	return seen
}

// A stalled server gets at most HostLimit deliveries at once, and the
// deliveries queued behind its own do not wait for it: the other server
// gets all of its deliveries while the stalled one still holds its
// requests. Once it answers, it gets each of its deliveries exactly once,
// and handing busy deliveries back to the queue used up no attempts.
func TestSlowServerHoldsOnlyItsSlots(t *testing.T) {
	f, db := newDeliveryService(t)
	// As many workers as the stalled server can hold at most: its limit
	// in flight, as many waiting briefly.
	const limit, perHost = 2, 8
	const workers = 2 * limit
	f.HostLimit, f.hostWait, f.hostRetry = limit, 20*time.Millisecond, 10*time.Millisecond
	slow, fast := newReceiver(t, true), newReceiver(t, false)

	// The slow server's deliveries come first in the queue, more of them
	// than there are workers: without a per-server limit, or with waits
	// for its slots that do not end, every worker would wait on it.
	var inboxes []string
	for i := range perHost {
		inboxes = append(inboxes, fmt.Sprintf("%s/users/s%d/inbox", slow.URL, i))
	}
	for i := range perHost {
		inboxes = append(inboxes, fmt.Sprintf("%s/users/f%d/inbox", fast.URL, i))
	}
	startRunner(t, f, db, workers)
	act := map[string]any{"@context": asContext, "id": "http://node.test/activities/1", "type": "Create", "actor": "http://node.test/actor"}
	if err := f.deliver(t.Context(), nodeActorName, act, inboxes...); err != nil {
		t.Fatal(err)
	}

	if got := fast.collect(t, perHost, "fast server while the slow one stalls"); len(got) != perHost {
		t.Errorf("the fast server got %v, want each of %d inboxes once", got, perHost)
	}
	for range limit {
		<-slow.entered // the stalled server holds its slots' requests now
	}
	if n, done := slow.inFlight.Load(), len(slow.got); n != limit || done != 0 {
		t.Errorf("the stalled server holds %d requests and answered %d, want %d (the limit) and none", n, done, limit)
	}

	slow.open()
	got := slow.collect(t, perHost, "slow server once released")
	for p, n := range got {
		if n != 1 {
			t.Errorf("%s got %d deliveries, want 1", p, n)
		}
	}
	if len(got) != perHost {
		t.Errorf("the slow server got %d inboxes' deliveries, want %d", len(got), perHost)
	}
	if m := slow.most.Load(); m != limit {
		t.Errorf("the slow server had up to %d requests at once, want the limit %d", m, limit)
	}

	// Every job is done, none failed, and the hand-overs kept the whole
	// attempt budget: each job ran once with all of the attempts.
	handed := 0
	for id := nineten.ID(1); ; id++ {
		j, err := db.JobByID(t.Context(), id)
		if nineten.ErrorKind(err) == nineten.KindNotFound {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if id > 2*perHost {
			handed++
		}
		if j.Status == nineten.JobFailed || j.Attempts > 1 || j.MaxAttempts != deliveryAttempts {
			t.Errorf("job %d: %s after %d of %d attempts (%s), want never failed, one attempt of %d",
				id, j.Status, j.Attempts, j.MaxAttempts, j.LastError, deliveryAttempts)
		}
	}
	if handed == 0 {
		t.Error("no delivery to the stalled server was handed back to the queue")
	}
}

// A delivery handed over after three attempts waits, when it fails, as
// long as a fourth attempt should (8 minutes), not as long as a first.
func TestHandedOverDeliveryKeepsItsBackoff(t *testing.T) {
	f, db := newDeliveryService(t)
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "maintenance", http.StatusServiceUnavailable)
	}))
	defer down.Close()
	r := &jobs.Runner{Queue: db, Handlers: map[string]jobs.Handler{JobDeliver: f.Deliverer()}, Log: f.Log}
	payload := fmt.Appendf(nil, `{"signer":"node","inbox":%q,"activity":{"type":"Create"},"tries":3}`, down.URL+"/inbox")
	if err := db.Enqueue(t.Context(), &nineten.Job{Kind: JobDeliver, Payload: payload, MaxAttempts: 12}); err != nil {
		t.Fatal(err)
	}
	job, err := db.Claim(t.Context(), []string{JobDeliver}, time.Now(), time.Minute)
	if err != nil || job == nil {
		t.Fatalf("claim: %v, %v", job, err)
	}
	before := time.Now()
	r.RunJob(t.Context(), job)
	after := time.Now()
	j, err := db.JobByID(t.Context(), job.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := f.Deliverer().Backoff(4)
	if j.Status != nineten.JobQueued || j.RunAt.Before(before.Add(want).Truncate(time.Millisecond)) || j.RunAt.After(after.Add(want)) {
		t.Errorf("after a 503: %s, next run in %v (%s); want queued, next run in %v",
			j.Status, j.RunAt.Sub(before).Round(time.Second), j.LastError, want)
	}
}

// The slots themselves: a host takes limit requests, as many waiters, and
// refuses any more at once; a waiter gets a freed slot or gives up after
// the wait; a host with nothing in flight is forgotten.
func TestHostSlots(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var s hostSlots
		ctx := t.Context()
		var held []func()
		for range 2 {
			release, ok := s.acquire(ctx, "a.example", 2, time.Second)
			if !ok {
				t.Fatal("a free slot was refused")
			}
			held = append(held, release)
		}
		if _, ok := s.acquire(ctx, "b.example", 2, 0); !ok {
			t.Error("another host's slot was refused")
		}
		type result struct {
			release func()
			ok      bool
		}
		results := make(chan result, 2)
		for range 2 {
			go func() {
				release, ok := s.acquire(ctx, "a.example", 2, time.Second)
				results <- result{release, ok}
			}()
		}
		synctest.Wait() // both wait now
		start := time.Now()
		if _, ok := s.acquire(ctx, "a.example", 2, time.Hour); ok || time.Since(start) != 0 {
			t.Errorf("a third waiter: got a slot %v after %v, want refused at once", ok, time.Since(start))
		}
		held[0]()
		first := <-results
		if !first.ok {
			t.Fatal("a waiter did not get the freed slot")
		}
		if second := <-results; second.ok {
			t.Error("the second waiter got a slot, though none was freed for it")
		}
		if waited := time.Since(start); waited != time.Second {
			t.Errorf("the second waiter gave up after %v, want 1s", waited)
		}
		first.release()
		held[1]()
		if n := len(s.hosts); n != 1 { // b.example was never released
			t.Errorf("%d hosts remembered, want 1", n)
		}
	})
}
