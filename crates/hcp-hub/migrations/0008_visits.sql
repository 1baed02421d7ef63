-- Mystery-shopper visits handed in by upload: the signed .hcpv bundle exactly as the
-- shopper's installation wrote it, tied to the account that uploaded it. A visit
-- belongs to the first account and key that handed it in; a newer revision must
-- come from both again. change_seq orders the visit feed (given out under a
-- transaction lock, so the numbers commit in order).

CREATE TABLE hub_visits (
    visit_id    TEXT PRIMARY KEY,
    hall_id     TEXT NOT NULL REFERENCES hub_halls (hall_id),
    account     TEXT NOT NULL REFERENCES hub_accounts (name),
    signer_key  TEXT NOT NULL,
    rev         INTEGER NOT NULL CHECK (rev >= 1),
    bundle      BYTEA NOT NULL,
    sha256      TEXT NOT NULL,
    uploaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    change_seq  BIGINT NOT NULL UNIQUE
);
CREATE INDEX hub_visits_by_account ON hub_visits (account, change_seq);

CREATE SEQUENCE hub_visit_seq;
