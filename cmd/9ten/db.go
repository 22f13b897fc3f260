package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"nineten.dev/sqlstore"
)

// dbUsage describes --db wherever a command takes it.
const dbUsage = "the database: a PostgreSQL URL (postgres://user:password@host:5432/nineten?sslmode=require) " +
	"or a SQLite file (default: 9ten.db in --data)"

// databaseAddress returns what sqlstore.Open takes for the node's
// database: --db when set, else the SQLite file in the data directory.
func databaseAddress(data, db string) string {
	if db != "" {
		return db
	}
	return filepath.Join(data, "9ten.db")
}

// dbFlag declares --db on an admin command. Those commands read no config
// file, so NINETEN_DB is their default, as it is serve's.
func dbFlag(f *pflag.FlagSet, db *string) {
	f.StringVar(db, "db", os.Getenv(envName("db")), dbUsage+" (env NINETEN_DB)")
}

// existingDatabase returns the node's database for a command that must not
// create one: opening a SQLite path creates an empty database, and a
// mistyped --data must not, say, verify as an empty, healthy ledger.
func existingDatabase(data, db string) (string, error) {
	addr := databaseAddress(data, db)
	if sqlstore.IsPostgres(addr) {
		return addr, nil
	}
	if _, err := os.Stat(addr); err != nil {
		return "", fmt.Errorf("no database at %s: is --data the node's data directory? (%w)", addr, err)
	}
	return addr, nil
}
