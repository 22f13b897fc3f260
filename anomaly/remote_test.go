package anomaly_test

import (
	"crypto/rand"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/anomaly"
	"nineten.dev/report"
	"nineten.dev/seal"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// remoteListen records a verified listen of 200 s of another server's
// track played through the node, from device.
func (w *world) remoteListen(u *nineten.User, tr *nineten.RemoteTrack, start time.Time, device string) {
	w.t.Helper()
	w.seq++
	id := fmt.Sprintf("%ss%d", nineten.RemoteSessionPrefix, w.seq)
	w.ok(w.db.SaveRemoteTrack(w.t.Context(), tr))
	w.ok(w.db.CreateListenSession(w.t.Context(), &nineten.ListenSession{ID: id, RemoteTrackID: tr.ID, UserID: u.ID, StartedAt: start,
		HeardMS: 200_000, Network: "net-" + u.Username, Device: device}))
	w.ok(w.db.SaveListen(w.t.Context(), &nineten.Listen{SessionID: id, RemoteTrackID: tr.ID, UserID: u.ID, StartedAt: start,
		HeardMS: 200_000, Status: nineten.ListenVerified, VerifiedAt: start.Add(200 * time.Second)}))
}

// A farm of six accounts sharing one browser replays a track of another
// server through the node: the detector flags it like a farm on a local
// track, its listens leave the monthly listening report — and with it the
// settlement's totals — while the flag awaits review or is confirmed, and
// return to both when an admin clears it. The listeners see the flag.
func TestRemoteFarmIsHeldOutOfTheReportedTotals(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := newWorld(t, db, time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC))
		w.ok(w.pay.Tick(ctx)) // opens June
		hit := w.track("hit")
		const payee = "far.example/9"
		far := &nineten.RemoteTrack{IRI: "https://far.example/tracks/4", Payee: payee, DurationMS: 200_000}
		ann := w.subscriber("ann", nineten.RoleListener)
		admin := w.subscriber("root", nineten.RoleAdmin)
		var farm []*nineten.User
		for i := range 6 {
			farm = append(farm, w.subscriber(fmt.Sprintf("bot%d", i), nineten.RoleListener))
		}
		w.ok(w.pay.Tick(ctx))
		june10 := time.Date(2025, 6, 10, 0, 0, 0, 0, time.UTC)
		for i := range 5 {
			w.listen(ann, hit, june10.Add(time.Duration(10*60+4*i)*time.Minute), "ann-phone")
		}
		for i, bot := range farm {
			for j := range 3 {
				w.remoteListen(bot, far, june10.Add(time.Duration(i)*time.Hour+time.Duration(4*j)*time.Minute), "farm-browser")
			}
		}

		cipher, err := seal.Load(filepath.Join(t.TempDir(), "node.age"))
		w.ok(err)
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		reports := &report.Service{Store: db, Ledger: w.pay.Ledger, Cipher: cipher, Clock: w.clock, Node: node, Secret: secret,
			BeforeDaily: w.detect.EnsureDay}
		w.pay.Listening = reports.SettlementTotals
		w.clock.Add(time.Date(2025, 7, 2, 12, 0, 0, 0, time.UTC).Sub(w.clock.Now()))

		remoteTotals := func() (listeners int) {
			t.Helper()
			totals, err := reports.SettlementTotals(ctx, "2025-06", nil)
			w.ok(err)
			for _, l := range totals {
				if l.Artist == payee {
					listeners++
				}
			}
			return listeners
		}
		before := w.preview()
		if before.Paid != 1 || before.ToArtists != 9_000_000 || remoteTotals() != 0 {
			t.Fatalf("preview with the remote farm held: paid %d, to artists %s; want 1 (ann), 9.000000", before.Paid, before.ToArtists)
		}
		flags, err := db.AnomalyFlags(ctx, nineten.FlagQuery{Status: nineten.FlagHeld})
		w.ok(err)
		if len(flags) != 1 || flags[0].Rule != anomaly.RuleSharedDevice || flags[0].Listens != 18 || len(flags[0].Listeners) != 6 ||
			!flags[0].Day.Equal(june10) {
			t.Fatalf("flags: %+v", flags)
		}
		mine, err := db.AnomalyFlags(ctx, nineten.FlagQuery{UserID: farm[2].ID})
		w.ok(err)
		if len(mine) != 1 || mine[0].ID != flags[0].ID {
			t.Fatalf("the flags a farm account sees: %+v", mine)
		}
		c, err := reports.Check(ctx, "2025-06")
		w.ok(err)
		w.ok(c.Err())
		daily, err := db.Report(ctx, report.DailyID("2025-06-10"))
		w.ok(err)
		if daily.Listens != 5 {
			t.Fatalf("June 10's report counts %d listens; want ann's 5, the farm's held", daily.Listens)
		}
		holds, err := db.ListenHolds(ctx, nineten.HoldQuery{From: june10, To: june10.AddDate(0, 0, 1), MinHeardMS: nineten.MinEligibleListenMS})
		w.ok(err)
		if !slices.Equal(holds, []nineten.ListenHoldCount{{Hold: nineten.HoldNone, Listens: 5, HeardMS: 1_000_000}, {Hold: nineten.HoldReview, Listens: 18, HeardMS: 3_600_000}}) {
			t.Fatalf("June 10's listens by hold: %+v", holds)
		}

		_, err = w.detect.Review(ctx, admin, []nineten.ID{flags[0].ID}, nineten.FlagConfirmed)
		w.ok(err)
		if got := w.preview(); got.Digest != before.Digest {
			t.Errorf("confirmed fake remote listens changed the preview: %+v", got)
		}
		_, err = w.detect.Review(ctx, admin, []nineten.ID{flags[0].ID}, nineten.FlagCleared)
		w.ok(err)
		after := w.preview()
		if after.Paid != 7 || after.ToArtists != 63_000_000 || remoteTotals() != 6 {
			t.Errorf("preview with the flag cleared: paid %d, to artists %s; want 7, 63.000000, with the six under %s", after.Paid, after.ToArtists, payee)
		}
		if n, err := w.detect.DetectDay(ctx, june10); err != nil || n != 0 {
			t.Fatalf("detecting again after the review: %d, %v", n, err)
		}
		if got := w.preview(); got.Digest != after.Digest {
			t.Errorf("detection after a review changed the preview")
		}
	})
}
