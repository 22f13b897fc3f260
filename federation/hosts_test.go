package federation

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/federation/safehttp"
	"nineten.dev/sqlstore"
	"nineten.dev/testkit/clocktest"
	"nineten.dev/testkit/dbtest"
)

// A server that fails for a week is given up on: later deliveries to it
// are dropped without a request; once it answers the probe it gets
// deliveries again. A server that answers in between is never given up on.
func TestGivingUpOnDeadServers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, db *sqlstore.DB) {
		clock := clocktest.New(time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
		f := &Service{
			Store: db, Base: &url.URL{Scheme: "http", Host: "node.test"}, Clock: clock,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)), Client: safehttp.New(safehttp.Options{AllowLoopback: true}),
		}
		var up atomic.Bool
		var posts, probes atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/.well-known/nodeinfo" {
				probes.Add(1)
			} else {
				posts.Add(1)
			}
			if !up.Load() {
				http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
				return
			}
			w.WriteHeader(http.StatusAccepted)
		}))
		defer srv.Close()
		host := strings.TrimPrefix(srv.URL, "http://")
		d := f.Deliverer()
		deliver := func() error {
			payload, _ := json.Marshal(delivery{Signer: nodeActorName, Inbox: srv.URL + "/inbox", Activity: json.RawMessage(`{"type":"Create"}`)})
			return d.Run(t.Context(), &nineten.Job{Kind: JobDeliver, Payload: payload, Attempts: 1}, nil)
		}

		// Six days of failures: still tried.
		for range 7 {
			if err := deliver(); err == nil {
				t.Fatal("a delivery to a failing server succeeded")
			}
			clock.Add(24 * time.Hour)
		}
		if posts.Load() != 7 {
			t.Fatalf("%d deliveries reached the server, want 7", posts.Load())
		}
		// A week after the first failure, the next failure gives up on it.
		if err := deliver(); err == nil {
			t.Fatal("a delivery to a failing server succeeded")
		}
		down, err := f.UnavailableHosts(t.Context())
		if err != nil || len(down) != 1 || down[0].Host != host || down[0].Failures != 8 {
			t.Fatalf("unavailable hosts after a week of failures: %+v, %v", down, err)
		}
		// Dropped now, without a request and without a retry.
		if err := deliver(); err != nil {
			t.Fatalf("a delivery to a server given up on: %v, want it dropped", err)
		}
		if posts.Load() != 8 {
			t.Fatalf("%d deliveries reached a server given up on", posts.Load()-8)
		}
		// The probe finds it down, then up.
		if err := f.ProbeUnavailable(t.Context()); err != nil {
			t.Fatal(err)
		}
		if down, _ := f.UnavailableHosts(t.Context()); len(down) != 1 {
			t.Fatalf("a failing probe took the server back: %+v", down)
		}
		up.Store(true)
		if err := f.ProbeUnavailable(t.Context()); err != nil {
			t.Fatal(err)
		}
		if down, _ := f.UnavailableHosts(t.Context()); len(down) != 0 || probes.Load() != 2 {
			t.Fatalf("after the server answered the probe: %+v, %d probes", down, probes.Load())
		}
		if err := deliver(); err != nil || posts.Load() != 9 {
			t.Fatalf("a delivery after the server came back: %v, %d posts", err, posts.Load())
		}

		// Failing again, but answering on the sixth day: the week starts over.
		up.Store(false)
		for range 6 {
			deliver()
			clock.Add(24 * time.Hour)
		}
		up.Store(true)
		if err := deliver(); err != nil {
			t.Fatal(err)
		}
		up.Store(false)
		clock.Add(2 * 24 * time.Hour)
		deliver()
		if down, _ := f.UnavailableHosts(t.Context()); len(down) != 0 {
			t.Errorf("a server that answered two days ago was given up on: %+v", down)
		}
	})
}
