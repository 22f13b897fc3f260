package main

import (
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
