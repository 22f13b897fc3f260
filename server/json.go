package server

import (
	"fmt"
	"time"

	nineten "nineten.dev"
)

// The JSON shapes of the API. They are the single source of the OpenAPI
// document's schemas, so the published document cannot drift from them.

type userJSON struct {
	ID          nineten.ID `json:"id"`
	Username    string     `json:"username"`
	DisplayName string     `json:"display_name"`
	Bio         string     `json:"bio"`
	// AvatarURL and HeaderURL are the profile pictures, null when none.
	AvatarURL *string   `json:"avatar_url"`
	HeaderURL *string   `json:"header_url"`
	Role      string    `json:"role"`
	Disabled  bool      `json:"disabled"`
	CreatedAt time.Time `json:"created_at"`
	// DeletedAt is when the account was closed; absent while it is open.
	DeletedAt *time.Time `json:"deleted_at,omitempty"`
}

func toUser(u *nineten.User) userJSON {
	j := userJSON{ID: u.ID, Username: u.Username, DisplayName: u.DisplayName, Bio: u.Bio, AvatarURL: pictureURL(u.Avatar), HeaderURL: pictureURL(u.Header), Role: string(u.Role), Disabled: u.Disabled, CreatedAt: u.CreatedAt}
	if u.Deleted() {
		at := u.DeletedAt
		j.DeletedAt = &at
	}
	return j
}

// profileInput edits one's profile; absent fields stay as they are.
type profileInput struct {
	DisplayName *string `json:"display_name"`
	Bio         *string `json:"bio"`
}

// closeInput confirms closing one's own account.
type closeInput struct {
	Password string `json:"password"`
}

// closedPayoutInput is the reference of a payment an admin made of a
// closed account's money.
type closedPayoutInput struct {
	Ref string `json:"ref"`
}

type moneyTxList struct {
	Items []moneyTxJSON `json:"items"`
}

type artistJSON struct {
	ID         nineten.ID `json:"id"`
	Name       string     `json:"name"`
	Slug       string     `json:"slug"`
	Bio        string     `json:"bio"`
	AvatarURL  *string    `json:"avatar_url"`
	HeaderURL  *string    `json:"header_url"`
	OwnerID    nineten.ID `json:"owner_id"`
	TrackCount int        `json:"track_count"`
	CreatedAt  time.Time  `json:"created_at"`
}

func toArtist(a *nineten.Artist) artistJSON {
	return artistJSON{a.ID, a.Name, a.Slug, a.Bio, pictureURL(a.Avatar), pictureURL(a.Header), a.OwnerID, a.TrackCount, a.CreatedAt}
}

type albumJSON struct {
	ID         nineten.ID  `json:"id"`
	Title      string      `json:"title"`
	Artist     string      `json:"artist"`
	ArtistID   nineten.ID  `json:"artist_id"`
	Year       int         `json:"year"`
	Genre      string      `json:"genre"`
	CoverURL   *string     `json:"cover_url"`
	TrackCount int         `json:"track_count"`
	Tracks     []trackJSON `json:"tracks,omitempty"`
}

func toAlbum(a *nineten.Album) albumJSON {
	j := albumJSON{ID: a.ID, Title: a.Title, Artist: a.ArtistName, ArtistID: a.ArtistID, Year: a.Year, Genre: a.Genre, TrackCount: a.TrackCount}
	if a.CoverKey != "" {
		u := fmt.Sprintf("/media/albums/%d/cover-600.jpg", a.ID)
		j.CoverURL = &u
	}
	return j
}

type originalJSON struct {
	Filename string `json:"filename"`
	MIMEType string `json:"mime_type"`
	Size     int64  `json:"size"`
	Format   string `json:"format"`
	Codec    string `json:"codec"`
	SHA256   string `json:"sha256"`
}

type jobJSON struct {
	ID        nineten.ID `json:"id"`
	Kind      string     `json:"kind"`
	Status    string     `json:"status"`
	Progress  int        `json:"progress"`
	Attempts  int        `json:"attempts"`
	LastError string     `json:"last_error"`
	TrackID   nineten.ID `json:"track_id,omitempty"`
}

type trackJSON struct {
	ID          nineten.ID   `json:"id"`
	Title       string       `json:"title"`
	Artist      string       `json:"artist"`
	ArtistID    nineten.ID   `json:"artist_id"`
	Album       string       `json:"album"`
	AlbumID     *nineten.ID  `json:"album_id"`
	TrackNumber int          `json:"track_number"`
	Year        int          `json:"year"`
	Genre       string       `json:"genre"`
	DurationMS  int64        `json:"duration_ms"`
	Status      string       `json:"status"`
	Error       string       `json:"error,omitempty"`
	Hidden      bool         `json:"hidden"`
	PlayCount   int64        `json:"play_count"`
	CoverURL    *string      `json:"cover_url"`
	HLSURL      string       `json:"hls_url"`
	HLSOpusURL  string       `json:"hls_opus_url"`
	HLSAACURL   string       `json:"hls_aac_url"`
	OriginalURL string       `json:"original_url"`
	PreviewURL  string       `json:"preview_url"`
	WaveformURL string       `json:"waveform_url"`
	CreatedAt   time.Time    `json:"created_at"`
	Original    originalJSON `json:"original"`
	Job         *jobJSON     `json:"job,omitempty"`
}

func toTrack(t *nineten.Track) trackJSON {
	base := fmt.Sprintf("/media/tracks/%d", t.ID)
	j := trackJSON{
		ID: t.ID, Title: t.Title, Artist: t.ArtistName, ArtistID: t.ArtistID, Album: t.AlbumTitle,
		TrackNumber: t.TrackNumber, Year: t.Year, Genre: t.Genre, DurationMS: t.DurationMS,
		Status: string(t.Status), Error: t.Error, Hidden: t.Hidden, PlayCount: t.PlayCount,
		HLSURL: base + "/hls/master.m3u8", HLSOpusURL: base + "/hls/opus.m3u8", HLSAACURL: base + "/hls/aac.m3u8",
		OriginalURL: base + "/original", PreviewURL: base + "/hls/preview.mp3", WaveformURL: base + "/waveform.json", CreatedAt: t.CreatedAt,
		Original: originalJSON{t.Original.Filename, t.Original.MIMEType, t.Original.Size, t.Original.Format, t.Original.Codec, t.Original.SHA256},
	}
	if t.AlbumID != 0 {
		id := t.AlbumID
		j.AlbumID = &id
	}
	if t.CoverKey != "" {
		u := base + "/cover-600.jpg"
		j.CoverURL = &u
	}
	return j
}

func toTracks(ts []nineten.Track) []trackJSON {
	out := make([]trackJSON, len(ts))
	for i := range ts {
		out[i] = toTrack(&ts[i])
	}
	return out
}

type trackPage struct {
	Items  []trackJSON `json:"items"`
	Total  int         `json:"total"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
}

type artistPage struct {
	Items  []artistJSON `json:"items"`
	Total  int          `json:"total"`
	Limit  int          `json:"limit"`
	Offset int          `json:"offset"`
}

type albumPage struct {
	Items  []albumJSON `json:"items"`
	Total  int         `json:"total"`
	Limit  int         `json:"limit"`
	Offset int         `json:"offset"`
}

type userPage struct {
	Items  []userJSON `json:"items"`
	Total  int        `json:"total"`
	Limit  int        `json:"limit"`
	Offset int        `json:"offset"`
}

type meJSON struct {
	User    userJSON     `json:"user"`
	Artists []artistJSON `json:"artists"`
}

type userEnvelope struct {
	User userJSON `json:"user"`
}

type trackEnvelope struct {
	Track trackJSON `json:"track"`
}

// listenJSON is a listen of a track here (track) or of another server
// (remote).
type listenJSON struct {
	Track     *trackJSON        `json:"track,omitempty"`
	Remote    *remoteListenJSON `json:"remote,omitempty"`
	StartedAt time.Time         `json:"started_at"`
	HeardMS   int64             `json:"heard_ms"`
}

// remoteListenJSON is a track of another server played through this node.
type remoteListenJSON struct {
	ID         string `json:"id"` // its ActivityPub id
	Title      string `json:"title"`
	Artist     string `json:"artist"`
	ArtistID   string `json:"artist_id"` // the artist's ActivityPub id
	PageURL    string `json:"page_url"`
	DurationMS int64  `json:"duration_ms"`
	// Payee is the artist's account its plays pay: "<node>/<artist id>".
	Payee string `json:"payee"`
}

type listenList struct {
	Items []listenJSON `json:"items"`
}

type jobList struct {
	Items []jobJSON `json:"items"`
}

type tokenJSON struct {
	ID        nineten.ID `json:"id"`
	Name      string     `json:"name"`
	CreatedAt time.Time  `json:"created_at"`
	LastUsed  *time.Time `json:"last_used_at"`
	// Token is the secret itself, shown once when it is created.
	Token string `json:"token,omitempty"`
}

type tokenList struct {
	Items []tokenJSON `json:"items"`
}

// Request bodies.

type credentials struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name,omitempty"`
}

type artistInput struct {
	Name *string `json:"name"`
	Bio  *string `json:"bio"`
}

type albumInput struct {
	Title *string `json:"title"`
	Year  *int    `json:"year"`
	Genre *string `json:"genre"`
}

type trackInput struct {
	Title       *string `json:"title"`
	Album       *string `json:"album"`
	TrackNumber *int    `json:"track_number"`
	Year        *int    `json:"year"`
	Genre       *string `json:"genre"`
	Hidden      *bool   `json:"hidden"`
}

type userInput struct {
	Disabled *bool   `json:"disabled"`
	Role     *string `json:"role"`
}

type tokenInput struct {
	Name string `json:"name"`
}

type listenStart struct {
	TrackID nineten.ID `json:"track_id,omitempty"`
	// TrackIRI names a track of another server instead, played through
	// this node (logged-in listeners only): the answer's hls_url streams it.
	TrackIRI string `json:"track_iri,omitempty"`
}

type uploadForm struct {
	File     string     `json:"file" format:"binary"`
	ArtistID nineten.ID `json:"artist_id,omitempty"`
}

type remoteActorJSON struct {
	ID     string `json:"id"`
	Handle string `json:"handle"`
	Name   string `json:"name"`
	// IconURL and ImageURL are the actor's avatar and header on its server
	// ("" for none), linked rather than fetched here (see the README).
	IconURL  string `json:"icon_url,omitempty"`
	ImageURL string `json:"image_url,omitempty"`
}

func toRemoteActor(a *nineten.RemoteActor) remoteActorJSON {
	return remoteActorJSON{ID: a.IRI, Handle: a.Handle, Name: a.Name, IconURL: a.Icon, ImageURL: a.Image}
}

type followingJSON struct {
	ID    nineten.ID      `json:"id"`
	Actor remoteActorJSON `json:"actor"`
	State string          `json:"state"`
	Since time.Time       `json:"since"`
}

type followingList struct {
	Items []followingJSON `json:"items"`
}

type followInput struct {
	Handle string `json:"handle"`
}

type feedItemJSON struct {
	Type      string          `json:"type"`
	Actor     remoteActorJSON `json:"actor"`
	Object    string          `json:"object"`
	URL       string          `json:"url"`
	Title     string          `json:"title"`
	Text      string          `json:"text"`
	Published time.Time       `json:"published"`
}

type feedList struct {
	Items []feedItemJSON `json:"items"`
}

type domainBlockJSON struct {
	Host      string    `json:"host"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

type domainBlockList struct {
	Items []domainBlockJSON `json:"items"`
}

type domainBlockInput struct {
	Host   string `json:"host"`
	Reason string `json:"reason,omitempty"`
}

type remoteTrackJSON struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Album       string    `json:"album"`
	Genre       string    `json:"genre"`
	DurationMS  int64     `json:"duration_ms"`
	PageURL     string    `json:"page_url"`
	HLSURL      string    `json:"hls_url"`
	OriginalURL string    `json:"original_url"`
	CoverURL    string    `json:"cover_url"`
	Published   time.Time `json:"published"`
}

type catalogueJSON struct {
	Actor  remoteActorJSON   `json:"actor"`
	Tracks []remoteTrackJSON `json:"tracks"`
}
