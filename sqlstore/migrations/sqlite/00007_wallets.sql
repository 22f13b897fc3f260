-- Wallets and the chain's money (pay/usdp): addresses users proved they
-- hold, the challenges they signed to prove it, how far the chain watcher
-- has read each token, the transfers it took, and artists' payouts with
-- the transaction that pays each.
--
-- Addresses and hashes are lower-case 0x hex; token amounts in base units
-- are decimal TEXT (they exceed 64 bits); money is INTEGER micro-dollars;
-- times are INTEGER Unix milliseconds, 0 for never.

-- +goose Up
CREATE TABLE wallet_challenges (
    nonce      TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    address    TEXT    NOT NULL,
    message    TEXT    NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX wallet_challenges_expiry ON wallet_challenges (expires_at);

-- An address is one user's: transfers from it credit that user.
CREATE TABLE wallets (
    address    TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL
);
CREATE INDEX wallets_user ON wallets (user_id, created_at);

CREATE TABLE chain_cursors (
    chain        TEXT    PRIMARY KEY,
    block_number INTEGER NOT NULL,
    block_hash   TEXT    NOT NULL,
    updated_at   INTEGER NOT NULL
);

-- Deposits are records of money: they keep the credited user's id without
-- a foreign key, whatever becomes of the user.
CREATE TABLE chain_deposits (
    ext_id       TEXT    PRIMARY KEY,
    chain        TEXT    NOT NULL,
    tx_hash      TEXT    NOT NULL,
    log_index    INTEGER NOT NULL,
    block_number INTEGER NOT NULL,
    block_hash   TEXT    NOT NULL,
    from_address TEXT    NOT NULL,
    to_address   TEXT    NOT NULL,
    units        TEXT    NOT NULL,
    amount       INTEGER NOT NULL CHECK (amount >= 0),
    remainder    TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('credited', 'unclaimed', 'dust')),
    user_id      INTEGER NOT NULL,
    seen_at      INTEGER NOT NULL,
    credited_at  INTEGER NOT NULL
);
CREATE INDEX chain_deposits_state ON chain_deposits (chain, state, block_number, log_index);

CREATE TABLE chain_payouts (
    id           INTEGER PRIMARY KEY,
    chain        TEXT    NOT NULL,
    artist       TEXT    NOT NULL,
    to_address   TEXT    NOT NULL,
    amount       INTEGER NOT NULL CHECK (amount > 0),
    units        TEXT    NOT NULL,
    state        TEXT    NOT NULL CHECK (state IN ('pending', 'sent', 'confirmed', 'failed')),
    from_address TEXT    NOT NULL,
    nonce        INTEGER NOT NULL,
    tx_hash      TEXT    NOT NULL,
    raw_tx       BLOB,
    ext_id       TEXT    NOT NULL,
    reason       TEXT    NOT NULL,
    block_number INTEGER NOT NULL,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
-- One payout under way per artist and chain: a balance is sent once.
CREATE UNIQUE INDEX chain_payouts_open ON chain_payouts (chain, artist) WHERE state IN ('pending', 'sent');
-- A nonce of the payout wallet pays one payout.
CREATE UNIQUE INDEX chain_payouts_nonce ON chain_payouts (chain, from_address, nonce) WHERE nonce >= 0;
CREATE INDEX chain_payouts_state ON chain_payouts (chain, state, id);

-- +goose Down
DROP TABLE chain_payouts;
DROP TABLE chain_deposits;
DROP TABLE chain_cursors;
DROP TABLE wallets;
DROP TABLE wallet_challenges;
