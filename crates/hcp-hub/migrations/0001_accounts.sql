-- Accounts, sessions, failed logins and the audit chain of the office hub.
-- Plain SQL (no extensions): PostgreSQL, and the PostgreSQL-compatible 信创
-- databases, run it as written.

CREATE TABLE hub_accounts (
    name          TEXT PRIMARY KEY,
    role          TEXT NOT NULL CHECK (role IN ('officer', 'director', 'shopper', 'admin')),
    hall_id       TEXT,
    password_hash TEXT NOT NULL,
    disabled      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (role <> 'director' OR hall_id IS NOT NULL)
);

-- Only a hash of each session token is kept: a copy of the database opens no session.
CREATE TABLE hub_sessions (
    token_hash  TEXT PRIMARY KEY,
    account     TEXT NOT NULL REFERENCES hub_accounts (name),
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    revoked_at  TIMESTAMPTZ
);
CREATE INDEX hub_sessions_by_account ON hub_sessions (account);

-- Failed logins in a row per account name (known or not), to slow guessing down.
CREATE TABLE hub_login_failures (
    account   TEXT PRIMARY KEY,
    failures  INTEGER NOT NULL,
    last_at   TIMESTAMPTZ NOT NULL
);

-- Every change on the hub, chained: each row's hash covers the previous hash and
-- the row, so an edited or deleted row breaks the chain.
CREATE TABLE hub_audit (
    seq        BIGINT PRIMARY KEY,
    at         TEXT NOT NULL,
    actor      TEXT NOT NULL,
    role       TEXT NOT NULL,
    subject    TEXT NOT NULL,
    action     TEXT NOT NULL,
    detail     TEXT NOT NULL,
    prev_hash  TEXT NOT NULL,
    hash       TEXT NOT NULL
);
