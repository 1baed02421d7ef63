-- Schema 9: a visit is tied to the key that signed it.
-- Trust is by the full public key (the fingerprint is only for people to compare);
-- a key can be revoked, after which its bundles are refused.
CREATE TABLE trusted_keys_by_key (
    public_key  TEXT PRIMARY KEY,   -- Ed25519, 64 lower-case hex digits
    fingerprint TEXT NOT NULL,
    name        TEXT NOT NULL,      -- the shopper's name, as the officer entered it
    trusted_at  TEXT NOT NULL,
    revoked_at  TEXT,
    revoked_by  TEXT
) WITHOUT ROWID;
INSERT INTO trusted_keys_by_key (public_key, fingerprint, name, trusted_at)
    SELECT lower(public_key), fingerprint, name, trusted_at FROM trusted_keys;
DROP TABLE trusted_keys;
ALTER TABLE trusted_keys_by_key RENAME TO trusted_keys;

-- The full public key an imported visit was signed with; a newer revision must
-- come from the same key.
ALTER TABLE visits ADD COLUMN signer_key TEXT;
UPDATE visits SET signer_key = (
    SELECT t.public_key FROM trusted_keys t WHERE t.fingerprint = visits.signer
) WHERE origin = 'imported';
