package account_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"strconv"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/account"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/clocktest"
	"nineten.dev/testkit/dbtest"
)

// A listener-artist closes their account: the password must confirm it;
// afterwards nobody logs in as them, the hooks saw what they published,
// the subscription is cancelled but this month's $9 stays in the pool,
// the balance stays on the ledger until an admin records paying it out,
// and the ledger verifies with money conserved throughout.
func TestCloseOwnAccount(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		c := clocktest.New(time.Date(2026, 11, 10, 12, 0, 0, 0, time.UTC))
		pub, key, _ := ed25519.GenerateKey(rand.Reader)
		led := &embedded.Ledger{Store: db, Key: key, Clock: c}
		ledger := &embedded.Contract{Ledger: led, Node: "music.example"}
		var closing, closed []*nineten.ClosedAccount
		s := &account.Service{Store: db, Clock: c, Ledger: ledger, Node: "music.example",
			Closing: func(_ context.Context, a *nineten.ClosedAccount) { closing = append(closing, a) },
			Closed:  func(_ context.Context, a *nineten.ClosedAccount) { closed = append(closed, a) },
		}
		admin, err := s.CreateUser(ctx, "root", "admin password", "", nineten.RoleAdmin)
		must(t, err)
		ann, err := s.CreateUser(ctx, "ann", "ann's password", "Ann Example", nineten.RoleArtist)
		must(t, err)
		band := &nineten.Artist{OwnerID: ann.ID, Name: "Ann's Band", Slug: "anns-band", CreatedAt: c.Now()}
		must(t, db.CreateArtist(ctx, band))
		must(t, db.CreatePlaylist(ctx, &nineten.Playlist{OwnerID: ann.ID, Title: "Public", Public: true, CreatedAt: c.Now(), UpdatedAt: c.Now()}))
		must(t, db.CreatePlaylist(ctx, &nineten.Playlist{OwnerID: ann.ID, Title: "Private", CreatedAt: c.Now(), UpdatedAt: c.Now()}))
		_, token, err := s.Login(ctx, "ann", "ann's password")
		must(t, err)

		listener := strconv.FormatInt(int64(ann.ID), 10)
		_, err = ledger.Deposit(ctx, listener, "sim:1", 25_000_000)
		must(t, err)
		_, err = ledger.OpenMonth(ctx, "2026-11")
		must(t, err)
		_, err = ledger.Subscribe(ctx, listener, "2026-11")
		must(t, err)

		if err := s.CloseOwn(ctx, ann, "not the password"); nineten.ErrorKind(err) != nineten.KindUnauthenticated {
			t.Fatalf("closing with a wrong password: %v, want unauthenticated", err)
		}
		if len(closing) != 0 {
			t.Fatal("a refused closure told the federation")
		}
		if err := s.CloseOwn(ctx, admin, "admin password"); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("an admin closing their own account: %v, want invalid", err)
		}
		must(t, s.CloseOwn(ctx, ann, "ann's password"))

		if len(closing) != 1 || len(closed) != 1 || len(closing[0].Artists) != 1 || len(closing[0].Playlists) != 1 || closing[0].Playlists[0].Title != "Public" {
			t.Fatalf("hooks saw %+v, want ann's one artist and one public playlist, once each", closing)
		}
		if _, _, err := s.Login(ctx, "ann", "ann's password"); nineten.ErrorKind(err) != nineten.KindUnauthenticated {
			t.Errorf("logging in to a closed account: %v, want unauthenticated", err)
		}
		if _, err := s.Authenticate(ctx, token); err == nil {
			t.Error("the closed account's session still works")
		}
		if err := s.CloseOwn(ctx, ann, "ann's password"); err == nil {
			t.Error("closed twice")
		}
		if _, err := s.SignUp(ctx, "ann", "a new password", ""); nineten.ErrorKind(err) != nineten.KindConflict {
			t.Errorf("signing up as a closed account's username: %v, want a conflict", err)
		}
		sub, err := ledger.SubscriptionOf(ctx, listener)
		must(t, err)
		if sub.Status != nineten.SubscriptionCancelled {
			t.Errorf("subscription after closing: %s, want cancelled", sub.Status)
		}
		if got := balance(t, ledger, nineten.AccountListener, listener); got != 15_000_000 {
			t.Errorf("balance after closing = %v, want 15.000000 kept", got)
		}

		if _, err := s.PayOutClosed(ctx, ann, ann.ID, "bank-1"); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Errorf("a non-admin paying out: %v", err)
		}
		if _, err := s.PayOutClosed(ctx, admin, ann.ID, "not a ref!"); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("a malformed reference: %v", err)
		}
		txs, err := s.PayOutClosed(ctx, admin, ann.ID, "bank-1")
		must(t, err)
		if len(txs) != 1 || txs[0].Op != "payout" || txs[0].Inputs[0].Amount != 15_000_000 {
			t.Errorf("paid out %+v, want one payout of the listener's 15.000000", txs)
		}
		if got := balance(t, ledger, nineten.AccountListener, listener); got != 0 {
			t.Errorf("balance after the payout = %v, want 0", got)
		}
		if _, err := s.PayOutClosed(ctx, admin, ann.ID, "bank-2"); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("paying out an empty account: %v, want invalid", err)
		}
		rep, err := led.Verify(ctx, pub, nil)
		must(t, err)
		// $25 came in, $15 went out: $10 stays inside the node ($1 the
		// operator's, $9 the month's pool).
		if rep.Balance != 10_000_000 {
			t.Errorf("money inside the node = %v, want 10.000000", rep.Balance)
		}
	})
}

func TestAdminClosesAccount(t *testing.T) {
	eachService(t, func(t *testing.T, s *account.Service, c *clocktest.Clock) {
		ctx := t.Context()
		admin, err := s.CreateUser(ctx, "root", "admin password", "", nineten.RoleAdmin)
		must(t, err)
		bob, err := s.SignUp(ctx, "bob", "bob's password", "")
		must(t, err)
		if err := s.CloseAccount(ctx, bob, admin.ID); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Errorf("a listener closing another's account: %v", err)
		}
		if err := s.CloseAccount(ctx, admin, admin.ID); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("an admin closing their own: %v", err)
		}
		must(t, s.CloseAccount(ctx, admin, bob.ID))
		got, err := s.Store.UserByID(ctx, bob.ID)
		must(t, err)
		if !got.Deleted() || got.Username != "bob" || got.DisplayName != "" {
			t.Errorf("closed user = %+v", got)
		}
		if _, _, err := s.Login(ctx, "bob", "bob's password"); err == nil {
			t.Error("a closed account logs in")
		}
		if _, err := s.SetDisabled(ctx, admin, bob.ID, false); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Errorf("enabling a closed account again: %v, want not found", err)
		}
		if _, err := s.PayOutClosed(ctx, admin, bob.ID, "x"); nineten.ErrorKind(err) != nineten.KindUnavailable {
			t.Errorf("paying out without a ledger: %v", err)
		}
	})
}

func balance(t *testing.T, l *embedded.Contract, kind nineten.AccountKind, id string) nineten.Micro {
	t.Helper()
	b, err := l.Balance(t.Context(), kind, id)
	must(t, err)
	return b
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
