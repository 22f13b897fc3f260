package storetest

import (
	"fmt"
	"time"

	"nineten.dev"
)

var batchTests = []test{
	// Reports in a batch raise the heard time of their session's listen
	// (never lower it), for local and remote tracks alike.
	{"ListenBatch/RaisesHeardTimeOfListens", func(e *env) {
		u, tr := e.listenFixture()
		ls := e.listenSession("heard-1", tr.ID, u.ID, t0)
		l := listen(ls, nineten.ListenVerified, at(time.Minute))
		e.ok(e.s.SaveListen(e.ctx, l))
		far := &nineten.RemoteTrack{IRI: "https://b.example/tracks/1", Payee: "b.example/1", DurationMS: 200_000}
		e.ok(e.s.SaveRemoteTrack(e.ctx, far))
		rs := &nineten.ListenSession{ID: nineten.RemoteSessionPrefix + "heard-2", RemoteTrackID: far.ID, UserID: u.ID, StartedAt: t0}
		e.ok(e.s.CreateListenSession(e.ctx, rs))
		e.ok(e.s.SaveListen(e.ctx, &nineten.Listen{SessionID: rs.ID, RemoteTrackID: far.ID, UserID: u.ID, StartedAt: t0, HeardMS: 31_000, Status: nineten.ListenVerified}))
		e.ok(e.s.SaveListening(e.ctx, []nineten.ListenSession{
			{ID: ls.ID, LastSeq: 9, HeardMS: 95_000},
			{ID: rs.ID, LastSeq: 9, HeardMS: 20_000}, // lower: the listen keeps its 31 s
		}, nil))
		got, err := e.s.ListenBySession(e.ctx, ls.ID)
		e.ok(err)
		e.same("local listen's heard time", int64(95_000), got.HeardMS)
		got, err = e.s.ListenBySession(e.ctx, rs.ID)
		e.ok(err)
		e.same("remote listen's heard time", int64(31_000), got.HeardMS)
	}},
	// A batch keeps the store's rules for each row: progress only moves
	// forward, a segment is recorded once, and rows of sessions that are
	// gone are skipped without failing the rest.
	{"ListenBatch/SavesNewerProgressAndNewSegments", func(e *env) {
		u, tr := e.listenFixture()
		var reports []nineten.ListenSession
		var segs []nineten.ServedSegment
		for i := range 700 { // more than one statement's worth
			ls := e.listenSession(fmt.Sprintf("s%03d", i), tr.ID, u.ID, t0)
			ls.LastSeq, ls.HeardMS, ls.PositionMS, ls.LastReportAt = 3, int64(i)*10, int64(i)*20, at(time.Minute)
			reports = append(reports, *ls)
			segs = append(segs, nineten.ServedSegment{SessionID: ls.ID, Rendition: "opus128", Index: 0, StartMS: 0, EndMS: 4000, ServedAt: at(time.Second)})
		}
		e.ok(e.s.SaveListening(e.ctx, reports, segs))

		// s001 already holds report 5: the batch's report 3 is older.
		newer := reports[1]
		newer.LastSeq, newer.HeardMS = 5, 99_000
		e.ok(e.s.UpdateListenProgress(e.ctx, &newer))
		stale := reports[1]
		stale.LastSeq = 4
		gone := reports[2]
		gone.ID = "no-such-session"
		again := segs[0]
		again.ServedAt = at(time.Hour) // a replay: the first record stays
		e.ok(e.s.SaveListening(e.ctx, []nineten.ListenSession{stale, gone},
			[]nineten.ServedSegment{again, {SessionID: "no-such-session", Rendition: "opus128", Index: 1, StartMS: 4000, EndMS: 8000, ServedAt: t0}}))

		got, err := e.s.ListenSessionByID(e.ctx, "s699")
		e.ok(err)
		e.same("last session of the batch", &reports[699], got)
		got, err = e.s.ListenSessionByID(e.ctx, "s001")
		e.ok(err)
		e.same("session with newer progress", &newer, got)
		served, err := e.s.ServedSegments(e.ctx, "s000")
		e.ok(err)
		e.same("segments of s000", []nineten.ServedSegment{segs[0]}, served)
		served, err = e.s.ServedSegments(e.ctx, "s650")
		e.ok(err)
		e.same("segments of s650", []nineten.ServedSegment{segs[650]}, served)
		_, err = e.s.ListenSessionByID(e.ctx, "no-such-session")
		e.wantKind(err, nineten.KindNotFound)
	}},
}
