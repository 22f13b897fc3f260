package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"nineten.dev"
)

func (s *store) SaveStatement(ctx context.Context, st *nineten.SettlementStatement) error {
	const op = "sqlstore.SaveStatement"
	if st.ID == "" || (st.Direction != nineten.StatementSent && st.Direction != nineten.StatementReceived) {
		return nineten.E(op, nineten.KindInvalid, "a statement needs an id and a direction")
	}
	err := s.atomic(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `
			INSERT INTO statements (id, direction, period, payer, payee, peer, total, digest, document, status, reason, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
			ON CONFLICT (id, direction) DO UPDATE SET period = excluded.period, payer = excluded.payer,
				payee = excluded.payee, peer = excluded.peer, total = excluded.total, digest = excluded.digest,
				document = excluded.document, status = excluded.status, reason = excluded.reason,
				updated_at = excluded.updated_at`,
			st.ID, st.Direction, st.Period, st.Payer, st.Payee, st.Peer, st.Total, st.Digest, st.Document,
			st.Status, st.Reason, ms(st.CreatedAt), ms(st.UpdatedAt))
		if err != nil {
			return err
		}
		if _, err := q.ExecContext(ctx, `DELETE FROM statement_lines WHERE statement_id = ? AND direction = ?`, st.ID, st.Direction); err != nil {
			return err
		}
		for _, l := range st.Lines {
			_, err := q.ExecContext(ctx, `
				INSERT INTO statement_lines (statement_id, direction, artist, amount, paid_ref, paid_at, wallet)
				VALUES (?, ?, ?, ?, ?, ?, ?)`,
				st.ID, st.Direction, l.Artist, l.Amount, l.PaidRef, ms(l.PaidAt), l.Wallet)
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return dbError(op, err, "the statement names an artist twice")
	}
	return nil
}

const statementCols = `id, direction, period, payer, payee, peer, total, digest, document, status, reason, created_at, updated_at`

func scanStatement(row scanner) (*nineten.SettlementStatement, error) {
	var st nineten.SettlementStatement
	var created, updated int64
	err := row.Scan(&st.ID, &st.Direction, &st.Period, &st.Payer, &st.Payee, &st.Peer, &st.Total, &st.Digest,
		&st.Document, &st.Status, &st.Reason, &created, &updated)
	if err != nil {
		return nil, err
	}
	st.CreatedAt, st.UpdatedAt = fromMS(created), fromMS(updated)
	return &st, nil
}

type lineRow struct {
	id   string
	dir  nineten.StatementDirection
	line nineten.StatementLine
}

func scanLine(row scanner) (*lineRow, error) {
	var r lineRow
	var paid int64
	if err := row.Scan(&r.id, &r.dir, &r.line.Artist, &r.line.Amount, &r.line.PaidRef, &paid, &r.line.Wallet); err != nil {
		return nil, err
	}
	r.line.PaidAt = fromMS(paid)
	return &r, nil
}

// withLines fills the lines of statements, in order of artist.
func (s *store) withLines(ctx context.Context, sts []nineten.SettlementStatement) error {
	if len(sts) == 0 {
		return nil
	}
	args := make([]any, 0, len(sts))
	for _, st := range sts {
		args = append(args, st.ID)
	}
	rows, err := queryAll(ctx, s.read, scanLine, `SELECT statement_id, direction, artist, amount, paid_ref, paid_at, wallet
		FROM statement_lines WHERE statement_id IN (`+placeholders(len(args))+`) ORDER BY artist`, args...)
	if err != nil {
		return err
	}
	for i := range sts {
		sts[i].Lines = []nineten.StatementLine{}
		for _, r := range rows {
			if r.id == sts[i].ID && r.dir == sts[i].Direction {
				sts[i].Lines = append(sts[i].Lines, r.line)
			}
		}
	}
	return nil
}

func (s *store) Statement(ctx context.Context, id string, dir nineten.StatementDirection) (*nineten.SettlementStatement, error) {
	const op = "sqlstore.Statement"
	st, err := scanStatement(s.read.QueryRowContext(ctx, `SELECT `+statementCols+` FROM statements WHERE id = ? AND direction = ?`, id, dir))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nineten.E(op, nineten.KindNotFound, "no statement "+id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	one := []nineten.SettlementStatement{*st}
	if err := s.withLines(ctx, one); err != nil {
		return nil, dbError(op, err, "")
	}
	return &one[0], nil
}

func (s *store) Statements(ctx context.Context, f nineten.StatementFilter, p nineten.Page) ([]nineten.SettlementStatement, error) {
	const op = "sqlstore.Statements"
	var w where
	if f.Direction != "" {
		w.add("direction = ?", f.Direction)
	}
	if f.Period != "" {
		w.add("period = ?", f.Period)
	}
	if f.Status != "" {
		w.add("status = ?", f.Status)
	}
	limit, offset := window(p)
	sts, err := queryAll(ctx, s.read, scanStatement, `SELECT `+statementCols+` FROM statements`+w.String()+`
		ORDER BY period DESC, id, direction LIMIT ? OFFSET ?`, append(w.args, limit, offset)...)
	if err == nil {
		err = s.withLines(ctx, sts)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return sts, nil
}

func (s *store) AddStatementConflict(ctx context.Context, c nineten.StatementConflict) error {
	_, err := s.write.ExecContext(ctx, `INSERT INTO statement_conflicts (statement_id, digest, document, received_at)
		VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING`, c.StatementID, c.Digest, c.Document, ms(c.ReceivedAt))
	if err != nil {
		return dbError("sqlstore.AddStatementConflict", err, "")
	}
	return nil
}

func (s *store) StatementConflicts(ctx context.Context, id string) ([]nineten.StatementConflict, error) {
	cs, err := queryAll(ctx, s.read, func(row scanner) (*nineten.StatementConflict, error) {
		var c nineten.StatementConflict
		var at int64
		if err := row.Scan(&c.StatementID, &c.Digest, &c.Document, &at); err != nil {
			return nil, err
		}
		c.ReceivedAt = fromMS(at)
		return &c, nil
	}, `SELECT statement_id, digest, document, received_at FROM statement_conflicts WHERE statement_id = ? ORDER BY received_at, digest`, id)
	if err != nil {
		return nil, dbError("sqlstore.StatementConflicts", err, "")
	}
	return cs, nil
}

func (s *store) ArtistStatementLines(ctx context.Context, artist string) ([]nineten.ArtistStatementLine, error) {
	ls, err := queryAll(ctx, s.read, func(row scanner) (*nineten.ArtistStatementLine, error) {
		var l nineten.ArtistStatementLine
		var paid int64
		if err := row.Scan(&l.StatementID, &l.Period, &l.Payer, &l.Peer, &l.Amount, &l.PaidRef, &paid); err != nil {
			return nil, err
		}
		l.PaidAt = fromMS(paid)
		return &l, nil
	}, `SELECT s.id, s.period, s.payer, s.peer, l.amount, l.paid_ref, l.paid_at
		FROM statement_lines l JOIN statements s ON s.id = l.statement_id AND s.direction = l.direction
		WHERE l.artist = ? AND l.direction = 'received' ORDER BY s.period DESC, s.payer`, artist)
	if err != nil {
		return nil, dbError("sqlstore.ArtistStatementLines", err, "")
	}
	return ls, nil
}

func (s *store) SaveSupporter(ctx context.Context, sp *nineten.Supporter) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO supporters (artist_id, actor, node, activity, status, paid, since, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (artist_id, actor) DO UPDATE SET node = excluded.node, activity = excluded.activity,
			status = excluded.status, paid = excluded.paid, updated_at = excluded.updated_at`,
		sp.ArtistID, sp.Actor, sp.Node, sp.Activity, sp.Status, sp.Paid, ms(sp.Since), ms(sp.Updated))
	if err != nil {
		return dbError("sqlstore.SaveSupporter", err, "")
	}
	return nil
}

func (s *store) DeleteSupporterByActivity(ctx context.Context, actor, activity string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM supporters WHERE actor = ? AND activity = ?`, actor, activity)
	if err != nil {
		return dbError("sqlstore.DeleteSupporterByActivity", err, "")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nineten.E("sqlstore.DeleteSupporterByActivity", nineten.KindNotFound, "no supporter by "+activity)
	}
	return nil
}

func (s *store) Supporters(ctx context.Context, artistID nineten.ID) ([]nineten.Supporter, error) {
	sps, err := queryAll(ctx, s.read, func(row scanner) (*nineten.Supporter, error) {
		var sp nineten.Supporter
		var since, updated int64
		if err := row.Scan(&sp.ArtistID, &sp.Actor, &sp.Node, &sp.Activity, &sp.Status, &sp.Paid, &since, &updated); err != nil {
			return nil, err
		}
		sp.Since, sp.Updated = fromMS(since), fromMS(updated)
		return &sp, nil
	}, `SELECT artist_id, actor, node, activity, status, paid, since, updated_at FROM supporters
		WHERE artist_id = ? ORDER BY since DESC, actor`, artistID)
	if err != nil {
		return nil, dbError("sqlstore.Supporters", err, "")
	}
	return sps, nil
}

func (s *store) SaveToldSubscription(ctx context.Context, t *nineten.ToldSubscription) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO told_subscriptions (user_id, target, activity, status, paid, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id, target) DO UPDATE SET activity = excluded.activity, status = excluded.status,
			paid = excluded.paid, updated_at = excluded.updated_at`,
		t.UserID, t.Target, t.Activity, t.Status, t.Paid, ms(t.Updated))
	if err != nil {
		return dbError("sqlstore.SaveToldSubscription", err, "")
	}
	return nil
}

func (s *store) DeleteToldSubscription(ctx context.Context, userID nineten.ID, target string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM told_subscriptions WHERE user_id = ? AND target = ?`, userID, target); err != nil {
		return dbError("sqlstore.DeleteToldSubscription", err, "")
	}
	return nil
}

func (s *store) ToldSubscriptions(ctx context.Context, userID nineten.ID) ([]nineten.ToldSubscription, error) {
	ts, err := queryAll(ctx, s.read, func(row scanner) (*nineten.ToldSubscription, error) {
		var t nineten.ToldSubscription
		var at int64
		if err := row.Scan(&t.UserID, &t.Target, &t.Activity, &t.Status, &t.Paid, &at); err != nil {
			return nil, err
		}
		t.Updated = fromMS(at)
		return &t, nil
	}, `SELECT user_id, target, activity, status, paid, updated_at FROM told_subscriptions WHERE user_id = ? ORDER BY target`, userID)
	if err != nil {
		return nil, dbError("sqlstore.ToldSubscriptions", err, "")
	}
	return ts, nil
}

func (s *store) ToldListeners(ctx context.Context) ([]nineten.ID, error) {
	ids, err := queryAll(ctx, s.read, func(row scanner) (*nineten.ID, error) {
		var id nineten.ID
		return &id, row.Scan(&id)
	}, `SELECT DISTINCT user_id FROM told_subscriptions ORDER BY user_id`)
	if err != nil {
		return nil, dbError("sqlstore.ToldListeners", err, "")
	}
	return ids, nil
}
