package e2e_test

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/nodetest"
)

// openMonth subscribes a listener of a stopped node for a month long past
// and opens that month on its ledger, as the money calendar would have;
// the node is started again.
func openMonth(t *testing.T, n *nodetest.Node, period string) {
	t.Helper()
	ctx := t.Context()
	onLedger(t, n, func(l *embedded.Contract) {
		mustAll(t,
			func() error { _, err := l.Deposit(ctx, "fan", "sim:e2e-review", 10_000_000); return err },
			func() error { _, err := l.Subscribe(ctx, "fan", nineten.Period(period)); return err },
			func() error { _, err := l.OpenMonth(ctx, nineten.Period(period)); return err },
		)
	})
}

type reviewsJSON struct {
	Asked, Given []struct {
		Peer, Status, Attestation string
		Findings                  []string
	}
	Disputes []struct{ Reason string }
}

// Two real nodes of one cluster: settling a month on A first sends its
// monthly report to B and waits; B fetches the sealed files, re-runs the
// checks and the split and attests its agreement, signed; then A settles.
func TestPeerReviewBetweenNodes(t *testing.T) {
	addrA, addrB := freeAddr(t), freeAddr(t)
	common := []string{"--dev-federation", "--delivery-retry-base", "1s", "--cluster", "north"}
	a := nodetest.Start(t, append(common, "--addr", addrA, "--cluster-peers", "http://"+addrB)...)
	b := nodetest.Start(t, append(common, "--addr", addrB, "--cluster-peers", "http://"+addrA)...)
	openMonth(t, a, "2024-01")
	admin := func(n *nodetest.Node) *client {
		c := newClient(t, n.URL)
		c.must(c.json("POST", "/api/v1/auth/login", map[string]string{"username": n.AdminUser, "password": n.AdminPassword}), 200, nil)
		return c
	}
	adminA, adminB := admin(a), admin(b)

	r := adminA.json("POST", "/api/v1/admin/settlements", map[string]string{"period": "2024-01"})
	if r.StatusCode != 503 || !strings.Contains(string(r.Body), "waits for the peer review") {
		t.Fatalf("settling before the review: %d %s", r.StatusCode, r.Body)
	}
	reviews := func(c *client) reviewsJSON {
		var rv reviewsJSON
		c.must(c.json("GET", "/api/v1/admin/reviews?month=2024-01", nil), 200, &rv)
		return rv
	}
	eventually(t, 60*time.Second, "B attesting A's January", func() bool {
		rv := reviews(adminA)
		return len(rv.Asked) == 1 && rv.Asked[0].Status == "agreed"
	})
	given := reviews(adminB)
	if len(given.Given) != 1 || given.Given[0].Status != "agreed" || given.Given[0].Peer != a.URL+"/actor" ||
		!strings.Contains(given.Given[0].Attestation, `"verdict":"agree"`) || !strings.Contains(given.Given[0].Attestation, "eddsa-jcs-2022") {
		t.Fatalf("B's review of A's January: %+v", given)
	}
	var res struct {
		Held int `json:"held"`
	}
	adminA.must(adminA.json("POST", "/api/v1/admin/settlements", map[string]string{"period": "2024-01"}), 200, &res)
	if res.Held != 1 {
		t.Errorf("January settled with %d listeners' money held, want the fan's (no listening)", res.Held)
	}

	// A's audit bundle of January carries B's attestation with the key B's
	// actor publishes, and checks offline; an attestation altered in A's
	// database (B's agreement turned into a disagreement) fails the check.
	a.Stop()
	tool := append(common, "--data", a.Data, "--addr", addrA, "--cluster-peers", "http://"+addrB)
	dir := t.TempDir()
	run := func(wantOK bool, args ...string) string {
		t.Helper()
		out, err := exec.Command(nodetest.Binary(t), args...).CombinedOutput()
		if (err == nil) != wantOK {
			t.Fatalf("9ten %s: %v (want success %v)\n%s", strings.Join(args, " "), err, wantOK, out)
		}
		return string(out)
	}
	bundle := filepath.Join(dir, "january.tar.gz")
	run(true, append([]string{"audit", "export", "--month", "2024-01", "--out", bundle}, tool...)...)
	out := run(true, "audit", "verify", bundle)
	if !strings.Contains(out, "attestations: 1,") || !strings.Contains(out, b.URL+"/actor: agree (key "+b.URL+"/actor#") {
		t.Fatalf("audit verify:\n%s", out)
	}

	db, err := sqlstore.Open(t.Context(), filepath.Join(a.Data, "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	asked, err := db.Reviews(t.Context(), "2024-01", nineten.ReviewAsked)
	if err != nil || len(asked) != 1 {
		t.Fatalf("A's asked reviews: %v %+v", err, asked)
	}
	forged := bytes.Replace(asked[0].Attestation, []byte(`"verdict":"agree"`), []byte(`"verdict":"disagree"`), 1)
	if bytes.Equal(forged, asked[0].Attestation) {
		t.Fatalf("no verdict in %s", asked[0].Attestation)
	}
	asked[0].Attestation = forged
	if err := db.SaveReview(t.Context(), &asked[0]); err != nil {
		t.Fatal(err)
	}
	db.Close()
	forgedBundle := filepath.Join(dir, "forged.tar.gz")
	run(true, append([]string{"audit", "export", "--month", "2024-01", "--out", forgedBundle}, tool...)...)
	if out := run(false, "audit", "verify", forgedBundle); !strings.Contains(out, "is not signed by its key: it was altered or forged") {
		t.Fatalf("audit verify of a forged attestation:\n%s", out)
	}
}
