package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"nineten.dev"
)

// SaveRemoteTrack records a track of another server by its IRI, or
// refreshes what is known of it: a server may retitle a track, and its
// payee is whatever it says at the latest play.
func (s *store) SaveRemoteTrack(ctx context.Context, t *nineten.RemoteTrack) error {
	const op = "sqlstore.SaveRemoteTrack"
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO remote_tracks (iri, title, album, artist_iri, artist_name, payee,
			duration_ms, hls_url, page_url, cover_url, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (iri) DO UPDATE SET title = excluded.title, album = excluded.album,
			artist_iri = excluded.artist_iri, artist_name = excluded.artist_name, payee = excluded.payee,
			duration_ms = excluded.duration_ms, hls_url = excluded.hls_url, page_url = excluded.page_url,
			cover_url = excluded.cover_url, updated_at = excluded.updated_at
		RETURNING id`,
		t.IRI, t.Title, t.Album, t.ArtistIRI, t.ArtistName, t.Payee,
		t.DurationMS, t.HLSURL, t.PageURL, t.CoverURL, ms(nowUTC()),
	).Scan(&t.ID)
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

func (s *store) RemoteTrackByID(ctx context.Context, id nineten.ID) (*nineten.RemoteTrack, error) {
	const op = "sqlstore.RemoteTrackByID"
	var t nineten.RemoteTrack
	err := s.read.QueryRowContext(ctx, `SELECT `+remoteTrackCols+` FROM remote_tracks rt WHERE rt.id = ?`, id).
		Scan(remoteTrackDest(&t)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "remote track %d", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return &t, nil
}

func (s *store) RemoteArtistName(ctx context.Context, payee string) (string, error) {
	const op = "sqlstore.RemoteArtistName"
	var name string
	err := s.read.QueryRowContext(ctx, `
		SELECT artist_name FROM remote_tracks WHERE payee = ? AND artist_name <> ''
		ORDER BY updated_at DESC, id DESC LIMIT 1`, payee).Scan(&name)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound(op, "no artist with the account %q", payee)
	}
	if err != nil {
		return "", dbError(op, err, "")
	}
	return name, nil
}

const remoteTrackCols = `rt.id, rt.iri, rt.title, rt.album, rt.artist_iri, rt.artist_name, rt.payee,
	rt.duration_ms, rt.hls_url, rt.page_url, rt.cover_url`

func remoteTrackDest(t *nineten.RemoteTrack) []any {
	return []any{&t.ID, &t.IRI, &t.Title, &t.Album, &t.ArtistIRI, &t.ArtistName, &t.Payee,
		&t.DurationMS, &t.HLSURL, &t.PageURL, &t.CoverURL}
}

// scanRemoteListen scans listenCols (with the remote track's id in the
// track column) followed by remoteTrackCols.
func scanRemoteListen(row scanner) (*nineten.Listen, error) {
	l := nineten.Listen{Remote: new(nineten.RemoteTrack)}
	dest, done := listenDest(&l)
	if err := row.Scan(append(dest, remoteTrackDest(l.Remote)...)...); err != nil {
		return nil, err
	}
	done()
	l.TrackID, l.RemoteTrackID = 0, l.TrackID
	return &l, nil
}
