package jobs_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/jobs"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// handler is a scripted job handler: run decides each attempt's outcome.
type handler struct {
	run     func(attempt int) error
	calls   atomic.Int32
	gaveUp  chan error
	success chan struct{}
}

func newHandler(run func(int) error) *handler {
	return &handler{run: run, gaveUp: make(chan error, 10), success: make(chan struct{}, 10)}
}

func (h *handler) Run(ctx context.Context, job *nineten.Job, progress func(int)) error {
	h.calls.Add(1)
	progress(50)
	err := h.run(job.Attempts)
	if err == nil {
		h.success <- struct{}{}
	}
	return err
}

func (h *handler) GiveUp(ctx context.Context, job *nineten.Job, err error) { h.gaveUp <- err }

func TestMain(m *testing.M) { dbtest.Main(m) }

// setup runs a runner of h on db until the test ends.
func setup(t *testing.T, db *sqlstore.DB, h jobs.Handler) *jobs.Runner {
	return start(t, &jobs.Runner{
		Queue: db, Handlers: map[string]jobs.Handler{"test": h},
		Poll: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 0 },
	})
}

// start runs r until the test ends.
func start(t *testing.T, r *jobs.Runner) *jobs.Runner {
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return r
}

func enqueue(t *testing.T, db *sqlstore.DB, r *jobs.Runner) nineten.ID {
	j := &nineten.Job{Kind: "test", Payload: []byte(`{}`), MaxAttempts: 3}
	if err := db.Enqueue(t.Context(), j); err != nil {
		t.Fatal(err)
	}
	r.Kick()
	return j.ID
}

func wait[T any](t *testing.T, c chan T) T {
	t.Helper()
	select {
	case v := <-c:
		return v
	case <-time.After(20 * time.Second):
		t.Fatal("timed out waiting for the runner")
	}
	var zero T
	return zero
}

func TestRetriesUntilSuccess(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		h := newHandler(func(attempt int) error {
			if attempt < 3 {
				return errors.New("ffmpeg crashed")
			}
			return nil
		})
		r := setup(t, db, h)
		id := enqueue(t, db, r)
		wait(t, h.success)
		j := waitStatus(t, db, id, nineten.JobDone)
		if j.Attempts != 3 || h.calls.Load() != 3 || j.Progress != 100 {
			t.Errorf("job %+v after %d calls", j, h.calls.Load())
		}
	})
}

func TestPermanentErrorsFailAtOnce(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		h := newHandler(func(int) error {
			return nineten.E("test.Run", nineten.KindInvalid, "the file is corrupt")
		})
		r := setup(t, db, h)
		id := enqueue(t, db, r)
		if err := wait(t, h.gaveUp); nineten.ErrorMessage(err) != "the file is corrupt" {
			t.Errorf("GiveUp got %v", err)
		}
		j := waitStatus(t, db, id, nineten.JobFailed)
		if j.Attempts != 1 || j.LastError == "" {
			t.Errorf("job %+v", j)
		}
	})
}

func TestPanicsAndExhaustedAttemptsGiveUp(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		h := newHandler(func(int) error { panic("bad input") })
		r := setup(t, db, h)
		id := enqueue(t, db, r)
		wait(t, h.gaveUp)
		j := waitStatus(t, db, id, nineten.JobFailed)
		if h.calls.Load() != 3 || j.Attempts != 3 {
			t.Errorf("%d calls, job %+v", h.calls.Load(), j)
		}
		select {
		case err := <-h.gaveUp:
			t.Errorf("GiveUp called twice: %v", err)
		default:
		}
	})
}

// A job whose worker died (its lease ran out) is taken up again.
func TestJobOfDeadWorkerIsResumed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		h := newHandler(func(int) error { return nil })
		j := &nineten.Job{Kind: "test", Payload: []byte(`{}`), MaxAttempts: 3, RunAt: time.Now().Add(-time.Hour)}
		if err := db.Enqueue(t.Context(), j); err != nil {
			t.Fatal(err)
		}
		// Half an hour ago a worker claimed it for a minute, and died.
		dead, err := db.Claim(t.Context(), []string{"test"}, time.Now().Add(-30*time.Minute), time.Minute)
		if err != nil || dead == nil {
			t.Fatalf("claim: %v %v", dead, err)
		}
		r := &jobs.Runner{Queue: db, Handlers: map[string]jobs.Handler{"test": h}, Poll: 20 * time.Millisecond}
		ctx, cancel := context.WithCancel(t.Context())
		var wg sync.WaitGroup
		wg.Go(func() { r.Run(ctx) })
		defer func() { cancel(); wg.Wait() }()
		wait(t, h.success)
		done := waitStatus(t, db, j.ID, nineten.JobDone)
		if done.Attempts != 2 {
			t.Errorf("attempts %d, want 2", done.Attempts)
		}
	})
}

// counter counts the runs of each job.
type counter struct {
	mu   sync.Mutex
	runs map[nineten.ID]int
	done chan struct{} // gets a value per run
}

func (c *counter) Run(ctx context.Context, job *nineten.Job, progress func(int)) error {
	c.mu.Lock()
	c.runs[job.ID]++
	c.mu.Unlock()
	c.done <- struct{}{}
	return nil
}

func (c *counter) GiveUp(context.Context, *nineten.Job, error) {}

// Two nodes sharing one database (two handles: two processes) run every
// job of their common queue, each exactly once.
func TestTwoNodesRunEachJobOnce(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		const n = 40
		dsn := dbtest.DSN(t, dialect)
		c := &counter{runs: map[nineten.ID]int{}, done: make(chan struct{}, 2*n)}
		var runners []*jobs.Runner
		for range 2 {
			runners = append(runners, start(t, &jobs.Runner{
				Queue: dbtest.OpenDSN(t, dsn), Handlers: map[string]jobs.Handler{"test": c},
				Poll: 20 * time.Millisecond, Workers: 3,
			}))
		}
		db := dbtest.OpenDSN(t, dsn)
		var ids []nineten.ID
		for range n {
			ids = append(ids, enqueue(t, db, runners[0]))
		}
		runners[1].Kick()
		for range n {
			wait(t, c.done)
		}
		for _, r := range runners {
			r.Kick() // one more round: a job handed out twice would run now
		}
		for _, id := range ids {
			done := waitStatus(t, db, id, nineten.JobDone)
			if done.Attempts != 1 {
				t.Errorf("job %d took %d attempts", done.ID, done.Attempts)
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.runs) != n {
			t.Errorf("%d jobs ran, want %d", len(c.runs), n)
		}
		for id, runs := range c.runs {
			if runs != 1 {
				t.Errorf("job %d ran %d times", id, runs)
			}
		}
	})
}

func waitStatus(t *testing.T, db *sqlstore.DB, id nineten.ID, want nineten.JobStatus) *nineten.Job {
	t.Helper()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for deadline := time.Now().Add(10 * time.Second); ; <-tick.C {
		j, err := db.JobByID(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if j.Status == want {
			return j
		}
		if time.Now().After(deadline) {
			t.Fatalf("job status %q, want %q", j.Status, want)
		}
	}
}
