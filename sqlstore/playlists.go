package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"

	"nineten.dev"
)

// Playlists and their items (migration 00009). Items are ordered by pos,
// which reads turn into 0, 1, 2…: a removed item, or a track deleted from
// under a playlist, leaves a gap in pos that no reader sees, and
// MovePlaylistItem closes the gaps before it moves anything.

const playlistCols = `pl.id, coalesce(pl.owner_id, 0), coalesce(u.username, ra.handle, ''),
	coalesce(pl.iri, ''), coalesce(pl.actor, ''), pl.title, pl.description, pl.public,
	(SELECT count(*) FROM playlist_items i WHERE i.playlist_id = pl.id), pl.created_at, pl.updated_at
	FROM playlists pl LEFT JOIN users u ON u.id = pl.owner_id LEFT JOIN remote_actors ra ON ra.iri = pl.actor`

func scanPlaylist(row scanner) (*nineten.Playlist, error) {
	var p nineten.Playlist
	var created, updated int64
	err := row.Scan(&p.ID, &p.OwnerID, &p.OwnerName, &p.IRI, &p.Actor, &p.Title, &p.Description, &p.Public,
		&p.ItemCount, &created, &updated)
	if err != nil {
		return nil, err
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return &p, nil
}

// nullText stores an empty string, meaning none, as NULL, so that unique
// keys and checks see it as absent.
func nullText(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s *store) CreatePlaylist(ctx context.Context, p *nineten.Playlist) error {
	const op = "sqlstore.CreatePlaylist"
	if (p.OwnerID == 0) == (p.IRI == "" || p.Actor == "") {
		return nineten.E(op, nineten.KindInvalid, "a playlist has an owner here, or an IRI and an actor elsewhere")
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = nowUTC()
	}
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = p.CreatedAt
	}
	taken := fmt.Sprintf("the playlist %s is stored already", p.IRI)
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO playlists (owner_id, iri, actor, title, description, public, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		nullID(p.OwnerID), nullText(p.IRI), nullText(p.Actor), p.Title, p.Description, p.Public, ms(p.CreatedAt), ms(p.UpdatedAt),
	).Scan(&p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nineten.E(op, nineten.KindConflict, taken)
	}
	if err != nil {
		return dbError(op, err, taken)
	}
	return nil
}

func (s *store) playlistWhere(ctx context.Context, op, cond string, arg any, what string) (*nineten.Playlist, error) {
	p, err := scanPlaylist(s.read.QueryRowContext(ctx, `SELECT `+playlistCols+` WHERE `+cond, arg))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "%s", what)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return p, nil
}

func (s *store) PlaylistByID(ctx context.Context, id nineten.ID) (*nineten.Playlist, error) {
	return s.playlistWhere(ctx, "sqlstore.PlaylistByID", `pl.id = ?`, id, fmt.Sprintf("playlist %d", id))
}

func (s *store) PlaylistByIRI(ctx context.Context, iri string) (*nineten.Playlist, error) {
	return s.playlistWhere(ctx, "sqlstore.PlaylistByIRI", `pl.iri = ?`, iri, "playlist "+iri)
}

func (s *store) UpdatePlaylist(ctx context.Context, p *nineten.Playlist) error {
	const op = "sqlstore.UpdatePlaylist"
	if p.UpdatedAt.IsZero() {
		p.UpdatedAt = nowUTC()
	}
	res, err := s.write.ExecContext(ctx,
		`UPDATE playlists SET title = ?, description = ?, public = ?, updated_at = ? WHERE id = ?`,
		p.Title, p.Description, p.Public, ms(p.UpdatedAt), p.ID)
	return mustAffect(op, res, err, fmt.Sprintf("playlist %d", p.ID))
}

// DeletePlaylist deletes a playlist with its items.
func (s *store) DeletePlaylist(ctx context.Context, id nineten.ID) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM playlists WHERE id = ?`, id)
	return mustAffect("sqlstore.DeletePlaylist", res, err, fmt.Sprintf("playlist %d", id))
}

func (s *store) ListPlaylists(ctx context.Context, f nineten.PlaylistFilter, p nineten.Page) ([]nineten.Playlist, int, error) {
	const op = "sqlstore.ListPlaylists"
	limit, offset := window(p)
	var w where
	if f.OwnerID != 0 {
		w.add(`pl.owner_id = ?`, f.OwnerID)
	}
	if f.PublicOnly {
		w.add(`pl.public = 1`)
	}
	if f.Follower != "" {
		w.add(`pl.actor IN (SELECT remote FROM follows WHERE local = ? AND inbound = 0 AND state = 'accepted')`, f.Follower)
	}
	var out []nineten.Playlist
	var total int
	err := s.snapshot(ctx, func(q querier) error {
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM playlists pl`+w.String(), w.args...).Scan(&total); err != nil {
			return err
		}
		var err error
		out, err = queryAll(ctx, q, scanPlaylist, `SELECT `+playlistCols+w.String()+
			` ORDER BY pl.updated_at DESC, pl.id DESC LIMIT ? OFFSET ?`, append(w.args, limit, offset)...)
		return err
	})
	if err != nil {
		return nil, 0, dbError(op, err, "")
	}
	return out, total, nil
}

const itemCols = `i.id, coalesce(i.track_id, 0), coalesce(i.remote_iri, ''), i.title, i.artist, i.duration_ms,
	i.hls_url, i.page_url, i.cover_url, i.added_at`

func scanItem(row scanner) (*nineten.PlaylistItem, error) {
	var it nineten.PlaylistItem
	r := &it.Remote
	var added int64
	if err := row.Scan(&it.ID, &it.TrackID, &r.IRI, &r.Title, &r.Artist, &r.DurationMS, &r.HLSURL, &r.PageURL, &r.CoverURL, &added); err != nil {
		return nil, err
	}
	it.AddedAt = fromMS(added)
	return &it, nil
}

// PlaylistItems lists the items of a playlist in order; a playlist that
// does not exist has none.
func (s *store) PlaylistItems(ctx context.Context, playlistID nineten.ID) ([]nineten.PlaylistItem, error) {
	const op = "sqlstore.PlaylistItems"
	var items []nineten.PlaylistItem
	var tracks []nineten.Track
	err := s.snapshot(ctx, func(q querier) error {
		var err error
		items, err = queryAll(ctx, q, scanItem,
			`SELECT `+itemCols+` FROM playlist_items i WHERE i.playlist_id = ? ORDER BY i.pos, i.id`, playlistID)
		if err != nil {
			return err
		}
		tracks, err = queryAll(ctx, q, scanTrack, `SELECT `+trackCols+trackFrom+
			` WHERE t.id IN (SELECT track_id FROM playlist_items WHERE playlist_id = ?)`, playlistID)
		return err
	})
	if err != nil {
		return nil, dbError(op, err, "")
	}
	byID := make(map[nineten.ID]*nineten.Track, len(tracks))
	for i := range tracks {
		byID[tracks[i].ID] = &tracks[i]
	}
	for i := range items {
		items[i].Position = i
		if items[i].TrackID != 0 {
			items[i].Track = byID[items[i].TrackID]
		}
	}
	return items, nil
}

// itemArgs are the stored columns of an item after playlist_id and pos:
// a local item keeps no remote fields.
func itemArgs(it *nineten.PlaylistItem) []any {
	if it.TrackID != 0 {
		return []any{int64(it.TrackID), nil, "", "", int64(0), "", "", "", ms(it.AddedAt)}
	}
	r := it.Remote
	return []any{nil, r.IRI, r.Title, r.Artist, r.DurationMS, r.HLSURL, r.PageURL, r.CoverURL, ms(it.AddedAt)}
}

func checkItem(op string, it *nineten.PlaylistItem) error {
	if it.TrackID == 0 && it.Remote.IRI == "" {
		return nineten.E(op, nineten.KindInvalid, "a playlist item is a track of this node or the IRI of a remote one")
	}
	return nil
}

// playlistExists fails with KindNotFound when there is no playlist id.
func playlistExists(ctx context.Context, q querier, op string, id nineten.ID) error {
	var one int
	err := q.QueryRowContext(ctx, `SELECT 1 FROM playlists WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op, "playlist %d", id)
	}
	return err
}

func (s *store) AddPlaylistItem(ctx context.Context, playlistID nineten.ID, it *nineten.PlaylistItem) error {
	const op = "sqlstore.AddPlaylistItem"
	if err := checkItem(op, it); err != nil {
		return err
	}
	if it.AddedAt.IsZero() {
		it.AddedAt = nowUTC()
	}
	const inThere = "the playlist holds this track already"
	err := s.atomic(ctx, func(q querier) error {
		if err := playlistExists(ctx, q, op, playlistID); err != nil {
			return err
		}
		// The WHERE also keeps SQLite from reading ON CONFLICT as part of
		// a join.
		err := q.QueryRowContext(ctx, `
			INSERT INTO playlist_items (playlist_id, pos, track_id, remote_iri, title, artist, duration_ms,
				hls_url, page_url, cover_url, added_at)
			SELECT ?, coalesce(max(pos) + 1, 0), ?, ?, ?, ?, ?, ?, ?, ?, ? FROM playlist_items WHERE playlist_id = ?
			ON CONFLICT DO NOTHING RETURNING id`,
			append(append([]any{playlistID}, itemArgs(it)...), playlistID)...).Scan(&it.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return nineten.E(op, nineten.KindConflict, inThere)
		}
		if err != nil {
			return err
		}
		return q.QueryRowContext(ctx, `SELECT count(*) - 1 FROM playlist_items WHERE playlist_id = ?`, playlistID).Scan(&it.Position)
	})
	if err != nil {
		return dbError(op, err, inThere)
	}
	return nil
}

// itemPos returns the stored pos of an item of a playlist.
func itemPos(ctx context.Context, q querier, op string, playlistID, itemID nineten.ID) (int, error) {
	var pos int
	err := q.QueryRowContext(ctx, `SELECT pos FROM playlist_items WHERE id = ? AND playlist_id = ?`, itemID, playlistID).Scan(&pos)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, notFound(op, "item %d of playlist %d", itemID, playlistID)
	}
	return pos, err
}

// RemovePlaylistItem deletes an item. The place it held stays a gap in
// pos, which reads do not see and MovePlaylistItem closes.
func (s *store) RemovePlaylistItem(ctx context.Context, playlistID, itemID nineten.ID) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM playlist_items WHERE id = ? AND playlist_id = ?`, itemID, playlistID)
	return mustAffect("sqlstore.RemovePlaylistItem", res, err, fmt.Sprintf("item %d of playlist %d", itemID, playlistID))
}

func (s *store) MovePlaylistItem(ctx context.Context, playlistID, itemID nineten.ID, position int) error {
	const op = "sqlstore.MovePlaylistItem"
	err := s.atomic(ctx, func(q querier) error {
		// Number the items 0, 1, 2… again, closing gaps that deleted
		// tracks left, so that pos is the place readers see.
		if _, err := q.ExecContext(ctx, `
			UPDATE playlist_items SET pos = r.n
			FROM (SELECT id, row_number() OVER (ORDER BY pos, id) - 1 AS n FROM playlist_items WHERE playlist_id = ?) r
			WHERE playlist_items.id = r.id AND playlist_items.pos <> r.n`, playlistID); err != nil {
			return err
		}
		from, err := itemPos(ctx, q, op, playlistID, itemID)
		if err != nil {
			return err
		}
		var n int
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM playlist_items WHERE playlist_id = ?`, playlistID).Scan(&n); err != nil {
			return err
		}
		to := min(max(position, 0), n-1)
		switch {
		case to > from:
			_, err = q.ExecContext(ctx, `UPDATE playlist_items SET pos = pos - 1 WHERE playlist_id = ? AND pos > ? AND pos <= ?`, playlistID, from, to)
		case to < from:
			_, err = q.ExecContext(ctx, `UPDATE playlist_items SET pos = pos + 1 WHERE playlist_id = ? AND pos >= ? AND pos < ?`, playlistID, to, from)
		default:
			return nil
		}
		if err != nil {
			return err
		}
		_, err = q.ExecContext(ctx, `UPDATE playlist_items SET pos = ? WHERE id = ?`, to, itemID)
		return err
	})
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

// ReplacePlaylistItems writes the items with multi-row statements: a
// remote playlist of thousands of tracks is copied in a few of them.
func (s *store) ReplacePlaylistItems(ctx context.Context, playlistID nineten.ID, items []nineten.PlaylistItem) error {
	const op = "sqlstore.ReplacePlaylistItems"
	for i := range items {
		if err := checkItem(op, &items[i]); err != nil {
			return err
		}
	}
	now := nowUTC()
	err := s.atomic(ctx, func(q querier) error {
		if err := playlistExists(ctx, q, op, playlistID); err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM playlist_items WHERE playlist_id = ?`, playlistID); err != nil {
			return err
		}
		pos := 0
		for chunk := range slices.Chunk(items, batchRows/2) {
			args := make([]any, 0, 11*len(chunk))
			for _, it := range chunk {
				if it.AddedAt.IsZero() {
					it.AddedAt = now
				}
				args = append(args, playlistID, pos)
				args = append(args, itemArgs(&it)...)
				pos++
			}
			// Casts tell PostgreSQL the types of the VALUES columns; the
			// WHERE keeps SQLite from reading ON CONFLICT as part of a join.
			_, err := q.ExecContext(ctx, `
				WITH v (playlist_id, pos, track_id, remote_iri, title, artist, duration_ms, hls_url, page_url, cover_url, added_at) AS (VALUES `+
				rowsOf(len(chunk), "(CAST(? AS BIGINT), CAST(? AS INTEGER), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT))")+`)
				INSERT INTO playlist_items (playlist_id, pos, track_id, remote_iri, title, artist, duration_ms, hls_url, page_url, cover_url, added_at)
				SELECT playlist_id, pos, track_id, remote_iri, title, artist, duration_ms, hls_url, page_url, cover_url, added_at FROM v
				WHERE true ON CONFLICT DO NOTHING`, args...)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}
