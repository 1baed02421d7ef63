-- Schema 16: 电子监察预警. One row per alert the rules found (rule, unit, first day);
-- a recompute refreshes the numbers of an alert still found, adds the new ones and
-- drops open ones no longer found (a rating revised or withdrawn since), but keeps
-- every alert an officer has acknowledged or dismissed, with the note.
CREATE TABLE alerts (
    alert_id     INTEGER PRIMARY KEY,
    rule         TEXT NOT NULL,
    unit_kind    TEXT NOT NULL,
    hall_id      TEXT NOT NULL,
    code         TEXT NOT NULL,
    day_from     TEXT NOT NULL,
    day_to       TEXT NOT NULL,
    observed     REAL NOT NULL,
    baseline     REAL,
    explanation  TEXT NOT NULL,
    evidence     TEXT NOT NULL,
    state        TEXT NOT NULL DEFAULT 'open'
                 CHECK (state IN ('open', 'acknowledged', 'dismissed')),
    note         TEXT,
    decided_by   TEXT,
    decided_at   TEXT,
    computed_at  TEXT NOT NULL,
    UNIQUE (rule, unit_kind, hall_id, code, day_from)
);
CREATE INDEX alerts_by_day ON alerts (day_from);
