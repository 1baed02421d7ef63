-- Schema 6: mystery-shopper visits (暗访). A draft is saved on every change; a
-- visit keeps the checklist template version it was started with. `shopper` is the
-- shopper's name: never shown to directors, in reports, or to halls.
CREATE TABLE visits (
    visit_id         TEXT PRIMARY KEY,
    hall_id          TEXT NOT NULL,
    template_version TEXT NOT NULL,
    state            TEXT NOT NULL,
    rev              INTEGER NOT NULL DEFAULT 0,
    shopper          TEXT NOT NULL,
    origin           TEXT NOT NULL,
    signer           TEXT,
    fields           TEXT NOT NULL,
    review_note      TEXT,
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    submitted_at     TEXT,
    reviewed_at      TEXT
);
CREATE INDEX visits_by_hall ON visits (hall_id, updated_at);

-- One row per answered (or noted) item; `answer` is hcp_core::visit::Answer JSON.
CREATE TABLE visit_answers (
    visit_id   TEXT NOT NULL REFERENCES visits(visit_id) ON DELETE CASCADE,
    item_id    TEXT NOT NULL,
    answer     TEXT,
    note       TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (visit_id, item_id)
) WITHOUT ROWID;

-- Photo evidence: the bytes live in photos/<sha[0..2]>/<sha> beside the cache.
CREATE TABLE visit_photos (
    visit_id  TEXT NOT NULL REFERENCES visits(visit_id) ON DELETE CASCADE,
    item_id   TEXT NOT NULL,
    sha256    TEXT NOT NULL,
    file_name TEXT NOT NULL,
    exif_time TEXT,
    size      INTEGER NOT NULL,
    added_at  TEXT NOT NULL,
    PRIMARY KEY (visit_id, item_id, sha256)
) WITHOUT ROWID;

-- Shoppers' public keys an officer trusts for importing bundles.
CREATE TABLE trusted_keys (
    fingerprint TEXT PRIMARY KEY,
    public_key  TEXT NOT NULL,
    name        TEXT NOT NULL,
    trusted_at  TEXT NOT NULL
) WITHOUT ROWID;
