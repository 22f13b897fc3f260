package nineten

import (
	"context"
	"time"
)

// Social: what people do with tracks besides listening (likes, boosts and
// comments, here and across the fediverse), the listens they share with
// their followers, and whom they let follow them.

// ReactionKind is how someone reacted to a track.
type ReactionKind string

const (
	// ReactionLike is a favourite (an ActivityPub Like).
	ReactionLike ReactionKind = "like"
	// ReactionBoost shares a track with one's followers (an ActivityPub
	// Announce).
	ReactionBoost ReactionKind = "boost"
)

// Valid reports whether k is a known kind of reaction.
func (k ReactionKind) Valid() bool { return k == ReactionLike || k == ReactionBoost }

// TrackRef names a track: one of this node's by its ID, or one on another
// server by the IRI of its ActivityPub object (IRI set, ID zero).
type TrackRef struct {
	ID  ID
	IRI string
}

// Reaction is a like or a boost of a track by one actor, kept once per
// track, kind and actor. Remote actors react to this node's tracks; local
// users react to tracks here and elsewhere.
type Reaction struct {
	ID    ID
	Kind  ReactionKind
	Track TrackRef
	// Actor is a local actor name ("user:7") or a remote actor's IRI.
	Actor string
	// Activity is the IRI of the Like or Announce, which an Undo names.
	Activity  string
	CreatedAt time.Time
}

// ReactionStore keeps likes and boosts.
type ReactionStore interface {
	// SaveReaction keeps r unless its actor reacted to the track so
	// already; created is false then, and r is left as it was.
	SaveReaction(ctx context.Context, r *Reaction) (created bool, err error)
	// DeleteReaction removes actor's reaction of kind to track and returns
	// it; KindNotFound when there is none.
	DeleteReaction(ctx context.Context, track TrackRef, kind ReactionKind, actor string) (*Reaction, error)
	// ReactionByActivity finds a reaction by the IRI of its activity;
	// KindNotFound when there is none.
	ReactionByActivity(ctx context.Context, activity string) (*Reaction, error)
	// ReactionCounts counts the likes and boosts of a track of this node.
	ReactionCounts(ctx context.Context, trackID ID) (likes, boosts int, err error)
	// ReactionsOf lists the kinds of reaction actor has to track.
	ReactionsOf(ctx context.Context, track TrackRef, actor string) ([]ReactionKind, error)
	// RemoteReactionsOf lists actor's reactions to tracks on other
	// servers, newest first.
	RemoteReactionsOf(ctx context.Context, actor string, limit int) ([]Reaction, error)
}

// Comment is a reply to a track in plain text (never markup): written here
// by a local user, or received from another server as a Note in reply to
// one of this node's tracks.
type Comment struct {
	ID ID
	// Track is a track of this node or, for comments of local users on
	// tracks elsewhere, a remote one.
	Track  TrackRef
	UserID ID     // the local author, or zero
	Actor  string // the remote author's IRI, when UserID is zero
	// IRI is the id of a remote author's Note; local comments have none
	// stored (theirs is made from ID).
	IRI       string
	Text      string
	CreatedAt time.Time
	UpdatedAt time.Time
	// AuthorName and AuthorHandle are filled by reads: a local author's
	// display name and username, or a remote author's name and handle as
	// last fetched (empty when never fetched).
	AuthorName   string
	AuthorHandle string
	// AuthorPicture is, filled by reads, a local author's avatar (its blob
	// key) or a remote author's icon (its URL there); "" for none.
	AuthorPicture string
}

// CommentStore keeps comments.
type CommentStore interface {
	// CreateComment sets c.ID; KindConflict when c.IRI is kept already.
	CreateComment(ctx context.Context, c *Comment) error
	CommentByID(ctx context.Context, id ID) (*Comment, error)
	CommentByIRI(ctx context.Context, iri string) (*Comment, error)
	// EditComment replaces a comment's text.
	EditComment(ctx context.Context, id ID, text string, at time.Time) error
	DeleteComment(ctx context.Context, id ID) error
	// Comments lists the comments on a track of this node, newest first,
	// with their total.
	Comments(ctx context.Context, trackID ID, p Page) ([]Comment, int, error)
	// CommentCount counts the comments on a track of this node.
	CommentCount(ctx context.Context, trackID ID) (int, error)
}

// SharedListen is a listen an actor on another server shared with its
// followers (an ActivityStreams Listen), kept for local users who follow it.
type SharedListen struct {
	ID         ID
	Activity   string // IRI of the Listen; each is kept once
	Actor      string
	Object     string // IRI of the track
	Title      string
	Artist     string
	URL        string // a web page of the track, or Object
	ListenedAt time.Time
}

// SharedListenStore keeps listens that followed actors shared.
type SharedListenStore interface {
	// SaveSharedListen keeps l once per activity (created is false for a
	// repeat) and forgets the actor's oldest beyond the last
	// SharedListensKept.
	SaveSharedListen(ctx context.Context, l *SharedListen) (created bool, err error)
	// DeleteSharedListen forgets what actor shared as activity.
	DeleteSharedListen(ctx context.Context, actor, activity string) error
	// FriendListens lists the listens shared by the actors local follows
	// (accepted), newest first.
	FriendListens(ctx context.Context, local string, limit int) ([]SharedListen, error)
}

// SharedListensKept is how many shared listens a node keeps per actor.
const SharedListensKept = 100

// ActorSettings are a local actor's choices about federating.
type ActorSettings struct {
	Actor string // local actor name: "user:7", "artist:3"
	// ManualApproval makes follow requests wait for the owner's answer
	// instead of being accepted at once (manuallyApprovesFollowers).
	ManualApproval bool
	// ShareListens sends a user's verified listens to their followers as
	// Listen activities. It is off unless the user turns it on.
	ShareListens bool
}

// ActorSettingStore keeps actors' settings.
type ActorSettingStore interface {
	// ActorSettings returns an actor's settings, the defaults (all off)
	// when it never saved any.
	ActorSettings(ctx context.Context, actor string) (*ActorSettings, error)
	SaveActorSettings(ctx context.Context, s *ActorSettings) error
}

// SocialStore keeps the social side of the node: reactions, comments,
// shared listens and actors' settings.
type SocialStore interface {
	ReactionStore
	CommentStore
	SharedListenStore
	ActorSettingStore
	// PurgeSocial forgets the reactions, comments and shared listens of
	// actors on host (a server the admins blocked).
	PurgeSocial(ctx context.Context, host string) error
}

// TrackSocial is what a track page shows of what people did with it.
type TrackSocial struct {
	// Counts, known for tracks of this node only.
	Likes, Boosts, Comments int
	// What the viewer did.
	Liked, Boosted bool
}

// FriendListen is a listen shared by an actor a user follows.
type FriendListen struct {
	Actor      RemoteActor
	Object     string // IRI of the track
	Title      string
	Artist     string
	URL        string
	ListenedAt time.Time
}

// SocialSettings are a user's social choices: for their own actor and for
// each artist profile they own.
type SocialSettings struct {
	ShareListens   bool
	ManualApproval bool
	Artists        []ArtistSettings
}

// ArtistSettings are the choices of one artist profile.
type ArtistSettings struct {
	ArtistID       ID
	Name           string
	ManualApproval bool
}

// FollowRequest is a remote actor waiting for a local actor's owner to
// let it follow.
type FollowRequest struct {
	ID    ID // the follow's
	Actor RemoteActor
	// ArtistID is the artist profile asked to be followed, or zero for the
	// user themself; Name is its name.
	ArtistID ID
	Name     string
	Since    time.Time
}

// Social is likes, boosts, comments, shared listens and follow requests as
// the API uses them.
type Social interface {
	// React likes or boosts a track for u; Unreact takes it back. Both
	// are idempotent.
	React(ctx context.Context, u *User, t TrackRef, kind ReactionKind) error
	Unreact(ctx context.Context, u *User, t TrackRef, kind ReactionKind) error
	// RemoteReactions lists u's likes and boosts of tracks on other
	// servers, newest first.
	RemoteReactions(ctx context.Context, u *User, limit int) ([]Reaction, error)
	// TrackSocial tells what people did with a track; viewer is nil for
	// an anonymous one.
	TrackSocial(ctx context.Context, viewer *User, t TrackRef) (*TrackSocial, error)
	// Comment posts a comment by u on a track.
	Comment(ctx context.Context, u *User, t TrackRef, text string) (*Comment, error)
	// DeleteComment removes a comment: its author or an admin may.
	DeleteComment(ctx context.Context, u *User, id ID) error
	// Comments lists the comments on a track of this node, newest first.
	Comments(ctx context.Context, trackID ID, p Page) ([]Comment, int, error)

	// FriendListens lists what the actors u follows shared that they
	// played, newest first.
	FriendListens(ctx context.Context, u *User, limit int) ([]FriendListen, error)
	SocialSettings(ctx context.Context, u *User) (*SocialSettings, error)
	// UpdateSocialSettings stores s for u and the artists of s (which u
	// must own) and returns the settings as stored.
	UpdateSocialSettings(ctx context.Context, u *User, s SocialSettings) (*SocialSettings, error)
	// FollowRequests lists who waits to follow u or an artist of u.
	FollowRequests(ctx context.Context, u *User) ([]FollowRequest, error)
	// AnswerFollowRequest accepts or rejects one, and tells its sender.
	AnswerFollowRequest(ctx context.Context, u *User, id ID, accept bool) error
}
