-- What the hub keeps of each hall's feed. Every record (evaluation, appeal,
-- rectification) is kept as the hall sent it, at the highest rev seen for its key;
-- the columns beside it are what the hub itself needs to read. `seq` numbers the
-- hub's own feed of the hall for desktops: a record that changes gets the next
-- number, so a desktop asking "after N" gets everything newer.

CREATE TABLE hub_sync_state (
    hall_id           TEXT PRIMARY KEY REFERENCES hub_halls (hall_id) ON DELETE CASCADE,
    cursor            TEXT,
    profile_rev       BIGINT NOT NULL DEFAULT 0,
    -- the position of the latest profile change in the hub's feed of the hall
    profile_seq       BIGINT NOT NULL DEFAULT 0,
    -- the last number given out in the hub's feed of the hall
    last_seq          BIGINT NOT NULL DEFAULT 0,
    pages_total       BIGINT NOT NULL DEFAULT 0,
    records_total     BIGINT NOT NULL DEFAULT 0,
    quarantined_total BIGINT NOT NULL DEFAULT 0,
    skipped_total     BIGINT NOT NULL DEFAULT 0,
    restarts_total    BIGINT NOT NULL DEFAULT 0,
    last_attempt_at   TIMESTAMPTZ,
    last_success_at   TIMESTAMPTZ,
    last_error        TEXT,
    last_error_at     TIMESTAMPTZ
);

CREATE TABLE hub_records (
    hall_id        TEXT NOT NULL,
    kind           TEXT NOT NULL CHECK (kind IN ('evaluation', 'appeal', 'rectification')),
    id             TEXT NOT NULL,
    rev            BIGINT NOT NULL,
    seq            BIGINT NOT NULL,
    -- where it was in the hall's own feed
    hall_seq       BIGINT NOT NULL,
    -- the evaluation it belongs to (its own id for an evaluation)
    evaluation_id  TEXT NOT NULL,
    -- evaluations only
    level          SMALLINT,
    status         TEXT,
    evaluated_at   TIMESTAMPTZ,
    id_hash        TEXT,
    raw            TEXT NOT NULL,
    synced_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, kind, id)
);
CREATE UNIQUE INDEX hub_records_feed ON hub_records (hall_id, seq);
CREATE INDEX hub_records_by_evaluation ON hub_records (hall_id, evaluation_id);

-- Records refused by validation, kept with the reason; a page delivered twice
-- quarantines once.
CREATE TABLE hub_quarantine (
    hall_id         TEXT NOT NULL,
    seq             BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    raw             TEXT NOT NULL,
    field           TEXT NOT NULL,
    reason          TEXT NOT NULL,
    quarantined_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (hall_id, seq)
);
