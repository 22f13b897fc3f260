// Package dbtest runs tests on every database engine sqlstore supports:
// SQLite in the test's temporary directory, and PostgreSQL through pgtest
// (a throwaway cluster per test binary, or NINETEN_TEST_POSTGRES). Each
// test gets a fresh, migrated database of its own.
//
// A test package that uses it must run its tests through Main, which stops
// the PostgreSQL cluster after them:
//
//	func TestMain(m *testing.M) { dbtest.Main(m) }
//
// and then, typically:
//
//	func TestSomething(t *testing.T) {
//		dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) { … })
//	}
//
// which runs the test as subtests named sqlite and postgres.
package dbtest

import (
	"context"
	"database/sql"
	"path/filepath"
	"strconv"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the pgx driver, for Raw
	_ "modernc.org/sqlite"             // the sqlite driver, for Raw

	"nineten.dev/sqlstore"
	"nineten.dev/testkit/pgtest"
)

// Dialects are the engines every test runs on, as sqlstore names them.
var Dialects = []string{sqlstore.SQLite, sqlstore.Postgres}

// Main runs the tests of m, stops the PostgreSQL cluster they started (if
// any) and exits with their status.
func Main(m *testing.M) { pgtest.Main(m) }

// Run is Main without the exit, for a TestMain that has more to do.
func Run(m *testing.M) int { return pgtest.Run(m) }

// Each runs fn once per dialect, as a subtest named after it, each with a
// fresh database that is closed when the subtest ends.
func Each(t *testing.T, fn func(t *testing.T, db *sqlstore.DB)) {
	t.Helper()
	EachDialect(t, func(t *testing.T, dialect string) { fn(t, Open(t, dialect)) })
}

// EachDialect runs fn once per dialect, as a subtest named after it, for
// tests that open databases themselves (with DSN).
func EachDialect(t *testing.T, fn func(t *testing.T, dialect string)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(d, func(t *testing.T) { fn(t, d) })
	}
}

// DSN returns what sqlstore.Open takes to open a new database of dialect
// for t: a path in t's temporary directory, or the URL of a new PostgreSQL
// database, already migrated and dropped when t ends. It can be opened any
// number of times, by this process or by another.
func DSN(t testing.TB, dialect string) string {
	t.Helper()
	switch dialect {
	case sqlstore.SQLite:
		return filepath.Join(t.TempDir(), "9ten.db")
	case sqlstore.Postgres:
		tpl := pgtest.Template(t, "sqlstore", func(url string) error {
			// Migrating once and copying the result makes a new database
			// in a fraction of the time migrations take.
			db, err := sqlstore.Open(context.Background(), url)
			if err != nil {
				return err
			}
			return db.Close()
		})
		return pgtest.NewDatabase(t, tpl)
	}
	t.Fatalf("dbtest: no dialect %q", dialect)
	return ""
}

// Open opens a new database of dialect for t, closed when t ends.
func Open(t testing.TB, dialect string) *sqlstore.DB {
	t.Helper()
	return OpenDSN(t, DSN(t, dialect))
}

// OpenDSN opens the database dsn for t, closed when t ends.
func OpenDSN(t testing.TB, dsn string) *sqlstore.DB {
	t.Helper()
	db, err := sqlstore.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Raw is a plain connection to a database, past the store, for tests that
// do what the store forbids (tampering with the ledger, say). Its methods
// take ? placeholders on both engines, and fail the test on error.
type Raw struct {
	*sql.DB
	Dialect string
	t       testing.TB
}

// OpenRaw opens a plain connection to the database dsn, closed when t
// ends.
func OpenRaw(t testing.TB, dsn string) *Raw {
	t.Helper()
	driver, dialect := "sqlite", sqlstore.SQLite
	if sqlstore.IsPostgres(dsn) {
		driver, dialect = "pgx", sqlstore.Postgres
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &Raw{DB: db, Dialect: dialect, t: t}
}

// Exec runs a statement, failing the test if it fails.
func (r *Raw) Exec(query string, args ...any) {
	r.t.Helper()
	if _, err := r.TryExec(query, args...); err != nil {
		r.t.Fatalf("%s: %v", query, err)
	}
}

// TryExec runs a statement and returns what it did.
func (r *Raw) TryExec(query string, args ...any) (sql.Result, error) {
	return r.DB.Exec(r.bind(query), args...)
}

// QueryRow runs a query that returns one row.
func (r *Raw) QueryRow(query string, args ...any) *sql.Row {
	return r.DB.QueryRow(r.bind(query), args...)
}

// bind numbers the ? placeholders for PostgreSQL. Test queries have no ?
// in their literals, so a plain count does.
func (r *Raw) bind(query string) string {
	if r.Dialect != sqlstore.Postgres {
		return query
	}
	var out []byte
	n := 0
	for i := 0; i < len(query); i++ {
		if query[i] == '?' {
			n++
			out = append(out, '$')
			out = strconv.AppendInt(out, int64(n), 10)
			continue
		}
		out = append(out, query[i])
	}
	return string(out)
}
