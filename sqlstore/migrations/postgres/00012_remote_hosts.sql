-- +goose Up
-- How deliveries to each remote server are going: a server that keeps
-- failing for days is given up on (unavailable) until it answers again.
CREATE TABLE remote_hosts (
    host              TEXT PRIMARY KEY,
    failing_since     BIGINT NOT NULL DEFAULT 0,
    failures          BIGINT NOT NULL DEFAULT 0,
    unavailable_since BIGINT NOT NULL DEFAULT 0,
    last_success_at   BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX remote_hosts_unavailable ON remote_hosts (unavailable_since) WHERE unavailable_since > 0;

-- +goose Down
DROP TABLE remote_hosts;
