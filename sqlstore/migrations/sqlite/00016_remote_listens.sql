-- +goose Up
-- Plays of tracks of other servers that this node served itself (through
-- its remote-media path), so that it verifies them as it verifies plays of
-- its own tracks and pays their artists. They mirror listen_sessions,
-- served_segments and listens, which belong to tracks of this node; a
-- session of a remote track has an id starting with "r.".

-- A track of another server as it was when a listener here last started
-- it; payee is whom its server says its plays pay ("<node>/<artist id>").
CREATE TABLE remote_tracks (
    id          INTEGER PRIMARY KEY,
    iri         TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL DEFAULT '',
    album       TEXT    NOT NULL DEFAULT '',
    artist_iri  TEXT    NOT NULL DEFAULT '',
    artist_name TEXT    NOT NULL DEFAULT '',
    payee       TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0,
    hls_url     TEXT    NOT NULL DEFAULT '',
    page_url    TEXT    NOT NULL DEFAULT '',
    cover_url   TEXT    NOT NULL DEFAULT '',
    updated_at  INTEGER NOT NULL
);

CREATE TABLE remote_listen_sessions (
    id              TEXT    PRIMARY KEY,
    remote_track_id INTEGER NOT NULL REFERENCES remote_tracks (id) ON DELETE CASCADE,
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    anon_id         TEXT    NOT NULL DEFAULT '',
    started_at      INTEGER NOT NULL,
    last_seq        INTEGER NOT NULL DEFAULT 0,
    heard_ms        INTEGER NOT NULL DEFAULT 0,
    position_ms     INTEGER NOT NULL DEFAULT 0,
    last_report_at  INTEGER NOT NULL DEFAULT 0,
    network         TEXT    NOT NULL DEFAULT '',
    device          TEXT    NOT NULL DEFAULT ''
) WITHOUT ROWID;
CREATE INDEX remote_listen_sessions_track ON remote_listen_sessions (remote_track_id);
CREATE INDEX remote_listen_sessions_user ON remote_listen_sessions (user_id);

CREATE TABLE remote_served_segments (
    session_id TEXT    NOT NULL REFERENCES remote_listen_sessions (id) ON DELETE CASCADE,
    rendition  TEXT    NOT NULL,
    idx        INTEGER NOT NULL,
    start_ms   INTEGER NOT NULL,
    end_ms     INTEGER NOT NULL,
    served_at  INTEGER NOT NULL,
    PRIMARY KEY (session_id, rendition, idx)
) WITHOUT ROWID;

CREATE TABLE remote_listens (
    id              INTEGER PRIMARY KEY,
    session_id      TEXT    NOT NULL UNIQUE REFERENCES remote_listen_sessions (id) ON DELETE CASCADE,
    remote_track_id INTEGER NOT NULL REFERENCES remote_tracks (id) ON DELETE CASCADE,
    user_id         INTEGER REFERENCES users (id) ON DELETE SET NULL,
    anon_id         TEXT    NOT NULL DEFAULT '',
    started_at      INTEGER NOT NULL,
    heard_ms        INTEGER NOT NULL DEFAULT 0,
    status          TEXT    NOT NULL CHECK (status IN ('verified', 'unverified')),
    reason          TEXT    NOT NULL DEFAULT '',
    verified_at     INTEGER NOT NULL DEFAULT 0,
    -- As listens.held (migration 14): 0 counts, 1 awaits review, 2 never
    -- counts. The fake-stream detector does not look at these yet.
    held            INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX remote_listens_track ON remote_listens (remote_track_id);
CREATE INDEX remote_listens_user_recent ON remote_listens (user_id, started_at DESC, id DESC) WHERE status = 'verified';

-- +goose Down
DROP TABLE remote_listens;
DROP TABLE remote_served_segments;
DROP TABLE remote_listen_sessions;
DROP TABLE remote_tracks;
