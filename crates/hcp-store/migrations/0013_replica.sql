-- Schema 13: a cache that is a replica of an office hub (hub mode). The hub decides
-- every case; this desktop keeps the officers' actions here until the hub answered,
-- in the order they were taken, with the answer (accepted, duplicate, rejected and
-- why) so that nothing is lost silently.
CREATE TABLE hub_queue (
    seq              INTEGER PRIMARY KEY AUTOINCREMENT,
    id               TEXT NOT NULL UNIQUE,
    case_id          INTEGER NOT NULL,
    expected_version INTEGER NOT NULL,
    action           TEXT NOT NULL,
    summary          TEXT NOT NULL,
    actor            TEXT NOT NULL,
    queued_at        TEXT NOT NULL,
    state            TEXT NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'accepted', 'duplicate', 'rejected')),
    reason           TEXT,
    message          TEXT,
    hub_version      INTEGER,
    answered_at      TEXT
);
CREATE INDEX hub_queue_by_case ON hub_queue (case_id, seq);
CREATE INDEX hub_queue_pending ON hub_queue (state, seq);
