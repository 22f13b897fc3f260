-- +goose Up
-- The fake-stream detector looks at plays of other servers' tracks too
-- (remote_listens, migration 16): the listens of those a flag holds, as
-- anomaly_flag_listens (migration 14) for this node's tracks. A flag may
-- hold listens of both kinds.
CREATE TABLE anomaly_flag_remote_listens (
    flag_id   BIGINT NOT NULL REFERENCES anomaly_flags (id) ON DELETE CASCADE,
    listen_id BIGINT NOT NULL REFERENCES remote_listens (id) ON DELETE CASCADE,
    PRIMARY KEY (flag_id, listen_id)
);
CREATE INDEX anomaly_flag_remote_listens_listen ON anomaly_flag_remote_listens (listen_id);

-- +goose Down
DROP TABLE anomaly_flag_remote_listens;
