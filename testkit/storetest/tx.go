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

	{"Ping", func(e *env) {
		e.ok(e.s.Ping(e.ctx))
		e.ok(e.s.WithTx(e.ctx, func(tx nineten.Store) error { return tx.Ping(e.ctx) }))
	}},
}
