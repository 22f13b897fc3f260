package listen_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	nineten "nineten.dev"
)

// While Batch runs, reports below the threshold are answered from memory and
// written in batches; the report that makes the listen is decided and
// written at once; a replay is refused; and stopping it writes everything
// that waited.
func TestBatchedProgressIsWrittenAndDecidedOnce(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		id := r.track(120_000)
		ctx, stop := context.WithCancel(t.Context())
		wait := r.svc.Batch(ctx)
		t.Cleanup(func() { stop(); wait() }) // before the store closes
		s := r.start(id, "anon-browser-0002")
		var files []string
		for i := range 10 {
			files = append(files, fmt.Sprintf("aac96/seg%d.m4s", i))
		}
		r.serve(s, id, files...)
		r.serve(s, id, files[:3]...) // replayed segments add nothing

		for seq := int64(1); seq <= 3; seq++ {
			r.clock.Add(10 * time.Second)
			out, err := r.report(s, seq, seq*10_000-2000)
			if err != nil || out.Status != "pending" || out.Counted {
				t.Fatalf("report %d: %+v, %v", seq, out, err)
			}
			if out.ServedMS != 40_000 {
				t.Fatalf("report %d says %d ms served, want 40000", seq, out.ServedMS)
			}
		}
		if _, err := r.report(s, 3, 28_000); nineten.ErrorKind(err) != nineten.KindConflict {
			t.Fatalf("a replayed report: %v, want a conflict", err)
		}
		r.clock.Add(2 * time.Second)
		out, err := r.report(s, 4, 31_500)
		if err != nil || !out.Counted || out.Status != "verified" {
			t.Fatalf("the deciding report: %+v, %v", out, err)
		}
		// It was written through: the listen and the play count are stored now.
		if got := r.playCount(id); got != 1 {
			t.Fatalf("play count %d right after the deciding report, want 1", got)
		}
		r.clock.Add(10 * time.Second)
		if out, err := r.report(s, 5, 41_500); err != nil || !out.Counted {
			t.Fatalf("a later report: %+v, %v", out, err)
		}

		stop()
		wait()
		sess, err := r.store.ListenSessionByID(t.Context(), s.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		if sess.LastSeq != 5 || sess.HeardMS != 41_500 {
			t.Errorf("stored progress after batching stopped: seq %d, heard %d; want 5, 41500", sess.LastSeq, sess.HeardMS)
		}
		segs, err := r.store.ServedSegments(t.Context(), s.SessionID)
		if err != nil || len(segs) != 10 {
			t.Errorf("stored served segments: %d (%v), want 10", len(segs), err)
		}
		if got := r.playCount(id); got != 1 {
			t.Errorf("play count %d, want 1", got)
		}
		// The listen heard what the later report said (40 s were served).
		if l, err := r.store.ListenBySession(t.Context(), s.SessionID); err != nil || l.HeardMS != 41_500 {
			t.Errorf("the listen after batching: %+v, %v; want 41.5 s heard", l, err)
		}
		// Without batching, reports are written through again.
		r.clock.Add(10 * time.Second)
		if _, err := r.report(s, 6, 51_500); err != nil {
			t.Fatal(err)
		}
		if sess, _ := r.store.ListenSessionByID(t.Context(), s.SessionID); sess.LastSeq != 6 {
			t.Errorf("a report after batching stopped was not written through: seq %d", sess.LastSeq)
		}
	})
}
