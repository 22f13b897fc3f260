package sqlstore_test

import (
	"testing"
	"time"

	"nineten.dev"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// Accounts are disabled rather than deleted by the node, so the Store port
// has no way to delete a user; should one be deleted in the database (by
// an operator, or a future feature), their playlists go with them and
// nobody else's change.
func TestDeletingAUserDeletesTheirPlaylists(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		dsn := dbtest.DSN(t, dialect)
		db := dbtest.OpenDSN(t, dsn)
		now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
		var users []*nineten.User
		var lists []*nineten.Playlist
		for _, name := range []string{"gone", "stays"} {
			u := &nineten.User{Username: name, Role: nineten.RoleListener, CreatedAt: now}
			must(t, db.CreateUser(ctx, u))
			p := &nineten.Playlist{OwnerID: u.ID, Title: name + "'s", Public: true, CreatedAt: now, UpdatedAt: now}
			must(t, db.CreatePlaylist(ctx, p))
			must(t, db.AddPlaylistItem(ctx, p.ID, &nineten.PlaylistItem{Remote: nineten.RemoteItem{IRI: "https://b.example/tracks/1"}, AddedAt: now}))
			users, lists = append(users, u), append(lists, p)
		}
		raw := dsn
		if dialect == sqlstore.SQLite {
			raw += "?_pragma=foreign_keys(1)" // as the store opens it
		}
		dbtest.OpenRaw(t, raw).Exec(`DELETE FROM users WHERE id = ?`, users[0].ID)
		if _, err := db.PlaylistByID(ctx, lists[0].ID); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Errorf("the playlist of a deleted user: %v", err)
		}
		if items, err := db.PlaylistItems(ctx, lists[0].ID); err != nil || len(items) != 0 {
			t.Errorf("items of a deleted user's playlist: %v, %v", items, err)
		}
		kept, total, err := db.ListPlaylists(ctx, nineten.PlaylistFilter{PublicOnly: true}, nineten.Page{})
		if err != nil || total != 1 || kept[0].ID != lists[1].ID || kept[0].ItemCount != 1 {
			t.Errorf("public playlists after the deletion: %+v (%d), %v", kept, total, err)
		}
	})
}
