package report_test

import (
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/report"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// remoteListen records a listen of a track of another server played
// through the node, as listen.StartRemote and the verifier leave it.
func (w *world) remoteListen(u *nineten.User, tr *nineten.RemoteTrack, at time.Time, heardMS int64, status nineten.ListenStatus) {
	w.t.Helper()
	w.seq++
	id := nineten.RemoteSessionPrefix + strconv.Itoa(w.seq)
	ok(w.t, w.db.SaveRemoteTrack(w.t.Context(), tr))
	ok(w.t, w.db.CreateListenSession(w.t.Context(), &nineten.ListenSession{ID: id, RemoteTrackID: tr.ID, UserID: u.ID, StartedAt: at}))
	l := &nineten.Listen{SessionID: id, RemoteTrackID: tr.ID, UserID: u.ID, StartedAt: at, HeardMS: heardMS, Status: status, VerifiedAt: at}
	if status != nineten.ListenVerified {
		l.VerifiedAt, l.Reason = time.Time{}, "test"
	}
	ok(w.t, w.db.SaveListen(w.t.Context(), l))
}

// TestReportsCountRemoteListens: plays of other servers' tracks through
// the node are in the daily report — per track under the track's IRI, per
// artist and per listener × artist under the payee its server named — and
// so in the monthly report and the settlement's totals; a remote listen
// verified after the report is caught by the "verified" check.
func TestReportsCountRemoteListens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		day := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
		w := newWorld(t, db, day.AddDate(0, 0, 1).Add(time.Hour))
		a, at := w.artist("a", 1)
		u1, u2 := w.user("u1"), w.user("u2")
		const payee = "far.example/3"
		x := &nineten.RemoteTrack{IRI: "https://far.example/tracks/7", Payee: payee, DurationMS: 200_000}
		y := &nineten.RemoteTrack{IRI: "https://far.example/tracks/8", Payee: payee, DurationMS: 200_000}
		noPayee := &nineten.RemoteTrack{IRI: "https://other.example/t/1", DurationMS: 200_000}
		v := nineten.ListenVerified
		h := func(n int) time.Time { return day.Add(time.Duration(n) * time.Hour) }
		w.listen(u1, at[0], h(1), 40_000, v)
		w.remoteListen(u1, x, h(2), 50_000, v)
		w.remoteListen(u1, y, h(3), 60_000, v)
		w.remoteListen(u2, x, h(4), 31_000, v)
		// None of these count: too short, not verified, no payee, the day after.
		w.remoteListen(u1, x, h(5), 29_999, v)
		w.remoteListen(u2, y, h(6), 90_000, nineten.ListenUnverified)
		w.remoteListen(u2, noPayee, h(7), 90_000, v)
		w.remoteListen(u2, y, h(24), 90_000, v)

		r, err := w.reports.Daily(ctx, "2025-06-03", nil)
		ok(t, err)
		if r.Listens != 4 || r.Listeners != 2 {
			t.Fatalf("stored report = %+v; want 4 listens by 2 listeners", r)
		}
		_, d := w.open(r)
		wantTracks := []report.Group{
			{Track: at[0].ID, Artist: a.ID, Listens: 1, HeardMS: 40_000, Listeners: 1},
			{RemoteTrack: x.IRI, Payee: payee, Listens: 2, HeardMS: 81_000, Listeners: 2},
			{RemoteTrack: y.IRI, Payee: payee, Listens: 1, HeardMS: 60_000, Listeners: 1},
		}
		wantArtists := []report.Group{
			{Artist: a.ID, Listens: 1, HeardMS: 40_000, Listeners: 1},
			{Payee: payee, Listens: 3, HeardMS: 141_000, Listeners: 2},
		}
		wantTotals := report.Group{Listens: 4, HeardMS: 181_000, Listeners: 2}
		if !slices.Equal(d.Tracks, wantTracks) || !slices.Equal(d.Artists, wantArtists) || d.Totals != wantTotals {
			t.Fatalf("daily report:\ntracks  %+v\nartists %+v\ntotals  %+v", d.Tracks, d.Artists, d.Totals)
		}
		var lines []string
		for _, l := range d.Listening {
			lines = append(lines, fmt.Sprintf("%d%s:%d/%d", l.Artist, l.Payee, l.Listens, l.HeardMS))
		}
		slices.Sort(lines)
		want := []string{"0far.example/3:1/31000", "0far.example/3:2/110000", fmt.Sprintf("%d:1/40000", a.ID)}
		slices.Sort(want)
		if !slices.Equal(lines, want) {
			t.Fatalf("listener × artist lines %v; want %v", lines, want)
		}

		w.clock.Add(time.Date(2025, 7, 1, 1, 0, 0, 0, time.UTC).Sub(w.clock.Now()))
		c, err := w.reports.Monthly(ctx, "2025-06", nil)
		ok(t, err)
		ok(t, c.Err())
		if !slices.Equal(c.Monthly.Artists, []report.Group{wantArtists[0], {Payee: payee, Listens: 4, HeardMS: 231_000, Listeners: 2}}) {
			t.Fatalf("monthly artists %+v", c.Monthly.Artists)
		}
		totals, err := w.reports.SettlementTotals(ctx, "2025-06", nil)
		ok(t, err)
		id := func(u *nineten.User) string { return strconv.FormatInt(int64(u.ID), 10) }
		wantTotals2 := []nineten.ListeningTotal{
			{Listener: id(u1), Artist: node + "/" + strconv.FormatInt(int64(a.ID), 10), Listens: 1, SecondsHeard: 40},
			{Listener: id(u1), Artist: payee, Listens: 2, SecondsHeard: 110},
			{Listener: id(u2), Artist: payee, Listens: 2, SecondsHeard: 121},
		}
		if !slices.Equal(totals, wantTotals2) {
			t.Fatalf("settlement totals %+v\nwant %+v", totals, wantTotals2)
		}

		// A remote listen verified after the reports were made: the month's
		// check says its daily does not count the day's verified listens.
		w.remoteListen(u1, y, h(20), 45_000, v)
		c, err = w.reports.Check(ctx, "2025-06")
		ok(t, err)
		if len(c.Findings) != 1 || c.Findings[0].Check != report.CheckVerified {
			t.Fatalf("findings after a late remote listen: %+v", c.Findings)
		}
	})
}
