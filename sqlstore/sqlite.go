package sqlstore

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"runtime"
	"strings"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"nineten.dev"
)

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

// openSQLite opens (creating if needed) the SQLite file at path.
func openSQLite(ctx context.Context, path string) (*DB, error) {
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

	if err := migrate(ctx, writer, false); err != nil {
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

	db := &DB{dsn: path, path: path, reader: reader, writer: writer, readStmts: newStmtCache(reader), writeStmts: newStmtCache(writer)}
	db.store = store{read: conn{q: reader, stmts: db.readStmts}, write: conn{q: writer, stmts: db.writeStmts}, db: db}
	return db, nil
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

// violation is the kind of constraint a failed statement broke.
type violation int

const (
	violatesNothing violation = iota
	violatesUnique
	violatesForeignKey
	violatesCheck
	badText // PostgreSQL only: a NUL character or invalid UTF-8
)

// constraint returns what constraint err, from either engine, says was
// broken.
func constraint(err error) violation {
	switch sqliteCode(err) {
	case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
		return violatesUnique
	case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
		return violatesForeignKey
	case sqlite3.SQLITE_CONSTRAINT_CHECK:
		return violatesCheck
	}
	return pgConstraint(err)
}
