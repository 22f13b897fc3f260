package storetest

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"nineten.dev"
)

// listenFixture is a listener and a track to listen to.
func (e *env) listenFixture() (*nineten.User, *nineten.Track) {
	e.Helper()
	u := e.user("listener")
	ar := e.artist(u.ID, "Artist")
	return u, e.track(nineten.Track{ArtistID: ar.ID, Title: "Song", DurationMS: 180_000})
}

var listenTests = []test{
	{"ListenSessions/CreateAndRead", func(e *env) {
		u, tr := e.listenFixture()
		ls := &nineten.ListenSession{ID: "s1", TrackID: tr.ID, UserID: u.ID, StartedAt: t0}
		e.ok(e.s.CreateListenSession(e.ctx, ls))
		got, err := e.s.ListenSessionByID(e.ctx, "s1")
		e.ok(err)
		e.same("listen session", ls, got)

		anon := &nineten.ListenSession{ID: "s2", TrackID: tr.ID, AnonID: "browser-7", StartedAt: t0}
		e.ok(e.s.CreateListenSession(e.ctx, anon))
		got, err = e.s.ListenSessionByID(e.ctx, "s2")
		e.ok(err)
		e.same("anonymous listen session", anon, got)

		e.wantKind(e.s.CreateListenSession(e.ctx, ls), nineten.KindConflict)
		_, err = e.s.ListenSessionByID(e.ctx, "nope")
		e.wantKind(err, nineten.KindNotFound)
	}},

	// Progress reports carry increasing sequence numbers; a report that is
	// not newer than the last accepted one is refused, so replaying a
	// captured report achieves nothing.
	{"ListenSessions/ProgressRefusesReplays", func(e *env) {
		u, tr := e.listenFixture()
		ls := e.listenSession("s1", tr.ID, u.ID, t0)
		report := func(seq, heard int64) *nineten.ListenSession {
			r := *ls
			r.LastSeq, r.HeardMS, r.PositionMS, r.LastReportAt = seq, heard, heard, at(time.Duration(heard)*time.Millisecond)
			return &r
		}
		first := report(1, 10_000)
		e.ok(e.s.UpdateListenProgress(e.ctx, first))
		got, err := e.s.ListenSessionByID(e.ctx, "s1")
		e.ok(err)
		e.same("session after a report", first, got)

		err = e.s.UpdateListenProgress(e.ctx, report(1, 90_000))
		e.wantKind(err, nineten.KindConflict)
		e.wantKind(e.s.UpdateListenProgress(e.ctx, report(0, 90_000)), nineten.KindConflict)
		e.ok(e.s.UpdateListenProgress(e.ctx, report(5, 50_000)))
		e.wantKind(e.s.UpdateListenProgress(e.ctx, report(3, 90_000)), nineten.KindConflict)
		got, err = e.s.ListenSessionByID(e.ctx, "s1")
		e.ok(err)
		e.same("session after refused reports", report(5, 50_000), got)

		unknown := report(9, 1000)
		unknown.ID = "nope"
		e.wantKind(e.s.UpdateListenProgress(e.ctx, unknown), nineten.KindNotFound)
	}},

	{"ListenSessions/ConcurrentProgressKeepsNewest", func(e *env) {
		u, tr := e.listenFixture()
		ls := e.listenSession("s1", tr.ID, u.ID, t0)
		var wg sync.WaitGroup
		for seq := int64(1); seq <= 20; seq++ {
			wg.Go(func() {
				r := *ls
				r.LastSeq, r.HeardMS = seq, seq*1000
				err := e.s.UpdateListenProgress(e.ctx, &r)
				if err != nil && nineten.ErrorKind(err) != nineten.KindConflict {
					e.Errorf("report %d: %v", seq, err)
				}
			})
		}
		wg.Wait()
		got, err := e.s.ListenSessionByID(e.ctx, "s1")
		e.ok(err)
		if got.LastSeq != 20 || got.HeardMS != 20_000 {
			e.Errorf("after concurrent reports LastSeq %d, HeardMS %d; want 20, 20000", got.LastSeq, got.HeardMS)
		}
	}},

	{"ServedSegments/Idempotent", func(e *env) {
		u, tr := e.listenFixture()
		e.listenSession("s1", tr.ID, u.ID, t0)
		e.listenSession("s2", tr.ID, u.ID, t0)
		seg := func(session, rendition string, i int, servedAt time.Time) nineten.ServedSegment {
			return nineten.ServedSegment{SessionID: session, Rendition: rendition, Index: i,
				StartMS: int64(i) * 4000, EndMS: int64(i+1) * 4000, ServedAt: servedAt}
		}
		want := []nineten.ServedSegment{seg("s1", "aac64", 0, t0), seg("s1", "opus128", 0, t0), seg("s1", "opus128", 1, at(time.Second))}
		for _, s := range want {
			e.ok(e.s.RecordServedSegment(e.ctx, s))
		}
		// Served again, later: still served once, at first.
		e.ok(e.s.RecordServedSegment(e.ctx, seg("s1", "opus128", 0, at(time.Minute))))
		e.ok(e.s.RecordServedSegment(e.ctx, seg("s2", "opus128", 0, t0)))

		got, err := e.s.ServedSegments(e.ctx, "s1")
		e.ok(err)
		slices.SortFunc(got, func(a, b nineten.ServedSegment) int {
			if c := strings.Compare(a.Rendition, b.Rendition); c != 0 {
				return c
			}
			return a.Index - b.Index
		})
		e.same("served segments", want, got)
	}},

	{"Listens/SaveCountsOnce", func(e *env) {
		u, tr := e.listenFixture()
		ls := e.listenSession("s1", tr.ID, u.ID, t0)

		l := listen(ls, nineten.ListenUnverified, time.Time{})
		e.ok(e.s.SaveListen(e.ctx, l))
		if l.ID <= 0 {
			e.Fatalf("SaveListen set ID %d, want a positive one", l.ID)
		}
		id := l.ID
		got, err := e.s.ListenBySession(e.ctx, "s1")
		e.ok(err)
		e.same("unverified listen", l, got)
		if n := e.playCount(tr.ID); n != 0 {
			e.Errorf("PlayCount = %d after an unverified listen, want 0", n)
		}

		// Verified now: it counts, once.
		l = listen(ls, nineten.ListenVerified, at(time.Minute))
		e.ok(e.s.SaveListen(e.ctx, l))
		if l.ID != id {
			e.Errorf("saving the listen again gave ID %d, want %d", l.ID, id)
		}
		got, err = e.s.ListenBySession(e.ctx, "s1")
		e.ok(err)
		e.same("verified listen", l, got)
		e.ok(e.s.SaveListen(e.ctx, listen(ls, nineten.ListenVerified, at(2*time.Minute))))
		if n := e.playCount(tr.ID); n != 1 {
			e.Errorf("PlayCount = %d after saving a verified listen twice, want 1", n)
		}

		// A verified listen stays verified, as first verified.
		e.ok(e.s.SaveListen(e.ctx, listen(ls, nineten.ListenUnverified, time.Time{})))
		got, err = e.s.ListenBySession(e.ctx, "s1")
		e.ok(err)
		if got.Status != nineten.ListenVerified || !got.VerifiedAt.Equal(at(time.Minute)) {
			e.Errorf("listen is %s verified at %v after an unverified save; want verified at %v",
				got.Status, got.VerifiedAt, at(time.Minute))
		}
		if n := e.playCount(tr.ID); n != 1 {
			e.Errorf("PlayCount = %d, want 1", n)
		}

		// Another listen, verified from the start, counts too.
		ls2 := e.listenSession("s2", tr.ID, 0, at(time.Hour))
		e.ok(e.s.SaveListen(e.ctx, listen(ls2, nineten.ListenVerified, at(time.Hour+time.Minute))))
		if n := e.playCount(tr.ID); n != 2 {
			e.Errorf("PlayCount = %d after a second listen, want 2", n)
		}
		_, err = e.s.ListenBySession(e.ctx, "nope")
		e.wantKind(err, nineten.KindNotFound)
	}},

	{"Listens/ConcurrentSavesCountOnce", func(e *env) {
		u, tr := e.listenFixture()
		ls := e.listenSession("s1", tr.ID, u.ID, t0)
		mixed := e.listenSession("s2", tr.ID, u.ID, t0)
		var wg sync.WaitGroup
		var mu sync.Mutex
		seen := map[nineten.ID]bool{}
		for i := range 16 {
			wg.Go(func() {
				l := listen(ls, nineten.ListenVerified, at(time.Duration(i)*time.Second))
				if err := e.s.SaveListen(e.ctx, l); err != nil {
					e.Errorf("SaveListen: %v", err)
				}
				mu.Lock()
				seen[l.ID] = true
				mu.Unlock()
			})
			wg.Go(func() {
				status := nineten.ListenVerified
				if i%2 == 0 {
					status = nineten.ListenUnverified
				}
				if err := e.s.SaveListen(e.ctx, listen(mixed, status, at(time.Duration(i)*time.Second))); err != nil {
					e.Errorf("SaveListen: %v", err)
				}
			})
		}
		wg.Wait()
		if len(seen) != 1 {
			e.Errorf("concurrent saves of one listen gave IDs %v, want one", seen)
		}
		if n := e.playCount(tr.ID); n != 2 {
			e.Errorf("PlayCount = %d after 16 concurrent saves of each of 2 listens, want 2", n)
		}
		got, err := e.s.ListenBySession(e.ctx, "s2")
		e.ok(err)
		if got.Status != nineten.ListenVerified {
			e.Errorf("listen saved verified and unverified concurrently ended %s, want verified", got.Status)
		}
	}},

	{"Listens/RecentVerifiedNewestFirst", func(e *env) {
		u, tr := e.listenFixture()
		other := e.user("other")
		ar := e.artist(u.ID, "Second Artist")
		al := e.album(ar.ID, "Second Album", 2024)
		tr2 := e.track(nineten.Track{ArtistID: ar.ID, AlbumID: al.ID, Title: "Second Song"})
		var want []*nineten.Listen
		for i, trackID := range []nineten.ID{tr.ID, tr2.ID, tr.ID} {
			start := at(time.Duration(i) * time.Hour)
			ls := e.listenSession(fmt.Sprint("v", i), trackID, u.ID, start)
			l := listen(ls, nineten.ListenVerified, start.Add(time.Minute))
			e.ok(e.s.SaveListen(e.ctx, l))
			want = append(want, l)
		}
		slices.Reverse(want)
		e.ok(e.s.SaveListen(e.ctx, listen(e.listenSession("u", tr.ID, u.ID, at(5*time.Hour)), nineten.ListenUnverified, time.Time{})))
		e.ok(e.s.SaveListen(e.ctx, listen(e.listenSession("o", tr.ID, other.ID, at(6*time.Hour)), nineten.ListenVerified, at(6*time.Hour))))

		got, err := e.s.RecentListens(e.ctx, u.ID, 10)
		e.ok(err)
		if len(got) != 3 {
			e.Fatalf("RecentListens = %d listens, want 3", len(got))
		}
		for i := range got {
			if got[i].Track == nil {
				e.Fatalf("RecentListens[%d] has no Track", i)
			}
			if got[i].Track.ID != got[i].TrackID {
				e.Errorf("RecentListens[%d] is of track %d but has track %d", i, got[i].TrackID, got[i].Track.ID)
			}
			got[i].Track = nil
		}
		var wantListens []nineten.Listen
		for _, l := range want {
			wantListens = append(wantListens, *l)
		}
		e.same("recent listens", wantListens, got)

		got, err = e.s.RecentListens(e.ctx, u.ID, 2)
		e.ok(err)
		if len(got) != 2 || got[0].SessionID != "v2" || got[1].SessionID != "v1" {
			e.Errorf("RecentListens with limit 2 = %+v, want v2, v1", got)
		}
		if tr := got[1].Track; tr == nil || tr.Title != "Second Song" || tr.ArtistName != "Second Artist" || tr.AlbumTitle != "Second Album" {
			e.Errorf("RecentListens filled track %+v, want Second Song with artist and album", tr)
		}
	}},
}
