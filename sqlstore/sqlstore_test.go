package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"nineten.dev"
	"nineten.dev/testkit/pgtest"
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
		"a\xffb":       "\"a\uFFFDb\"*",
		"\xff\xfe":     ``,
		"🎸 rock":       `"rock"*`,
		"":             ``,
	} {
		if got := ftsQuery(in); got != want {
			t.Errorf("ftsQuery(%q) = %s, want %s", in, got, want)
		}
	}
}

// The store's SQL is written with ? placeholders; PostgreSQL gets $n, and
// question marks that are not placeholders stay.
func TestRebind(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`:                                      `SELECT 1`,
		`UPDATE t SET a = ?, b = ? WHERE c = ?`:         `UPDATE t SET a = $1, b = $2 WHERE c = $3`,
		`SELECT '?', "?x", ? FROM t WHERE s = 'it''s?'`: `SELECT '?', "?x", $1 FROM t WHERE s = 'it''s?'`,
		"SELECT ? -- why?\n, ?":                         "SELECT $1 -- why?\n, $2",
		`SELECT /* ? */ ?`:                              `SELECT /* ? */ $1`,
		`SELECT 'unterminated ?`:                        `SELECT 'unterminated ?`,
		"SELECT ? -- to the end ?":                      "SELECT $1 -- to the end ?",
		`SELECT ? /* open ?`:                            `SELECT $1 /* open ?`,
	} {
		if got := rebind(in); got != want {
			t.Errorf("rebind(%q) = %q, want %q", in, got, want)
		}
	}
	for i := 1; i <= 12; i++ {
		q := rebind(placeholders(i))
		if !strings.HasSuffix(q, fmt.Sprintf("$%d", i)) {
			t.Errorf("rebind(placeholders(%d)) = %q", i, q)
		}
	}
}

// Flags are INTEGER on both engines; pgx needs them as numbers.
func TestPgArgs(t *testing.T) {
	in := []any{true, false, "x", int64(3), nil}
	got := pgArgs(in)
	want := []any{int64(1), int64(0), "x", int64(3), nil}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("pgArgs(%v) = %v, want %v", in, got, want)
	}
	if in[0] != true {
		t.Error("pgArgs changed its argument")
	}
}

// pool_max_conns in a PostgreSQL URL caps the store's connections and
// does not reach the server (which would refuse an unknown parameter).
func TestPoolMaxConns(t *testing.T) {
	dsn := pgtest.NewDatabase(t, "") + "&pool_max_conns=3"
	db, err := Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if n := db.writer.Stats().MaxOpenConnections; n != 3 {
		t.Errorf("at most %d connections, want 3", n)
	}
	if err := db.Ping(t.Context()); err != nil {
		t.Error(err)
	}
}
