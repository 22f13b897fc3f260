package federation

import (
	"context"
	"crypto"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"

	nineten "nineten.dev"
	"nineten.dev/federation/httpsig"
	"nineten.dev/federation/safehttp"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/dbtest"
)

// The package's tests run through dbtest, which stops the PostgreSQL
// cluster of the deliveries' tests after them.
func TestMain(m *testing.M) { dbtest.Main(m) }

// A server that takes only RFC 9421 signatures gets the delivery on the
// second knock, and the first knock is skipped from then on.
func TestDeliveryKnocksAgainWithRFC9421(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) { testDeliveryKnocksAgainWithRFC9421(t, db) })
}

func testDeliveryKnocksAgainWithRFC9421(t *testing.T, db *sqlstore.DB) {
	f := &Service{
		Store: db, Base: &url.URL{Scheme: "http", Host: "node.test"}, Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Client: safehttp.New(safehttp.Options{AllowLoopback: true}),
	}
	keys, err := f.Keys(t.Context(), nodeActorName)
	if err != nil {
		t.Fatal(err)
	}
	var requests, accepted atomic.Int32
	strict := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		body, _ := io.ReadAll(r.Body)
		if r.Header.Get("Signature-Input") == "" {
			http.Error(w, "RFC 9421 signatures only", http.StatusUnauthorized)
			return
		}
		v := httpsig.Verifier{Scheme: "http", Lookup: func(context.Context, string, bool) (crypto.PublicKey, error) {
			return &keys.RSA.PublicKey, nil
		}}
		if _, err := v.Verify(r.Context(), r, body); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		accepted.Add(1)
		w.WriteHeader(http.StatusAccepted)
	}))
	defer strict.Close()

	job := func(inbox string) *nineten.Job {
		payload, _ := json.Marshal(delivery{Signer: nodeActorName, Inbox: inbox, Activity: json.RawMessage(`{"type":"Create"}`)})
		return &nineten.Job{Kind: JobDeliver, Payload: payload}
	}
	d := f.Deliverer()
	if err := d.Run(t.Context(), job(strict.URL+"/inbox"), nil); err != nil {
		t.Fatalf("delivery failed: %v", err)
	}
	if requests.Load() != 2 || accepted.Load() != 1 {
		t.Errorf("first delivery: %d requests, %d accepted; want 2 and 1", requests.Load(), accepted.Load())
	}
	if err := d.Run(t.Context(), job(strict.URL+"/inbox"), nil); err != nil {
		t.Fatal(err)
	}
	if requests.Load() != 3 || accepted.Load() != 2 {
		t.Errorf("second delivery: %d requests in all, want one more", requests.Load())
	}

	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "go away", http.StatusUnauthorized)
	}))
	defer refusing.Close()
	if err := d.Run(t.Context(), job(refusing.URL+"/inbox"), nil); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Errorf("a server refusing both: %v, want a permanent (KindInvalid) error", err)
	}
}
