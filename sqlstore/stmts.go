package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps prepared statements of one SQLite pool by their text.
// SQLite spends most of a small query parsing and planning it; preparing
// each statement once per connection and reusing it makes the hot paths
// (listen progress, segment records, the job queue) several times cheaper.
// PostgreSQL needs none of this: pgx caches prepared statements per
// connection itself.
type stmtCache struct {
	db *sql.DB
	mu sync.Mutex
	m  map[string]*sql.Stmt
}

// stmtCacheSize bounds the cache: queries are written as constants, but a
// few are assembled (IN lists, multi-row VALUES) and must not fill it.
const stmtCacheSize = 512

func newStmtCache(db *sql.DB) *stmtCache { return &stmtCache{db: db, m: map[string]*sql.Stmt{}} }

// get returns the statement for query, preparing it on the pool when
// prepare is set; nil when it is not cached (or cannot be).
func (c *stmtCache) get(ctx context.Context, query string, prepare bool) *sql.Stmt {
	c.mu.Lock()
	st, ok := c.m[query]
	full := len(c.m) >= stmtCacheSize
	c.mu.Unlock()
	if ok || !prepare || full {
		return st
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil // let the plain call report the error
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if prev, ok := c.m[query]; ok {
		st.Close()
		return prev
	}
	c.m[query] = st
	return st
}

func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, st := range c.m {
		st.Close()
	}
	c.m = nil
}

// stmt returns the cached statement to run query with, bound to c's
// transaction if it has one; nil when the query runs unprepared.
func (c conn) stmt(ctx context.Context, query string) *sql.Stmt {
	if c.stmts == nil {
		return nil
	}
	if tx, ok := c.q.(*sql.Tx); ok {
		// Preparing on the pool inside a transaction would wait for the
		// writer's one connection, which the transaction holds: use what
		// is prepared already, bound to the transaction's connection.
		if st := c.stmts.get(ctx, query, false); st != nil {
			return tx.StmtContext(ctx, st)
		}
		return nil
	}
	return c.stmts.get(ctx, query, true)
}
