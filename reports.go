package nineten

import (
	"context"
	"time"
)

// ReportAnchor is a listening report's hash as the ledger keeps it: the
// report's id ("daily/2026-11-03", "monthly/2026-11"), the day or month it
// covers, the SHA-256 of its signed file (hex) and the key that signed it
// ("ed25519:<base64>"). An id anchored again with another hash becomes a
// new Version (1, 2, …): a day re-run after late listens or a review.
type ReportAnchor struct {
	ID      string
	Day     string // YYYY-MM-DD for a daily report, YYYY-MM for a monthly one
	Hash    string
	Signer  string
	Version int
	// Final: the month of the report is settled, so no other version will
	// be anchored (set when reading anchors).
	Final bool
}

// ReportKind tells daily reports from monthly ones.
type ReportKind string

const (
	ReportDaily   ReportKind = "daily"
	ReportMonthly ReportKind = "monthly"
)

// StoredReport is a listening report as the node keeps it: the signed,
// encrypted file and what the node may show about it without decrypting.
type StoredReport struct {
	ID      string
	Kind    ReportKind
	Day     string // YYYY-MM-DD, or YYYY-MM for a monthly report
	Version int    // the ledger's version of the anchor; 0 until anchored
	Hash    string // SHA-256 of File, hex
	Content string // SHA-256 of the canonical plaintext, hex: unchanged content is not sealed again
	File    []byte
	// Listens and Listeners are the day's (or month's) totals; Suppressed
	// counts the groups left out of the published summary.
	Listens    int64
	Listeners  int64
	Suppressed int
	CreatedAt  time.Time
}

// DayListening is one listener's eligible, verified listening to one track
// in a day: what a daily report is made of. For a track of another server
// played through this node, TrackID and ArtistID are zero and RemoteTrack
// (the track's ActivityPub id) and Payee (its artist's ledger account,
// "<their node>/<their id>") name it instead.
type DayListening struct {
	UserID      ID
	TrackID     ID
	ArtistID    ID
	RemoteTrack string
	Payee       string
	Listens     int64
	HeardMS     int64
}

// ReportStore keeps listening reports and reads what they are made of.
type ReportStore interface {
	// SaveReport stores r under its ID, replacing an earlier one.
	SaveReport(ctx context.Context, r *StoredReport) error
	// Report returns the report with id, or KindNotFound.
	Report(ctx context.Context, id string) (*StoredReport, error)
	// Reports lists the reports of kind whose Day is in [from, to] (strings
	// compared), oldest first, without their files.
	Reports(ctx context.Context, kind ReportKind, from, to string) ([]StoredReport, error)
	// DailyListening sums the verified listens of logged-in listeners that
	// started in [from, to) and lasted at least minHeardMS and that no
	// fake-stream flag holds, of this node's tracks and of other servers'
	// tracks played through it, per listener and track, and calls fn for
	// each in order of user (then this node's tracks by id, then remote
	// tracks by IRI). It is the one query a daily report reads listening
	// from.
	DailyListening(ctx context.Context, from, to time.Time, minHeardMS int64, fn func(DayListening) error) error
}

// ReportCipher encrypts reports to their audience (age X25519 recipients,
// "age1…") and decrypts them with the node's own identity.
type ReportCipher interface {
	// Recipient is the node's own recipient, always in a report's audience.
	Recipient() string
	Encrypt(plaintext []byte, recipients []string) ([]byte, error)
	// Decrypt fails with KindPermission when the node is not a recipient.
	Decrypt(ciphertext []byte) ([]byte, error)
}
