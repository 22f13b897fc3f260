package sqlstore

import (
	"context"
	"fmt"
	"time"

	"nineten.dev"
)

// ownedArtists selects the ids of the artist profiles of user ?.
const ownedArtists = `SELECT id FROM artists WHERE owner_id = ?`

func (s *store) CloseAccount(ctx context.Context, userID nineten.ID, at time.Time) error {
	const op = "sqlstore.CloseAccount"
	user := fmt.Sprintf("user:%d", userID)
	return s.atomic(ctx, func(q querier) error {
		res, err := q.ExecContext(ctx, `
			UPDATE users SET display_name = '', bio = '', avatar_key = '', header_key = '', password_hash = '', disabled = 1, deleted_at = ?
			WHERE id = ? AND deleted_at = 0`, ms(at), userID)
		if err != nil {
			return dbError(op, err, "")
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			return notFound(op, "open account %d", userID)
		}
		// The local actors' names of the federation tables: the user's and
		// each of its artists'.
		artistActors := `SELECT 'artist:' || CAST(id AS TEXT) FROM artists WHERE owner_id = ?`
		for _, stmt := range []struct {
			sql  string
			args []any
		}{
			{`DELETE FROM sessions WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM api_tokens WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM wallets WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM wallet_challenges WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM playlists WHERE owner_id = ?`, []any{userID}},
			{`DELETE FROM comments WHERE user_id = ?`, []any{userID}},
			{`DELETE FROM reactions WHERE actor = ? OR actor IN (` + artistActors + `)`, []any{user, userID}},
			{`DELETE FROM follows WHERE local = ? OR local IN (` + artistActors + `)`, []any{user, userID}},
			{`DELETE FROM actor_settings WHERE actor = ? OR actor IN (` + artistActors + `)`, []any{user, userID}},
			// Hidden, not deleted: this month's listens of them still pay.
			{`UPDATE tracks SET hidden = 1 WHERE artist_id IN (` + ownedArtists + `)`, []any{userID}},
			{`UPDATE artists SET name = ?, bio = '', avatar_key = '', header_key = '', deleted_at = ? WHERE owner_id = ?`, []any{nineten.ClosedArtistName, ms(at), userID}},
		} {
			if _, err := q.ExecContext(ctx, stmt.sql, stmt.args...); err != nil {
				return dbError(op, err, "")
			}
		}
		return nil
	})
}

func (s *store) PurgeClosedAccounts(ctx context.Context, settled time.Time) (int, error) {
	const op = "sqlstore.PurgeClosedAccounts"
	var n int
	err := s.atomic(ctx, func(q querier) error {
		closed := `SELECT id FROM users WHERE deleted_at > 0 AND deleted_at < ?`
		if err := q.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE deleted_at > 0 AND deleted_at < ? AND (
			EXISTS (SELECT 1 FROM listens l WHERE l.user_id = users.id)
			OR EXISTS (SELECT 1 FROM listen_sessions ls WHERE ls.user_id = users.id)
			OR EXISTS (SELECT 1 FROM remote_listens l WHERE l.user_id = users.id)
			OR EXISTS (SELECT 1 FROM remote_listen_sessions ls WHERE ls.user_id = users.id)
			OR EXISTS (SELECT 1 FROM tracks t JOIN artists a ON a.id = t.artist_id WHERE a.owner_id = users.id)
			OR EXISTS (SELECT 1 FROM albums al JOIN artists a ON a.id = al.artist_id WHERE a.owner_id = users.id))`,
			ms(settled)).Scan(&n); err != nil {
			return dbError(op, err, "")
		}
		closedArtists := `SELECT id FROM artists WHERE owner_id IN (` + closed + `)`
		for _, stmt := range []string{
			`UPDATE listens SET user_id = NULL WHERE user_id IN (` + closed + `)`,
			`UPDATE listen_sessions SET user_id = NULL WHERE user_id IN (` + closed + `)`,
			`UPDATE remote_listens SET user_id = NULL WHERE user_id IN (` + closed + `)`,
			`UPDATE remote_listen_sessions SET user_id = NULL WHERE user_id IN (` + closed + `)`,
			// Their listens go with them (the ledger keeps what they paid);
			// the sweep removes what media is left.
			`DELETE FROM tracks WHERE artist_id IN (` + closedArtists + `)`,
			`DELETE FROM albums WHERE artist_id IN (` + closedArtists + `)`,
		} {
			if _, err := q.ExecContext(ctx, stmt, ms(settled)); err != nil {
				return dbError(op, err, "")
			}
		}
		return nil
	})
	return n, err
}
