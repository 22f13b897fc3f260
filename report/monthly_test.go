package report_test

import (
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/payout"
	"nineten.dev/report"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// TestDailyIsIdempotentAndVersioned: making a day again changes nothing;
// a listen verified late makes version 2 on the ledger, which still
// verifies.
func TestDailyIsIdempotentAndVersioned(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := newWorld(t, db, time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC))
		first := dayWithListening(t, w)
		head, _, err := db.LedgerHead(ctx)
		ok(t, err)
		again, err := w.reports.Daily(ctx, "2025-06-03", nil)
		ok(t, err)
		if again.Hash != first.Hash || again.Version != 1 {
			t.Fatalf("made again: %s v%d; want %s v1", again.Hash, again.Version, first.Hash)
		}
		if h, _, _ := db.LedgerHead(ctx); h != head {
			t.Fatalf("making the same report again wrote ledger entries %d..%d", head+1, h)
		}

		_, at := w.artist("late", 1)
		w.listen(w.user("late"), at[0], time.Date(2025, 6, 3, 23, 0, 0, 0, time.UTC), 45_000, nineten.ListenVerified)
		second, err := w.reports.Daily(ctx, "2025-06-03", nil)
		ok(t, err)
		if second.Version != 2 || second.Hash == first.Hash || second.Listens != 4 {
			t.Fatalf("after a late listen: %+v", second)
		}
		anchors, err := w.ledger.ReportAnchors(ctx, "daily-2025-06-03")
		ok(t, err)
		if len(anchors) != 2 || anchors[0].Hash != first.Hash || anchors[1].Hash != second.Hash || anchors[1].Signer != w.reports.Signer() {
			t.Fatalf("anchors = %+v", anchors)
		}
		// Another process anchored its own sealing of the same day last,
		// but stored first: the stored file is anchored again as the latest.
		other := strings.Repeat("e", 64)
		_, err = w.ledger.AnchorReport(ctx, nineten.ReportAnchor{ID: "daily-2025-06-03", Day: "2025-06-03", Hash: other, Signer: w.reports.Signer()})
		ok(t, err)
		healed, err := w.reports.Daily(ctx, "2025-06-03", nil)
		ok(t, err)
		anchors, err = w.ledger.ReportAnchors(ctx, "daily-2025-06-03")
		ok(t, err)
		if healed.Hash != second.Hash || healed.Version != 4 || len(anchors) != 4 || anchors[3].Hash != second.Hash {
			t.Fatalf("after another process's version: stored %s v%d, anchors %+v", healed.Hash, healed.Version, anchors)
		}
		if _, err := (&embedded.Ledger{Store: db}).Verify(ctx, w.key.Public().(ed25519.PublicKey), nil); err != nil {
			t.Fatalf("ledger verify after anchoring: %v", err)
		}
	})
}

// month fills June 2025 with listening over several days.
func month(t *testing.T, w *world) (users []*nineten.User) {
	t.Helper()
	_, at := w.artist("a", 2)
	_, bt := w.artist("b", 1)
	for i := range 5 {
		users = append(users, w.user("u"+string(rune('1'+i))))
	}
	june := time.Date(2025, 6, 1, 0, 0, 0, 0, time.UTC)
	for d := range 30 {
		if d%4 == 3 {
			continue // quiet days are reported too, empty
		}
		day := june.AddDate(0, 0, d)
		for i, u := range users {
			w.listen(u, at[(d+i)%2], day.Add(time.Duration(i)*time.Hour), int64(30_000+1000*d+i), nineten.ListenVerified)
			if (d+i)%3 == 0 {
				w.listen(u, bt[0], day.Add(time.Duration(i)*time.Hour+time.Minute), int64(40_000+d*i), nineten.ListenVerified)
			}
		}
		w.listen(users[0], bt[0], day.Add(20*time.Hour), 10_000, nineten.ListenVerified) // too short
	}
	return users
}

// TestMonthlyFeedsTheSettlement: the monthly report passes its checks and
// its totals are exactly what the settlement read from the store before.
func TestMonthlyFeedsTheSettlement(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := newWorld(t, db, time.Date(2025, 7, 2, 3, 0, 0, 0, time.UTC))
		month(t, w)
		var days []string
		c, err := w.reports.Monthly(ctx, "2025-06", func(day string) { days = append(days, day) })
		ok(t, err)
		if len(days) != 30 || days[0] != "2025-06-01" || days[29] != "2025-06-30" {
			t.Fatalf("progress over days %v", days)
		}
		ok(t, c.Err())
		if c.Report.ID != "monthly-2025-06" || c.Report.Version != 1 || len(c.Monthly.Dailies) != 30 {
			t.Fatalf("monthly report %+v with %d dailies", c.Report, len(c.Monthly.Dailies))
		}
		fromReport, err := w.reports.SettlementTotals(ctx, "2025-06", nil)
		ok(t, err)
		fromStore, err := (&payout.Service{Store: db, Node: node}).Totals(ctx, "2025-06", nil)
		ok(t, err)
		if len(fromStore) != 10 || len(fromReport) != len(fromStore) {
			t.Fatalf("%d totals from the report, %d from the store", len(fromReport), len(fromStore))
		}
		for i := range fromStore {
			if fromReport[i] != fromStore[i] {
				t.Fatalf("total %d: %+v from the report, %+v from the store", i, fromReport[i], fromStore[i])
			}
		}
		// Made again: the same report, nothing new on the ledger.
		again, err := w.reports.Monthly(ctx, "2025-06", nil)
		ok(t, err)
		if again.Report.Hash != c.Report.Hash || again.Report.Version != 1 {
			t.Fatalf("made again: %+v", again.Report)
		}
		// Not before the month is over.
		if _, err := w.reports.Monthly(ctx, "2025-07", nil); nineten.ErrorKind(err) != nineten.KindConflict {
			t.Fatalf("the monthly report of the current month: %v", err)
		}
	})
}

// TestMonthlyChecksCatchTampering alters what the monthly report was
// compiled from, in three ways, and checks that the checks say so.
func TestMonthlyChecksCatchTampering(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := newWorld(t, db, time.Date(2025, 7, 2, 3, 0, 0, 0, time.UTC))
		users := month(t, w)
		c, err := w.reports.Monthly(ctx, "2025-06", nil)
		ok(t, err)
		ok(t, c.Err())
		wantFinding := func(check, contains string) {
			t.Helper()
			c, err := w.reports.Check(ctx, "2025-06")
			ok(t, err)
			for _, f := range c.Findings {
				if f.Check == check && strings.Contains(f.Problem, contains) {
					if c.Err() == nil {
						t.Fatal("findings but no error")
					}
					return
				}
			}
			t.Fatalf("no %s finding about %q in %+v", check, contains, c.Findings)
		}

		// 1. A byte of a stored daily report changed in the database.
		r, err := db.Report(ctx, "daily-2025-06-05")
		ok(t, err)
		saved := r.File
		r.File = append([]byte(nil), saved...)
		r.File[len(r.File)/2] ^= 0x20
		ok(t, db.SaveReport(ctx, r))
		wantFinding(report.CheckSignature, "daily-2025-06-05")
		r.File = saved
		ok(t, db.SaveReport(ctx, r))
		again, err := w.reports.Check(ctx, "2025-06")
		ok(t, err)
		ok(t, again.Err())

		// 2. A listen that the daily report does not count.
		_, at := w.artist("x", 1)
		w.listen(users[1], at[0], time.Date(2025, 6, 9, 12, 0, 0, 0, time.UTC), 50_000, nineten.ListenVerified)
		wantFinding(report.CheckVerified, "2025-06-09")

		// 3. The daily made again: the monthly report was compiled from
		// another version.
		_, err = w.reports.Daily(ctx, "2025-06-09", nil)
		ok(t, err)
		wantFinding(report.CheckAnchor, "daily-2025-06-09")

		// The settlement refuses a month whose report fails... until the
		// monthly report is made again from the dailies as they are.
		c, err = w.reports.Monthly(ctx, "2025-06", nil)
		ok(t, err)
		ok(t, c.Err())
		if c.Report.Version != 2 {
			t.Fatalf("the monthly report made again is version %d", c.Report.Version)
		}
	})
}

// TestCheckMonthCatchesBadSums runs the pure checks a peer runs on
// decrypted reports that do not add up.
func TestCheckMonthCatchesBadSums(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := newWorld(t, db, time.Date(2025, 7, 2, 3, 0, 0, 0, time.UTC))
		month(t, w)
		c, err := w.reports.Monthly(ctx, "2025-06", nil)
		ok(t, err)
		var dailies []*report.Daily
		for _, ref := range c.Monthly.Dailies {
			r, err := db.Report(ctx, ref.ID)
			ok(t, err)
			_, d := w.open(r)
			dailies = append(dailies, d)
		}
		if f := report.CheckMonth(c.Monthly, dailies); len(f) != 0 {
			t.Fatalf("findings on an honest month: %+v", f)
		}
		m := *c.Monthly
		m.Totals.Listens++
		if f := report.CheckMonth(&m, dailies); len(f) != 1 || f[0].Check != report.CheckSum {
			t.Fatalf("a monthly total one listen too high: %+v", f)
		}
		d := *dailies[4]
		d.Pseudonyms = "0000000000000000"
		d.Listening = append(d.Listening[:1:1], d.Listening...)
		changed := append(dailies[:4:4], &d)
		changed = append(changed, dailies[5:]...)
		checks := map[string]bool{}
		for _, f := range report.CheckMonth(c.Monthly, changed) {
			checks[f.Check] = true
		}
		if !checks[report.CheckPseudonyms] || !checks[report.CheckSum] {
			t.Fatalf("a daily under another key with a line twice: %v", checks)
		}
		if f := report.CheckMonth(c.Monthly, dailies[1:]); len(f) != 1 || f[0].Check != report.CheckComplete {
			t.Fatalf("a day missing: %+v", f)
		}
	})
}

// TestTickMakesWhatIsDue: after midnight (and the delay) the day before is
// reported; on the 1st the month before is compiled; nothing twice.
func TestTickMakesWhatIsDue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := newWorld(t, db, time.Date(2025, 6, 3, 0, 30, 0, 0, time.UTC))
		_, at := w.artist("a", 1)
		u := w.user("u")
		w.listen(u, at[0], time.Date(2025, 6, 2, 23, 59, 0, 0, time.UTC), 60_000, nineten.ListenVerified)
		ok(t, w.reports.Tick(ctx))
		if _, err := db.Report(ctx, "daily-2025-06-02"); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Fatalf("the report of June 2nd at 00:30 on the 3rd: %v; want none yet", err)
		}
		w.clock.Add(time.Hour)
		ok(t, w.reports.Tick(ctx))
		r, err := db.Report(ctx, "daily-2025-06-02")
		ok(t, err)
		if r.Listens != 1 || r.Version != 1 {
			t.Fatalf("June 2nd: %+v", r)
		}
		list, err := db.Reports(ctx, nineten.ReportDaily, "2025-05-01", "2025-06-30")
		ok(t, err)
		if len(list) != 31+2 || list[0].Day != "2025-05-01" {
			t.Fatalf("%d daily reports, first %+v; want May and June 1st and 2nd", len(list), list[0])
		}
		head, _, _ := db.LedgerHead(ctx)
		ok(t, w.reports.Tick(ctx))
		if h, _, _ := db.LedgerHead(ctx); h != head {
			t.Fatal("a second tick wrote to the ledger")
		}
		w.clock.Add(29 * 24 * time.Hour) // July 2nd, 01:30
		ok(t, w.reports.Tick(ctx))
		m, err := db.Report(ctx, "monthly-2025-06")
		ok(t, err)
		if m.Listens != 1 || m.Version != 1 {
			t.Fatalf("June: %+v", m)
		}
		// May was compiled at the first tick already.
		if _, err := db.Report(ctx, "monthly-2025-05"); err != nil {
			t.Fatal(err)
		}
	})
}
