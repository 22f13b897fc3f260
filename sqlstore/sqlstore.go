// Package sqlstore implements nineten.Store on SQLite, so that a node is
// one binary and one file, and on PostgreSQL, so that several node
// processes can share one (managed) database. It is one implementation:
// the same methods and, but for a few fragments chosen by dialect, the same
// SQL run on both, written with ? placeholders and rebound to PostgreSQL's
// $1, $2, … on the way out. testkit/storetest pins down the behaviour, and
// the package's tests run it on both engines.
//
// Open chooses the engine by its argument: a postgres:// or postgresql://
// URL opens PostgreSQL (through pgx's database/sql driver), anything else
// is the path of a SQLite file (through the pure-Go modernc.org/sqlite).
//
// # Migrations
//
// The schema is versioned by goose, in two directories:
// migrations/sqlite and migrations/postgres. A version number means the
// same change on both engines, and each directory holds its own file for
// it, with the same name (a test checks that they pair up). Sharing the
// files is not possible in practice: the types (INTEGER PRIMARY KEY against
// identities, BLOB against BYTEA), the search index (an FTS5 virtual table
// against tsvector) and triggers (SQLite's against PL/pgSQL functions) all
// differ. The SQLite files are the ones existing nodes applied (versions 1
// to 6 were written for SQLite alone and moved unchanged; goose records
// versions, not file names), so existing databases upgrade as before. On
// PostgreSQL, goose holds an advisory lock while it migrates, so that
// processes starting together do not migrate the same database twice.
//
// # Connections and transactions on SQLite
//
// SQLite lets one connection write at a time. A pool of connections that all
// write would race for that lock, and a transaction that reads before it
// writes can fail outright with SQLITE_BUSY when it cannot upgrade its read
// lock. So a DB keeps two pools on the same file: a writer with exactly one
// connection, whose transactions begin IMMEDIATE (they take the write lock
// before reading anything), and a reader pool of several query-only
// connections that WAL mode lets run beside the writer. Writers of this
// process queue for the writer connection in database/sql instead of
// spinning in SQLite's busy handler; a transaction that meets SQLITE_BUSY
// anyway (another process holds the lock) is retried a few times.
//
// Every read outside a transaction goes to the reader pool, every write to
// the writer. Inside WithTx everything, reads included, goes to the one write
// transaction, so fn sees its own writes.
//
// # Connections and transactions on PostgreSQL
//
// PostgreSQL runs writers side by side, so a WithTx must be made to behave
// as if transactions ran one at a time, as they do on SQLite. Every write
// transaction therefore runs at the SERIALIZABLE isolation level, and one
// that fails with a serialization failure or a deadlock (SQLSTATE 40001,
// 40P01) is rolled back and run again, after a short random pause, for up
// to retryBudget; fn may therefore run more than once, as on SQLite.
// SERIALIZABLE was chosen over explicit row locks because it holds for
// every transaction, including those written later, without each having to
// know which rows to lock: PostgreSQL itself detects the interleavings that
// no serial order explains. Writes outside WithTx run the same way, each a
// serializable transaction of its own, so that no write escapes that check
// (a READ COMMITTED write beside a serializable transaction could, for
// instance, leave a track's search document with an artist's old name).
// This costs a BEGIN and a COMMIT per write. Reads outside a transaction are
// single statements, each on its own snapshot; listings that count and page
// read in one REPEATABLE READ, read-only transaction so that page and total
// agree. One pool serves reads and writes.
//
// The ledger log cannot fork even with several processes appending: an
// append reads the head and inserts the next entry in one serializable
// transaction, and the entry number is the log's primary key, so of two
// appends after the same head one fails (as a conflict, or as a
// serialization failure whose retry then finds the new head).
//
// # The job queue
//
// Jobs are rows in this database, claimed with a lease that heartbeats
// extend; a job whose lease runs out is handed out again. On PostgreSQL a
// claim picks its row with FOR UPDATE SKIP LOCKED in a READ COMMITTED
// transaction, so several processes claim from one queue without waiting on
// each other and never get the same job. The queue is our own rather than
// River: River's SQLite driver would mean two queues, River's on PostgreSQL
// and another on SQLite, with two behaviours to keep equal. One queue on
// both engines has identical semantics and one test suite (storetest's
// Jobs), and creating a track and queueing its job stays one transaction
// of the same store.
//
// # Search
//
// Track search is index-backed on both: FTS5 on SQLite, a tsvector document
// per track with a GIN index on PostgreSQL, kept up to date by triggers.
// Both match every term typed as a prefix, ignore case and diacritics
// (Unicode-wide) and treat punctuation inside a term as a phrase
// ("AC/DC"), so results are the same; ranking uses each engine's own
// relevance (bm25 and ts_rank), which agree on which of two tracks matches
// better in the plain cases the suite checks, not to the digit.
// Case-insensitive lookups and listings (usernames, artist names) fold case
// beyond ASCII on both; on PostgreSQL the NOCASE collation the queries name
// is an ICU collation created by the migrations.
//
// # Time
//
// Times are stored as integer Unix milliseconds in UTC; the zero time.Time is
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
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/database"
	"github.com/pressly/goose/v3/lock"

	"nineten.dev"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var migrations embed.FS

// Dialects, as Dialect names them.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// foldFunc is an SQL function that lower-cases its text argument with
// Unicode rules. SQLite's own lower(), NOCASE and LIKE fold ASCII only, which
// would make "ÉDITH" miss "Édith" in case-insensitive lookups; PostgreSQL's
// lower() depends on the database's locale. It is a Go function registered
// with the SQLite driver, and an SQL function on PostgreSQL.
const foldFunc = "nineten_fold"

// DB is a database holding a node's state. It implements nineten.Store and
// is safe for concurrent use.
type DB struct {
	store
	dsn    string
	path   string  // the SQLite file; "" on PostgreSQL
	reader *sql.DB // SQLite: query-only connections; PostgreSQL: the one pool
	writer *sql.DB // SQLite: the one writer connection; PostgreSQL: the one pool
	// SQLite: prepared statements of the reader and writer pools.
	readStmts, writeStmts *stmtCache
}

var _ nineten.Store = (*DB)(nil)

// Open opens the database dsn names, bringing its schema up to date: a
// PostgreSQL database given as a postgres:// or postgresql:// URL, or else
// the SQLite file at the path dsn, created if needed.
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgres(dsn) {
		return openPostgres(ctx, dsn)
	}
	return openSQLite(ctx, dsn)
}

// IsPostgres reports whether dsn names a PostgreSQL database rather than a
// SQLite file.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// migrate brings the schema of db up to date with the migrations of
// dialect.
func migrate(ctx context.Context, db *sql.DB, pg bool) error {
	dir, dialect := "migrations/sqlite", database.DialectSQLite3
	var opts []goose.ProviderOption
	if pg {
		dir, dialect = "migrations/postgres", database.DialectPostgres
		// Processes starting together take turns; the lock is polled
		// every second for up to ten minutes.
		locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
		if err != nil {
			return err
		}
		opts = append(opts, goose.WithSessionLocker(locker))
	}
	fsys, err := fs.Sub(migrations, dir)
	if err != nil {
		return err
	}
	p, err := goose.NewProvider(dialect, db, fsys, opts...)
	if err != nil {
		return err
	}
	_, err = p.Up(ctx)
	return err
}

// Dialect returns SQLite or Postgres.
func (db *DB) Dialect() string {
	if db.pg {
		return Postgres
	}
	return SQLite
}

// DSN returns what the database was opened with: a SQLite path or a
// PostgreSQL URL (with its password, if it has one).
func (db *DB) DSN() string { return db.dsn }

// Path returns the path of the SQLite file, or "" on PostgreSQL.
func (db *DB) Path() string { return db.path }

// Close closes the connection pools.
func (db *DB) Close() error {
	for _, c := range []*stmtCache{db.readStmts, db.writeStmts} {
		if c != nil {
			c.close()
		}
	}
	if db.reader == db.writer {
		return db.writer.Close()
	}
	return errors.Join(db.reader.Close(), db.writer.Close())
}

// sqlQuerier is what *sql.DB and *sql.Tx have in common.
type sqlQuerier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// querier is what the methods of store run statements on, written once for
// both dialects: a pool, a transaction, or a run of single-statement
// transactions.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) scanner
}

// conn runs statements on a pool or a transaction, translated for
// PostgreSQL when pg is set.
type conn struct {
	q     sqlQuerier
	pg    bool
	stmts *stmtCache // SQLite: prepared statements of the pool q is (or runs on)
}

func (c conn) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if c.pg {
		query, args = rebind(query), pgArgs(args)
	}
	if st := c.stmt(ctx, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return c.q.ExecContext(ctx, query, args...)
}

func (c conn) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if c.pg {
		query, args = rebind(query), pgArgs(args)
	}
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return c.q.QueryContext(ctx, query, args...)
}

func (c conn) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	if c.pg {
		query, args = rebind(query), pgArgs(args)
	}
	if st := c.stmt(ctx, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return c.q.QueryRowContext(ctx, query, args...)
}

// store implements nineten.Store. Outside a transaction read and write are
// where reads and writes go, and db the DB they belong to; inside WithTx
// both are the transaction and db is nil.
type store struct {
	read  querier
	write querier
	db    *DB
	pg    bool // PostgreSQL, not SQLite
}

// txKind is what a transaction is for, which sets how it begins.
type txKind int

const (
	// txWrite is WithTx and every write: IMMEDIATE on SQLite, SERIALIZABLE
	// on PostgreSQL.
	txWrite txKind = iota
	// txClaim claims a job: on PostgreSQL READ COMMITTED, with the row
	// locked FOR UPDATE SKIP LOCKED, so that claimers do not wait for (or
	// fail because of) each other. On SQLite it is txWrite.
	txClaim
)

// WithTx runs fn in one write transaction, committed when fn returns nil and
// rolled back otherwise. Inside fn, the Store it is given runs every call in
// that transaction, and a nested WithTx simply runs in it too. (Writing
// through the DB itself inside fn would, on SQLite, wait forever for the
// writer connection that the transaction holds.)
//
// A transaction that fails for a reason that says nothing about fn is run
// again after a short pause: on SQLite SQLITE_BUSY, which only comes from
// outside (another process holding the write lock past the busy timeout, or
// WAL recovery after a crash), a few times; on PostgreSQL a serialization
// failure or a deadlock, for up to retryBudget. fn may therefore run more
// than once and must have no effects outside the store.
func (s *store) WithTx(ctx context.Context, fn func(tx nineten.Store) error) error {
	return s.atomic(ctx, func(q querier) error {
		return fn(&store{read: q, write: q, pg: s.pg})
	})
}

// atomic runs fn in the current transaction, or in a new write transaction
// when there is none.
func (s *store) atomic(ctx context.Context, fn func(q querier) error) error {
	if s.db == nil {
		return fn(s.write)
	}
	return s.db.run(ctx, txWrite, fn)
}

// busyBackoff is how long a SQLite transaction that failed with SQLITE_BUSY
// waits before each retry.
var busyBackoff = []time.Duration{10 * time.Millisecond, 50 * time.Millisecond, 200 * time.Millisecond}

// retryBudget is how long a PostgreSQL transaction keeps being retried
// after serialization failures: under heavy contention for one row, each
// round lets one of the contenders through.
const retryBudget = 15 * time.Second

// run runs fn in a transaction of kind, retrying it as WithTx says.
func (db *DB) run(ctx context.Context, kind txKind, fn func(q querier) error) error {
	start := time.Now()
	for attempt := 0; ; attempt++ {
		err := db.transact(ctx, kind, fn)
		if !db.retryable(err) {
			return err
		}
		var wait time.Duration
		if db.pg {
			if time.Since(start) > retryBudget {
				return nineten.E("sqlstore.WithTx", nineten.KindUnavailable, "the database is too busy to serialize this change; try again", err)
			}
			// Random pauses, growing to 100ms, keep the contenders of
			// one round from meeting again in the next.
			wait = rand.N(min(100*time.Millisecond, time.Millisecond<<min(attempt, 7))) + time.Millisecond
		} else {
			if attempt == len(busyBackoff) {
				return nineten.E("sqlstore.WithTx", nineten.KindUnavailable, "the database is busy; try again", err)
			}
			wait = busyBackoff[attempt]
		}
		select {
		case <-ctx.Done():
			return nineten.E("sqlstore.WithTx", ctx.Err())
		case <-time.After(wait):
		}
	}
}

// retryable reports whether err failed a transaction for a reason that
// running it again may cure.
func (db *DB) retryable(err error) bool {
	if err == nil {
		return false
	}
	if db.pg {
		return isSerializationFailure(err)
	}
	return isBusy(err)
}

func (db *DB) transact(ctx context.Context, kind txKind, fn func(q querier) error) error {
	var opts *sql.TxOptions // SQLite: the writer's transactions begin IMMEDIATE
	if db.pg {
		opts = &sql.TxOptions{Isolation: sql.LevelSerializable}
		if kind == txClaim {
			opts.Isolation = sql.LevelReadCommitted
		}
	}
	tx, err := db.writer.BeginTx(ctx, opts)
	if err != nil {
		return nineten.E("sqlstore.WithTx", err)
	}
	if err := fn(conn{q: tx, pg: db.pg, stmts: db.writeStmts}); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return nineten.E("sqlstore.WithTx", err)
	}
	return nil
}

// serialized is where a DB on PostgreSQL writes outside a transaction:
// each statement runs as a serializable transaction of its own, retried
// like WithTx, so that single writes are serialized with transactions too.
type serialized struct{ db *DB }

func (s serialized) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	var res sql.Result
	err := s.db.run(ctx, txWrite, func(q querier) error {
		var err error
		res, err = q.ExecContext(ctx, query, args...)
		return err
	})
	return res, err
}

// QueryContext runs a query on the pool outside a transaction: rows that
// are read after it returns cannot be part of a retried transaction. (No
// method reads rows through the writer outside a transaction.)
func (s serialized) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	return conn{q: s.db.writer, pg: true}.QueryContext(ctx, query, args...)
}

// QueryRowContext runs the statement, a write returning a row, when its
// row is scanned, so that scanning is part of the transaction (and of its
// retries).
func (s serialized) QueryRowContext(ctx context.Context, query string, args ...any) scanner {
	return scanFunc(func(dest ...any) error {
		return s.db.run(ctx, txWrite, func(q querier) error {
			return q.QueryRowContext(ctx, query, args...).Scan(dest...)
		})
	})
}

// scanFunc is a scanner that is a function.
type scanFunc func(dest ...any) error

func (f scanFunc) Scan(dest ...any) error { return f(dest...) }

// snapshot runs fn, which only reads, on one consistent view of the
// database: the current transaction, or a read-only transaction on the
// reader pool. Listings use it so that a page and its total agree.
func (s *store) snapshot(ctx context.Context, fn func(q querier) error) error {
	if s.db == nil {
		return fn(s.read)
	}
	opts := &sql.TxOptions{ReadOnly: true}
	if s.pg {
		// READ COMMITTED would take a new snapshot per statement.
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := s.db.reader.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(conn{q: tx, pg: s.pg, stmts: s.db.readStmts})
}

// Ping reports whether the database answers reads and writes (or the
// transaction can run a query).
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

// dbError classifies an error of a statement run for op: a unique violation
// is KindConflict saying conflict, a foreign key violation KindInvalid, as
// is text PostgreSQL cannot store; anything else is an internal error.
func dbError(op string, err error, conflict string) error {
	switch constraint(err) {
	case violatesUnique:
		return nineten.E(op, nineten.KindConflict, conflict, err)
	case violatesForeignKey:
		return nineten.E(op, nineten.KindInvalid, "it refers to something that does not exist", err)
	case badText:
		return nineten.E(op, nineten.KindInvalid, "the text contains a NUL character or is not valid UTF-8", err)
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

// Unique keys and transactions: a method that finds a unique key taken
// (a username, an artist's address, a session) returns KindConflict
// without the database raising an error, through ON CONFLICT DO NOTHING or
// a NOT EXISTS guard. A caller may then carry on in the same transaction,
// as catalog does when it tries the next free address: on PostgreSQL a
// failed statement aborts the whole transaction, on SQLite it does not, and
// this way both keep it usable. (A race with another writer can still end
// in a unique violation, which PostgreSQL's serializable transactions
// mostly turn into a retried serialization failure.) Other errors, such as
// a foreign key that points nowhere, still end a PostgreSQL transaction:
// its later statements fail, so fn should return them.

// inserted is the result of an INSERT … ON CONFLICT DO NOTHING: a conflict
// when it inserted nothing.
func inserted(op string, res sql.Result, err error, conflict string) error {
	if err != nil {
		return dbError(op, err, conflict)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return nineten.E(op, err)
	}
	if n == 0 {
		return nineten.E(op, nineten.KindConflict, conflict)
	}
	return nil
}

// updatedOrTaken is the result of an UPDATE of row id of table guarded by
// NOT EXISTS against taking a unique key: not found when the row does not
// exist, a conflict when it does (and so the key was taken).
func (s *store) updatedOrTaken(ctx context.Context, op string, res sql.Result, table string, id nineten.ID, what, conflict string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return nineten.E(op, err)
	}
	if n > 0 {
		return nil
	}
	var one int
	err = s.write.QueryRowContext(ctx, `SELECT 1 FROM `+table+` WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op, "%s", what)
	}
	if err != nil {
		return dbError(op, err, "")
	}
	return nineten.E(op, nineten.KindConflict, conflict)
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

// whereIn adds "col IN (?, …)" for vals; nothing when vals is empty.
func whereIn[T ~string](w *where, col string, vals []T) {
	if len(vals) == 0 {
		return
	}
	args := make([]any, len(vals))
	for i, v := range vals {
		args[i] = string(v)
	}
	w.add(col+" IN ("+placeholders(len(args))+")", args...)
}

// placeholders returns "?, ?, ?" for n arguments.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}
