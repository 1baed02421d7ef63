-- Who may hand in with which key, and sessions that end when left idle.
--
-- A shopper's signing key belongs to the first account that uploaded a hand-in
-- signed with it; another account's upload signed with it is refused. Moving a
-- key to another account (a laptop handed over) is an administrator's step,
-- audited (hcp hub user unbind-keys).
CREATE TABLE hub_signer_keys (
    signer_key  TEXT PRIMARY KEY,
    account     TEXT NOT NULL REFERENCES hub_accounts (name),
    bound_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX hub_signer_keys_by_account ON hub_signer_keys (account);

-- The last request of a session: one left idle past the hub's idle limit ends
-- although its 12 hours are not over.
ALTER TABLE hub_sessions ADD COLUMN last_seen_at TIMESTAMPTZ NOT NULL DEFAULT now();
