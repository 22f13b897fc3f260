package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	"nineten.dev"
)

// DetectionListens reads the session's heard time as well as the listen's:
// a listen is saved when the player first claims the threshold, and the
// rest of what it heard reaches only the session. Listens of other
// servers' tracks played here (those that pay someone) come with them,
// from the remote tables, which keep the same tags per session.
func (s *store) DetectionListens(ctx context.Context, from, to time.Time, fn func(nineten.DetectionListen) error) error {
	const op = "sqlstore.DetectionListens"
	rows, err := s.read.QueryContext(ctx, `
		SELECT 0, l.id, l.user_id, u.created_at, l.track_id, t.artist_id, t.duration_ms, l.started_at,
			CASE WHEN ls.heard_ms > l.heard_ms THEN ls.heard_ms ELSE l.heard_ms END,
			ls.network, ls.device, l.held
		FROM listens l
		JOIN listen_sessions ls ON ls.id = l.session_id
		JOIN tracks t ON t.id = l.track_id
		JOIN users u ON u.id = l.user_id
		WHERE l.status = 'verified' AND l.started_at >= ? AND l.started_at < ?
		UNION ALL
		SELECT 1, l.id, l.user_id, u.created_at, l.remote_track_id, p.first, rt.duration_ms, l.started_at,
			CASE WHEN ls.heard_ms > l.heard_ms THEN ls.heard_ms ELSE l.heard_ms END,
			ls.network, ls.device, l.held
		FROM remote_listens l
		JOIN remote_listen_sessions ls ON ls.id = l.session_id
		JOIN remote_tracks rt ON rt.id = l.remote_track_id
		JOIN (SELECT payee, MIN(id) AS first FROM remote_tracks WHERE payee <> '' GROUP BY payee) p ON p.payee = rt.payee
		JOIN users u ON u.id = l.user_id
		WHERE l.status = 'verified' AND l.started_at >= ? AND l.started_at < ?
		ORDER BY 8, 1, 2`, ms(from), ms(to), ms(from), ms(to))
	if err != nil {
		return dbError(op, err, "")
	}
	defer rows.Close()
	for rows.Next() {
		var d nineten.DetectionListen
		var remote int
		var created, started, held int64
		if err := rows.Scan(&remote, &d.ListenID, &d.UserID, &created, &d.TrackID, &d.ArtistID, &d.TrackMS, &started, &d.HeardMS, &d.Network, &d.Device, &held); err != nil {
			return dbError(op, err, "")
		}
		d.Remote, d.UserCreatedAt, d.StartedAt, d.Held = remote == 1, fromMS(created), fromMS(started), held != 0
		if err := fn(d); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return dbError(op, err, "")
	}
	return nil
}

// setHeld brings the held column of the listens that flags hold in step
// with those flags: a confirmed flag excludes a listen for good, a flag
// awaiting review holds it, and a listen only cleared flags hold counts.
// table is "listens" (with links in anomaly_flag_listens) or
// "remote_listens" (anomaly_flag_remote_listens).
func setHeld(ctx context.Context, q querier, table, listens string, args ...any) error {
	links := map[string]string{"listens": "anomaly_flag_listens", "remote_listens": "anomaly_flag_remote_listens"}[table]
	_, err := q.ExecContext(ctx, `
		UPDATE `+table+` SET held = CASE
			WHEN EXISTS (SELECT 1 FROM `+links+` fl JOIN anomaly_flags f ON f.id = fl.flag_id
				WHERE fl.listen_id = `+table+`.id AND f.status = 'confirmed') THEN 2
			WHEN EXISTS (SELECT 1 FROM `+links+` fl JOIN anomaly_flags f ON f.id = fl.flag_id
				WHERE fl.listen_id = `+table+`.id AND f.status = 'held') THEN 1
			ELSE 0 END
		WHERE id IN (`+listens+`)`, args...)
	return err
}

// linkListens makes flag id hold listens of table (see setHeld).
func linkListens(ctx context.Context, q querier, table string, id int64, listens []nineten.ID) error {
	links := map[string]string{"listens": "anomaly_flag_listens", "remote_listens": "anomaly_flag_remote_listens"}[table]
	for chunk := range slices.Chunk(listens, batchRows) {
		args := []any{id}
		for _, l := range chunk {
			args = append(args, int64(l))
		}
		_, err := q.ExecContext(ctx, `
			INSERT INTO `+links+` (flag_id, listen_id)
			SELECT CAST(? AS BIGINT), id FROM `+table+` WHERE id IN (`+placeholders(len(chunk))+`)
			ON CONFLICT (flag_id, listen_id) DO NOTHING`, args...)
		if err != nil {
			return err
		}
		if err := setHeld(ctx, q, table, placeholders(len(chunk)), args[1:]...); err != nil {
			return err
		}
	}
	return nil
}

func (s *store) SaveAnomalyFlags(ctx context.Context, flags []nineten.AnomalyFlag) (int, error) {
	const op = "sqlstore.SaveAnomalyFlags"
	var created int
	err := s.atomic(ctx, func(q querier) error {
		created = 0
		for _, f := range flags {
			ev, err := json.Marshal(f.Evidence)
			if err != nil {
				return err
			}
			at := f.CreatedAt
			if at.IsZero() {
				at = nowUTC()
			}
			res, err := q.ExecContext(ctx, `
				INSERT INTO anomaly_flags (rule, subject, day, score, summary, evidence, status, created_at)
				VALUES (?, ?, ?, ?, ?, ?, 'held', ?)
				ON CONFLICT (rule, subject, day) DO NOTHING`,
				f.Rule, f.Subject, ms(f.Day), f.Score, f.Summary, string(ev), ms(at))
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n > 0 {
				created++
			}
			var id int64
			err = q.QueryRowContext(ctx, `SELECT id FROM anomaly_flags WHERE rule = ? AND subject = ? AND day = ?`,
				f.Rule, f.Subject, ms(f.Day)).Scan(&id)
			if err != nil {
				return err
			}
			if err := linkListens(ctx, q, "listens", id, f.ListenIDs); err != nil {
				return err
			}
			if err := linkListens(ctx, q, "remote_listens", id, f.RemoteListenIDs); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, dbError(op, err, "")
	}
	return created, nil
}

func (s *store) AnomalyFlags(ctx context.Context, fq nineten.FlagQuery) ([]nineten.AnomalyFlag, error) {
	const op = "sqlstore.AnomalyFlags"
	w := &where{}
	if fq.Status != "" {
		w.add(`f.status = ?`, string(fq.Status))
	}
	if fq.Rule != "" {
		w.add(`f.rule = ?`, fq.Rule)
	}
	if fq.UserID != 0 {
		w.add(`(EXISTS (SELECT 1 FROM anomaly_flag_listens fl JOIN listens l ON l.id = fl.listen_id
			WHERE fl.flag_id = f.id AND l.user_id = ?) OR EXISTS (SELECT 1 FROM anomaly_flag_remote_listens fl
			JOIN remote_listens l ON l.id = fl.listen_id WHERE fl.flag_id = f.id AND l.user_id = ?))`, fq.UserID, fq.UserID)
	}
	if fq.ArtistID != 0 {
		w.add(`EXISTS (SELECT 1 FROM anomaly_flag_listens fl JOIN listens l ON l.id = fl.listen_id
			JOIN tracks t ON t.id = l.track_id WHERE fl.flag_id = f.id AND t.artist_id = ?)`, fq.ArtistID)
	}
	if len(fq.IDs) > 0 {
		args := make([]any, len(fq.IDs))
		for i, id := range fq.IDs {
			args[i] = int64(id)
		}
		w.add(`f.id IN (`+placeholders(len(args))+`)`, args...)
	}
	limit := fq.Limit
	if limit <= 0 || limit > 1000 {
		limit = 200
	}
	rows, err := s.read.QueryContext(ctx, `
		SELECT f.id, f.rule, f.subject, f.day, f.score, f.summary, f.evidence, f.status,
			f.created_at, f.reviewed_at, coalesce(f.reviewed_by, 0),
			(SELECT COUNT(*) FROM anomaly_flag_listens fl WHERE fl.flag_id = f.id) +
			(SELECT COUNT(*) FROM anomaly_flag_remote_listens fl WHERE fl.flag_id = f.id)
		FROM anomaly_flags f`+w.String()+`
		ORDER BY f.score DESC, f.day DESC, f.id LIMIT `+fmt.Sprint(limit), w.args...)
	if err != nil {
		return nil, dbError(op, err, "")
	}
	var out []nineten.AnomalyFlag
	for rows.Next() {
		var f nineten.AnomalyFlag
		var day, created, reviewed int64
		var ev string
		if err := rows.Scan(&f.ID, &f.Rule, &f.Subject, &day, &f.Score, &f.Summary, &ev, &f.Status,
			&created, &reviewed, &f.ReviewedBy, &f.Listens); err != nil {
			rows.Close()
			return nil, dbError(op, err, "")
		}
		f.Day, f.CreatedAt, f.ReviewedAt = fromMS(day), fromMS(created), fromMS(reviewed)
		if err := json.Unmarshal([]byte(ev), &f.Evidence); err != nil {
			rows.Close()
			return nil, nineten.E(op, fmt.Errorf("flag %d: evidence: %w", f.ID, err))
		}
		out = append(out, f)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, dbError(op, err, "")
	}
	if err := s.flagMembers(ctx, out); err != nil {
		return nil, dbError(op, err, "")
	}
	return out, nil
}

// flagMembers fills in the listeners and artists of flags: one query for
// each over all the flags, not two per flag (a page holds up to 1000).
func (s *store) flagMembers(ctx context.Context, flags []nineten.AnomalyFlag) error {
	if len(flags) == 0 {
		return nil
	}
	byID := make(map[nineten.ID]*nineten.AnomalyFlag, len(flags))
	ids := make([]any, len(flags))
	for i := range flags {
		byID[flags[i].ID] = &flags[i]
		ids[i] = int64(flags[i].ID)
	}
	in := placeholders(len(ids))
	// pairs reads (flag, id) rows, ordered by flag then id, into add.
	pairs := func(query string, args []any, add func(f *nineten.AnomalyFlag, id nineten.ID)) error {
		rows, err := s.read.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var flag, id nineten.ID
			if err := rows.Scan(&flag, &id); err != nil {
				return err
			}
			add(byID[flag], id)
		}
		return rows.Err()
	}
	err := pairs(`SELECT fl.flag_id, l.user_id FROM anomaly_flag_listens fl
		JOIN listens l ON l.id = fl.listen_id WHERE fl.flag_id IN (`+in+`) AND l.user_id IS NOT NULL
		UNION SELECT fl.flag_id, l.user_id FROM anomaly_flag_remote_listens fl
		JOIN remote_listens l ON l.id = fl.listen_id WHERE fl.flag_id IN (`+in+`) AND l.user_id IS NOT NULL
		ORDER BY 1, 2`, slices.Concat(ids, ids),
		func(f *nineten.AnomalyFlag, id nineten.ID) { f.Listeners = append(f.Listeners, id) })
	if err != nil {
		return err
	}
	return pairs(`SELECT DISTINCT fl.flag_id, t.artist_id FROM anomaly_flag_listens fl
		JOIN listens l ON l.id = fl.listen_id JOIN tracks t ON t.id = l.track_id
		WHERE fl.flag_id IN (`+in+`) ORDER BY 1, 2`, ids,
		func(f *nineten.AnomalyFlag, id nineten.ID) { f.Artists = append(f.Artists, id) })
}

func (s *store) ReviewAnomalyFlags(ctx context.Context, ids []nineten.ID, status nineten.FlagStatus, by nineten.ID, at time.Time) (int, error) {
	const op = "sqlstore.ReviewAnomalyFlags"
	if status != nineten.FlagCleared && status != nineten.FlagConfirmed {
		return 0, nineten.E(op, nineten.KindInvalid, fmt.Sprintf("a review clears or confirms a flag, not %q", status))
	}
	if len(ids) == 0 {
		return 0, nil
	}
	var changed int
	err := s.atomic(ctx, func(q querier) error {
		changed = 0
		for chunk := range slices.Chunk(ids, batchRows) {
			args := []any{string(status), ms(at), nullID(by)}
			in := make([]any, len(chunk))
			for i, id := range chunk {
				in[i] = int64(id)
			}
			res, err := q.ExecContext(ctx, `UPDATE anomaly_flags SET status = ?, reviewed_at = ?, reviewed_by = ?
				WHERE id IN (`+placeholders(len(in))+`)`, append(args, in...)...)
			if err != nil {
				return err
			}
			n, _ := res.RowsAffected()
			changed += int(n)
			if err := setHeld(ctx, q, "listens", `SELECT listen_id FROM anomaly_flag_listens WHERE flag_id IN (`+placeholders(len(in))+`)`, in...); err != nil {
				return err
			}
			if err := setHeld(ctx, q, "remote_listens", `SELECT listen_id FROM anomaly_flag_remote_listens WHERE flag_id IN (`+placeholders(len(in))+`)`, in...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, dbError(op, err, "")
	}
	return changed, nil
}

func (s *store) AnomalyRuleCounts(ctx context.Context) ([]nineten.RuleCount, error) {
	const op = "sqlstore.AnomalyRuleCounts"
	rows, err := s.read.QueryContext(ctx, `SELECT rule, status, COUNT(*) FROM anomaly_flags GROUP BY rule, status ORDER BY rule, status`)
	if err != nil {
		return nil, dbError(op, err, "")
	}
	defer rows.Close()
	var out []nineten.RuleCount
	for rows.Next() {
		var c nineten.RuleCount
		if err := rows.Scan(&c.Rule, &c.Status, &c.Flags); err != nil {
			return nil, dbError(op, err, "")
		}
		out = append(out, c)
	}
	return out, orNil(op, rows.Err())
}

func (s *store) ListenHolds(ctx context.Context, q nineten.HoldQuery) ([]nineten.ListenHoldCount, error) {
	const op = "sqlstore.ListenHolds"
	w := &where{}
	w.add(`l.status = 'verified'`)
	w.add(`l.user_id IS NOT NULL`)
	w.add(`l.started_at >= ?`, ms(q.From))
	w.add(`l.started_at < ?`, ms(q.To))
	w.add(`l.heard_ms >= ?`, q.MinHeardMS)
	// Listens of other servers' tracks played here are held like this
	// node's own (see DetectionListens), and count with them unless the
	// query is about one artist of this node.
	var remote string
	var args []any
	if q.ArtistID != 0 {
		w.add(`t.artist_id = ?`, q.ArtistID)
		args = w.args
	} else {
		remote = `
			UNION ALL
			SELECT l.held, l.heard_ms FROM remote_listens l JOIN remote_tracks rt ON rt.id = l.remote_track_id` + w.String() + ` AND rt.payee <> ''`
		args = slices.Concat(w.args, w.args)
	}
	rows, err := s.read.QueryContext(ctx, `
		SELECT held, COUNT(*), SUM(heard_ms) FROM (
			SELECT l.held, l.heard_ms FROM listens l JOIN tracks t ON t.id = l.track_id`+w.String()+remote+`
		) h
		GROUP BY held ORDER BY held`, args...)
	if err != nil {
		return nil, dbError(op, err, "")
	}
	defer rows.Close()
	var out []nineten.ListenHoldCount
	for rows.Next() {
		var c nineten.ListenHoldCount
		if err := rows.Scan(&c.Hold, &c.Listens, &c.HeardMS); err != nil {
			return nil, dbError(op, err, "")
		}
		out = append(out, c)
	}
	return out, orNil(op, rows.Err())
}

func (s *store) DetectionRan(ctx context.Context, day, at time.Time, flags int) error {
	const op = "sqlstore.DetectionRan"
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO anomaly_runs (day, ran_at, flags) VALUES (?, ?, ?)
		ON CONFLICT (day) DO UPDATE SET ran_at = excluded.ran_at, flags = excluded.flags`, ms(day), ms(at), flags)
	return orNil(op, err)
}

func (s *store) DetectionRunAt(ctx context.Context, day time.Time) (time.Time, error) {
	const op = "sqlstore.DetectionRunAt"
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT ran_at FROM anomaly_runs WHERE day = ?`, ms(day)).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, dbError(op, err, "")
	}
	return fromMS(at), nil
}

// orNil is dbError for an error that may be nil.
func orNil(op string, err error) error {
	if err == nil {
		return nil
	}
	return dbError(op, err, "")
}
