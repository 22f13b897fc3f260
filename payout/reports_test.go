package payout_test

import (
	"crypto/rand"
	"path/filepath"
	"testing"
	"time"

	"nineten.dev/report"
	"nineten.dev/seal"
)

// TestSettlementPaysFromTheVerifiedMonthlyReport: with the node's wiring
// (Listening from the monthly listening report) a month settles exactly as
// it did from the store, and a month whose report fails its checks is not
// settled.
func TestSettlementPaysFromTheVerifiedMonthlyReport(t *testing.T) {
	june := time.Date(2025, 6, 3, 10, 0, 0, 0, time.UTC)
	w := newWorld(t, june)
	ctx := t.Context()
	_, oneSong := w.artist("one")
	_, twoSong := w.artist("two")
	ann, bob := w.user("ann"), w.user("bob")
	w.subscribe(30_000_000, ann, bob)
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	w.listen(ann, oneSong, 200)
	w.listen(ann, twoSong, 77)
	w.clock.Add(26 * time.Hour)
	w.listen(ann, oneSong, 100)
	w.listen(bob, twoSong, 31)

	cipher, err := seal.Load(filepath.Join(t.TempDir(), "node.age"))
	if err != nil {
		t.Fatal(err)
	}
	secret := make([]byte, 32)
	_, _ = rand.Read(secret)
	reports := &report.Service{Store: w.db, Ledger: w.pay.Ledger, Cipher: cipher, Clock: w.clock, Node: node, Secret: secret}

	w.clock.Add(time.Date(2025, 7, 5, 0, 0, 0, 0, time.UTC).Sub(w.clock.Now()))
	fromStore, err := w.pay.Settle(ctx, "2025-06", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	w.pay.Listening = reports.SettlementTotals
	fromReport, err := w.pay.Settle(ctx, "2025-06", true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fromReport.Digest != fromStore.Digest || fromReport.ToArtists != fromStore.ToArtists || fromReport.Paid != 2 || fromReport.Artists != 2 {
		t.Fatalf("from the report: %+v\nfrom the store:  %+v", fromReport, fromStore)
	}

	// A stored daily report altered: the month is not settled.
	r, err := w.db.Report(ctx, "daily-2025-06-04")
	if err != nil {
		t.Fatal(err)
	}
	good := r.File
	r.File = append([]byte(nil), good...)
	r.File[10] ^= 1
	if err := w.db.SaveReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := w.pay.Settle(ctx, "2025-06", false, nil); err == nil {
		t.Fatal("a month whose report fails its checks was settled")
	}
	r.File = good
	if err := w.db.SaveReport(ctx, r); err != nil {
		t.Fatal(err)
	}
	res, err := w.pay.Settle(ctx, "2025-06", false, nil)
	if err != nil || res.Digest != fromStore.Digest {
		t.Fatalf("settling from the intact report: %+v, %v", res, err)
	}
}
