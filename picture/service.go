package picture

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"

	nineten "nineten.dev"
)

// Service keeps profile pictures in the blob store and their keys on the
// user or artist they belong to.
type Service struct {
	Store nineten.Store
	Blobs nineten.BlobStore
	// UserChanged and ArtistChanged are called after a picture changed, so
	// that followers elsewhere see it (an Update of the actor).
	UserChanged   func(ctx context.Context, u *nineten.User)
	ArtistChanged func(ctx context.Context, a *nineten.Artist)
	Log           *slog.Logger // optional
}

// Prefix is where profile pictures live in the blob store. Each upload gets
// a new key (the name changes with the picture), so the file under a key
// never changes and may be cached for good.
const Prefix = "profiles"

// newKey names a new picture of owner ("u7", "a3").
func newKey(owner string, kind Kind, p *Picture) string {
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	return fmt.Sprintf("%s/%s-%s-%s.%s", Prefix, owner, kind, hex.EncodeToString(rnd[:]), p.Ext())
}

// slot is the field of a user or artist that holds kind's key.
func slot(avatar, header *string, kind Kind) *string {
	if kind == Header {
		return header
	}
	return avatar
}

// SetUser stores a new picture of u's (nil body: removes it).
func (s *Service) SetUser(ctx context.Context, u *nineten.User, kind Kind, body io.Reader) (*nineten.User, error) {
	const op = "picture.SetUser"
	if u == nil {
		return nil, nineten.E(op, nineten.KindUnauthenticated, "log in first")
	}
	if !kind.Valid() {
		return nil, nineten.E(op, nineten.KindNotFound, "a profile has an avatar and a header, nothing else")
	}
	key, err := s.store(ctx, op, fmt.Sprintf("u%d", u.ID), kind, body)
	if err != nil {
		return nil, err
	}
	var cur *nineten.User
	var old string
	err = s.Store.WithTx(ctx, func(tx nineten.Store) error {
		var err error
		if cur, err = tx.UserByID(ctx, u.ID); err != nil {
			return err
		}
		if cur.Deleted() {
			return nineten.E(op, nineten.KindNotFound, "this account is closed")
		}
		f := slot(&cur.Avatar, &cur.Header, kind)
		old, *f = *f, key
		return tx.UpdateUser(ctx, cur)
	})
	if err != nil {
		s.drop(ctx, key)
		return nil, nineten.E(op, err)
	}
	s.drop(ctx, old)
	if s.UserChanged != nil && (old != "" || key != "") {
		s.UserChanged(ctx, cur)
	}
	return cur, nil
}

// SetArtist stores a new picture of an artist profile (nil body: removes
// it); its owner or an admin only.
func (s *Service) SetArtist(ctx context.Context, u *nineten.User, id nineten.ID, kind Kind, body io.Reader) (*nineten.Artist, error) {
	const op = "picture.SetArtist"
	if u == nil {
		return nil, nineten.E(op, nineten.KindUnauthenticated, "log in first")
	}
	if !kind.Valid() {
		return nil, nineten.E(op, nineten.KindNotFound, "a profile has an avatar and a header, nothing else")
	}
	// Check before reading a large upload that it would be taken.
	if _, err := s.editableArtist(ctx, op, s.Store, u, id); err != nil {
		return nil, err
	}
	key, err := s.store(ctx, op, fmt.Sprintf("a%d", id), kind, body)
	if err != nil {
		return nil, err
	}
	var cur *nineten.Artist
	var old string
	err = s.Store.WithTx(ctx, func(tx nineten.Store) error {
		var err error
		if cur, err = s.editableArtist(ctx, op, tx, u, id); err != nil {
			return err
		}
		f := slot(&cur.Avatar, &cur.Header, kind)
		old, *f = *f, key
		return tx.UpdateArtist(ctx, cur)
	})
	if err != nil {
		s.drop(ctx, key)
		return nil, nineten.E(op, err)
	}
	s.drop(ctx, old)
	if s.ArtistChanged != nil && (old != "" || key != "") {
		s.ArtistChanged(ctx, cur)
	}
	return cur, nil
}

func (s *Service) editableArtist(ctx context.Context, op string, st nineten.Store, u *nineten.User, id nineten.ID) (*nineten.Artist, error) {
	a, err := st.ArtistByID(ctx, id)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if a.Deleted() {
		return nil, nineten.E(op, nineten.KindNotFound, fmt.Sprintf("artist %d is gone: its account was closed", a.ID))
	}
	if a.OwnerID != u.ID && u.Role != nineten.RoleAdmin {
		return nil, nineten.E(op, nineten.KindPermission, "only the artist's owner or an admin may change this profile")
	}
	return a, nil
}

// store processes and keeps an upload, returning its key; "" for no body.
func (s *Service) store(ctx context.Context, op, owner string, kind Kind, body io.Reader) (string, error) {
	if body == nil {
		return "", nil
	}
	p, err := Process(op, body, kind)
	if err != nil {
		return "", err
	}
	key := newKey(owner, kind, p)
	if _, err := s.Blobs.Put(ctx, key, bytes.NewReader(p.Data)); err != nil {
		return "", nineten.E(op, err)
	}
	return key, nil
}

// drop deletes a picture no longer used; a failure leaves an orphan file,
// not a broken profile, so it is not the caller's error.
func (s *Service) drop(ctx context.Context, key string) {
	if key == "" {
		return
	}
	if err := s.Blobs.Delete(ctx, key); err != nil && s.Log != nil {
		s.Log.WarnContext(ctx, "deleting a profile picture no longer used", "key", key, "err", err)
	}
}

// Closed erases the pictures of a closed account and of its artist
// profiles (the store has already forgotten their keys).
func (s *Service) Closed(ctx context.Context, c *nineten.ClosedAccount) {
	s.drop(ctx, c.User.Avatar)
	s.drop(ctx, c.User.Header)
	for _, a := range c.Artists {
		s.drop(ctx, a.Avatar)
		s.drop(ctx, a.Header)
	}
}
