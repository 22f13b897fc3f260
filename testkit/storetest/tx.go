package storetest

import (
	"errors"
	"time"

	"nineten.dev"
)

var errAbort = errors.New("abort the transaction")

var txTests = []test{
	{"WithTx/CommitsOnSuccess", func(e *env) {
		var artist nineten.ID
		e.ok(e.s.WithTx(e.ctx, func(tx nineten.Store) error {
			u := &nineten.User{Username: "quinn", Role: nineten.RoleArtist, CreatedAt: t0}
			if err := tx.CreateUser(e.ctx, u); err != nil {
				return err
			}
			// The transaction sees its own writes.
			if _, err := tx.UserByUsername(e.ctx, "quinn"); err != nil {
				return err
			}
			a := &nineten.Artist{OwnerID: u.ID, Name: "Quinn", Slug: "quinn", CreatedAt: t0}
			err := tx.CreateArtist(e.ctx, a)
			artist = a.ID
			return err
		}))
		_, err := e.s.UserByUsername(e.ctx, "quinn")
		e.ok(err)
		_, err = e.s.ArtistByID(e.ctx, artist)
		e.ok(err)
	}},

	{"WithTx/RollsBackOnError", func(e *env) {
		u, tr := e.listenFixture()
		ls := e.listenSession("s1", tr.ID, u.ID, t0)
		err := e.s.WithTx(e.ctx, func(tx nineten.Store) error {
			if err := tx.CreateUser(e.ctx, &nineten.User{Username: "rita", Role: nineten.RoleListener, CreatedAt: t0}); err != nil {
				return err
			}
			if err := tx.SaveListen(e.ctx, listen(ls, nineten.ListenVerified, t0)); err != nil {
				return err
			}
			if err := tx.Enqueue(e.ctx, &nineten.Job{Kind: "k", RunAt: t0, CreatedAt: t0}); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			e.Fatalf("WithTx returned %v, want fn's error", err)
		}
		_, err = e.s.UserByUsername(e.ctx, "rita")
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.ListenBySession(e.ctx, "s1")
		e.wantKind(err, nineten.KindNotFound)
		if n := e.playCount(tr.ID); n != 0 {
			e.Errorf("PlayCount = %d after a rolled back listen, want 0", n)
		}
		e.wantClaim(at(time.Hour), nil, "k")
	}},

	{"WithTx/NestedRunsInOuter", func(e *env) {
		err := e.s.WithTx(e.ctx, func(tx nineten.Store) error {
			err := tx.WithTx(e.ctx, func(inner nineten.Store) error {
				return inner.CreateUser(e.ctx, &nineten.User{Username: "sam", Role: nineten.RoleListener, CreatedAt: t0})
			})
			if err != nil {
				return err
			}
			if _, err := tx.UserByUsername(e.ctx, "sam"); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			e.Fatalf("WithTx returned %v, want fn's error", err)
		}
		// The inner transaction was part of the outer one, and went with it.
		_, err = e.s.UserByUsername(e.ctx, "sam")
		e.wantKind(err, nineten.KindNotFound)

		e.ok(e.s.WithTx(e.ctx, func(tx nineten.Store) error {
			return tx.WithTx(e.ctx, func(inner nineten.Store) error {
				return inner.CreateUser(e.ctx, &nineten.User{Username: "tess", Role: nineten.RoleListener, CreatedAt: t0})
			})
		}))
		_, err = e.s.UserByUsername(e.ctx, "tess")
		e.ok(err)
	}},

	{"WithTx/ErrorsKeepTheirKind", func(e *env) {
		e.user("uma")
		err := e.s.WithTx(e.ctx, func(tx nineten.Store) error {
			return tx.CreateUser(e.ctx, &nineten.User{Username: "uma", Role: nineten.RoleListener, CreatedAt: t0})
		})
		e.wantKind(err, nineten.KindConflict)
	}},

	// A caller may try another name after a conflict without starting
	// over, as catalog does with artist addresses: a conflict leaves the
	// transaction usable. (PostgreSQL aborts a transaction at its first
	// failed statement; a store must not let a conflict be one.)
	{"WithTx/ConflictLeavesTransactionUsable", func(e *env) {
		vi, tr := e.listenFixture()
		taken := e.artist(vi.ID, "Taken")
		e.listenSession("s1", tr.ID, vi.ID, t0)
		e.ok(e.s.CreateSession(e.ctx, nineten.Session{TokenHash: "h", UserID: vi.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}))
		e.ok(e.s.CreateToken(e.ctx, &nineten.APIToken{UserID: vi.ID, TokenHash: "t", CreatedAt: t0}))
		e.ok(e.s.CreateActorKeys(e.ctx, &nineten.ActorKeys{Actor: "artist:1", RSAPrivatePEM: "pem", Ed25519Seed: []byte{1}, CreatedAt: t0}))
		var mine *nineten.Artist
		e.ok(e.s.WithTx(e.ctx, func(tx nineten.Store) error {
			e.wantKind(tx.CreateUser(e.ctx, &nineten.User{Username: "LISTENER", Role: nineten.RoleListener, CreatedAt: t0}), nineten.KindConflict)
			walt := &nineten.User{Username: "walt", Role: nineten.RoleArtist, CreatedAt: t0}
			e.ok(tx.CreateUser(e.ctx, walt))
			walt.Username = vi.Username
			e.wantKind(tx.UpdateUser(e.ctx, walt), nineten.KindConflict)
			mine = &nineten.Artist{OwnerID: walt.ID, Name: "Walt", Slug: taken.Slug, CreatedAt: t0}
			e.wantKind(tx.CreateArtist(e.ctx, mine), nineten.KindConflict)
			mine.Slug = "walt"
			e.ok(tx.CreateArtist(e.ctx, mine))
			mine.Slug = taken.Slug
			e.wantKind(tx.UpdateArtist(e.ctx, mine), nineten.KindConflict)
			mine.Slug = "walt"
			e.wantKind(tx.CreateSession(e.ctx, nineten.Session{TokenHash: "h", UserID: walt.ID, CreatedAt: t0, ExpiresAt: at(time.Hour)}), nineten.KindConflict)
			e.wantKind(tx.CreateToken(e.ctx, &nineten.APIToken{UserID: walt.ID, TokenHash: "t", CreatedAt: t0}), nineten.KindConflict)
			e.wantKind(tx.CreateActorKeys(e.ctx, &nineten.ActorKeys{Actor: "artist:1", RSAPrivatePEM: "x", Ed25519Seed: []byte{2}, CreatedAt: t0}), nineten.KindConflict)
			e.wantKind(tx.CreateListenSession(e.ctx, &nineten.ListenSession{ID: "s1", TrackID: tr.ID, StartedAt: t0}), nineten.KindConflict)
			// After all that, the transaction still writes.
			return tx.UpdateArtist(e.ctx, &nineten.Artist{ID: mine.ID, OwnerID: walt.ID, Name: "Walt W.", Slug: "walt"})
		}))
		got, err := e.s.ArtistBySlug(e.ctx, "walt")
		e.ok(err)
		if got.ID != mine.ID || got.Name != "Walt W." {
			e.Errorf("artist walt is %d %q, want %d %q", got.ID, got.Name, mine.ID, "Walt W.")
		}
		u, err := e.s.UserByUsername(e.ctx, "walt")
		e.ok(err)
		if u.ID != got.OwnerID {
			e.Errorf("walt is user %d, the artist's owner %d", u.ID, got.OwnerID)
		}
	}},

	{"Ping", func(e *env) {
		e.ok(e.s.Ping(e.ctx))
		e.ok(e.s.WithTx(e.ctx, func(tx nineten.Store) error { return tx.Ping(e.ctx) }))
	}},
}
