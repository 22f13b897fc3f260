package payout_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/payout"
	"nineten.dev/sqlstore"
	"nineten.dev/subscription"
	"nineten.dev/testkit/clocktest"
)

const node = "music.test"

type world struct {
	t     *testing.T
	db    *sqlstore.DB
	clock *clocktest.Clock
	pay   *payout.Service
	subs  *subscription.Service
	seq   int
}

func newWorld(t *testing.T, start time.Time) *world {
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	clock := clocktest.New(start)
	ledger := &embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: key, Clock: clock}, Node: node}
	return &world{
		t: t, db: db, clock: clock,
		pay:  &payout.Service{Ledger: ledger, Store: db, Clock: clock, Node: node},
		subs: &subscription.Service{Ledger: ledger, Store: db, Clock: clock, Node: node, Simulated: true},
	}
}

func (w *world) user(name string) *nineten.User {
	w.t.Helper()
	u := &nineten.User{Username: name, DisplayName: name, PasswordHash: "x", Role: nineten.RoleArtist, CreatedAt: w.clock.Now()}
	if err := w.db.CreateUser(w.t.Context(), u); err != nil {
		w.t.Fatal(err)
	}
	return u
}

// subscribe gives each user a simulated deposit of amount and subscribes
// them.
func (w *world) subscribe(amount nineten.Micro, users ...*nineten.User) {
	w.t.Helper()
	for _, u := range users {
		if _, err := w.subs.SimulatedDeposit(w.t.Context(), u, amount); err != nil {
			w.t.Fatal(err)
		}
		if _, err := w.subs.Subscribe(w.t.Context(), u); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *world) artist(name string) (*nineten.Artist, *nineten.Track) {
	w.t.Helper()
	owner := w.user("owner-" + name)
	a := &nineten.Artist{OwnerID: owner.ID, Name: name, Slug: "a-" + name, CreatedAt: w.clock.Now()}
	if err := w.db.CreateArtist(w.t.Context(), a); err != nil {
		w.t.Fatal(err)
	}
	tr := &nineten.Track{ArtistID: a.ID, Title: name + " song", DurationMS: 240_000, Status: nineten.TrackReady, CreatedAt: w.clock.Now()}
	if err := w.db.CreateTrack(w.t.Context(), tr); err != nil {
		w.t.Fatal(err)
	}
	return a, tr
}

// listen records a verified listen that started now.
func (w *world) listen(u *nineten.User, tr *nineten.Track, heardS int64) {
	w.t.Helper()
	w.seq++
	id := fmt.Sprintf("s%d", w.seq)
	now := w.clock.Now()
	if err := w.db.CreateListenSession(w.t.Context(), &nineten.ListenSession{ID: id, TrackID: tr.ID, UserID: u.ID, StartedAt: now}); err != nil {
		w.t.Fatal(err)
	}
	l := &nineten.Listen{SessionID: id, TrackID: tr.ID, UserID: u.ID, StartedAt: now, HeardMS: heardS * 1000, Status: nineten.ListenVerified, VerifiedAt: now}
	if err := w.db.SaveListen(w.t.Context(), l); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) balance(kind nineten.AccountKind, id string) nineten.Micro {
	w.t.Helper()
	m, err := w.subs.Ledger.Balance(w.t.Context(), kind, id)
	if err != nil {
		w.t.Fatal(err)
	}
	return m
}

func uid(u *nineten.User) string { return fmt.Sprint(u.ID) }

func TestAMonthFromDepositToArtists(t *testing.T) {
	june := time.Date(2025, 6, 3, 10, 0, 0, 0, time.UTC)
	w := newWorld(t, june)
	ctx := t.Context()
	one, oneSong := w.artist("one")
	two, twoSong := w.artist("two")
	_, threeSong := w.artist("three")
	ann, bob, cat := w.user("ann"), w.user("bob"), w.user("cat")

	if _, err := w.subs.SimulatedDeposit(ctx, ann, 25_000_000); err != nil {
		t.Fatal(err)
	}
	if _, err := w.subs.SimulatedDeposit(ctx, bob, 10_000_000); err != nil {
		t.Fatal(err)
	}
	// Too poor to subscribe: refused, nothing moves.
	if _, err := w.subs.Subscribe(ctx, cat); nineten.ErrorKind(err) != nineten.KindConflict {
		t.Fatalf("subscribing without money: %v, want a conflict", err)
	}
	for _, u := range []*nineten.User{ann, bob} {
		sub, err := w.subs.Subscribe(ctx, u)
		if err != nil || sub.Status != nineten.SubscriptionActive || sub.Paid != "2025-06" {
			t.Fatalf("subscribe %s: %+v, %v", u.Username, sub, err)
		}
	}
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.balance(nineten.AccountOperator, ""); got != 2*nineten.OperatorShare {
		t.Fatalf("operator after opening June: %s, want 2.000000", got)
	}

	// June's listening: ann hears three artists, bob nothing, cat (who did
	// not pay) a lot.
	w.listen(ann, oneSong, 200)
	w.listen(ann, oneSong, 100)
	w.listen(ann, twoSong, 150)
	w.listen(ann, threeSong, 20) // under 30 s: not eligible
	w.listen(cat, threeSong, 240)

	// The node is told of each month settled (the statements to other
	// nodes go out then); a failure to tell leaves the settlement standing.
	var settled []nineten.Period
	w.pay.Settled = func(_ context.Context, p nineten.Period) error {
		settled = append(settled, p)
		return errors.New("the other node is down")
	}
	if _, err := w.pay.Settle(ctx, "2025-06", false, nil); nineten.ErrorKind(err) != nineten.KindConflict {
		t.Fatalf("settling June in June: %v, want a conflict", err)
	}
	preview, err := w.pay.Settle(ctx, "2025-06", true, nil)
	if err != nil || !preview.DryRun || preview.ToArtists != 9_000_000 || preview.Paid != 1 || preview.Held != 1 {
		t.Fatalf("preview: %+v, %v", preview, err)
	}
	if got := w.balance(nineten.AccountArtist, node+"/"+fmt.Sprint(one.ID)); got != 0 {
		t.Fatalf("a preview paid %s", got)
	}

	// July 20: renewals (bob cannot pay), July opens, June settles —
	// once the gate (the peer review of June's report) lets it: held, it
	// is not paid, though a preview still is computed.
	w.clock.Add(time.Date(2025, 7, 20, 1, 0, 0, 0, time.UTC).Sub(w.clock.Now()))
	w.pay.Gate = func(context.Context, nineten.Period) error {
		return nineten.E("test", nineten.KindConflict, "the settlement of 2025-06 is held by a dispute")
	}
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.balance(nineten.AccountArtist, node+"/"+fmt.Sprint(one.ID)); got != 0 {
		t.Fatalf("a held month paid artist one %s", got)
	}
	if _, err := w.pay.Settle(ctx, "2025-06", false, nil); !strings.Contains(nineten.ErrorMessage(err), "held by a dispute") {
		t.Fatalf("settling a held month: %v", err)
	}
	if p, err := w.pay.Settle(ctx, "2025-06", true, nil); err != nil || p.ToArtists != 9_000_000 {
		t.Fatalf("previewing a held month: %+v, %v", p, err)
	}
	w.pay.Gate = nil
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if len(settled) != 1 || settled[0] != "2025-06" {
		t.Errorf("told of settled months %v, want June once (not the refused try, nor the preview)", settled)
	}
	// 300 s and 150 s of ann's 450: $6 and $3 exactly.
	if got := w.balance(nineten.AccountArtist, node+"/"+fmt.Sprint(one.ID)); got != 6_000_000 {
		t.Errorf("artist one: %s, want 6.000000", got)
	}
	if got := w.balance(nineten.AccountArtist, node+"/"+fmt.Sprint(two.ID)); got != 3_000_000 {
		t.Errorf("artist two: %s, want 3.000000", got)
	}
	if got := w.balance(nineten.AccountHeld, uid(bob)); got != nineten.ArtistsShare {
		t.Errorf("bob's held money: %s, want 9.000000", got)
	}
	if got := w.balance(nineten.AccountOperator, ""); got != 3*nineten.OperatorShare {
		t.Errorf("operator after July opened: %s, want 3.000000 (ann renewed, bob could not)", got)
	}
	if got := w.balance(nineten.AccountListener, uid(ann)); got != 5_000_000 {
		t.Errorf("ann's balance: %s, want 5.000000 after two months", got)
	}

	ov, err := w.subs.Overview(ctx, bob)
	if err != nil || ov.Subscription == nil || ov.Subscription.Status != nineten.SubscriptionGrace || ov.Held != nineten.ArtistsShare {
		t.Fatalf("bob's overview: %+v, %v", ov, err)
	}
	ov, err = w.subs.Overview(ctx, ann)
	if err != nil || ov.Subscription.Paid != "2025-07" || ov.RenewsOn == nil || !ov.RenewsOn.Equal(time.Date(2025, 8, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("ann's overview: %+v, %v", ov, err)
	}
	if len(ov.History) == 0 || ov.History[len(ov.History)-1].Op != "deposit" || ov.History[len(ov.History)-1].Amount != 25_000_000 {
		t.Fatalf("ann's history should end with her deposit: %+v", ov.History)
	}

	m, err := w.subs.MoneyWent(ctx, ann, "2025-06")
	if err != nil {
		t.Fatal(err)
	}
	if !m.Settled || m.Total != nineten.ArtistsShare || len(m.Shares) != 2 || len(m.Tx) != 1 {
		t.Fatalf("where ann's June money went: %+v", m)
	}
	if s := m.Shares[0]; s.Name != "one" || s.Amount != 6_000_000 || s.Listens != 2 || s.SecondsHeard != 300 {
		t.Errorf("first share: %+v", s)
	}
	if s := m.Shares[1]; s.Name != "two" || s.Amount != 3_000_000 || s.SecondsHeard != 150 {
		t.Errorf("second share: %+v", s)
	}

	// Ticking again changes nothing: the calendar's steps are idempotent.
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := w.balance(nineten.AccountArtist, node+"/"+fmt.Sprint(one.ID)); got != 6_000_000 {
		t.Errorf("artist one after a second tick: %s", got)
	}

	// July in progress: ann's ranking so far, no amounts yet.
	w.listen(ann, twoSong, 60)
	m, err = w.subs.MoneyWent(ctx, ann, "2025-07")
	if err != nil || m.Settled || len(m.Shares) != 1 || m.Shares[0].Name != "two" || m.Shares[0].Amount != 0 {
		t.Fatalf("July so far: %+v, %v", m, err)
	}
}

func TestSimulatedDepositsOnlyWhenAllowed(t *testing.T) {
	w := newWorld(t, time.Date(2025, 6, 3, 10, 0, 0, 0, time.UTC))
	u := w.user("ann")
	w.subs.Simulated = false
	if _, err := w.subs.SimulatedDeposit(t.Context(), u, 10_000_000); nineten.ErrorKind(err) != nineten.KindPermission {
		t.Fatalf("simulated deposit on a real node: %v", err)
	}
	w.subs.Simulated = true
	for _, amount := range []nineten.Micro{0, -1, 999_999, subscription.MaxSimulatedDeposit + 1} {
		if _, err := w.subs.SimulatedDeposit(t.Context(), u, amount); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("deposit of %s: %v, want invalid", amount, err)
		}
	}
	if got := w.balance(nineten.AccountListener, uid(u)); got != 0 {
		t.Fatalf("refused deposits credited %s", got)
	}
}

// A node that was down on settle days settles the months it missed when it
// ticks again, oldest first: one paid for but never opened (June: down all
// month after the subscription) and one opened but never settled (August:
// down from the 22nd to October 5th).
func TestTickSettlesMonthsMissed(t *testing.T) {
	w := newWorld(t, time.Date(2025, 6, 3, 10, 0, 0, 0, time.UTC))
	ctx := t.Context()
	one, oneSong := w.artist("one")
	two, twoSong := w.artist("two")
	ann := w.user("ann")
	w.subscribe(25_000_000, ann)
	w.listen(ann, oneSong, 200)
	w.listen(ann, twoSong, 100)
	artist := func(a *nineten.Artist) nineten.Micro {
		return w.balance(nineten.AccountArtist, node+"/"+fmt.Sprint(a.ID))
	}

	// August 22nd: the first tick since June. June is opened and settled;
	// July had no subscribers; August opens (ann renews) and waits.
	w.clock.Add(time.Date(2025, 8, 22, 9, 0, 0, 0, time.UTC).Sub(w.clock.Now()))
	for range 2 { // a second tick changes nothing
		if err := w.pay.Tick(ctx); err != nil {
			t.Fatal(err)
		}
		if got, got2 := artist(one), artist(two); got != 6_000_000 || got2 != 3_000_000 {
			t.Fatalf("after June's late settlement: one %s, two %s; want 6.000000 and 3.000000", got, got2)
		}
		if got := w.balance(nineten.AccountOperator, ""); got != 2*nineten.OperatorShare {
			t.Fatalf("operator: %s, want 2.000000 (June and August)", got)
		}
	}
	m, err := w.subs.MoneyWent(ctx, ann, "2025-06")
	if err != nil || !m.Settled || m.Total != nineten.ArtistsShare {
		t.Fatalf("where ann's June money went: %+v, %v", m, err)
	}
	w.listen(ann, twoSong, 60)

	// October 5th, before the settle day: August is settled (long due),
	// September (nobody paid) is not yet due.
	w.clock.Add(time.Date(2025, 10, 5, 9, 0, 0, 0, time.UTC).Sub(w.clock.Now()))
	if err := w.pay.Tick(ctx); err != nil {
		t.Fatal(err)
	}
	if got := artist(two); got != 12_000_000 {
		t.Fatalf("artist two after August's late settlement: %s, want 12.000000", got)
	}
	left, err := w.pay.Ledger.Unsettled(ctx)
	if err != nil || len(left) != 0 {
		t.Fatalf("months left unsettled: %v, %v (ann could not renew for October)", left, err)
	}
}
