-- The 工作台 counts cases per state with how many are in warning or overdue. The
-- indexes ordered by state held due_at but not warn_at, so each case was read from
-- the table: 1.1 s of a 1.1 s 工作台 at 520,000 cases. With warn_at (and hall_id) in
-- the index the count reads the index alone.
DROP INDEX cases_by_due;
CREATE INDEX cases_by_due ON cases (state, due_at, warn_at, hall_id);
DROP INDEX cases_by_hall;
CREATE INDEX cases_by_hall ON cases (hall_id, state, due_at, warn_at);
