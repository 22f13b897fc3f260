package sqlstore_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"nineten.dev"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
	"nineten.dev/testkit/storetest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// The conformance suite of the Store port, on each engine.
func TestStore(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		storetest.Run(t, func(t *testing.T) nineten.Store { return dbtest.Open(t, dialect) })
	})
}

func TestOpenTwiceKeepsData(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		dsn := dbtest.DSN(t, dialect)
		db, err := sqlstore.Open(ctx, dsn)
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
		db, err = sqlstore.Open(ctx, dsn)
		if err != nil {
			t.Fatalf("second Open: %v", err)
		}
		defer db.Close()
		if db.Dialect() != dialect || db.DSN() != dsn {
			t.Errorf("Dialect(), DSN() = %q, %q; want %q, %q", db.Dialect(), db.DSN(), dialect, dsn)
		}
		if dialect == sqlstore.SQLite && db.Path() != dsn {
			t.Errorf("Path() = %q, want %q", db.Path(), dsn)
		}
		if _, err := db.UserByUsername(ctx, "vera"); err != nil {
			t.Errorf("user lost by reopening: %v", err)
		}
	})
}

// A version means the same change on both engines: each has a file for
// it, with the same name.
func TestMigrationsPairUp(t *testing.T) {
	names := func(dir string) []string {
		paths, err := fs.Glob(sqlstore.Migrations, dir+"/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, p := range paths {
			out = append(out, filepath.Base(p))
		}
		return out
	}
	lite, pg := names("migrations/sqlite"), names("migrations/postgres")
	if len(lite) < 6 || !slices.Equal(lite, pg) {
		t.Errorf("migrations differ:\nsqlite:   %v\npostgres: %v", lite, pg)
	}
}

// Writers do not fail for being many at once: on SQLite they queue for
// the single writer connection instead of failing with SQLITE_BUSY; on
// PostgreSQL the ones that collide are retried.
func TestConcurrentWritersDoNotFail(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		ls := seedSession(t, db)
		const writers, each = 16, 50
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
	})
}

// Case-insensitive lookups fold case beyond ASCII, which neither SQLite
// nor a C-locale PostgreSQL does alone.
func TestUnicodeCaseFolding(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
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
	})
}

// Two handles on one database are two node processes sharing it: they
// claim from one queue, and every job is handed out exactly once.
func TestTwoProcessesShareTheQueue(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		dsn := dbtest.DSN(t, dialect)
		a, b := dbtest.OpenDSN(t, dsn), dbtest.OpenDSN(t, dsn)
		const jobs = 60
		now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
		for i := range jobs {
			if err := a.Enqueue(ctx, &nineten.Job{Kind: "k", RunAt: now, CreatedAt: now, Payload: []byte(strconv.Itoa(i))}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		handedOut := map[nineten.ID]int{}
		var wg sync.WaitGroup
		for w := range 8 {
			db := []*sqlstore.DB{a, b}[w%2]
			wg.Go(func() {
				for {
					j, err := db.Claim(ctx, []string{"k"}, now.Add(time.Second), time.Minute)
					if err != nil {
						t.Errorf("Claim: %v", err)
						return
					}
					if j == nil {
						return
					}
					mu.Lock()
					handedOut[j.ID]++
					mu.Unlock()
					if err := db.Complete(ctx, j.ID, now.Add(2*time.Second)); err != nil {
						t.Errorf("Complete: %v", err)
					}
				}
			})
		}
		wg.Wait()
		if len(handedOut) != jobs {
			t.Errorf("%d jobs handed out, want %d", len(handedOut), jobs)
		}
		for id, n := range handedOut {
			if n != 1 {
				t.Errorf("job %d handed out %d times", id, n)
			}
		}
	})
}

// Two processes append to the ledger at once, each reading the head and
// appending the entry after it, again and again: the log stays one chain
// (every commit either succeeds at the next place or is refused as a
// conflict), and it holds every entry that succeeded.
func TestTwoProcessesCannotForkTheLedger(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		dsn := dbtest.DSN(t, dialect)
		handles := []*sqlstore.DB{dbtest.OpenDSN(t, dsn), dbtest.OpenDSN(t, dsn)}
		const writers, each = 6, 15
		var mu sync.Mutex
		committed := map[string]bool{}
		var wg sync.WaitGroup
		for w := range writers {
			db := handles[w%2]
			wg.Go(func() {
				for i := 0; i < each; {
					seq, prev, err := db.LedgerHead(ctx)
					if err != nil {
						t.Error(err)
						return
					}
					if seq == 0 {
						prev = make([]byte, 32)
					}
					e := entry(seq+1, prev, fmt.Sprintf("w%d-%d", w, i))
					err = db.LedgerCommit(ctx, e, []nineten.LedgerWrite{{Key: fmt.Sprintf("w/%d", w), Value: []byte(strconv.Itoa(i))}})
					switch nineten.ErrorKind(err) {
					case nineten.KindOther:
						if err != nil {
							t.Errorf("writer %d: %v", w, err)
							return
						}
						mu.Lock()
						committed[e.Op] = true
						mu.Unlock()
						i++
					case nineten.KindConflict: // another writer took the place: read the head again
					default:
						t.Errorf("writer %d: %v", w, err)
						return
					}
				}
			})
		}
		wg.Wait()
		var prev []byte = make([]byte, 32)
		var n int64
		err := handles[0].LedgerEntries(ctx, 1, func(e nineten.LedgerEntry) error {
			n++
			if e.Seq != n || string(e.Prev) != string(prev) {
				return fmt.Errorf("entry %d (seq %d) does not follow the one before", n, e.Seq)
			}
			if !committed[e.Op] {
				return fmt.Errorf("entry %d (%s) is not one that was committed", e.Seq, e.Op)
			}
			prev = e.Hash
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if n != writers*each || len(committed) != writers*each {
			t.Errorf("the log has %d entries, %d commits succeeded; want %d", n, len(committed), writers*each)
		}
	})
}

// entry is ledger entry seq after prev, with made-up contents whose hash
// is distinct.
func entry(seq int64, prev []byte, op string) nineten.LedgerEntry {
	h := make([]byte, 32)
	copy(h, fmt.Sprintf("%d/%s", seq, op))
	return nineten.LedgerEntry{Seq: seq, Prev: prev, Op: op, Args: []byte(`{}`), Writes: []byte(`[]`), Events: []byte(`[]`),
		Hash: h, Signer: "ed25519:test", Sig: []byte("sig"), At: time.UnixMilli(seq)}
}

// A read-modify-write in WithTx from several processes at once loses no
// update: transactions behave as if they ran one at a time. (On PostgreSQL
// at READ COMMITTED, without retries, this loses most of them.)
func TestWithTxIsSerialAcrossProcesses(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		ctx := t.Context()
		dsn := dbtest.DSN(t, dialect)
		handles := []*sqlstore.DB{dbtest.OpenDSN(t, dsn), dbtest.OpenDSN(t, dsn)}
		u := &nineten.User{Username: "counter", DisplayName: "0", Role: nineten.RoleListener}
		if err := handles[0].CreateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
		const workers, each = 8, 10
		var wg sync.WaitGroup
		for w := range workers {
			db := handles[w%2]
			wg.Go(func() {
				for range each {
					err := db.WithTx(ctx, func(tx nineten.Store) error {
						cur, err := tx.UserByID(ctx, u.ID)
						if err != nil {
							return err
						}
						n, _ := strconv.Atoi(cur.DisplayName)
						cur.DisplayName = strconv.Itoa(n + 1)
						return tx.UpdateUser(ctx, cur)
					})
					if err != nil {
						t.Errorf("WithTx: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		got, err := handles[1].UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.DisplayName != strconv.Itoa(workers*each) {
			t.Errorf("after %d increments the counter is %s", workers*each, got.DisplayName)
		}
	})
}

// A transaction that loses a serialization conflict on PostgreSQL runs
// again, and only its last run's writes remain. The conflict here is real:
// between fn's read and its write, another process changes what it read.
func TestWithTxRetriesSerializationFailures(t *testing.T) {
	ctx := t.Context()
	dsn := dbtest.DSN(t, sqlstore.Postgres)
	db, other := dbtest.OpenDSN(t, dsn), dbtest.OpenDSN(t, dsn)
	u := &nineten.User{Username: "una", DisplayName: "first", Role: nineten.RoleListener}
	if err := db.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	calls := 0
	err := db.WithTx(ctx, func(tx nineten.Store) error {
		calls++
		cur, err := tx.UserByID(ctx, u.ID)
		if err != nil {
			return err
		}
		if calls == 1 {
			changed := *cur
			changed.DisplayName = "changed meanwhile"
			if err := other.UpdateUser(ctx, &changed); err != nil {
				t.Fatalf("the other process: %v", err)
			}
		}
		cur.DisplayName = cur.DisplayName + " (seen by attempt " + strconv.Itoa(calls) + ")"
		return tx.UpdateUser(ctx, cur)
	})
	if err != nil {
		t.Fatalf("WithTx = %v; want success after a retry", err)
	}
	if calls != 2 {
		t.Errorf("fn ran %d times, want 2", calls)
	}
	got, err := db.UserByID(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := "changed meanwhile (seen by attempt 2)"; got.DisplayName != want {
		t.Errorf("display name %q, want %q", got.DisplayName, want)
	}
}

// A transaction that keeps failing for its own reasons is not retried.
func TestWithTxDoesNotRetryErrorsOfFn(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		calls := 0
		errMine := errors.New("mine")
		err := db.WithTx(t.Context(), func(nineten.Store) error { calls++; return errMine })
		if !errors.Is(err, errMine) || calls != 1 {
			t.Errorf("WithTx = %v after %d calls; want fn's error after one", err, calls)
		}
	})
}

// Opening refuses what cannot be a database, saying so.
func TestOpenRefusesBadPostgresURLs(t *testing.T) {
	ctx := context.Background()
	for _, dsn := range []string{
		"postgres://127.0.0.1:5432/x?pool_max_conns=none",
		"postgres://127.0.0.1:5432/x?pool_max_conns=0",
		"postgres://[::1/x",
		"postgres://127.0.0.1:5432/x?sslmode=bogus",
	} {
		if _, err := sqlstore.Open(ctx, dsn); nineten.ErrorKind(err) != nineten.KindInvalid {
			t.Errorf("Open(%q) = %v; want KindInvalid", dsn, err)
		}
	}
}

// seedSession stores a user, an artist, a track and a listen session of it.
func seedSession(tb testing.TB, db *sqlstore.DB) *nineten.ListenSession {
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

func benchEach(b *testing.B, fn func(b *testing.B, db *sqlstore.DB)) {
	for _, d := range dbtest.Dialects {
		b.Run(d, func(b *testing.B) { fn(b, dbtest.Open(b, d)) })
	}
}

func BenchmarkRecordServedSegment(b *testing.B) {
	benchEach(b, func(b *testing.B, db *sqlstore.DB) {
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
	})
}

func BenchmarkUpdateListenProgress(b *testing.B) {
	benchEach(b, func(b *testing.B, db *sqlstore.DB) {
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
	})
}
