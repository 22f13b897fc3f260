package sqlstore

import (
	"context"
	"strings"
	"time"

	"nineten.dev"
)

func (s *store) SaveReview(ctx context.Context, r *nineten.PeerReview) error {
	att := r.Attestation
	if att == nil {
		att = []byte{}
	}
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO peer_reviews (month, peer, role, status, report_hash, findings, attestation, requested_at, deadline, answered_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (month, peer, role) DO UPDATE SET status = excluded.status, report_hash = excluded.report_hash,
			findings = excluded.findings, attestation = excluded.attestation, requested_at = excluded.requested_at,
			deadline = excluded.deadline, answered_at = excluded.answered_at`,
		r.Month, r.Peer, r.Role, r.Status, r.ReportHash, strings.Join(r.Findings, "\n"), att,
		ms(r.RequestedAt), ms(r.Deadline), ms(r.AnsweredAt))
	if err != nil {
		return dbError("sqlstore.SaveReview", err, "")
	}
	return nil
}

func (s *store) Reviews(ctx context.Context, month nineten.Period, role nineten.ReviewRole) ([]nineten.PeerReview, error) {
	rs, err := queryAll(ctx, s.read, func(row scanner) (*nineten.PeerReview, error) {
		var r nineten.PeerReview
		var findings string
		var req, deadline, answered int64
		if err := row.Scan(&r.Month, &r.Peer, &r.Role, &r.Status, &r.ReportHash, &findings, &r.Attestation, &req, &deadline, &answered); err != nil {
			return nil, err
		}
		if findings != "" {
			r.Findings = strings.Split(findings, "\n")
		}
		if len(r.Attestation) == 0 {
			r.Attestation = nil
		}
		r.RequestedAt, r.Deadline, r.AnsweredAt = fromMS(req), fromMS(deadline), fromMS(answered)
		return &r, nil
	}, `SELECT month, peer, role, status, report_hash, findings, attestation, requested_at, deadline, answered_at
		FROM peer_reviews WHERE (month = ? OR ? = '') AND role = ? ORDER BY month DESC, peer`, month, month, role)
	if err != nil {
		return nil, dbError("sqlstore.Reviews", err, "")
	}
	return rs, nil
}

func (s *store) OpenDispute(ctx context.Context, d nineten.Dispute) error {
	err := s.atomic(ctx, func(q querier) error {
		var n int
		if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM disputes WHERE month = ? AND resolved = 0`, d.Month).Scan(&n); err != nil || n > 0 {
			return err
		}
		_, err := q.ExecContext(ctx, `INSERT INTO disputes (month, reason, opened_at) VALUES (?, ?, ?)`, d.Month, d.Reason, ms(d.OpenedAt))
		return err
	})
	if err != nil {
		return dbError("sqlstore.OpenDispute", err, "")
	}
	return nil
}

func (s *store) ResolveDispute(ctx context.Context, month nineten.Period, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE disputes SET resolved = ? WHERE month = ? AND resolved = 0`, ms(at), month)
	if err != nil {
		return dbError("sqlstore.ResolveDispute", err, "")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nineten.E("sqlstore.ResolveDispute", nineten.KindNotFound, "no open dispute of "+string(month))
	}
	return nil
}

func (s *store) Disputes(ctx context.Context, month nineten.Period) ([]nineten.Dispute, error) {
	ds, err := queryAll(ctx, s.read, func(row scanner) (*nineten.Dispute, error) {
		var d nineten.Dispute
		var opened, resolved int64
		if err := row.Scan(&d.Month, &d.Reason, &opened, &resolved); err != nil {
			return nil, err
		}
		d.OpenedAt, d.Resolved = fromMS(opened), fromMS(resolved)
		return &d, nil
	}, `SELECT month, reason, opened_at, resolved FROM disputes WHERE month = ? OR ? = '' ORDER BY opened_at DESC`, month, month)
	if err != nil {
		return nil, dbError("sqlstore.Disputes", err, "")
	}
	return ds, nil
}
