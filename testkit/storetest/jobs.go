package storetest

import (
	"slices"
	"strings"
	"sync"
	"time"

	"nineten.dev"
)

const lease = time.Minute

// enqueue adds a job of kind due at runAt.
func (e *env) enqueue(kind string, runAt time.Time, maxAttempts int) *nineten.Job {
	e.Helper()
	j := &nineten.Job{Kind: kind, Payload: []byte(`{"track":7}`), RunAt: runAt, MaxAttempts: maxAttempts, CreatedAt: t0}
	e.ok(e.s.Enqueue(e.ctx, j))
	return j
}

// claim claims a job of kind at now, or returns nil.
func (e *env) claim(now time.Time, kinds ...string) *nineten.Job {
	e.Helper()
	j, err := e.s.Claim(e.ctx, kinds, now, lease)
	e.ok(err)
	return j
}

// wantClaim fails the test unless claiming at now hands out job want
// (nil: none).
func (e *env) wantClaim(now time.Time, want *nineten.Job, kinds ...string) *nineten.Job {
	e.Helper()
	got := e.claim(now, kinds...)
	switch {
	case want == nil && got != nil:
		e.Fatalf("claim at %v handed out job %d, want none", now, got.ID)
	case want != nil && got == nil:
		e.Fatalf("claim at %v handed out nothing, want job %d", now, want.ID)
	case want != nil && got.ID != want.ID:
		e.Fatalf("claim at %v handed out job %d, want job %d", now, got.ID, want.ID)
	}
	return got
}

func (e *env) job(id nineten.ID) *nineten.Job {
	e.Helper()
	j, err := e.s.JobByID(e.ctx, id)
	e.ok(err)
	return j
}

var jobTests = []test{
	{"Jobs/EnqueueDefaults", func(e *env) {
		j := &nineten.Job{Kind: "transcode", Payload: []byte(`{"track":7,"name":"✓"}`)}
		e.ok(e.s.Enqueue(e.ctx, j))
		if j.ID <= 0 {
			e.Fatalf("Enqueue set ID %d, want a positive one", j.ID)
		}
		got := e.job(j.ID)
		if got.Status != nineten.JobQueued || got.MaxAttempts != 3 || got.Attempts != 0 || got.RunAt.IsZero() ||
			got.Kind != "transcode" || string(got.Payload) != `{"track":7,"name":"✓"}` {
			e.Errorf("enqueued job %+v, want queued, 3 attempts, none used, due now, payload kept", got)
		}

		j = &nineten.Job{Kind: "peaks", RunAt: at(time.Hour), MaxAttempts: 5, CreatedAt: t0}
		e.ok(e.s.Enqueue(e.ctx, j))
		got = e.job(j.ID)
		if got.MaxAttempts != 5 || !got.RunAt.Equal(at(time.Hour)) || !got.CreatedAt.Equal(t0) {
			e.Errorf("enqueued job %+v, want the given MaxAttempts, RunAt and CreatedAt", got)
		}
		_, err := e.s.JobByID(e.ctx, j.ID+100)
		e.wantKind(err, nineten.KindNotFound)
	}},

	{"Jobs/ClaimOldestDueFirst", func(e *env) {
		a := e.enqueue("k", at(2*time.Second), 0)
		b := e.enqueue("k", at(time.Second), 0)
		c := e.enqueue("k", at(time.Second), 0)
		later := e.enqueue("k", at(time.Hour), 0)
		now := at(10 * time.Second)
		got := e.wantClaim(now, b, "k")
		if got.Status != nineten.JobRunning || got.Attempts != 1 || !got.LockedUntil.Equal(now.Add(lease)) {
			e.Errorf("claimed job %+v, want running, attempt 1, leased until %v", got, now.Add(lease))
		}
		e.same("claimed job as stored", got, e.job(b.ID))
		e.wantClaim(now, c, "k")
		e.wantClaim(now, a, "k")
		e.wantClaim(now, nil, "k")
		for _, j := range []*nineten.Job{a, b, c} {
			e.ok(e.s.Complete(e.ctx, j.ID, now))
		}
		e.wantClaim(at(time.Hour), later, "k")
	}},

	{"Jobs/ClaimOnlyGivenKinds", func(e *env) {
		e.enqueue("transcode", t0, 0)
		peaks := e.enqueue("peaks", t0, 0)
		cover := e.enqueue("cover", at(time.Second), 0)
		e.wantClaim(at(time.Minute), nil, "federate")
		e.wantClaim(at(time.Minute), peaks, "peaks", "cover")
		e.wantClaim(at(time.Minute), cover, "peaks", "cover")
		e.wantClaim(at(time.Minute), nil, "peaks", "cover")
	}},

	{"Jobs/ConcurrentClaimersNeverShare", func(e *env) {
		const jobs = 50
		e.ok(e.s.WithTx(e.ctx, func(tx nineten.Store) error {
			for range jobs {
				if err := tx.Enqueue(e.ctx, &nineten.Job{Kind: "k", RunAt: t0, CreatedAt: t0}); err != nil {
					return err
				}
			}
			return nil
		}))
		var mu sync.Mutex
		handedOut := map[nineten.ID]int{}
		var wg sync.WaitGroup
		for range 8 {
			wg.Go(func() {
				for {
					j, err := e.s.Claim(e.ctx, []string{"k"}, at(time.Second), lease)
					if err != nil {
						e.Errorf("Claim: %v", err)
						return
					}
					if j == nil {
						return
					}
					mu.Lock()
					handedOut[j.ID]++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if len(handedOut) != jobs {
			e.Errorf("%d jobs handed out, want %d", len(handedOut), jobs)
		}
		for id, n := range handedOut {
			if n != 1 {
				e.Errorf("job %d handed out %d times", id, n)
			}
		}
	}},

	// A job whose worker died is handed out again once its lease is over.
	{"Jobs/ExpiredLeaseIsReclaimed", func(e *env) {
		j := e.enqueue("k", t0, 0)
		e.wantClaim(t0, j, "k")
		e.wantClaim(at(lease/2), nil, "k")
		got := e.wantClaim(at(lease+time.Second), j, "k")
		if got.Attempts != 2 || !got.LockedUntil.Equal(at(2*lease+time.Second)) {
			e.Errorf("reclaimed job %+v, want attempt 2 leased until %v", got, at(2*lease+time.Second))
		}
	}},

	{"Jobs/HeartbeatExtendsLease", func(e *env) {
		j := e.enqueue("k", t0, 0)
		e.wantClaim(t0, j, "k")
		e.ok(e.s.Heartbeat(e.ctx, j.ID, at(10*time.Minute), 40))
		e.wantClaim(at(5*time.Minute), nil, "k")
		got := e.job(j.ID)
		if got.Progress != 40 || !got.LockedUntil.Equal(at(10*time.Minute)) {
			e.Errorf("after a heartbeat: progress %d, leased until %v; want 40, %v", got.Progress, got.LockedUntil, at(10*time.Minute))
		}
		e.wantClaim(at(11*time.Minute), j, "k")
		e.wantKind(e.s.Heartbeat(e.ctx, j.ID+100, at(time.Hour), 0), nineten.KindNotFound)
	}},

	// A worker that heartbeats a job which is no longer running (its lease
	// ran out and it was failed or finished elsewhere) learns to stop.
	{"Jobs/HeartbeatOfFinishedJob", func(e *env) {
		j := e.enqueue("k", t0, 0)
		e.wantClaim(t0, j, "k")
		e.ok(e.s.Complete(e.ctx, j.ID, at(time.Second)))
		e.wantKind(e.s.Heartbeat(e.ctx, j.ID, at(time.Hour), 50), nineten.KindConflict)
		if got := e.job(j.ID); got.Status != nineten.JobDone {
			e.Errorf("a late heartbeat changed a done job to %s", got.Status)
		}
	}},

	{"Jobs/LostLastAttemptFails", func(e *env) {
		j := e.enqueue("k", t0, 2)
		e.wantClaim(t0, j, "k")
		e.wantClaim(at(2*time.Minute), j, "k")
		e.wantClaim(at(4*time.Minute), nil, "k")
		got := e.job(j.ID)
		if got.Status != nineten.JobFailed || !strings.Contains(got.LastError, "worker stopped") {
			e.Errorf("job whose last attempt was lost: %s, %q; want failed, saying the worker stopped", got.Status, got.LastError)
		}
		active, err := e.s.ActiveJobs(e.ctx)
		e.ok(err)
		if len(active) != 0 {
			e.Errorf("ActiveJobs = %+v, want none", active)
		}
	}},

	{"Jobs/RetryWaitsUntilRunAt", func(e *env) {
		j := e.enqueue("k", t0, 3)
		e.wantClaim(t0, j, "k")
		e.ok(e.s.Retry(e.ctx, j.ID, "ffmpeg crashed", at(5*time.Minute)))
		got := e.job(j.ID)
		if got.Status != nineten.JobQueued || got.LastError != "ffmpeg crashed" || !got.RunAt.Equal(at(5*time.Minute)) {
			e.Errorf("retried job %+v, want queued to run at %v with its error", got, at(5*time.Minute))
		}
		e.wantClaim(at(4*time.Minute), nil, "k")
		got = e.wantClaim(at(5*time.Minute), j, "k")
		if got.Attempts != 2 {
			e.Errorf("retried job claimed with Attempts %d, want 2", got.Attempts)
		}
		e.wantKind(e.s.Retry(e.ctx, j.ID+100, "x", t0), nineten.KindNotFound)
	}},

	{"Jobs/RetryAfterLastAttemptFails", func(e *env) {
		j := e.enqueue("k", t0, 1)
		e.wantClaim(t0, j, "k")
		e.ok(e.s.Retry(e.ctx, j.ID, "still broken", at(time.Minute)))
		got := e.job(j.ID)
		if got.Status != nineten.JobFailed || got.LastError != "still broken" {
			e.Errorf("job retried after its last attempt: %s, %q; want failed with the error", got.Status, got.LastError)
		}
		e.wantClaim(at(time.Hour), nil, "k")
	}},

	{"Jobs/FailIgnoresAttemptsLeft", func(e *env) {
		j := e.enqueue("k", t0, 5)
		e.wantClaim(t0, j, "k")
		e.ok(e.s.Fail(e.ctx, j.ID, "the file is not audio", at(time.Second)))
		got := e.job(j.ID)
		if got.Status != nineten.JobFailed || got.LastError != "the file is not audio" {
			e.Errorf("failed job: %s, %q; want failed with the error", got.Status, got.LastError)
		}
		e.wantClaim(at(time.Hour), nil, "k")
		e.wantKind(e.s.Fail(e.ctx, j.ID+100, "x", t0), nineten.KindNotFound)
	}},

	{"Jobs/CompleteAndActiveJobs", func(e *env) {
		done := e.enqueue("k", t0, 0)
		running := e.enqueue("k", at(time.Second), 0)
		queued := e.enqueue("k", at(time.Hour), 0)
		e.wantClaim(at(time.Minute), done, "k")
		e.wantClaim(at(time.Minute), running, "k")
		e.ok(e.s.Complete(e.ctx, done.ID, at(2*time.Minute)))
		got := e.job(done.ID)
		if got.Status != nineten.JobDone || got.Progress != 100 {
			e.Errorf("completed job: %s, progress %d; want done, 100", got.Status, got.Progress)
		}
		active, err := e.s.ActiveJobs(e.ctx)
		e.ok(err)
		var activeIDs []nineten.ID
		for _, j := range active {
			activeIDs = append(activeIDs, j.ID)
		}
		if want := []nineten.ID{running.ID, queued.ID}; !slices.Equal(activeIDs, want) {
			e.Errorf("ActiveJobs = %v, want %v", activeIDs, want)
		}
		e.wantKind(e.s.Complete(e.ctx, done.ID+100, t0), nineten.KindNotFound)
	}},
}
