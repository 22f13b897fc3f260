-- The social side of tracks: likes and boosts, comments, listens that
-- followed actors share, and each local actor's federation settings.
--
-- A track is one of this node's (track_id, removed with it) or, for what
-- local users do with tracks elsewhere, a remote one named by the IRI of
-- its object (object, with track_id NULL). Actors are local actor names
-- ("user:7") or remote actors' IRIs, as in follows.

-- +goose Up
CREATE TABLE reactions (
    id         INTEGER PRIMARY KEY,
    kind       TEXT    NOT NULL,
    track_id   INTEGER REFERENCES tracks (id) ON DELETE CASCADE,
    object     TEXT    NOT NULL DEFAULT '',
    actor      TEXT    NOT NULL,
    activity   TEXT    NOT NULL,
    created_at INTEGER NOT NULL
);
-- Once per actor: a second Like of the same track is the same like.
CREATE UNIQUE INDEX reactions_local ON reactions (track_id, kind, actor) WHERE track_id IS NOT NULL;
CREATE UNIQUE INDEX reactions_remote ON reactions (object, kind, actor) WHERE track_id IS NULL;
CREATE INDEX reactions_activity ON reactions (activity);
CREATE INDEX reactions_actor ON reactions (actor);

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    track_id   INTEGER REFERENCES tracks (id) ON DELETE CASCADE,
    object     TEXT    NOT NULL DEFAULT '',
    user_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    actor      TEXT    NOT NULL DEFAULT '',
    iri        TEXT    NOT NULL DEFAULT '',
    text       TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX comments_iri ON comments (iri) WHERE iri <> '';
-- Listed per track, newest first.
CREATE INDEX comments_track ON comments (track_id, created_at, id);
CREATE INDEX comments_actor ON comments (actor);

CREATE TABLE shared_listens (
    id          INTEGER PRIMARY KEY,
    activity    TEXT    NOT NULL UNIQUE,
    actor       TEXT    NOT NULL,
    object      TEXT    NOT NULL,
    title       TEXT    NOT NULL DEFAULT '',
    artist      TEXT    NOT NULL DEFAULT '',
    url         TEXT    NOT NULL DEFAULT '',
    listened_at INTEGER NOT NULL
);
CREATE INDEX shared_listens_actor ON shared_listens (actor, id);

CREATE TABLE actor_settings (
    actor           TEXT    PRIMARY KEY,
    manual_approval INTEGER NOT NULL DEFAULT 0,
    share_listens   INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

-- +goose Down
DROP TABLE actor_settings;
DROP TABLE shared_listens;
DROP TABLE comments;
DROP TABLE reactions;
