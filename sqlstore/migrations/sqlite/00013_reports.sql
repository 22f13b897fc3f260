-- +goose Up
-- Listening reports: each day's (and month's) signed, encrypted report,
-- with the little the node shows about it without decrypting it.
CREATE TABLE reports (
    id         TEXT    PRIMARY KEY,
    kind       TEXT    NOT NULL CHECK (kind IN ('daily', 'monthly')),
    day        TEXT    NOT NULL,
    version    INTEGER NOT NULL DEFAULT 0,
    hash       TEXT    NOT NULL,
    content    TEXT    NOT NULL,
    file       BLOB    NOT NULL,
    listens    INTEGER NOT NULL DEFAULT 0,
    listeners  INTEGER NOT NULL DEFAULT 0,
    suppressed INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE INDEX reports_kind_day ON reports (kind, day);
-- A day's report reads that day's verified listens, not the whole table.
CREATE INDEX listens_verified_started ON listens (started_at) WHERE status = 'verified';

-- +goose Down
DROP INDEX listens_verified_started;
DROP TABLE reports;
