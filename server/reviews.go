package server

import (
	"net/http"
	"strings"
	"time"

	nineten "nineten.dev"
)

// Peer reviews of monthly reports and the disputes that hold settlements,
// as admins see them (federation/reviews.go does the reviewing).

type peerReviewJSON struct {
	Month      nineten.Period       `json:"month"`
	Peer       string               `json:"peer"`
	Role       nineten.ReviewRole   `json:"role"`
	Status     nineten.ReviewStatus `json:"status"`
	ReportHash string               `json:"report_hash"`
	Findings   []string             `json:"findings"`
	// Attestation is the signed attestation, verifiable by anyone with
	// the attesting node's key.
	Attestation string     `json:"attestation,omitempty"`
	RequestedAt time.Time  `json:"requested_at"`
	Deadline    *time.Time `json:"deadline,omitempty"`
	AnsweredAt  *time.Time `json:"answered_at,omitempty"`
}

type disputeJSON struct {
	Month    nineten.Period `json:"month"`
	Reason   string         `json:"reason"`
	OpenedAt time.Time      `json:"opened_at"`
	Resolved *time.Time     `json:"resolved,omitempty"`
}

type reviewsJSON struct {
	Asked    []peerReviewJSON `json:"asked"` // this node's months, reviewed by its peers
	Given    []peerReviewJSON `json:"given"` // the peers' months, reviewed by this node
	Disputes []disputeJSON    `json:"disputes"`
}

type peerReviewInput struct {
	Period nineten.Period `json:"period"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func toReviewsJSON(rs []nineten.PeerReview) []peerReviewJSON {
	out := []peerReviewJSON{}
	for _, r := range rs {
		fs := r.Findings
		if fs == nil {
			fs = []string{}
		}
		out = append(out, peerReviewJSON{Month: r.Month, Peer: r.Peer, Role: r.Role, Status: r.Status, ReportHash: r.ReportHash, Findings: fs,
			Attestation: string(r.Attestation), RequestedAt: r.RequestedAt, Deadline: optTime(r.Deadline), AnsweredAt: optTime(r.AnsweredAt)})
	}
	return out
}

// adminReviews lists the peer reviews and disputes of a month (of all
// months without one).
func (s *Server) adminReviews(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	month := nineten.Period(r.URL.Query().Get("month"))
	if month != "" {
		if _, err := month.Start(); err != nil {
			return err
		}
	}
	asked, err := s.Store.Reviews(r.Context(), month, nineten.ReviewAsked)
	if err != nil {
		return err
	}
	given, err := s.Store.Reviews(r.Context(), month, nineten.ReviewGiven)
	if err != nil {
		return err
	}
	ds, err := s.Store.Disputes(r.Context(), month)
	if err != nil {
		return err
	}
	out := reviewsJSON{Asked: toReviewsJSON(asked), Given: toReviewsJSON(given), Disputes: []disputeJSON{}}
	for _, d := range ds {
		out.Disputes = append(out.Disputes, disputeJSON{Month: d.Month, Reason: d.Reason, OpenedAt: d.OpenedAt, Resolved: optTime(d.Resolved)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// requestReview sends a month's report to the cluster peers now.
func (s *Server) requestReview(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.requireAdmin(r); err != nil {
		return err
	}
	if s.PeerReviews == nil {
		return nineten.E("server.requestReview", nineten.KindUnavailable, "this node has no peer reviews")
	}
	var in peerReviewInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	month := nineten.Period(strings.TrimSpace(string(in.Period)))
	if _, err := month.Start(); err != nil {
		return err
	}
	rs, err := s.PeerReviews.RequestReview(r.Context(), month)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, reviewsJSON{Asked: toReviewsJSON(rs), Given: []peerReviewJSON{}, Disputes: []disputeJSON{}})
	return nil
}

// resolveDispute lets a held month be settled: an admin looked into it.
func (s *Server) resolveDispute(w http.ResponseWriter, r *http.Request) error {
	admin, err := s.requireAdmin(r)
	if err != nil {
		return err
	}
	month := nineten.Period(r.PathValue("month"))
	if _, err := month.Start(); err != nil {
		return err
	}
	if err := s.Store.ResolveDispute(r.Context(), month, time.Now().UTC()); err != nil {
		return err
	}
	s.Log.InfoContext(r.Context(), "a dispute was resolved by an admin", "month", month, "admin", admin.Username)
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) reviewRoutes() []route {
	return []route{
		{Method: "GET", Path: "/api/v1/admin/reviews", Summary: "Peer reviews of monthly reports (asked of the cluster's peers, and given to them) and disputes holding settlements", Tag: "admin", Auth: "admin", Query: []string{"month"}, Status: 200, Resp: reviewsJSON{}, handle: s.adminReviews},
		{Method: "POST", Path: "/api/v1/admin/reviews", Summary: "Send a month's report to the cluster's peers for review now (settling it does too)", Tag: "admin", Auth: "admin", Body: peerReviewInput{}, Status: 200, Resp: reviewsJSON{}, handle: s.requestReview},
		{Method: "POST", Path: "/api/v1/admin/disputes/{month}/resolve", Summary: "Resolve a month's dispute, letting its settlement go ahead", Tag: "admin", Auth: "admin", Status: 204, handle: s.resolveDispute},
	}
}
