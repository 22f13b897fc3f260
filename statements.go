package nineten

import (
	"context"
	"time"
)

// Settlement statements: what a node's listeners paid the artists of
// another node in a month, sent by the paying node's actor to the artists'
// home node's actor over the federation, signed so that anyone holding it
// can check it later. The paying node's ledger holds the money (the
// artists' accounts there) and its payout wallet pays it out; the home
// node records the statements and shows its artists what they earned
// where. See federation/statements.go for the wire format.

// StatementDirection says whether this node sent a statement or got it.
type StatementDirection string

const (
	StatementSent     StatementDirection = "sent"     // this node's listeners paid
	StatementReceived StatementDirection = "received" // this node's artists were paid
)

// StatementStatus is where a statement stands.
type StatementStatus string

const (
	// StatementUndelivered: sent statements whose payee node could not be
	// reached yet (its node actor did not answer); tried again later.
	StatementUndelivered StatementStatus = "undelivered"
	// StatementPending: queued for delivery, not acknowledged yet.
	StatementPending StatementStatus = "pending"
	// StatementAcknowledged: the payee node answered with an Accept naming
	// the digest this node sent: both sides agree (reconciled).
	StatementAcknowledged StatementStatus = "acknowledged"
	// StatementRefused: the payee node refused it (Reject) or acknowledged
	// another version; Reason says why. An admin looks into it.
	StatementRefused StatementStatus = "refused"
	// StatementRecorded: a received statement, verified and credited to
	// the artists.
	StatementRecorded StatementStatus = "recorded"
	// StatementConflict: a received statement of which another version
	// (same id, other lines) arrived later; the first is kept, the other
	// is among its conflicts, and an admin looks into it.
	StatementConflicted StatementStatus = "conflict"
)

// StatementLine is one artist's part of a statement.
type StatementLine struct {
	Artist string // the artist's id at the payee node, "<payee node>/<artist id>"
	Amount Micro
	// PaidRef is the external id of the payout that paid this line
	// ("usdp:<tx hash>:<log index>", "gw:<gateway>:<payout>"), once the
	// paying node recorded one; PaidAt is when this node learnt it.
	PaidRef string
	PaidAt  time.Time
	// Wallet is where the payee node says the artist is paid (a wallet the
	// artist registered there), as its acknowledgement said; sent
	// statements only.
	Wallet string
}

// SettlementStatement is one month's statement between two nodes.
type SettlementStatement struct {
	ID        string // IRI, on the paying node's host
	Direction StatementDirection
	Period    Period
	Payer     string // the paying node's name on the ledger
	Payee     string // the artists' home node's name on the ledger
	Peer      string // IRI of the other node's actor
	Total     Micro  // the sum of the lines
	Lines     []StatementLine
	// Digest is the hex SHA-256 of the statement's canonical form, proof
	// and payouts left out: what both nodes compare to agree.
	Digest string
	// Document is the signed statement as last sent or recorded (JSON).
	Document  []byte
	Status    StatementStatus
	Reason    string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// StatementConflict is another version of a received statement, kept for
// the admins and never applied.
type StatementConflict struct {
	StatementID string
	Digest      string
	Document    []byte
	ReceivedAt  time.Time
}

// StatementFilter selects statements; zero fields select all.
type StatementFilter struct {
	Direction StatementDirection
	Period    Period
	Status    StatementStatus
}

// ArtistStatementLine is one line of a received statement, for the
// artist's earnings page.
type ArtistStatementLine struct {
	StatementID string
	Period      Period
	Payer       string // the paying node's ledger name
	Peer        string // its actor
	Amount      Micro
	PaidRef     string
	PaidAt      time.Time
}

// StatementStore keeps settlement statements, sent and received.
type StatementStore interface {
	// SaveStatement inserts s, or replaces the statement with its ID and
	// Direction (its lines too); CreatedAt stays the first one's.
	SaveStatement(ctx context.Context, s *SettlementStatement) error
	// Statement returns a statement with its lines; KindNotFound.
	Statement(ctx context.Context, id string, dir StatementDirection) (*SettlementStatement, error)
	// Statements lists statements with their lines, newest period first.
	Statements(ctx context.Context, f StatementFilter, p Page) ([]SettlementStatement, error)
	// AddStatementConflict keeps another version of a received statement
	// (once per digest).
	AddStatementConflict(ctx context.Context, c StatementConflict) error
	StatementConflicts(ctx context.Context, statementID string) ([]StatementConflict, error)
	// ArtistStatementLines lists the lines of received statements for
	// artist ("<node>/<artist id>"), newest period first.
	ArtistStatementLines(ctx context.Context, artist string) ([]ArtistStatementLine, error)
}

// Statements is the node's side of settlement statements, as the API and
// the payout calendar use it.
type Statements interface {
	// SendStatements sends each node whose artists this node's listeners
	// paid in period one statement of all their lines. It is idempotent: a
	// statement sent already is not sent again.
	SendStatements(ctx context.Context, period Period) ([]SettlementStatement, error)
	// RecordRemotePayout records that this node paid out a remote artist's
	// whole balance here (artist "<node>/<id>") under extID, and tells the
	// artist's node which lines it paid.
	RecordRemotePayout(ctx context.Context, artist, extID string) (MoneyTx, error)
}
