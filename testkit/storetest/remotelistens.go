package storetest

import (
	"time"

	"nineten.dev"
)

var remoteListenTests = []test{
	// A track of another server is recorded once per IRI; playing it again
	// refreshes what its server says of it.
	{"RemoteListens/TrackRecordedOncePerIRI", func(e *env) {
		t := &nineten.RemoteTrack{IRI: "https://b.example/tracks/7", Title: "Song", ArtistIRI: "https://b.example/artists/x",
			ArtistName: "X", Payee: "b.example/3", DurationMS: 61_000, HLSURL: "https://b.example/media/tracks/7/hls/master.m3u8"}
		e.ok(e.s.SaveRemoteTrack(e.ctx, t))
		first := t.ID
		again := *t
		again.ID, again.Title, again.Payee = 0, "Song (remaster)", "b.example/4"
		e.ok(e.s.SaveRemoteTrack(e.ctx, &again))
		e.same("id of the same IRI", first, again.ID)
		got, err := e.s.RemoteTrackByID(e.ctx, first)
		e.ok(err)
		e.same("refreshed track", again, *got)
		_, err = e.s.RemoteTrackByID(e.ctx, first+100)
		e.wantKind(err, nineten.KindNotFound)
		name, err := e.s.RemoteArtistName(e.ctx, "b.example/4")
		e.ok(err)
		e.same("name of the artist paid by the track", "X", name)
		_, err = e.s.RemoteArtistName(e.ctx, "b.example/3") // the track pays b.example/4 now
		e.wantKind(err, nineten.KindNotFound)
	}},
	// A session of a remote track lives beside those of local tracks, with
	// the same behaviour: progress only forward, segments once, a listen
	// per session, in the listener's history and the month's totals under
	// the payee its server named; a track without a payee is not paid.
	{"RemoteListens/SessionsListensHistoryAndTotals", func(e *env) {
		ann := e.user("ann")
		owner := e.user("owner")
		local := e.track(nineten.Track{ArtistID: e.artist(owner.ID, "Here").ID, Title: "Local", DurationMS: 90_000})
		paid := &nineten.RemoteTrack{IRI: "https://b.example/tracks/1", Title: "Paid", Payee: "b.example/3", DurationMS: 90_000}
		unpaid := &nineten.RemoteTrack{IRI: "https://c.example/audio/9", Title: "Unpaid", DurationMS: 90_000}
		e.ok(e.s.SaveRemoteTrack(e.ctx, paid))
		e.ok(e.s.SaveRemoteTrack(e.ctx, unpaid))
		month := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)

		// The id must say which kind of session it is.
		e.wantKind(e.s.CreateListenSession(e.ctx, &nineten.ListenSession{ID: "plain", RemoteTrackID: paid.ID, UserID: ann.ID}), nineten.KindInvalid)
		e.wantKind(e.s.CreateListenSession(e.ctx, &nineten.ListenSession{ID: nineten.RemoteSessionPrefix + "x", TrackID: local.ID, UserID: ann.ID}), nineten.KindInvalid)

		start := func(id string, tr *nineten.RemoteTrack, at time.Time) {
			e.Helper()
			e.ok(e.s.CreateListenSession(e.ctx, &nineten.ListenSession{ID: id, RemoteTrackID: tr.ID, UserID: ann.ID, StartedAt: at}))
		}
		r1, r2, r3 := nineten.RemoteSessionPrefix+"1", nineten.RemoteSessionPrefix+"2", nineten.RemoteSessionPrefix+"3"
		start(r1, paid, month.Add(time.Hour))
		start(r2, paid, month.Add(3*time.Hour))
		start(r3, unpaid, month.Add(4*time.Hour))
		got, err := e.s.ListenSessionByID(e.ctx, r1)
		e.ok(err)
		e.same("remote session", nineten.ListenSession{ID: r1, RemoteTrackID: paid.ID, UserID: ann.ID, StartedAt: month.Add(time.Hour)}, *got)

		seg := nineten.ServedSegment{SessionID: r1, Rendition: "opus128", Index: 0, StartMS: 0, EndMS: 6000, ServedAt: month.Add(time.Hour)}
		e.ok(e.s.RecordServedSegment(e.ctx, seg))
		e.ok(e.s.RecordServedSegment(e.ctx, seg))
		seg2 := seg
		seg2.Index, seg2.StartMS, seg2.EndMS = 1, 6000, 12000
		e.ok(e.s.SaveListening(e.ctx, []nineten.ListenSession{{ID: r1, LastSeq: 2, HeardMS: 12_000, PositionMS: 12_000, LastReportAt: month.Add(time.Hour)}}, []nineten.ServedSegment{seg2}))
		segs, err := e.s.ServedSegments(e.ctx, r1)
		e.ok(err)
		e.same("segments served", []nineten.ServedSegment{seg, seg2}, segs)
		stale := nineten.ListenSession{ID: r1, LastSeq: 1, HeardMS: 1}
		e.wantKind(e.s.UpdateListenProgress(e.ctx, &stale), nineten.KindConflict)

		listen := func(id string, tr *nineten.RemoteTrack, at time.Time, heard int64) {
			e.Helper()
			l := &nineten.Listen{SessionID: id, RemoteTrackID: tr.ID, UserID: ann.ID, StartedAt: at, HeardMS: heard, Status: nineten.ListenVerified, VerifiedAt: at.Add(time.Minute)}
			e.ok(e.s.SaveListen(e.ctx, l))
			e.same("stored listen's track", tr.ID, l.RemoteTrackID)
		}
		listen(r1, paid, month.Add(time.Hour), 40_000)
		listen(r2, paid, month.Add(3*time.Hour), 50_000)
		listen(r3, unpaid, month.Add(4*time.Hour), 60_000)
		l, err := e.s.ListenBySession(e.ctx, r2)
		e.ok(err)
		if l.RemoteTrackID != paid.ID || l.TrackID != 0 || l.HeardMS != 50_000 {
			e.Fatalf("listen of a remote session: %+v", l)
		}
		e.listenSession("local-1", local.ID, ann.ID, month.Add(2*time.Hour))
		e.ok(e.s.SaveListen(e.ctx, &nineten.Listen{SessionID: "local-1", TrackID: local.ID, UserID: ann.ID, StartedAt: month.Add(2 * time.Hour), HeardMS: 45_000, Status: nineten.ListenVerified}))

		recent, err := e.s.RecentListens(e.ctx, ann.ID, 3)
		e.ok(err)
		var titles []string
		for _, l := range recent {
			switch {
			case l.Track != nil:
				titles = append(titles, l.Track.Title)
			case l.Remote != nil:
				titles = append(titles, l.Remote.Title)
			}
		}
		e.same("history, newest first, local and remote", []string{"Unpaid", "Paid", "Local"}, titles)

		q := nineten.TotalsQuery{From: month, To: month.AddDate(0, 1, 0), MinHeardMS: 30_000}
		var totals []nineten.ListenerArtistTotal
		e.ok(e.s.ListeningTotals(e.ctx, q, func(t nineten.ListenerArtistTotal) error {
			totals = append(totals, t)
			return nil
		}))
		e.same("totals", []nineten.ListenerArtistTotal{
			{UserID: ann.ID, ArtistID: local.ArtistID, Listens: 1, HeardMS: 45_000},
			{UserID: ann.ID, Payee: "b.example/3", Listens: 2, HeardMS: 90_000},
		}, totals)
	}},
}
