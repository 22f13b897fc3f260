package sqlstore

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"

	"nineten.dev"
)

// The embedded ledger's tables (migration 00006): ledger_state is the
// contract's key-value world state, ledger_log the chained entries. Keys are
// TEXT in the BINARY collation on SQLite and the "C" collation on
// PostgreSQL, so ORDER BY key is byte order, the order Go compares strings
// in and the contract's Range promises.

// emptyHash is the Prev of entry 1.
var emptyHash = make([]byte, 32)

// nonNil makes a nil slice an empty one: the driver binds nil as NULL, and
// the columns holding bytes are NOT NULL.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

func (s *store) LedgerGet(ctx context.Context, key string) ([]byte, error) {
	const op = "sqlstore.LedgerGet"
	var v []byte
	err := s.read.QueryRowContext(ctx, `SELECT value FROM ledger_state WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return nonNil(v), nil
}

// LedgerRange streams the rows: a range may be the whole state, and the
// reader's snapshot keeps the view consistent while fn runs.
func (s *store) LedgerRange(ctx context.Context, start, end string, fn func(key string, value []byte) error) error {
	const op = "sqlstore.LedgerRange"
	// Two queries rather than "(? = '' OR key < ?)", which would keep
	// SQLite from stopping the index scan at end: the contract ranges over
	// small prefixes of a large state.
	query, args := `SELECT key, value FROM ledger_state WHERE key >= ? AND key < ? ORDER BY key`, []any{start, end}
	if end == "" {
		query, args = `SELECT key, value FROM ledger_state WHERE key >= ? ORDER BY key`, []any{start}
	}
	rows, err := s.read.QueryContext(ctx, query, args...)
	if err != nil {
		return dbError(op, err, "")
	}
	defer rows.Close()
	for rows.Next() {
		var k string
		var v []byte
		if err := rows.Scan(&k, &v); err != nil {
			return dbError(op, err, "")
		}
		if err := fn(k, nonNil(v)); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return dbError(op, err, "")
	}
	return nil
}

func (s *store) LedgerCommit(ctx context.Context, e nineten.LedgerEntry, writes []nineten.LedgerWrite) error {
	const op = "sqlstore.LedgerCommit"
	return s.atomic(ctx, func(q querier) error {
		// Checked in the write transaction, so that two writers (two
		// processes on one database) cannot both append the same entry
		// number with different contents: the second finds the first's
		// head. (On PostgreSQL the transaction is serializable: a second
		// writer that read the same head fails at the primary key or with
		// a serialization failure, and its retry finds the new head.)
		head, headHash, err := ledgerHead(ctx, q)
		if err != nil {
			return dbError(op, err, "")
		}
		if head == 0 {
			headHash = emptyHash
		}
		if e.Seq != head+1 {
			return nineten.E(op, nineten.KindConflict,
				fmt.Sprintf("entry %d cannot be appended: the log ends at entry %d", e.Seq, head))
		}
		if !bytes.Equal(e.Prev, headHash) {
			return nineten.E(op, nineten.KindConflict,
				fmt.Sprintf("entry %d does not follow entry %d: its prev is not that entry's hash", e.Seq, head))
		}
		_, err = q.ExecContext(ctx,
			`INSERT INTO ledger_log (seq, prev, op, args, writes, events, hash, signer, sig, at)
			 VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			e.Seq, nonNil(e.Prev), e.Op, nonNil(e.Args), nonNil(e.Writes), nonNil(e.Events),
			nonNil(e.Hash), e.Signer, nonNil(e.Sig), ms(e.At))
		if err != nil {
			return ledgerError(op, err, fmt.Sprintf("entry %d exists already", e.Seq))
		}
		// The state writes follow the log entry in the same transaction: a
		// failing write (or a crash before COMMIT) takes the entry with it.
		return upsertState(ctx, q, writes)
	})
}

// stateChunk is how many state rows one INSERT writes. A settlement writes
// over a hundred thousand rows in one entry; one statement per row spent
// most of the commit crossing into the database driver, while a few hundred
// rows per statement stays far below both engines' limits on parameters
// (SQLite 32,766, PostgreSQL 65,535).
const stateChunk = 256

// upsertState writes the state rows of an entry, stateChunk rows per
// statement. The writes come sorted with distinct keys (a view records one
// value per key), which PostgreSQL needs: one INSERT … ON CONFLICT may not
// touch a row twice.
func upsertState(ctx context.Context, q querier, writes []nineten.LedgerWrite) error {
	const op = "sqlstore.LedgerCommit"
	args := make([]any, 0, 2*min(len(writes), stateChunk))
	for len(writes) > 0 {
		n := min(len(writes), stateChunk)
		args = args[:0]
		for _, w := range writes[:n] {
			args = append(args, w.Key, nonNil(w.Value))
		}
		if _, err := q.ExecContext(ctx, upsertStateQuery(n), args...); err != nil {
			return ledgerError(op, err, "")
		}
		writes = writes[n:]
	}
	return nil
}

// fullStateChunk is the text of a full chunk's statement, built once so
// that the statement cache can reuse its preparation.
var fullStateChunk = buildUpsertState(stateChunk)

func upsertStateQuery(rows int) string {
	if rows == stateChunk {
		return fullStateChunk
	}
	return buildUpsertState(rows)
}

func buildUpsertState(rows int) string {
	return "INSERT INTO ledger_state (key, value) VALUES " + rowsOf(rows, "(?, ?)") +
		" ON CONFLICT (key) DO UPDATE SET value = excluded.value"
}

// ledgerError classifies a failed statement of the ledger: a broken CHECK
// (an empty key, a hash of the wrong length) is invalid input.
func ledgerError(op string, err error, conflict string) error {
	if constraint(err) == violatesCheck {
		return nineten.E(op, nineten.KindInvalid, "an empty state key, or a hash that is not 32 bytes", err)
	}
	return dbError(op, err, conflict)
}

func (s *store) LedgerEntries(ctx context.Context, fromSeq int64, fn func(nineten.LedgerEntry) error) error {
	const op = "sqlstore.LedgerEntries"
	rows, err := s.read.QueryContext(ctx,
		`SELECT seq, prev, op, args, writes, events, hash, signer, sig, at
		 FROM ledger_log WHERE seq >= ? ORDER BY seq`, fromSeq)
	if err != nil {
		return dbError(op, err, "")
	}
	defer rows.Close()
	for rows.Next() {
		var e nineten.LedgerEntry
		var at int64
		if err := rows.Scan(&e.Seq, &e.Prev, &e.Op, &e.Args, &e.Writes, &e.Events, &e.Hash, &e.Signer, &e.Sig, &at); err != nil {
			return dbError(op, err, "")
		}
		e.At = fromMS(at)
		if err := fn(e); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return dbError(op, err, "")
	}
	return nil
}

func (s *store) LedgerHead(ctx context.Context) (int64, []byte, error) {
	seq, hash, err := ledgerHead(ctx, s.read)
	if err != nil {
		return 0, nil, dbError("sqlstore.LedgerHead", err, "")
	}
	return seq, hash, nil
}

func ledgerHead(ctx context.Context, q querier) (int64, []byte, error) {
	var seq int64
	var hash []byte
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM ledger_log ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil, nil
	}
	return seq, hash, err
}
