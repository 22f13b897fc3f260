package server

import (
	"net/http"
	"time"

	nineten "nineten.dev"
	"nineten.dev/playlist"
)

// Playlists: listeners' own (the playlist use case) and the copies of
// those that actors they follow on other servers published (the
// federation).

type playlistJSON struct {
	ID          nineten.ID `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Public      bool       `json:"public"`
	// OwnerID is the owner's user id here; 0 for a playlist of another
	// server, whose owner is Owner (a handle) and whose ActivityPub id is
	// RemoteID.
	OwnerID   nineten.ID         `json:"owner_id"`
	Owner     string             `json:"owner"`
	RemoteID  string             `json:"remote_id,omitempty"`
	ItemCount int                `json:"item_count"`
	CreatedAt time.Time          `json:"created_at"`
	UpdatedAt time.Time          `json:"updated_at"`
	Items     []playlistItemJSON `json:"items,omitempty"`
}

// playlistItemJSON is a track of this node (track) or of another server
// (remote). Position counts every item the playlist holds, those the
// viewer does not see included: it is what a move names.
type playlistItemJSON struct {
	ID       nineten.ID      `json:"id"`
	Position int             `json:"position"`
	Track    *trackJSON      `json:"track"`
	Remote   *remoteItemJSON `json:"remote"`
	AddedAt  time.Time       `json:"added_at"`
}

// remoteItemJSON is a track of another server as a playlist holds it;
// its media stream from that server.
type remoteItemJSON struct {
	IRI        string `json:"id"`
	Title      string `json:"title"`
	Artist     string `json:"artist"`
	DurationMS int64  `json:"duration_ms"`
	HLSURL     string `json:"hls_url"`
	PageURL    string `json:"page_url"`
	CoverURL   string `json:"cover_url"`
}

type playlistPage struct {
	Items  []playlistJSON `json:"items"`
	Total  int            `json:"total"`
	Limit  int            `json:"limit"`
	Offset int            `json:"offset"`
}

type playlistInput struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Public      *bool   `json:"public"`
}

// playlistItemInput names the track to add: one of this node by its id,
// or one of another server by its ActivityPub id.
type playlistItemInput struct {
	TrackID  nineten.ID `json:"track_id,omitempty"`
	TrackIRI string     `json:"track_iri,omitempty"`
}

type playlistMoveInput struct {
	Position *int `json:"position"`
}

func toPlaylist(p *nineten.Playlist) playlistJSON {
	return playlistJSON{ID: p.ID, Title: p.Title, Description: p.Description, Public: p.Public, OwnerID: p.OwnerID,
		Owner: p.OwnerName, RemoteID: p.IRI, ItemCount: p.ItemCount, CreatedAt: p.CreatedAt, UpdatedAt: p.UpdatedAt}
}

func toPlaylistItem(it *nineten.PlaylistItem) playlistItemJSON {
	j := playlistItemJSON{ID: it.ID, Position: it.Position, AddedAt: it.AddedAt}
	if it.Track != nil {
		t := toTrack(it.Track)
		j.Track = &t
	} else {
		r := remoteItemJSON(it.Remote)
		j.Remote = &r
	}
	return j
}

func toPlaylistWithItems(p *nineten.Playlist, items []nineten.PlaylistItem) playlistJSON {
	j := toPlaylist(p)
	j.Items = make([]playlistItemJSON, 0, len(items))
	for i := range items {
		j.Items = append(j.Items, toPlaylistItem(&items[i]))
	}
	return j
}

func writePlaylists(w http.ResponseWriter, items []nineten.Playlist, total int, p nineten.Page) {
	out := playlistPage{Items: make([]playlistJSON, 0, len(items)), Total: total, Limit: p.Limit, Offset: p.Offset}
	for i := range items {
		out.Items = append(out.Items, toPlaylist(&items[i]))
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) createPlaylist(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	var in playlistInput
	if err := readJSON(w, r, &in); err != nil {
		return err
	}
	p, err := s.Playlists.Create(r.Context(), u, playlist.Edit(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPlaylist(p))
	return nil
}

func (s *Server) myPlaylists(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	items, total, err := s.Playlists.Mine(r.Context(), u, p)
	if err != nil {
		return err
	}
	writePlaylists(w, items, total, p)
	return nil
}

func (s *Server) userPlaylists(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	items, total, err := s.Playlists.OfUser(r.Context(), id, p)
	if err != nil {
		return err
	}
	writePlaylists(w, items, total, p)
	return nil
}

func (s *Server) getPlaylist(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	viewer, err := s.viewer(r)
	if err != nil {
		return err
	}
	p, items, err := s.Playlists.Get(r.Context(), viewer, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPlaylistWithItems(p, items))
	return nil
}

func (s *Server) patchPlaylist(w http.ResponseWriter, r *http.Request) error {
	var in playlistInput
	u, id, err := s.edit(w, r, &in)
	if err != nil {
		return err
	}
	p, err := s.Playlists.Update(r.Context(), u, id, playlist.Edit(in))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPlaylist(p))
	return nil
}

func (s *Server) deletePlaylist(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	if err := s.Playlists.Delete(r.Context(), u, id); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) addPlaylistItem(w http.ResponseWriter, r *http.Request) error {
	const op = "server.addPlaylistItem"
	var in playlistItemInput
	u, id, err := s.edit(w, r, &in)
	if err != nil {
		return err
	}
	var it *nineten.PlaylistItem
	switch {
	case (in.TrackID != 0) == (in.TrackIRI != ""):
		return nineten.E(op, nineten.KindInvalid, "give either track_id (a track of this node) or track_iri (the address of a track on another server)")
	case in.TrackID != 0:
		it, err = s.Playlists.AddTrack(r.Context(), u, id, in.TrackID)
	default:
		it, err = s.Playlists.AddRemoteTrack(r.Context(), u, id, in.TrackIRI)
	}
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, toPlaylistItem(it))
	return nil
}

func (s *Server) movePlaylistItem(w http.ResponseWriter, r *http.Request) error {
	var in playlistMoveInput
	u, id, err := s.edit(w, r, &in)
	if err != nil {
		return err
	}
	itemID, err := pathID(r, "item")
	if err != nil {
		return err
	}
	if in.Position == nil {
		return nineten.E("server.movePlaylistItem", nineten.KindInvalid, "give the position to move the track to (0 is first)")
	}
	items, err := s.Playlists.MoveItem(r.Context(), u, id, itemID, *in.Position)
	if err != nil {
		return err
	}
	p, _, err := s.Playlists.Get(r.Context(), u, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPlaylistWithItems(p, items))
	return nil
}

func (s *Server) deletePlaylistItem(w http.ResponseWriter, r *http.Request) error {
	u, err := s.requireUser(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	itemID, err := pathID(r, "item")
	if err != nil {
		return err
	}
	if err := s.Playlists.RemoveItem(r.Context(), u, id, itemID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) remotePlaylists(w http.ResponseWriter, r *http.Request) error {
	u, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	p, err := pageOf(r)
	if err != nil {
		return err
	}
	items, total, err := fed.RemotePlaylists(r.Context(), u, p)
	if err != nil {
		return err
	}
	writePlaylists(w, items, total, p)
	return nil
}

func (s *Server) remotePlaylist(w http.ResponseWriter, r *http.Request) error {
	u, fed, err := s.federatorFor(r)
	if err != nil {
		return err
	}
	id, err := pathID(r, "id")
	if err != nil {
		return err
	}
	p, items, err := fed.RemotePlaylist(r.Context(), u, id)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toPlaylistWithItems(p, items))
	return nil
}
