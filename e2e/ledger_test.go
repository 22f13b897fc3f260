package e2e_test

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/nodetest"
)

// onLedger stops n, runs fn on the node's own ledger — opened from its
// database and ledger.key, under the ledger name it recorded at first start,
// as the money calendar would use it — and starts n again. Tests use it to
// put money into a state the calendar would reach only after weeks.
func onLedger(t *testing.T, n *nodetest.Node, fn func(l *embedded.Contract)) {
	t.Helper()
	n.Stop()
	seed, err := os.ReadFile(filepath.Join(n.Data, "ledger.key"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlstore.Open(t.Context(), filepath.Join(n.Data, "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	name, err := db.Setting(t.Context(), "ledger_node")
	if err != nil {
		t.Fatal(err)
	}
	fn(&embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: ed25519.NewKeyFromSeed(seed)}, Node: name})
	db.Close()
	n.Restart()
}

// mustAll runs steps in order and stops the test at the first error.
func mustAll(t *testing.T, steps ...func() error) {
	t.Helper()
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatal(err)
		}
	}
}
