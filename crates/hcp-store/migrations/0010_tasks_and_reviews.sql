-- Schema 10: the shopper's loop both ways, without a hall server on the shopper's
-- laptop.
-- Where a hall is known from: its own server (api) or an officer's task package
-- (task: profile only, no address, no token, never synced).
ALTER TABLE halls ADD COLUMN source TEXT NOT NULL DEFAULT 'api';

-- Visits an officer asked for, from imported task packages (`.hcpt`).
CREATE TABLE visit_tasks (
    task_id          TEXT NOT NULL,          -- the package's id (UUID)
    hall_id          TEXT NOT NULL,
    planned_date     TEXT,                   -- YYYY-MM-DD (Beijing), if planned
    template_version TEXT NOT NULL,
    note             TEXT NOT NULL DEFAULT '',
    issued_by        TEXT NOT NULL,          -- the trusted key's name
    signer_key       TEXT NOT NULL,
    issued_at        TEXT NOT NULL,
    imported_at      TEXT NOT NULL,
    visit_id         TEXT,                   -- the visit started from it
    PRIMARY KEY (task_id, hall_id)
) WITHOUT ROWID;

-- The officer's last review of a visit: comments per item (JSON object item id →
-- comment) and the hand-in revision it was about. On the shopper's side it comes
-- from an imported review bundle (`.hcpr`).
ALTER TABLE visits ADD COLUMN review_items TEXT;
ALTER TABLE visits ADD COLUMN review_rev INTEGER;
ALTER TABLE visits ADD COLUMN reviewed_by TEXT;
