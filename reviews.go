package nineten

import (
	"context"
	"time"
)

// Peer review of monthly reports (issue 6): before a month is settled, the
// node sends its sealed monthly listening report to the other nodes of its
// cluster; each re-runs the report's checks and the payout's split and
// answers with a signed attestation, agreeing or disagreeing with findings.
// A disagreement, or no answer by the deadline, opens a dispute, and the
// month is not settled automatically until an admin resolves it.

// ReviewStatus is where one peer's review of a month stands.
type ReviewStatus string

const (
	ReviewPending   ReviewStatus = "pending"   // asked (or being made), no attestation yet
	ReviewAgreed    ReviewStatus = "agreed"    // the peer attests the report
	ReviewDisagreed ReviewStatus = "disagreed" // the peer found problems (Findings)
	ReviewMissing   ReviewStatus = "missing"   // no attestation by the deadline
)

// ReviewRole says which side of a review this node is on.
type ReviewRole string

const (
	ReviewAsked ReviewRole = "asked" // this node's month, reviewed by Peer
	ReviewGiven ReviewRole = "given" // Peer's month, reviewed by this node
)

// PeerReview is one peer's review of one node's month.
type PeerReview struct {
	Month      Period
	Peer       string // the other node's actor IRI
	Role       ReviewRole
	Status     ReviewStatus
	ReportHash string   // the monthly report file's SHA-256 (hex)
	Findings   []string // what the reviewer found wrong, check by check
	// Attestation is the signed attestation (JSON), once there is one.
	Attestation []byte
	RequestedAt time.Time
	Deadline    time.Time // asked reviews: when a missing attestation opens a dispute
	AnsweredAt  time.Time
}

// Dispute holds a month's settlement: a peer disagreed with its report, or
// did not answer in time. The Three Eyes workflow will resolve disputes;
// until then an admin reads the reason and settles by hand once resolved.
type Dispute struct {
	Month    Period
	Reason   string
	OpenedAt time.Time
	Resolved time.Time // zero while open
}

// ReportReview is what re-running a month's report found: the problems,
// check by check ("sum: …"), and the contract's split of its listening
// (each listener's ArtistsShare) per artist.
type ReportReview struct {
	Findings []string
	Payout   []ArtistShare
}

// Reviews is the node's side of peer reviews, as the API uses it.
type Reviews interface {
	// RequestReview sends the node's monthly report of month to its
	// cluster peers for review (once per peer and version of the report).
	RequestReview(ctx context.Context, month Period) ([]PeerReview, error)
}

// ReviewStore keeps peer reviews and disputes.
type ReviewStore interface {
	// SaveReview inserts or replaces the review (Month, Peer, Role).
	SaveReview(ctx context.Context, r *PeerReview) error
	// Reviews lists the reviews of month in role (every month when empty).
	Reviews(ctx context.Context, month Period, role ReviewRole) ([]PeerReview, error)
	// OpenDispute opens a dispute of d.Month unless one is open already.
	OpenDispute(ctx context.Context, d Dispute) error
	// ResolveDispute closes the open dispute of month; KindNotFound when none.
	ResolveDispute(ctx context.Context, month Period, at time.Time) error
	// Disputes lists the disputes of month (all months when empty), newest first.
	Disputes(ctx context.Context, month Period) ([]Dispute, error)
}
