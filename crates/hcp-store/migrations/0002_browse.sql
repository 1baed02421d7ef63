-- Schema 2: the console's screens. Dashboard counts and the all-halls evaluation list
-- read a month by time; this index covers them (level, status and hall without a
-- table lookup). Rows arrive roughly in time order, so it is appended to, not
-- scattered, during a sync.
CREATE INDEX evaluations_by_instant ON evaluations (evaluated_at, level, status, hall_id);

-- Small application settings (e.g. that the demo halls were loaded, so the app can
-- bring their embedded server back on the next start).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
