package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"nineten.dev"
)

func (s *store) SaveRemoteActor(ctx context.Context, a *nineten.RemoteActor) error {
	_, err := s.write.ExecContext(ctx, `
		INSERT INTO remote_actors (iri, inbox, outbox, shared_inbox, key_id, public_key_pem, handle, name, icon_url, image_url, fetched_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (iri) DO UPDATE SET inbox = excluded.inbox, outbox = excluded.outbox, shared_inbox = excluded.shared_inbox,
			key_id = excluded.key_id, public_key_pem = excluded.public_key_pem, handle = excluded.handle,
			name = excluded.name, icon_url = excluded.icon_url, image_url = excluded.image_url, fetched_at = excluded.fetched_at`,
		a.IRI, a.Inbox, a.Outbox, a.SharedInbox, a.KeyID, a.PublicKeyPEM, a.Handle, a.Name, a.Icon, a.Image, ms(a.FetchedAt))
	if err != nil {
		return dbError("sqlstore.SaveRemoteActor", err, "")
	}
	return nil
}

func (s *store) RemoteActor(ctx context.Context, iri string) (*nineten.RemoteActor, error) {
	const op = "sqlstore.RemoteActor"
	a := nineten.RemoteActor{IRI: iri}
	var fetched int64
	err := s.read.QueryRowContext(ctx, `
		SELECT inbox, outbox, shared_inbox, key_id, public_key_pem, handle, name, icon_url, image_url, fetched_at FROM remote_actors WHERE iri = ?`, iri,
	).Scan(&a.Inbox, &a.Outbox, &a.SharedInbox, &a.KeyID, &a.PublicKeyPEM, &a.Handle, &a.Name, &a.Icon, &a.Image, &fetched)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "actor %s", iri)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	a.FetchedAt = fromMS(fetched)
	return &a, nil
}

func (s *store) SaveFollow(ctx context.Context, f *nineten.Follow) error {
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO follows (local, remote, inbound, state, activity, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (local, remote, inbound) DO UPDATE SET state = excluded.state, activity = excluded.activity
		RETURNING id`,
		f.Local, f.Remote, f.Inbound, f.State, f.Activity, ms(f.CreatedAt)).Scan(&f.ID)
	if err != nil {
		return dbError("sqlstore.SaveFollow", err, "")
	}
	return nil
}

func (s *store) DeleteFollow(ctx context.Context, local, remote string, inbound bool) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM follows WHERE local = ? AND remote = ? AND inbound = ?`, local, remote, inbound)
	if err != nil {
		return dbError("sqlstore.DeleteFollow", err, "")
	}
	return nil
}

const followCols = `id, local, remote, inbound, state, activity, created_at`

func scanFollow(row scanner) (*nineten.Follow, error) {
	var f nineten.Follow
	var created int64
	if err := row.Scan(&f.ID, &f.Local, &f.Remote, &f.Inbound, &f.State, &f.Activity, &created); err != nil {
		return nil, err
	}
	f.CreatedAt = fromMS(created)
	return &f, nil
}

func (s *store) FollowByActivity(ctx context.Context, activity string) (*nineten.Follow, error) {
	const op = "sqlstore.FollowByActivity"
	f, err := scanFollow(s.read.QueryRowContext(ctx, `SELECT `+followCols+` FROM follows WHERE activity = ?`, activity))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "follow %s", activity)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	return f, nil
}

func (s *store) Follows(ctx context.Context, local string, inbound bool) ([]nineten.Follow, error) {
	fs, err := queryAll(ctx, s.read, scanFollow,
		`SELECT `+followCols+` FROM follows WHERE local = ? AND inbound = ? ORDER BY id`, local, inbound)
	if err != nil {
		return nil, dbError("sqlstore.Follows", err, "")
	}
	return fs, nil
}

func (s *store) SaveReceived(ctx context.Context, r *nineten.Received) (bool, error) {
	const op = "sqlstore.SaveReceived"
	err := s.write.QueryRowContext(ctx, `
		INSERT INTO received (activity, type, actor, object, payload, received_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (activity) DO NOTHING RETURNING id`,
		r.Activity, r.Type, r.Actor, r.Object, r.Payload, ms(r.ReceivedAt)).Scan(&r.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, dbError(op, err, "")
	}
	return true, nil
}

func scanReceived(row scanner) (*nineten.Received, error) {
	var r nineten.Received
	var at int64
	if err := row.Scan(&r.ID, &r.Activity, &r.Type, &r.Actor, &r.Object, &r.Payload, &at); err != nil {
		return nil, err
	}
	r.ReceivedAt = fromMS(at)
	return &r, nil
}

func (s *store) Feed(ctx context.Context, local string, limit int) ([]nineten.Received, error) {
	if limit <= 0 || limit > maxLimit {
		limit = defaultLimit
	}
	items, err := queryAll(ctx, s.read, scanReceived, `
		SELECT r.id, r.activity, r.type, r.actor, r.object, r.payload, r.received_at
		FROM received r JOIN follows f ON f.remote = r.actor
		WHERE f.local = ? AND f.inbound = 0 AND f.state = 'accepted'
		ORDER BY r.id DESC LIMIT ?`, local, limit)
	if err != nil {
		return nil, dbError("sqlstore.Feed", err, "")
	}
	return items, nil
}

func (s *store) Followed(ctx context.Context, remote string) (bool, error) {
	var n int
	err := s.read.QueryRowContext(ctx,
		`SELECT count(*) FROM follows WHERE remote = ? AND inbound = 0 AND state = 'accepted'`, remote).Scan(&n)
	if err != nil {
		return false, dbError("sqlstore.Followed", err, "")
	}
	return n > 0, nil
}

func (s *store) DeleteReceived(ctx context.Context, actor, object string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM received WHERE actor = ? AND object = ?`, actor, object)
	if err != nil {
		return dbError("sqlstore.DeleteReceived", err, "")
	}
	return nil
}

// hostPattern matches IRIs on host: "https://host/…" or "http://host/…".
func hostPatterns(host string) (string, string) {
	return "https://" + host + "/%", "http://" + host + "/%"
}

func (s *store) BlockDomain(ctx context.Context, b *nineten.DomainBlock) error {
	return s.atomic(ctx, func(q querier) error {
		if _, err := q.ExecContext(ctx, `
			INSERT INTO domain_blocks (host, reason, created_at) VALUES (?, ?, ?)
			ON CONFLICT (host) DO UPDATE SET reason = excluded.reason`, b.Host, b.Reason, ms(b.CreatedAt)); err != nil {
			return dbError("sqlstore.BlockDomain", err, "")
		}
		p1, p2 := hostPatterns(b.Host)
		for _, stmt := range []string{
			// SQLite's LIKE ignores ASCII case, PostgreSQL's does not;
			// lower() on both sides makes them agree.
			`DELETE FROM follows WHERE lower(remote) LIKE lower(?) OR lower(remote) LIKE lower(?)`,
			`DELETE FROM received WHERE lower(actor) LIKE lower(?) OR lower(actor) LIKE lower(?)`,
			`DELETE FROM remote_actors WHERE lower(iri) LIKE lower(?) OR lower(iri) LIKE lower(?)`,
		} {
			if _, err := q.ExecContext(ctx, stmt, p1, p2); err != nil {
				return dbError("sqlstore.BlockDomain", err, "")
			}
		}
		return nil
	})
}

func (s *store) UnblockDomain(ctx context.Context, host string) error {
	_, err := s.write.ExecContext(ctx, `DELETE FROM domain_blocks WHERE host = ?`, host)
	if err != nil {
		return dbError("sqlstore.UnblockDomain", err, "")
	}
	return nil
}

func (s *store) DomainBlocks(ctx context.Context) ([]nineten.DomainBlock, error) {
	blocks, err := queryAll(ctx, s.read, func(row scanner) (*nineten.DomainBlock, error) {
		var b nineten.DomainBlock
		var created int64
		if err := row.Scan(&b.Host, &b.Reason, &created); err != nil {
			return nil, err
		}
		b.CreatedAt = fromMS(created)
		return &b, nil
	}, `SELECT host, reason, created_at FROM domain_blocks ORDER BY host`)
	if err != nil {
		return nil, dbError("sqlstore.DomainBlocks", err, "")
	}
	return blocks, nil
}
