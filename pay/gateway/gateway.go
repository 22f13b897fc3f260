// Package gateway takes listeners' payments through a card or crypto
// payment gateway and pays artists through it, over one generic wire
// format: the gateway tells the node what happened in signed webhooks, and
// the node asks it for payouts over a small JSON API. An adapter of a
// particular gateway's API (or a gateway configured to speak this format)
// sits at the edge; everything behind it is the same.
//
// # Webhooks
//
// The gateway POSTs each event as JSON to /webhooks/gateway/<name> with a
// header
//
//	X-9ten-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">
//
// keyed with the webhook secret shared with the gateway (several v1 values
// may be given, and several secrets configured, to rotate the secret
// without downtime). The node refuses a body larger than MaxBody, a
// signature that matches no secret (compared in constant time), and a
// timestamp older than Window or further ahead than Skew: a captured
// delivery cannot be replayed later. An event is
//
//	{"id": "evt_…", "type": "payment.succeeded", "created": 1767225600,
//	 "data": {"amount": 1000, "currency": "usd", "reference": "42"}}
//
// payment.succeeded credits the listener whose user id is the reference
// (the checkout carries it as its client reference) with the amount, an
// integer of cents, exactly: 1000 cents are 10,000,000 micro-dollars. Only
// USD is taken. The ledger credits it once under "gw:<name>:<event id>", so
// a redelivered event credits nothing and is answered 200 like the first.
// payout.paid and payout.failed (data: reference, payout_id, amount,
// currency, failure_message) settle a payout. Other types are acknowledged
// and ignored. Every refusal of a genuine event is answered with a problem
// document saying why and what to do, and kept (nineten.GatewayEventRefused)
// for the node's admins: it may be money the gateway took that no listener
// was credited.
//
// # Payouts
//
// StartPayout records a payout of an artist's whole balance in whole cents
// (what is below a cent stays on the balance) pending, with a random
// reference, then asks the gateway:
//
//	POST <API>/payouts
//	Authorization: Bearer <API key>
//	Idempotency-Key: <reference>
//	{"amount": 1234, "currency": "usd", "destination": "acct_…", "reference": "<reference>"}
//
// and records it sent under the id the gateway answers ({"id": "po_…",
// "status": "pending"}). A payout.paid webhook confirms it, and only then is
// it recorded on the ledger, under "gw:<name>:payout:<payout id>", which the
// ledger refuses twice. A request that failed on the way is sent again by
// Tick with the same idempotency key, so the gateway makes one payout
// whatever was lost; a refusal (a 4xx answer) or payout.failed marks it
// failed and leaves the balance with the artist. One payout is under way
// per artist at a time, through any gateway or on any chain (the store
// refuses a second one).
package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"time"

	nineten "nineten.dev"
)

// Defaults of the webhook checks.
const (
	DefaultWindow  = 5 * time.Minute // how old a signed timestamp may be
	DefaultSkew    = time.Minute     // how far ahead of the node's clock it may be
	DefaultMaxBody = 64 << 10        // bytes of one event
)

// SignatureHeader carries a webhook's timestamp and signatures.
const SignatureHeader = "X-9ten-Signature"

// CentMicro is one cent in micro-dollars.
const CentMicro nineten.Micro = 10_000

// maxCents is the most cents that convert to micro-dollars without
// overflowing them.
const maxCents = math.MaxInt64 / int64(CentMicro)

// Event is a webhook event as the gateway sends it.
type Event struct {
	ID      string    `json:"id"`
	Type    string    `json:"type"`
	Created int64     `json:"created,omitempty"` // unix seconds; informational
	Data    EventData `json:"data"`
}

// EventData is an event's object.
type EventData struct {
	// Amount is an integer of the currency's minor unit (cents).
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
	// Reference is, for a payment, the paying listener's user id on the
	// node; for a payout, the reference the node sent with it.
	Reference      string `json:"reference"`
	PaymentID      string `json:"payment_id,omitempty"`
	PayoutID       string `json:"payout_id,omitempty"`
	FailureMessage string `json:"failure_message,omitempty"`
}

// The event types acted on.
const (
	EventPaymentSucceeded = "payment.succeeded"
	EventPayoutPaid       = "payout.paid"
	EventPayoutFailed     = "payout.failed"
)

// PayoutRequest is what the node POSTs to <API>/payouts.
type PayoutRequest struct {
	Amount      int64  `json:"amount"` // cents
	Currency    string `json:"currency"`
	Destination string `json:"destination"`
	Reference   string `json:"reference"`
}

// PayoutResponse is the gateway's answer: the payout it made (or had made
// for the same idempotency key).
type PayoutResponse struct {
	ID             string `json:"id"`
	Status         string `json:"status"` // pending, in_transit, paid, failed
	FailureMessage string `json:"failure_message,omitempty"`
}

// Secret is a credential shared with the gateway: a webhook secret or an
// API key. It never prints: every fmt verb and slog show "[secret]".
type Secret []byte

func (Secret) String() string                 { return "[secret]" }
func (Secret) GoString() string               { return "[secret]" }
func (Secret) LogValue() slog.Value           { return slog.StringValue("[secret]") }
func (Secret) Format(f fmt.State, _ rune)     { _, _ = f.Write([]byte("[secret]")) }
func (s Secret) MarshalText() ([]byte, error) { return []byte("[secret]"), nil }

// Store is what a gateway keeps and reads.
type Store interface {
	nineten.GatewayStore
	UserByID(ctx context.Context, id nineten.ID) (*nineten.User, error)
}

// Gateway is one payment gateway of a node.
type Gateway struct {
	// Name names the gateway in its webhook path and in ledger ids: 1–32
	// of a–z 0–9 and -.
	Name string
	// Secrets sign webhooks; any of them may (to rotate one).
	Secrets []Secret
	Store   Store
	Ledger  nineten.Ledger
	Clock   nineten.Clock
	Log     *slog.Logger
	Window  time.Duration // 0 means DefaultWindow
	Skew    time.Duration // 0 means DefaultSkew
	MaxBody int64         // 0 means DefaultMaxBody
	// CheckoutURL is where listeners pay, "{user}" standing for their
	// user id; shown in the app, optional.
	CheckoutURL string

	// API is the base URL of the gateway's payouts API, and APIKey its
	// bearer credential; without API the node makes no payouts through
	// the gateway.
	API    string
	APIKey Secret
	Client *http.Client // nil means a client with a 30 s timeout
}

var nameRE = regexp.MustCompile(`^[a-z0-9-]{1,32}$`)

// Check reports what is wrong with g's configuration, in words for the
// operator.
func (g *Gateway) Check() error {
	const op = "gateway.Check"
	if !nameRE.MatchString(g.Name) {
		return nineten.E(op, nineten.KindInvalid, strconv.Quote(g.Name)+" is not a gateway name: use 1–32 of a–z, 0–9 and -")
	}
	if len(g.Secrets) == 0 {
		return nineten.E(op, nineten.KindInvalid, "gateway "+g.Name+" has no webhook secret: its events could not be verified")
	}
	for _, s := range g.Secrets {
		if len(s) < 16 {
			return nineten.E(op, nineten.KindInvalid, "a webhook secret of gateway "+g.Name+" is shorter than 16 bytes: use the secret the gateway generated")
		}
	}
	if g.API != "" && len(g.APIKey) == 0 {
		return nineten.E(op, nineten.KindInvalid, "gateway "+g.Name+" has a payouts API but no API key")
	}
	return nil
}

// Info describes the gateway for the app.
func (g *Gateway) Info() nineten.GatewayInfo {
	return nineten.GatewayInfo{Name: g.Name, CheckoutURL: g.CheckoutURL, Payouts: g.API != ""}
}

func (g *Gateway) log() *slog.Logger {
	if g.Log == nil {
		return slog.Default()
	}
	return g.Log
}

func (g *Gateway) now() time.Time {
	if g.Clock == nil {
		return time.Now().UTC()
	}
	return g.Clock.Now().UTC()
}

// extIDChars are what ledger ids are made of.
var extIDChars = regexp.MustCompile(`^[A-Za-z0-9._~@:+-]+$`)

// maxExtID is the longest external id the ledger takes.
const maxExtID = 128

// extID is a ledger id of the gateway: "gw:<name>:<rest>", or "" when rest
// cannot be part of one.
func (g *Gateway) extID(rest string) string {
	id := "gw:" + g.Name + ":" + rest
	if !extIDChars.MatchString(rest) || len(id) > maxExtID {
		return ""
	}
	return id
}

// listenerID is how the ledger names a user.
func listenerID(u nineten.ID) string { return strconv.FormatInt(int64(u), 10) }

// alreadyRecorded tells the ledger's refusal of a repeated external id
// (the work is done) from other conflicts: with the first kind it returns
// the earlier transaction.
func alreadyRecorded(tx nineten.MoneyTx, err error, extID string) bool {
	return nineten.ErrorKind(err) == nineten.KindConflict && tx.Seq > 0 && tx.Ref == extID
}
