// Package catalog is the use case of music on a node: artist profiles,
// albums and tracks, uploads and their processing into streamable media,
// browsing, search, and who may change what.
package catalog

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	nineten "nineten.dev"
)

// Service runs the catalog. Zero values of optional fields get defaults.
type Service struct {
	Store      nineten.Store
	Blobs      nineten.BlobStore
	Transcoder nineten.Transcoder
	Clock      nineten.Clock
	// ScratchDir is a local directory for uploads being processed and for
	// transcoder output. On the same file system as a disk blob store,
	// moving results into the store is a rename.
	ScratchDir string
	// MaxUploadBytes limits one uploaded file (default 2 GiB).
	MaxUploadBytes int64
	// Enqueued is called after a processing job was queued (to wake workers).
	Enqueued func()
	// Changed is called when a track becomes playable, its tags change, or
	// it is withdrawn (deleted or hidden): to tell the artist's followers.
	Changed func(ctx context.Context, t *nineten.Track, c nineten.TrackChange)
	// ArtistChanged is called after an artist profile was edited.
	ArtistChanged func(ctx context.Context, a *nineten.Artist)
	// AlbumChanged is called after an album was edited (tags or cover).
	AlbumChanged func(ctx context.Context, a *nineten.Album)
	Log          *slog.Logger
}

// DefaultMaxUpload is the default size limit of one uploaded file.
const DefaultMaxUpload = 2 << 30

// JobProcessTrack is the kind of the job that turns an upload into media.
const JobProcessTrack = "process_track"

func (s *Service) now() time.Time {
	if s.Clock == nil {
		return nineten.SystemClock{}.Now()
	}
	return s.Clock.Now()
}

func (s *Service) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

func (s *Service) maxUpload() int64 {
	if s.MaxUploadBytes > 0 {
		return s.MaxUploadBytes
	}
	return DefaultMaxUpload
}

func isAdmin(u *nineten.User) bool { return u != nil && u.Role == nineten.RoleAdmin }

// mayEdit reports whether u may change things of an artist profile.
func mayEdit(u *nineten.User, a *nineten.Artist) bool {
	return u != nil && !u.Disabled && (isAdmin(u) || a.OwnerID == u.ID)
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

var nonSlug = regexp.MustCompile(`[^a-z0-9]+`)

func slugify(name string) string {
	s := strings.Trim(nonSlug.ReplaceAllString(strings.ToLower(name), "-"), "-")
	if s == "" {
		s = "artist"
	}
	if len(s) > 48 {
		s = strings.TrimRight(s[:48], "-")
	}
	return s
}

// cleanText trims s and checks its length; field names the input for the
// error message.
func cleanText(op, field, s string, maxRunes int, required bool) (string, error) {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
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

// editText sets *dst to the cleaned *src when src is given.
func editText(op, field string, dst, src *string, maxRunes int, required bool) error {
	if src == nil {
		return nil
	}
	v, err := cleanText(op, field, *src, maxRunes, required)
	if err == nil {
		*dst = v
	}
	return err
}

// checkYear accepts four-digit years, and 0 for none.
func checkYear(op string, y int) error {
	if y != 0 && (y < 1000 || y > 9999) {
		return nineten.E(op, nineten.KindInvalid, "the year has four digits (or 0 for none)")
	}
	return nil
}

func (s *Service) changed(ctx context.Context, t *nineten.Track, c nineten.TrackChange) {
	if s.Changed != nil {
		s.Changed(ctx, t, c)
	}
}

// CreateArtist creates an artist profile owned by u and makes u an artist.
func (s *Service) CreateArtist(ctx context.Context, u *nineten.User, name, bio string) (*nineten.Artist, error) {
	const op = "catalog.CreateArtist"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	name, err := cleanText(op, "the artist name", name, 100, true)
	if err != nil {
		return nil, err
	}
	if bio, err = cleanText(op, "the bio", bio, 4000, false); err != nil {
		return nil, err
	}
	a := &nineten.Artist{OwnerID: u.ID, Name: name, Bio: bio, CreatedAt: s.now()}
	err = s.Store.WithTx(ctx, func(tx nineten.Store) error {
		base := slugify(name)
		for i := 1; ; i++ {
			a.Slug = base
			if i > 1 {
				a.Slug = fmt.Sprintf("%s-%d", base, i)
			}
			// Artists and users share one namespace of fediverse handles
			// (@slug@node), so a slug may not be someone's username.
			if _, err := tx.UserByUsername(ctx, a.Slug); err == nil && i < 20 {
				continue
			}
			err := tx.CreateArtist(ctx, a)
			if nineten.ErrorKind(err) != nineten.KindConflict || i == 20 {
				if err != nil {
					return err
				}
				break
			}
		}
		if u.Role.Rank() < nineten.RoleArtist.Rank() {
			u.Role = nineten.RoleArtist
			return tx.UpdateUser(ctx, u)
		}
		return nil
	})
	if err != nil {
		return nil, nineten.E(op, err)
	}
	return a, nil
}

// ArtistEdit holds the fields to change; nil fields stay as they are.
type ArtistEdit struct {
	Name *string
	Bio  *string
}

// UpdateArtist changes an artist profile; owners and admins only.
func (s *Service) UpdateArtist(ctx context.Context, u *nineten.User, id nineten.ID, e ArtistEdit) (*nineten.Artist, error) {
	const op = "catalog.UpdateArtist"
	if err := needUser(op, u); err != nil {
		return nil, err
	}
	a, err := s.Store.ArtistByID(ctx, id)
	if err != nil {
		return nil, nineten.E(op, err)
	}
	if a.Deleted() {
		return nil, closedArtist(op, a)
	}
	if !mayEdit(u, a) {
		return nil, nineten.E(op, nineten.KindPermission, "only the artist's owner or an admin may change this profile")
	}
	if err := errors.Join(
		editText(op, "the artist name", &a.Name, e.Name, 100, true),
		editText(op, "the bio", &a.Bio, e.Bio, 4000, false),
	); err != nil {
		return nil, err
	}
	if err := s.Store.UpdateArtist(ctx, a); err != nil {
		return nil, nineten.E(op, err)
	}
	if s.ArtistChanged != nil {
		s.ArtistChanged(ctx, a)
	}
	return a, nil
}

// Artist returns an artist profile.
func (s *Service) Artist(ctx context.Context, id nineten.ID) (*nineten.Artist, error) {
	a, err := s.Store.ArtistByID(ctx, id)
	if err == nil && a.Deleted() {
		return nil, closedArtist("catalog.Artist", a)
	}
	return a, err
}

// closedArtist is the error about an artist profile whose account was
// closed: it is gone for everyone.
func closedArtist(op string, a *nineten.Artist) error {
	return nineten.E(op, nineten.KindNotFound, fmt.Sprintf("artist %d is gone: its account was closed", a.ID))
}

// Artists lists artist profiles, optionally filtered by name.
func (s *Service) Artists(ctx context.Context, query string, p nineten.Page) ([]nineten.Artist, int, error) {
	return s.Store.ListArtists(ctx, strings.TrimSpace(query), p)
}

// ArtistsOf lists the artist profiles a user owns.
func (s *Service) ArtistsOf(ctx context.Context, u *nineten.User) ([]nineten.Artist, error) {
	return s.Store.ArtistsByOwner(ctx, u.ID)
}
