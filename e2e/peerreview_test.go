package e2e_test

import (
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
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
}
