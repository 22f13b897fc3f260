package listen_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/blob/disk"
	"nineten.dev/listen"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/clocktest"
	"nineten.dev/testkit/dbtest"
)

type rig struct {
	t     *testing.T
	svc   *listen.Service
	store nineten.Store
	clock *clocktest.Clock
	n     int
}

func TestMain(m *testing.M) { dbtest.Main(m) }

// eachRig runs fn on every database engine, as subtests, each with a
// fresh rig.
func eachRig(t *testing.T, fn func(t *testing.T, r *rig)) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) { fn(t, newRig(t, db)) })
}

// newRig runs the listen service on a real store and blob store.
func newRig(t *testing.T, db *sqlstore.DB) *rig {
	blobs, err := disk.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c := clocktest.New(time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC))
	return &rig{t: t, store: db, clock: c, svc: &listen.Service{Store: db, Blobs: blobs, Clock: c, Secret: []byte("test secret")}}
}

// track makes a ready track of durationMS with 4 s segments in two renditions.
func (r *rig) track(durationMS int64) nineten.ID {
	r.t.Helper()
	ctx := r.t.Context()
	r.n++
	u := &nineten.User{Username: fmt.Sprintf("user%d", r.n), PasswordHash: "x", Role: nineten.RoleArtist, CreatedAt: r.clock.Now()}
	if err := r.store.CreateUser(ctx, u); err != nil {
		r.t.Fatal(err)
	}
	a := &nineten.Artist{OwnerID: u.ID, Name: u.Username, Slug: u.Username, CreatedAt: r.clock.Now()}
	if err := r.store.CreateArtist(ctx, a); err != nil {
		r.t.Fatal(err)
	}
	tr := &nineten.Track{ArtistID: a.ID, Title: "T", DurationMS: durationMS, Status: nineten.TrackReady, CreatedAt: r.clock.Now(), UpdatedAt: r.clock.Now()}
	if err := r.store.CreateTrack(ctx, tr); err != nil {
		r.t.Fatal(err)
	}
	var pl strings.Builder
	pl.WriteString("#EXTM3U\n#EXT-X-TARGETDURATION:4\n#EXT-X-MAP:URI=\"init.mp4\"\n")
	for i, at := 0, int64(0); at < durationMS; i, at = i+1, at+4000 {
		fmt.Fprintf(&pl, "#EXTINF:%.3f,\nseg%d.m4s\n", float64(min(4000, durationMS-at))/1000, i)
	}
	pl.WriteString("#EXT-X-ENDLIST\n")
	for _, rend := range []string{"opus128", "aac96"} {
		if _, err := r.svc.Blobs.Put(ctx, fmt.Sprintf("tracks/%d/hls/%s/index.m3u8", tr.ID, rend), strings.NewReader(pl.String())); err != nil {
			r.t.Fatal(err)
		}
	}
	return tr.ID
}

func (r *rig) start(track nineten.ID, anon string) *listen.Started {
	r.t.Helper()
	s, err := r.svc.Start(r.t.Context(), nil, anon, track, listen.Client{})
	if err != nil {
		r.t.Fatal(err)
	}
	return s
}

func (r *rig) serve(s *listen.Started, track nineten.ID, files ...string) {
	r.t.Helper()
	for _, f := range files {
		if err := r.svc.SegmentServed(r.t.Context(), s.SessionID, track, f); err != nil {
			r.t.Fatal(err)
		}
	}
}

func (r *rig) report(s *listen.Started, seq, heardMS int64) (*listen.Outcome, error) {
	key, _ := hexKey(s.Key)
	rep := listen.Report{Seq: seq, PositionMS: heardMS, HeardMS: heardMS}
	rep.Sig = listen.Sign(key, s.SessionID, rep)
	return r.svc.Progress(r.t.Context(), s.SessionID, rep)
}

func (r *rig) playCount(id nineten.ID) int64 {
	tr, err := r.store.TrackByID(r.t.Context(), id)
	if err != nil {
		r.t.Fatal(err)
	}
	return tr.PlayCount
}

func hexKey(s string) ([]byte, error) {
	b := make([]byte, len(s)/2)
	_, err := fmt.Sscanf(s, "%x", &b)
	return b, err
}

func TestVerifiedListenNeedsServedAudioAndRealTime(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		id := r.track(120_000)
		s := r.start(id, "anon-browser-0001")
		if s.ThresholdMS != 30_000 {
			t.Fatalf("threshold %d, want 30000", s.ThresholdMS)
		}
		// 32 s served in the Opus rendition (segments 0–7).
		var files []string
		for i := range 8 {
			files = append(files, fmt.Sprintf("opus128/seg%d.m4s", i))
		}
		r.serve(s, id, files...)

		// Claimed after 10 s of real time: too fast to be true.
		r.clock.Add(10 * time.Second)
		out, err := r.report(s, 1, 30_000)
		if err != nil {
			t.Fatal(err)
		}
		if out.Counted || out.Status != "unverified" || !strings.Contains(out.Reason, "passed") {
			t.Errorf("early claim: %+v", out)
		}
		// After 31 s it counts, once.
		r.clock.Add(21 * time.Second)
		if out, err = r.report(s, 2, 31_000); err != nil || !out.Counted || out.Status != "verified" || out.ServedMS != 32_000 {
			t.Fatalf("claim after 31 s: %+v, %v", out, err)
		}
		// Listening on raises the listen's heard time, as far as the node
		// served the audio: 52 s served, 51 s heard; then 60 s claimed.
		r.serve(s, id, "opus128/seg8.m4s", "opus128/seg9.m4s", "opus128/seg10.m4s", "opus128/seg11.m4s", "opus128/seg12.m4s")
		r.clock.Add(20 * time.Second)
		if out, err = r.report(s, 3, 51_000); err != nil || !out.Counted {
			t.Fatalf("later report: %+v, %v", out, err)
		}
		if n := r.playCount(id); n != 1 {
			t.Errorf("play count %d, want 1", n)
		}
		l, err := r.store.ListenBySession(t.Context(), s.SessionID)
		if err != nil || l.HeardMS != 51_000 || l.AnonID != "anon-browser-0001" || l.Status != nineten.ListenVerified {
			t.Errorf("stored listen %+v, %v", l, err)
		}
		r.clock.Add(10 * time.Second)
		if out, err = r.report(s, 4, 61_000); err != nil || !out.Counted {
			t.Fatalf("claim beyond what was served: %+v, %v", out, err)
		}
		if l, err = r.store.ListenBySession(t.Context(), s.SessionID); err != nil || l.HeardMS != 53_500 {
			t.Errorf("heard time of a listen claiming more than was served: %+v, %v; want 52 s served + 1.5 s slack", l, err)
		}
	})
}

func TestClientClaimsAloneNeverCount(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		id := r.track(120_000)

		t.Run("nothing served", func(t *testing.T) {
			s := r.start(id, "anon-browser-0002")
			r.clock.Add(40 * time.Second)
			out, err := r.report(s, 1, 40_000)
			if err != nil || out.Counted || !strings.Contains(out.Reason, "served 0.0 s") {
				t.Errorf("%+v, %v", out, err)
			}
		})
		t.Run("more heard than served", func(t *testing.T) {
			s := r.start(id, "anon-browser-0003")
			r.serve(s, id, "opus128/seg0.m4s", "opus128/seg1.m4s", "aac96/seg2.m4s", "aac96/seg3.m4s", "opus128/seg4.m4s", "opus128/seg5.m4s", "opus128/seg6.m4s", "opus128/seg7.m4s")
			r.clock.Add(90 * time.Second)
			out, err := r.report(s, 1, 90_000)
			if err != nil || out.Counted || !strings.Contains(out.Reason, "more listening than the node served") {
				t.Errorf("%+v, %v", out, err)
			}
		})
		t.Run("playlists, init segments and other tracks do not count", func(t *testing.T) {
			other := r.track(60_000)
			s := r.start(id, "anon-browser-0004")
			r.serve(s, id, "opus128/index.m3u8", "opus128/init.mp4", "master.m3u8")
			for i := range 10 {
				r.serve(s, other, fmt.Sprintf("opus128/seg%d.m4s", i))
			}
			r.clock.Add(40 * time.Second)
			out, err := r.report(s, 1, 35_000)
			if err != nil || out.Counted || out.ServedMS != 0 {
				t.Errorf("%+v, %v", out, err)
			}
		})
		if n := r.playCount(id); n != 0 {
			t.Errorf("play count %d, want 0", n)
		}
	})
}

func TestUnverifiedClaimUpgradesOnceEvidenceArrives(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		id := r.track(20_000) // shorter than 30 s: the whole track is the threshold
		s := r.start(id, "anon-browser-0005")
		if s.ThresholdMS != 20_000 {
			t.Fatalf("threshold %d, want the track's 20000", s.ThresholdMS)
		}
		r.clock.Add(21 * time.Second)
		if out, _ := r.report(s, 1, 20_000); out.Counted {
			t.Fatal("counted without served audio")
		}
		r.serve(s, id, "aac96/seg0.m4s", "aac96/seg1.m4s", "opus128/seg2.m4s", "aac96/seg3.m4s", "aac96/seg4.m4s")
		out, err := r.report(s, 2, 20_000)
		if err != nil || !out.Counted {
			t.Fatalf("%+v, %v", out, err)
		}
		// Seeking back and replaying in the session never counts again.
		r.serve(s, id, "aac96/seg0.m4s", "aac96/seg1.m4s")
		r.clock.Add(30 * time.Second)
		if _, err := r.report(s, 3, 40_000); err != nil {
			t.Fatal(err)
		}
		if n := r.playCount(id); n != 1 {
			t.Errorf("play count %d, want 1", n)
		}
		l, _ := r.store.ListenBySession(t.Context(), s.SessionID)
		if l.HeardMS != 20_000 {
			t.Errorf("heard %d ms, want it capped at the track's 20000", l.HeardMS)
		}
	})
}

func TestReportsMustBeSignedAndFresh(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		id := r.track(60_000)
		s := r.start(id, "anon-browser-0006")
		forged := listen.Report{Seq: 1, HeardMS: 60_000, PositionMS: 60_000, Sig: listen.Sign([]byte("guess"), s.SessionID, listen.Report{Seq: 1, HeardMS: 60_000, PositionMS: 60_000})}
		if _, err := r.svc.Progress(t.Context(), s.SessionID, forged); nineten.ErrorKind(err) != nineten.KindUnauthenticated {
			t.Errorf("forged report: %v, want KindUnauthenticated", err)
		}
		if _, err := r.report(s, 1, 1000); err != nil {
			t.Fatal(err)
		}
		if _, err := r.report(s, 1, 2000); nineten.ErrorKind(err) != nineten.KindConflict {
			t.Errorf("replayed seq: %v, want KindConflict", err)
		}
		if _, err := r.svc.Progress(t.Context(), "no-such-session", listen.Report{Seq: 1}); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Errorf("unknown session: %v, want KindNotFound", err)
		}
		// A session of one track cannot be used to sign for another.
		other := r.start(r.track(60_000), "anon-browser-0007")
		key, _ := hexKey(s.Key)
		rep := listen.Report{Seq: 1, HeardMS: 1}
		rep.Sig = listen.Sign(key, s.SessionID, rep)
		if _, err := r.svc.Progress(t.Context(), other.SessionID, rep); nineten.ErrorKind(err) != nineten.KindUnauthenticated {
			t.Errorf("report signed with another session's key: %v", err)
		}
	})
}

func TestHiddenTracksCannotBeListened(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		id := r.track(60_000)
		tr, _ := r.store.TrackByID(t.Context(), id)
		tr.Hidden = true
		if err := r.store.UpdateTrack(t.Context(), tr); err != nil {
			t.Fatal(err)
		}
		if _, err := r.svc.Start(t.Context(), nil, "anon-browser-0008", id, listen.Client{}); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Errorf("hidden track: %v, want KindNotFound", err)
		}
		if _, err := r.svc.Start(t.Context(), nil, "", r.track(30_000), listen.Client{}); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("anonymous without id: %v, want KindInvalid", err)
		}
	})
}
