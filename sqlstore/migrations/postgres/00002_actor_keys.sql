-- Signing keys of federated actors (the node, users, artists).

-- +goose Up
CREATE TABLE actor_keys (
    actor           TEXT   PRIMARY KEY,
    rsa_private_pem TEXT   NOT NULL,
    ed25519_seed    BYTEA  NOT NULL,
    created_at      BIGINT NOT NULL
);

-- +goose Down
DROP TABLE actor_keys;
