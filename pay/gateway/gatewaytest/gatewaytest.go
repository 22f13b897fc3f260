// Package gatewaytest is a fake payment gateway for tests: an HTTP server
// that speaks pay/gateway's wire format from the gateway's side. It
// delivers signed webhook events to a node and serves the payouts API,
// making one payout per idempotency key as real gateways do. It stands in
// for the outside world only; the node's own ports are always real.
package gatewaytest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"nineten.dev/pay/gateway"
)

// Server is a fake gateway.
type Server struct {
	URL    string // the payouts API's base URL
	Secret []byte // signs webhooks
	APIKey string // the bearer key the payouts API takes

	srv     *httptest.Server
	mu      sync.Mutex
	payouts map[string]*Payout // by idempotency key
	order   []string
	down    bool // answer 503, as a gateway having trouble
	lose    bool // make payouts but answer 502, as if the answer was lost
}

// Payout is a payout the fake gateway made.
type Payout struct {
	ID       string
	Key      string // the idempotency key it was asked with
	Request  gateway.PayoutRequest
	Requests int // how often it was asked for
}

// New starts a fake gateway, stopped when the test ends.
func New(t testing.TB, secret []byte, apiKey string) *Server {
	s := &Server{Secret: secret, APIKey: apiKey, payouts: map[string]*Payout{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /payouts", s.createPayout)
	s.srv = httptest.NewServer(mux)
	s.URL = s.srv.URL
	t.Cleanup(s.srv.Close)
	return s
}

// SetDown makes the payouts API fail (503) or work again.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	s.down = down
	s.mu.Unlock()
}

// SetLoseAnswers makes the payouts API make payouts but answer 502, as
// when the answer is lost on the way back, or work normally again.
func (s *Server) SetLoseAnswers(lose bool) {
	s.mu.Lock()
	s.lose = lose
	s.mu.Unlock()
}

func (s *Server) createPayout(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	answer := func(status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(v)
	}
	if s.down {
		answer(http.StatusServiceUnavailable, map[string]any{"error": map[string]string{"message": "try again later"}})
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.APIKey {
		answer(http.StatusUnauthorized, map[string]any{"error": map[string]string{"message": "invalid API key"}})
		return
	}
	key := r.Header.Get("Idempotency-Key")
	var req gateway.PayoutRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || key == "" || req.Amount <= 0 {
		answer(http.StatusBadRequest, map[string]any{"error": map[string]string{"message": "malformed payout request"}})
		return
	}
	if strings.HasPrefix(req.Destination, "bad_") {
		answer(http.StatusBadRequest, map[string]any{"error": map[string]string{"message": "no such destination: " + req.Destination}})
		return
	}
	p, ok := s.payouts[key]
	if !ok {
		p = &Payout{ID: fmt.Sprintf("po_%d", len(s.payouts)+1), Key: key, Request: req}
		s.payouts[key] = p
		s.order = append(s.order, key)
	}
	p.Requests++
	if s.lose {
		answer(http.StatusBadGateway, map[string]any{"error": "upstream timeout"})
		return
	}
	answer(http.StatusOK, gateway.PayoutResponse{ID: p.ID, Status: "pending"})
}

// Payouts lists the payouts made, oldest first.
func (s *Server) Payouts() []Payout {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Payout, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, *s.payouts[k])
	}
	return out
}

// Delivery is a webhook delivery's answer.
type Delivery struct {
	Status int
	Header http.Header
	Body   []byte
}

// Deliver signs ev now and POSTs it to url.
func (s *Server) Deliver(ctx context.Context, url string, ev gateway.Event) (*Delivery, error) {
	body, err := json.Marshal(ev)
	if err != nil {
		return nil, err
	}
	return s.DeliverRaw(ctx, url, body, gateway.Sign(s.Secret, time.Now(), body))
}

// DeliverRaw POSTs body with the signature header sig, as given: for
// forged, stale or malformed deliveries.
func (s *Server) DeliverRaw(ctx context.Context, url string, body []byte, sig string) (*Delivery, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if sig != "" {
		req.Header.Set(gateway.SignatureHeader, sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Delivery{Status: resp.StatusCode, Header: resp.Header, Body: b}, nil
}

// Payment is a payment.succeeded event of cents USD for the user id.
func Payment(eventID string, cents int64, user string) gateway.Event {
	return gateway.Event{ID: eventID, Type: gateway.EventPaymentSucceeded, Created: time.Now().Unix(),
		Data: gateway.EventData{Amount: cents, Currency: "usd", Reference: user, PaymentID: "pay_" + eventID}}
}

// Paid is the payout.paid event of p.
func Paid(eventID string, p Payout) gateway.Event {
	return gateway.Event{ID: eventID, Type: gateway.EventPayoutPaid, Created: time.Now().Unix(),
		Data: gateway.EventData{Amount: p.Request.Amount, Currency: p.Request.Currency, Reference: p.Request.Reference, PayoutID: p.ID}}
}

// Failed is the payout.failed event of p.
func Failed(eventID string, p Payout, why string) gateway.Event {
	return gateway.Event{ID: eventID, Type: gateway.EventPayoutFailed, Created: time.Now().Unix(),
		Data: gateway.EventData{Amount: p.Request.Amount, Currency: p.Request.Currency, Reference: p.Request.Reference, PayoutID: p.ID, FailureMessage: why}}
}
