package federation

import (
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// A listener of node A follows an artist of node B and subscribes: B hears
// of it (Subscription to the artist, and to B's node actor for A's paid
// membership), of the renewal and the expiry (Updates), of a new
// subscription, and of the cancellation (Undo).
func TestSubscriptionsReachTheArtistsNode(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, dbB *sqlstore.DB) {
		ctx := t.Context()
		dbA, err := sqlstore.Open(ctx, filepath.Join(t.TempDir(), "a.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { dbA.Close() })
		a, b := newPeer(t, dbA), newPeer(t, dbB)
		star := b.artistHere("star")
		fan := &nineten.User{Username: "fan", PasswordHash: "-", Role: nineten.RoleListener, CreatedAt: time.Now()}
		if err := dbA.CreateUser(ctx, fan); err != nil {
			t.Fatal(err)
		}
		// A Mastodon-like actor the fan also follows hears nothing.
		w := &fediverse{t: t, db: dbA, hosts: map[string]*httptest.Server{}, docs: map[string][]byte{}, key: testKey(t)}
		other := w.standIn("mastodon.example") + "/users/someone"
		w.sender(other)
		for _, remote := range []string{b.f.url("/artists/star"), other} {
			if err := dbA.SaveFollow(ctx, &nineten.Follow{Local: userActorName(fan), Remote: remote, State: nineten.FollowAccepted, Activity: remote + "#f", CreatedAt: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		fanID := strconv.FormatInt(int64(fan.ID), 10)
		supporters := func(artist nineten.ID) []nineten.Supporter {
			t.Helper()
			sps, err := dbB.Supporters(ctx, artist)
			if err != nil {
				t.Fatal(err)
			}
			return sps
		}
		sync := func() {
			t.Helper()
			if err := a.f.syncSubscription(ctx, fan.ID); err != nil {
				t.Fatal(err)
			}
			if failed := pump(t, a, b); len(failed) > 0 {
				t.Fatal(failed)
			}
		}
		want := func(what string, status nineten.SubscriptionStatus, paid nineten.Period) {
			t.Helper()
			for _, id := range []nineten.ID{star.ID, 0} {
				sps := supporters(id)
				if status == "" && len(sps) == 0 {
					continue
				}
				if len(sps) != 1 || sps[0].Actor != a.f.url("/users/fan") || sps[0].Node != a.host || sps[0].Status != status || sps[0].Paid != paid {
					t.Errorf("%s: B's supporters of %d are %+v; want the fan, %s through %s", what, id, sps, status, paid)
				}
			}
		}

		if _, err := a.ledger.Deposit(ctx, fanID, "sim:1", 20_000_000); err != nil {
			t.Fatal(err)
		}
		if _, err := a.ledger.Subscribe(ctx, fanID, "2024-01"); err != nil {
			t.Fatal(err)
		}
		sync()
		want("subscribed", nineten.SubscriptionActive, "2024-01")
		sync() // nothing new: nothing sent
		if jobs, _ := dbA.ActiveJobs(ctx); len(jobs) != 0 {
			t.Errorf("a sync without news queued %d deliveries", len(jobs))
		}
		if _, err := a.ledger.RenewAll(ctx, "2024-02"); err != nil {
			t.Fatal(err)
		}
		sync()
		want("renewed", nineten.SubscriptionActive, "2024-02")
		// No money for March, nor April: grace, then expired.
		for _, p := range []nineten.Period{"2024-03", "2024-04"} {
			if _, err := a.ledger.RenewAll(ctx, p); err != nil {
				t.Fatal(err)
			}
		}
		sync()
		want("expired", nineten.SubscriptionExpired, "2024-02")
		if _, err := a.ledger.Deposit(ctx, fanID, "sim:2", 10_000_000); err != nil {
			t.Fatal(err)
		}
		if _, err := a.ledger.Subscribe(ctx, fanID, "2024-05"); err != nil {
			t.Fatal(err)
		}
		sync()
		want("subscribed again", nineten.SubscriptionActive, "2024-05")
		if _, err := a.ledger.Cancel(ctx, fanID); err != nil {
			t.Fatal(err)
		}
		sync()
		want("cancelled", "", "")
		if told, _ := dbA.ToldSubscriptions(ctx, fan.ID); len(told) != 1 || told[0].Target != other || told[0].Status != "" {
			t.Errorf("after the cancellation A remembers telling %+v; want only the Mastodon actor, as nothing to tell", told)
		}
	})
}
