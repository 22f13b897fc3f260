package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
	"nineten.dev/testkit/nodetest"
)

func TestMain(m *testing.M) { dbtest.Main(m) }

// --db comes from the flag, NINETEN_DB or the config file; without any,
// the node's database is 9ten.db in --data.
func TestDBSetting(t *testing.T) {
	parse := func(args ...string) options {
		t.Helper()
		var o options
		cmd := &cobra.Command{Use: "serve"}
		nodeFlags(cmd, &o)
		if err := cmd.ParseFlags(args); err != nil {
			t.Fatal(err)
		}
		if err := applyConfig(cmd); err != nil {
			t.Fatal(err)
		}
		return o
	}
	t.Setenv("NINETEN_CONFIG", "")
	// Set, even empty, NINETEN_DB would win over the file: unset it (and
	// have Setenv restore it afterwards).
	t.Setenv("NINETEN_DB", "")
	os.Unsetenv("NINETEN_DB")
	if o := parse("--data", "/srv/9ten"); databaseAddress(o.Data, o.DB) != filepath.Join("/srv/9ten", "9ten.db") {
		t.Errorf("default database %q", databaseAddress(o.Data, o.DB))
	}
	file := filepath.Join(t.TempDir(), "9ten.conf")
	os.WriteFile(file, []byte("db = postgres://file@db.example/nineten\n"), 0o600)
	if o := parse("--config", file); o.DB != "postgres://file@db.example/nineten" {
		t.Errorf("db from the config file: %q", o.DB)
	}
	t.Setenv("NINETEN_DB", "postgres://env@db.example/nineten")
	if o := parse("--config", file); o.DB != "postgres://env@db.example/nineten" {
		t.Errorf("db from the environment: %q", o.DB)
	}
	if o := parse("--config", file, "--db", "/var/lib/9ten.db"); o.DB != "/var/lib/9ten.db" {
		t.Errorf("db from the flag: %q", o.DB)
	}
}

// The admin commands reach the database --db (or NINETEN_DB) names, on
// either engine, and not a file in --data.
func TestAdminCommandsTakeDB(t *testing.T) {
	dbtest.EachDialect(t, func(t *testing.T, dialect string) {
		dsn := dbtest.DSN(t, dialect)
		data := t.TempDir() // holds no database: the commands must not use it
		runEnv := func(env []string, args ...string) (string, string, bool) {
			t.Helper()
			cmd := exec.Command(nodetest.Binary(t), args...)
			cmd.Env = append(os.Environ(), env...)
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			if _, exited := err.(*exec.ExitError); err != nil && !exited {
				t.Fatal(err)
			}
			return out.String(), errb.String(), err == nil
		}
		if _, stderr, ok := runEnv(nil, "user", "create", "--data", data, "--db", dsn,
			"--username", "alice", "--password", "long enough password", "--role", "admin"); !ok {
			t.Fatalf("user create --db: %s", stderr)
		}
		if _, stderr, ok := runEnv([]string{"NINETEN_DB=" + dsn}, "user", "create", "--data", data,
			"--username", "bob", "--password", "long enough password"); !ok {
			t.Fatalf("user create with NINETEN_DB: %s", stderr)
		}
		db := dbtest.OpenDSN(t, dsn)
		for _, name := range []string{"alice", "bob"} {
			if _, err := db.UserByUsername(t.Context(), name); err != nil {
				t.Errorf("%s is not in the database --db named: %v", name, err)
			}
		}
		if _, err := os.Stat(filepath.Join(data, "9ten.db")); !os.IsNotExist(err) {
			t.Errorf("a database was made in --data (%v)", err)
		}
		stdout, stderr, ok := runEnv(nil, "ledger", "verify", "--data", data, "--db", dsn)
		if !ok || !strings.Contains(stdout, "ledger OK: 0 entries") {
			t.Errorf("ledger verify --db: ok %v\n%s%s", ok, stdout, stderr)
		}
	})
	// A SQLite path that does not exist is not verified as an empty ledger.
	_, stderr, ok := run(t, "ledger", "verify", "--data", t.TempDir(), "--db", filepath.Join(t.TempDir(), "missing.db"))
	if ok || !strings.Contains(stderr, "no database at") {
		t.Errorf("verify of a missing --db file: ok %v, %s", ok, stderr)
	}
	if sqlstore.IsPostgres(databaseAddress("data", "")) {
		t.Error("the default database is not the SQLite file")
	}
}
