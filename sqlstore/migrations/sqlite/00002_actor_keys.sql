-- Signing keys of federated actors (the node, users, artists).

-- +goose Up
CREATE TABLE actor_keys (
    actor           TEXT    PRIMARY KEY,
    rsa_private_pem TEXT    NOT NULL,
    ed25519_seed    BLOB    NOT NULL,
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;

-- +goose Down
DROP TABLE actor_keys;
