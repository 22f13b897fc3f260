// Package sqlstore implements nineten.Store on SQLite, through the pure-Go
// driver modernc.org/sqlite, so that a node is one binary and one file.
//
// # Connections
//
// SQLite lets one connection write at a time. A pool of connections that all
// write would race for that lock, and a transaction that reads before it
// writes can fail outright with SQLITE_BUSY when it cannot upgrade its read
// lock. So a DB keeps two pools on the same file: a writer with exactly one
// connection, whose transactions begin IMMEDIATE (they take the write lock
// before reading anything), and a reader pool of several query-only
// connections that WAL mode lets run beside the writer. Writers of this
// process queue for the writer connection in database/sql instead of
// spinning in SQLite's busy handler.
//
// Every read outside a transaction goes to the reader pool, every write to
// the writer. Inside WithTx everything, reads included, goes to the one write
// transaction, so fn sees its own writes.
//
// # Time
//
// Times are stored as INTEGER Unix milliseconds in UTC; the zero time.Time is
// stored as 0 and read back as the zero time. Times read back are in UTC and
// truncated to the millisecond.
//
// # Deletes
//
// Deleting a track deletes its listen sessions, served segments and listens:
// history belongs to the track it counted for. Deleting an album keeps its
// tracks, as singles.
package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"nineten.dev"
)

//go:embed migrations/*.sql
var migrations embed.FS

// foldFunc is an SQL function that lower-cases its text argument with
// Unicode rules. SQLite's own lower(), NOCASE and LIKE fold ASCII only, which
// would make "ÉDITH" miss "Édith" in case-insensitive lookups.
const foldFunc = "nineten_fold"

func init() {
	sqlite.MustRegisterDeterministicScalarFunction(foldFunc, 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		switch v := args[0].(type) {
		case string:
			return strings.ToLower(v), nil
		case nil:
			return nil, nil
		default:
			return v, nil
		}
	})
}

// DB is a SQLite database holding a node's state. It implements
// nineten.Store and is safe for concurrent use.
type DB struct {
	store
	path   string
	reader *sql.DB
	writer *sql.DB
}

var _ nineten.Store = (*DB)(nil)

// Open opens (creating if needed) the database file at path, brings its
// schema up to date and returns it ready for use.
func Open(ctx context.Context, path string) (*DB, error) {
	const op = "sqlstore.Open"
	// The driver splits the DSN at the first '?', so such a path cannot be
	// told apart from its parameters.
	if path == "" || strings.Contains(path, "?") {
		return nil, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%q is not a usable database path", path))
	}
	common := "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)"
	writer, err := sql.Open("sqlite", path+"?"+common+
		"&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_txlock=immediate")
	if err != nil {
		return nil, nineten.E(op, err)
	}
	// One writer connection: SQLite runs one write transaction at a time
	// anyway, and waiting here is cheaper than in SQLite's busy handler.
	writer.SetMaxOpenConns(1)

	if err := migrate(ctx, writer); err != nil {
		writer.Close()
		return nil, nineten.E(op, "the database schema could not be brought up to date", err)
	}

	// The readers open only after the migrations so that none of them starts
	// on the file before it is in WAL mode.
	reader, err := sql.Open("sqlite", path+"?"+common+"&_pragma=query_only(1)")
	if err != nil {
		writer.Close()
		return nil, nineten.E(op, err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	reader.SetMaxOpenConns(n)
	reader.SetMaxIdleConns(n)

	db := &DB{path: path, reader: reader, writer: writer}
	db.store = store{read: reader, write: writer, db: db}
	return db, nil
}

func migrate(ctx context.Context, db *sql.DB) error {
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(database.DialectSQLite3, db, fsys)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Path returns the path of the database file.
func (db *DB) Path() string { return db.path }

// Close closes both connection pools.
func (db *DB) Close() error {
	return errors.Join(db.reader.Close(), db.writer.Close())
}

// querier is what *sql.DB and *sql.Tx have in common, so that the methods
// of store run unchanged on a pool or inside a transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// store implements nineten.Store. Outside a transaction read is the reader
// pool, write the writer, and db the DB they belong to; inside WithTx both
// are the transaction and db is nil.
type store struct {
	read  querier
	write querier
	db    *DB
}

// busyBackoff is how long WithTx waits before each retry of a transaction
// that failed with SQLITE_BUSY.
var busyBackoff = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond}

// WithTx runs fn in one write transaction, committed when fn returns nil and
// rolled back otherwise. Inside fn, the Store it is given runs every call in
// that transaction, and a nested WithTx simply runs in it too. (Writing
// through the DB itself inside fn would wait forever for the writer
// connection that the transaction holds.)
//
// Transactions of this process queue for the single writer connection, so
// SQLITE_BUSY only comes from outside: another process holding the write
// lock past the busy timeout (a backup, the sqlite3 shell, a second node
// binary by mistake), or a busy state SQLite reports without waiting, such
// as WAL recovery after a crash. Such a failure says nothing about fn, so
// the whole transaction is retried a few times after a short pause. fn may
// therefore run more than once and must have no effects outside the store.
func (s *store) WithTx(ctx context.Context, fn func(tx nineten.Store) error) error {
	return s.atomic(ctx, func(q querier) error {
		return fn(&store{read: q, write: q})
	})
}

// atomic runs fn in the current transaction, or in a new write transaction
// when there is none.
func (s *store) atomic(ctx context.Context, fn func(q querier) error) error {
	if s.db == nil {
		return fn(s.write)
	}
	for attempt := 0; ; attempt++ {
		err := s.db.transact(ctx, fn)
		if !isBusy(err) {
			return err
		}
		if attempt == len(busyBackoff) {
			return nineten.E("sqlstore.WithTx", nineten.KindUnavailable, "the database is busy; try again", err)
		}
		select {
		case <-ctx.Done():
			return nineten.E("sqlstore.WithTx", ctx.Err())
		case <-time.After(busyBackoff[attempt]):
		}
	}
}

func (db *DB) transact(ctx context.Context, fn func(q querier) error) error {
	tx, err := db.writer.BeginTx(ctx, nil)
	if err != nil {
		return nineten.E("sqlstore.WithTx", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return nineten.E("sqlstore.WithTx", err)
	}
	return nil
}

// snapshot runs fn, which only reads, on one consistent view of the
// database: the current transaction, or a read transaction on the reader
// pool. Listings use it so that a page and its total agree.
func (s *store) snapshot(ctx context.Context, fn func(q querier) error) error {
	if s.db == nil {
		return fn(s.read)
	}
	tx, err := s.db.reader.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// Ping reports whether both pools (or the transaction) can run a query.
func (s *store) Ping(ctx context.Context) error {
	const op = "sqlstore.Ping"
	for _, q := range []querier{s.read, s.write} {
		var one int
		if err := q.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
			return nineten.E(op, nineten.KindUnavailable, "the database does not answer", err)
		}
	}
	return nil
}

// sqliteCode returns the extended SQLite result code in err's chain, or 0.
func sqliteCode(err error) int {
	var e *sqlite.Error
	if errors.As(err, &e) {
		return e.Code()
	}
	return 0
}

func isBusy(err error) bool { return sqliteCode(err)&0xff == sqlite3.SQLITE_BUSY }

// dbError classifies an error of a statement run for op: a unique violation
// is KindConflict saying conflict, a foreign key violation KindInvalid;
// anything else is an internal error.
func dbError(op string, err error, conflict string) error {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return nineten.E(op, nineten.KindConflict, conflict, err)
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return nineten.E(op, nineten.KindInvalid, "it refers to something that does not exist", err)
	}
	return nineten.E(op, err)
}

// notFound is the error for a missing thing, e.g. notFound(op, "track %d", 7).
func notFound(op, format string, args ...any) error {
	return nineten.E(op, nineten.KindNotFound, fmt.Sprintf(format, args...)+" does not exist")
}

// mustAffect turns an UPDATE or DELETE that matched no row into a not-found
// error for what.
func mustAffect(op string, res sql.Result, err error, what string) error {
	if err != nil {
		return dbError(op, err, "")
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nineten.E(op, err)
	}
	if n == 0 {
		return notFound(op, "%s", what)
	}
	return nil
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a query and reads every row of it with scan.
func queryAll[T any](ctx context.Context, q querier, scan func(scanner) (*T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []T
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *v)
	}
	return out, rows.Err()
}

// Page sizes: what a zero Page.Limit means, and the most one page holds.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// window returns the LIMIT and OFFSET of p.
func window(p nineten.Page) (limit, offset int) {
	limit = p.Limit
	if limit <= 0 {
		limit = defaultLimit
	}
	return min(limit, maxLimit), max(p.Offset, 0)
}

// ms converts t to the stored representation.
func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// fromMS converts a stored time back.
func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v).UTC()
}

// now is the fallback for times a caller left zero.
func nowUTC() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

// nullID stores a zero ID, meaning none, as NULL.
func nullID(id nineten.ID) any {
	if id == 0 {
		return nil
	}
	return int64(id)
}

// where collects the conditions of a WHERE clause and their arguments.
type where struct {
	conds []string
	args  []any
}

func (w *where) add(cond string, args ...any) {
	w.conds = append(w.conds, cond)
	w.args = append(w.args, args...)
}

func (w *where) String() string {
	if len(w.conds) == 0 {
		return ""
	}
	return " WHERE " + strings.Join(w.conds, " AND ")
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
