-- Schema 11: 典型案例 an officer picked from the inbox for a month's report (the
-- month of the rating, Beijing time). A report drafted without an explicit list
-- uses the month's picks.
CREATE TABLE typical_cases (
    month    TEXT NOT NULL,     -- YYYY-MM
    case_id  INTEGER NOT NULL REFERENCES cases(case_id),
    added_by TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (month, case_id)
) WITHOUT ROWID;
