package nineten

import (
	"context"
	"strconv"
	"time"
)

// Micro is an amount of money in micro-US dollars: 1 USD = 1,000,000
// micro-USD. Money is always a whole number of these, never a float.
type Micro int64

// What a subscription costs and where it goes.
const (
	SubscriptionPrice Micro = 10_000_000 // $10 a month
	OperatorShare     Micro = 1_000_000  // $1 to the node operator, on the 1st
	ArtistsShare      Micro = 9_000_000  // $9 to the listener's top artists, by the 25th
)

// String writes m in dollars with all six decimals, e.g. "9.000000" or
// "-0.000001": exact, so that amounts shown add up to the cent and below.
func (m Micro) String() string {
	neg := m < 0
	u := uint64(m)
	if neg {
		u = -u
	}
	frac := strconv.FormatUint(u%1_000_000+1_000_000, 10)[1:]
	s := strconv.FormatUint(u/1_000_000, 10) + "." + frac
	if neg {
		return "-" + s
	}
	return s
}

// Period is a calendar month in UTC, written YYYY-MM: the unit of
// subscriptions and settlements. Periods sort lexically in time order.
type Period string

// PeriodOf is the month that t falls in, in UTC.
func PeriodOf(t time.Time) Period { return Period(t.UTC().Format("2006-01")) }

// Start is the first instant of the month.
func (p Period) Start() (time.Time, error) {
	t, err := time.Parse("2006-01", string(p))
	if err != nil || len(p) != 7 {
		return time.Time{}, E("nineten.Period", KindInvalid, strconv.Quote(string(p))+" is not a month written YYYY-MM")
	}
	return t, nil
}

// Next is the month after p; p must be valid.
func (p Period) Next() Period {
	t, err := p.Start()
	if err != nil {
		return ""
	}
	return PeriodOf(t.AddDate(0, 1, 0))
}

// Prev is the month before p; p must be valid.
func (p Period) Prev() Period {
	t, err := p.Start()
	if err != nil {
		return ""
	}
	return PeriodOf(t.AddDate(0, -1, 0))
}

// MinEligibleListenMS is how long a listen must last to count for the
// payout: 30 seconds.
const MinEligibleListenMS = 30_000

// SubscriptionStatus is where a listener's subscription stands.
type SubscriptionStatus string

const (
	SubscriptionActive    SubscriptionStatus = "active"    // paid through Paid; renews from the balance
	SubscriptionGrace     SubscriptionStatus = "grace"     // the renewal for Grace failed; can still be paid until that month settles
	SubscriptionCancelled SubscriptionStatus = "cancelled" // paid through Paid; will not renew
	SubscriptionExpired   SubscriptionStatus = "expired"   // over
)

// Subscription is a listener's paid membership of their node.
type Subscription struct {
	Listener string
	Status   SubscriptionStatus
	First    Period // first month of the current run of paid months
	Paid     Period // last month paid for
	Grace    Period // the unpaid month, in grace
}

// AccountKind names the kinds of accounts the ledger keeps.
type AccountKind string

const (
	AccountListener AccountKind = "listener" // a listener's prepaid balance
	AccountArtist   AccountKind = "artist"   // an artist's earnings; the id is "<node>/<artist id>"
	AccountOperator AccountKind = "operator" // the node operator's $1s; the id is empty
	AccountHeld     AccountKind = "held"     // a listener's $9s from months without listening
)

// MoneyLeg is one side of a transfer: an account and a positive amount.
// Accounts are written as the ledger writes them, "kind:node/id".
type MoneyLeg struct {
	Account string
	Amount  Micro
}

// MoneyTx is one balanced transaction recorded on the ledger: its inputs are
// debited, its outputs credited, and both sum to the same amount.
type MoneyTx struct {
	Seq      uint64 // per node, from 1
	Op       string // deposit, payout, subscribe, renew, open, settle, hold, refund
	Period   Period
	Listener string
	Ref      string // the external id of a deposit or payout
	Inputs   []MoneyLeg
	Outputs  []MoneyLeg
}

// ListeningTotal is one listener's eligible, verified listening to one
// artist in a month: Listens listens of at least 30 s, SecondsHeard in all.
// Artist is "<node>/<artist id>" of the artist's home node.
type ListeningTotal struct {
	Listener     string
	Artist       string
	Listens      int64
	SecondsHeard int64
}

// MonthOpening is what opening a month did: the $1s released to the
// operator and the $9s moved into the month's artist pool.
type MonthOpening struct {
	Period      Period
	Subscribers int64
	ToOperator  Micro
	ToPool      Micro
}

// Renewals counts what renewing every subscription for a month did.
type Renewals struct {
	Period                             Period
	Renewed, Grace, Expired, Unchanged int
}

// Settlement is what settling a month paid out.
type Settlement struct {
	Period   Period
	Digest   string // SHA-256 of the listening totals it was computed from
	Paid     int    // listeners whose money went to their artists
	Held     int    // listeners without listening, money held
	Refunded int    // listeners refunded after months without listening

	ToArtists      Micro
	ToHeld         Micro
	RefundedAmount Micro
	Artists        int      // distinct artists credited
	Ignored        []string // listeners who listened without paying for the month
	DryRun         bool     // computed on a copy; nothing was recorded
}

// ArtistShare is what an artist gets of a split.
type ArtistShare struct {
	Artist string // "<node>/<id>"
	Amount Micro
}

// ArtistStatement is what one node's listeners paid one artist in a month:
// the line a node sends to the artist's home node.
type ArtistStatement struct {
	Node   string // the artist's home node
	Artist string // the artist's id there
	From   string // the node whose listeners paid
	Amount Micro
}

// Ledger is the payout contract, as a node uses it. Every call that moves
// money records balanced transactions that anyone holding the ledger can
// replay; money is never created or destroyed. The embedded ledger runs the
// contract in-process; the Fabric adapter runs the same contract as
// chaincode. Listener ids are the node's user ids; the node is implied.
type Ledger interface {
	// Deposit credits a listener's balance once per external payment id
	// ("usdp:<tx hash>:<log index>", "gw:<gateway>:<event id>",
	// "sim:<id>"); a second deposit with the same id is refused with
	// KindConflict and credits nothing.
	Deposit(ctx context.Context, listener, extID string, amount Micro) (MoneyTx, error)
	// Payout records money leaving the node from an account (an artist's
	// earnings sent to their wallet), once per external id.
	Payout(ctx context.Context, kind AccountKind, id, extID string, amount Micro) (MoneyTx, error)
	Subscribe(ctx context.Context, listener string, period Period) (Subscription, error)
	Cancel(ctx context.Context, listener string) (Subscription, error)
	// SubscriptionOf returns KindNotFound when the listener never subscribed.
	SubscriptionOf(ctx context.Context, listener string) (Subscription, error)
	// RenewAll renews every subscription for period from the balances.
	RenewAll(ctx context.Context, period Period) (Renewals, error)
	// OpenMonth releases the operator's share and fills the artist pool.
	OpenMonth(ctx context.Context, period Period) (MonthOpening, error)
	// Settle pays out period's pool from its listening totals; it is
	// idempotent for the same totals. PreviewSettle computes the same on a
	// copy and records nothing.
	Settle(ctx context.Context, period Period, totals []ListeningTotal) (Settlement, error)
	PreviewSettle(ctx context.Context, period Period, totals []ListeningTotal) (Settlement, error)
	// Unsettled lists the months listeners paid for that are not settled
	// yet, oldest first (the current month among them).
	Unsettled(ctx context.Context) ([]Period, error)
	Balance(ctx context.Context, kind AccountKind, id string) (Micro, error)
	// Transactions calls fn for the node's transactions that touch a
	// listener (or every transaction when listener is ""), oldest first.
	Transactions(ctx context.Context, listener string, fn func(MoneyTx) error) error
	// PreviewSplit is the contract's split of a month's listening as if
	// each listener paid one ArtistsShare: per artist ("<node>/<id>"), in
	// order, the sum of their shares. It reads and records nothing, so a
	// peer can check another node's report with it.
	PreviewSplit(ctx context.Context, totals []ListeningTotal) ([]ArtistShare, error)
	// Statements lists what this node's listeners paid artists of other
	// nodes in period.
	Statements(ctx context.Context, period Period) ([]ArtistStatement, error)
	// AnchorReport records a listening report's hash. Anchoring the same
	// hash again changes nothing and returns the anchor; another hash for
	// the id is its next version, refused with KindConflict once the month
	// of the report is settled.
	AnchorReport(ctx context.Context, a ReportAnchor) (ReportAnchor, error)
	// ReportAnchors returns every version of the anchor of the report id,
	// oldest first, or KindNotFound.
	ReportAnchors(ctx context.Context, id string) ([]ReportAnchor, error)
}
