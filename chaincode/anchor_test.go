package chaincode

import (
	"strings"
	"testing"
)

func TestAnchorReport(t *testing.T) {
	w := newWorld(t)
	h1, h2 := strings.Repeat("a", 64), strings.Repeat("b", 64)
	const signer = "ed25519:key1"
	a, err := c.AnchorReport(w.st, na, "daily-2025-01-03", "2025-01-03", h1, signer)
	noErr(t, err)
	if a.Version != 1 || a.Hash != h1 || a.Day != "2025-01-03" || a.Node != na {
		t.Fatalf("first anchor = %+v", a)
	}
	if ev := w.st.Emitted(); len(ev) == 0 || ev[len(ev)-1].Name != "anchorReport" {
		t.Fatalf("no anchorReport event: %v", ev)
	}
	// The same hash again: idempotent, nothing written.
	unchanged(t, w.st, func() {
		again, err := c.AnchorReport(w.st, na, "daily-2025-01-03", "2025-01-03", h1, signer)
		noErr(t, err)
		if again != a {
			t.Fatalf("anchoring again = %+v; want %+v", again, a)
		}
	})
	// Another hash: the next version; both are kept.
	b, err := c.AnchorReport(w.st, na, "daily-2025-01-03", "2025-01-03", h2, signer)
	noErr(t, err)
	if b.Version != 2 || b.Hash != h2 {
		t.Fatalf("second version = %+v", b)
	}
	all, err := c.ReportAnchors(w.st, na, "daily-2025-01-03")
	noErr(t, err)
	if len(all) != 2 || all[0].Hash != h1 || all[1].Hash != h2 || all[1].Version != 2 || all[1].Final {
		t.Fatalf("versions = %+v", all)
	}
	// Another node's report of the same id is its own.
	other, err := c.ReportAnchors(w.st, nb, "daily-2025-01-03")
	noErr(t, err)
	if len(other) != 0 {
		t.Fatalf("%s has anchors %+v", nb, other)
	}
	unchanged(t, w.st, func() {
		_, err := c.AnchorReport(w.st, na, "daily-2025-01-03", "2025-01-04", h1, signer)
		wantKind(t, err, KindConflict) // an id keeps its day
		for _, bad := range [][4]string{
			{"daily/2025-01-03", "2025-01-03", h1, signer},
			{"d", "2025-01-32", h1, signer},
			{"d", "2025-13", h1, signer},
			{"d", "2025-01-03", strings.ToUpper(h1), signer},
			{"d", "2025-01-03", h1[:63], signer},
			{"d", "2025-01-03", h1, "no algorithm"},
		} {
			_, err := c.AnchorReport(w.st, na, bad[0], bad[1], bad[2], bad[3])
			wantKind(t, err, KindInvalid)
		}
	})

	// Once the month is settled, a report of it cannot change.
	w.deposit(na, "ann", 10*USD)
	w.subscribe(na, "ann", "2025-01")
	w.open(na, "2025-01")
	_, err = c.AnchorReport(w.st, na, "monthly-2025-01", "2025-01", h1, signer)
	noErr(t, err)
	w.settle(na, "2025-01", agg("ann", "a.example/x", 1, 30))
	unchanged(t, w.st, func() {
		_, err := c.AnchorReport(w.st, na, "monthly-2025-01", "2025-01", h2, signer)
		wantKind(t, err, KindConflict)
		_, err = c.AnchorReport(w.st, na, "daily-2025-01-03", "2025-01-03", h1, signer)
		wantKind(t, err, KindConflict)
	})
	all, err = c.ReportAnchors(w.st, na, "monthly-2025-01")
	noErr(t, err)
	if len(all) != 1 || !all[0].Final {
		t.Fatalf("the anchors of a settled month: %+v; want final", all)
	}
	// The same hash is still answered, and a first anchor still taken.
	_, err = c.AnchorReport(w.st, na, "monthly-2025-01", "2025-01", h1, signer)
	noErr(t, err)
	_, err = c.AnchorReport(w.st, na, "daily-2025-01-09", "2025-01-09", h1, signer)
	noErr(t, err)
	w.audit()
}
