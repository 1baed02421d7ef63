-- Schema 26: 电子监察预警 per hall, from counts.
--
-- 差评突增 reads only counts: for every hall, unit (the hall itself, a window, a
-- staff member, an item) and Beijing day, whether it was rated and how many bad
-- ratings it had — of the ratings that count (given by a person, not withdrawn,
-- not excluded by an upheld appeal). They are kept here, rebuilt from the rows for
-- one (hall, month) at a time, never patched row by row:
--
-- alert_unit_months: the days of a month a unit was rated, as bits (bit d−1 for
-- day d); alert_unit_bad: its bad ratings per day, only days that had any.
CREATE TABLE alert_unit_months (
    hall_id TEXT NOT NULL,
    month   TEXT NOT NULL,
    kind    TEXT NOT NULL,
    code    TEXT NOT NULL,
    days    INTEGER NOT NULL,
    PRIMARY KEY (hall_id, month, kind, code)
) WITHOUT ROWID;

CREATE TABLE alert_unit_bad (
    hall_id TEXT NOT NULL,
    day     TEXT NOT NULL,
    kind    TEXT NOT NULL,
    code    TEXT NOT NULL,
    bad     INTEGER NOT NULL,
    PRIMARY KEY (hall_id, day, kind, code)
) WITHOUT ROWID;

-- The (hall, month)s whose counts and whose hall rules (every rule but 疑似恶意差评,
-- which follows a rater across halls and stays per month in alert_months_due) are
-- due: every write that moves a rating lists its hall with the months of its day
-- and of the 56 days after it (the spike baselines it feeds).
CREATE TABLE alert_hall_months_due (
    hall_id TEXT NOT NULL,
    month   TEXT NOT NULL,
    PRIMARY KEY (hall_id, month)
) WITHOUT ROWID;

-- Every hall and month with ratings is due once, and every month again: the
-- spikes' evidence is now listed in time order.
INSERT OR IGNORE INTO alert_hall_months_due (hall_id, month)
SELECT DISTINCT hall_id, substr(day, 1, 7) FROM evaluation_days;
INSERT OR IGNORE INTO alert_months_due (month)
SELECT DISTINCT substr(day, 1, 7) FROM evaluation_days;
