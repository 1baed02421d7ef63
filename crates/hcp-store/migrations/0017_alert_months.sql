-- Schema 17: the months whose alerts are due for a recompute. Every write that moves
-- the per-day figures marks the month of the day it touched and the months whose
-- spike baselines (the 56 days after it) it feeds; a sync's end, and any read of the
-- alerts, recomputes those months only. At this migration every month with ratings
-- is due: the rules may have changed with the build.
CREATE TABLE alert_months_due (month TEXT PRIMARY KEY) WITHOUT ROWID;
INSERT OR IGNORE INTO alert_months_due (month)
SELECT DISTINCT substr(day, 1, 7) FROM evaluation_days;
