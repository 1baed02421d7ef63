-- The inbox pages cases by deadline: due_at, then case_id. With case_id right
-- after due_at, each state's cases come out of the index already in that order,
-- so a page reads its rows instead of sorting every case of its states
-- (430,000 open cases at 10M evaluations: 47 ms of a 51 ms first page).
-- warn_at and hall_id stay in the index for the counts that read it alone.
DROP INDEX cases_by_due;
CREATE INDEX cases_by_due ON cases (state, due_at, case_id, warn_at, hall_id);
