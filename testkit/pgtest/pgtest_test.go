package pgtest

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
)

func TestMain(m *testing.M) { Main(m) }

// A database from a template holds what the template's setup made, and is
// gone after its test.
func TestTemplateAndDatabase(t *testing.T) {
	tpl := Template(t, "smoke", func(url string) error {
		db, err := sql.Open("pgx", url)
		if err != nil {
			return err
		}
		defer db.Close()
		_, err = db.Exec(`CREATE TABLE marks (n int); INSERT INTO marks VALUES (42)`)
		return err
	})
	var name string
	t.Run("copy", func(t *testing.T) {
		url := NewDatabase(t, tpl)
		db, err := sql.Open("pgx", url)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var n int
		if err := db.QueryRow(`SELECT n FROM marks`).Scan(&n); err != nil || n != 42 {
			t.Fatalf("the copy holds %d, %v; want the template's 42", n, err)
		}
		if err := db.QueryRow(`SELECT current_database()`).Scan(&name); err != nil {
			t.Fatal(err)
		}
	})
	admin, err := sql.Open("pgx", ServerURL(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	var exists bool
	if err := admin.QueryRowContext(context.Background(), `SELECT EXISTS (SELECT FROM pg_database WHERE datname = $1)`, name).Scan(&exists); err != nil {
		t.Fatal(err)
	}
	if exists {
		t.Errorf("database %s outlived its test", name)
	}
}

// A directory left by a binary that died (its lock free) is removed by
// the next binary to start a cluster; a locked one is kept.
func TestRemoveStale(t *testing.T) {
	if os.Getenv(EnvServer) != "" {
		t.Skip("no cluster of our own")
	}
	ServerURL(t) // our own cluster's directory is locked and must survive
	stale, err := os.MkdirTemp("", dirPrefix)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(stale, "lock"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	removeStale()
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale directory %s is still there (%v)", stale, err)
		os.RemoveAll(stale)
	}
	if _, err := os.Stat(shared.dir); err != nil {
		t.Errorf("the live cluster's directory went: %v", err)
	}
}
