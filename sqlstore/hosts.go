package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"nineten.dev"
)

const hostCols = `host, failing_since, failures, unavailable_since, last_success_at`

func scanHost(row scanner) (*nineten.HostHealth, error) {
	var h nineten.HostHealth
	var failing, unavailable, ok int64
	if err := row.Scan(&h.Host, &failing, &h.Failures, &unavailable, &ok); err != nil {
		return nil, err
	}
	h.FailingSince, h.UnavailableSince, h.LastSuccessAt = fromMS(failing), fromMS(unavailable), fromMS(ok)
	return &h, nil
}

func (s *store) HostFailed(ctx context.Context, host string, at time.Time) (nineten.HostHealth, error) {
	const op = "sqlstore.HostFailed"
	var h *nineten.HostHealth
	err := s.atomic(ctx, func(q querier) error {
		_, err := q.ExecContext(ctx, `
			INSERT INTO remote_hosts (host, failing_since, failures) VALUES (?, ?, 1)
			ON CONFLICT (host) DO UPDATE SET failures = remote_hosts.failures + 1,
				failing_since = CASE WHEN remote_hosts.failing_since = 0 THEN excluded.failing_since ELSE remote_hosts.failing_since END`,
			host, ms(at))
		if err != nil {
			return err
		}
		h, err = scanHost(q.QueryRowContext(ctx, `SELECT `+hostCols+` FROM remote_hosts WHERE host = ?`, host))
		return err
	})
	if err != nil {
		return nineten.HostHealth{}, dbError(op, err, "")
	}
	return *h, nil
}

func (s *store) HostAlive(ctx context.Context, host string, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO remote_hosts (host, last_success_at) VALUES (?, ?)
		ON CONFLICT (host) DO UPDATE SET failing_since = 0, failures = 0, unavailable_since = 0,
			last_success_at = excluded.last_success_at`, host, ms(at))
	if err != nil {
		return dbError("sqlstore.HostAlive", err, "")
	}
	return nil
}

func (s *store) MarkHostUnavailable(ctx context.Context, host string, at time.Time) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO remote_hosts (host, failing_since, unavailable_since) VALUES (?, ?, ?)
		ON CONFLICT (host) DO UPDATE SET unavailable_since = excluded.unavailable_since
		WHERE remote_hosts.unavailable_since = 0`, host, ms(at), ms(at))
	if err != nil {
		return dbError("sqlstore.MarkHostUnavailable", err, "")
	}
	return nil
}

func (s *store) Host(ctx context.Context, host string) (nineten.HostHealth, error) {
	h, err := scanHost(s.read.QueryRowContext(ctx, `SELECT `+hostCols+` FROM remote_hosts WHERE host = ?`, host))
	if errors.Is(err, sql.ErrNoRows) {
		return nineten.HostHealth{Host: host}, nil
	}
	if err != nil {
		return nineten.HostHealth{}, dbError("sqlstore.Host", err, "")
	}
	return *h, nil
}

func (s *store) UnavailableHosts(ctx context.Context) ([]nineten.HostHealth, error) {
	hs, err := queryAll(ctx, s.read, scanHost, `SELECT `+hostCols+` FROM remote_hosts
		WHERE unavailable_since > 0 ORDER BY unavailable_since, host`)
	if err != nil {
		return nil, dbError("sqlstore.UnavailableHosts", err, "")
	}
	return hs, nil
}
