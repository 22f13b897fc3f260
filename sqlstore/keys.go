package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"nineten.dev"
)

func (s *store) ActorKeys(ctx context.Context, actor string) (*nineten.ActorKeys, error) {
	const op = "sqlstore.ActorKeys"
	k := nineten.ActorKeys{Actor: actor}
	var created int64
	err := s.read.QueryRowContext(ctx,
		`SELECT rsa_private_pem, ed25519_seed, created_at FROM actor_keys WHERE actor = ?`, actor,
	).Scan(&k.RSAPrivatePEM, &k.Ed25519Seed, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, notFound(op, "keys of %s", actor)
	}
	if err != nil {
		return nil, dbError(op, err, "")
	}
	k.CreatedAt = fromMS(created)
	return &k, nil
}

func (s *store) CreateActorKeys(ctx context.Context, k *nineten.ActorKeys) error {
	const op = "sqlstore.CreateActorKeys"
	res, err := s.write.ExecContext(ctx,
		`INSERT INTO actor_keys (actor, rsa_private_pem, ed25519_seed, created_at) VALUES (?, ?, ?, ?)
		 ON CONFLICT DO NOTHING`,
		k.Actor, k.RSAPrivatePEM, k.Ed25519Seed, ms(k.CreatedAt))
	return inserted(op, res, err, k.Actor+" has keys already")
}
