-- Schema 14: visits a shopper's desk in hub mode hands in by upload. A submitted
-- visit waits (待发送) while this table has no answer for its revision; the hub's
-- answer is kept: accepted (new, replaced or already there) or rejected with the
-- hub's reason. A rejected revision is not sent again: the shopper reopens and
-- submits anew, which makes a new revision.
CREATE TABLE hub_visit_uploads (
    visit_id    TEXT PRIMARY KEY,
    rev         INTEGER NOT NULL,
    state       TEXT NOT NULL CHECK (state IN ('accepted', 'rejected')),
    message     TEXT,
    answered_at TEXT NOT NULL
);
