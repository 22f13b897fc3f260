package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
)

// `9ten settle`: a dry run shows the payout and records nothing; the real
// run pays the artist; running it again changes nothing; a month that is
// not a month is refused with a message.
func TestSettleCommand(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	db, err := sqlstore.Open(ctx, filepath.Join(data, "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	key, err := loadLedgerKey(data)
	if err != nil {
		t.Fatal(err)
	}
	const node = "music.test"
	ledger := &embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: key}, Node: node}
	june := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
	listener := &nineten.User{Username: "ann", PasswordHash: "x", Role: nineten.RoleListener, CreatedAt: june}
	owner := &nineten.User{Username: "owner", PasswordHash: "x", Role: nineten.RoleArtist, CreatedAt: june}
	for _, u := range []*nineten.User{listener, owner} {
		if err := db.CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	artist := &nineten.Artist{OwnerID: owner.ID, Name: "Solo", Slug: "solo", CreatedAt: june}
	if err := db.CreateArtist(ctx, artist); err != nil {
		t.Fatal(err)
	}
	track := &nineten.Track{ArtistID: artist.ID, Title: "Song", DurationMS: 200_000, Status: nineten.TrackReady, CreatedAt: june}
	if err := db.CreateTrack(ctx, track); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateListenSession(ctx, &nineten.ListenSession{ID: "s1", TrackID: track.ID, UserID: listener.ID, StartedAt: june}); err != nil {
		t.Fatal(err)
	}
	if err := db.SaveListen(ctx, &nineten.Listen{SessionID: "s1", TrackID: track.ID, UserID: listener.ID, StartedAt: june, HeardMS: 120_000, Status: nineten.ListenVerified, VerifiedAt: june}); err != nil {
		t.Fatal(err)
	}
	id := fmt.Sprint(listener.ID)
	if _, err := ledger.Deposit(ctx, id, "sim:1", nineten.SubscriptionPrice); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.Subscribe(ctx, id, "2025-06"); err != nil {
		t.Fatal(err)
	}
	if _, err := ledger.OpenMonth(ctx, "2025-06"); err != nil {
		t.Fatal(err)
	}
	if _, stderr, ok := run(t, "settle", "--data", data, "--month", "2025-06"); ok || !strings.Contains(stderr, "has not run yet") {
		t.Fatalf("settling a node that never ran: %q", stderr)
	}
	// What serve records at its first start.
	if _, err := db.InitSetting(ctx, ledgerNodeSetting, node); err != nil {
		t.Fatal(err)
	}
	db.Close()

	artistBalance := func() nineten.Micro {
		t.Helper()
		db, err := sqlstore.Open(ctx, filepath.Join(data, "9ten.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		l := &embedded.Contract{Ledger: &embedded.Ledger{Store: db}, Node: node}
		m, err := l.Balance(ctx, nineten.AccountArtist, fmt.Sprintf("%s/%d", node, artist.ID))
		if err != nil {
			t.Fatal(err)
		}
		return m
	}

	stdout, stderr, ok := run(t, "settle", "--data", data, "--month", "2025-06", "--dry-run")
	if !ok || !strings.Contains(stdout, "would settle") || !strings.Contains(stdout, "to artists:           $9.000000") {
		t.Fatalf("dry run: ok %v\n%s%s", ok, stdout, stderr)
	}
	if got := artistBalance(); got != 0 {
		t.Fatalf("a dry run paid the artist %s", got)
	}
	// A month a dispute holds (a cluster peer disagreed with its report)
	// is not settled from the command line either, until it is resolved.
	withDB := func(fn func(db *sqlstore.DB) error) {
		t.Helper()
		db, err := sqlstore.Open(ctx, filepath.Join(data, "9ten.db"))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := fn(db); err != nil {
			t.Fatal(err)
		}
	}
	withDB(func(db *sqlstore.DB) error {
		return db.OpenDispute(ctx, nineten.Dispute{Month: "2025-06", Reason: "peer b disagrees", OpenedAt: june})
	})
	if _, stderr, ok := run(t, "settle", "--data", data, "--month", "2025-06"); ok || !strings.Contains(stderr, "held by a dispute: peer b disagrees") {
		t.Fatalf("settling a disputed month: ok %v, %q", ok, stderr)
	}
	if got := artistBalance(); got != 0 {
		t.Fatalf("a disputed month paid the artist %s", got)
	}
	withDB(func(db *sqlstore.DB) error { return db.ResolveDispute(ctx, "2025-06", june) })
	for range 2 {
		stdout, stderr, ok = run(t, "settle", "--data", data, "--month", "2025-06")
		if !ok || !strings.Contains(stdout, "settled 2025-06") || !strings.Contains(stdout, "listeners paid:       1") {
			t.Fatalf("settle: ok %v\n%s%s", ok, stdout, stderr)
		}
		if got := artistBalance(); got != nineten.ArtistsShare {
			t.Fatalf("the artist holds %s after settling, want 9.000000", got)
		}
	}
	if _, stderr, ok := run(t, "settle", "--data", data, "--month", "June"); ok || !strings.Contains(stderr, "YYYY-MM") {
		t.Fatalf("a bad month was accepted or explained as %q", stderr)
	}
	if stdout, stderr, ok := run(t, "ledger", "verify", "--data", data); !ok || !strings.Contains(stdout, "ledger OK") {
		t.Fatalf("verify after settling: %s%s", stdout, stderr)
	}
}
