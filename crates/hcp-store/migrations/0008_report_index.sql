-- Schema 8: the monthly report groups a month's valid evaluations by department,
-- window and staff. The time index of schema 2 is widened to carry those columns
-- (and `excluded`), so a month is read from the index alone instead of one table
-- lookup per row; it still serves the dashboard and the evaluation list as before.
DROP INDEX evaluations_by_instant;
CREATE INDEX evaluations_by_instant ON evaluations
    (evaluated_at, level, status, hall_id, excluded, department_code, window_no, staff_no);
