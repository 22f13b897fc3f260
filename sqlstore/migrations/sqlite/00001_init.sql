-- The initial schema of a 9ten node.
--
-- Times are INTEGER Unix milliseconds in UTC; 0 stands for "never" (the zero
-- time.Time). Optional references (a track outside any album, an anonymous
-- listener) are NULL rather than 0 so that foreign keys can check them.

-- +goose Up

CREATE TABLE users (
    id            INTEGER PRIMARY KEY,
    username      TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    display_name  TEXT    NOT NULL DEFAULT '',
    password_hash TEXT    NOT NULL DEFAULT '',
    role          TEXT    NOT NULL,
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- Sessions and tokens are credentials of their user and go with it.
CREATE TABLE sessions (
    token_hash TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_user ON sessions (user_id);

CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name         TEXT    NOT NULL DEFAULT '',
    token_hash   TEXT    NOT NULL UNIQUE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);

CREATE TABLE artists (
    id         INTEGER PRIMARY KEY,
    owner_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name       TEXT    NOT NULL,
    slug       TEXT    NOT NULL UNIQUE,
    bio        TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX artists_owner ON artists (owner_id);
CREATE INDEX artists_name ON artists (name COLLATE NOCASE);

CREATE TABLE albums (
    id         INTEGER PRIMARY KEY,
    artist_id  INTEGER NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
    title      TEXT    NOT NULL,
    year       INTEGER NOT NULL DEFAULT 0,
    genre      TEXT    NOT NULL DEFAULT '',
    cover_key  TEXT    NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
);
CREATE INDEX albums_artist ON albums (artist_id, year, title);

-- A track belongs to its artist. Its album only groups it: deleting the
-- album turns the track into a single (album_id NULL) instead of destroying
-- music and listen history along with a grouping.
CREATE TABLE tracks (
    id                 INTEGER PRIMARY KEY,
    artist_id          INTEGER NOT NULL REFERENCES artists (id) ON DELETE CASCADE,
    album_id           INTEGER REFERENCES albums (id) ON DELETE SET NULL,
    title              TEXT    NOT NULL,
    track_number       INTEGER NOT NULL DEFAULT 0,
    year               INTEGER NOT NULL DEFAULT 0,
    genre              TEXT    NOT NULL DEFAULT '',
    duration_ms        INTEGER NOT NULL DEFAULT 0,
    status             TEXT    NOT NULL CHECK (status IN ('processing', 'ready', 'failed')),
    error              TEXT    NOT NULL DEFAULT '',
    hidden             INTEGER NOT NULL DEFAULT 0,
    original_key       TEXT    NOT NULL DEFAULT '',
    original_filename  TEXT    NOT NULL DEFAULT '',
    original_mime_type TEXT    NOT NULL DEFAULT '',
    original_size      INTEGER NOT NULL DEFAULT 0,
    original_sha256    TEXT    NOT NULL DEFAULT '',
    original_format    TEXT    NOT NULL DEFAULT '',
    original_codec     TEXT    NOT NULL DEFAULT '',
    cover_key          TEXT    NOT NULL DEFAULT '',
    media_key          TEXT    NOT NULL DEFAULT '',
    play_count         INTEGER NOT NULL DEFAULT 0,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX tracks_artist ON tracks (artist_id);
CREATE INDEX tracks_album ON tracks (album_id, track_number, id);
-- What the public sees, newest first, is the most common listing.
CREATE INDEX tracks_visible ON tracks (id) WHERE status = 'ready' AND hidden = 0;

-- Full-text index of tracks. The searchable text lives in three tables, so
-- the index keeps its own copy (rowid = tracks.id) and the triggers below
-- keep it in step with every change to a track, an artist's name or an
-- album's title. Foreign-key actions (an album deleted, an artist's tracks
-- cascading away) fire these triggers too.
CREATE VIRTUAL TABLE tracks_fts USING fts5 (
    title, artist, album, genre,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '2 3'
);

-- +goose StatementBegin
CREATE TRIGGER tracks_fts_insert AFTER INSERT ON tracks BEGIN
    INSERT INTO tracks_fts (rowid, title, artist, album, genre)
    VALUES (
        new.id,
        new.title,
        (SELECT name FROM artists WHERE id = new.artist_id),
        coalesce((SELECT title FROM albums WHERE id = new.album_id), ''),
        new.genre
    );
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER tracks_fts_update AFTER UPDATE OF title, artist_id, album_id, genre ON tracks BEGIN
    UPDATE tracks_fts SET
        title = new.title,
        artist = (SELECT name FROM artists WHERE id = new.artist_id),
        album = coalesce((SELECT title FROM albums WHERE id = new.album_id), ''),
        genre = new.genre
    WHERE rowid = new.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER tracks_fts_delete AFTER DELETE ON tracks BEGIN
    DELETE FROM tracks_fts WHERE rowid = old.id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER artists_fts_rename AFTER UPDATE OF name ON artists BEGIN
    UPDATE tracks_fts SET artist = new.name
    WHERE rowid IN (SELECT id FROM tracks WHERE artist_id = new.id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER albums_fts_rename AFTER UPDATE OF title ON albums BEGIN
    UPDATE tracks_fts SET album = new.title
    WHERE rowid IN (SELECT id FROM tracks WHERE album_id = new.id);
END;
-- +goose StatementEnd

-- A listen session, its served segments and its listen belong to the track
-- played: deleting a track deletes its listening history with it, and the
-- play count that history produced goes with the track row. A listener's
-- account going away keeps the history, anonymised.
CREATE TABLE listen_sessions (
    id             TEXT    PRIMARY KEY,
    track_id       INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    user_id        INTEGER REFERENCES users (id) ON DELETE SET NULL,
    anon_id        TEXT    NOT NULL DEFAULT '',
    started_at     INTEGER NOT NULL,
    last_seq       INTEGER NOT NULL DEFAULT 0,
    heard_ms       INTEGER NOT NULL DEFAULT 0,
    position_ms    INTEGER NOT NULL DEFAULT 0,
    last_report_at INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX listen_sessions_track ON listen_sessions (track_id);
CREATE INDEX listen_sessions_user ON listen_sessions (user_id);

CREATE TABLE served_segments (
    session_id TEXT    NOT NULL REFERENCES listen_sessions (id) ON DELETE CASCADE,
    rendition  TEXT    NOT NULL,
    idx        INTEGER NOT NULL,
    start_ms   INTEGER NOT NULL,
    end_ms     INTEGER NOT NULL,
    served_at  INTEGER NOT NULL,
    PRIMARY KEY (session_id, rendition, idx)
) WITHOUT ROWID;

CREATE TABLE listens (
    id          INTEGER PRIMARY KEY,
    session_id  TEXT    NOT NULL UNIQUE REFERENCES listen_sessions (id) ON DELETE CASCADE,
    track_id    INTEGER NOT NULL REFERENCES tracks (id) ON DELETE CASCADE,
    user_id     INTEGER REFERENCES users (id) ON DELETE SET NULL,
    anon_id     TEXT    NOT NULL DEFAULT '',
    started_at  INTEGER NOT NULL,
    heard_ms    INTEGER NOT NULL DEFAULT 0,
    status      TEXT    NOT NULL CHECK (status IN ('verified', 'unverified')),
    reason      TEXT    NOT NULL DEFAULT '',
    verified_at INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX listens_track ON listens (track_id);
CREATE INDEX listens_user_recent ON listens (user_id, started_at DESC, id DESC) WHERE status = 'verified';

CREATE TABLE jobs (
    id           INTEGER PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      BLOB,
    status       TEXT    NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at       INTEGER NOT NULL,
    locked_until INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT    NOT NULL DEFAULT '',
    progress     INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- Claim scans only live jobs, in the order it hands them out.
CREATE INDEX jobs_live ON jobs (run_at, id) WHERE status IN ('queued', 'running');

-- +goose Down

DROP TABLE jobs;
DROP TABLE listens;
DROP TABLE served_segments;
DROP TABLE listen_sessions;
DROP TABLE tracks_fts;
DROP TABLE tracks;
DROP TABLE albums;
DROP TABLE artists;
DROP TABLE api_tokens;
DROP TABLE sessions;
DROP TABLE users;
