package listen

import (
	"context"
	"sync"
	"time"

	nineten "nineten.dev"
)

// Progress reports and served segments are the node's hottest writes: every
// playing browser sends a report every 10 s and fetches a segment every few
// seconds. Written one by one, each costs a database round trip and a
// commit. While Batch runs, the service instead keeps the sessions
// being played in memory and writes their progress and served segments in
// batches, one transaction every flushInterval. Only what can wait is
// batched: the report that may turn a session into a listen is written
// through, together with the decision, at once.
//
// A crash loses at most flushInterval of progress; the next report of each
// player carries its cumulative heard time again, so nothing a listen
// depends on is lost for good. Several processes may serve one node: each
// keeps its own view of a session, the store refuses progress older than
// what it holds, and the decision reads the served segments of every
// process from the store.

const (
	flushInterval = 100 * time.Millisecond
	flushBatch    = 4096             // flush early when this many writes wait
	idleAfter     = 10 * time.Minute // forget sessions without reports for this long
)

// live is a session being played, as this process knows it.
type live struct {
	mu         sync.Mutex
	sess       nineten.ListenSession // progress as last accepted here
	durationMS int64
	threshold  time.Duration
	hlsDir     string                  // blob key prefix of the track's HLS files, ending in "/"
	verified   bool                    // its verified listen is stored
	served     []nineten.ServedSegment // segments this process served to it
	dirty      bool                    // progress not yet written
	seen       time.Time               // last report or segment, for forgetting it
}

// ingest is the in-memory side of a running Service.
type ingest struct {
	mu       sync.Mutex
	running  bool
	sessions map[string]*live
	dirty    map[string]*live
	segments []nineten.ServedSegment // served, not yet written
	kick     chan struct{}
}

// Batch starts batching progress and served-segment writes until ctx
// ends, then writes what is left; wait returns once that is done. Without
// Batch every report is written through.
func (s *Service) Batch(ctx context.Context) (wait func()) {
	in := &s.ingest
	in.mu.Lock()
	in.running = true
	in.sessions = map[string]*live{}
	in.dirty = map[string]*live{}
	in.kick = make(chan struct{}, 1)
	in.mu.Unlock()
	done := make(chan struct{})
	go func() {
		defer close(done)
		s.flushLoop(ctx)
	}()
	return func() { <-done }
}

func (s *Service) flushLoop(ctx context.Context) {
	in := &s.ingest
	tick := time.NewTicker(flushInterval)
	defer tick.Stop()
	lastSweep := s.now()
	for {
		select {
		case <-ctx.Done():
			in.mu.Lock()
			in.running = false
			in.mu.Unlock()
			// Whatever arrived before the switch is still written.
			final, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			s.flush(final)
			cancel()
			return
		case <-tick.C:
		case <-in.kick:
		}
		s.flush(ctx)
		if now := s.now(); now.Sub(lastSweep) > time.Minute {
			s.forgetIdle(now)
			lastSweep = now
		}
	}
}

func (in *ingest) batching() bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	return in.running
}

// session returns what the service knows of a session: from memory while
// batching (loading it on first use), otherwise freshly from the store.
func (s *Service) session(ctx context.Context, id string) (*live, error) {
	in := &s.ingest
	in.mu.Lock()
	running := in.running
	l := in.sessions[id]
	in.mu.Unlock()
	if l != nil {
		return l, nil
	}
	sess, err := s.Store.ListenSessionByID(ctx, id)
	if err != nil {
		return nil, err
	}
	var durationMS int64
	var hlsDir string
	if sess.RemoteTrackID != 0 {
		t, err := s.Store.RemoteTrackByID(ctx, sess.RemoteTrackID)
		if err != nil {
			return nil, err
		}
		if hlsDir, err = remoteHLSDir(t); err != nil {
			return nil, err
		}
		durationMS = t.DurationMS
	} else {
		t, err := s.Store.TrackByID(ctx, sess.TrackID)
		if err != nil {
			return nil, err
		}
		durationMS, hlsDir = t.DurationMS, localHLSDir(t.ID)
	}
	l = &live{sess: *sess, durationMS: durationMS, threshold: s.thresholdFor(durationMS), hlsDir: hlsDir, seen: s.now()}
	if prev, err := s.Store.ListenBySession(ctx, id); err == nil {
		l.verified = prev.Status == nineten.ListenVerified
	} else if nineten.ErrorKind(err) != nineten.KindNotFound {
		return nil, err
	}
	if !running {
		return l, nil
	}
	// What other processes (or this one, before batching) served counts too.
	if l.served, err = s.Store.ServedSegments(ctx, id); err != nil {
		return nil, err
	}
	in.mu.Lock()
	defer in.mu.Unlock()
	if cur := in.sessions[id]; cur != nil {
		return cur, nil // loaded meanwhile by another request
	}
	if in.running {
		in.sessions[id] = l
	}
	return l, nil
}

// remember keeps a session this process just opened, so that its segments
// and reports need no reads to find it: nothing was served or heard yet.
func (s *Service) remember(sess *nineten.ListenSession, durationMS int64, hlsDir string) {
	in := &s.ingest
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.running {
		in.sessions[sess.ID] = &live{sess: *sess, durationMS: durationMS, threshold: s.thresholdFor(durationMS), hlsDir: hlsDir, seen: sess.StartedAt}
	}
}

// queueProgress marks l's progress for the next batch.
func (s *Service) queueProgress(l *live) {
	in := &s.ingest
	in.mu.Lock()
	in.dirty[l.sess.ID] = l
	full := len(in.dirty)+len(in.segments) >= flushBatch
	in.mu.Unlock()
	if full {
		in.wake()
	}
}

// queueSegment queues a served segment for the next batch; it reports
// false when the service is not batching.
func (s *Service) queueSegment(seg nineten.ServedSegment) bool {
	in := &s.ingest
	in.mu.Lock()
	if !in.running {
		in.mu.Unlock()
		return false
	}
	in.segments = append(in.segments, seg)
	full := len(in.dirty)+len(in.segments) >= flushBatch
	in.mu.Unlock()
	if full {
		in.wake()
	}
	return true
}

func (in *ingest) wake() {
	select {
	case in.kick <- struct{}{}:
	default:
	}
}

// flush writes the waiting progress and segments in one transaction. A
// report older than the stored one (another process got a newer one) is
// skipped; if the store fails, everything stays queued for the next try.
func (s *Service) flush(ctx context.Context) {
	in := &s.ingest
	in.mu.Lock()
	dirty, segs := in.dirty, in.segments
	in.dirty, in.segments = map[string]*live{}, nil
	in.mu.Unlock()
	if len(dirty) == 0 && len(segs) == 0 {
		return
	}
	reports := make([]nineten.ListenSession, 0, len(dirty))
	for _, l := range dirty {
		l.mu.Lock()
		if l.dirty {
			reports = append(reports, l.sess)
			l.dirty = false
		}
		l.mu.Unlock()
	}
	err := s.Store.SaveListening(ctx, reports, segs)
	if err == nil {
		return
	}
	s.logger().WarnContext(ctx, "writing listening progress failed; will retry", "reports", len(reports), "segments", len(segs), "err", err)
	in.mu.Lock()
	in.segments = append(segs, in.segments...)
	for id, l := range dirty {
		l.mu.Lock()
		l.dirty = true
		l.mu.Unlock()
		in.dirty[id] = l
	}
	in.mu.Unlock()
}

// forgetIdle drops sessions nobody reported on for idleAfter, unless they
// still wait to be written.
func (s *Service) forgetIdle(now time.Time) {
	in := &s.ingest
	in.mu.Lock()
	defer in.mu.Unlock()
	for id, l := range in.sessions {
		l.mu.Lock()
		idle := now.Sub(l.seen) > idleAfter && !l.dirty
		l.mu.Unlock()
		if idle {
			delete(in.sessions, id)
		}
	}
}
