package gateway

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"

	nineten "nineten.dev"
)

// DefaultInterval is how often Run sends payouts that are still pending.
const DefaultInterval = time.Minute

// StartPayout pays an artist's earned balance (artist is the ledger id
// "<node>/<artist id>"), in whole cents, to destination, their account at
// the gateway. It records the payout pending and asks the gateway at once;
// if the gateway cannot be reached, Tick asks again. The caller checks that
// the user may pay this artist out.
func (g *Gateway) StartPayout(ctx context.Context, artist, destination string) (*nineten.GatewayPayout, error) {
	const op = "gateway.StartPayout"
	if g.API == "" {
		return nil, nineten.E(op, nineten.KindUnavailable, "this node makes no payouts through "+g.Name)
	}
	destination = strings.TrimSpace(destination)
	if destination == "" || len(destination) > 200 || strings.IndexFunc(destination, func(r rune) bool { return unicode.IsSpace(r) || !unicode.IsPrint(r) }) >= 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "give your account at "+g.Name+" as the gateway names it (up to 200 characters, no spaces), e.g. acct_123")
	}
	bal, err := g.Ledger.Balance(ctx, nineten.AccountArtist, artist)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	cents := int64(bal / CentMicro)
	if cents <= 0 {
		return nil, nineten.E(op, nineten.KindInvalid, "the artist has less than one cent of earnings to pay out")
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, nineten.E(op, err)
	}
	now := g.now()
	po := &nineten.GatewayPayout{
		Gateway: g.Name, Artist: artist, Destination: destination,
		Amount: nineten.Micro(cents) * CentMicro, Cents: cents, Currency: "usd",
		Reference: "9ten_" + hex.EncodeToString(b[:]), State: nineten.GatewayPayoutPending,
		CreatedAt: now, UpdatedAt: now,
	}
	if err := g.Store.CreateGatewayPayout(ctx, po); err != nil {
		if nineten.ErrorKind(err) == nineten.KindConflict {
			return nil, nineten.E(op, nineten.KindConflict, "this artist has a payout under way; wait until it is paid or has failed", err)
		}
		return nil, nineten.E(op, err)
	}
	g.log().InfoContext(ctx, "gateway: payout pending", "gateway", g.Name, "payout", po.ID, "artist", artist, "cents", cents)
	if err := g.send(ctx, po); err != nil {
		g.log().WarnContext(ctx, "gateway: payout not sent yet; retrying later", "gateway", g.Name, "payout", po.ID, "err", err)
	}
	return po, nil
}

// Tick asks the gateway again for every payout still pending. An error of
// one does not stop the others; the first is returned.
func (g *Gateway) Tick(ctx context.Context) error {
	if g.API == "" {
		return nil
	}
	pending, err := g.Store.GatewayPayouts(ctx, nineten.GatewayPayoutFilter{Gateway: g.Name, States: []nineten.GatewayPayoutState{nineten.GatewayPayoutPending}})
	if err != nil {
		return nineten.E("gateway.Tick", err)
	}
	var first error
	for i := range pending {
		if err := g.send(ctx, &pending[i]); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// Run ticks every interval (DefaultInterval when 0) until ctx ends.
func (g *Gateway) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if err := g.Tick(ctx); err != nil && ctx.Err() == nil {
			g.log().WarnContext(ctx, "gateway: sending pending payouts", "gateway", g.Name, "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (g *Gateway) client() *http.Client {
	if g.Client != nil {
		return g.Client
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// send asks the gateway for a pending payout and records its answer. The
// request carries the payout's reference as its idempotency key, so asking
// again after a lost answer makes no second payout.
func (g *Gateway) send(ctx context.Context, po *nineten.GatewayPayout) error {
	const op = "gateway.send"
	body, err := json.Marshal(PayoutRequest{Amount: po.Cents, Currency: po.Currency, Destination: po.Destination, Reference: po.Reference})
	if err != nil {
		return nineten.E(op, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimSuffix(g.API, "/")+"/payouts", bytes.NewReader(body))
	if err != nil {
		return nineten.E(op, nineten.KindInvalid, "the payouts API URL of "+g.Name+" is not a URL", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+string(g.APIKey))
	req.Header.Set("Idempotency-Key", po.Reference)
	resp, err := g.client().Do(req)
	if err != nil {
		return nineten.E(op, nineten.KindUnavailable, "could not reach the payouts API of "+g.Name, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
	case resp.StatusCode == http.StatusConflict || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		// Busy with the same key, rate-limited or down: ask again later.
		return nineten.E(op, nineten.KindUnavailable, fmt.Sprintf("the payouts API of %s answered %s: %s", g.Name, resp.Status, gatewayMessage(raw)))
	default:
		// Refused: nothing was paid, and asking again would be refused too.
		return g.fail(ctx, po, nineten.GatewayPayoutPending, fmt.Sprintf("%s refused the payout (%s): %s", g.Name, resp.Status, gatewayMessage(raw)))
	}
	var pr PayoutResponse
	if err := json.Unmarshal(raw, &pr); err != nil || pr.ID == "" {
		return nineten.E(op, nineten.KindUnavailable, "the payouts API of "+g.Name+" answered without a payout id; asking again later")
	}
	if pr.Status == "failed" {
		return g.fail(ctx, po, nineten.GatewayPayoutPending, g.Name+" could not make the payout: "+pr.FailureMessage)
	}
	next := *po
	next.State, next.PayoutID, next.UpdatedAt = nineten.GatewayPayoutSent, pr.ID, g.now()
	if err := g.Store.UpdateGatewayPayout(ctx, &next, nineten.GatewayPayoutPending); err != nil {
		if nineten.ErrorKind(err) == nineten.KindConflict {
			return nil // a webhook (or another process) moved it on meanwhile
		}
		return nineten.E(op, err)
	}
	*po = next
	g.log().InfoContext(ctx, "gateway: payout sent", "gateway", g.Name, "payout", po.ID, "payout_id", pr.ID)
	return nil
}

// gatewayMessage picks the human part of an error answer: a problem's
// detail, {"error": {"message"}} or {"error": "…"}, or the text itself.
func gatewayMessage(raw []byte) string {
	var m struct {
		Detail string          `json:"detail"`
		Error  json.RawMessage `json:"error"`
	}
	if json.Unmarshal(raw, &m) == nil {
		if m.Detail != "" {
			return m.Detail
		}
		var s string
		var o struct{ Message string }
		if json.Unmarshal(m.Error, &s) == nil && s != "" {
			return s
		}
		if json.Unmarshal(m.Error, &o) == nil && o.Message != "" {
			return o.Message
		}
	}
	s := strings.TrimSpace(string(raw))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	if s == "" {
		return "no reason given"
	}
	return s
}

// fail records that a payout will not pay; the ledger was not debited.
func (g *Gateway) fail(ctx context.Context, po *nineten.GatewayPayout, from nineten.GatewayPayoutState, why string) error {
	next := *po
	next.State, next.Error, next.UpdatedAt = nineten.GatewayPayoutFailed, why, g.now()
	if err := g.Store.UpdateGatewayPayout(ctx, &next, from); err != nil {
		return nineten.E("gateway.fail", err)
	}
	*po = next
	g.log().WarnContext(ctx, "gateway: payout failed", "gateway", g.Name, "payout", po.ID, "why", why)
	return nil
}

// payoutEvent settles a payout on payout.paid or payout.failed.
func (g *Gateway) payoutEvent(ctx context.Context, ev *Event, rec *nineten.GatewayEvent) (*Outcome, error) {
	const op = "gateway.payoutEvent"
	d := ev.Data
	po, err := g.Store.GatewayPayoutByRef(ctx, g.Name, d.Reference, d.PayoutID)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil, refuse(op, nineten.KindInvalid, fmt.Sprintf("no payout of this node has the reference %q or the payout id %q: if the node did not ask for it, look at it at the gateway", d.Reference, d.PayoutID))
	}
	if err != nil {
		return nil, nineten.E(op, err)
	}
	rec.State, rec.PayoutID = nineten.GatewayEventPayout, po.ID
	payoutID := d.PayoutID
	if payoutID == "" {
		payoutID = po.PayoutID
	}
	if po.PayoutID != "" && payoutID != po.PayoutID {
		return nil, refuse(op, nineten.KindInvalid, fmt.Sprintf("payout %d was made as %s at the gateway, but this event is about %s: look at both at the gateway", po.ID, po.PayoutID, payoutID))
	}
	if ev.Type == EventPayoutFailed {
		return g.payoutFailed(ctx, ev, po)
	}
	switch po.State {
	case nineten.GatewayPayoutConfirmed:
		return &Outcome{Event: ev.ID, Status: "confirmed", Detail: fmt.Sprintf("payout %d was confirmed before", po.ID)}, nil
	case nineten.GatewayPayoutFailed:
		return nil, refuse(op, nineten.KindConflict, fmt.Sprintf("payout %d was recorded as failed (%s), but the gateway says it was paid; the artist's balance was not debited: look at it at the gateway and settle it by hand", po.ID, po.Error))
	}
	if payoutID == "" {
		return nil, refuse(op, nineten.KindInvalid, "the payout.paid event has no payout_id")
	}
	if d.Amount != po.Cents || !strings.EqualFold(d.Currency, po.Currency) {
		return nil, refuse(op, nineten.KindInvalid, fmt.Sprintf("payout %d asked for %d %s cents, but the gateway says it paid %d %q: look at it at the gateway; nothing was recorded", po.ID, po.Cents, strings.ToUpper(po.Currency), d.Amount, d.Currency))
	}
	ext := g.extID("payout:" + payoutID)
	if ext == "" {
		return nil, refuse(op, nineten.KindInvalid, fmt.Sprintf("the payout id %q cannot name a payout on the ledger", payoutID))
	}
	tx, err := g.Ledger.Payout(ctx, nineten.AccountArtist, po.Artist, ext, po.Amount)
	if err != nil && !alreadyRecorded(tx, err, ext) {
		return nil, nineten.E(op, "payout "+payoutID+" is paid but could not be recorded on the ledger; deliver the event again", err)
	}
	from := po.State
	next := *po
	next.State, next.PayoutID, next.ExtID, next.Error, next.UpdatedAt = nineten.GatewayPayoutConfirmed, payoutID, ext, "", g.now()
	if err := g.Store.UpdateGatewayPayout(ctx, &next, from); err != nil {
		// Moved meanwhile: by the same news delivered twice at once, or
		// by the node's own record of the gateway's answer.
		now, rerr := g.Store.GatewayPayoutByID(ctx, po.ID)
		switch {
		case nineten.ErrorKind(err) != nineten.KindConflict || rerr != nil:
			return nil, nineten.E(op, err)
		case now.State == nineten.GatewayPayoutConfirmed:
		case now.State == nineten.GatewayPayoutSent:
			if err := g.Store.UpdateGatewayPayout(ctx, &next, now.State); err != nil {
				return nil, nineten.E(op, err)
			}
		default:
			return nil, nineten.E(op, err)
		}
	}
	g.log().InfoContext(ctx, "gateway: payout confirmed", "gateway", g.Name, "payout", po.ID, "payout_id", payoutID, "ledger_tx", tx.Seq)
	return &Outcome{Event: ev.ID, Status: "confirmed", Detail: fmt.Sprintf("payout %d of $%s recorded in ledger transaction %d", po.ID, po.Amount, tx.Seq)}, nil
}

func (g *Gateway) payoutFailed(ctx context.Context, ev *Event, po *nineten.GatewayPayout) (*Outcome, error) {
	const op = "gateway.payoutFailed"
	why := strings.TrimSpace(ev.Data.FailureMessage)
	if why == "" {
		why = "no reason given"
	}
	switch po.State {
	case nineten.GatewayPayoutFailed:
		return &Outcome{Event: ev.ID, Status: "failed", Detail: fmt.Sprintf("payout %d was recorded as failed before", po.ID)}, nil
	case nineten.GatewayPayoutConfirmed:
		return nil, refuse(op, nineten.KindConflict, fmt.Sprintf("the gateway says payout %d failed (%s) after it was paid and recorded: the artist's balance was debited; look at it at the gateway and settle it by hand", po.ID, why))
	}
	if err := g.fail(ctx, po, po.State, g.Name+" could not pay: "+why); err != nil {
		return nil, err
	}
	return &Outcome{Event: ev.ID, Status: "failed", Detail: fmt.Sprintf("payout %d recorded as failed; the artist keeps the balance", po.ID)}, nil
}
