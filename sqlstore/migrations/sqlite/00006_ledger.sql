-- The embedded ledger: the payout contract's world state, and the
-- hash-chained, signed log of every contract invocation that changed it.
-- Both change in one transaction per invocation (sqlstore/ledger.go).

-- +goose Up
-- Keys compare as bytes (BINARY collation), the order the contract's Range
-- promises.
CREATE TABLE ledger_state (
    key   TEXT PRIMARY KEY CHECK (key <> ''),
    value BLOB NOT NULL
) WITHOUT ROWID;

CREATE TABLE ledger_log (
    seq    INTEGER PRIMARY KEY CHECK (seq > 0),
    prev   BLOB    NOT NULL CHECK (length(prev) = 32),
    op     TEXT    NOT NULL,
    args   BLOB    NOT NULL,
    writes BLOB    NOT NULL,
    events BLOB    NOT NULL,
    hash   BLOB    NOT NULL UNIQUE CHECK (length(hash) = 32),
    signer TEXT    NOT NULL,
    sig    BLOB    NOT NULL,
    at     INTEGER NOT NULL
);

-- The log is append-only. These triggers stop a bug (or a hurried admin)
-- from editing it; they cannot stop someone who owns the file, which is
-- what the hash chain and the signatures are for (`9ten ledger verify`).
-- +goose StatementBegin
CREATE TRIGGER ledger_log_no_update BEFORE UPDATE ON ledger_log BEGIN
    SELECT RAISE(ABORT, 'the ledger log is append-only');
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER ledger_log_no_delete BEFORE DELETE ON ledger_log BEGIN
    SELECT RAISE(ABORT, 'the ledger log is append-only');
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER ledger_log_no_delete;
DROP TRIGGER ledger_log_no_update;
DROP TABLE ledger_log;
DROP TABLE ledger_state;
