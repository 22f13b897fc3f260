package sqlstore

import (
	"context"
	"slices"

	"nineten.dev"
)

// ListeningTotals runs one grouped query and streams its rows, so a
// month of a large node never sits in memory at once.
func (s *store) ListeningTotals(ctx context.Context, q nineten.TotalsQuery, fn func(nineten.ListenerArtistTotal) error) error {
	const op = "sqlstore.ListeningTotals"
	w := &where{}
	w.add(`l.status = 'verified'`)
	w.add(`l.user_id IS NOT NULL`)
	// Listens a fake-stream flag holds wait for review; confirmed ones
	// never count.
	w.add(`l.held = 0`)
	w.add(`l.started_at >= ?`, ms(q.From))
	w.add(`l.started_at < ?`, ms(q.To))
	w.add(`l.heard_ms >= ?`, q.MinHeardMS)
	if q.UserID != 0 {
		w.add(`l.user_id = ?`, q.UserID)
	}
	// Listens of other servers' tracks count for the artist their server
	// named as payee; those of tracks without one cannot be paid. Local
	// artists come first (their payee is ''), each kind in order.
	wr := &where{}
	wr.args = append(wr.args, w.args...)
	wr.conds = append(wr.conds, w.conds...)
	wr.add(`rt.payee <> ''`)
	args := slices.Concat(w.args, wr.args)
	rows, err := s.read.QueryContext(ctx, `
		SELECT l.user_id, t.artist_id, '' AS payee, COUNT(*), SUM(l.heard_ms) FROM listens l
		JOIN tracks t ON t.id = l.track_id`+w.String()+`
		GROUP BY l.user_id, t.artist_id
		UNION ALL
		SELECT l.user_id, 0, rt.payee, COUNT(*), SUM(l.heard_ms) FROM remote_listens l
		JOIN remote_tracks rt ON rt.id = l.remote_track_id`+wr.String()+`
		GROUP BY l.user_id, rt.payee
		ORDER BY 1, 3, 2`, args...)
	if err != nil {
		return nineten.E(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var t nineten.ListenerArtistTotal
		if err := rows.Scan(&t.UserID, &t.ArtistID, &t.Payee, &t.Listens, &t.HeardMS); err != nil {
			return nineten.E(op, err)
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return nineten.E(op, err)
	}
	return nil
}
