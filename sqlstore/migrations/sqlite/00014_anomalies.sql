-- +goose Up
-- Fake-stream detection. Each listen session keeps keyed hashes of the
-- client's network and browser (never the address or the user agent);
-- each listen says whether a flag holds it out of settlement (0 counts,
-- 1 awaits review, 2 confirmed: never counts), kept in step with its flags
-- so that the settlement's totals need no join.
ALTER TABLE listen_sessions ADD COLUMN network TEXT NOT NULL DEFAULT '';
ALTER TABLE listen_sessions ADD COLUMN device TEXT NOT NULL DEFAULT '';
ALTER TABLE listens ADD COLUMN held INTEGER NOT NULL DEFAULT 0;

-- A rule's finding about one UTC day's listening, once per rule, subject
-- and day, so that running detection again finds nothing new.
CREATE TABLE anomaly_flags (
    id          INTEGER PRIMARY KEY,
    rule        TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    day         INTEGER NOT NULL,
    score       INTEGER NOT NULL,
    summary     TEXT    NOT NULL,
    evidence    TEXT    NOT NULL DEFAULT '{}',
    status      TEXT    NOT NULL CHECK (status IN ('held', 'cleared', 'confirmed')),
    created_at  INTEGER NOT NULL,
    reviewed_at INTEGER NOT NULL DEFAULT 0,
    reviewed_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    UNIQUE (rule, subject, day)
);
CREATE INDEX anomaly_flags_status ON anomaly_flags (status, score DESC);

CREATE TABLE anomaly_flag_listens (
    flag_id   INTEGER NOT NULL REFERENCES anomaly_flags (id) ON DELETE CASCADE,
    listen_id INTEGER NOT NULL REFERENCES listens (id) ON DELETE CASCADE,
    PRIMARY KEY (flag_id, listen_id)
);
CREATE INDEX anomaly_flag_listens_listen ON anomaly_flag_listens (listen_id);

-- When detection last ran over a day.
CREATE TABLE anomaly_runs (
    day    INTEGER PRIMARY KEY,
    ran_at INTEGER NOT NULL,
    flags  INTEGER NOT NULL DEFAULT 0
);

-- +goose Down
DROP TABLE anomaly_runs;
DROP TABLE anomaly_flag_listens;
DROP TABLE anomaly_flags;
ALTER TABLE listens DROP COLUMN held;
ALTER TABLE listen_sessions DROP COLUMN device;
ALTER TABLE listen_sessions DROP COLUMN network;
