-- +goose Up
-- Facts about the node that every process of it must agree on, set by the
-- first process that starts (for instance the fingerprint of the secret
-- that signs listen sessions).
CREATE TABLE settings (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

-- +goose Down
DROP TABLE settings;
