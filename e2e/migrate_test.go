package e2e_test

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"nineten.dev/sqlstore"
	"nineten.dev/testkit/audiotest"
	"nineten.dev/testkit/dbtest"
	"nineten.dev/testkit/nodetest"
	"nineten.dev/testkit/s3test"
)

// A node that ran on SQLite and a media directory moves to PostgreSQL and
// S3 with `9ten migrate`, and afterwards serves the same accounts, music
// and money from there; migrating into the same database again is refused.
func TestMigrateToPostgresAndS3(t *testing.T) {
	bucket := s3test.NewBucket(t)
	for _, kv := range bucket.Env() {
		k, v, _ := strings.Cut(kv, "=")
		t.Setenv(k, v)
	}
	node := nodetest.Start(t, "--simulated-payments")
	artist, _ := signupArtist(t, node.URL, "mia", "Mia Move")
	src := audiotest.Make(t, t.TempDir(), audiotest.Spec{Name: "move.flac", Seconds: 8, Title: "Moving Day", Album: "Boxes", Cover: true})
	var up struct{ Track track }
	artist.must(artist.uploadFile(src), 202, &up)
	if tr := artist.waitTrack(up.Track.ID); tr.Status != "ready" {
		t.Fatalf("track ended %q: %s", tr.Status, tr.Error)
	}
	artist.must(artist.json("POST", "/api/v1/me/deposits/simulated", map[string]int64{"amount": 12_340_000}), 201, nil)
	node.Stop()

	dsn := dbtest.DSN(t, sqlstore.Postgres)
	migrate := func() (string, string, bool) {
		cmd := exec.Command(nodetest.Binary(t), "migrate", "--data", node.Data, "--to-db", dsn, "--to-blob", bucket.URL())
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err == nil
	}
	stdout, stderr, ok := migrate()
	if !ok || !strings.Contains(stdout, "copied and verified by SHA-256") || !strings.Contains(stdout, "checksum match") {
		t.Fatalf("migrate: ok %v\n%s%s", ok, stdout, stderr)
	}

	moved := nodetest.StartIn(t, node.Data, "--db", dsn, "--blob", bucket.URL(), "--simulated-payments")
	again := newClient(t, moved.URL)
	again.must(again.json("POST", "/api/v1/auth/login", map[string]string{"username": "mia", "password": "password-mia"}), 200, nil)
	var tr track
	again.must(again.json("GET", fmt.Sprintf("/api/v1/tracks/%d", up.Track.ID), nil), 200, &tr)
	if tr.Status != "ready" || tr.Title != "Moving Day" {
		t.Fatalf("track after the move: %+v", tr)
	}
	orig := again.do("GET", tr.OriginalURL, nil, nil)
	want, _ := os.ReadFile(src)
	if orig.StatusCode != 200 || sha256.Sum256(orig.Body) != sha256.Sum256(want) {
		t.Errorf("original after the move: %d, %d bytes", orig.StatusCode, len(orig.Body))
	}
	segs := variantSegments(t, again, tr.ID, "aac96")
	if r := again.do("GET", fmt.Sprintf("/media/tracks/%d/hls/aac96/%s", tr.ID, segs[0].URI), nil, nil); r.StatusCode != 200 || len(r.Body) < 500 {
		t.Errorf("first segment after the move: %d, %d bytes", r.StatusCode, len(r.Body))
	}
	var money struct{ Balance int64 }
	again.must(again.json("GET", "/api/v1/me/money", nil), 200, &money)
	if money.Balance != 12_340_000 {
		t.Errorf("balance after the move: %d, want 12340000", money.Balance)
	}
	var results page
	again.must(again.json("GET", "/api/v1/tracks?q=moving", nil), 200, &results)
	if results.Total != 1 {
		t.Errorf("search after the move found %d tracks", results.Total)
	}
	moved.Stop()
	if out, err := exec.Command(nodetest.Binary(t), "ledger", "verify", "--data", node.Data, "--db", dsn).CombinedOutput(); err != nil || !strings.Contains(string(out), "ledger OK") {
		t.Errorf("ledger verify after the move: %v\n%s", err, out)
	}

	stdout, stderr, ok = migrate()
	if ok || !strings.Contains(stderr, "not empty") || !strings.Contains(stdout, "already there") {
		t.Errorf("a second migrate into the same database: ok %v\n%s%s", ok, stdout, stderr)
	}
}
