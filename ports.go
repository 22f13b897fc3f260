package nineten

import (
	"context"
	"io"
	"strconv"
	"strings"
	"time"
)

// Clock tells the time. Use cases take time from a Clock so that tests can
// control it; SystemClock is the real one.
type Clock interface{ Now() time.Time }

// SystemClock is the wall clock, in UTC.
type SystemClock struct{}

func (SystemClock) Now() time.Time { return time.Now().UTC() }

// Page selects a window of a list. A zero Limit means the store's default.
type Page struct {
	Limit  int
	Offset int
}

// Store is the node's persistent state. Each method is atomic on its own;
// WithTx runs several in one transaction, and the Store handed to fn must be
// used for every call inside it.
type Store interface {
	UserStore
	CatalogStore
	PlaylistStore
	ListenStore
	JobQueue
	KeyStore
	FederationStore
	LedgerStore
	WalletStore
	GatewayStore
	SettingStore
	SocialStore
	ReportStore
	AnomalyStore
	StatementStore
	SupporterStore
	ReviewStore
	WithTx(ctx context.Context, fn func(tx Store) error) error
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
}

// Session is a logged-in browser session. The token itself is never
// stored: only its SHA-256 hash.
type Session struct {
	TokenHash string
	UserID    ID
	CreatedAt time.Time
	ExpiresAt time.Time
}

// APIToken is a long-lived bearer token for scripts and other clients,
// stored as a hash like sessions.
type APIToken struct {
	ID         ID
	UserID     ID
	Name       string
	TokenHash  string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// UserStore keeps accounts and their credentials.
type UserStore interface {
	CreateUser(ctx context.Context, u *User) error // sets u.ID; KindConflict when the username is taken
	UserByID(ctx context.Context, id ID) (*User, error)
	UserByUsername(ctx context.Context, username string) (*User, error)
	UpdateUser(ctx context.Context, u *User) error
	ListUsers(ctx context.Context, p Page) ([]User, int, error)
	CountUsers(ctx context.Context) (int, error) // open accounts, not closed ones

	CreateSession(ctx context.Context, s Session) error
	SessionByHash(ctx context.Context, tokenHash string) (*Session, error)
	DeleteSession(ctx context.Context, tokenHash string) error
	DeleteUserSessions(ctx context.Context, userID ID) error

	CreateToken(ctx context.Context, t *APIToken) error // sets t.ID
	TokenByHash(ctx context.Context, tokenHash string) (*APIToken, error)
	TouchToken(ctx context.Context, id ID, at time.Time) error
	ListTokens(ctx context.Context, userID ID) ([]APIToken, error)
	DeleteToken(ctx context.Context, userID, id ID) error

	// CloseAccount closes an account at at, in one transaction: the user
	// and its artist profiles keep their rows, ids (their ledger accounts:
	// an id must never be handed to someone else) and username and slugs
	// (their fediverse addresses, which now answer 410 Gone), and lose
	// everything else: display name, password (and so any login: it is
	// disabled too), sessions, API tokens, name and bio, playlists,
	// comments, reactions, follows both ways and settings of its actors
	// ("user:<id>", "artist:<id>"), registered wallets and pending wallet
	// challenges. The artists' tracks are
	// hidden, not deleted, and listens stay under the account's id, so
	// that months not settled yet still pay as listened; see
	// PurgeClosedAccounts. Closing a closed account is KindNotFound.
	CloseAccount(ctx context.Context, userID ID, at time.Time) error
	// PurgeClosedAccounts finishes the closures made before settled (the
	// end of the last settled month), once no money depends on their
	// listening: their listens become anonymous (play counts keep them)
	// and their artists' tracks and albums are deleted. It returns how
	// many accounts it finished; running it again does nothing more.
	PurgeClosedAccounts(ctx context.Context, settled time.Time) (int, error)
}

// TrackFilter selects tracks. By default only visible tracks are listed.
type TrackFilter struct {
	ArtistID ID
	AlbumID  ID
	OwnerID  ID     // tracks of artists owned by this user
	Query    string // full-text search over title, artist, album and genre
	// All includes processing, failed and hidden tracks (owners, admins).
	All bool
}

// CatalogStore keeps artists, albums and tracks.
type CatalogStore interface {
	CreateArtist(ctx context.Context, a *Artist) error // sets a.ID; KindConflict when the slug is taken
	ArtistByID(ctx context.Context, id ID) (*Artist, error)
	ArtistBySlug(ctx context.Context, slug string) (*Artist, error)
	ArtistsByOwner(ctx context.Context, ownerID ID) ([]Artist, error)
	ListArtists(ctx context.Context, query string, p Page) ([]Artist, int, error)
	UpdateArtist(ctx context.Context, a *Artist) error

	// AlbumByTitle finds an artist's album by its title, case-insensitively.
	AlbumByTitle(ctx context.Context, artistID ID, title string) (*Album, error)
	CreateAlbum(ctx context.Context, a *Album) error // sets a.ID
	AlbumByID(ctx context.Context, id ID) (*Album, error)
	ListAlbums(ctx context.Context, artistID ID, p Page) ([]Album, int, error)
	UpdateAlbum(ctx context.Context, a *Album) error
	DeleteAlbum(ctx context.Context, id ID) error

	CreateTrack(ctx context.Context, t *Track) error // sets t.ID
	TrackByID(ctx context.Context, id ID) (*Track, error)
	ListTracks(ctx context.Context, f TrackFilter, p Page) ([]Track, int, error)
	UpdateTrack(ctx context.Context, t *Track) error
	DeleteTrack(ctx context.Context, id ID) error
}

// PlaylistFilter selects playlists.
type PlaylistFilter struct {
	OwnerID    ID   // playlists this user made
	PublicOnly bool // only public ones
	// Follower selects copies of remote playlists whose owners this local
	// actor follows (accepted), e.g. "user:7".
	Follower string
}

// PlaylistStore keeps playlists, local and copies of remote ones, with
// their items in order. Deleting a track takes it out of every playlist;
// deleting a user deletes their playlists, and forgetting a remote actor
// (a domain block) the copies of theirs.
type PlaylistStore interface {
	// CreatePlaylist stores a new playlist and sets p.ID; KindConflict
	// when p is a copy whose IRI is stored already.
	CreatePlaylist(ctx context.Context, p *Playlist) error
	PlaylistByID(ctx context.Context, id ID) (*Playlist, error)
	// PlaylistByIRI returns the copy of the remote playlist iri.
	PlaylistByIRI(ctx context.Context, iri string) (*Playlist, error)
	// UpdatePlaylist stores the title, description, visibility and update
	// time of p.
	UpdatePlaylist(ctx context.Context, p *Playlist) error
	DeletePlaylist(ctx context.Context, id ID) error
	// ListPlaylists lists the playlists f selects, the most recently
	// updated first.
	ListPlaylists(ctx context.Context, f PlaylistFilter, p Page) ([]Playlist, int, error)

	// PlaylistItems lists a playlist's items in order, local ones with
	// their tracks, whatever their status.
	PlaylistItems(ctx context.Context, playlistID ID) ([]PlaylistItem, error)
	// AddPlaylistItem appends it to a playlist and sets it.ID and
	// it.Position; KindConflict when the playlist holds its track (the
	// same local track, or the same remote IRI) already.
	AddPlaylistItem(ctx context.Context, playlistID ID, it *PlaylistItem) error
	// RemovePlaylistItem takes an item out; those after it move up.
	RemovePlaylistItem(ctx context.Context, playlistID, itemID ID) error
	// MovePlaylistItem moves an item to position (0-based, clamped to the
	// playlist), shifting the items in between by one.
	MovePlaylistItem(ctx context.Context, playlistID, itemID ID, position int) error
	// ReplacePlaylistItems makes items, in their order, the playlist's
	// items; of items naming the same track, the first is kept.
	ReplacePlaylistItems(ctx context.Context, playlistID ID, items []PlaylistItem) error
}

// ListenSession is one playback of one track by one listener (or anonymous
// browser). The media server records which segments it served to the
// session; the player reports progress signed with the session's key.
type ListenSession struct {
	ID      string
	TrackID ID // zero for a track of another server
	// RemoteTrackID is set instead for a track of another server played
	// through this node; the session's ID then starts with
	// RemoteSessionPrefix.
	RemoteTrackID ID
	UserID        ID     // zero for an anonymous listener
	AnonID        string // stable per browser for anonymous listeners
	StartedAt     time.Time
	LastSeq       int64 // highest progress report sequence accepted
	HeardMS       int64 // milliseconds heard, as last reported and capped
	PositionMS    int64
	LastReportAt  time.Time
	// Network and Device are keyed hashes (HMAC under the node secret) of
	// the client's network (its IPv4 /24 or IPv6 /64) and of its browser
	// (the browser cookie, else the user agent): enough for the fake-stream
	// detector to see many accounts behind one network or device, never
	// an address or a user agent, and meaningless off this node.
	Network string
	Device  string
}

// RemoteSessionPrefix starts the id of every listen session of a track of
// another server (and of no other): stores keep those sessions apart from
// the sessions of this node's tracks, and tell them by their id alone.
const RemoteSessionPrefix = "r."

// IsRemoteSession reports whether a listen session id is one of a track
// of another server.
func IsRemoteSession(id string) bool { return strings.HasPrefix(id, RemoteSessionPrefix) }

// ServedSegment is a media segment the node served to a listen session,
// with the span of the track it covers.
type ServedSegment struct {
	SessionID string
	Rendition string
	Index     int
	StartMS   int64
	EndMS     int64
	ServedAt  time.Time
}

// ListenStatus says whether a listen counts.
type ListenStatus string

const (
	// ListenVerified: the node served the audio and the player's reports agree.
	ListenVerified ListenStatus = "verified"
	// ListenUnverified: the player claimed a listen that the node's own
	// record does not (yet) support. It never counts.
	ListenUnverified ListenStatus = "unverified"
)

// Listen is a playback that reached the listen threshold, or claimed to.
type Listen struct {
	ID         ID
	SessionID  string
	TrackID    ID
	UserID     ID
	AnonID     string
	StartedAt  time.Time
	HeardMS    int64
	Status     ListenStatus
	Reason     string // why a listen is not verified
	VerifiedAt time.Time
	// RemoteTrackID is set instead of TrackID for a listen of a track of
	// another server.
	RemoteTrackID ID
	// Track (or Remote, for a track of another server) is filled by reads
	// that list listens with their tracks.
	Track  *Track
	Remote *RemoteTrack
}

// ListenStore keeps playback sessions and listens.
type ListenStore interface {
	CreateListenSession(ctx context.Context, s *ListenSession) error
	ListenSessionByID(ctx context.Context, id string) (*ListenSession, error)
	// RecordServedSegment is idempotent per (session, rendition, index).
	RecordServedSegment(ctx context.Context, s ServedSegment) error
	ServedSegments(ctx context.Context, sessionID string) ([]ServedSegment, error)
	// UpdateListenProgress stores a progress report if seq is higher than
	// the last accepted one; otherwise it fails with KindConflict, which
	// makes replayed reports harmless.
	UpdateListenProgress(ctx context.Context, s *ListenSession) error
	// SaveListen creates or updates the listen of l.SessionID. A listen that
	// becomes verified adds one to its track's play count, exactly once
	// (tracks of other servers have no play count here).
	SaveListen(ctx context.Context, l *Listen) error
	ListenBySession(ctx context.Context, sessionID string) (*Listen, error)
	// RecentListens lists a listener's verified listens, of tracks here and
	// of other servers, newest first, each with its track (Track or Remote).
	RecentListens(ctx context.Context, userID ID, limit int) ([]Listen, error)
	// SaveListening stores a batch of progress reports and served segments
	// in one transaction: each report only if newer than the stored one
	// (raising the heard time of the session's listen, if it has one),
	// each segment once; those of sessions that are gone are skipped. It
	// is how a busy node writes what many players sent in the last moment.
	SaveListening(ctx context.Context, reports []ListenSession, segments []ServedSegment) error
	// ListeningTotals sums verified listens of logged-in listeners that
	// started in [q.From, q.To) and lasted at least q.MinHeardMS, per
	// listener and artist, and calls fn for each in order of user, then
	// artist: this node's artists by id, then other servers' by Payee.
	// Listens of tracks of other servers count only when their server
	// named a payee. It streams: a month of a large node does not fit in
	// memory.
	ListeningTotals(ctx context.Context, q TotalsQuery, fn func(ListenerArtistTotal) error) error

	// SaveRemoteTrack records (or refreshes, by IRI) a track of another
	// server that a listener here plays through this node, and sets t.ID.
	SaveRemoteTrack(ctx context.Context, t *RemoteTrack) error
	RemoteTrackByID(ctx context.Context, id ID) (*RemoteTrack, error)
	// RemoteArtistName is the name of the artist whose account on the
	// ledger is payee, as the server of the last track of theirs played
	// here named them; KindNotFound when none was.
	RemoteArtistName(ctx context.Context, payee string) (string, error)
}

// SettingStore keeps facts about the node that all its processes must
// agree on.
type SettingStore interface {
	// Setting returns the value of name, or KindNotFound.
	Setting(ctx context.Context, name string) (string, error)
	// InitSetting stores value under name unless name has a value already,
	// and returns the value stored: the first process to start decides.
	InitSetting(ctx context.Context, name, value string) (string, error)
}

// TotalsQuery selects the listens ListeningTotals sums.
type TotalsQuery struct {
	From, To   time.Time
	MinHeardMS int64
	UserID     ID // only this listener's, when not zero
}

// ListenerArtistTotal is one listener's listening to one artist.
type ListenerArtistTotal struct {
	UserID   ID
	ArtistID ID // zero for an artist of another server
	// Payee is, for an artist of another server, their account on the
	// ledger: "<their node>/<their id there>" (see RemoteTrack.Payee).
	Payee   string
	Listens int64
	HeardMS int64
}

// Artist is the artist's account on the ledger of node: "<node>/<artist
// id>" for an artist here, the payee for an artist of another server.
func (t ListenerArtistTotal) Artist(node string) string {
	if t.Payee != "" {
		return t.Payee
	}
	return node + "/" + strconv.FormatInt(int64(t.ArtistID), 10)
}

// ActorKeys are the signing keys of one federated actor: an RSA key for
// HTTP signatures (what every fediverse server understands) and an Ed25519
// key for RFC 9421 signatures and FEP-521a proofs. They are made on first
// use and never change unless an admin rotates them.
type ActorKeys struct {
	// Actor names the actor: "node", "user:7" or "artist:3".
	Actor         string
	RSAPrivatePEM string // PKCS #8, PEM
	Ed25519Seed   []byte // 32 bytes
	CreatedAt     time.Time
}

// KeyStore keeps actors' signing keys.
type KeyStore interface {
	ActorKeys(ctx context.Context, actor string) (*ActorKeys, error) // KindNotFound when none
	// CreateActorKeys stores keys; KindConflict when the actor has some,
	// so that two processes racing to make them agree on the first.
	CreateActorKeys(ctx context.Context, k *ActorKeys) error
}

// LedgerEntry is one record of the embedded ledger's transaction log: one
// invocation of the payout contract that changed its state. Entries are
// numbered 1, 2, 3… and chained: each names the hash of the one before, and
// the ledger signs each hash, so a changed, removed or reordered entry
// breaks the chain or a signature. The ledger (ledger/embedded) defines the
// encodings and the hash; a store keeps the fields as it is given them.
type LedgerEntry struct {
	Seq    int64
	Prev   []byte // hash of entry Seq-1; 32 zero bytes for entry 1
	Op     string // the contract operation, e.g. "deposit", "settle"
	Args   []byte // JSON of the operation's inputs
	Writes []byte // canonical JSON of the state writes it made
	Events []byte // JSON of the events it emitted
	Hash   []byte // SHA-256 over the canonical encoding of the fields above, Signer and At
	Signer string // id of the key that signed Hash
	Sig    []byte // Ed25519 signature of Hash
	At     time.Time
}

// LedgerWrite is one key the contract set in one invocation. Values are
// never nil; the contract never deletes a key.
type LedgerWrite struct {
	Key   string
	Value []byte
}

// LedgerStore keeps the embedded ledger: the contract's world state (a
// key-value map ordered by key bytes) and the append-only log of the
// invocations that made it. There is no way to change or remove an entry.
type LedgerStore interface {
	// LedgerGet returns the value of key, or nil, nil when it has none.
	LedgerGet(ctx context.Context, key string) ([]byte, error)
	// LedgerRange calls fn for every key in [start, end) in byte order; an
	// empty end means no upper bound. An error of fn stops the iteration and
	// is returned as it is.
	LedgerRange(ctx context.Context, start, end string, fn func(key string, value []byte) error) error
	// LedgerCommit appends entry to the log and applies writes to the state
	// in one transaction: after a failure (or a crash) neither is there.
	// The entry must be the next one: Seq one more than the head's and Prev
	// the head's hash (32 zero bytes for entry 1), or it fails with
	// KindConflict; so a second writer racing for the same place loses
	// instead of forking the chain. An empty key is KindInvalid; the keys
	// of writes are distinct.
	LedgerCommit(ctx context.Context, entry LedgerEntry, writes []LedgerWrite) error
	// LedgerEntries calls fn for every entry from fromSeq on, in order of
	// Seq. An error of fn stops the iteration and is returned as it is.
	LedgerEntries(ctx context.Context, fromSeq int64, fn func(LedgerEntry) error) error
	// LedgerHead returns the last entry's Seq and Hash, or 0, nil when the
	// log is empty.
	LedgerHead(ctx context.Context) (seq int64, hash []byte, err error)
}

// RemoteActor is what the node knows of an actor on another server.
type RemoteActor struct {
	IRI          string
	Inbox        string
	Outbox       string
	SharedInbox  string
	KeyID        string
	PublicKeyPEM string
	Handle       string // user@host, from preferredUsername
	Name         string
	// Icon and Image are the URLs of the actor's avatar and header picture
	// on its server, "" when it publishes none.
	Icon, Image string
	FetchedAt   time.Time
}

// FollowState is where a follow request stands.
type FollowState string

const (
	FollowPending  FollowState = "pending"
	FollowAccepted FollowState = "accepted"
)

// Follow links a local actor and a remote one. Inbound follows are remote
// actors following a local one (its followers); outbound ones are local
// users following remote actors.
type Follow struct {
	ID        ID
	Local     string // local actor name, e.g. "artist:3", "user:7"
	Remote    string // remote actor IRI
	Inbound   bool
	State     FollowState
	Activity  string // IRI of the Follow activity
	CreatedAt time.Time
}

// Received is an activity delivered to the node by an actor a local user
// follows, kept for their feed.
type Received struct {
	ID         ID
	Activity   string // IRI; an activity is kept once
	Type       string // Create, Update, Announce, …
	Actor      string // IRI
	Object     string // IRI of the object
	Payload    []byte // the activity as received (JSON)
	ReceivedAt time.Time
}

// FederationStore keeps what the node knows of other servers.
type FederationStore interface {
	SaveRemoteActor(ctx context.Context, a *RemoteActor) error // insert or replace by IRI
	RemoteActor(ctx context.Context, iri string) (*RemoteActor, error)
	// SaveFollow inserts or updates the follow of (Local, Remote, Inbound); sets f.ID.
	SaveFollow(ctx context.Context, f *Follow) error
	DeleteFollow(ctx context.Context, local, remote string, inbound bool) error
	FollowByActivity(ctx context.Context, activity string) (*Follow, error)
	// Follows lists a local actor's followers (inbound) or followings.
	Follows(ctx context.Context, local string, inbound bool) ([]Follow, error)
	// Followed reports whether any local actor follows (accepted) remote.
	Followed(ctx context.Context, remote string) (bool, error)
	// SaveReceived keeps an activity once; created is false for a repeat.
	SaveReceived(ctx context.Context, r *Received) (created bool, err error)
	// ForgetActor forgets a remote actor that was deleted: the actor, its
	// follows both ways, what it sent, its reactions, comments, shared
	// listens and the copies of its playlists.
	ForgetActor(ctx context.Context, iri string) error
	// DeleteReceived forgets what actor sent about object (it was deleted).
	DeleteReceived(ctx context.Context, actor, object string) error
	// Feed lists activities of actors the user follows (accepted), newest first.
	Feed(ctx context.Context, local string, limit int) ([]Received, error)

	// BlockDomain refuses a server (by host) and purges what the node
	// keeps of it: its actors, follows both ways and received activities.
	BlockDomain(ctx context.Context, b *DomainBlock) error
	UnblockDomain(ctx context.Context, host string) error
	DomainBlocks(ctx context.Context) ([]DomainBlock, error)

	// HostFailed records a failed delivery to host at at and returns the
	// host's health after it.
	HostFailed(ctx context.Context, host string, at time.Time) (HostHealth, error)
	// HostAlive records that host answered (a delivery went through, or it
	// sent us a signed request): it is healthy and available again.
	HostAlive(ctx context.Context, host string, at time.Time) error
	// MarkHostUnavailable gives up on a host that kept failing.
	MarkHostUnavailable(ctx context.Context, host string, at time.Time) error
	// Host returns what the node knows of host's health (the zero value,
	// with Host set, when nothing).
	Host(ctx context.Context, host string) (HostHealth, error)
	// UnavailableHosts lists the hosts given up on, longest first.
	UnavailableHosts(ctx context.Context) ([]HostHealth, error)
}

// HostHealth is how deliveries to a remote server have been going.
type HostHealth struct {
	Host             string
	FailingSince     time.Time // first failure since it last answered; zero when healthy
	Failures         int       // failed deliveries since then
	UnavailableSince time.Time // when the node gave up on it; zero while it is tried
	LastSuccessAt    time.Time
}

// DomainBlock is a server the node's admins refuse to federate with.
type DomainBlock struct {
	Host      string // host[:port], lower case
	Reason    string
	CreatedAt time.Time
}

// Following is a local user's follow of a remote actor, as people see it.
type Following struct {
	ID    ID
	Actor RemoteActor
	State FollowState
	Since time.Time
}

// FeedItem is something an actor a user follows published.
type FeedItem struct {
	Type      string // Create, Update, Announce
	Actor     RemoteActor
	Object    string // IRI of what was published
	URL       string // where people see it (a web page), or Object
	Title     string
	Text      string // plain text, tags stripped
	Published time.Time
}

// TrackChange is what happened to a track, for those who tell others.
type TrackChange string

const (
	TrackPublished TrackChange = "published" // it became playable
	TrackUpdated   TrackChange = "updated"   // its tags changed
	TrackWithdrawn TrackChange = "withdrawn" // deleted or hidden
)

// RemoteTrack is a track published on another server, as its Audio
// object describes it. Media URLs point at that server.
type RemoteTrack struct {
	// ID is the node's record of the track, once a listener here played it
	// through the node (see ListenStore.SaveRemoteTrack).
	ID          ID
	IRI         string
	Title       string
	Album       string
	Genre       string
	DurationMS  int64
	PageURL     string
	HLSURL      string
	OriginalURL string
	CoverURL    string
	Published   time.Time
	// ArtistIRI and ArtistName are the artist the track is attributed to.
	ArtistIRI  string
	ArtistName string
	// Payee is whom the track's server says its plays pay: the artist's
	// account on the ledger, "<node>/<artist id>", where node is the
	// server's host (9ten's "ledgerAccount" term). Without one, plays of
	// the track cannot be paid and are not counted.
	Payee string
}

// Federator is the node's part in the fediverse as the API uses it.
type Federator interface {
	// Follow follows @name@host (or an actor URL) for u.
	Follow(ctx context.Context, u *User, handle string) (*Following, error)
	Unfollow(ctx context.Context, u *User, id ID) error
	Followings(ctx context.Context, u *User) ([]Following, error)
	Feed(ctx context.Context, u *User, limit int) ([]FeedItem, error)
	// Catalogue lists the tracks an actor on another server published,
	// newest first, from its outbox.
	Catalogue(ctx context.Context, handle string, limit int) (*RemoteActor, []RemoteTrack, error)
	// RemotePlaylists lists the copies of playlists that the actors u
	// follows published, the most recently updated first.
	RemotePlaylists(ctx context.Context, u *User, p Page) ([]Playlist, int, error)
	// RemotePlaylist returns one of those copies with its items.
	RemotePlaylist(ctx context.Context, u *User, id ID) (*Playlist, []PlaylistItem, error)

	// Admins only: refuse a server and purge what came from it.
	BlockDomain(ctx context.Context, admin *User, host, reason string) (*DomainBlock, error)
	UnblockDomain(ctx context.Context, admin *User, host string) error
	DomainBlocks(ctx context.Context, admin *User) ([]DomainBlock, error)

	// RemoteMedia fetches a streaming file (an HLS playlist, init segment
	// or segment) of a track on another server this node federates with,
	// for the node's cache of remote media. path is the file's path there,
	// under /media/tracks/.
	RemoteMedia(ctx context.Context, host, path string) (body []byte, contentType string, err error)
}

// JobStatus is where a background job is in its life.
type JobStatus string

const (
	JobQueued  JobStatus = "queued"
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed" // gave up after its last attempt
)

// Job is durable background work: it survives restarts, and a job whose
// worker died is picked up again once its lease runs out.
type Job struct {
	ID          ID
	Kind        string
	Payload     []byte // JSON
	Status      JobStatus
	Attempts    int
	MaxAttempts int
	RunAt       time.Time
	LockedUntil time.Time
	LastError   string
	Progress    int // percent, for people watching
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// JobQueue is a durable queue of background jobs.
type JobQueue interface {
	Enqueue(ctx context.Context, j *Job) error // sets j.ID
	// Claim takes the next due job of one of kinds, or returns nil when none
	// is due. It counts an attempt and leases the job until now+lease.
	Claim(ctx context.Context, kinds []string, now time.Time, lease time.Duration) (*Job, error)
	// Heartbeat extends a running job's lease and records its progress.
	Heartbeat(ctx context.Context, id ID, until time.Time, progress int) error
	Complete(ctx context.Context, id ID, at time.Time) error
	// Retry puts a job back in the queue to run at runAt, or marks it
	// failed when it has used all its attempts.
	Retry(ctx context.Context, id ID, errMsg string, runAt time.Time) error
	// Fail marks a job failed for good, whatever attempts it has left: for
	// errors that retrying cannot fix.
	Fail(ctx context.Context, id ID, errMsg string, at time.Time) error
	JobByID(ctx context.Context, id ID) (*Job, error)
	// ActiveJobs lists queued and running jobs.
	ActiveJobs(ctx context.Context) ([]Job, error)
}

// Blob is an open stored file.
type Blob interface {
	io.ReadSeekCloser
	Size() int64
	ModTime() time.Time
}

// BlobStore keeps media files under slash-separated keys such as
// "tracks/7/hls/opus128/seg3.m4s". Keys never contain "..".
type BlobStore interface {
	// Put stores r under key atomically: readers see the old or the whole new file.
	Put(ctx context.Context, key string, r io.Reader) (int64, error)
	// Import moves a local file into the store under key (the file is gone after).
	Import(ctx context.Context, key, localPath string) error
	Open(ctx context.Context, key string) (Blob, error) // KindNotFound when missing
	Delete(ctx context.Context, key string) error
	// DeletePrefix removes every blob whose key starts with prefix + "/".
	DeletePrefix(ctx context.Context, prefix string) error
	// List lists the keys under prefix + "/", sorted.
	List(ctx context.Context, prefix string) ([]string, error)
}

// Probe is what the transcoder learned of a media file.
type Probe struct {
	Format     string // container, e.g. "flac", "mp3", "ogg", "mov,mp4,m4a,3gp,3g2,mj2", "wav"
	Codec      string // audio codec, e.g. "flac", "mp3", "vorbis", "opus", "aac", "pcm_s16le"
	DurationMS int64
	SampleRate int
	Channels   int
	BitRate    int64
	Tags       Tags
	HasCover   bool
}

// Rendition is one HLS variant of a track.
type Rendition struct {
	Name     string // directory and id, e.g. "opus128"
	Codec    string // "opus" or "aac"
	Codecs   string // RFC 6381 CODECS attribute, e.g. "opus", "mp4a.40.2"
	Bitrate  int    // bits per second
	Playlist string // path relative to the output directory, e.g. "opus128/index.m3u8"
}

// WaveformPeaks is how many peaks a track's waveform has.
const WaveformPeaks = 1000

// HLSOutput describes what the transcoder wrote to its output directory:
// master playlists ("master.m3u8" with every rendition, plus "opus.m3u8"
// and "aac.m3u8" with one codec each), a directory per rendition and a
// short MP3 preview ("preview.mp3", for servers that show attachments), and
// the waveform it measured on the way.
type HLSOutput struct {
	Renditions []Rendition
	SegmentMS  int64 // target segment duration
	// Peaks are WaveformPeaks waveform peaks, each 0–1000: the loudest
	// sample of each equal slice of the track.
	Peaks []int
}

// Transcoder turns uploaded audio into streamable media. It works on local
// files because the tools behind it do.
type Transcoder interface {
	// Probe reads format, duration and tags; KindUnsupported for non-audio.
	Probe(ctx context.Context, path string) (*Probe, error)
	// HLS writes every rendition of src into outDir and measures its
	// waveform, decoding src once, and reports progress in milliseconds of
	// audio done.
	HLS(ctx context.Context, src, outDir string, progress func(doneMS int64)) (*HLSOutput, error)
	// Cover writes the embedded cover art of src (or the image file src) as
	// "cover-600.jpg" and "cover-200.jpg" into outDir. It reports false when
	// src has no picture.
	Cover(ctx context.Context, src, outDir string) (bool, error)
}
