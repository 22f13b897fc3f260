-- What a node knows of other servers: actors, follows both ways, and the
-- activities delivered to it for its users' feeds.

-- +goose Up
CREATE TABLE remote_actors (
    iri            TEXT    PRIMARY KEY,
    inbox          TEXT    NOT NULL,
    shared_inbox   TEXT    NOT NULL DEFAULT '',
    key_id         TEXT    NOT NULL DEFAULT '',
    public_key_pem TEXT    NOT NULL DEFAULT '',
    handle         TEXT    NOT NULL DEFAULT '',
    name           TEXT    NOT NULL DEFAULT '',
    fetched_at     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE follows (
    id         INTEGER PRIMARY KEY,
    local      TEXT    NOT NULL,
    remote     TEXT    NOT NULL,
    inbound    INTEGER NOT NULL,
    state      TEXT    NOT NULL,
    activity   TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    UNIQUE (local, remote, inbound)
);
CREATE INDEX follows_activity ON follows (activity);

CREATE TABLE received (
    id          INTEGER PRIMARY KEY,
    activity    TEXT    NOT NULL UNIQUE,
    type        TEXT    NOT NULL,
    actor       TEXT    NOT NULL,
    object      TEXT    NOT NULL DEFAULT '',
    payload     BLOB    NOT NULL,
    received_at INTEGER NOT NULL
);
CREATE INDEX received_actor ON received (actor, id);

-- +goose Down
DROP TABLE received;
DROP TABLE follows;
DROP TABLE remote_actors;
