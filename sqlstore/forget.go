package sqlstore

import "context"

func (s *store) ForgetActor(ctx context.Context, iri string) error {
	return s.atomic(ctx, func(q querier) error {
		for _, stmt := range []string{
			`DELETE FROM follows WHERE remote = ?`,
			`DELETE FROM received WHERE actor = ?`,
			`DELETE FROM reactions WHERE actor = ?`,
			`DELETE FROM comments WHERE actor = ?`,
			`DELETE FROM shared_listens WHERE actor = ?`,
			// Copies of its playlists go with it (ON DELETE CASCADE).
			`DELETE FROM remote_actors WHERE iri = ?`,
		} {
			if _, err := q.ExecContext(ctx, stmt, iri); err != nil {
				return dbError("sqlstore.ForgetActor", err, "")
			}
		}
		return nil
	})
}
