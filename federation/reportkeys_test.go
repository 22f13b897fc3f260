package federation

import (
	"testing"

	nineten "nineten.dev"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// TestPeerReportKeys: a node reads the report keys another publishes in
// its node actor; a node that publishes none, or an address that is not a
// node's base URL, says so.
func TestPeerReportKeys(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		a := newPeer(t, db)
		b := newPeer(t, dbtest.Open(t, sqlstore.SQLite))
		want := ReportKeys{Recipient: "age1examplerecipient", Signer: "ed25519:AAAA", Cluster: "north"}
		a.f.Reports = want
		got, err := b.f.PeerReportKeys(t.Context(), "http://"+a.host+"/")
		if err != nil || got != want {
			t.Fatalf("a's report keys: %+v, %v; want %+v", got, err, want)
		}
		if _, err := a.f.PeerReportKeys(t.Context(), "http://"+b.host); nineten.ErrorKind(err) != nineten.KindUnavailable {
			t.Fatalf("a node without report keys: %v", err)
		}
		for _, bad := range []string{"a.example", "ftp://a.example", "http://" + a.host + "/actor"} {
			if _, err := b.f.PeerReportKeys(t.Context(), bad); nineten.ErrorKind(err) != nineten.KindInvalid {
				t.Fatalf("%q: %v", bad, err)
			}
		}
	})
}
