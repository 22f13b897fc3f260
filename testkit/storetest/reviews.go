package storetest

import (
	"time"

	"nineten.dev"
)

var reviewTests = []test{
	// A review is kept per month, peer and role and replaced as it moves
	// on; one dispute is open per month at a time.
	{"Reviews/SaveListDispute", func(e *env) {
		r := &nineten.PeerReview{Month: "2026-10", Peer: "https://b.example/actor", Role: nineten.ReviewAsked, Status: nineten.ReviewPending,
			ReportHash: "abc", RequestedAt: at(0), Deadline: at(72 * time.Hour)}
		e.ok(e.s.SaveReview(e.ctx, r))
		given := &nineten.PeerReview{Month: "2026-10", Peer: "https://b.example/actor", Role: nineten.ReviewGiven, Status: nineten.ReviewAgreed, RequestedAt: at(0), Attestation: []byte(`{}`)}
		e.ok(e.s.SaveReview(e.ctx, given))
		r.Status, r.Findings, r.Attestation, r.AnsweredAt = nineten.ReviewDisagreed, []string{"sum: off by one", "signature: bad"}, []byte(`{"a":1}`), at(time.Hour)
		e.ok(e.s.SaveReview(e.ctx, r))
		got, err := e.s.Reviews(e.ctx, "2026-10", nineten.ReviewAsked)
		e.ok(err)
		e.same("asked reviews", []nineten.PeerReview{*r}, got)
		got, err = e.s.Reviews(e.ctx, "", nineten.ReviewGiven)
		e.ok(err)
		e.same("given reviews", []nineten.PeerReview{*given}, got)

		d := nineten.Dispute{Month: "2026-10", Reason: "b disagrees", OpenedAt: at(time.Hour)}
		e.ok(e.s.OpenDispute(e.ctx, d))
		e.ok(e.s.OpenDispute(e.ctx, nineten.Dispute{Month: "2026-10", Reason: "again", OpenedAt: at(2 * time.Hour)}))
		ds, err := e.s.Disputes(e.ctx, "2026-10")
		e.ok(err)
		e.same("disputes", []nineten.Dispute{d}, ds)
		e.ok(e.s.ResolveDispute(e.ctx, "2026-10", at(3*time.Hour)))
		e.wantKind(e.s.ResolveDispute(e.ctx, "2026-10", at(4*time.Hour)), nineten.KindNotFound)
		ds, err = e.s.Disputes(e.ctx, "")
		e.ok(err)
		d.Resolved = at(3 * time.Hour)
		e.same("disputes after resolving", []nineten.Dispute{d}, ds)
	}},
}
