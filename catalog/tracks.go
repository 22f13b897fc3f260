package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	nineten "nineten.dev"
)

// mayManage reports whether u may see and change a track beyond what the
// public sees: its artist's owner, or an admin.
func (s *Service) mayManage(ctx context.Context, u *nineten.User, t *nineten.Track) bool {
	if u == nil || u.Disabled {
		return false
	}
	if isAdmin(u) {
		return true
	}
	a, err := s.Store.ArtistByID(ctx, t.ArtistID)
	return err == nil && a.OwnerID == u.ID
}

// Track returns a track the viewer may see: visible tracks for everyone,
// any track of theirs for owners, everything for admins.
func (s *Service) Track(ctx context.Context, viewer *nineten.User, id nineten.ID) (*nineten.Track, error) {
	t, err := s.Store.TrackByID(ctx, id)
	if err != nil {
		return nil, err
	}
	if !t.Visible() && !s.mayManage(ctx, viewer, t) {
		return nil, nineten.E("catalog.Track", nineten.KindNotFound, fmt.Sprintf("track %d does not exist", id))
	}
	return t, nil
}

// MayManage tells whether viewer may manage the track (to show processing
// details and edit controls).
func (s *Service) MayManage(ctx context.Context, viewer *nineten.User, t *nineten.Track) bool {
	return s.mayManage(ctx, viewer, t)
}

// Tracks lists tracks. Only admins may list hidden or unfinished tracks of
// everyone (f.All); others get visible tracks.
func (s *Service) Tracks(ctx context.Context, viewer *nineten.User, f nineten.TrackFilter, p nineten.Page) ([]nineten.Track, int, error) {
	if f.All && !isAdmin(viewer) {
		f.All = false
	}
	f.Query = strings.TrimSpace(f.Query)
	return s.Store.ListTracks(ctx, f, p)
}

// OwnTracks lists all tracks of the artists u owns, in every status.
func (s *Service) OwnTracks(ctx context.Context, u *nineten.User, p nineten.Page) ([]nineten.Track, int, error) {
	if err := needUser("catalog.OwnTracks", u); err != nil {
		return nil, 0, err
	}
	return s.Store.ListTracks(ctx, nineten.TrackFilter{OwnerID: u.ID, All: true}, p)
}

// Album returns an album with its visible tracks in order.
func (s *Service) Album(ctx context.Context, id nineten.ID) (*nineten.Album, []nineten.Track, error) {
	a, err := s.Store.AlbumByID(ctx, id)
	if err != nil {
		return nil, nil, err
	}
	tracks, _, err := s.Store.ListTracks(ctx, nineten.TrackFilter{AlbumID: id}, nineten.Page{Limit: 200})
	if err != nil {
		return nil, nil, err
	}
	return a, tracks, nil
}

// Albums lists albums, of one artist when artistID is set.
func (s *Service) Albums(ctx context.Context, artistID nineten.ID, p nineten.Page) ([]nineten.Album, int, error) {
	return s.Store.ListAlbums(ctx, artistID, p)
}

// TrackEdit holds the fields to change; nil fields stay as they are.
type TrackEdit struct {
	Title       *string
	Album       *string // moves the track to the artist's album of that title ("" = no album)
	TrackNumber *int
	Year        *int
	Genre       *string
	Hidden      *bool // admins only
}

// UpdateTrack edits a track's tags; its owner or an admin only. Hiding
// and unhiding is for admins (moderation).
func (s *Service) UpdateTrack(ctx context.Context, u *nineten.User, id nineten.ID, e TrackEdit) (*nineten.Track, error) {
	const op = "catalog.UpdateTrack"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	var out *nineten.Track
	var wasVisible bool
	err := s.Store.WithTx(ctx, func(tx nineten.Store) error {
		t, err := tx.TrackByID(ctx, id)
		if err != nil {
			return err
		}
		wasVisible = t.Visible()
		if !s.mayManage(ctx, u, t) {
			if t.Visible() {
				return nineten.E(op, nineten.KindPermission, "only the track's artist or an admin may edit it")
			}
			return nineten.E(op, nineten.KindNotFound, fmt.Sprintf("track %d does not exist", id))
		}
		if e.Hidden != nil {
			if !isAdmin(u) {
				return nineten.E(op, nineten.KindPermission, "only admins hide or unhide tracks")
			}
			t.Hidden = *e.Hidden
		}
		if err := applyTags(op, t, e); err != nil {
			return err
		}
		if e.Album != nil {
			title, err := cleanText(op, "the album title", *e.Album, 200, false)
			if err != nil {
				return err
			}
			album, err := findOrCreateAlbum(ctx, tx, t.ArtistID, nineten.Tags{Album: title, Year: t.Year, Genre: t.Genre}, s.now())
			if err != nil {
				return err
			}
			t.AlbumID, t.AlbumTitle = 0, ""
			if album != nil {
				t.AlbumID, t.AlbumTitle = album.ID, album.Title
			}
		}
		t.UpdatedAt = s.now()
		if err := tx.UpdateTrack(ctx, t); err != nil {
			return err
		}
		out = t
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	t, err := s.Store.TrackByID(ctx, out.ID)
	if err != nil {
		return nil, err
	}
	switch {
	case wasVisible && !t.Visible():
		s.changed(ctx, t, nineten.TrackWithdrawn)
	case !wasVisible && t.Visible():
		s.changed(ctx, t, nineten.TrackPublished)
	case t.Visible():
		s.changed(ctx, t, nineten.TrackUpdated)
	}
	return t, nil
}

func applyTags(op string, t *nineten.Track, e TrackEdit) error {
	if err := errors.Join(
		editText(op, "the title", &t.Title, e.Title, 200, true),
		editText(op, "the genre", &t.Genre, e.Genre, 64, false),
	); err != nil {
		return err
	}
	if e.TrackNumber != nil {
		if *e.TrackNumber < 0 || *e.TrackNumber > 999 {
			return nineten.E(op, nineten.KindInvalid, "the track number is between 0 and 999")
		}
		t.TrackNumber = *e.TrackNumber
	}
	if e.Year != nil {
		if err := checkYear(op, *e.Year); err != nil {
			return err
		}
		t.Year = *e.Year
	}
	return nil
}

// findOrCreateAlbum returns the artist's album titled tags.Album, creating
// it when needed; nil when the title is empty (a single).
func findOrCreateAlbum(ctx context.Context, tx nineten.Store, artistID nineten.ID, tags nineten.Tags, now time.Time) (*nineten.Album, error) {
	if tags.Album == "" {
		return nil, nil
	}
	a, err := tx.AlbumByTitle(ctx, artistID, tags.Album)
	if err == nil || nineten.ErrorKind(err) != nineten.KindNotFound {
		return a, err
	}
	a = &nineten.Album{ArtistID: artistID, Title: tags.Album, Year: tags.Year, Genre: tags.Genre, CreatedAt: now}
	return a, tx.CreateAlbum(ctx, a)
}

// DeleteTrack removes a track and its media; its owner or an admin only.
func (s *Service) DeleteTrack(ctx context.Context, u *nineten.User, id nineten.ID) error {
	const op = "catalog.DeleteTrack"
	if err := needUser(op, u); err != nil {
		return err
	}
	t, err := s.Store.TrackByID(ctx, id)
	if err != nil {
		return nineten.E(op, err)
	}
	if !s.mayManage(ctx, u, t) {
		if t.Visible() {
			return nineten.E(op, nineten.KindPermission, "only the track's artist or an admin may delete it")
		}
		return nineten.E(op, nineten.KindNotFound, fmt.Sprintf("track %d does not exist", id))
	}
	if err := s.Store.DeleteTrack(ctx, id); err != nil {
		return nineten.E(op, err)
	}
	if t.Visible() {
		s.changed(ctx, t, nineten.TrackWithdrawn)
	}
	// The row is gone first, so nobody is sent to missing media; files a
	// failure leaves behind are removed by Sweep.
	if err := s.Blobs.DeletePrefix(ctx, trackPrefix(id)); err != nil {
		s.log().Warn("deleting track media failed; sweep will retry", "track", id, "err", err)
	}
	s.removeScratch(id)
	return nil
}

func trackPrefix(id nineten.ID) string { return fmt.Sprintf("tracks/%d", id) }

// AlbumEdit holds the album fields to change; nil fields stay as they are.
type AlbumEdit struct {
	Title *string
	Year  *int
	Genre *string
}

// editableAlbum returns an album that u may change: its artist's owner
// or an admin.
func (s *Service) editableAlbum(ctx context.Context, op string, u *nineten.User, id nineten.ID) (*nineten.Album, error) {
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	a, err := s.Store.AlbumByID(ctx, id)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	artist, err := s.Store.ArtistByID(ctx, a.ArtistID)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if !mayEdit(u, artist) {
		return nil, nineten.E(op, nineten.KindPermission, "only the album's artist or an admin may change it")
	}
	return a, nil
}

// UpdateAlbum edits an album; its artist's owner or an admin only.
func (s *Service) UpdateAlbum(ctx context.Context, u *nineten.User, id nineten.ID, e AlbumEdit) (*nineten.Album, error) {
	const op = "catalog.UpdateAlbum"
	a, err := s.editableAlbum(ctx, op, u, id)
	if err != nil {
		return nil, err
	}
	if err := errors.Join(
		editText(op, "the album title", &a.Title, e.Title, 200, true),
		editText(op, "the genre", &a.Genre, e.Genre, 64, false),
	); err != nil {
		return nil, err
	}
	if e.Year != nil {
		if err := checkYear(op, *e.Year); err != nil {
			return nil, err
		}
		a.Year = *e.Year
	}
	if err := s.Store.UpdateAlbum(ctx, a); err != nil {
		return nil, nineten.E(op, err)
	}
	if s.AlbumChanged != nil {
		s.AlbumChanged(ctx, a)
	}
	return a, nil
}

// ProcessingJobs maps tracks being processed to their jobs, for showing
// progress to their artists.
func (s *Service) ProcessingJobs(ctx context.Context) (map[nineten.ID]nineten.Job, error) {
	active, err := s.Store.ActiveJobs(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[nineten.ID]nineten.Job)
	for _, j := range active {
		var in processPayload
		if j.Kind == JobProcessTrack && json.Unmarshal(j.Payload, &in) == nil {
			out[in.TrackID] = j
		}
	}
	return out, nil
}
