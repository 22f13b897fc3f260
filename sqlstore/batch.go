package sqlstore

import (
	"context"
	"slices"
	"strings"

	"nineten.dev"
)

// batchRows bounds the rows of one statement: far below both engines'
// limits on bound parameters (32,766 on SQLite, 65,535 on PostgreSQL).
const batchRows = 500

// SaveListening writes many rows with a few multi-row statements instead
// of one statement per row: on SQLite the cost of a small write is mostly
// preparing its statement, on PostgreSQL a round trip. The rows come as a
// VALUES list whose numbers are CAST so that PostgreSQL knows their types.
func (s *store) SaveListening(ctx context.Context, reports []nineten.ListenSession, segments []nineten.ServedSegment) error {
	const op = "sqlstore.SaveListening"
	// Sessions of tracks here and of other servers' are in tables of their
	// own; one transaction writes both.
	split := func(tb listenTables) ([]nineten.ListenSession, []nineten.ServedSegment) {
		var rs []nineten.ListenSession
		var gs []nineten.ServedSegment
		for _, r := range reports {
			if tablesOf(r.ID) == tb {
				rs = append(rs, r)
			}
		}
		for _, g := range segments {
			if tablesOf(g.SessionID) == tb {
				gs = append(gs, g)
			}
		}
		return rs, gs
	}
	err := s.atomic(ctx, func(q querier) error {
		for _, tb := range []listenTables{localListens, remoteListens} {
			reports, segments := split(tb)
			if err := saveListening(ctx, q, tb, reports, segments); err != nil {
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

// saveListening writes reports and segments of one kind of session.
func saveListening(ctx context.Context, q querier, tb listenTables, reports []nineten.ListenSession, segments []nineten.ServedSegment) error {
	for chunk := range slices.Chunk(segments, batchRows) {
		args := make([]any, 0, 6*len(chunk))
		for _, g := range chunk {
			args = append(args, g.SessionID, g.Rendition, g.Index, g.StartMS, g.EndMS, ms(g.ServedAt))
		}
		// The WHERE also keeps SQLite from reading ON CONFLICT as part
		// of a join.
		_, err := q.ExecContext(ctx, `
			WITH v (session_id, rendition, idx, start_ms, end_ms, served_at) AS (VALUES `+
			rowsOf(len(chunk), "(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))")+`)
			INSERT INTO `+tb.segments+` (session_id, rendition, idx, start_ms, end_ms, served_at)
			SELECT session_id, rendition, idx, start_ms, end_ms, served_at FROM v
			WHERE EXISTS (SELECT 1 FROM `+tb.sessions+` ls WHERE ls.id = v.session_id)
			ON CONFLICT (session_id, rendition, idx) DO NOTHING`, args...)
		if err != nil {
			return err
		}
	}
	for chunk := range slices.Chunk(reports, batchRows) {
		args := make([]any, 0, 5*len(chunk))
		for _, r := range chunk {
			args = append(args, r.ID, r.LastSeq, r.HeardMS, r.PositionMS, ms(r.LastReportAt))
		}
		_, err := q.ExecContext(ctx, `
			WITH v (id, last_seq, heard_ms, position_ms, last_report_at) AS (VALUES `+
			rowsOf(len(chunk), "(CAST(? AS TEXT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))")+`)
			UPDATE `+tb.sessions+` SET last_seq = v.last_seq, heard_ms = v.heard_ms,
				position_ms = v.position_ms, last_report_at = v.last_report_at
			FROM v WHERE `+tb.sessions+`.id = v.id AND `+tb.sessions+`.last_seq < v.last_seq`, args...)
		if err != nil {
			return err
		}
		// A listen goes on after it is verified: what the listener hears
		// later still weighs in the month's payout.
		_, err = q.ExecContext(ctx, `
			WITH v (id, heard_ms) AS (VALUES `+rowsOf(len(chunk), "(CAST(? AS TEXT), CAST(? AS BIGINT))")+`)
			UPDATE `+tb.listens+` SET heard_ms = v.heard_ms
			FROM v WHERE `+tb.listens+`.session_id = v.id AND `+tb.listens+`.heard_ms < v.heard_ms`, heardArgs(chunk)...)
		if err != nil {
			return err
		}
	}
	return nil
}

func heardArgs(reports []nineten.ListenSession) []any {
	args := make([]any, 0, 2*len(reports))
	for _, r := range reports {
		args = append(args, r.ID, r.HeardMS)
	}
	return args
}

// rowsOf repeats row n times, comma-separated.
func rowsOf(n int, row string) string {
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}
