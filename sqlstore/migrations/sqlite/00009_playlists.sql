-- Playlists: ordered lists of tracks that listeners make, and copies of
-- the public playlists of remote actors that someone here follows.
--
-- A playlist is local (owner_id set) or a copy (iri and actor set), never
-- both. A copy belongs to its remote actor: forgetting the actor (a domain
-- block purges remote_actors) deletes its copies.
--
-- An item is a local track (track_id) or a remote one (remote_iri, with
-- what its server said of it: title, artist, duration, stream, page and
-- cover). A playlist holds a track once. pos orders the items; it is not
-- unique, so that moving an item can shift the others in one statement,
-- and a track deleted from under a playlist may leave a gap, which reads
-- ignore (they number items by their order).

-- +goose Up
CREATE TABLE playlists (
    id          INTEGER PRIMARY KEY,
    owner_id    INTEGER REFERENCES users (id) ON DELETE CASCADE,
    iri         TEXT    UNIQUE,
    actor       TEXT    REFERENCES remote_actors (iri) ON DELETE CASCADE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    public      INTEGER NOT NULL DEFAULT 0,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((owner_id IS NOT NULL AND iri IS NULL AND actor IS NULL)
        OR (owner_id IS NULL AND iri IS NOT NULL AND actor IS NOT NULL))
);
CREATE INDEX playlists_owner ON playlists (owner_id, updated_at DESC, id DESC);
CREATE INDEX playlists_actor ON playlists (actor, updated_at DESC, id DESC);

CREATE TABLE playlist_items (
    id          INTEGER PRIMARY KEY,
    playlist_id INTEGER NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,
    pos         INTEGER NOT NULL,
    track_id    INTEGER REFERENCES tracks (id) ON DELETE CASCADE,
    remote_iri  TEXT,
    title       TEXT    NOT NULL DEFAULT '',
    artist      TEXT    NOT NULL DEFAULT '',
    duration_ms INTEGER NOT NULL DEFAULT 0,
    hls_url     TEXT    NOT NULL DEFAULT '',
    page_url    TEXT    NOT NULL DEFAULT '',
    cover_url   TEXT    NOT NULL DEFAULT '',
    added_at    INTEGER NOT NULL,
    CHECK ((track_id IS NULL) <> (remote_iri IS NULL)),
    UNIQUE (playlist_id, track_id),
    UNIQUE (playlist_id, remote_iri)
);
CREATE INDEX playlist_items_order ON playlist_items (playlist_id, pos);
-- Deleting a track finds its items here.
CREATE INDEX playlist_items_track ON playlist_items (track_id) WHERE track_id IS NOT NULL;

-- +goose Down
DROP TABLE playlist_items;
DROP TABLE playlists;
