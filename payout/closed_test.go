package payout_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/payout"
	"nineten.dev/subscription"
)

// Accounts closed in the middle of a month: a listener and an artist. The
// month still settles as it was listened — the closed listener's $9 goes to
// the artists she heard, the closed artist is paid what listeners heard of
// them — and only then are the closed accounts' listens cut from them and
// the closed artist's tracks deleted. The ledger verifies and holds the
// money deposited throughout.
func TestClosedAccountsStillSettleTheirMonth(t *testing.T) {
	june := time.Date(2025, 6, 3, 10, 0, 0, 0, time.UTC)
	w := newWorld(t, june)
	ctx := t.Context()
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	led := &embedded.Ledger{Store: w.db, Key: key, Clock: w.clock}
	ledger := &embedded.Contract{Ledger: led, Node: node}
	w.pay = &payout.Service{Ledger: ledger, Store: w.db, Clock: w.clock, Node: node}
	w.subs = &subscription.Service{Ledger: ledger, Store: w.db, Clock: w.clock, Node: node, Simulated: true}
	var done []nineten.Period
	w.pay.Done = func(ctx context.Context, p nineten.Period) {
		done = append(done, p)
		start, _ := p.Next().Start()
		if _, err := w.db.PurgeClosedAccounts(ctx, start); err != nil {
			t.Error(err)
		}
	}

	one, oneSong := w.artist("one")
	two, twoSong := w.artist("two")
	ann, bob := w.user("ann"), w.user("bob")
	w.subscribe(25_000_000, ann, bob)
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	w.listen(ann, oneSong, 200)
	w.listen(ann, twoSong, 100)
	w.listen(bob, twoSong, 100)

	// June 10: ann closes her account (as account.Service does it: the
	// subscription cancelled, then the store's closure); June 15 the owner
	// of artist two closes theirs.
	w.clock.Add(7 * 24 * time.Hour)
	if _, err := ledger.Cancel(ctx, uid(ann)); err != nil {
		t.Fatal(err)
	}
	if err := w.db.CloseAccount(ctx, ann.ID, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	w.clock.Add(5 * 24 * time.Hour)
	if err := w.db.CloseAccount(ctx, two.OwnerID, w.clock.Now()); err != nil {
		t.Fatal(err)
	}
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(done) != 0 {
		t.Fatalf("months done before June settled: %v", done)
	}

	// July 20: June settles as it was listened.
	w.clock.Add(time.Date(2025, 7, 20, 1, 0, 0, 0, time.UTC).Sub(w.clock.Now()))
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	artist := func(a *nineten.Artist) nineten.Micro {
		return w.balance(nineten.AccountArtist, node+"/"+fmt.Sprint(a.ID))
	}
	if got := artist(one); got != 6_000_000 {
		t.Errorf("artist one: %s, want 6.000000 (200 of ann's 300 s)", got)
	}
	if got := artist(two); got != 12_000_000 {
		t.Errorf("closed artist two: %s, want 12.000000 (ann's 100 of 300 s, all of bob's)", got)
	}
	if got := w.balance(nineten.AccountListener, uid(ann)); got != 15_000_000 {
		t.Errorf("ann's balance: %s, want 15.000000 kept (June paid, July not renewed)", got)
	}
	if len(done) == 0 || done[len(done)-1] != "2025-06" {
		t.Fatalf("months done: %v, want June", done)
	}

	// June is done: ann's listens are anonymous, artist two's tracks gone.
	if _, err := w.db.TrackByID(ctx, twoSong.ID); nineten.ErrorKind(err) != nineten.KindNotFound {
		t.Errorf("the closed artist's track after June settled: %v", err)
	}
	start, _ := nineten.Period("2025-06").Start()
	var left []nineten.ListenerArtistTotal
	if err := w.db.ListeningTotals(ctx, nineten.TotalsQuery{From: start, To: start.AddDate(0, 1, 0)}, func(t nineten.ListenerArtistTotal) error {
		left = append(left, t)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("June's listening after the purge: %+v, want nothing tied to anyone", left)
	}

	// Ticking again moves nothing, and the ledger holds the $50 deposited.
	w.clock.Add(24 * time.Hour)
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if artist(one) != 6_000_000 || artist(two) != 12_000_000 {
		t.Errorf("a second tick moved money: %s, %s", artist(one), artist(two))
	}
	rep, err := led.Verify(ctx, pub, nil)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Balance != 50_000_000 {
		t.Errorf("money inside the node: %s, want 50.000000", nineten.Micro(rep.Balance))
	}
}
