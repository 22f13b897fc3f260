package report_test

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation"
	"nineten.dev/payout"
	"nineten.dev/report"
	"nineten.dev/sqlstore"
	"nineten.dev/subscription"
	"nineten.dev/testkit/dbtest"
)

// TestAuditBundle: a settled month's bundle verifies offline, an artist
// finds their line with the earnings the ledger credited, and any change
// to the bundle is caught.
func TestAuditBundle(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		ctx := t.Context()
		w := newWorld(t, db, time.Date(2025, 6, 1, 1, 0, 0, 0, time.UTC))
		subs := &subscription.Service{Ledger: w.ledger, Store: db, Clock: w.clock, Node: node, Simulated: true}
		pay := &payout.Service{Ledger: w.ledger, Store: db, Clock: w.clock, Node: node, Listening: w.reports.SettlementTotals}
		a, at := w.artist("a", 1)
		b, bt := w.artist("b", 1)
		ann, bob := w.user("ann"), w.user("bob")
		for _, u := range []*nineten.User{ann, bob} {
			_, err := subs.SimulatedDeposit(ctx, u, 10_000_000)
			ok(t, err)
			_, err = subs.Subscribe(ctx, u)
			ok(t, err)
		}
		ok(t, pay.Tick(ctx))
		june := time.Date(2025, 6, 4, 0, 0, 0, 0, time.UTC)
		w.listen(ann, at[0], june, 120_000, nineten.ListenVerified)
		w.listen(ann, bt[0], june.Add(time.Hour), 60_000, nineten.ListenVerified)
		w.listen(bob, bt[0], june.AddDate(0, 0, 3), 90_000, nineten.ListenVerified)
		w.clock.Add(time.Date(2025, 7, 3, 0, 0, 0, 0, time.UTC).Sub(w.clock.Now()))
		res, err := pay.Settle(ctx, "2025-06", false, nil)
		ok(t, err)
		if res.ToArtists != 18_000_000 {
			t.Fatalf("settled %+v", res)
		}

		// Once settled, the reports are the record: the store may change
		// (closed accounts' listens are erased) and the month still exports.
		w.listen(bob, at[0], june.AddDate(0, 0, 9), 90_000, nineten.ListenVerified)
		checked, err := w.reports.Check(ctx, "2025-06")
		ok(t, err)
		ok(t, checked.Err())
		before, err := db.Report(ctx, "daily-2025-06-13")
		ok(t, err)
		if _, err := w.reports.Daily(ctx, "2025-06-13", nil); nineten.ErrorKind(err) != nineten.KindConflict {
			t.Fatalf("a new version of a settled day: %v", err)
		}
		if after, err := db.Report(ctx, "daily-2025-06-13"); err != nil || after.Hash != before.Hash || !bytes.Equal(after.File, before.File) {
			t.Fatalf("the refused version replaced the stored report: %v", err)
		}
		again, err := w.reports.Monthly(ctx, "2025-06", nil)
		ok(t, err)
		ok(t, again.Err())

		var bundle bytes.Buffer
		m, err := w.reports.Export(ctx, "2025-06", &bundle)
		ok(t, err)
		if m.Lines != 31+2 || m.Signer != w.reports.Signer() {
			t.Fatalf("manifest %+v", m)
		}
		// ann: 120 s of a, 60 s of b → $6 and $3; bob: $9 to b.
		for artist, want := range map[string]nineten.Micro{fmt.Sprint(a.ID): 6_000_000, node + "/" + fmt.Sprint(b.ID): 12_000_000} {
			c, err := report.VerifyBundle(bytes.NewReader(bundle.Bytes()), artist, federation.VerifyProof)
			ok(t, err)
			if c.Reports != 31 || c.Artist == nil || c.Artist.Earned != want || len(c.Artist.SettleTxs) == 0 {
				t.Fatalf("artist %s: %+v, line %+v; want %s earned", artist, c, c.Artist, want)
			}
		}
		// Two listeners are fewer than k = 3: b's listening is left out,
		// not its earnings.
		c, _ := report.VerifyBundle(bytes.NewReader(bundle.Bytes()), fmt.Sprint(b.ID), federation.VerifyProof)
		if !c.Artist.Suppressed || c.Artist.Listens != 0 || c.Artist.Listeners != 0 || c.Artist.Earned != 12_000_000 {
			t.Fatalf("artist b's line: %+v", c.Artist)
		}
		if _, err := report.VerifyBundle(bytes.NewReader(bundle.Bytes()), "999", federation.VerifyProof); nineten.ErrorKind(err) != nineten.KindNotFound {
			t.Fatalf("an artist without a line: %v", err)
		}

		// Tampering, each caught.
		for name, change := range map[string]func(files map[string][]byte){
			"earnings raised": func(f map[string][]byte) {
				f["lines.json"] = bytes.Replace(f["lines.json"], []byte(`"earned": 6000000`), []byte(`"earned": 7000000`), 1)
			},
			"manifest edited": func(f map[string][]byte) {
				f["manifest.json"] = bytes.Replace(f["manifest.json"], []byte(`"attestations": 0`), []byte(`"attestations": 1`), 1)
			},
			"a daily report's byte": func(f map[string][]byte) {
				r := f["reports/daily-2025-06-04.9tr"]
				r[len(r)/2] ^= 1
			},
			"a ledger credit moved": func(f map[string][]byte) {
				f["ledger/events.json"] = bytes.Replace(f["ledger/events.json"], []byte(`"Amount": 6000000`), []byte(`"Amount": 6000001`), 1)
			},
			"a file added":   func(f map[string][]byte) { f["attestations/forged.json"] = []byte("{}") },
			"a file removed": func(f map[string][]byte) { delete(f, "proofs.json") },
		} {
			altered := rewrite(t, bundle.Bytes(), change)
			if _, err := report.VerifyBundle(bytes.NewReader(altered), "", federation.VerifyProof); err == nil {
				t.Fatalf("%s: the bundle still verifies", name)
			}
		}
		raw := bytes.Clone(bundle.Bytes())
		raw[len(raw)/2] ^= 1
		if _, err := report.VerifyBundle(bytes.NewReader(raw), "", federation.VerifyProof); err == nil {
			t.Fatal("a byte of the gzip stream flipped and the bundle verifies")
		}
	})
}

// rewrite unpacks a bundle, lets change alter its files and packs it again.
func rewrite(t *testing.T, bundle []byte, change func(map[string][]byte)) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(bundle))
	ok(t, err)
	tr := tar.NewReader(zr)
	files := map[string][]byte{}
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		ok(t, err)
		b, err := io.ReadAll(tr)
		ok(t, err)
		files[h.Name] = b
		names = append(names, h.Name)
	}
	before := fmt.Sprint(files)
	change(files)
	if fmt.Sprint(files) == before {
		t.Fatal("the change changed nothing")
	}
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	tw := tar.NewWriter(zw)
	for name, b := range files {
		if !strings.HasPrefix(name, "attestations/") && !contains(names, name) {
			continue
		}
		ok(t, tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(b)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(b)
		ok(t, err)
	}
	ok(t, tw.Close())
	ok(t, zw.Close())
	return out.Bytes()
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
