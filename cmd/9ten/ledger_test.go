package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"nineten.dev/chaincode"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/nodetest"
)

// run runs the real binary and returns its output and whether it succeeded.
func run(t *testing.T, args ...string) (stdout, stderr string, ok bool) {
	t.Helper()
	cmd := exec.Command(nodetest.Binary(t), args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if _, exited := err.(*exec.ExitError); err != nil && !exited {
		t.Fatal(err)
	}
	return out.String(), errb.String(), err == nil
}

// `9ten ledger verify` on a node's data directory: OK when empty, OK with
// entries, and a non-zero exit naming the key when the state was edited.
func TestLedgerVerifyCommand(t *testing.T) {
	ctx := context.Background()
	data := t.TempDir()
	if _, stderr, ok := run(t, "ledger", "verify", "--data", data); ok || !strings.Contains(stderr, "no database at") {
		t.Fatalf("verify of a directory without a database succeeded or said %q", stderr)
	}

	db, err := sqlstore.Open(ctx, filepath.Join(data, "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	stdout, stderr, ok := run(t, "ledger", "verify", "--data", data)
	if !ok || !strings.Contains(stdout, "ledger OK: 0 entries") {
		t.Fatalf("verify of a fresh node: ok %v\n%s%s", ok, stdout, stderr)
	}
	if _, err := os.Stat(filepath.Join(data, ledgerKeyFile)); !os.IsNotExist(err) {
		t.Errorf("verify made a ledger key (%v); only the node makes it", err)
	}

	// The node records a few operations.
	key, err := loadLedgerKey(data)
	if err != nil {
		t.Fatal(err)
	}
	db, err = sqlstore.Open(ctx, filepath.Join(data, "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	l := &embedded.Ledger{Store: db, Key: key}
	var c chaincode.Contract
	for i, name := range []string{"ann", "bob"} {
		_, err := l.Invoke(ctx, "deposit", nil, func(st chaincode.State) error {
			_, err := c.Deposit(st, "a.example", name, fmt.Sprintf("usdp:0x%02x:0", i), 12_500_000)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	_, err = l.Invoke(ctx, "subscribe", nil, func(st chaincode.State) error {
		_, err := c.Subscribe(st, "a.example", "ann", "2025-06")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	stdout, stderr, ok = run(t, "ledger", "verify", "--data", data)
	if !ok {
		t.Fatalf("verify failed:\n%s", stderr)
	}
	for _, want := range []string{"ledger OK: 3 entries", "accounts:      4", "total balance: $25.000000", "signed by:     " + embedded.KeyID(key.Public().(ed25519.PublicKey))} {
		if !strings.Contains(stdout, want) {
			t.Errorf("summary does not say %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "3 of 3 entries (100%)") {
		t.Errorf("no progress on stderr: %q", stderr)
	}

	// Someone edits a balance in the database.
	raw, err := sql.Open("sqlite", filepath.Join(data, "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.Exec(`UPDATE ledger_state SET value = CAST('99000000' AS BLOB) WHERE key = 'bal/listener:a.example/ann'`); err != nil {
		t.Fatal(err)
	}
	raw.Close()
	_, stderr, ok = run(t, "ledger", "verify", "--data", data)
	if ok || !strings.Contains(stderr, `9ten: the ledger does not verify:`) || !strings.Contains(stderr, `state key "bal/listener:a.example/ann" is "99000000" in the database, but the log makes it "2500000"`) {
		t.Errorf("verify of an edited ledger: ok %v, stderr:\n%s", ok, stderr)
	}

	// Without its key, a ledger with entries cannot be verified.
	os.Remove(filepath.Join(data, ledgerKeyFile))
	if _, stderr, ok := run(t, "ledger", "verify", "--data", data); ok || !strings.Contains(stderr, "ledger.key is missing but the ledger has 3 signed entries") {
		t.Errorf("verify without the key: ok %v, %s", ok, stderr)
	}
}

// The ledger key is made once, 0600, and two processes starting together
// get the same one.
func TestLoadLedgerKey(t *testing.T) {
	data := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := loadLedgerKey(data)
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for _, k := range keys[1:] {
		if !bytes.Equal(k, keys[0]) {
			t.Fatal("concurrent first uses made different keys")
		}
	}
	st, err := os.Stat(filepath.Join(data, ledgerKeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 || st.Size() != 32 {
		t.Errorf("ledger.key is %v, %d bytes", st.Mode(), st.Size())
	}
	if left, _ := filepath.Glob(filepath.Join(data, ledgerKeyFile+".*")); len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
	again, err := loadLedgerKey(data)
	if err != nil || !bytes.Equal(again, keys[0]) {
		t.Errorf("the key changed on the next use (%v)", err)
	}
	os.WriteFile(filepath.Join(data, ledgerKeyFile), []byte("short"), 0o600)
	if _, err := loadLedgerKey(data); err == nil || !strings.Contains(err.Error(), "restore it from a backup") {
		t.Errorf("a damaged key: %v", err)
	}
}
