package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"nineten.dev"
	"nineten.dev/testkit/storetest"
)

// openTemp opens a fresh database in the test's temporary directory.
func openTemp(t testing.TB) *DB {
	t.Helper()
	db, err := Open(context.Background(), filepath.Join(t.TempDir(), "nineten.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := db.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) nineten.Store { return openTemp(t) })
}

func TestOpenTwiceKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "nineten.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.CreateUser(ctx, &nineten.User{Username: "vera", Role: nineten.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	// The migrations were applied already; running them again is a no-op.
	db, err = Open(ctx, path)
	if err != nil {
		t.Fatalf("second Open: %v", err)
	}
	defer db.Close()
	if db.Path() != path {
		t.Errorf("Path() = %q, want %q", db.Path(), path)
	}
	if _, err := db.UserByUsername(ctx, "vera"); err != nil {
		t.Errorf("user lost by reopening: %v", err)
	}
}

func TestOpenRefusesAmbiguousPath(t *testing.T) {
	_, err := Open(t.Context(), filepath.Join(t.TempDir(), "what?.db"))
	if nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Errorf("Open of a path with '?' = %v, want KindInvalid", err)
	}
}

func TestPragmas(t *testing.T) {
	db := openTemp(t)
	for _, c := range []struct {
		pool *sql.DB
		name string
		want string
	}{
		{db.writer, "journal_mode", "wal"},
		{db.reader, "journal_mode", "wal"},
		{db.writer, "foreign_keys", "1"},
		{db.writer, "busy_timeout", "10000"},
		{db.reader, "busy_timeout", "10000"},
		{db.writer, "synchronous", "1"}, // NORMAL
		{db.reader, "query_only", "1"},
		{db.writer, "query_only", "0"},
	} {
		var got string
		if err := c.pool.QueryRow("PRAGMA " + c.name).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("PRAGMA %s = %s, want %s", c.name, got, c.want)
		}
	}
}

func TestReaderRefusesWrites(t *testing.T) {
	db := openTemp(t)
	_, err := db.reader.Exec(`INSERT INTO users (username, role, created_at) VALUES ('w', 'admin', 1)`)
	if err == nil {
		t.Fatal("the reader pool wrote a row")
	}
}

// Writers of one process queue for the single writer connection instead of
// failing with SQLITE_BUSY.
func TestConcurrentWritersDoNotFail(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	ls := seedSession(t, db)
	const writers, each = 16, 100
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				err := db.RecordServedSegment(ctx, nineten.ServedSegment{
					SessionID: ls.ID, Rendition: fmt.Sprint("r", w), Index: i, EndMS: 4000, ServedAt: time.UnixMilli(1),
				})
				if err != nil {
					t.Errorf("writer %d, segment %d: %v", w, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	segs, err := db.ServedSegments(ctx, ls.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(segs) != writers*each {
		t.Errorf("%d segments recorded, want %d", len(segs), writers*each)
	}
}

// A transaction that fails with SQLITE_BUSY runs again. The busy error here
// is real: fn meets the write lock its own transaction holds through a
// second connection that does not wait.
func TestWithTxRetriesWhenBusy(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	other, err := sql.Open("sqlite", db.Path()+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	calls := 0
	err = db.WithTx(ctx, func(tx nineten.Store) error {
		calls++
		if err := tx.CreateUser(ctx, &nineten.User{Username: fmt.Sprint("try", calls), Role: nineten.RoleListener}); err != nil {
			return err
		}
		if calls == 1 {
			_, err := other.ExecContext(ctx, `INSERT INTO users (username, role, created_at) VALUES ('other', 'admin', 1)`)
			if !isBusy(err) {
				t.Fatalf("the second connection got %v, want SQLITE_BUSY", err)
			}
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatalf("WithTx = %v after a busy first attempt, want success", err)
	}
	if calls != 2 {
		t.Errorf("fn ran %d times, want 2", calls)
	}
	if n, _ := db.CountUsers(ctx); n != 1 {
		t.Errorf("%d users, want only the second attempt's", n)
	}
}

func TestFTSQuery(t *testing.T) {
	for in, want := range map[string]string{
		"one more":     `"one"* "more"*`,
		`AC/DC`:        `"AC/DC"*`,
		`say "hi"`:     `"say"* """hi"""*`,
		`NEAR( a*`:     `"NEAR("* "a*"*`,
		`- " * ( ) ^ `: ``,
		"a\x00b":       `"a"* "b"*`,
		"🎸 rock":       `"rock"*`,
		"":             ``,
	} {
		if got := ftsQuery(in); got != want {
			t.Errorf("ftsQuery(%q) = %s, want %s", in, got, want)
		}
	}
}

// Case-insensitive lookups fold case beyond ASCII, which SQLite alone does
// not.
func TestUnicodeCaseFolding(t *testing.T) {
	db := openTemp(t)
	ctx := t.Context()
	u := &nineten.User{Username: "edith", Role: nineten.RoleArtist}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	a := &nineten.Artist{OwnerID: u.ID, Name: "Édith Piaf", Slug: "edith-piaf"}
	if err := db.CreateArtist(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateAlbum(ctx, &nineten.Album{ArtistID: a.ID, Title: "Éternelle"}); err != nil {
		t.Fatal(err)
	}
	if got, _, err := db.ListArtists(ctx, "ÉDITH", nineten.Page{}); err != nil || len(got) != 1 {
		t.Errorf("ListArtists(ÉDITH) = %v, %v; want Édith Piaf", got, err)
	}
	if _, err := db.AlbumByTitle(ctx, a.ID, "éTERNELLE"); err != nil {
		t.Errorf("AlbumByTitle(éTERNELLE): %v", err)
	}
}

// seedSession stores a user, an artist, a track and a listen session of it.
func seedSession(tb testing.TB, db *DB) *nineten.ListenSession {
	tb.Helper()
	ctx := context.Background()
	u := &nineten.User{Username: "seed", Role: nineten.RoleArtist}
	a := &nineten.Artist{Name: "Seed", Slug: "seed"}
	tr := &nineten.Track{Title: "Seed", Status: nineten.TrackReady}
	ls := &nineten.ListenSession{ID: "seed"}
	err := db.WithTx(ctx, func(tx nineten.Store) error {
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		a.OwnerID = u.ID
		if err := tx.CreateArtist(ctx, a); err != nil {
			return err
		}
		tr.ArtistID = a.ID
		if err := tx.CreateTrack(ctx, tr); err != nil {
			return err
		}
		ls.TrackID, ls.UserID = tr.ID, u.ID
		return tx.CreateListenSession(ctx, ls)
	})
	if err != nil {
		tb.Fatal(err)
	}
	return ls
}

func BenchmarkRecordServedSegment(b *testing.B) {
	db := openTemp(b)
	ls := seedSession(b, db)
	ctx := b.Context()
	i := 0
	for b.Loop() {
		err := db.RecordServedSegment(ctx, nineten.ServedSegment{
			SessionID: ls.ID, Rendition: "opus128", Index: i, StartMS: int64(i) * 4000, EndMS: int64(i+1) * 4000, ServedAt: time.UnixMilli(1),
		})
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
}

func BenchmarkUpdateListenProgress(b *testing.B) {
	db := openTemp(b)
	ls := seedSession(b, db)
	ctx := b.Context()
	for b.Loop() {
		ls.LastSeq++
		ls.HeardMS += 1000
		ls.PositionMS += 1000
		if err := db.UpdateListenProgress(ctx, ls); err != nil {
			b.Fatal(err)
		}
	}
}
