-- Schema 25: what a report (通报) needs without reading every rating or every
-- open case.
--
-- report_groups: the counted ratings (not withdrawn, not excluded) of one hall and
-- Beijing month per (department, window, staff, level, filled in by the system).
-- A (hall, month) is rebuilt from the rows, in one statement, when a report asks
-- for it while it is listed in report_months_due; every transaction that changes a
-- rating lists its hall and month there (with the per-day figures), so the groups
-- are never patched row by row and cannot drift from the rows.
CREATE TABLE report_groups (
    hall_id         TEXT NOT NULL,
    month           TEXT NOT NULL,
    department_code TEXT,
    window_no       TEXT,
    staff_no        TEXT,
    level           INTEGER NOT NULL,
    system_default  INTEGER NOT NULL,
    n               INTEGER NOT NULL
);
CREATE INDEX report_groups_by_month ON report_groups (month, hall_id);

CREATE TABLE report_months_due (
    hall_id TEXT NOT NULL,
    month   TEXT NOT NULL,
    PRIMARY KEY (hall_id, month)
) WITHOUT ROWID;

-- Every hall and month that has ratings is due once.
INSERT OR IGNORE INTO report_months_due (hall_id, month)
SELECT DISTINCT hall_id, substr(day, 1, 7) FROM evaluation_days;

-- The cases of a period by their rating's time (the ledger and the on-time rate
-- read a few months of cases, not all of them).
CREATE INDEX cases_by_evaluated ON cases (evaluated_at);

-- Callbacks without walking the whole audit log.
CREATE INDEX audit_log_callbacks ON audit_log (subject) WHERE action = 'callback';
