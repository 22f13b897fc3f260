package gateway_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	nineten "nineten.dev"
	"nineten.dev/ledger/embedded"
	"nineten.dev/pay/gateway"
	"nineten.dev/pay/gateway/gatewaytest"
	"nineten.dev/sqlstore"
)

const (
	node   = "music.test"
	secret = "whsec_0123456789abcdef0123456789"
	apiKey = "sk_test_abcdefghijklmnopqrstuvwx"
)

// env is one test's world: the node's ledger and records in a real SQLite
// store (storetest checks the records on PostgreSQL too), a gateway of the
// node served over HTTP, and a fake gateway on the other side.
type env struct {
	t        *testing.T
	ctx      context.Context
	db       *sqlstore.DB
	ledger   *embedded.Contract
	gw       *gateway.Gateway
	fake     *gatewaytest.Server
	hook     string // the node's webhook URL for the gateway
	listener *nineten.User
	logs     *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{t: t, ctx: t.Context(), logs: &syncBuffer{}}
	db, err := sqlstore.Open(e.ctx, filepath.Join(t.TempDir(), "9ten.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e.db = db
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	e.ledger = &embedded.Contract{Ledger: &embedded.Ledger{Store: db, Key: key}, Node: node}
	e.listener = &nineten.User{Username: "lena", Role: nineten.RoleListener, CreatedAt: time.Now()}
	if err := db.CreateUser(e.ctx, e.listener); err != nil {
		t.Fatal(err)
	}
	e.fake = gatewaytest.New(t, []byte(secret), apiKey)
	e.gw = &gateway.Gateway{
		Name: "acme", Secrets: []gateway.Secret{gateway.Secret(secret)}, Store: db, Ledger: e.ledger,
		Log: slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		API: e.fake.URL, APIKey: gateway.Secret(apiKey),
	}
	if err := e.gw.Check(); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gateway.Webhooks(e.gw))
	t.Cleanup(srv.Close)
	e.hook = srv.URL + gateway.WebhookPath + "acme"
	return e
}

func (e *env) uid() string { return strconv.FormatInt(int64(e.listener.ID), 10) }

// deliver sends ev signed now and decodes the answer.
func (e *env) deliver(ev gateway.Event) (*gatewaytest.Delivery, map[string]any) {
	e.t.Helper()
	d, err := e.fake.Deliver(e.ctx, e.hook, ev)
	if err != nil {
		e.t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(d.Body, &out); err != nil {
		e.t.Fatalf("answer %d is not JSON: %s", d.Status, d.Body)
	}
	return d, out
}

// ok checks a 200 answer with status.
func (e *env) ok(ev gateway.Event, status string) map[string]any {
	e.t.Helper()
	d, out := e.deliver(ev)
	if d.Status != http.StatusOK || out["status"] != status {
		e.t.Fatalf("event %s answered %d %v, want 200 with status %q", ev.ID, d.Status, out, status)
	}
	return out
}

// problem checks that d is a problem document of status whose detail
// says want.
func problem(t *testing.T, d *gatewaytest.Delivery, status int, want string) {
	t.Helper()
	if d.Status != status || d.Header.Get("Content-Type") != "application/problem+json" {
		t.Fatalf("answered %d (%s) %s, want a %d problem", d.Status, d.Header.Get("Content-Type"), d.Body, status)
	}
	var p struct {
		Title, Detail string
		Status        int
	}
	if err := json.Unmarshal(d.Body, &p); err != nil || p.Status != status || p.Title == "" {
		t.Fatalf("malformed problem %s", d.Body)
	}
	if !strings.Contains(p.Detail, want) {
		t.Fatalf("problem detail %q does not say %q", p.Detail, want)
	}
}

func (e *env) balance(kind nineten.AccountKind, id string) nineten.Micro {
	e.t.Helper()
	b, err := e.ledger.Balance(e.ctx, kind, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return b
}

func (e *env) event(id string) *nineten.GatewayEvent {
	e.t.Helper()
	ev, err := e.db.GatewayEvent(e.ctx, "acme", id)
	if err != nil {
		e.t.Fatal(err)
	}
	return ev
}

// A signed payment credits its listener exactly once, however often it is
// delivered.
func TestPaymentCreditedOnce(t *testing.T) {
	e := newEnv(t)
	ev := gatewaytest.Payment("evt_1", 1234, e.uid())
	e.ok(ev, "credited")
	if b := e.balance(nineten.AccountListener, e.uid()); b != 12_340_000 {
		t.Fatalf("balance %s after $12.34, want 12.340000", b)
	}
	got := e.event("evt_1")
	if got.State != nineten.GatewayEventCredited || got.UserID != e.listener.ID || got.Amount != 12_340_000 || got.Currency != "usd" {
		t.Errorf("recorded event %+v", got)
	}
	// Redelivered (signed afresh, as gateways retry): answered 200, and
	// nothing moves.
	e.ok(ev, "duplicate")
	if b := e.balance(nineten.AccountListener, e.uid()); b != 12_340_000 {
		t.Fatalf("balance %s after a redelivery, want 12.340000", b)
	}
	var n int
	e.ledger.Transactions(e.ctx, e.uid(), func(tx nineten.MoneyTx) error {
		if tx.Op == "deposit" {
			n++
			if tx.Ref != "gw:acme:evt_1" {
				t.Errorf("deposit ref %q", tx.Ref)
			}
		}
		return nil
	})
	if n != 1 {
		t.Errorf("%d deposits on the ledger, want 1", n)
	}
	// Two deliveries racing: one credit.
	race := gatewaytest.Payment("evt_2", 500, e.uid())
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			d, err := e.fake.Deliver(e.ctx, e.hook, race)
			if err != nil || d.Status != http.StatusOK {
				t.Errorf("racing delivery: %v %d %s", err, d.Status, d.Body)
			}
		})
	}
	wg.Wait()
	if b := e.balance(nineten.AccountListener, e.uid()); b != 17_340_000 {
		t.Fatalf("balance %s after racing deliveries of $5, want 17.340000", b)
	}
}

// Deliveries that are not genuine, timely and well-formed, or payments the
// node cannot credit, are refused with a problem a person can act on, and
// credit nothing.
func TestRefusals(t *testing.T) {
	e := newEnv(t)
	sign := func(body []byte) string { return gateway.Sign([]byte(secret), time.Now(), body) }
	body := func(ev gateway.Event) []byte {
		b, _ := json.Marshal(ev)
		return b
	}
	pay := gatewaytest.Payment("evt_ok", 1000, e.uid())
	payBody := body(pay)
	other := gateway.Sign([]byte("another secret, not the node's"), time.Now(), payBody)
	eur := gatewaytest.Payment("evt_eur", 1000, e.uid())
	eur.Data.Currency = "eur"
	nobody := gatewaytest.Payment("evt_nobody", 1000, "999999")
	notID := gatewaytest.Payment("evt_name", 1000, "lena")
	zero := gatewaytest.Payment("evt_zero", 0, e.uid())
	huge := gatewaytest.Payment("evt_huge", 1<<62, e.uid())
	badID := gatewaytest.Payment("evt with spaces", 1000, e.uid())
	big := body(gatewaytest.Payment("evt_big", 1000, e.uid()+strings.Repeat(" ", 70<<10)))

	cases := []struct {
		name, sig string
		body      []byte
		status    int
		says      string
		kept      string // the event id recorded as refused, if any
	}{
		{"forged signature", other, payBody, 401, "does not match", ""},
		{"no signature", "", payBody, 401, "carries no X-9ten-Signature", ""},
		{"malformed header", "v1=abc", payBody, 401, "is not t=", ""},
		{"tampered body", sign(payBody), bytes.Replace(payBody, []byte("1000"), []byte("9000"), 1), 401, "does not match", ""},
		{"stale timestamp", gateway.Sign([]byte(secret), time.Now().Add(-6*time.Minute), payBody), payBody, 401, "longer than the 5m0s", ""},
		{"future timestamp", gateway.Sign([]byte(secret), time.Now().Add(5*time.Minute), payBody), payBody, 401, "in the future", ""},
		{"oversized body", sign(big), big, 413, "larger than the 65536 bytes", ""},
		{"not JSON", sign([]byte("{nope")), []byte("{nope"), 422, "not the JSON", ""},
		{"event id the ledger cannot take", sign(body(badID)), body(badID), 422, "cannot name a payment", ""},
		{"wrong currency", sign(body(eur)), body(eur), 422, "USD only", "evt_eur"},
		{"unknown user", sign(body(nobody)), body(nobody), 422, "no user of this node has the id 999999", "evt_nobody"},
		{"reference not a user id", sign(body(notID)), body(notID), 422, "is not a user id", "evt_name"},
		{"no amount", sign(body(zero)), body(zero), 422, "not a positive whole number of cents", "evt_zero"},
		{"amount beyond the ledger", sign(body(huge)), body(huge), 422, "not a positive whole number of cents", "evt_huge"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d, err := e.fake.DeliverRaw(e.ctx, e.hook, c.body, c.sig)
			if err != nil {
				t.Fatal(err)
			}
			problem(t, d, c.status, c.says)
			if b := e.balance(nineten.AccountListener, e.uid()); b != 0 {
				t.Fatalf("balance %s after a refused delivery", b)
			}
			if c.kept != "" {
				if ev := e.event(c.kept); ev.State != nineten.GatewayEventRefused || ev.Error == "" {
					t.Errorf("refused event recorded as %+v", ev)
				}
			}
		})
	}
	refused, err := e.db.GatewayEvents(e.ctx, nineten.GatewayEventRefused, nineten.Page{})
	if err != nil || len(refused) != 5 {
		t.Errorf("%d refused events kept (%v), want the 5 genuine ones", len(refused), err)
	}
	// A refused event is looked at again when redelivered, and still refused.
	d, _ := e.deliver(eur)
	problem(t, d, 422, "USD only")

	// The webhook path names a gateway of the node; events are POSTed.
	d, _ = e.fake.DeliverRaw(e.ctx, strings.TrimSuffix(e.hook, "acme")+"other", payBody, sign(payBody))
	problem(t, d, 404, "no payment gateway named \"other\"")
	resp, err := http.Get(e.hook)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 405 || resp.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("GET answered %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	// The genuine payment still goes through.
	e.ok(pay, "credited")

	// Secrets never reach the logs.
	if l := e.logs.String(); strings.Contains(l, secret) || strings.Contains(l, apiKey) {
		t.Errorf("a secret was logged:\n%s", l)
	}
}

// Events the node does not act on are acknowledged, so the gateway stops
// sending them.
func TestOtherEventsIgnored(t *testing.T) {
	e := newEnv(t)
	e.ok(gateway.Event{ID: "evt_x", Type: "customer.updated"}, "ignored")
	if ev := e.event("evt_x"); ev.State != nineten.GatewayEventIgnored {
		t.Errorf("recorded %+v", ev)
	}
}

// Several secrets verify (rotation); a secret prints as "[secret]" and the
// gateway's configuration can be logged whole.
func TestSecretsRotateAndNeverPrint(t *testing.T) {
	e := newEnv(t)
	e.gw.Secrets = []gateway.Secret{gateway.Secret("the new secret of the gateway"), gateway.Secret(secret)}
	e.ok(gatewaytest.Payment("evt_r", 100, e.uid()), "credited")
	for _, s := range []string{fmt.Sprint(e.gw), fmt.Sprintf("%+v %#v %s %x %q", e.gw, e.gw, e.gw.APIKey, e.gw.APIKey, e.gw.Secrets)} {
		if strings.Contains(s, secret) || strings.Contains(s, apiKey) || strings.Contains(s, fmt.Sprintf("%x", apiKey)) {
			t.Fatalf("a secret printed: %s", s)
		}
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "gateway", e.gw, "key", e.gw.APIKey)
	if strings.Contains(buf.String(), apiKey) || strings.Contains(buf.String(), secret) {
		t.Fatalf("a secret was logged: %s", buf.String())
	}
}
