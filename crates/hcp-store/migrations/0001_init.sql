-- HCP Supervisor cache, schema 1: halls, the change feed's records, quarantine, sync state.
-- Instants are UTC RFC 3339 text with a 'Z' ("2026-10-08T01:31:05Z"), so they sort as text.

CREATE TABLE halls (
    hall_id      TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    region_code  TEXT NOT NULL,
    level        TEXT NOT NULL,
    profile_rev  INTEGER NOT NULL,
    base_url     TEXT NOT NULL,
    ca_file      TEXT,
    profile_json TEXT NOT NULL,
    added_at     TEXT NOT NULL,
    updated_at   TEXT NOT NULL
);

CREATE TABLE departments (
    hall_id TEXT NOT NULL REFERENCES halls(hall_id) ON DELETE CASCADE,
    code    TEXT NOT NULL,
    name    TEXT NOT NULL,
    PRIMARY KEY (hall_id, code)
) WITHOUT ROWID;

CREATE TABLE windows (
    hall_id         TEXT NOT NULL REFERENCES halls(hall_id) ON DELETE CASCADE,
    no              TEXT NOT NULL,
    name            TEXT NOT NULL,
    department_code TEXT,
    PRIMARY KEY (hall_id, no)
) WITHOUT ROWID;

CREATE TABLE staff (
    hall_id         TEXT NOT NULL REFERENCES halls(hall_id) ON DELETE CASCADE,
    no              TEXT NOT NULL,
    name            TEXT NOT NULL,
    window_no       TEXT,
    department_code TEXT,
    PRIMARY KEY (hall_id, no)
) WITHOUT ROWID;

CREATE TABLE service_items (
    hall_id         TEXT NOT NULL REFERENCES halls(hall_id) ON DELETE CASCADE,
    code            TEXT NOT NULL,
    name            TEXT NOT NULL,
    department_code TEXT,
    PRIMARY KEY (hall_id, code)
) WITHOUT ROWID;

-- Latest revision of every evaluation, keyed by (hall_id, id): ids are unique only
-- within a hall. raw_json is the record exactly as the hall sent it.
CREATE TABLE evaluations (
    hall_id                TEXT NOT NULL,
    id                     TEXT NOT NULL,
    rev                    INTEGER NOT NULL,
    seq                    INTEGER NOT NULL,
    serial_no              TEXT,
    item_code              TEXT,
    item_name              TEXT,
    department_code        TEXT,
    window_no              TEXT,
    staff_no               TEXT,
    channel                TEXT NOT NULL,
    level                  INTEGER NOT NULL,
    reasons                TEXT NOT NULL,
    comment                TEXT NOT NULL,
    served_at              TEXT,
    evaluated_at           TEXT NOT NULL,
    evaluator_real_name    INTEGER NOT NULL,
    evaluator_name_masked  TEXT,
    evaluator_phone_masked TEXT,
    evaluator_id_hash      TEXT,
    status                 TEXT NOT NULL,
    raw_json               TEXT NOT NULL,
    synced_at              TEXT NOT NULL,
    PRIMARY KEY (hall_id, id)
);
CREATE INDEX evaluations_by_time ON evaluations (hall_id, evaluated_at);
-- "bad ratings of hall H in a date range, newest first"
CREATE INDEX evaluations_bad_by_time ON evaluations (hall_id, evaluated_at)
    WHERE level <= {BAD_LEVEL_MAX} AND status <> 'withdrawn';
CREATE INDEX evaluations_by_window ON evaluations (hall_id, window_no, level);
CREATE INDEX evaluations_by_staff ON evaluations (hall_id, staff_no, level);

CREATE TABLE appeals (
    hall_id       TEXT NOT NULL,
    id            TEXT NOT NULL,
    rev           INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    evaluation_id TEXT NOT NULL,
    filed_at      TEXT NOT NULL,
    filed_by      TEXT NOT NULL,
    ground        TEXT NOT NULL,
    statement     TEXT NOT NULL,
    attachments   TEXT NOT NULL,
    raw_json      TEXT NOT NULL,
    synced_at     TEXT NOT NULL,
    PRIMARY KEY (hall_id, id)
);
CREATE INDEX appeals_by_evaluation ON appeals (hall_id, evaluation_id);

CREATE TABLE rectifications (
    hall_id       TEXT NOT NULL,
    id            TEXT NOT NULL,
    rev           INTEGER NOT NULL,
    seq           INTEGER NOT NULL,
    evaluation_id TEXT NOT NULL,
    submitted_at  TEXT NOT NULL,
    responsible   TEXT NOT NULL,
    measures      TEXT NOT NULL,
    attachments   TEXT NOT NULL,
    raw_json      TEXT NOT NULL,
    synced_at     TEXT NOT NULL,
    PRIMARY KEY (hall_id, id)
);
CREATE INDEX rectifications_by_evaluation ON rectifications (hall_id, evaluation_id);

-- Records the hall sent that failed validation: kept whole, with the reason.
-- (hall_id, seq) is unique so a page delivered twice quarantines once.
CREATE TABLE quarantine (
    qid            INTEGER PRIMARY KEY,
    hall_id        TEXT NOT NULL,
    seq            INTEGER NOT NULL,
    kind           TEXT NOT NULL,
    raw            TEXT NOT NULL,
    field          TEXT NOT NULL,
    reason         TEXT NOT NULL,
    quarantined_at TEXT NOT NULL,
    UNIQUE (hall_id, seq)
);

CREATE TABLE sync_state (
    hall_id           TEXT PRIMARY KEY,
    cursor            TEXT,
    last_attempt_at   TEXT,
    last_success_at   TEXT,
    last_error        TEXT,
    last_error_at     TEXT,
    pages_total       INTEGER NOT NULL DEFAULT 0,
    records_total     INTEGER NOT NULL DEFAULT 0,
    quarantined_total INTEGER NOT NULL DEFAULT 0,
    skipped_total     INTEGER NOT NULL DEFAULT 0,
    restarts_total    INTEGER NOT NULL DEFAULT 0
);
