package report_test

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/report"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// TestDailyKnownAnswer aggregates a day worked out by hand, with K = 3.
func TestDailyKnownAnswer(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		day := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
		w := newWorld(t, db, day.AddDate(0, 0, 1).Add(2*time.Hour))
		a, at := w.artist("a", 2)
		b, bt := w.artist("b", 1)
		c, ct := w.artist("c", 1)
		u1, u2, u3, u4 := w.user("u1"), w.user("u2"), w.user("u3"), w.user("u4")
		v := nineten.ListenVerified
		h := func(n int) time.Time { return day.Add(time.Duration(n) * time.Hour) }
		w.listen(u1, at[0], h(1), 40_000, v)
		w.listen(u1, at[0], h(2), 50_000, v)
		w.listen(u1, at[1], h(3), 100_000, v)
		w.listen(u1, bt[0], h(4), 60_000, v)
		w.listen(u2, at[0], h(5), 30_000, v)
		w.listen(u2, bt[0], h(6), 45_000, v)
		w.listen(u3, at[0], h(7), 35_000, v)
		w.listen(u3, ct[0], day.Add(24*time.Hour-time.Millisecond), 200_000, v)
		w.listen(u4, at[1], h(0), 31_000, v)
		// None of these count: too short, anonymous, not verified, the day before.
		w.listen(u1, bt[0], h(8), 29_999, v)
		w.listen(nil, at[0], h(9), 90_000, v)
		w.listen(u2, at[1], h(10), 90_000, nineten.ListenUnverified)
		w.listen(u4, at[0], day.Add(-time.Millisecond), 90_000, v)

		var seen []int
		r, err := w.reports.Daily(t.Context(), "2025-06-03", func(n int) { seen = append(seen, n) })
		ok(t, err)
		if len(seen) == 0 || seen[len(seen)-1] != 8 {
			t.Fatalf("progress %v; want it to end at the 8 listener × track rows", seen)
		}
		if r.ID != "daily-2025-06-03" || r.Version != 1 || r.Listens != 9 || r.Listeners != 4 || r.Suppressed != 5 {
			t.Fatalf("stored report = %+v", r)
		}
		f, d := w.open(r)

		wantTracks := []report.Group{
			{Track: at[0].ID, Artist: a.ID, Listens: 4, HeardMS: 155_000, Listeners: 3},
			{Track: at[1].ID, Artist: a.ID, Listens: 2, HeardMS: 131_000, Listeners: 2},
			{Track: bt[0].ID, Artist: b.ID, Listens: 2, HeardMS: 105_000, Listeners: 2},
			{Track: ct[0].ID, Artist: c.ID, Listens: 1, HeardMS: 200_000, Listeners: 1},
		}
		wantArtists := []report.Group{
			{Artist: a.ID, Listens: 6, HeardMS: 286_000, Listeners: 4},
			{Artist: b.ID, Listens: 2, HeardMS: 105_000, Listeners: 2},
			{Artist: c.ID, Listens: 1, HeardMS: 200_000, Listeners: 1},
		}
		wantTotals := report.Group{Listens: 9, HeardMS: 591_000, Listeners: 4}
		if !slices.Equal(d.Tracks, wantTracks) || !slices.Equal(d.Artists, wantArtists) || d.Totals != wantTotals {
			t.Fatalf("daily report:\ntracks  %+v\nartists %+v\ntotals  %+v", d.Tracks, d.Artists, d.Totals)
		}
		// Each listener's lines, under a pseudonym: 32 hex digits, no id.
		pseudonym := regexp.MustCompile(`^[0-9a-f]{32}$`)
		byListener := map[string][]string{}
		for _, l := range d.Listening {
			if !pseudonym.MatchString(l.Listener) {
				t.Fatalf("listener %q is not a pseudonym", l.Listener)
			}
			byListener[l.Listener] = append(byListener[l.Listener], fmt.Sprintf("%d:%d/%d", l.Artist, l.Listens, l.HeardMS))
		}
		var got []string
		for _, lines := range byListener {
			got = append(got, strings.Join(lines, " "))
		}
		slices.Sort(got)
		want := []string{
			fmt.Sprintf("%d:1/30000 %d:1/45000", a.ID, b.ID),
			fmt.Sprintf("%d:1/31000", a.ID),
			fmt.Sprintf("%d:1/35000 %d:1/200000", a.ID, c.ID),
			fmt.Sprintf("%d:3/190000 %d:1/60000", a.ID, b.ID),
		}
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Fatalf("per listener × artist:\n got %q\nwant %q", got, want)
		}

		// Published: only groups of at least 3 listeners; 5 left out.
		s := f.Header.Summary
		if s.K != 3 || s.Totals == nil || *s.Totals != wantTotals || s.Suppressed != 5 ||
			!slices.Equal(s.Tracks, wantTracks[:1]) || !slices.Equal(s.Artists, wantArtists[:1]) {
			t.Fatalf("published summary = %+v", s)
		}
		// Nothing in the clear names a listener, a time or an address. The
		// signer and recipients are random keys, which may hold "T0" or
		// "u1" by chance: they are left out of the search.
		head := string(r.File[:strings.IndexByte(string(r.File), '\n')])
		head = strings.NewReplacer(append([]string{f.Header.Signer, ""}, blanks(f.Header.Recipients)...)...).Replace(head)
		for _, l := range d.Listening {
			if strings.Contains(head, l.Listener) {
				t.Fatalf("the header names pseudonym %s", l.Listener)
			}
		}
		if strings.Contains(head, "u1") || strings.Contains(head, "T0") || strings.Contains(head, "listening") {
			t.Fatalf("the header says more than the summary: %s", head)
		}
	})
}

// TestSmallDayPublishesNothing: a day with fewer than K listeners
// publishes no group at all, not even its totals.
func TestSmallDayPublishesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		day := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
		w := newWorld(t, db, day.AddDate(0, 0, 2))
		_, at := w.artist("a", 1)
		u1, u2 := w.user("u1"), w.user("u2")
		w.listen(u1, at[0], day.Add(time.Hour), 60_000, nineten.ListenVerified)
		w.listen(u2, at[0], day.Add(time.Hour), 60_000, nineten.ListenVerified)
		r, err := w.reports.Daily(t.Context(), "2025-06-03", nil)
		ok(t, err)
		f, d := w.open(r)
		s := f.Header.Summary
		if s.Totals != nil || len(s.Tracks) != 0 || len(s.Artists) != 0 || s.Suppressed != 3 {
			t.Fatalf("published summary of a day of 2 listeners = %+v", s)
		}
		if d.Totals.Listens != 2 || len(d.Listening) != 2 {
			t.Fatalf("the sealed report lost listening: %+v", d)
		}
	})
}

// TestPseudonymsLinkDaysNotMonths: a listener has one pseudonym for all
// days of a month and another the next month.
func TestPseudonymsLinkDaysNotMonths(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		w := newWorld(t, db, time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC))
		_, at := w.artist("a", 1)
		u := w.user("u")
		days := []string{"2025-06-03", "2025-06-30", "2025-07-01"}
		var names []string
		for _, day := range days {
			start, _ := report.ParseDay(day)
			w.listen(u, at[0], start.Add(time.Hour), 60_000, nineten.ListenVerified)
			r, err := w.reports.Daily(t.Context(), day, nil)
			ok(t, err)
			_, d := w.open(r)
			if len(d.Listening) != 1 {
				t.Fatalf("%s: %+v", day, d.Listening)
			}
			names = append(names, d.Listening[0].Listener)
		}
		if names[0] != names[1] || names[1] == names[2] {
			t.Fatalf("pseudonyms %q: want June's two the same and July's another", names)
		}
	})
}

// A day's report first lets the fake-stream detector look at the day
// (BeforeDaily), then leaves out the listens its flags hold and counts
// them apart; once an admin clears the flag, the day's next version
// counts them.
func TestDailyLeavesOutHeldListens(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		day := time.Date(2025, 6, 3, 0, 0, 0, 0, time.UTC)
		w := newWorld(t, db, day.AddDate(0, 0, 1).Add(2*time.Hour))
		_, at := w.artist("a", 1)
		u1, u2 := w.user("u1"), w.user("u2")
		w.listen(u1, at[0], day.Add(time.Hour), 40_000, nineten.ListenVerified)
		w.listen(u1, at[0], day.Add(2*time.Hour), 50_000, nineten.ListenVerified)
		w.listen(u2, at[0], day.Add(3*time.Hour), 60_000, nineten.ListenVerified)
		var flagged []time.Time
		w.reports.BeforeDaily = func(ctx context.Context, d time.Time) error {
			flagged = append(flagged, d)
			var ids []nineten.ID
			err := db.DetectionListens(ctx, d, d.AddDate(0, 0, 1), func(l nineten.DetectionListen) error {
				if l.UserID == u1.ID {
					ids = append(ids, l.ListenID)
				}
				return nil
			})
			if err != nil {
				return err
			}
			_, err = db.SaveAnomalyFlags(ctx, []nineten.AnomalyFlag{{Rule: "test", Subject: "listener:u1", Day: d, Score: 90, Summary: "test", ListenIDs: ids}})
			return err
		}
		r, err := w.reports.Daily(ctx, "2025-06-03", nil)
		ok(t, err)
		_, d := w.open(r)
		if len(flagged) != 1 || !flagged[0].Equal(day) {
			t.Fatalf("the detector was asked about %v, want the day", flagged)
		}
		if d.Totals.Listens != 1 || d.Totals.HeardMS != 60_000 || len(d.Listening) != 1 ||
			d.Held != (report.Group{Listens: 2, HeardMS: 90_000}) || d.Excluded != (report.Group{}) {
			t.Fatalf("the day with u1's listens held: totals %+v, lines %+v, held %+v, excluded %+v", d.Totals, d.Listening, d.Held, d.Excluded)
		}
		flags, err := db.AnomalyFlags(ctx, nineten.FlagQuery{})
		ok(t, err)
		_, err = db.ReviewAnomalyFlags(ctx, []nineten.ID{flags[0].ID}, nineten.FlagCleared, 0, w.clock.Now())
		ok(t, err)
		r, err = w.reports.Daily(ctx, "2025-06-03", nil)
		ok(t, err)
		_, d = w.open(r)
		if r.Version != 2 || d.Totals.Listens != 3 || d.Held != (report.Group{}) {
			t.Fatalf("the day once cleared: version %d, totals %+v, held %+v", r.Version, d.Totals, d.Held)
		}
	})
}

// blanks pairs each of rs with "" for a strings.Replacer that drops them.
func blanks(rs []string) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r, "")
	}
	return out
}
