package gateway

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	nineten "nineten.dev"
)

// WebhookPath is where gateways deliver events: WebhookPath + "<name>".
const WebhookPath = "/webhooks/gateway/"

// Webhooks serves the webhooks of gws under WebhookPath.
func Webhooks(gws ...*Gateway) http.Handler {
	byName := make(map[string]*Gateway, len(gws))
	for _, g := range gws {
		byName[g.Name] = g
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name, _ := strings.CutPrefix(r.URL.Path, WebhookPath)
		g, ok := byName[name]
		if !ok {
			writeProblem(w, r, http.StatusNotFound, "this node has no payment gateway named "+strconv.Quote(name)+": check the webhook URL configured at the gateway")
			return
		}
		g.ServeHTTP(w, r)
	})
}

// Outcome is the answer to a delivered event.
type Outcome struct {
	Event  string `json:"event"`
	Status string `json:"status"` // credited, confirmed, failed, ignored, duplicate
	Detail string `json:"detail"`
}

// ServeHTTP takes one webhook delivery of g.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		writeProblem(w, r, http.StatusMethodNotAllowed, "gateways deliver events with POST")
		return
	}
	out, err := g.receive(r.Context(), w, r)
	if err != nil {
		status, ok := kindStatus[nineten.ErrorKind(err)]
		msg := nineten.ErrorMessage(err)
		if !ok || msg == "" {
			status, msg = http.StatusInternalServerError, "the node could not take this event now; deliver it again later"
		}
		// Internal errors are the node's to fix; the rest are the
		// sender's (or a person's, for refused events), said in the answer.
		if status == http.StatusInternalServerError {
			g.log().ErrorContext(r.Context(), "gateway: taking an event failed", "gateway", g.Name, "err", err)
		} else {
			g.log().WarnContext(r.Context(), "gateway: event refused", "gateway", g.Name, "status", status, "why", msg)
		}
		writeProblem(w, r, status, msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(out)
}

var kindStatus = map[nineten.Kind]int{
	nineten.KindInvalid:         http.StatusUnprocessableEntity,
	nineten.KindNotFound:        http.StatusNotFound,
	nineten.KindConflict:        http.StatusConflict,
	nineten.KindUnauthenticated: http.StatusUnauthorized,
	nineten.KindTooLarge:        http.StatusRequestEntityTooLarge,
	nineten.KindUnsupported:     http.StatusUnsupportedMediaType,
	nineten.KindUnavailable:     http.StatusServiceUnavailable,
}

// receive reads, verifies and acts on one delivery.
func (g *Gateway) receive(ctx context.Context, w http.ResponseWriter, r *http.Request) (*Outcome, error) {
	const op = "gateway.receive"
	limit := g.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	tooLarge := nineten.E(op, nineten.KindTooLarge, fmt.Sprintf("the event is larger than the %d bytes this node accepts", limit))
	if r.ContentLength > limit {
		return nil, tooLarge
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the event's body could not be read", err)
	}
	if err := g.Verify(r.Header.Get(SignatureHeader), body); err != nil {
		return nil, err
	}
	var ev Event
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(&ev); err != nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the event is not the JSON this node expects ({\"id\", \"type\", \"data\": {…}}): "+err.Error())
	}
	if ev.ID == "" || ev.Type == "" {
		return nil, nineten.E(op, nineten.KindInvalid, "the event has no id or no type")
	}
	ext := g.extID(ev.ID)
	if ext == "" {
		return nil, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("the event id %q cannot name a payment on the ledger: use at most %d of A–Z a–z 0–9 . _ ~ @ : + -", ev.ID, maxExtID-len("gw:"+g.Name+":")))
	}
	switch prev, perr := g.Store.GatewayEvent(ctx, g.Name, ev.ID); {
	case perr == nil && prev.State != nineten.GatewayEventRefused:
		return &Outcome{Event: ev.ID, Status: "duplicate", Detail: "this event was received before (" + string(prev.State) + "); nothing was done again"}, nil
	case perr != nil && nineten.ErrorKind(perr) != nineten.KindNotFound:
		return nil, nineten.E(op, perr)
	}
	// A refused event is looked at again: what refused it may be fixed.
	rec := nineten.GatewayEvent{
		Gateway: g.Name, ID: ev.ID, Type: ev.Type, Reference: ev.Data.Reference,
		Currency: strings.ToLower(ev.Data.Currency), ReceivedAt: g.now(), UpdatedAt: g.now(),
	}
	if ev.Data.Amount > 0 && ev.Data.Amount <= maxCents {
		rec.Amount = nineten.Micro(ev.Data.Amount) * CentMicro
	}
	var out *Outcome
	switch ev.Type {
	case EventPaymentSucceeded:
		out, err = g.payment(ctx, &ev, &rec, ext)
	case EventPayoutPaid, EventPayoutFailed:
		out, err = g.payoutEvent(ctx, &ev, &rec)
	default:
		rec.State = nineten.GatewayEventIgnored
		out = &Outcome{Event: ev.ID, Status: "ignored", Detail: "this node does not act on " + ev.Type + " events"}
	}
	if rf := (*refused)(nil); errors.As(err, &rf) {
		rec.State, rec.Error = nineten.GatewayEventRefused, nineten.ErrorMessage(err)
		if serr := g.Store.SaveGatewayEvent(ctx, rec); serr != nil {
			return nil, nineten.E(op, serr)
		}
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	if err := g.Store.SaveGatewayEvent(ctx, rec); err != nil {
		// Acted on but not recorded: a redelivery finds the ledger
		// refusing the same id again, and records it then.
		return nil, nineten.E(op, err)
	}
	g.log().InfoContext(ctx, "gateway: event", "gateway", g.Name, "event", ev.ID, "type", ev.Type, "status", out.Status)
	return out, nil
}

// refused marks the refusal of a genuine event, which is kept for the
// node's admins.
type refused struct{ err error }

func (r *refused) Error() string { return r.err.Error() }
func (r *refused) Unwrap() error { return r.err }

func refuse(op string, kind nineten.Kind, msg string) error {
	return &refused{nineten.E(op, kind, msg)}
}

// Verify checks a webhook's signature header against body: a v1 signature
// by one of the secrets, over a timestamp within the window.
func (g *Gateway) Verify(header string, body []byte) error {
	const op = "gateway.Verify"
	if header == "" {
		return nineten.E(op, nineten.KindUnauthenticated, "the event carries no "+SignatureHeader+" header: the gateway must sign every event (t=<unix time>,v1=<HMAC-SHA256>)")
	}
	var ts string
	var sigs [][]byte
	for part := range strings.SplitSeq(header, ",") {
		k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			if b, err := hex.DecodeString(v); err == nil && len(b) == sha256.Size {
				sigs = append(sigs, b)
			}
		}
	}
	t, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(sigs) == 0 {
		return nineten.E(op, nineten.KindUnauthenticated, "the "+SignatureHeader+" header is not t=<unix time>,v1=<64 hex digits of HMAC-SHA256>")
	}
	matched := false
	for _, secret := range g.Secrets {
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte(ts))
		mac.Write([]byte{'.'})
		mac.Write(body)
		want := mac.Sum(nil)
		for _, sig := range sigs {
			if hmac.Equal(sig, want) {
				matched = true
			}
		}
	}
	if !matched {
		return nineten.E(op, nineten.KindUnauthenticated, "the signature does not match this node's webhook secret for gateway "+g.Name+": check that the gateway and the node share the same secret")
	}
	// Checked after the signature, so that only a genuine timestamp is
	// described.
	window, skew := g.Window, g.Skew
	if window <= 0 {
		window = DefaultWindow
	}
	if skew <= 0 {
		skew = DefaultSkew
	}
	age := g.now().Sub(time.Unix(t, 0))
	switch {
	case age > window:
		return nineten.E(op, nineten.KindUnauthenticated, fmt.Sprintf("the event was signed %s ago, longer than the %s this node accepts: a delayed or replayed delivery; have the gateway send it again (it signs afresh), and check both clocks", age.Round(time.Second), window))
	case -age > skew:
		return nineten.E(op, nineten.KindUnauthenticated, fmt.Sprintf("the event is signed %s in the future, more than the %s of clock difference this node allows: check the gateway's and the node's clocks", (-age).Round(time.Second), skew))
	}
	return nil
}

// Sign returns the signature header of body at t with secret: what a
// gateway sends, and what tests and adapters use to speak the format.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(ts + "."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// payment credits a payment.succeeded event to its listener.
func (g *Gateway) payment(ctx context.Context, ev *Event, rec *nineten.GatewayEvent, ext string) (*Outcome, error) {
	const op = "gateway.payment"
	d := ev.Data
	if cur := strings.ToUpper(strings.TrimSpace(d.Currency)); cur != "USD" {
		return nil, refuse(op, nineten.KindInvalid, fmt.Sprintf("the payment is in %q; this node takes USD only: have the gateway charge or settle its checkouts in USD. Nothing was credited; refund the payment at the gateway", cur))
	}
	if d.Amount <= 0 || d.Amount > maxCents {
		return nil, refuse(op, nineten.KindInvalid, fmt.Sprintf("the amount %d is not a positive whole number of cents this node can credit; nothing was credited", d.Amount))
	}
	id, err := strconv.ParseInt(strings.TrimSpace(d.Reference), 10, 64)
	if err != nil || id <= 0 {
		return nil, refuse(op, nineten.KindInvalid, fmt.Sprintf("the payment's reference %q is not a user id of this node: the checkout must carry the paying listener's user id as its reference. Nothing was credited; refund the payment at the gateway or credit it by hand", d.Reference))
	}
	u, err := g.Store.UserByID(ctx, nineten.ID(id))
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil, refuse(op, nineten.KindInvalid, fmt.Sprintf("no user of this node has the id %d that the payment's reference names. Nothing was credited; refund the payment at the gateway or credit it by hand", id))
	}
	if err != nil {
		return nil, nineten.E(op, err)
	}
	amount := nineten.Micro(d.Amount) * CentMicro
	tx, err := g.Ledger.Deposit(ctx, listenerID(u.ID), ext, amount)
	if err != nil && !alreadyRecorded(tx, err, ext) {
		return nil, nineten.E(op, err)
	}
	rec.State, rec.UserID, rec.Amount = nineten.GatewayEventCredited, u.ID, amount
	return &Outcome{Event: ev.ID, Status: "credited", Detail: fmt.Sprintf("$%s credited to user %d in ledger transaction %d", amount, u.ID, tx.Seq)}, nil
}

// problem is an RFC 9457 problem document, as every HTTP error of the node.
type problem struct {
	Type     string `json:"type"`
	Title    string `json:"title"`
	Status   int    `json:"status"`
	Detail   string `json:"detail"`
	Instance string `json:"instance,omitempty"`
}

func writeProblem(w http.ResponseWriter, r *http.Request, status int, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(problem{Type: "about:blank", Title: http.StatusText(status), Status: status, Detail: detail, Instance: r.URL.Path})
}
