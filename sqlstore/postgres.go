package sqlstore

import (
	"context"
	"errors"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"nineten.dev"
)

// poolParam is the parameter of a PostgreSQL URL that sets how many
// connections a DB opens at most (pgxpool's name for it); it is the
// store's, not the server's, so it is taken out of the URL.
const poolParam = "pool_max_conns"

// openPostgres opens the PostgreSQL database the URL dsn names.
func openPostgres(ctx context.Context, dsn string) (*DB, error) {
	const op = "sqlstore.Open"
	conns := max(10, 2*runtime.GOMAXPROCS(0))
	u, err := url.Parse(dsn)
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the database URL is malformed")
	}
	if q := u.Query(); q.Has(poolParam) {
		n, err := strconv.Atoi(q.Get(poolParam))
		if err != nil || n < 1 {
			return nil, nineten.E(op, nineten.KindInvalid, poolParam+" must be a positive number of connections")
		}
		conns = n
		q.Del(poolParam)
		u.RawQuery = q.Encode()
	}
	cfg, err := pgx.ParseConfig(u.String())
	if err != nil {
		// pgconn's parse errors leave the password out.
		return nil, nineten.E(op, nineten.KindInvalid, "the database URL is not usable", err)
	}
	if _, ok := cfg.RuntimeParams["application_name"]; !ok {
		cfg.RuntimeParams["application_name"] = "9ten"
	}
	pool := stdlib.OpenDB(*cfg)
	pool.SetMaxOpenConns(conns)
	pool.SetMaxIdleConns(conns)
	pool.SetConnMaxIdleTime(5 * time.Minute)
	if err := pool.PingContext(ctx); err != nil {
		pool.Close()
		return nil, nineten.E(op, nineten.KindUnavailable, "the database does not answer", err)
	}
	if err := migrate(ctx, pool, true); err != nil {
		pool.Close()
		return nil, nineten.E(op, "the database schema could not be brought up to date", err)
	}
	db := &DB{dsn: dsn, reader: pool, writer: pool}
	db.store = store{read: conn{q: pool, pg: true}, write: serialized{db: db}, db: db, pg: true}
	return db, nil
}

// rebind rewrites the ? placeholders of query as PostgreSQL's $1, $2, …,
// leaving question marks in string literals, quoted identifiers and
// comments alone. (The store's SQL has no escape strings, E'…', and no
// dollar quoting, whose rules this does not follow.)
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			// A doubled quote inside ends one literal and starts the next,
			// which comes to the same.
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case c == '-' && strings.HasPrefix(query[i:], "--"):
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case c == '/' && strings.HasPrefix(query[i:], "/*"):
			j := strings.Index(query[i+2:], "*/")
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+4])
			i += j + 3
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// pgArgs converts arguments to what the PostgreSQL columns hold: flags
// are INTEGER 0 or 1 on both engines, and pgx does not write a bool into
// an integer.
func pgArgs(args []any) []any {
	var out []any
	for i, a := range args {
		if v, ok := a.(bool); ok {
			if out == nil {
				out = append([]any(nil), args...)
			}
			out[i] = int64(0)
			if v {
				out[i] = int64(1)
			}
		}
	}
	if out == nil {
		return args
	}
	return out
}

// pgCode returns the SQLSTATE of the PostgreSQL error in err's chain, or "".
func pgCode(err error) string {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

// isSerializationFailure reports whether err is PostgreSQL refusing a
// transaction for interleaving badly with others: a serialization failure
// or a deadlock. Running the transaction again is the cure.
func isSerializationFailure(err error) bool {
	switch pgCode(err) {
	case "40001", "40P01":
		return true
	}
	return false
}

// pgConstraint is constraint for PostgreSQL's errors.
func pgConstraint(err error) violation {
	switch pgCode(err) {
	case "23505": // unique_violation, of a primary key too
		return violatesUnique
	case "23503": // foreign_key_violation
		return violatesForeignKey
	case "23514": // check_violation
		return violatesCheck
	case "22021", "22P05": // character_not_in_repertoire, untranslatable_character
		return badText
	}
	return violatesNothing
}
