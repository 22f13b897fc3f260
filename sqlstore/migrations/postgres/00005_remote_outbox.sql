-- Remote actors' outboxes: where their catalogue is listed.

-- +goose Up
ALTER TABLE remote_actors ADD COLUMN outbox TEXT NOT NULL DEFAULT '';

-- +goose Down
ALTER TABLE remote_actors DROP COLUMN outbox;
