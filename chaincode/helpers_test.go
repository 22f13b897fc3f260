package chaincode

import (
	"bytes"
	"errors"
	"testing"
)

var c Contract

func noErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantKind(t testing.TB, err error, k Kind) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %v", k)
	}
	if KindOf(err) != k {
		t.Fatalf("error %q has kind %v; want %v", err, KindOf(err), k)
	}
}

func balance(t testing.TB, st State, account string) Micro {
	t.Helper()
	b, err := c.Balance(st, account)
	noErr(t, err)
	return b
}

func wantBalance(t testing.TB, st State, account string, want Micro) {
	t.Helper()
	if got := balance(t, st, account); got != want {
		t.Fatalf("balance of %s = %v; want %v", account, got, want)
	}
}

func conserved(t testing.TB, st State) {
	t.Helper()
	if err := c.Conservation(st); err != nil {
		t.Fatal(err)
	}
}

// unchanged runs f and checks that it left st byte-identical.
func unchanged(t testing.TB, st *MemState, f func()) {
	t.Helper()
	before := st.Snapshot()
	f()
	if after := st.Snapshot(); !bytes.Equal(before, after) {
		t.Fatalf("state changed:\nbefore:\n%s\nafter:\n%s", before, after)
	}
}

func txs(t testing.TB, st State) []Tx {
	t.Helper()
	var out []Tx
	noErr(t, c.Events(st, func(tx Tx) error { out = append(out, tx); return nil }))
	return out
}

var errStop = errors.New("stop")
