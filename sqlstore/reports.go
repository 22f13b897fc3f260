package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"nineten.dev"
)

// Listening reports: see nineten.ReportStore and
// migrations/*/00013_reports.sql.

func (s *store) SaveReport(ctx context.Context, r *nineten.StoredReport) error {
	const op = "sqlstore.SaveReport"
	if r.CreatedAt.IsZero() {
		r.CreatedAt = nowUTC()
	}
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO reports (id, kind, day, version, hash, content, file, listens, listeners, suppressed, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, day = excluded.day, version = excluded.version,
			hash = excluded.hash, content = excluded.content, file = excluded.file, listens = excluded.listens,
			listeners = excluded.listeners, suppressed = excluded.suppressed, created_at = excluded.created_at`,
		r.ID, string(r.Kind), r.Day, r.Version, r.Hash, r.Content, r.File, r.Listens, r.Listeners, r.Suppressed, ms(r.CreatedAt))
	if err != nil {
		return dbError(op, err, "")
	}
	return nil
}

const reportCols = `id, kind, day, version, hash, content, listens, listeners, suppressed, created_at`

func scanReport(row scanner, file *[]byte) (*nineten.StoredReport, error) {
	var r nineten.StoredReport
	var kind string
	var created int64
	dest := []any{&r.ID, &kind, &r.Day, &r.Version, &r.Hash, &r.Content, &r.Listens, &r.Listeners, &r.Suppressed, &created}
	if file != nil {
		dest = append(dest, file)
	}
	if err := row.Scan(dest...); err != nil {
		return nil, err
	}
	r.Kind, r.CreatedAt = nineten.ReportKind(kind), fromMS(created)
	return &r, nil
}

func (s *store) Report(ctx context.Context, id string) (*nineten.StoredReport, error) {
	const op = "sqlstore.Report"
	var file []byte
	r, err := scanReport(s.read.QueryRowContext(ctx, `SELECT `+reportCols+`, file FROM reports WHERE id = ?`, id), &file)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "report %q", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	r.File = file
	return r, nil
}

func (s *store) Reports(ctx context.Context, kind nineten.ReportKind, from, to string) ([]nineten.StoredReport, error) {
	const op = "sqlstore.Reports"
	scan := func(row scanner) (*nineten.StoredReport, error) { return scanReport(row, nil) }
	out, err := queryAll(ctx, s.read, scan, `SELECT `+reportCols+` FROM reports WHERE kind = ? AND day >= ? AND day <= ? ORDER BY day`, string(kind), from, to)
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return out, nil
}

// DailyListening is the one query daily reports read listening from: the
// same listens as ListeningTotals (verified, of logged-in listeners, at
// least minHeardMS, not held by a fake-stream flag), of this node's tracks
// and of remote tracks played through it, grouped per listener and track
// so that a report can aggregate them per track, per artist and per
// listener × artist.
func (s *store) DailyListening(ctx context.Context, from, to time.Time, minHeardMS int64, fn func(nineten.DayListening) error) error {
	const op = "sqlstore.DailyListening"
	rows, err := s.read.QueryContext(ctx, `
		SELECT l.user_id, l.track_id, t.artist_id, '' AS iri, '' AS payee, COUNT(*), SUM(l.heard_ms) FROM listens l
		JOIN tracks t ON t.id = l.track_id
		WHERE l.status = 'verified' AND l.user_id IS NOT NULL AND l.held = 0
			AND l.started_at >= ? AND l.started_at < ? AND l.heard_ms >= ?
		GROUP BY l.user_id, l.track_id, t.artist_id
		UNION ALL
		SELECT l.user_id, 0, 0, rt.iri, rt.payee, COUNT(*), SUM(l.heard_ms) FROM remote_listens l
		JOIN remote_tracks rt ON rt.id = l.remote_track_id
		WHERE l.status = 'verified' AND l.user_id IS NOT NULL AND l.held = 0 AND rt.payee <> ''
			AND l.started_at >= ? AND l.started_at < ? AND l.heard_ms >= ?
		GROUP BY l.user_id, rt.iri, rt.payee
		ORDER BY 1, 4, 2`, ms(from), ms(to), minHeardMS, ms(from), ms(to), minHeardMS)
	if err != nil {
		return dbError(op, err, "")
	}
	defer rows.Close()
	for rows.Next() {
		var d nineten.DayListening
		if err := rows.Scan(&d.UserID, &d.TrackID, &d.ArtistID, &d.RemoteTrack, &d.Payee, &d.Listens, &d.HeardMS); err != nil {
			return dbError(op, err, "")
		}
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return dbError(op, err, "")
	}
	return nil
}
