package storetest

import (
	"time"

	"nineten.dev"
)

var statementTests = []test{
	// A statement is kept with its lines; saving it again replaces both,
	// keeps its first creation time, and the same id may be kept once per
	// direction. Received lines are found by artist.
	{"Statements/SaveReplaceList", func(e *env) {
		sent := &nineten.SettlementStatement{
			ID: "https://a.example/statements/2026-10/b.example", Direction: nineten.StatementSent, Period: "2026-10",
			Payer: "a.example", Payee: "b.example", Peer: "https://b.example/actor", Total: 30, Digest: "d1",
			Document: []byte(`{"x":1}`), Status: nineten.StatementPending, CreatedAt: at(0), UpdatedAt: at(0),
			Lines: []nineten.StatementLine{{Artist: "b.example/7", Amount: 10}, {Artist: "b.example/8", Amount: 20}},
		}
		e.ok(e.s.SaveStatement(e.ctx, sent))
		recv := *sent
		recv.Direction, recv.Status, recv.Peer = nineten.StatementReceived, nineten.StatementRecorded, "https://a.example/actor"
		recv.Lines = []nineten.StatementLine{{Artist: "b.example/7", Amount: 10}, {Artist: "b.example/8", Amount: 20}}
		e.ok(e.s.SaveStatement(e.ctx, &recv))

		got, err := e.s.Statement(e.ctx, sent.ID, nineten.StatementSent)
		e.ok(err)
		e.same("the sent statement", *sent, *got)

		upd := *sent
		upd.Status, upd.Reason, upd.CreatedAt, upd.UpdatedAt = nineten.StatementAcknowledged, "", at(time.Hour), at(time.Hour)
		upd.Lines = []nineten.StatementLine{{Artist: "b.example/7", Amount: 10, Wallet: "0xabc"}, {Artist: "b.example/8", Amount: 20, PaidRef: "usdp:0x1:0", PaidAt: at(time.Hour)}}
		e.ok(e.s.SaveStatement(e.ctx, &upd))
		got, err = e.s.Statement(e.ctx, sent.ID, nineten.StatementSent)
		e.ok(err)
		upd.CreatedAt = at(0)
		e.same("the sent statement replaced", upd, *got)

		list, err := e.s.Statements(e.ctx, nineten.StatementFilter{Direction: nineten.StatementReceived}, nineten.Page{})
		e.ok(err)
		e.same("received statements", []nineten.SettlementStatement{recv}, list)
		list, err = e.s.Statements(e.ctx, nineten.StatementFilter{Status: nineten.StatementAcknowledged, Period: "2026-10"}, nineten.Page{})
		e.ok(err)
		e.same("acknowledged statements", 1, len(list))

		lines, err := e.s.ArtistStatementLines(e.ctx, "b.example/8")
		e.ok(err)
		e.same("the artist's received lines", []nineten.ArtistStatementLine{{StatementID: sent.ID, Period: "2026-10", Payer: "a.example", Peer: "https://a.example/actor", Amount: 20}}, lines)

		_, err = e.s.Statement(e.ctx, "https://a.example/statements/2026-11/b.example", nineten.StatementSent)
		e.wantKind(err, nineten.KindNotFound)

		// A conflict is kept once per digest.
		c := nineten.StatementConflict{StatementID: sent.ID, Digest: "d2", Document: []byte(`{"x":2}`), ReceivedAt: at(time.Minute)}
		e.ok(e.s.AddStatementConflict(e.ctx, c))
		e.ok(e.s.AddStatementConflict(e.ctx, c))
		cs, err := e.s.StatementConflicts(e.ctx, sent.ID)
		e.ok(err)
		e.same("conflicts", []nineten.StatementConflict{c}, cs)
	}},

	// Supporters are kept per artist and actor, replaced by a newer word
	// from the same actor, and forgotten by the activity that made them.
	{"Statements/Supporters", func(e *env) {
		sp := &nineten.Supporter{ArtistID: 3, Actor: "https://a.example/users/ann", Node: "a.example", Activity: "https://a.example/s/1",
			Status: nineten.SubscriptionActive, Paid: "2026-10", Since: at(0), Updated: at(0)}
		e.ok(e.s.SaveSupporter(e.ctx, sp))
		renewed := *sp
		renewed.Paid, renewed.Updated, renewed.Since = "2026-11", at(time.Hour), at(time.Hour)
		e.ok(e.s.SaveSupporter(e.ctx, &renewed))
		got, err := e.s.Supporters(e.ctx, 3)
		e.ok(err)
		renewed.Since = at(0)
		e.same("supporters", []nineten.Supporter{renewed}, got)
		e.wantKind(e.s.DeleteSupporterByActivity(e.ctx, "https://a.example/users/bob", sp.Activity), nineten.KindNotFound)
		e.ok(e.s.DeleteSupporterByActivity(e.ctx, sp.Actor, sp.Activity))
		got, err = e.s.Supporters(e.ctx, 3)
		e.ok(err)
		e.same("supporters after the undo", 0, len(got))

		u := &nineten.User{Username: "ann", PasswordHash: "-", Role: nineten.RoleListener, CreatedAt: at(0)}
		e.ok(e.s.CreateUser(e.ctx, u))
		told := &nineten.ToldSubscription{UserID: u.ID, Target: "https://b.example/artists/x", Activity: "https://a.example/s/1", Status: nineten.SubscriptionActive, Paid: "2026-10", Updated: at(0)}
		e.ok(e.s.SaveToldSubscription(e.ctx, told))
		told.Status, told.Updated = nineten.SubscriptionExpired, at(time.Hour)
		e.ok(e.s.SaveToldSubscription(e.ctx, told))
		ts, err := e.s.ToldSubscriptions(e.ctx, u.ID)
		e.ok(err)
		e.same("told", []nineten.ToldSubscription{*told}, ts)
		ids, err := e.s.ToldListeners(e.ctx)
		e.ok(err)
		e.same("told listeners", []nineten.ID{u.ID}, ids)
		e.ok(e.s.DeleteToldSubscription(e.ctx, u.ID, told.Target))
		ts, err = e.s.ToldSubscriptions(e.ctx, u.ID)
		e.ok(err)
		e.same("told after delete", 0, len(ts))
	}},
}
