-- Servers the node's admins refuse to federate with.

-- +goose Up
CREATE TABLE domain_blocks (
    host       TEXT   PRIMARY KEY,
    reason     TEXT   NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);

-- +goose Down
DROP TABLE domain_blocks;
