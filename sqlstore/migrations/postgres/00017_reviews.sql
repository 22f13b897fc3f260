-- +goose Up
-- Peer reviews of monthly listening reports between the nodes of a
-- cluster, both sides (asked: our month; given: a peer's), and the
-- disputes that hold a month's settlement.
CREATE TABLE peer_reviews (
    month        TEXT   NOT NULL,
    peer         TEXT   NOT NULL,
    role         TEXT   NOT NULL CHECK (role IN ('asked', 'given')),
    status       TEXT   NOT NULL,
    report_hash  TEXT   NOT NULL DEFAULT '',
    findings     TEXT   NOT NULL DEFAULT '',
    attestation  BYTEA  NOT NULL,
    requested_at BIGINT NOT NULL,
    deadline     BIGINT NOT NULL DEFAULT 0,
    answered_at  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, peer, role)
);

CREATE TABLE disputes (
    month     TEXT   NOT NULL,
    reason    TEXT   NOT NULL,
    opened_at BIGINT NOT NULL,
    resolved  BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (month, opened_at)
);

-- +goose Down
DROP TABLE disputes;
DROP TABLE peer_reviews;
