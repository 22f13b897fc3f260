package picture_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"path/filepath"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/blob/disk"
	"nineten.dev/picture"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
	"nineten.dev/testkit/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func pngOf(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for i := range img.Pix {
		img.Pix[i] = 200
	}
	img.Set(0, 0, color.RGBA{1, 2, 3, 255})
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// Setting, replacing and removing pictures on both engines: the key lands
// on the user or artist, the file in the blob store, the replaced file is
// deleted, followers are told once per change, and only an artist's owner
// (or an admin) may change its pictures.
func TestService(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		blobs, err := disk.Open(filepath.Join(t.TempDir(), "media"))
		if err != nil {
			t.Fatal(err)
		}
		var users, artists int
		s := &picture.Service{Store: db, Blobs: blobs,
			UserChanged:   func(context.Context, *nineten.User) { users++ },
			ArtistChanged: func(context.Context, *nineten.Artist) { artists++ },
		}
		ann := &nineten.User{Username: "ann", PasswordHash: "-", Role: nineten.RoleArtist, CreatedAt: time.Now()}
		bob := &nineten.User{Username: "bob", PasswordHash: "-", Role: nineten.RoleListener, CreatedAt: time.Now()}
		admin := &nineten.User{Username: "root", PasswordHash: "-", Role: nineten.RoleAdmin, CreatedAt: time.Now()}
		for _, u := range []*nineten.User{ann, bob, admin} {
			if err := db.CreateUser(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		band := &nineten.Artist{OwnerID: ann.ID, Name: "Band", Slug: "band", CreatedAt: time.Now()}
		if err := db.CreateArtist(ctx, band); err != nil {
			t.Fatal(err)
		}
		exists := func(key string) bool {
			b, err := blobs.Open(ctx, key)
			if err == nil {
				b.Close()
			}
			return err == nil
		}

		u, err := s.SetUser(ctx, ann, picture.Avatar, bytes.NewReader(pngOf(t, 600, 500)))
		if err != nil {
			t.Fatal(err)
		}
		first := u.Avatar
		stored, _ := db.UserByID(ctx, ann.ID)
		if first == "" || stored.Avatar != first || stored.Header != "" || !exists(first) || users != 1 {
			t.Fatalf("after setting: %q, stored %+v, file there %v, %d updates", first, stored, exists(first), users)
		}
		u, err = s.SetUser(ctx, ann, picture.Avatar, bytes.NewReader(pngOf(t, 300, 300)))
		if err != nil || u.Avatar == first || !exists(u.Avatar) || exists(first) || users != 2 {
			t.Fatalf("after replacing: %q (was %q), old file there %v, %v, %d updates", u.Avatar, first, exists(first), err, users)
		}
		// A refused upload changes nothing and tells nobody.
		if _, err := s.SetUser(ctx, ann, picture.Avatar, bytes.NewReader([]byte("GIF89a no"))); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("a forged GIF: %v", err)
		}
		second := u.Avatar
		if u, err = s.SetUser(ctx, ann, picture.Avatar, nil); err != nil || u.Avatar != "" || exists(second) || users != 3 {
			t.Fatalf("after removing: %+v, file there %v, %v, %d updates", u, exists(second), err, users)
		}
		// Removing what is not there is no change to tell.
		if _, err := s.SetUser(ctx, ann, picture.Header, nil); err != nil || users != 3 {
			t.Errorf("removing a missing header: %v, %d updates", err, users)
		}

		if _, err := s.SetArtist(ctx, bob, band.ID, picture.Header, bytes.NewReader(pngOf(t, 900, 300))); nineten.ErrorKind(err) != nineten.KindPermission {
			t.Errorf("another listener setting the band's header: %v", err)
		}
		a, err := s.SetArtist(ctx, ann, band.ID, picture.Header, bytes.NewReader(pngOf(t, 900, 300)))
		if err != nil || a.Header == "" || !exists(a.Header) || artists != 1 {
			t.Fatalf("the owner setting the header: %+v %v, %d updates", a, err, artists)
		}
		if a, err = s.SetArtist(ctx, admin, band.ID, picture.Avatar, bytes.NewReader(pngOf(t, 100, 100))); err != nil || a.Avatar == "" || a.Header == "" {
			t.Fatalf("an admin setting the avatar: %+v %v", a, err)
		}

		// Closing the account: the store forgets the keys, Closed the files.
		closed := &nineten.ClosedAccount{User: *ann, Artists: []nineten.Artist{*a}}
		if err := db.CloseAccount(ctx, ann.ID, time.Now()); err != nil {
			t.Fatal(err)
		}
		s.Closed(ctx, closed)
		if exists(a.Avatar) || exists(a.Header) {
			t.Error("a closed account's artist pictures are still stored")
		}
		if _, err := s.SetArtist(ctx, admin, band.ID, picture.Avatar, bytes.NewReader(pngOf(t, 100, 100))); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Errorf("a picture for a closed artist: %v", err)
		}
	})
}
