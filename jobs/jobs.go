// Package jobs runs durable background work from the node's job queue:
// a few workers claim due jobs, keep their leases alive while they run,
// and retry failures with back-off. Because the queue is durable and
// leased, a job interrupted by a crash is picked up again after restart.
package jobs

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	nineten "nineten.dev"
)

// Handler does the work of one kind of job. Run must be idempotent: after
// a crash a job runs again from the start.
type Handler interface {
	// Run does the job, reporting progress in percent. A retryable error
	// may say when to try again with a method RetryAfter() time.Duration;
	// otherwise the runner's (or the handler's Backoff) pace applies.
	Run(ctx context.Context, job *nineten.Job, progress func(percent int)) error
	// GiveUp is called once when the job will not be tried again, so the
	// handler can clean up and tell the people waiting for it.
	GiveUp(ctx context.Context, job *nineten.Job, err error)
}

// Permanent marks an error that retrying cannot fix (corrupt input, say).
// Errors of kind KindInvalid and KindUnsupported are permanent too.
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ error }

func (p permanentError) Unwrap() error { return p.error }

func isPermanent(err error) bool {
	var p permanentError
	k := nineten.ErrorKind(err)
	return errors.As(err, &p) || k == nineten.KindInvalid || k == nineten.KindUnsupported
}

// Runner claims and runs jobs.
type Runner struct {
	Queue    nineten.JobQueue
	Clock    nineten.Clock
	Handlers map[string]Handler
	Workers  int // default 1: transcodes are CPU-bound
	// Lease bounds how long a crashed worker's job waits before another
	// worker takes it; it is renewed every Lease/3 while the job runs.
	Lease   time.Duration // default 30 s
	Poll    time.Duration // default 2 s; Kick wakes workers sooner
	Backoff func(attempt int) time.Duration
	Log     *slog.Logger

	once sync.Once
	kick chan struct{}
}

func (r *Runner) init() {
	r.once.Do(func() {
		r.kick = make(chan struct{}, 1)
		if r.Clock == nil {
			r.Clock = nineten.SystemClock{}
		}
		if r.Workers <= 0 {
			r.Workers = 1
		}
		if r.Lease <= 0 {
			r.Lease = 30 * time.Second
		}
		if r.Poll <= 0 {
			r.Poll = 2 * time.Second
		}
		if r.Backoff == nil {
			r.Backoff = func(attempt int) time.Duration { return time.Duration(attempt*attempt) * 10 * time.Second }
		}
		if r.Log == nil {
			r.Log = slog.Default()
		}
	})
}

// Kick tells the workers that a job was enqueued.
func (r *Runner) Kick() {
	r.init()
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run runs workers until ctx is done.
func (r *Runner) Run(ctx context.Context) {
	r.init()
	var wg sync.WaitGroup
	for range r.Workers {
		wg.Go(func() { r.work(ctx) })
	}
	wg.Wait()
}

func (r *Runner) kinds() []string {
	kinds := make([]string, 0, len(r.Handlers))
	for k := range r.Handlers {
		kinds = append(kinds, k)
	}
	return kinds
}

func (r *Runner) work(ctx context.Context) {
	kinds := r.kinds()
	for ctx.Err() == nil {
		job, err := r.Queue.Claim(ctx, kinds, r.Clock.Now(), r.Lease)
		if err != nil && ctx.Err() == nil {
			r.Log.Error("claiming a job failed", "err", err)
		}
		if job == nil {
			select {
			case <-ctx.Done():
			case <-r.kick:
			case <-time.After(r.Poll):
			}
			continue
		}
		// Another job may be waiting: wake a sibling now rather than after
		// this job, so that a burst (a fan-out of deliveries) has every
		// worker busy within a few claims.
		r.Kick()
		r.RunJob(ctx, job)
	}
}

// RunJob runs one claimed job to its end: done, retried or given up.
func (r *Runner) RunJob(ctx context.Context, job *nineten.Job) {
	r.init()
	h := r.Handlers[job.Kind]
	log := r.Log.With("job", job.ID, "kind", job.Kind, "attempt", job.Attempts)
	jobCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		mu       sync.Mutex
		progress int
		wg       sync.WaitGroup
	)
	// Keep the lease alive while the job runs, so no other worker takes it.
	wg.Go(func() {
		tick := time.NewTicker(r.Lease / 3)
		defer tick.Stop()
		for {
			select {
			case <-jobCtx.Done():
				return
			case <-tick.C:
				mu.Lock()
				p := progress
				mu.Unlock()
				if err := r.Queue.Heartbeat(jobCtx, job.ID, r.Clock.Now().Add(r.Lease), p); err != nil && jobCtx.Err() == nil {
					log.Warn("renewing the job lease failed", "err", err)
				}
			}
		}
	})
	start := time.Now()
	log.Info("job started")
	err := runSafely(jobCtx, h, job, func(p int) {
		mu.Lock()
		changed := p != progress
		progress = p
		mu.Unlock()
		if changed {
			_ = r.Queue.Heartbeat(jobCtx, job.ID, r.Clock.Now().Add(r.Lease), p)
		}
	})
	cancel()
	wg.Wait()
	if ctx.Err() != nil {
		// Shutting down: leave the job leased; it is retried after restart.
		log.Info("job interrupted by shutdown")
		return
	}
	// Record the outcome even if the node is stopping meanwhile.
	bg := context.WithoutCancel(ctx)
	if err == nil {
		if err := r.Queue.Complete(bg, job.ID, r.Clock.Now()); err != nil {
			log.Error("marking the job done failed", "err", err)
		}
		log.Info("job done", "seconds", time.Since(start).Seconds())
		return
	}
	if isPermanent(err) || job.Attempts >= job.MaxAttempts {
		if qerr := r.Queue.Fail(bg, job.ID, err.Error(), r.Clock.Now()); qerr != nil {
			log.Error("recording the job failure failed", "err", qerr)
		}
		if h != nil {
			h.GiveUp(bg, job, err)
		}
		log.Warn("job failed for good", "err", err)
		return
	}
	backoff := r.Backoff
	if b, ok := h.(interface {
		Backoff(attempt int) time.Duration
	}); ok {
		// A handler may pace its own retries (deliveries wait for days).
		backoff = b.Backoff
	}
	wait := backoff(job.Attempts)
	var after interface{ RetryAfter() time.Duration }
	if errors.As(err, &after) {
		// Or say when to try again for this one job: the handler may know
		// better (a server's Retry-After, attempts it counts itself).
		wait = after.RetryAfter()
	}
	runAt := r.Clock.Now().Add(wait)
	if qerr := r.Queue.Retry(bg, job.ID, err.Error(), runAt); qerr != nil {
		log.Error("scheduling the job retry failed", "err", qerr)
	}
	log.Warn("job failed; will retry", "err", err, "retry_at", runAt)
}

// runSafely turns a handler panic into an error, so one bad file cannot
// take the node down.
func runSafely(ctx context.Context, h Handler, job *nineten.Job, progress func(int)) (err error) {
	if h == nil {
		return Permanent(fmt.Errorf("no handler for job kind %q", job.Kind))
	}
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("job panicked: %v", p)
		}
	}()
	return h.Run(ctx, job, progress)
}
