package storetest

import (
	"bytes"

	nineten "nineten.dev"
)

var keyTests = []test{
	{"ArtistBySlug", func(e *env) {
		u := &nineten.User{Username: "slugger", PasswordHash: "x", Role: nineten.RoleArtist, CreatedAt: at(0)}
		e.ok(e.s.CreateUser(e.ctx, u))
		a := &nineten.Artist{OwnerID: u.ID, Name: "Slug Band", Slug: "slug-band", CreatedAt: at(0)}
		e.ok(e.s.CreateArtist(e.ctx, a))
		got, err := e.s.ArtistBySlug(e.ctx, "slug-band")
		e.ok(err)
		if got.ID != a.ID || got.Name != "Slug Band" {
			e.Errorf("ArtistBySlug = %+v", got)
		}
		_, err = e.s.ArtistBySlug(e.ctx, "nobody")
		e.wantKind(err, nineten.KindNotFound)
	}},
	{"ActorKeysRoundTripAndFirstWins", func(e *env) {
		_, err := e.s.ActorKeys(e.ctx, "artist:1")
		e.wantKind(err, nineten.KindNotFound)
		k := &nineten.ActorKeys{Actor: "artist:1", RSAPrivatePEM: "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", Ed25519Seed: bytes.Repeat([]byte{7}, 32), CreatedAt: at(0)}
		e.ok(e.s.CreateActorKeys(e.ctx, k))
		got, err := e.s.ActorKeys(e.ctx, "artist:1")
		e.ok(err)
		if got.RSAPrivatePEM != k.RSAPrivatePEM || !bytes.Equal(got.Ed25519Seed, k.Ed25519Seed) || !got.CreatedAt.Equal(at(0)) {
			e.Errorf("keys read back as %+v", got)
		}
		other := *k
		other.Ed25519Seed = bytes.Repeat([]byte{9}, 32)
		e.wantKind(e.s.CreateActorKeys(e.ctx, &other), nineten.KindConflict)
		if got, _ := e.s.ActorKeys(e.ctx, "artist:1"); !bytes.Equal(got.Ed25519Seed, k.Ed25519Seed) {
			e.Error("a second CreateActorKeys replaced the first keys")
		}
		_, err = e.s.ActorKeys(e.ctx, "artist:2")
		e.wantKind(err, nineten.KindNotFound)
	}},
}
