package storetest

import (
	"time"

	nineten "nineten.dev"
)

// gatewayTests pin down nineten.GatewayStore: the webhook events a node
// acted on, and payouts through gateways.
var gatewayTests = []test{
	{"GatewayEventsAreKeptByGatewayAndID", func(e *env) {
		_, err := e.s.GatewayEvent(e.ctx, "acme", "evt_1")
		e.wantKind(err, nineten.KindNotFound)
		credited := nineten.GatewayEvent{
			Gateway: "acme", ID: "evt_1", Type: "payment.succeeded", State: nineten.GatewayEventCredited,
			Reference: "42", Amount: 10_000_000, Currency: "usd", UserID: 42, ReceivedAt: at(0), UpdatedAt: at(0),
		}
		refused := nineten.GatewayEvent{
			Gateway: "acme", ID: "evt_2", Type: "payment.succeeded", State: nineten.GatewayEventRefused,
			Reference: "nobody", Amount: 5_000_000, Currency: "eur", Error: "EUR is not taken",
			ReceivedAt: at(time.Minute), UpdatedAt: at(time.Minute),
		}
		// The same event id at another gateway is another event.
		elsewhere := nineten.GatewayEvent{
			Gateway: "other", ID: "evt_1", Type: "charge.updated", State: nineten.GatewayEventIgnored,
			ReceivedAt: at(2 * time.Minute), UpdatedAt: at(2 * time.Minute),
		}
		for _, ev := range []nineten.GatewayEvent{credited, refused, elsewhere} {
			e.ok(e.s.SaveGatewayEvent(e.ctx, ev))
		}
		got, err := e.s.GatewayEvent(e.ctx, "acme", "evt_1")
		e.ok(err)
		e.same("event", &credited, got)
		all, err := e.s.GatewayEvents(e.ctx, "", nineten.Page{})
		e.ok(err)
		e.same("events, newest first", []nineten.GatewayEvent{elsewhere, refused, credited}, all)
		page, err := e.s.GatewayEvents(e.ctx, "", nineten.Page{Limit: 1, Offset: 1})
		e.ok(err)
		e.same("second page of one", []nineten.GatewayEvent{refused}, page)
		ref, err := e.s.GatewayEvents(e.ctx, nineten.GatewayEventRefused, nineten.Page{})
		e.ok(err)
		e.same("refused events", []nineten.GatewayEvent{refused}, ref)

		// Saving again replaces all but when it was first received: a
		// refused payment is credited once its listener is known.
		later := refused
		later.State, later.UserID, later.Error, later.ReceivedAt, later.UpdatedAt = nineten.GatewayEventCredited, 7, "", at(time.Hour), at(time.Hour)
		e.ok(e.s.SaveGatewayEvent(e.ctx, later))
		got, err = e.s.GatewayEvent(e.ctx, "acme", "evt_2")
		e.ok(err)
		later.ReceivedAt = refused.ReceivedAt
		e.same("replaced event", &later, got)
		ref, err = e.s.GatewayEvents(e.ctx, nineten.GatewayEventRefused, nineten.Page{})
		e.ok(err)
		e.same("refused events after the credit", []nineten.GatewayEvent(nil), ref)
	}},
	{"GatewayPayoutsOneUnderWayPerArtist", func(e *env) {
		p := &nineten.GatewayPayout{
			Gateway: "acme", Artist: "music.test/7", Destination: "acct_7", Amount: 12_340_000, Cents: 1234, Currency: "usd",
			Reference: "ref-1", State: nineten.GatewayPayoutPending, CreatedAt: at(0), UpdatedAt: at(0),
		}
		e.ok(e.s.CreateGatewayPayout(e.ctx, p))
		if p.ID == 0 {
			e.Fatal("CreateGatewayPayout set no ID")
		}
		got, err := e.s.GatewayPayoutByID(e.ctx, p.ID)
		e.ok(err)
		e.same("payout", p, got)

		// One payout under way per artist, whatever the gateway.
		again := *p
		again.Gateway, again.Reference = "other", "ref-2"
		e.wantKind(e.s.CreateGatewayPayout(e.ctx, &again), nineten.KindConflict)
		// A reference names one payout.
		q := &nineten.GatewayPayout{
			Gateway: "acme", Artist: "music.test/8", Destination: "acct_8", Amount: 10_000, Cents: 1, Currency: "usd",
			Reference: "ref-1", State: nineten.GatewayPayoutPending, CreatedAt: at(time.Second), UpdatedAt: at(time.Second),
		}
		e.wantKind(e.s.CreateGatewayPayout(e.ctx, q), nineten.KindConflict)
		q.Reference = "ref-3"
		e.ok(e.s.CreateGatewayPayout(e.ctx, q))

		// A payout on a chain under way holds gateway payouts back too.
		chain := &nineten.ChainPayout{
			Chain: "eip155:1/0xt", Artist: "music.test/9", To: "0xa9", Amount: 1_000_000, Units: "1000000000000000000",
			State: nineten.PayoutSent, From: "0xp", Nonce: 3, TxHash: "0xtx", CreatedAt: at(0), UpdatedAt: at(0),
		}
		e.ok(e.s.CreatePayout(e.ctx, chain))
		onChain := &nineten.GatewayPayout{
			Gateway: "acme", Artist: "music.test/9", Destination: "acct_9", Amount: 10_000, Cents: 1, Currency: "usd",
			Reference: "ref-4", State: nineten.GatewayPayoutPending, CreatedAt: at(0), UpdatedAt: at(0),
		}
		e.wantKind(e.s.CreateGatewayPayout(e.ctx, onChain), nineten.KindConflict)
		confirmedChain := *chain
		confirmedChain.State, confirmedChain.ExtID = nineten.PayoutConfirmed, "usdp:0xtx:0"
		e.ok(e.s.UpdatePayout(e.ctx, &confirmedChain, nineten.PayoutSent))
		e.ok(e.s.CreateGatewayPayout(e.ctx, onChain))

		// Sent: the gateway's id is recorded; a state moves from one only.
		sent := *p
		sent.State, sent.PayoutID, sent.UpdatedAt = nineten.GatewayPayoutSent, "po_1", at(time.Minute)
		e.wantKind(e.s.UpdateGatewayPayout(e.ctx, &sent, nineten.GatewayPayoutSent), nineten.KindConflict)
		e.ok(e.s.UpdateGatewayPayout(e.ctx, &sent, nineten.GatewayPayoutPending))
		e.wantKind(e.s.UpdateGatewayPayout(e.ctx, &sent, nineten.GatewayPayoutPending), nineten.KindConflict)
		got, err = e.s.GatewayPayoutByID(e.ctx, p.ID)
		e.ok(err)
		e.same("sent payout", &sent, got)
		// A payout of the gateway pays one of ours.
		q2 := *q
		q2.State, q2.PayoutID = nineten.GatewayPayoutSent, "po_1"
		e.wantKind(e.s.UpdateGatewayPayout(e.ctx, &q2, nineten.GatewayPayoutPending), nineten.KindConflict)

		// Found by our reference, or by the gateway's id.
		got, err = e.s.GatewayPayoutByRef(e.ctx, "acme", "ref-1", "")
		e.ok(err)
		e.same("payout by reference", &sent, got)
		got, err = e.s.GatewayPayoutByRef(e.ctx, "acme", "", "po_1")
		e.ok(err)
		e.same("payout by the gateway's id", &sent, got)
		got, err = e.s.GatewayPayoutByRef(e.ctx, "acme", "ref-3", "po_1")
		e.ok(err)
		e.same("the reference wins", q, got)
		_, err = e.s.GatewayPayoutByRef(e.ctx, "other", "ref-1", "po_1")
		e.wantKind(err, nineten.KindNotFound)
		_, err = e.s.GatewayPayoutByRef(e.ctx, "acme", "", "")
		e.wantKind(err, nineten.KindNotFound)

		open, err := e.s.GatewayPayouts(e.ctx, nineten.GatewayPayoutFilter{Gateway: "acme", States: []nineten.GatewayPayoutState{nineten.GatewayPayoutPending, nineten.GatewayPayoutSent}})
		e.ok(err)
		e.same("payouts under way, oldest first", []nineten.GatewayPayout{sent, *q, *onChain}, open)

		done := sent
		done.State, done.ExtID, done.UpdatedAt = nineten.GatewayPayoutConfirmed, "gw:acme:payout:po_1", at(time.Hour)
		e.ok(e.s.UpdateGatewayPayout(e.ctx, &done, nineten.GatewayPayoutSent))
		mine, err := e.s.GatewayPayouts(e.ctx, nineten.GatewayPayoutFilter{Artist: "music.test/7"})
		e.ok(err)
		e.same("the artist's payouts", []nineten.GatewayPayout{done}, mine)
		// Confirmed, the artist can be paid again.
		next := *p
		next.ID, next.Reference = 0, "ref-5"
		e.ok(e.s.CreateGatewayPayout(e.ctx, &next))

		_, err = e.s.GatewayPayoutByID(e.ctx, 9999)
		e.wantKind(err, nineten.KindNotFound)
		missing := sent
		missing.ID = 9999
		e.wantKind(e.s.UpdateGatewayPayout(e.ctx, &missing, nineten.GatewayPayoutPending), nineten.KindNotFound)
	}},
}
