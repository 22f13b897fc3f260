package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"nineten.dev"
)

const userCols = `id, username, display_name, bio, avatar_key, header_key, password_hash, role, disabled, created_at, deleted_at`

func scanUser(row scanner) (*nineten.User, error) {
	var u nineten.User
	var created, deleted int64
	err := row.Scan(&u.ID, &u.Username, &u.DisplayName, &u.Bio, &u.Avatar, &u.Header, &u.PasswordHash, &u.Role, &u.Disabled, &created, &deleted)
	if err != nil {
		return nil, err
	}
	u.CreatedAt, u.DeletedAt = fromMS(created), fromMS(deleted)
	return &u, nil
}

func (s *store) CreateUser(ctx context.Context, u *nineten.User) error {
	const op = "sqlstore.CreateUser"
	if u.CreatedAt.IsZero() {
		u.CreatedAt = nowUTC()
	}
	taken := fmt.Sprintf("username %q is taken", u.Username)
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO users (username, display_name, bio, password_hash, role, disabled, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		u.Username, u.DisplayName, u.Bio, u.PasswordHash, u.Role, u.Disabled, ms(u.CreatedAt),
	).Scan(&u.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nineten.E(op, nineten.KindConflict, taken)
	}
	if err != nil {
		return dbError(op, err, taken)
	}
	return nil
}

func (s *store) UserByID(ctx context.Context, id nineten.ID) (*nineten.User, error) {
	const op = "sqlstore.UserByID"
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "user %d", id)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return u, nil
}

// UserByUsername finds a user by name, case-insensitively (ASCII letters:
// usernames are compared with NOCASE, as the unique index is).
func (s *store) UserByUsername(ctx context.Context, username string) (*nineten.User, error) {
	const op = "sqlstore.UserByUsername"
	u, err := scanUser(s.read.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE username = ?`, username))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "user %q", username)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return u, nil
}

// UpdateUser stores every field of u but its ID and creation time.
func (s *store) UpdateUser(ctx context.Context, u *nineten.User) error {
	const op = "sqlstore.UpdateUser"
	taken := fmt.Sprintf("username %q is taken", u.Username)
	res, err := s.write.ExecContext(ctx, `
		UPDATE users SET username = ?, display_name = ?, bio = ?, avatar_key = ?, header_key = ?, password_hash = ?, role = ?, disabled = ?
		WHERE id = ? AND NOT EXISTS (SELECT 1 FROM users o WHERE o.username = ? AND o.id <> ?)`,
		u.Username, u.DisplayName, u.Bio, u.Avatar, u.Header, u.PasswordHash, u.Role, u.Disabled, u.ID, u.Username, u.ID)
	if err != nil {
		return dbError(op, err, taken)
	}
	return s.updatedOrTaken(ctx, op, res, `users`, u.ID, fmt.Sprintf("user %d", u.ID), taken)
}

// ListUsers lists users in the order they signed up.
func (s *store) ListUsers(ctx context.Context, p nineten.Page) ([]nineten.User, int, error) {
	const op = "sqlstore.ListUsers"
	limit, offset := window(p)
	var users []nineten.User
	var total int
	err := s.snapshot(ctx, func(q querier) error {
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&total); err != nil {
			return err
		}
		var err error
		users, err = queryAll(ctx, q, scanUser,
			`SELECT `+userCols+` FROM users ORDER BY id LIMIT ? OFFSET ?`, limit, offset)
		return err
	})
	if err != nil {
		return nil, 0, dbError(op, err, "")
	}
	return users, total, nil
}

func (s *store) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE deleted_at = 0`).Scan(&n); err != nil {
		return 0, dbError("sqlstore.CountUsers", err, "")
	}
	return n, nil
}

func (s *store) CreateSession(ctx context.Context, sess nineten.Session) error {
	const op = "sqlstore.CreateSession"
	res, err := s.write.ExecContext(ctx,
		`INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT DO NOTHING`,
		sess.TokenHash, sess.UserID, ms(sess.CreatedAt), ms(sess.ExpiresAt))
	return inserted(op, res, err, "the session already exists")
}

// SessionByHash returns the session with the token hash, expired or not:
// whether it is still good is the caller's call.
func (s *store) SessionByHash(ctx context.Context, tokenHash string) (*nineten.Session, error) {
	const op = "sqlstore.SessionByHash"
	sess := nineten.Session{TokenHash: tokenHash}
	var created, expires int64
	err := s.read.QueryRowContext(ctx,
		`SELECT user_id, created_at, expires_at FROM sessions WHERE token_hash = ?`, tokenHash,
	).Scan(&sess.UserID, &created, &expires)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nineten.E(op, nineten.KindNotFound, "the session does not exist")
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	sess.CreatedAt, sess.ExpiresAt = fromMS(created), fromMS(expires)
	return &sess, nil
}

// DeleteSession deletes a session; deleting one that is already gone is not
// an error, so that logging out twice is harmless.
func (s *store) DeleteSession(ctx context.Context, tokenHash string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash = ?`, tokenHash); err != nil {
		return dbError("sqlstore.DeleteSession", err, "")
	}
	return nil
}

func (s *store) DeleteUserSessions(ctx context.Context, userID nineten.ID) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
		return dbError("sqlstore.DeleteUserSessions", err, "")
	}
	return nil
}

const tokenCols = `id, user_id, name, token_hash, created_at, last_used_at`

func scanToken(row scanner) (*nineten.APIToken, error) {
	var t nineten.APIToken
	var created, used int64
	if err := row.Scan(&t.ID, &t.UserID, &t.Name, &t.TokenHash, &created, &used); err != nil {
		return nil, err
	}
	t.CreatedAt, t.LastUsedAt = fromMS(created), fromMS(used)
	return &t, nil
}

func (s *store) CreateToken(ctx context.Context, t *nineten.APIToken) error {
	const op = "sqlstore.CreateToken"
	if t.CreatedAt.IsZero() {
		t.CreatedAt = nowUTC()
	}
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO api_tokens (user_id, name, token_hash, created_at, last_used_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`,
		t.UserID, t.Name, t.TokenHash, ms(t.CreatedAt), ms(t.LastUsedAt),
	).Scan(&t.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nineten.E(op, nineten.KindConflict, "the token already exists")
	}
	if err != nil {
		return dbError(op, err, "the token already exists")
	}
	return nil
}

func (s *store) TokenByHash(ctx context.Context, tokenHash string) (*nineten.APIToken, error) {
	const op = "sqlstore.TokenByHash"
	t, err := scanToken(s.read.QueryRowContext(ctx,
		`SELECT `+tokenCols+` FROM api_tokens WHERE token_hash = ?`, tokenHash))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nineten.E(op, nineten.KindNotFound, "the token does not exist")
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return t, nil
}

func (s *store) TouchToken(ctx context.Context, id nineten.ID, at time.Time) error {
	const op = "sqlstore.TouchToken"
	res, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = ? WHERE id = ?`, ms(at), id)
	return mustAffect(op, res, err, fmt.Sprintf("token %d", id))
}

// ListTokens lists a user's tokens, oldest first.
func (s *store) ListTokens(ctx context.Context, userID nineten.ID) ([]nineten.APIToken, error) {
	tokens, err := queryAll(ctx, s.read, scanToken,
		`SELECT `+tokenCols+` FROM api_tokens WHERE user_id = ? ORDER BY id`, userID)
	if err != nil {
		return nil, dbError("sqlstore.ListTokens", err, "")
	}
	return tokens, nil
}

// DeleteToken deletes token id if it belongs to userID; a token of someone
// else is as not found as a missing one.
func (s *store) DeleteToken(ctx context.Context, userID, id nineten.ID) error {
	const op = "sqlstore.DeleteToken"
	res, err := s.write.ExecContext(ctx, `DELETE FROM api_tokens WHERE id = ? AND user_id = ?`, id, userID)
	return mustAffect(op, res, err, fmt.Sprintf("token %d", id))
}
