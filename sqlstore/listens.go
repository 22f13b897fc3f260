package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"nineten.dev"
)

// listenTables are the tables of one kind of listen session: of tracks of
// this node, or of tracks of other servers (remote_*, see migration 16),
// told apart by the session's id (nineten.IsRemoteSession). The two kinds
// keep the same columns but their track column.
type listenTables struct{ sessions, segments, listens, track string }

var (
	localListens  = listenTables{"listen_sessions", "served_segments", "listens", "track_id"}
	remoteListens = listenTables{"remote_listen_sessions", "remote_served_segments", "remote_listens", "remote_track_id"}
)

func tablesOf(sessionID string) listenTables {
	if nineten.IsRemoteSession(sessionID) {
		return remoteListens
	}
	return localListens
}

func (s *store) CreateListenSession(ctx context.Context, ls *nineten.ListenSession) error {
	const op = "sqlstore.CreateListenSession"
	if ls.StartedAt.IsZero() {
		ls.StartedAt = nowUTC()
	}
	tb, track := tablesOf(ls.ID), ls.TrackID
	if nineten.IsRemoteSession(ls.ID) != (ls.RemoteTrackID != 0) || ls.TrackID != 0 && ls.RemoteTrackID != 0 {
		return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("listen session %q: a session of a remote track (and only one) has an id starting with %q", ls.ID, nineten.RemoteSessionPrefix))
	}
	if ls.RemoteTrackID != 0 {
		track = ls.RemoteTrackID
	}
	res, err := s.write.ExecContext(ctx, `
		INSERT INTO `+tb.sessions+` (id, `+tb.track+`, user_id, anon_id, started_at,
			last_seq, heard_ms, position_ms, last_report_at, network, device)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
		ls.ID, track, nullID(ls.UserID), ls.AnonID, ms(ls.StartedAt),
		ls.LastSeq, ls.HeardMS, ls.PositionMS, ms(ls.LastReportAt), ls.Network, ls.Device)
	return inserted(op, res, err, fmt.Sprintf("listen session %q already exists", ls.ID))
}

func (s *store) ListenSessionByID(ctx context.Context, id string) (*nineten.ListenSession, error) {
	const op = "sqlstore.ListenSessionByID"
	ls := nineten.ListenSession{ID: id}
	var started, reported int64
	tb, track := tablesOf(id), &ls.TrackID
	if tb == remoteListens {
		track = &ls.RemoteTrackID
	}
	err := s.read.QueryRowContext(ctx, `
		SELECT `+tb.track+`, coalesce(user_id, 0), anon_id, started_at, last_seq, heard_ms, position_ms, last_report_at, network, device
		FROM `+tb.sessions+` WHERE id = ?`, id,
	).Scan(track, &ls.UserID, &ls.AnonID, &started, &ls.LastSeq, &ls.HeardMS, &ls.PositionMS, &reported, &ls.Network, &ls.Device)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "listen session %q", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	ls.StartedAt, ls.LastReportAt = fromMS(started), fromMS(reported)
	return &ls, nil
}

// RecordServedSegment records a served segment once; serving the same one
// again (a player retrying) changes nothing.
func (s *store) RecordServedSegment(ctx context.Context, seg nineten.ServedSegment) error {
	const op = "sqlstore.RecordServedSegment"
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO `+tablesOf(seg.SessionID).segments+` (session_id, rendition, idx, start_ms, end_ms, served_at)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (session_id, rendition, idx) DO NOTHING`,
		seg.SessionID, seg.Rendition, seg.Index, seg.StartMS, seg.EndMS, ms(seg.ServedAt))
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

// ServedSegments lists what was served to a session, by rendition and index.
func (s *store) ServedSegments(ctx context.Context, sessionID string) ([]nineten.ServedSegment, error) {
	segs, err := queryAll(ctx, s.read, scanSegment, `
		SELECT session_id, rendition, idx, start_ms, end_ms, served_at
		FROM `+tablesOf(sessionID).segments+` WHERE session_id = ? ORDER BY rendition, idx`, sessionID)
	if err != nil {
		return nil, dbError("sqlstore.ServedSegments", err, "")
	}
	return segs, nil
}

func scanSegment(row scanner) (*nineten.ServedSegment, error) {
	var seg nineten.ServedSegment
	var served int64
	if err := row.Scan(&seg.SessionID, &seg.Rendition, &seg.Index, &seg.StartMS, &seg.EndMS, &served); err != nil {
		return nil, err
	}
	seg.ServedAt = fromMS(served)
	return &seg, nil
}

// UpdateListenProgress stores ls's progress if ls.LastSeq is higher than the
// stored one. The comparison is part of the UPDATE, so two reports racing
// cannot both win; only when nothing changed does it look again to tell a
// missing session from a stale report.
func (s *store) UpdateListenProgress(ctx context.Context, ls *nineten.ListenSession) error {
	const op = "sqlstore.UpdateListenProgress"
	tb := tablesOf(ls.ID)
	res, err := s.write.ExecContext(ctx, `
		UPDATE `+tb.sessions+` SET last_seq = ?, heard_ms = ?, position_ms = ?, last_report_at = ?
		WHERE id = ? AND last_seq < ?`,
		ls.LastSeq, ls.HeardMS, ls.PositionMS, ms(ls.LastReportAt), ls.ID, ls.LastSeq)
	if err != nil {
		return dbError(op, err, "")
	}
	if n, err := res.RowsAffected(); err != nil || n > 0 {
		return err
	}
	var last int64
	err = s.write.QueryRowContext(ctx, `SELECT last_seq FROM `+tb.sessions+` WHERE id = ?`, ls.ID).Scan(&last)
	if errors.Is(err, sql.ErrNoRows) {
		return notFound(op, "listen session %q", ls.ID)
	}
	if err != nil {
		return dbError(op, err, "")
	}
	return nineten.E(op, nineten.KindConflict, fmt.Sprintf("report %d is not newer than %d", ls.LastSeq, last))
}

// SaveListen creates or updates the listen of l.SessionID, and counts a
// play when the listen becomes verified. Reading the stored status and
// writing the new one happen in one write transaction (which holds SQLite's
// write lock throughout, and is serializable on PostgreSQL), so concurrent
// saves of the same listen cannot both see it unverified and count twice. Once verified, a listen stays verified
// with its first VerifiedAt; l is updated to what was stored.
func (s *store) SaveListen(ctx context.Context, l *nineten.Listen) error {
	const op = "sqlstore.SaveListen"
	if l.Status != nineten.ListenVerified && l.Status != nineten.ListenUnverified {
		return nineten.E(op, nineten.KindInvalid, fmt.Sprintf("%q is not a listen status", l.Status))
	}
	tb, track := tablesOf(l.SessionID), l.TrackID
	if tb == remoteListens {
		track = l.RemoteTrackID
	}
	var stored nineten.Listen
	err := s.atomic(ctx, func(q querier) error {
		stored = *l // afresh on every attempt: atomic may retry
		var prev nineten.ListenStatus
		var prevVerifiedAt int64
		err := q.QueryRowContext(ctx,
			`SELECT status, verified_at FROM `+tb.listens+` WHERE session_id = ?`, l.SessionID,
		).Scan(&prev, &prevVerifiedAt)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
		switch {
		case prev == nineten.ListenVerified:
			stored.Status, stored.Reason, stored.VerifiedAt = prev, "", fromMS(prevVerifiedAt)
		case stored.Status == nineten.ListenVerified:
			stored.Reason = ""
			if stored.VerifiedAt.IsZero() {
				stored.VerifiedAt = nowUTC()
			}
		default:
			stored.VerifiedAt = time.Time{}
		}
		var started, trackID int64
		err = q.QueryRowContext(ctx, `
			INSERT INTO `+tb.listens+` (session_id, `+tb.track+`, user_id, anon_id, started_at,
				heard_ms, status, reason, verified_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (session_id) DO UPDATE SET
				heard_ms = CASE WHEN excluded.heard_ms > `+tb.listens+`.heard_ms THEN excluded.heard_ms ELSE `+tb.listens+`.heard_ms END,
				status = excluded.status,
				reason = excluded.reason,
				verified_at = excluded.verified_at
			RETURNING id, `+tb.track+`, coalesce(user_id, 0), anon_id, started_at, heard_ms`,
			stored.SessionID, track, nullID(stored.UserID), stored.AnonID, ms(stored.StartedAt),
			stored.HeardMS, stored.Status, stored.Reason, ms(stored.VerifiedAt),
		).Scan(&stored.ID, &trackID, &stored.UserID, &stored.AnonID, &started, &stored.HeardMS)
		if err != nil {
			return err
		}
		stored.StartedAt = fromMS(started)
		if tb == remoteListens {
			stored.RemoteTrackID = nineten.ID(trackID)
			return nil // no play count: the track is counted on its own server
		}
		stored.TrackID = nineten.ID(trackID)
		if prev != nineten.ListenVerified && stored.Status == nineten.ListenVerified {
			_, err = q.ExecContext(ctx, `UPDATE tracks SET play_count = play_count + 1 WHERE id = ?`, stored.TrackID)
		}
		return err
	})
	if err != nil {
		return dbError(op, err, "")
	}
	*l = stored
	return nil
}

const listenCols = `l.id, l.session_id, l.track_id, coalesce(l.user_id, 0), l.anon_id, l.started_at,
	l.heard_ms, l.status, l.reason, l.verified_at`

// listenDest is trackDest for listenCols.
func listenDest(l *nineten.Listen) (dest []any, done func()) {
	var started, verified int64
	return []any{&l.ID, &l.SessionID, &l.TrackID, &l.UserID, &l.AnonID, &started,
			&l.HeardMS, &l.Status, &l.Reason, &verified},
		func() { l.StartedAt, l.VerifiedAt = fromMS(started), fromMS(verified) }
}

func scanListen(row scanner) (*nineten.Listen, error) {
	var l nineten.Listen
	dest, done := listenDest(&l)
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	done()
	return &l, nil
}

// scanListenTrack scans listenCols followed by trackCols.
func scanListenTrack(row scanner) (*nineten.Listen, error) {
	l := nineten.Listen{Track: new(nineten.Track)}
	ldest, ldone := listenDest(&l)
	tdest, tdone := trackDest(l.Track)
	if err := row.Scan(append(ldest, tdest...)...); err != nil {
		return nil, err
	}
	ldone()
	tdone()
	return &l, nil
}

func (s *store) ListenBySession(ctx context.Context, sessionID string) (*nineten.Listen, error) {
	const op = "sqlstore.ListenBySession"
	tb := tablesOf(sessionID)
	l, err := scanListen(s.read.QueryRowContext(ctx,
		`SELECT `+strings.Replace(listenCols, "l.track_id", "l."+tb.track, 1)+` FROM `+tb.listens+` l WHERE l.session_id = ?`, sessionID))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "the listen of session %q", sessionID)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	if tb == remoteListens {
		l.TrackID, l.RemoteTrackID = 0, l.TrackID
	}
	return l, nil
}

// RecentListens lists a user's verified listens, most recently started
// first; limit is capped like a page.
func (s *store) RecentListens(ctx context.Context, userID nineten.ID, limit int) ([]nineten.Listen, error) {
	limit, _ = window(nineten.Page{Limit: limit})
	listens, err := queryAll(ctx, s.read, scanListenTrack, `
		SELECT `+listenCols+`, `+trackCols+` FROM listens l
		JOIN tracks t ON t.id = l.track_id
		JOIN artists ar ON ar.id = t.artist_id
		LEFT JOIN albums al ON al.id = t.album_id
		WHERE l.user_id = ? AND l.status = 'verified'
		ORDER BY l.started_at DESC, l.id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, dbError("sqlstore.RecentListens", err, "")
	}
	remote, err := queryAll(ctx, s.read, scanRemoteListen, `
		SELECT `+strings.Replace(listenCols, "l.track_id", "l.remote_track_id", 1)+`, `+remoteTrackCols+`
		FROM remote_listens l JOIN remote_tracks rt ON rt.id = l.remote_track_id
		WHERE l.user_id = ? AND l.status = 'verified'
		ORDER BY l.started_at DESC, l.id DESC LIMIT ?`, userID, limit)
	if err != nil {
		return nil, dbError("sqlstore.RecentListens", err, "")
	}
	// Both lists are newest first; the newest of either are kept.
	all := append(listens, remote...)
	slices.SortStableFunc(all, func(a, b nineten.Listen) int { return b.StartedAt.Compare(a.StartedAt) })
	return all[:min(len(all), limit)], nil
}
