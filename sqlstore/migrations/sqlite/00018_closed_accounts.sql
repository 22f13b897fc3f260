-- +goose Up
-- Closed accounts keep their rows (their ids are ledger accounts and must
-- never go to someone else; their username and slugs are fediverse
-- addresses that answer 410 Gone): deleted_at, in Unix milliseconds, is
-- when the account was closed, 0 while it is open.
ALTER TABLE users ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE artists ADD COLUMN deleted_at INTEGER NOT NULL DEFAULT 0;
-- A listener's profile text, shown as their actor's summary.
ALTER TABLE users ADD COLUMN bio TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE users DROP COLUMN bio;
ALTER TABLE artists DROP COLUMN deleted_at;
ALTER TABLE users DROP COLUMN deleted_at;
