package storetest

import (
	"time"

	"nineten.dev"
)

var totalsTests = []test{
	// The month's listening behind the payout: verified listens of
	// logged-in listeners, long enough, inside the month, per listener and
	// artist. Everything else — unverified, anonymous, too short, outside
	// the month — counts for nothing.
	{"ListeningTotals/SumsEligibleListensPerListenerAndArtist", func(e *env) {
		ann, bob := e.user("ann"), e.user("bob")
		owner := e.user("owner")
		a1, a2 := e.artist(owner.ID, "One"), e.artist(owner.ID, "Two")
		t1 := e.track(nineten.Track{ArtistID: a1.ID, Title: "A", DurationMS: 200_000})
		t1b := e.track(nineten.Track{ArtistID: a1.ID, Title: "B", DurationMS: 200_000})
		t2 := e.track(nineten.Track{ArtistID: a2.ID, Title: "C", DurationMS: 200_000})
		month := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
		in := month.Add(36 * time.Hour)
		e.listenAt(ann, t1, month, 40_000, nineten.ListenVerified)                        // first instant of the month counts
		e.listenAt(ann, t1b, in, 100_000, nineten.ListenVerified)                         // same artist, other track
		e.listenAt(ann, t2, in, 30_000, nineten.ListenVerified)                           // exactly the minimum
		e.listenAt(ann, t2, in, 29_999, nineten.ListenVerified)                           // too short
		e.listenAt(ann, t2, in, 90_000, nineten.ListenUnverified)                         // not verified
		e.listenAt(ann, t1, month.Add(-time.Millisecond), 90_000, nineten.ListenVerified) // the month before
		e.listenAt(ann, t1, month.AddDate(0, 1, 0), 90_000, nineten.ListenVerified)       // the month after
		e.listenAt(nil, t1, in, 90_000, nineten.ListenVerified)                           // anonymous
		e.listenAt(bob, t2, in, 60_000, nineten.ListenVerified)

		q := nineten.TotalsQuery{From: month, To: month.AddDate(0, 1, 0), MinHeardMS: 30_000}
		var got []nineten.ListenerArtistTotal
		e.ok(e.s.ListeningTotals(e.ctx, q, func(t nineten.ListenerArtistTotal) error {
			got = append(got, t)
			return nil
		}))
		want := []nineten.ListenerArtistTotal{
			{UserID: ann.ID, ArtistID: a1.ID, Listens: 2, HeardMS: 140_000},
			{UserID: ann.ID, ArtistID: a2.ID, Listens: 1, HeardMS: 30_000},
			{UserID: bob.ID, ArtistID: a2.ID, Listens: 1, HeardMS: 60_000},
		}
		e.same("month totals", want, got)

		q.UserID = bob.ID
		got = nil
		e.ok(e.s.ListeningTotals(e.ctx, q, func(t nineten.ListenerArtistTotal) error {
			got = append(got, t)
			return nil
		}))
		e.same("bob's totals", want[2:], got)
	}},
}
