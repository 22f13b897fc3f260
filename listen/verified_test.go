package listen_test

import (
	"context"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/listen"
)

// The Verified hook hears of a listen once, when it becomes verified: not
// for an unverified claim, and not again for later reports.
func TestVerifiedHookHearsOfEachListenOnce(t *testing.T) {
	eachRig(t, func(t *testing.T, r *rig) {
		var heard []nineten.Listen
		r.svc.Verified = func(_ context.Context, l *nineten.Listen) { heard = append(heard, *l) }
		id := r.track(20_000)
		u := &nineten.User{Username: "hearer", PasswordHash: "x", Role: nineten.RoleListener, CreatedAt: r.clock.Now()}
		if err := r.store.CreateUser(t.Context(), u); err != nil {
			t.Fatal(err)
		}
		s, err := r.svc.Start(t.Context(), u, "", id, listen.Client{})
		if err != nil {
			t.Fatal(err)
		}
		r.clock.Add(21 * time.Second)
		if out, _ := r.report(s, 1, 20_000); out.Counted || len(heard) != 0 {
			t.Fatalf("an unverified claim (%+v) reached the hook: %+v", out, heard)
		}
		r.serve(s, id, "opus128/seg0.m4s", "opus128/seg1.m4s", "opus128/seg2.m4s", "opus128/seg3.m4s", "opus128/seg4.m4s")
		if out, err := r.report(s, 2, 20_000); err != nil || !out.Counted {
			t.Fatalf("%+v, %v", out, err)
		}
		r.clock.Add(5 * time.Second)
		if _, err := r.report(s, 3, 20_000); err != nil {
			t.Fatal(err)
		}
		stored, err := r.store.ListenBySession(t.Context(), s.SessionID)
		if err != nil {
			t.Fatal(err)
		}
		if len(heard) != 1 || heard[0].ID != stored.ID || heard[0].UserID != u.ID || heard[0].TrackID != id || heard[0].Status != nineten.ListenVerified || heard[0].VerifiedAt.IsZero() {
			t.Errorf("the hook heard %+v; want the stored listen %+v once", heard, stored)
		}
	})
}
