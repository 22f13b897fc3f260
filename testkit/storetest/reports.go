package storetest

import (
	"fmt"
	"time"

	"nineten.dev"
)

// listenAt stores one listen of u (anonymous when nil) to tr and returns
// its id.
func (e *env) listenAt(u *nineten.User, tr *nineten.Track, start time.Time, heard int64, status nineten.ListenStatus) nineten.ID {
	e.Helper()
	id := fmt.Sprintf("r%d-%d", tr.ID, start.UnixNano()+heard)
	var uid nineten.ID
	anon := ""
	if u != nil {
		uid = u.ID
	} else {
		anon = "browser-" + id
	}
	e.ok(e.s.CreateListenSession(e.ctx, &nineten.ListenSession{ID: id, TrackID: tr.ID, UserID: uid, AnonID: anon, StartedAt: start}))
	l := &nineten.Listen{SessionID: id, TrackID: tr.ID, UserID: uid, AnonID: anon, StartedAt: start, HeardMS: heard, Status: status}
	if status == nineten.ListenVerified {
		l.VerifiedAt = start.Add(time.Duration(heard) * time.Millisecond)
	} else {
		l.Reason = "test"
	}
	e.ok(e.s.SaveListen(e.ctx, l))
	got, err := e.s.ListenBySession(e.ctx, id)
	e.ok(err)
	return got.ID
}

var reportTests = []test{
	// A day's listening per listener and track: the same listens as the
	// month's totals (verified, logged in, long enough), inside the day.
	{"DailyListening/PerListenerAndTrackInsideTheDay", func(e *env) {
		ann, bob := e.user("ann"), e.user("bob")
		owner := e.user("owner")
		a1, a2 := e.artist(owner.ID, "One"), e.artist(owner.ID, "Two")
		t1 := e.track(nineten.Track{ArtistID: a1.ID, Title: "A", DurationMS: 200_000})
		t1b := e.track(nineten.Track{ArtistID: a1.ID, Title: "B", DurationMS: 200_000})
		t2 := e.track(nineten.Track{ArtistID: a2.ID, Title: "C", DurationMS: 200_000})
		day := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
		e.listenAt(ann, t1, day, 40_000, nineten.ListenVerified)
		e.listenAt(ann, t1, day.Add(time.Hour), 50_000, nineten.ListenVerified)
		e.listenAt(ann, t1b, day.Add(2*time.Hour), 100_000, nineten.ListenVerified)
		e.listenAt(ann, t2, day.Add(3*time.Hour), 29_999, nineten.ListenVerified)       // too short
		e.listenAt(ann, t2, day.Add(4*time.Hour), 90_000, nineten.ListenUnverified)     // not verified
		e.listenAt(ann, t1, day.Add(-time.Millisecond), 90_000, nineten.ListenVerified) // the day before
		e.listenAt(ann, t1, day.Add(24*time.Hour), 90_000, nineten.ListenVerified)      // the day after
		e.listenAt(nil, t1, day.Add(time.Hour), 90_000, nineten.ListenVerified)         // anonymous
		e.listenAt(bob, t2, day.Add(24*time.Hour-time.Millisecond), 60_000, nineten.ListenVerified)
		// Held by a fake-stream flag: out until an admin clears it.
		held := e.listenAt(bob, t1, day.Add(5*time.Hour), 60_000, nineten.ListenVerified)
		_, err := e.s.SaveAnomalyFlags(e.ctx, []nineten.AnomalyFlag{{Rule: "test", Subject: "listener:bob", Day: day, Score: 90, Summary: "test", ListenIDs: []nineten.ID{held}, CreatedAt: day}})
		e.ok(err)

		var got []nineten.DayListening
		e.ok(e.s.DailyListening(e.ctx, day, day.Add(24*time.Hour), 30_000, func(d nineten.DayListening) error {
			got = append(got, d)
			return nil
		}))
		e.same("the day's listening", []nineten.DayListening{
			{UserID: ann.ID, TrackID: t1.ID, ArtistID: a1.ID, Listens: 2, HeardMS: 90_000},
			{UserID: ann.ID, TrackID: t1b.ID, ArtistID: a1.ID, Listens: 1, HeardMS: 100_000},
			{UserID: bob.ID, TrackID: t2.ID, ArtistID: a2.ID, Listens: 1, HeardMS: 60_000},
		}, got)
	}},
	{"Reports/SaveReplaceAndList", func(e *env) {
		_, err := e.s.Report(e.ctx, "daily-2025-06-03")
		e.wantKind(err, nineten.KindNotFound)
		at := t0.Add(time.Hour)
		d1 := &nineten.StoredReport{ID: "daily-2025-06-03", Kind: nineten.ReportDaily, Day: "2025-06-03", Version: 1, Hash: "h1", Content: "c1",
			File: []byte{0, 1, 2, 255}, Listens: 7, Listeners: 3, Suppressed: 2, CreatedAt: at}
		e.ok(e.s.SaveReport(e.ctx, d1))
		d2 := &nineten.StoredReport{ID: "daily-2025-06-01", Kind: nineten.ReportDaily, Day: "2025-06-01", Hash: "h0", Content: "c0", File: []byte("x"), CreatedAt: at}
		e.ok(e.s.SaveReport(e.ctx, d2))
		m := &nineten.StoredReport{ID: "monthly-2025-06", Kind: nineten.ReportMonthly, Day: "2025-06", Hash: "m", Content: "cm", File: []byte("m"), CreatedAt: at}
		e.ok(e.s.SaveReport(e.ctx, m))
		got, err := e.s.Report(e.ctx, d1.ID)
		e.ok(err)
		e.same("stored report", d1, got)

		d1.Version, d1.Hash, d1.File, d1.Suppressed = 2, "h2", []byte("new"), 0
		e.ok(e.s.SaveReport(e.ctx, d1))
		got, err = e.s.Report(e.ctx, d1.ID)
		e.ok(err)
		e.same("replaced report", d1, got)

		list, err := e.s.Reports(e.ctx, nineten.ReportDaily, "2025-06-01", "2025-06-30")
		e.ok(err)
		d1.File, d2.File = nil, nil
		e.same("daily reports of June", []nineten.StoredReport{*d2, *d1}, list)
		list, err = e.s.Reports(e.ctx, nineten.ReportDaily, "2025-06-02", "2025-06-02")
		e.ok(err)
		e.same("no report that day", []nineten.StoredReport(nil), list)
	}},
}
