-- Schema 5: bad-rating cases (差评工单), the outbox of decisions for the halls,
-- malicious-evaluator marks, and evaluations that an upheld appeal took out of
-- every figure.

-- One case per valid bad rating. `body` is hcp_core::case::Case as JSON (the state
-- machine's memory); the other columns are copies for listing, sorting and
-- filtering in SQL. due_at/warn_at are the current deadline and the start of its
-- overdue warning (UTC), recomputed when the calendar or a deadline policy changes.
CREATE TABLE cases (
    case_id           INTEGER PRIMARY KEY,
    hall_id           TEXT NOT NULL,
    evaluation_id     TEXT NOT NULL,
    kind              TEXT NOT NULL DEFAULT 'bad_rating',
    state             TEXT NOT NULL,
    body              TEXT NOT NULL,
    evaluated_at      TEXT NOT NULL,
    due_at            TEXT,
    warn_at           TEXT,
    due_estimated     INTEGER NOT NULL DEFAULT 0,
    flagged_malicious INTEGER NOT NULL DEFAULT 0,
    lead_department   TEXT,
    assignee          TEXT,
    rejection         TEXT,
    opened_at         TEXT NOT NULL,
    updated_at        TEXT NOT NULL,
    closed_at         TEXT,
    version           INTEGER NOT NULL DEFAULT 1,
    UNIQUE (hall_id, evaluation_id, kind)
);
CREATE INDEX cases_by_due ON cases (state, due_at);
CREATE INDEX cases_by_hall ON cases (hall_id, state, due_at);

-- A case's timeline is its audit rows.
CREATE INDEX audit_log_by_subject ON audit_log (subject, seq);

-- Decisions the halls must hear of, written in the same transaction as the action.
-- Pushed in seq order per hall; `id` is the idempotency key the hall sees.
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    id         TEXT NOT NULL UNIQUE,
    hall_id    TEXT NOT NULL,
    case_id    INTEGER,
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending',
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    reason     TEXT,
    created_at TEXT NOT NULL,
    settled_at TEXT
);
CREATE INDEX outbox_pending ON outbox (hall_id, seq) WHERE state = 'pending';

-- 恶意评价人员: evaluators marked by an upheld "malicious" appeal.
CREATE TABLE malicious_marks (
    id_hash       TEXT PRIMARY KEY,
    hall_id       TEXT NOT NULL,
    evaluation_id TEXT NOT NULL,
    case_id       INTEGER NOT NULL,
    marked_at     TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX evaluations_bad_by_id_hash ON evaluations (evaluator_id_hash)
    WHERE level <= {BAD_LEVEL_MAX} AND evaluator_id_hash IS NOT NULL;

-- 申诉成立: the rating no longer counts anywhere.
ALTER TABLE evaluations ADD COLUMN excluded INTEGER NOT NULL DEFAULT 0;
