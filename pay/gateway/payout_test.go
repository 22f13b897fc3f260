package gateway_test

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	nineten "nineten.dev"
	"nineten.dev/pay/gateway"
	"nineten.dev/pay/gateway/gatewaytest"
)

const artist = node + "/7"

// earn settles a month in which artist 7 earned $9 × 1/7, so that their
// balance has a part below one cent: 1,285,714 micro-dollars.
func (e *env) earn() nineten.Micro {
	e.t.Helper()
	l, ctx := e.ledger, e.ctx
	must := func(_ any, err error) {
		if err != nil {
			e.t.Fatal(err)
		}
	}
	must(l.Deposit(ctx, "100", "sim:earn", 10_000_000))
	must(l.Subscribe(ctx, "100", "2026-10"))
	must(l.OpenMonth(ctx, "2026-10"))
	must(l.Settle(ctx, "2026-10", []nineten.ListeningTotal{
		{Listener: "100", Artist: artist, Listens: 1, SecondsHeard: 100},
		{Listener: "100", Artist: node + "/8", Listens: 6, SecondsHeard: 600},
	}))
	b := e.balance(nineten.AccountArtist, artist)
	if b%gateway.CentMicro == 0 {
		e.t.Fatalf("the artist earned %s, a whole number of cents", b)
	}
	return b
}

func (e *env) payout(id nineten.ID) *nineten.GatewayPayout {
	e.t.Helper()
	p, err := e.db.GatewayPayoutByID(e.ctx, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// A payout is sent once, recorded on the ledger only when the gateway says
// it was paid, and recorded once however often that is said.
func TestPayoutConfirmedOnce(t *testing.T) {
	e := newEnv(t)
	earned := e.earn()
	po, err := e.gw.StartPayout(e.ctx, artist, " acct_7 ")
	if err != nil {
		t.Fatal(err)
	}
	cents := int64(earned / gateway.CentMicro)
	if po.State != nineten.GatewayPayoutSent || po.PayoutID != "po_1" || po.Cents != cents || po.Amount != nineten.Micro(cents)*gateway.CentMicro || po.Destination != "acct_7" {
		t.Fatalf("payout %+v", po)
	}
	made := e.fake.Payouts()
	if len(made) != 1 || made[0].Request.Amount != cents || made[0].Request.Currency != "usd" || made[0].Key != po.Reference || made[0].Request.Reference != po.Reference {
		t.Fatalf("the gateway made %+v", made)
	}
	// Sent is not paid: the balance stays until the gateway says so.
	if b := e.balance(nineten.AccountArtist, artist); b != earned {
		t.Fatalf("balance %s before the payout was paid, want %s", b, earned)
	}
	_, err = e.gw.StartPayout(e.ctx, artist, "acct_7")
	if nineten.ErrorKind(err) != nineten.KindConflict {
		t.Fatalf("a second payout under way: %v", err)
	}

	e.ok(gatewaytest.Paid("evt_paid", made[0]), "confirmed")
	rest := earned - po.Amount
	if b := e.balance(nineten.AccountArtist, artist); b != rest {
		t.Fatalf("balance %s after the payout, want %s (below a cent)", b, rest)
	}
	got := e.payout(po.ID)
	if got.State != nineten.GatewayPayoutConfirmed || got.ExtID != "gw:acme:payout:po_1" {
		t.Fatalf("confirmed payout %+v", got)
	}
	// Said again, in the same event or another: nothing more is recorded.
	e.ok(gatewaytest.Paid("evt_paid", made[0]), "duplicate")
	e.ok(gatewaytest.Paid("evt_paid_again", made[0]), "confirmed")
	if b := e.balance(nineten.AccountArtist, artist); b != rest {
		t.Fatalf("balance %s after the payout was confirmed twice, want %s", b, rest)
	}
	var payouts int
	e.ledger.Transactions(e.ctx, "", func(tx nineten.MoneyTx) error {
		if tx.Op == "payout" {
			payouts++
		}
		return nil
	})
	if payouts != 1 {
		t.Errorf("%d payouts on the ledger, want 1", payouts)
	}
	// What is left is less than a cent.
	if _, err := e.gw.StartPayout(e.ctx, artist, "acct_7"); nineten.ErrorKind(err) != nineten.KindInvalid {
		t.Errorf("a payout of less than a cent: %v", err)
	}
}

// A payout whose request did not get through, or whose answer was lost,
// is asked for again with the same idempotency key: one payout is made.
func TestPayoutRetriedOnce(t *testing.T) {
	e := newEnv(t)
	e.earn()
	e.fake.SetDown(true)
	po, err := e.gw.StartPayout(e.ctx, artist, "acct_7")
	if err != nil || po.State != nineten.GatewayPayoutPending {
		t.Fatalf("payout while the gateway is down: %+v, %v", po, err)
	}
	e.fake.SetDown(false)
	e.fake.SetLoseAnswers(true)
	if err := e.gw.Tick(e.ctx); err == nil {
		t.Fatal("a lost answer was taken for a payout")
	}
	if p := e.payout(po.ID); p.State != nineten.GatewayPayoutPending {
		t.Fatalf("payout %+v after a lost answer", p)
	}
	e.fake.SetLoseAnswers(false)
	if err := e.gw.Tick(e.ctx); err != nil {
		t.Fatal(err)
	}
	made := e.fake.Payouts()
	if len(made) != 1 || made[0].Requests != 2 {
		t.Fatalf("the gateway made %+v, want one payout asked for twice", made)
	}
	if p := e.payout(po.ID); p.State != nineten.GatewayPayoutSent || p.PayoutID != made[0].ID {
		t.Fatalf("payout %+v after the retry", p)
	}
	if err := e.gw.Tick(e.ctx); err != nil || len(e.fake.Payouts()) != 1 || e.fake.Payouts()[0].Requests != 2 {
		t.Fatalf("a sent payout was asked for again: %v %+v", err, e.fake.Payouts())
	}
}

// The paid webhook may come before the node recorded the gateway's
// answer: the payout is found by its reference.
func TestPayoutPaidBeforeRecordedSent(t *testing.T) {
	e := newEnv(t)
	earned := e.earn()
	e.fake.SetDown(true)
	po, err := e.gw.StartPayout(e.ctx, artist, "acct_7")
	if err != nil {
		t.Fatal(err)
	}
	paid := gatewaytest.Payout{ID: "po_77", Request: gateway.PayoutRequest{Amount: po.Cents, Currency: "usd", Reference: po.Reference}}
	e.ok(gatewaytest.Paid("evt_early", paid), "confirmed")
	if p := e.payout(po.ID); p.State != nineten.GatewayPayoutConfirmed || p.PayoutID != "po_77" {
		t.Fatalf("payout %+v", p)
	}
	if b := e.balance(nineten.AccountArtist, artist); b != earned-po.Amount {
		t.Fatalf("balance %s", b)
	}
	e.fake.SetDown(false)
	if err := e.gw.Tick(e.ctx); err != nil || len(e.fake.Payouts()) != 0 {
		t.Fatalf("a confirmed payout was sent: %v %+v", err, e.fake.Payouts())
	}
}

// A refused or failed payout leaves the balance with the artist, who can
// start another.
func TestPayoutRefusedOrFailed(t *testing.T) {
	e := newEnv(t)
	earned := e.earn()
	po, err := e.gw.StartPayout(e.ctx, artist, "bad_account")
	if err != nil {
		t.Fatal(err)
	}
	if po.State != nineten.GatewayPayoutFailed || po.Error == "" {
		t.Fatalf("refused payout %+v", po)
	}
	po, err = e.gw.StartPayout(e.ctx, artist, "acct_7")
	if err != nil || po.State != nineten.GatewayPayoutSent {
		t.Fatalf("payout after a refusal: %+v %v", po, err)
	}
	made := e.fake.Payouts()[0]
	e.ok(gatewaytest.Failed("evt_failed", made, "the bank account was closed"), "failed")
	if p := e.payout(po.ID); p.State != nineten.GatewayPayoutFailed || p.Error != "acme could not pay: the bank account was closed" {
		t.Fatalf("failed payout %+v", p)
	}
	if b := e.balance(nineten.AccountArtist, artist); b != earned {
		t.Fatalf("balance %s after a failed payout, want %s", b, earned)
	}
	// Paid after failed is a contradiction for a person to look at.
	d, _ := e.deliver(gatewaytest.Paid("evt_contra", made))
	problem(t, d, http.StatusConflict, "recorded as failed")
	if ev := e.event("evt_contra"); ev.State != nineten.GatewayEventRefused {
		t.Errorf("contradiction recorded as %+v", ev)
	}
	// So is a payout the node never asked for.
	d, _ = e.deliver(gatewaytest.Paid("evt_unknown", gatewaytest.Payout{ID: "po_x", Request: gateway.PayoutRequest{Amount: 1, Currency: "usd", Reference: "nope"}}))
	problem(t, d, http.StatusUnprocessableEntity, "no payout of this node")
	if b := e.balance(nineten.AccountArtist, artist); b != earned {
		t.Fatalf("balance %s, want %s", b, earned)
	}
	if _, err := e.gw.StartPayout(e.ctx, artist, "acct_7"); err != nil {
		t.Fatalf("a payout after a failed one: %v", err)
	}
}

// Without a payouts API the node pays nothing through the gateway.
func TestNoPayoutsWithoutAPI(t *testing.T) {
	e := newEnv(t)
	e.earn()
	e.gw.API = ""
	if _, err := e.gw.StartPayout(e.ctx, artist, "acct_7"); nineten.ErrorKind(err) != nineten.KindUnavailable {
		t.Fatalf("payout without an API: %v", err)
	}
	if e.gw.Info().Payouts {
		t.Error("Info says payouts are made")
	}
}

// The gateway saying "paid" several times at once records one payout.
func TestPayoutPaidRacing(t *testing.T) {
	e := newEnv(t)
	earned := e.earn()
	po, err := e.gw.StartPayout(e.ctx, artist, "acct_7")
	if err != nil {
		t.Fatal(err)
	}
	made := e.fake.Payouts()[0]
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			d, err := e.fake.Deliver(e.ctx, e.hook, gatewaytest.Paid(fmt.Sprintf("evt_paid_%d", i%2), made))
			if err != nil || d.Status != http.StatusOK {
				t.Errorf("racing payout.paid: %v %d %s", err, d.Status, d.Body)
			}
		})
	}
	wg.Wait()
	if b := e.balance(nineten.AccountArtist, artist); b != earned-po.Amount {
		t.Fatalf("balance %s after racing confirmations, want %s", b, earned-po.Amount)
	}
	if p := e.payout(po.ID); p.State != nineten.GatewayPayoutConfirmed {
		t.Fatalf("payout %+v", p)
	}
}
