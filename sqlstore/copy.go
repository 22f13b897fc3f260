package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"hash"
	"slices"
	"strconv"
	"strings"

	"nineten.dev"
)

// copyTables are the node's tables in an order that satisfies their
// foreign keys. Search indexes are not copied: each engine builds its own
// (FTS5 from SQLite's triggers, tsvector documents from PostgreSQL's), and
// the goose version table belongs to the migrations. TestCopyCoversEveryTable
// fails when a migration adds a table that is missing here.
var copyTables = []string{
	"users", "sessions", "api_tokens", "artists", "albums", "tracks",
	"listen_sessions", "served_segments", "listens", "jobs",
	"actor_keys", "remote_actors", "follows", "received", "domain_blocks", "remote_hosts",
	"ledger_state", "ledger_log",
	"wallet_challenges", "wallets", "chain_cursors", "chain_deposits", "chain_payouts",
	"gateway_events", "gateway_payouts",
	"settings",
	"reactions", "comments", "shared_listens", "actor_settings",
	"playlists", "playlist_items",
	"reports",
	"anomaly_flags", "anomaly_flag_listens", "anomaly_runs",
	"statements", "statement_lines", "statement_conflicts", "supporters", "told_subscriptions",
	"remote_tracks", "remote_listen_sessions", "remote_served_segments", "remote_listens", "anomaly_flag_remote_listens",
	"peer_reviews", "disputes",
}

// TableCopy is what Copy did with one table.
type TableCopy struct {
	Table    string
	Rows     int64
	Checksum string // SHA-256 of the rows in primary-key order, the same on both sides
}

// Copy copies every row of src into dst, which must be migrated and empty,
// table by table in one transaction, and then checks that each table holds
// the same number of rows with the same checksum on both sides. It is how
// a node moves from SQLite to PostgreSQL (or back); the node must not be
// running meanwhile. progress, when not nil, is told the table and the
// rows copied so far.
func Copy(ctx context.Context, src, dst *DB, progress func(table string, done, total int64)) ([]TableCopy, error) {
	const op = "sqlstore.Copy"
	for _, t := range copyTables {
		var n int64
		if err := dst.reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+t).Scan(&n); err != nil {
			return nil, nineten.E(op, "cannot read the target database", err)
		}
		if n > 0 {
			return nil, nineten.E(op, nineten.KindConflict, fmt.Sprintf("the target database is not empty (%s has %d rows): migrate into a new, empty database", t, n))
		}
	}
	err := dst.run(ctx, txWrite, func(q querier) error {
		for _, t := range copyTables {
			if err := copyTable(ctx, src, q, dst.pg, t, progress); err != nil {
				return fmt.Errorf("copying %s: %w", t, err)
			}
		}
		if dst.pg {
			return resetIdentities(ctx, q)
		}
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, "nothing was copied", err)
	}
	var out []TableCopy
	for _, t := range copyTables {
		a, err := checksum(ctx, src, t)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		b, err := checksum(ctx, dst, t)
		if err != nil {
			return nil, nineten.E(op, err)
		}
		if a != b {
			return nil, nineten.E(op, fmt.Sprintf("table %s differs after copying: %d rows (%s) in the source, %d rows (%s) in the target", t, a.Rows, a.Checksum[:12], b.Rows, b.Checksum[:12]))
		}
		out = append(out, a)
	}
	return out, nil
}

// columns lists a table's columns and which of them make its primary key,
// as the source database declares them.
func columns(ctx context.Context, db *DB, table string) (cols, key []string, text map[string]bool, err error) {
	var rows *sql.Rows
	if db.pg {
		rows, err = db.reader.QueryContext(ctx, `
			SELECT a.attname, COALESCE(array_position(i.indkey::int2[], a.attnum), 0), a.atttypid = 'text'::regtype
			FROM pg_attribute a
			LEFT JOIN pg_index i ON i.indrelid = a.attrelid AND i.indisprimary
			WHERE a.attrelid = $1::regclass AND a.attnum > 0 AND NOT a.attisdropped
			ORDER BY a.attnum`, table)
	} else {
		rows, err = db.reader.QueryContext(ctx, `SELECT name, pk, upper(type) = 'TEXT' FROM pragma_table_info(?) ORDER BY cid`, table)
	}
	if err != nil {
		return nil, nil, nil, err
	}
	defer rows.Close()
	keyAt := map[int]string{}
	text = map[string]bool{}
	for rows.Next() {
		var name string
		var pk int
		var isText bool
		if err := rows.Scan(&name, &pk, &isText); err != nil {
			return nil, nil, nil, err
		}
		cols = append(cols, name)
		text[name] = isText
		if pk > 0 {
			keyAt[pk] = name
		}
	}
	for i := 1; i <= len(keyAt); i++ {
		key = append(key, keyAt[i])
	}
	if len(key) == 0 {
		key = cols
	}
	return cols, key, text, rows.Err()
}

func copyTable(ctx context.Context, src *DB, dst querier, pg bool, table string, progress func(string, int64, int64)) error {
	cols, key, _, err := columns(ctx, src, table)
	if err != nil {
		return err
	}
	var total int64
	if err := src.reader.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&total); err != nil {
		return err
	}
	rows, err := src.reader.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table+" ORDER BY "+strings.Join(key, ", "))
	if err != nil {
		return err
	}
	defer rows.Close()
	// Rows go in multi-row INSERTs; batchRows rows of the widest table stay
	// far below both engines' limits on bound parameters.
	insert := func(batch [][]any) error {
		if len(batch) == 0 {
			return nil
		}
		row := "(" + placeholders(len(cols)) + ")"
		args := make([]any, 0, len(batch)*len(cols))
		for _, r := range batch {
			args = append(args, r...)
		}
		_, err := dst.ExecContext(ctx, "INSERT INTO "+table+" ("+strings.Join(cols, ", ")+") VALUES "+rowsOf(len(batch), row), args...)
		return err
	}
	var batch [][]any
	var done int64
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return err
		}
		batch = append(batch, vals)
		if len(batch) == batchRows {
			if err := insert(batch); err != nil {
				return err
			}
			done += int64(len(batch))
			batch = batch[:0]
			if progress != nil {
				progress(table, done, total)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if err := insert(batch); err != nil {
		return err
	}
	if progress != nil {
		progress(table, done+int64(len(batch)), total)
	}
	return nil
}

// resetIdentities moves every identity column's sequence past the ids
// copied in, so that new rows do not collide with them.
func resetIdentities(ctx context.Context, q querier) error {
	rows, err := q.QueryContext(ctx, `
		SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = current_schema() AND is_identity = 'YES'`)
	if err != nil {
		return err
	}
	var idents [][2]string
	for rows.Next() {
		var t, c string
		if err := rows.Scan(&t, &c); err != nil {
			rows.Close()
			return err
		}
		idents = append(idents, [2]string{t, c})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, tc := range idents {
		_, err := q.ExecContext(ctx, fmt.Sprintf(
			`SELECT setval(pg_get_serial_sequence('%s', '%s'), COALESCE((SELECT MAX(%s) FROM %s), 0) + 1, false)`,
			tc[0], tc[1], tc[1], tc[0]))
		if err != nil {
			return err
		}
	}
	return nil
}

// checksum hashes a table's rows in primary-key order, every value in a
// form that does not depend on the engine: integers in decimal, text and
// bytes by length and content, NULL as such.
func checksum(ctx context.Context, db *DB, table string) (TableCopy, error) {
	c := TableCopy{Table: table}
	cols, key, text, err := columns(ctx, db, table)
	if err != nil {
		return c, err
	}
	// PostgreSQL sorts text by its locale; sorting by bytes (the "C"
	// collation) sorts as SQLite does.
	order := make([]string, len(key))
	for i, k := range key {
		order[i] = k
		if db.pg && text[k] {
			order[i] = k + ` COLLATE "C"`
		}
	}
	rows, err := db.reader.QueryContext(ctx, "SELECT "+strings.Join(cols, ", ")+" FROM "+table+" ORDER BY "+strings.Join(order, ", "))
	if err != nil {
		return c, err
	}
	defer rows.Close()
	h := sha256.New()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return c, err
		}
		for _, v := range vals {
			writeValue(h, v)
		}
		c.Rows++
	}
	c.Checksum = hex.EncodeToString(h.Sum(nil))
	return c, rows.Err()
}

func writeValue(h hash.Hash, v any) {
	switch v := v.(type) {
	case nil:
		h.Write([]byte("N;"))
	case int64:
		h.Write([]byte("i" + strconv.FormatInt(v, 10) + ";"))
	case string:
		h.Write([]byte("s" + strconv.Itoa(len(v)) + ":" + v))
	case []byte:
		h.Write([]byte("s" + strconv.Itoa(len(v)) + ":"))
		h.Write(v)
	default:
		fmt.Fprintf(h, "?%v;", v)
	}
}

// CopyTables lists the tables Copy copies, in order.
func CopyTables() []string { return slices.Clone(copyTables) }
