-- The office's cases: one per bad rating, office-wide. The hub is their only
-- writer; every change bumps `version`, and a desktop's action names the version
-- it saw, so two officers acting on one case at once cannot both win.

CREATE TABLE hub_cases (
    case_id        BIGSERIAL PRIMARY KEY,
    hall_id        TEXT NOT NULL,
    evaluation_id  TEXT NOT NULL,
    kind           TEXT NOT NULL DEFAULT 'bad_rating',
    state          TEXT NOT NULL,
    -- the case as hcp-core's Case, JSON
    body           TEXT NOT NULL,
    version        BIGINT NOT NULL,
    evaluated_at   TIMESTAMPTZ NOT NULL,
    due_at         TIMESTAMPTZ,
    warn_at        TIMESTAMPTZ,
    flagged_malicious BOOLEAN NOT NULL DEFAULT FALSE,
    opened_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- the case's place in the office feed of cases: every write takes the next
    -- number, handed out under a transaction lock so numbers commit in order
    change_seq     BIGINT NOT NULL,
    UNIQUE (hall_id, evaluation_id, kind)
);
CREATE SEQUENCE hub_case_change_seq;
CREATE INDEX hub_cases_by_state ON hub_cases (state, due_at);
CREATE UNIQUE INDEX hub_cases_feed ON hub_cases (change_seq);
CREATE INDEX hub_cases_feed_by_hall ON hub_cases (hall_id, change_seq);

-- Each case's timeline: what happened, by whom, one row per version.
CREATE TABLE hub_case_events (
    case_id   BIGINT NOT NULL REFERENCES hub_cases (case_id),
    version   BIGINT NOT NULL,
    at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    actor     TEXT NOT NULL,
    role      TEXT NOT NULL,
    event     TEXT NOT NULL,
    from_state TEXT,
    to_state  TEXT NOT NULL,
    summary   TEXT NOT NULL,
    note      TEXT,
    signed_sha256 TEXT,
    PRIMARY KEY (case_id, version)
);

-- Decisions for the halls, sent in `seq` order per hall. `id` is the UUID the
-- hall dedupes by: a decision is made once here and delivered once there.
CREATE TABLE hub_outbox (
    seq        BIGSERIAL PRIMARY KEY,
    id         TEXT NOT NULL UNIQUE,
    hall_id    TEXT NOT NULL,
    case_id    BIGINT NOT NULL REFERENCES hub_cases (case_id),
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    state      TEXT NOT NULL DEFAULT 'pending'
               CHECK (state IN ('pending', 'accepted', 'duplicate', 'rejected')),
    attempts   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    reason     TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    settled_at TIMESTAMPTZ
);
CREATE INDEX hub_outbox_pending ON hub_outbox (hall_id, seq) WHERE state = 'pending';

-- Every action a desktop sent, by its UUID, with the answer it got: a repeat
-- (a retry after a lost answer) gets the same answer and changes nothing.
CREATE TABLE hub_actions (
    id          TEXT PRIMARY KEY,
    account     TEXT NOT NULL,
    case_id     BIGINT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    message     TEXT,
    version     BIGINT,
    received_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Evaluators found malicious by an upheld appeal (their id_hash only).
CREATE TABLE hub_malicious_marks (
    id_hash   TEXT PRIMARY KEY,
    case_id   BIGINT NOT NULL,
    marked_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
