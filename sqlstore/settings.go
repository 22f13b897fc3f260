package sqlstore

import (
	"context"
	"database/sql"
	"errors"
)

func (s *store) Setting(ctx context.Context, name string) (string, error) {
	var v string
	err := s.read.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", notFound("sqlstore.Setting", "setting %q", name)
	}
	if err != nil {
		return "", dbError("sqlstore.Setting", err, "")
	}
	return v, nil
}

func (s *store) InitSetting(ctx context.Context, name, value string) (string, error) {
	const op = "sqlstore.InitSetting"
	var stored string
	err := s.atomic(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `INSERT INTO settings (name, value) VALUES (?, ?) ON CONFLICT (name) DO NOTHING`, name, value); err != nil {
			return err
		}
		return q.QueryRowContext(ctx, `SELECT value FROM settings WHERE name = ?`, name).Scan(&stored)
	})
	if err != nil {
		return "", dbError(op, err, "")
	}
	return stored, nil
}
