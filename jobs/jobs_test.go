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

func setup(t *testing.T, h jobs.Handler) (*sqlstore.DB, *jobs.Runner) {
	db, err := sqlstore.Open(t.Context(), t.TempDir()+"/9ten.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	r := &jobs.Runner{
		Queue: db, Handlers: map[string]jobs.Handler{"test": h},
		Poll: 20 * time.Millisecond, Backoff: func(int) time.Duration { return 0 },
	}
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	wg.Go(func() { r.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	return db, r
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
	h := newHandler(func(attempt int) error {
		if attempt < 3 {
			return errors.New("ffmpeg crashed")
		}
		return nil
	})
	db, r := setup(t, h)
	id := enqueue(t, db, r)
	wait(t, h.success)
	j := waitStatus(t, db, id, nineten.JobDone)
	if j.Attempts != 3 || h.calls.Load() != 3 || j.Progress != 100 {
		t.Errorf("job %+v after %d calls", j, h.calls.Load())
	}
}

func TestPermanentErrorsFailAtOnce(t *testing.T) {
	h := newHandler(func(int) error {
		return nineten.E("test.Run", nineten.KindInvalid, "the file is corrupt")
	})
	db, r := setup(t, h)
	id := enqueue(t, db, r)
	if err := wait(t, h.gaveUp); nineten.ErrorMessage(err) != "the file is corrupt" {
		t.Errorf("GiveUp got %v", err)
	}
	j := waitStatus(t, db, id, nineten.JobFailed)
	if j.Attempts != 1 || j.LastError == "" {
		t.Errorf("job %+v", j)
	}
}

func TestPanicsAndExhaustedAttemptsGiveUp(t *testing.T) {
	h := newHandler(func(int) error { panic("bad input") })
	db, r := setup(t, h)
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
}

// A job whose worker died (its lease ran out) is taken up again.
func TestJobOfDeadWorkerIsResumed(t *testing.T) {
	h := newHandler(func(int) error { return nil })
	db, err := sqlstore.Open(t.Context(), t.TempDir()+"/9ten.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
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
