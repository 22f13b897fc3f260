-- +goose Up
-- Settlement statements between nodes (federation/statements.go): sent
-- ones (this node's listeners paid another node's artists) and received
-- ones (this node's artists were paid), one per month and pair of nodes.
CREATE TABLE statements (
    id         TEXT   NOT NULL,
    direction  TEXT   NOT NULL CHECK (direction IN ('sent', 'received')),
    period     TEXT   NOT NULL,
    payer      TEXT   NOT NULL,
    payee      TEXT   NOT NULL,
    peer       TEXT   NOT NULL,
    total      INTEGER NOT NULL,
    digest     TEXT   NOT NULL,
    document   BLOB  NOT NULL,
    status     TEXT   NOT NULL,
    reason     TEXT   NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (id, direction)
);
CREATE INDEX statements_period ON statements (period, direction);

CREATE TABLE statement_lines (
    statement_id TEXT   NOT NULL,
    direction    TEXT   NOT NULL,
    artist       TEXT   NOT NULL,
    amount       INTEGER NOT NULL,
    paid_ref     TEXT   NOT NULL DEFAULT '',
    paid_at      INTEGER NOT NULL DEFAULT 0,
    wallet       TEXT   NOT NULL DEFAULT '',
    PRIMARY KEY (statement_id, direction, artist),
    FOREIGN KEY (statement_id, direction) REFERENCES statements (id, direction) ON DELETE CASCADE
);
CREATE INDEX statement_lines_artist ON statement_lines (artist, direction);

-- Other versions of received statements: kept for the admins, never applied.
CREATE TABLE statement_conflicts (
    statement_id TEXT   NOT NULL,
    digest       TEXT   NOT NULL,
    document     BLOB  NOT NULL,
    received_at  INTEGER NOT NULL,
    PRIMARY KEY (statement_id, digest)
);

-- Remote listeners who support this node's artists (artist_id 0: members
-- of their own node, as it told this one).
CREATE TABLE supporters (
    artist_id  INTEGER NOT NULL,
    actor      TEXT   NOT NULL,
    node       TEXT   NOT NULL,
    activity   TEXT   NOT NULL,
    status     TEXT   NOT NULL,
    paid       TEXT   NOT NULL DEFAULT '',
    since      INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (artist_id, actor)
);
CREATE INDEX supporters_activity ON supporters (activity);

-- What this node last told remote actors of its listeners' subscriptions.
CREATE TABLE told_subscriptions (
    user_id    INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    target     TEXT   NOT NULL,
    activity   TEXT   NOT NULL,
    status     TEXT   NOT NULL,
    paid       TEXT   NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, target)
);

-- +goose Down
DROP TABLE told_subscriptions;
DROP TABLE supporters;
DROP TABLE statement_conflicts;
DROP TABLE statement_lines;
DROP TABLE statements;
