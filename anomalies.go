package nineten

import (
	"context"
	"time"
)

// FlagStatus is where a fake-stream flag is in its review. While a flag is
// held, its listens are out of settlement; an admin clears it (the listens
// count again) or confirms it (they never count).
type FlagStatus string

const (
	FlagHeld      FlagStatus = "held"
	FlagCleared   FlagStatus = "cleared"
	FlagConfirmed FlagStatus = "confirmed"
)

// ListenHold says whether a listen counts towards settlement: a listen
// held by a flag awaiting review, or by a confirmed one, does not.
type ListenHold int

const (
	HoldNone      ListenHold = 0 // counts
	HoldReview    ListenHold = 1 // a flag awaits review
	HoldConfirmed ListenHold = 2 // a flag was confirmed: never counts
)

// AnomalyFlag is one rule's finding about one UTC day's listening: what
// looked wrong (Rule, Subject), how sure the rule is (Score, 1–100), the
// evidence in words and in numbers, and the listens it holds.
type AnomalyFlag struct {
	ID      ID
	Rule    string
	Subject string    // what the rule looked at, e.g. "listener:12"; admins only
	Day     time.Time // midnight UTC of the day whose listening it is about
	Score   int
	// Summary is the evidence in words. It names no other account, no
	// network and no device, so the listeners and artists concerned may
	// read it.
	Summary  string
	Evidence map[string]int64 // the measurements behind it
	Status   FlagStatus
	// ListenIDs and RemoteListenIDs are the listens the flag holds, of
	// this node's tracks and of other servers' tracks played here (when
	// saving); Listens, Listeners and Artists count and name what it holds
	// (when reading; Artists names this node's artists only).
	ListenIDs       []ID
	RemoteListenIDs []ID
	Listens         int
	Listeners       []ID
	Artists         []ID
	CreatedAt       time.Time
	ReviewedAt      time.Time
	ReviewedBy      ID
}

// DetectionListen is a verified listen of a logged-in listener with what
// the detector needs to know about it. Network and Device are keyed hashes
// (see ListenSession); empty when unknown.
//
// Remote marks a listen of another server's track played through this
// node (one that pays an artist there): ListenID and TrackID are then ids
// of its remote listen and remote track, and ArtistID stands for the
// artist its server named as payee — the smallest id of the remote tracks
// paying them, so that the same artist is the same number every run.
type DetectionListen struct {
	Remote        bool
	ListenID      ID
	UserID        ID
	UserCreatedAt time.Time
	TrackID       ID
	ArtistID      ID
	TrackMS       int64
	StartedAt     time.Time
	HeardMS       int64
	Network       string
	Device        string
	Held          bool // a flag holds it (awaiting review or confirmed)
}

// FlagQuery selects flags. Zero fields select everything.
type FlagQuery struct {
	Status   FlagStatus
	Rule     string
	UserID   ID // flags holding a listen of this listener
	ArtistID ID // flags holding a listen of this artist's tracks
	IDs      []ID
	Limit    int
}

// RuleCount is how many flags of one rule are in one status.
type RuleCount struct {
	Rule   string
	Status FlagStatus
	Flags  int
}

// HoldQuery selects listens to count by hold: those started in
// [From, To), of at least MinHeardMS, of one artist's tracks when ArtistID
// is not zero.
type HoldQuery struct {
	From, To   time.Time
	MinHeardMS int64
	ArtistID   ID
}

// ListenHoldCount counts listens of one hold.
type ListenHoldCount struct {
	Hold    ListenHold
	Listens int64
	HeardMS int64
}

// AnomalyStore keeps the detector's input and findings.
type AnomalyStore interface {
	// DetectionListens streams the verified listens of logged-in listeners
	// that started in [from, to), in order of start.
	DetectionListens(ctx context.Context, from, to time.Time, fn func(DetectionListen) error) error
	// SaveAnomalyFlags stores flags, once per (rule, subject, day): a flag
	// found again keeps its status and gains the listens it did not hold.
	// A listen held by a flag awaiting review (or confirmed) is out of
	// ListeningTotals. It returns how many flags were new.
	SaveAnomalyFlags(ctx context.Context, flags []AnomalyFlag) (int, error)
	// AnomalyFlags lists flags, highest score first, then newest day.
	AnomalyFlags(ctx context.Context, q FlagQuery) ([]AnomalyFlag, error)
	// ReviewAnomalyFlags sets the status of flags (cleared or confirmed)
	// and what their listens count for; it returns the flags changed.
	ReviewAnomalyFlags(ctx context.Context, ids []ID, status FlagStatus, by ID, at time.Time) (int, error)
	// AnomalyRuleCounts counts flags per rule and status.
	AnomalyRuleCounts(ctx context.Context) ([]RuleCount, error)
	// ListenHolds counts the verified listens of logged-in listeners that
	// q selects by hold, in order of hold.
	ListenHolds(ctx context.Context, q HoldQuery) ([]ListenHoldCount, error)
	// DetectionRan records that detection ran over day at at and found
	// flags; DetectionRunAt returns when it last ran over day (zero if never).
	DetectionRan(ctx context.Context, day, at time.Time, flags int) error
	DetectionRunAt(ctx context.Context, day time.Time) (time.Time, error)
}
