package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"nineten.dev"
)

// visibleTrack is the condition, on a tracks row named t, for the public to
// see it; it matches nineten.Track.Visible.
const visibleTrack = `t.status = 'ready' AND t.hidden = 0`

const artistCols = `a.id, a.owner_id, a.name, a.slug, a.bio, a.avatar_key, a.header_key, a.created_at, a.deleted_at,
	(SELECT count(*) FROM tracks t WHERE t.artist_id = a.id AND ` + visibleTrack + `)`

func scanArtist(row scanner) (*nineten.Artist, error) {
	var a nineten.Artist
	var created, deleted int64
	if err := row.Scan(&a.ID, &a.OwnerID, &a.Name, &a.Slug, &a.Bio, &a.Avatar, &a.Header, &created, &deleted, &a.TrackCount); err != nil {
		return nil, err
	}
	a.CreatedAt, a.DeletedAt = fromMS(created), fromMS(deleted)
	return &a, nil
}

func (s *store) CreateArtist(ctx context.Context, a *nineten.Artist) error {
	const op = "sqlstore.CreateArtist"
	if a.CreatedAt.IsZero() {
		a.CreatedAt = nowUTC()
	}
	taken := fmt.Sprintf("the artist address %q is taken", a.Slug)
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO artists (owner_id, name, slug, bio, created_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		a.OwnerID, a.Name, a.Slug, a.Bio, ms(a.CreatedAt),
	).Scan(&a.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nineten.E(op, nineten.KindConflict, taken)
	}
	if err != nil {
		return dbError(op, err, taken)
	}
	return nil
}

func (s *store) ArtistByID(ctx context.Context, id nineten.ID) (*nineten.Artist, error) {
	const op = "sqlstore.ArtistByID"
	a, err := scanArtist(s.read.QueryRowContext(ctx, `SELECT `+artistCols+` FROM artists a WHERE a.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "artist %d", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return a, nil
}

func (s *store) ArtistBySlug(ctx context.Context, slug string) (*nineten.Artist, error) {
	const op = "sqlstore.ArtistBySlug"
	a, err := scanArtist(s.read.QueryRowContext(ctx, `SELECT `+artistCols+` FROM artists a WHERE a.slug = ?`, slug))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "artist %q", slug)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return a, nil
}

func (s *store) ArtistsByOwner(ctx context.Context, ownerID nineten.ID) ([]nineten.Artist, error) {
	artists, err := queryAll(ctx, s.read, scanArtist, `
		SELECT `+artistCols+` FROM artists a WHERE a.owner_id = ?
		ORDER BY a.name COLLATE NOCASE, a.id`, ownerID)
	if err != nil {
		return nil, dbError("sqlstore.ArtistsByOwner", err, "")
	}
	return artists, nil
}

// ListArtists lists artists by name; a non-empty query keeps those whose
// name contains it, ignoring case.
func (s *store) ListArtists(ctx context.Context, query string, p nineten.Page) ([]nineten.Artist, int, error) {
	const op = "sqlstore.ListArtists"
	limit, offset := window(p)
	var w where
	w.add(`a.deleted_at = 0`) // closed accounts' profiles are gone
	if query != "" {
		w.add(s.contains(foldFunc+`(a.name)`, foldFunc+`(?)`), query)
	}
	var artists []nineten.Artist
	var total int
	err := s.snapshot(ctx, func(q querier) error {
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM artists a`+w.String(), w.args...).Scan(&total); err != nil {
			return err
		}
		var err error
		artists, err = queryAll(ctx, q, scanArtist,
			`SELECT `+artistCols+` FROM artists a`+w.String()+
				` ORDER BY a.name COLLATE NOCASE, a.id LIMIT ? OFFSET ?`,
			append(w.args, limit, offset)...)
		return err
	})
	if err != nil {
		return nil, 0, dbError(op, err, "")
	}
	return artists, total, nil
}

// UpdateArtist stores the owner, name, slug, bio and pictures of a.
func (s *store) UpdateArtist(ctx context.Context, a *nineten.Artist) error {
	const op = "sqlstore.UpdateArtist"
	taken := fmt.Sprintf("the artist address %q is taken", a.Slug)
	res, err := s.write.ExecContext(ctx, `
		UPDATE artists SET owner_id = ?, name = ?, slug = ?, bio = ?, avatar_key = ?, header_key = ?
		WHERE id = ? AND NOT EXISTS (SELECT 1 FROM artists o WHERE o.slug = ? AND o.id <> ?)`,
		a.OwnerID, a.Name, a.Slug, a.Bio, a.Avatar, a.Header, a.ID, a.Slug, a.ID)
	if err != nil {
		return dbError(op, err, taken)
	}
	return s.updatedOrTaken(ctx, op, res, `artists`, a.ID, fmt.Sprintf("artist %d", a.ID), taken)
}

const albumCols = `al.id, al.artist_id, ar.name, al.title, al.year, al.genre, al.cover_key, al.created_at,
	(SELECT count(*) FROM tracks t WHERE t.album_id = al.id AND ` + visibleTrack + `)
	FROM albums al JOIN artists ar ON ar.id = al.artist_id`

func scanAlbum(row scanner) (*nineten.Album, error) {
	var a nineten.Album
	var created int64
	err := row.Scan(&a.ID, &a.ArtistID, &a.ArtistName, &a.Title, &a.Year, &a.Genre, &a.CoverKey, &created, &a.TrackCount)
	if err != nil {
		return nil, err
	}
	a.CreatedAt = fromMS(created)
	return &a, nil
}

// AlbumByTitle finds an artist's album by title, ignoring case. Titles are
// not unique; of several matches it returns the oldest.
func (s *store) AlbumByTitle(ctx context.Context, artistID nineten.ID, title string) (*nineten.Album, error) {
	const op = "sqlstore.AlbumByTitle"
	a, err := scanAlbum(s.read.QueryRowContext(ctx, `SELECT `+albumCols+`
		WHERE al.artist_id = ? AND `+foldFunc+`(al.title) = `+foldFunc+`(?)
		ORDER BY al.id LIMIT 1`, artistID, title))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "album %q of artist %d", title, artistID)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return a, nil
}

func (s *store) CreateAlbum(ctx context.Context, a *nineten.Album) error {
	const op = "sqlstore.CreateAlbum"
	if a.CreatedAt.IsZero() {
		a.CreatedAt = nowUTC()
	}
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO albums (artist_id, title, year, genre, cover_key, created_at)
		VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
		a.ArtistID, a.Title, a.Year, a.Genre, a.CoverKey, ms(a.CreatedAt),
	).Scan(&a.ID)
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

func (s *store) AlbumByID(ctx context.Context, id nineten.ID) (*nineten.Album, error) {
	const op = "sqlstore.AlbumByID"
	a, err := scanAlbum(s.read.QueryRowContext(ctx, `SELECT `+albumCols+` WHERE al.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "album %d", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return a, nil
}

// ListAlbums lists the albums of an artist, or of everyone when artistID is
// zero, by artist name, then year, then title.
func (s *store) ListAlbums(ctx context.Context, artistID nineten.ID, p nineten.Page) ([]nineten.Album, int, error) {
	const op = "sqlstore.ListAlbums"
	limit, offset := window(p)
	var w where
	if artistID != 0 {
		w.add(`al.artist_id = ?`, artistID)
	}
	var albums []nineten.Album
	var total int
	err := s.snapshot(ctx, func(q querier) error {
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM albums al`+w.String(), w.args...).Scan(&total); err != nil {
			return err
		}
		var err error
		albums, err = queryAll(ctx, q, scanAlbum, `SELECT `+albumCols+w.String()+`
			ORDER BY ar.name COLLATE NOCASE, ar.id, al.year, al.title COLLATE NOCASE, al.id
			LIMIT ? OFFSET ?`, append(w.args, limit, offset)...)
		return err
	})
	if err != nil {
		return nil, 0, dbError(op, err, "")
	}
	return albums, total, nil
}

// UpdateAlbum stores the title, year, genre and cover of a; an album stays
// with its artist.
func (s *store) UpdateAlbum(ctx context.Context, a *nineten.Album) error {
	const op = "sqlstore.UpdateAlbum"
	res, err := s.write.ExecContext(ctx,
		`UPDATE albums SET title = ?, year = ?, genre = ?, cover_key = ? WHERE id = ?`,
		a.Title, a.Year, a.Genre, a.CoverKey, a.ID)
	return mustAffect(op, res, err, fmt.Sprintf("album %d", a.ID))
}

// DeleteAlbum deletes an album; its tracks stay, as singles.
func (s *store) DeleteAlbum(ctx context.Context, id nineten.ID) error {
	const op = "sqlstore.DeleteAlbum"
	res, err := s.write.ExecContext(ctx, `DELETE FROM albums WHERE id = ?`, id)
	return mustAffect(op, res, err, fmt.Sprintf("album %d", id))
}

const trackCols = `t.id, t.artist_id, ar.name, coalesce(t.album_id, 0), coalesce(al.title, ''),
	t.title, t.track_number, t.year, t.genre, t.duration_ms, t.status, t.error, t.hidden,
	t.original_key, t.original_filename, t.original_mime_type, t.original_size,
	t.original_sha256, t.original_format, t.original_codec,
	t.cover_key, t.media_key, t.play_count, t.created_at, t.updated_at`

const trackFrom = ` FROM tracks t JOIN artists ar ON ar.id = t.artist_id LEFT JOIN albums al ON al.id = t.album_id`

// trackDest returns where to scan the columns of trackCols into t, and a
// function that completes t once they are scanned.
func trackDest(t *nineten.Track) (dest []any, done func()) {
	var created, updated int64
	o := &t.Original
	return []any{&t.ID, &t.ArtistID, &t.ArtistName, &t.AlbumID, &t.AlbumTitle,
			&t.Title, &t.TrackNumber, &t.Year, &t.Genre, &t.DurationMS, &t.Status, &t.Error, &t.Hidden,
			&o.Key, &o.Filename, &o.MIMEType, &o.Size, &o.SHA256, &o.Format, &o.Codec,
			&t.CoverKey, &t.MediaKey, &t.PlayCount, &created, &updated},
		func() { t.CreatedAt, t.UpdatedAt = fromMS(created), fromMS(updated) }
}

func scanTrack(row scanner) (*nineten.Track, error) {
	var t nineten.Track
	dest, done := trackDest(&t)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	done()
	return &t, nil
}

// CreateTrack stores a new track. A track without a status is processing;
// its play count starts at zero whatever t says, as only listens count.
func (s *store) CreateTrack(ctx context.Context, t *nineten.Track) error {
	const op = "sqlstore.CreateTrack"
	if t.CreatedAt.IsZero() {
		t.CreatedAt = nowUTC()
	}
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = t.CreatedAt
	}
	if t.Status == "" {
		t.Status = nineten.TrackProcessing
	}
	t.PlayCount = 0
	o := t.Original
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO tracks (artist_id, album_id, title, track_number, year, genre, duration_ms,
			status, error, hidden, original_key, original_filename, original_mime_type,
			original_size, original_sha256, original_format, original_codec,
			cover_key, media_key, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		t.ArtistID, nullID(t.AlbumID), t.Title, t.TrackNumber, t.Year, t.Genre, t.DurationMS,
		t.Status, t.Error, t.Hidden, o.Key, o.Filename, o.MIMEType,
		o.Size, o.SHA256, o.Format, o.Codec,
		t.CoverKey, t.MediaKey, ms(t.CreatedAt), ms(t.UpdatedAt),
	).Scan(&t.ID)
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

func (s *store) TrackByID(ctx context.Context, id nineten.ID) (*nineten.Track, error) {
	const op = "sqlstore.TrackByID"
	t, err := scanTrack(s.read.QueryRowContext(ctx, `SELECT `+trackCols+trackFrom+` WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "track %d", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return t, nil
}

// ListTracks lists the tracks f selects: an album's in track order, search
// results best match first, anything else newest first.
func (s *store) ListTracks(ctx context.Context, f nineten.TrackFilter, p nineten.Page) ([]nineten.Track, int, error) {
	const op = "sqlstore.ListTracks"
	limit, offset := window(p)
	from := trackFrom
	var fromArgs []any
	var w where
	order := `t.id DESC`
	if f.Query != "" {
		m, ok := s.match(f.Query)
		if !ok {
			// Nothing in the query can match a word.
			return nil, 0, nil
		}
		from += m.join
		fromArgs = m.joinArgs
		w.add(m.cond, m.condArgs...)
		order = m.order + `, t.id DESC`
	}
	if f.AlbumID != 0 {
		w.add(`t.album_id = ?`, f.AlbumID)
		order = `t.track_number, t.id`
	}
	if f.ArtistID != 0 {
		w.add(`t.artist_id = ?`, f.ArtistID)
	}
	if f.OwnerID != 0 {
		w.add(`ar.owner_id = ?`, f.OwnerID)
	}
	if !f.All {
		w.add(visibleTrack)
	}
	var tracks []nineten.Track
	var total int
	err := s.snapshot(ctx, func(q querier) error {
		args := append(fromArgs[:len(fromArgs):len(fromArgs)], w.args...)
		if err := q.QueryRowContext(ctx, `SELECT count(*)`+from+w.String(), args...).Scan(&total); err != nil {
			return err
		}
		var err error
		tracks, err = queryAll(ctx, q, scanTrack,
			`SELECT `+trackCols+from+w.String()+` ORDER BY `+order+` LIMIT ? OFFSET ?`,
			append(args, limit, offset)...)
		return err
	})
	if err != nil {
		return nil, 0, dbError(op, err, "")
	}
	return tracks, total, nil
}

// UpdateTrack stores every field of t but its ID, creation time and play
// count, which only listens change: a caller holding a stale copy cannot
// undo plays. A zero UpdatedAt is set to now.
func (s *store) UpdateTrack(ctx context.Context, t *nineten.Track) error {
	const op = "sqlstore.UpdateTrack"
	if t.UpdatedAt.IsZero() {
		t.UpdatedAt = nowUTC()
	}
	o := t.Original
	res, err := s.write.ExecContext(ctx, `
		UPDATE tracks SET artist_id = ?, album_id = ?, title = ?, track_number = ?, year = ?,
			genre = ?, duration_ms = ?, status = ?, error = ?, hidden = ?,
			original_key = ?, original_filename = ?, original_mime_type = ?, original_size = ?,
			original_sha256 = ?, original_format = ?, original_codec = ?,
			cover_key = ?, media_key = ?, updated_at = ?
		WHERE id = ?`,
		t.ArtistID, nullID(t.AlbumID), t.Title, t.TrackNumber, t.Year,
		t.Genre, t.DurationMS, t.Status, t.Error, t.Hidden,
		o.Key, o.Filename, o.MIMEType, o.Size,
		o.SHA256, o.Format, o.Codec,
		t.CoverKey, t.MediaKey, ms(t.UpdatedAt), t.ID)
	return mustAffect(op, res, err, fmt.Sprintf("track %d", t.ID))
}

// DeleteTrack deletes a track with its listen sessions, served segments and
// listens.
func (s *store) DeleteTrack(ctx context.Context, id nineten.ID) error {
	const op = "sqlstore.DeleteTrack"
	res, err := s.write.ExecContext(ctx, `DELETE FROM tracks WHERE id = ?`, id)
	return mustAffect(op, res, err, fmt.Sprintf("track %d", id))
}
