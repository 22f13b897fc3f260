package nineten

import (
	"context"
	"time"
)

// Supporters: a listener's subscription is visible across nodes. The
// listener's node tells the artists the listener follows on other nodes
// (and those nodes' actors, for the paid membership) with a Subscription
// activity, an Update when it is renewed or expires, and an Undo when it
// is cancelled; the artists' node keeps who supports its artists.

// SubscriptionEvent is what happened to a listener's subscription, as the
// subscription use case and the money calendar tell it.
type SubscriptionEvent struct {
	UserID       ID
	Subscription Subscription
}

// Supporter is a remote listener who supports an artist of this node (or,
// with ArtistID zero, is a paying member of their own node, as that node
// told this one).
type Supporter struct {
	ArtistID ID
	Actor    string // the listener's IRI
	Node     string // the listener's server (host)
	Activity string // the Subscription activity's IRI
	Status   SubscriptionStatus
	Paid     Period // paid through
	Since    time.Time
	Updated  time.Time
}

// ToldSubscription is what this node last told a remote actor (an artist,
// or a node actor) about a local listener's subscription.
type ToldSubscription struct {
	UserID   ID
	Target   string // the remote actor's IRI
	Activity string // the Subscription activity's IRI
	Status   SubscriptionStatus
	Paid     Period
	Updated  time.Time
}

// SupporterStore keeps supporters of this node's artists and what the
// node told others of its listeners' subscriptions.
type SupporterStore interface {
	// SaveSupporter inserts or replaces the supporter (ArtistID, Actor).
	SaveSupporter(ctx context.Context, s *Supporter) error
	// DeleteSupporterByActivity forgets the supporter that activity (a
	// Subscription of actor's) made; KindNotFound when none.
	DeleteSupporterByActivity(ctx context.Context, actor, activity string) error
	// Supporters lists an artist's supporters (ArtistID zero: the node's
	// remote members), the most recent first.
	Supporters(ctx context.Context, artistID ID) ([]Supporter, error)
	// SaveToldSubscription inserts or replaces (UserID, Target).
	SaveToldSubscription(ctx context.Context, t *ToldSubscription) error
	DeleteToldSubscription(ctx context.Context, userID ID, target string) error
	ToldSubscriptions(ctx context.Context, userID ID) ([]ToldSubscription, error)
	// ToldListeners lists the users something was told about.
	ToldListeners(ctx context.Context) ([]ID, error)
}
