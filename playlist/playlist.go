// Package playlist is the use case of listeners' playlists: ordered lists
// of tracks, of this node or of other servers, that their owner makes,
// edits and shares (public) or keeps to themselves (private).
//
// Only the owner changes a playlist. A private playlist is visible to its
// owner alone: to anyone else it does not exist (not found, never
// "forbidden", which would tell that it does). A playlist holds a track
// once: adding it again is a conflict, so that an item is named by its
// track, as ActivityPub's Add and Remove name what they add and remove
// when the playlist federates.
package playlist

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	nineten "nineten.dev"
)

// Limits.
const (
	MaxTitle       = 200  // characters
	MaxDescription = 2000 // characters
	MaxItems       = 5000 // tracks in one playlist
	MaxPerUser     = 1000 // playlists of one user
)

// Service runs playlists.
type Service struct {
	Store nineten.Store
	Clock nineten.Clock
	// Changed is called after a public playlist changed, or stopped being
	// public (deleted or made private), to tell the owner's followers;
	// item is the item added or removed, with its track.
	Changed func(ctx context.Context, p *nineten.Playlist, c nineten.PlaylistChange, item *nineten.PlaylistItem)
	// Resolve looks up a track of another server by its ActivityPub id,
	// for adding it to a playlist; nil when the node does not federate.
	Resolve func(ctx context.Context, iri string) (*nineten.RemoteItem, error)
}

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return nineten.SystemClock{}.Now()
	}
	return s.Clock.Now()
}

func (s *Service) changed(ctx context.Context, p *nineten.Playlist, c nineten.PlaylistChange, item *nineten.PlaylistItem) {
	if s.Changed != nil {
		s.Changed(ctx, p, c, item)
	}
}

func needUser(op string, u *nineten.User) error {
	if u == nil {
		return nineten.E(op, nineten.KindUnauthenticated, "log in first")
	}
	if u.Disabled {
		return nineten.E(op, nineten.KindPermission, "this account is disabled")
	}
	return nil
}

func missing(op string, id nineten.ID) error {
	return nineten.E(op, nineten.KindNotFound, fmt.Sprintf("playlist %d does not exist", id))
}

// clean trims s, drops control characters (but newlines where multiline)
// and checks its length; field names the input for the error message.
func clean(op, field, s string, maxRunes int, required, multiline bool) (string, error) {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == '\n' && multiline {
			return r
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s))
	if required && s == "" {
		return "", nineten.E(op, nineten.KindInvalid, field+" is required")
	}
	if utf8.RuneCountInString(s) > maxRunes {
		return "", nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%s has at most %d characters", field, maxRunes))
	}
	return s, nil
}

// Edit holds the fields to set; nil fields stay as they are (on Create:
// an empty description, private).
type Edit struct {
	Title       *string
	Description *string
	Public      *bool
}

func (e Edit) apply(op string, p *nineten.Playlist) error {
	if e.Title != nil {
		t, err := clean(op, "the title", *e.Title, MaxTitle, true, false)
		if err != nil {
			return err
		}
		p.Title = t
	}
	if e.Description != nil {
		d, err := clean(op, "the description", *e.Description, MaxDescription, false, true)
		if err != nil {
			return err
		}
		p.Description = d
	}
	if e.Public != nil {
		p.Public = *e.Public
	}
	return nil
}

// Create makes a playlist of u's.
func (s *Service) Create(ctx context.Context, u *nineten.User, e Edit) (*nineten.Playlist, error) {
	const op = "playlist.Create"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	if e.Title == nil {
		return nil, nineten.E(op, nineten.KindInvalid, "the title is required")
	}
	now := s.now()
	p := &nineten.Playlist{OwnerID: u.ID, OwnerName: u.Username, CreatedAt: now, UpdatedAt: now}
	if err := e.apply(op, p); err != nil {
		return nil, err
	}
	err := s.Store.WithTx(ctx, func(tx nineten.Store) error {
		_, n, err := tx.ListPlaylists(ctx, nineten.PlaylistFilter{OwnerID: u.ID}, nineten.Page{Limit: 1})
		if err != nil {
			return err
		}
		if n >= MaxPerUser {
			return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("you have %d playlists, the most one account may have: delete one first", n))
		}
		return tx.CreatePlaylist(ctx, p)
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if p.Public {
		s.changed(ctx, p, nineten.PlaylistPublished, nil)
	}
	return p, nil
}

// visible reports whether viewer may see p: its owner always, others a
// public playlist of an account that is not disabled.
func (s *Service) visible(ctx context.Context, viewer *nineten.User, p *nineten.Playlist) (bool, error) {
	if !p.Local() {
		return false, nil // copies of remote playlists are the federation's
	}
	if viewer != nil && !viewer.Disabled && viewer.ID == p.OwnerID {
		return true, nil
	}
	if !p.Public {
		return false, nil
	}
	owner, err := s.Store.UserByID(ctx, p.OwnerID)
	if err != nil {
		return false, err
	}
	return !owner.Disabled, nil
}

// Get returns a playlist the viewer may see with its items in order;
// tracks of this node that nobody may play now (hidden or withdrawn since
// they were added) are left out, and the others keep their positions.
func (s *Service) Get(ctx context.Context, viewer *nineten.User, id nineten.ID) (*nineten.Playlist, []nineten.PlaylistItem, error) {
	const op = "playlist.Get"
	p, err := s.Store.PlaylistByID(ctx, id)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil, nil, missing(op, id)
	}
	if err != nil {
		return nil, nil, nineten.E(op, err)
	}
	if ok, err := s.visible(ctx, viewer, p); err != nil || !ok {
		if err != nil {
			return nil, nil, nineten.E(op, err)
		}
		return nil, nil, missing(op, id)
	}
	items, err := s.Store.PlaylistItems(ctx, id)
	if err != nil {
		return nil, nil, nineten.E(op, err)
	}
	return p, visible(items), nil
}

// visible keeps the items anyone may see.
func visible(items []nineten.PlaylistItem) []nineten.PlaylistItem {
	return slices.DeleteFunc(items, func(it nineten.PlaylistItem) bool { return !it.Visible() })
}

// Mine lists u's playlists, public and private.
func (s *Service) Mine(ctx context.Context, u *nineten.User, p nineten.Page) ([]nineten.Playlist, int, error) {
	if err := needUser("playlist.Mine", u); err != nil {
		return nil, 0, err
	}
	return s.Store.ListPlaylists(ctx, nineten.PlaylistFilter{OwnerID: u.ID}, p)
}

// OfUser lists the public playlists of a user; a disabled account has
// none to show.
func (s *Service) OfUser(ctx context.Context, ownerID nineten.ID, p nineten.Page) ([]nineten.Playlist, int, error) {
	const op = "playlist.OfUser"
	owner, err := s.Store.UserByID(ctx, ownerID)
	if err != nil || owner.Disabled {
		if err == nil || nineten.ErrorKind(err) == nineten.KindNotFound {
			return nil, 0, nineten.E(op, nineten.KindNotFound, fmt.Sprintf("user %d does not exist", ownerID))
		}
		return nil, 0, nineten.E(op, err)
	}
	return s.Store.ListPlaylists(ctx, nineten.PlaylistFilter{OwnerID: ownerID, PublicOnly: true}, p)
}

// owned returns the playlist id of u's, in tx, or the error to answer:
// not found when u may not see it, a permission error when u sees it
// but is not its owner.
func (s *Service) owned(ctx context.Context, tx nineten.Store, op string, u *nineten.User, id nineten.ID) (*nineten.Playlist, error) {
	p, err := tx.PlaylistByID(ctx, id)
	if nineten.ErrorKind(err) == nineten.KindNotFound {
		return nil, missing(op, id)
	}
	if err != nil {
		return nil, err
	}
	if p.Local() && p.OwnerID == u.ID {
		return p, nil
	}
	if ok, err := s.visible(ctx, u, p); err != nil || !ok {
		if err != nil {
			return nil, err
		}
		return nil, missing(op, id)
	}
	return nil, nineten.E(op, nineten.KindPermission, "only the playlist's owner may change it")
}

// Update edits a playlist's title, description or visibility. Made
// private, it is withdrawn from the owner's followers; made public, it is
// published to them.
func (s *Service) Update(ctx context.Context, u *nineten.User, id nineten.ID, e Edit) (*nineten.Playlist, error) {
	const op = "playlist.Update"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	var p *nineten.Playlist
	var before nineten.Playlist
	err := s.Store.WithTx(ctx, func(tx nineten.Store) error {
		var err error
		if p, err = s.owned(ctx, tx, op, u, id); err != nil {
			return err
		}
		before = *p
		if err := e.apply(op, p); err != nil {
			return err
		}
		if *p == before {
			return nil
		}
		p.UpdatedAt = s.now()
		return tx.UpdatePlaylist(ctx, p)
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	switch {
	case before.Public && !p.Public:
		s.changed(ctx, &before, nineten.PlaylistWithdrawn, nil)
	case !before.Public && p.Public:
		s.changed(ctx, p, nineten.PlaylistPublished, nil)
	case p.Public && (p.Title != before.Title || p.Description != before.Description):
		s.changed(ctx, p, nineten.PlaylistUpdated, nil)
	}
	return p, nil
}

// Delete deletes a playlist of u's.
func (s *Service) Delete(ctx context.Context, u *nineten.User, id nineten.ID) error {
	const op = "playlist.Delete"
	if err := needUser(op, u); err != nil {
		return err
	}
	var p *nineten.Playlist
	err := s.Store.WithTx(ctx, func(tx nineten.Store) error {
		var err error
		if p, err = s.owned(ctx, tx, op, u, id); err != nil {
			return err
		}
		return tx.DeletePlaylist(ctx, id)
	})
	if err != nil {
		return nineten.E(op, err)
	}
	if p.Public {
		s.changed(ctx, p, nineten.PlaylistWithdrawn, nil)
	}
	return nil
}

// AddTrack appends a track of this node that anyone may play.
func (s *Service) AddTrack(ctx context.Context, u *nineten.User, id, trackID nineten.ID) (*nineten.PlaylistItem, error) {
	const op = "playlist.AddTrack"
	return s.add(ctx, op, u, id, func(tx nineten.Store) (*nineten.PlaylistItem, error) {
		t, err := tx.TrackByID(ctx, trackID)
		if err != nil || !t.Visible() {
			if err == nil || nineten.ErrorKind(err) == nineten.KindNotFound {
				return nil, nineten.E(op, nineten.KindNotFound, fmt.Sprintf("track %d does not exist", trackID))
			}
			return nil, err
		}
		return &nineten.PlaylistItem{TrackID: t.ID, Track: t}, nil
	})
}

// AddRemoteTrack appends a track of another server, named by its
// ActivityPub id: what the playlist shows of it (title, artist, stream)
// comes from that server, not from the one who adds it.
func (s *Service) AddRemoteTrack(ctx context.Context, u *nineten.User, id nineten.ID, iri string) (*nineten.PlaylistItem, error) {
	const op = "playlist.AddRemoteTrack"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	if s.Resolve == nil {
		return nil, nineten.E(op, nineten.KindUnavailable, "this node does not federate: only its own tracks can be added")
	}
	if v, err := url.Parse(iri); err != nil || (v.Scheme != "https" && v.Scheme != "http") || v.Host == "" {
		return nil, nineten.E(op, nineten.KindInvalid, "give the address (ActivityPub id) of a track on another server")
	}
	// Fetched before the transaction: it may take a while, and a
	// transaction may run more than once.
	r, err := s.Resolve(ctx, iri)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	return s.add(ctx, op, u, id, func(nineten.Store) (*nineten.PlaylistItem, error) {
		return &nineten.PlaylistItem{Remote: *r}, nil
	})
}

// add appends the item that item makes to a playlist of u's.
func (s *Service) add(ctx context.Context, op string, u *nineten.User, id nineten.ID, item func(tx nineten.Store) (*nineten.PlaylistItem, error)) (*nineten.PlaylistItem, error) {
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	var p *nineten.Playlist
	var it *nineten.PlaylistItem
	err := s.Store.WithTx(ctx, func(tx nineten.Store) error {
		var err error
		if p, err = s.owned(ctx, tx, op, u, id); err != nil {
			return err
		}
		if p.ItemCount >= MaxItems {
			return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("a playlist holds at most %d tracks: remove some, or start another playlist", MaxItems))
		}
		if it, err = item(tx); err != nil {
			return err
		}
		it.AddedAt = s.now()
		if err := tx.AddPlaylistItem(ctx, id, it); err != nil {
			if nineten.ErrorKind(err) == nineten.KindConflict {
				return nineten.E(op, nineten.KindConflict, "this track is in the playlist already", err)
			}
			return err
		}
		p.UpdatedAt = it.AddedAt
		return tx.UpdatePlaylist(ctx, p)
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if p.Public {
		s.changed(ctx, p, nineten.PlaylistItemAdded, it)
	}
	return it, nil
}

// RemoveItem takes an item out of a playlist of u's.
func (s *Service) RemoveItem(ctx context.Context, u *nineten.User, id, itemID nineten.ID) error {
	const op = "playlist.RemoveItem"
	if err := needUser(op, u); err != nil {
		return err
	}
	var p *nineten.Playlist
	var removed *nineten.PlaylistItem
	err := s.Store.WithTx(ctx, func(tx nineten.Store) error {
		var err error
		if p, err = s.owned(ctx, tx, op, u, id); err != nil {
			return err
		}
		if removed, err = item(ctx, tx, op, id, itemID); err != nil {
			return err
		}
		if err := tx.RemovePlaylistItem(ctx, id, itemID); err != nil {
			return err
		}
		p.UpdatedAt = s.now()
		return tx.UpdatePlaylist(ctx, p)
	})
	if err != nil {
		return nineten.E(op, err)
	}
	if p.Public {
		s.changed(ctx, p, nineten.PlaylistItemRemoved, removed)
	}
	return nil
}

// item returns an item of a playlist, or a not-found error.
func item(ctx context.Context, tx nineten.Store, op string, id, itemID nineten.ID) (*nineten.PlaylistItem, error) {
	items, err := tx.PlaylistItems(ctx, id)
	if err != nil {
		return nil, err
	}
	for i := range items {
		if items[i].ID == itemID {
			return &items[i], nil
		}
	}
	return nil, nineten.E(op, nineten.KindNotFound, fmt.Sprintf("playlist %d has no item %d", id, itemID))
}

// MoveItem moves an item of a playlist of u's to position (0-based among
// all its items; past the end means last), and returns the items in their
// new order.
func (s *Service) MoveItem(ctx context.Context, u *nineten.User, id, itemID nineten.ID, position int) ([]nineten.PlaylistItem, error) {
	const op = "playlist.MoveItem"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	var p *nineten.Playlist
	var items []nineten.PlaylistItem
	moved := false
	err := s.Store.WithTx(ctx, func(tx nineten.Store) error {
		var err error
		if p, err = s.owned(ctx, tx, op, u, id); err != nil {
			return err
		}
		it, err := item(ctx, tx, op, id, itemID)
		if err != nil {
			return err
		}
		if err := tx.MovePlaylistItem(ctx, id, itemID, position); err != nil {
			return err
		}
		if items, err = tx.PlaylistItems(ctx, id); err != nil {
			return err
		}
		if moved = items[it.Position].ID != itemID; !moved {
			return nil
		}
		p.UpdatedAt = s.now()
		return tx.UpdatePlaylist(ctx, p)
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if p.Public && moved {
		s.changed(ctx, p, nineten.PlaylistUpdated, nil)
	}
	return visible(items), nil
}
