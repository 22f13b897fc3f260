-- Payment gateways (pay/gateway): the signed webhook events a node acted
-- on, so that a redelivered event acts nothing twice, and artists' payouts
-- through a gateway with the gateway's id of each.
--
-- Money is INTEGER micro-dollars, cents the gateway's minor unit; times are
-- INTEGER Unix milliseconds, 0 for never. Events and payouts are records of
-- money: they keep user ids and artists' ledger ids without foreign keys,
-- whatever becomes of the user.

-- +goose Up
CREATE TABLE gateway_events (
    gateway     TEXT    NOT NULL,
    event_id    TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    state       TEXT    NOT NULL CHECK (state IN ('credited', 'payout', 'ignored', 'refused')),
    reference   TEXT    NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount >= 0),
    currency    TEXT    NOT NULL,
    user_id     INTEGER NOT NULL,
    payout_id   INTEGER NOT NULL,
    reason      TEXT    NOT NULL,
    received_at INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (gateway, event_id)
);
CREATE INDEX gateway_events_state ON gateway_events (state, received_at);

CREATE TABLE gateway_payouts (
    id          INTEGER PRIMARY KEY,
    gateway     TEXT    NOT NULL,
    artist      TEXT    NOT NULL,
    destination TEXT    NOT NULL,
    amount      INTEGER NOT NULL CHECK (amount > 0),
    cents       INTEGER NOT NULL CHECK (cents > 0),
    currency    TEXT    NOT NULL,
    reference   TEXT    NOT NULL UNIQUE,
    state       TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'confirmed', 'failed')),
    payout_id   TEXT    NOT NULL,
    ext_id      TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
-- One payout under way per artist, whatever the gateway: a balance is sent
-- once. (Creating one also checks chain_payouts.)
CREATE UNIQUE INDEX gateway_payouts_open ON gateway_payouts (artist) WHERE state IN ('pending', 'sent');
-- A gateway's payout pays one payout of ours.
CREATE UNIQUE INDEX gateway_payouts_theirs ON gateway_payouts (gateway, payout_id) WHERE payout_id <> '';
CREATE INDEX gateway_payouts_state ON gateway_payouts (gateway, state, id);

-- +goose Down
DROP TABLE gateway_payouts;
DROP TABLE gateway_events;
