-- The embedded ledger: the payout contract's world state, and the
-- hash-chained, signed log of every contract invocation that changed it.
-- Both change in one transaction per invocation (sqlstore/ledger.go).

-- +goose Up
-- Keys compare as bytes (the C collation), the order the contract's Range
-- promises, whatever the database's locale.
CREATE TABLE ledger_state (
    key   TEXT  COLLATE "C" PRIMARY KEY CHECK (key <> ''),
    value BYTEA NOT NULL
);

CREATE TABLE ledger_log (
    seq    BIGINT PRIMARY KEY CHECK (seq > 0),
    prev   BYTEA  NOT NULL CHECK (length(prev) = 32),
    op     TEXT   NOT NULL,
    args   BYTEA  NOT NULL,
    writes BYTEA  NOT NULL,
    events BYTEA  NOT NULL,
    hash   BYTEA  NOT NULL UNIQUE CHECK (length(hash) = 32),
    signer TEXT   NOT NULL,
    sig    BYTEA  NOT NULL,
    at     BIGINT NOT NULL
);

-- The log is append-only. These triggers stop a bug (or a hurried admin)
-- from editing it; they cannot stop someone who owns the database, which
-- is what the hash chain and the signatures are for (`9ten ledger verify`).
-- +goose StatementBegin
CREATE FUNCTION ledger_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the ledger log is append-only';
END
$$;
-- +goose StatementEnd

CREATE TRIGGER ledger_log_no_update BEFORE UPDATE ON ledger_log
    FOR EACH ROW EXECUTE FUNCTION ledger_log_append_only();
CREATE TRIGGER ledger_log_no_delete BEFORE DELETE ON ledger_log
    FOR EACH ROW EXECUTE FUNCTION ledger_log_append_only();
-- SQLite has no TRUNCATE; PostgreSQL's would pass the row triggers by.
CREATE TRIGGER ledger_log_no_truncate BEFORE TRUNCATE ON ledger_log
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_log_append_only();

-- +goose Down
DROP TABLE ledger_log;
DROP FUNCTION ledger_log_append_only;
DROP TABLE ledger_state;
