package main

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"nineten.dev/seal"
)

func TestReportOptionsSayWhatIsWrong(t *testing.T) {
	c, err := seal.Load(filepath.Join(t.TempDir(), "auditor.age"))
	if err != nil {
		t.Fatal(err)
	}
	good := reportOptions{K: 10, Peers: []string{"https://b.example", "http://127.0.0.1:8081/"}, Auditors: []string{c.Recipient()}}
	if err := checkReportOptions(good); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []struct {
		o    func(*reportOptions)
		says string
	}{
		{func(o *reportOptions) { o.K = 0 }, "--report-k 0: give at least 1"},
		{func(o *reportOptions) { o.Auditors = append(o.Auditors, "age1nope") }, `--report-auditors: "age1nope" is not an age X25519 recipient`},
		{func(o *reportOptions) { o.Peers = []string{"b.example"} }, `--cluster-peers: "b.example" is not a node's base URL`},
		{func(o *reportOptions) { o.Peers = []string{"https://b.example/inbox"} }, "--cluster-peers"},
	} {
		o := good
		o.Peers, o.Auditors = append([]string(nil), good.Peers...), append([]string(nil), good.Auditors...)
		bad.o(&o)
		if err := checkReportOptions(o); err == nil || !strings.Contains(err.Error(), bad.says) {
			t.Errorf("got %v, want an error saying %q", err, bad.says)
		}
	}
}

// Every process of a node needs the same node.age: one started with
// another identity refuses to start and says which file to copy.
func TestProcessesShareTheAgeIdentity(t *testing.T) {
	data := t.TempDir()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := options{Data: data, SettleDay: 20, MaxUploadMiB: 1, Reports: reportOptions{K: 10}}
	n, err := openNode(t.Context(), o, log)
	if err != nil {
		t.Fatal(err)
	}
	first := n.reports.Cipher.Recipient()
	n.Close()
	if err := os.Remove(filepath.Join(data, reportAgeFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := seal.Load(filepath.Join(data, reportAgeFile)); err != nil {
		t.Fatal(err)
	}
	if n, err := openNode(t.Context(), o, log); err == nil {
		n.Close()
		t.Fatal("a process with another node.age started")
	} else if !strings.Contains(err.Error(), "node.age is not the age identity") || !strings.Contains(err.Error(), first) {
		t.Fatalf("refused with %q", err)
	}
}
