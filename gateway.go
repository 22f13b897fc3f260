package nineten

import (
	"context"
	"time"
)

// Gateways: what a node keeps about money that moves through a payment
// gateway (cards, bank transfers, crypto checkouts; pay/gateway). The
// gateway tells the node what happened in signed webhook events; the node
// keeps every event it acted on, so that a redelivered event is answered
// without acting twice, and the payouts it asked the gateway to make.
// Amounts are the ledger's micro-dollars; Cents is what the gateway moves,
// in its minor unit.

// GatewayEventState says what the node did with a gateway's event.
type GatewayEventState string

const (
	// GatewayEventCredited: a payment credited to UserID's balance.
	GatewayEventCredited GatewayEventState = "credited"
	// GatewayEventPayout: a payout's outcome (paid or failed) recorded on
	// payout PayoutID.
	GatewayEventPayout GatewayEventState = "payout"
	// GatewayEventIgnored: a kind of event the node does not act on.
	GatewayEventIgnored GatewayEventState = "ignored"
	// GatewayEventRefused: a genuine event the node could not act on (an
	// unknown listener, another currency, a payout it does not know);
	// Error says why. When it was a payment, the gateway holds money that
	// no listener was credited: a person refunds it there or credits it.
	GatewayEventRefused GatewayEventState = "refused"
)

// GatewayEvent is one webhook event of a gateway, once its signature was
// verified.
type GatewayEvent struct {
	Gateway   string // the gateway's name on this node
	ID        string // the gateway's event id
	Type      string // e.g. "payment.succeeded", "payout.paid"
	State     GatewayEventState
	Reference string // the reference the event carried: a user id, a payout's reference
	Amount    Micro
	Currency  string // as the gateway wrote it, lower case
	UserID    ID     // the listener credited
	PayoutID  ID     // the payout the event was about
	Error     string // why it was refused
	// ReceivedAt is when it was first received, UpdatedAt when last acted on.
	ReceivedAt time.Time
	UpdatedAt  time.Time
}

// GatewayPayoutState is a step of a payout through a gateway.
type GatewayPayoutState string

const (
	// GatewayPayoutPending: decided and recorded, not yet accepted by the
	// gateway; asking again is safe (the request carries Reference as its
	// idempotency key).
	GatewayPayoutPending GatewayPayoutState = "pending"
	// GatewayPayoutSent: the gateway accepted it under PayoutID and will
	// say by webhook whether it was paid.
	GatewayPayoutSent GatewayPayoutState = "sent"
	// GatewayPayoutConfirmed: the gateway said it was paid, and it is
	// recorded on the ledger under ExtID.
	GatewayPayoutConfirmed GatewayPayoutState = "confirmed"
	// GatewayPayoutFailed: it will not pay; the ledger was not debited
	// and Error says why.
	GatewayPayoutFailed GatewayPayoutState = "failed"
)

// GatewayPayout is one transfer of an artist's earnings through a gateway.
type GatewayPayout struct {
	ID      ID
	Gateway string
	Artist  string // the artist's ledger account id, "<node>/<artist id>"
	// Destination is the artist's account at the gateway (a connected
	// account, a bank account token), as the gateway names it.
	Destination string
	Amount      Micro // what leaves the artist's balance: Cents, exactly
	Cents       int64
	Currency    string // lower case, "usd"
	// Reference is the node's random name of the payout, sent with it as
	// its idempotency key: the gateway pays one payout per reference.
	Reference string
	State     GatewayPayoutState
	PayoutID  string // the gateway's id of the payout, once accepted
	ExtID     string // the ledger's external id, once confirmed
	Error     string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// GatewayPayoutFilter selects gateway payouts; zero fields select all.
type GatewayPayoutFilter struct {
	Gateway string
	Artist  string
	States  []GatewayPayoutState
}

// GatewayStore keeps gateway events and payouts.
type GatewayStore interface {
	// SaveGatewayEvent inserts e, or replaces the event with its Gateway
	// and ID (ReceivedAt stays the first one's).
	SaveGatewayEvent(ctx context.Context, e GatewayEvent) error
	GatewayEvent(ctx context.Context, gateway, id string) (*GatewayEvent, error) // KindNotFound
	// GatewayEvents lists events in state (all when empty) of every
	// gateway, newest first.
	GatewayEvents(ctx context.Context, state GatewayEventState, p Page) ([]GatewayEvent, error)

	// CreateGatewayPayout stores p and sets p.ID; KindConflict while the
	// artist has another payout under way (pending or sent) through any
	// gateway or on any chain (WalletStore's payouts), so that one balance
	// is never sent twice, or when the reference is taken.
	CreateGatewayPayout(ctx context.Context, p *GatewayPayout) error
	// UpdateGatewayPayout records a payout's progress (State, PayoutID,
	// ExtID, Error, UpdatedAt; the rest never changes) if its state is
	// still from; KindConflict when it is not (another process moved it)
	// or when PayoutID is another payout's of the gateway.
	UpdateGatewayPayout(ctx context.Context, p *GatewayPayout, from GatewayPayoutState) error
	GatewayPayoutByID(ctx context.Context, id ID) (*GatewayPayout, error) // KindNotFound
	// GatewayPayoutByRef finds a gateway's payout by its reference or,
	// failing that, by the gateway's payout id; KindNotFound.
	GatewayPayoutByRef(ctx context.Context, gateway, reference, payoutID string) (*GatewayPayout, error)
	GatewayPayouts(ctx context.Context, f GatewayPayoutFilter) ([]GatewayPayout, error) // oldest first
}
