// Package nineten names the domain of 9ten, a federated fair-pay music
// service: its entities (users, artists, albums, tracks, listens) and the
// ports through which use cases reach storage, media tools and time.
//
// It imports only the standard library and does no I/O; implementations
// live in their own packages and are wired together in cmd/9ten.
package nineten

import "time"

// ID identifies a stored entity. IDs are positive and assigned by the store.
type ID int64

// Role is what a user may do on a node. Roles are ordered: an admin can do
// everything an artist can, and an artist everything a listener can.
type Role string

const (
	RoleListener Role = "listener"
	RoleArtist   Role = "artist"
	RoleAdmin    Role = "admin"
)

// Rank orders roles so that permission checks can compare them.
func (r Role) Rank() int {
	switch r {
	case RoleListener:
		return 1
	case RoleArtist:
		return 2
	case RoleAdmin:
		return 3
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.Rank() > 0 }

// User is an account on this node.
type User struct {
	ID          ID
	Username    string
	DisplayName string
	Bio         string // plain text about themselves, shown on their profile
	// Avatar and Header are the blob keys of the profile pictures (kept
	// by the picture use case), "" when there is none.
	Avatar, Header string
	PasswordHash   string
	Role           Role
	Disabled       bool
	CreatedAt      time.Time
	// DeletedAt is when the account was closed, zero while it is open. A
	// closed account keeps its row, its id and its username (see
	// UserStore.CloseAccount), nothing else of its person.
	DeletedAt time.Time
}

// Deleted reports whether the account was closed.
func (u *User) Deleted() bool { return !u.DeletedAt.IsZero() }

// Artist is a public artist profile, owned by one user.
type Artist struct {
	ID      ID
	OwnerID ID
	Name    string
	Slug    string
	Bio     string
	// Avatar and Header are the blob keys of the profile pictures, ""
	// when there is none.
	Avatar, Header string
	CreatedAt      time.Time
	// DeletedAt is when its owner's account was closed, zero while open;
	// a closed profile keeps its id and slug (its ledger account and
	// fediverse address), nothing else.
	DeletedAt time.Time
	// TrackCount counts the artist's playable tracks; filled by reads.
	TrackCount int
}

// ClosedArtistName is what a closed artist profile is called from then on:
// months paid before still list it (as where a listener's money went).
const ClosedArtistName = "Deleted artist"

// Deleted reports whether the artist's account was closed.
func (a *Artist) Deleted() bool { return !a.DeletedAt.IsZero() }

// ClosedAccount is what a closed account had published, as it was just
// before it was closed: what the node tells other servers to forget.
type ClosedAccount struct {
	User      User
	Artists   []Artist
	Tracks    []Track    // the artists' visible tracks
	Albums    []Album    // the artists' albums
	Playlists []Playlist // the user's public playlists
}

// Album groups an artist's tracks.
type Album struct {
	ID         ID
	ArtistID   ID
	ArtistName string
	Title      string
	Year       int
	Genre      string
	// CoverKey is the blob key prefix of the album's resized cover art, or
	// empty when the album has none.
	CoverKey   string
	CreatedAt  time.Time
	TrackCount int
}

// TrackStatus is where a track is in its life: uploaded tracks are
// processing until their media is ready, and only ready, unhidden tracks
// are visible to anyone but their owner and admins.
type TrackStatus string

const (
	TrackProcessing TrackStatus = "processing"
	TrackReady      TrackStatus = "ready"
	TrackFailed     TrackStatus = "failed"
)

// Track is one piece of music and the media derived from it.
type Track struct {
	ID          ID
	ArtistID    ID
	ArtistName  string
	AlbumID     ID // zero for a single outside any album
	AlbumTitle  string
	Title       string
	TrackNumber int
	Year        int
	Genre       string
	DurationMS  int64
	Status      TrackStatus
	// Error says why processing failed, in words for the artist.
	Error  string
	Hidden bool // hidden by an admin (moderation)

	Original  Original
	CoverKey  string // blob key prefix of resized cover art; empty when none
	MediaKey  string // blob key prefix under which HLS and waveform live
	PlayCount int64  // verified listens
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Visible reports whether the public may see and play the track.
func (t *Track) Visible() bool { return t.Status == TrackReady && !t.Hidden }

// Original describes the file the artist uploaded, kept for download.
type Original struct {
	Key      string // blob key
	Filename string // sanitized name offered on download
	MIMEType string
	Size     int64
	SHA256   string // hex
	Format   string // container format as probed, e.g. "flac"
	Codec    string // audio codec as probed, e.g. "flac", "mp3"
}

// Tags are the descriptive metadata of a track, as read from the file or
// edited by the artist.
type Tags struct {
	Title       string
	Artist      string
	Album       string
	TrackNumber int
	Year        int
	Genre       string
}

// Playlist is an ordered list of tracks that a listener made, public or
// private; or a copy of a public playlist published on another server by
// an actor someone here follows.
type Playlist struct {
	ID      ID
	OwnerID ID // the user who made it; zero for a copy of a remote playlist
	// OwnerName is the owner's username (a local playlist) or the remote
	// actor's handle (a copy), filled by reads.
	OwnerName   string
	IRI         string // a copy's ActivityPub id on its server; "" for a local playlist
	Actor       string // a copy's owner: the remote actor's IRI
	Title       string
	Description string
	Public      bool // a copy is always public: its server published it
	// ItemCount counts the items the playlist holds, tracks hidden since
	// they were added included. Filled by reads.
	ItemCount int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Local reports whether the playlist was made on this node.
func (p *Playlist) Local() bool { return p.OwnerID != 0 }

// PlaylistItem is one entry of a playlist: a track of this node, or a
// track published on another server, known by its ActivityPub id and what
// was said of it there. A playlist holds a track at most once, so that an
// item is named by its track alone, as ActivityPub's Add and Remove name
// what they add and remove.
type PlaylistItem struct {
	ID       ID
	Position int    // 0-based place in the playlist, filled by reads
	TrackID  ID     // a track of this node; zero for a remote one
	Track    *Track // that track, filled by reads
	Remote   RemoteItem
	AddedAt  time.Time
}

// Visible reports whether the public may see and play the item: a track of
// another server, or a visible track of this node (one hidden or still
// processing is kept in the playlist, but not shown).
func (it *PlaylistItem) Visible() bool {
	return it.TrackID == 0 || it.Track != nil && it.Track.Visible()
}

// RemoteItem is a track of another server as a playlist holds it.
type RemoteItem struct {
	IRI        string // the track's ActivityPub id (an Audio object)
	Title      string
	Artist     string // the artist's name
	DurationMS int64
	HLSURL     string // its HLS master playlist on that server; "" when none is known
	PageURL    string // its web page there
	CoverURL   string
}

// PlaylistChange is what happened to a public playlist, for those who
// tell others.
type PlaylistChange string

const (
	PlaylistPublished   PlaylistChange = "published"    // created public, or made public
	PlaylistUpdated     PlaylistChange = "updated"      // title or description edited, or items moved
	PlaylistItemAdded   PlaylistChange = "item_added"   // a track was appended
	PlaylistItemRemoved PlaylistChange = "item_removed" // a track was taken out
	PlaylistWithdrawn   PlaylistChange = "withdrawn"    // deleted, or made private
)
