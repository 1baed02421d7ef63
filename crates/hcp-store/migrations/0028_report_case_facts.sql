-- Schema 28: what the figures read of a case, in one index in rating-time order, so a
-- report's cases are read without touching the case rows or parsing their JSON:
-- the pause an appeal added and the closing time as the step recorded it, copied
-- from the body whenever it is written. (Virtual generated columns would say the
-- same, but SQLite does not read them from an index alone.)
ALTER TABLE cases ADD COLUMN paused_working_days INTEGER;
ALTER TABLE cases ADD COLUMN acted_closed_at TEXT;
UPDATE cases SET paused_working_days = json_extract(body, '$.paused_working_days'),
                 acted_closed_at = json_extract(body, '$.closed_at');

CREATE TRIGGER cases_body_facts_open AFTER INSERT ON cases BEGIN
    UPDATE cases SET paused_working_days = json_extract(NEW.body, '$.paused_working_days'),
                     acted_closed_at = json_extract(NEW.body, '$.closed_at')
    WHERE case_id = NEW.case_id;
END;

CREATE TRIGGER cases_body_facts AFTER UPDATE OF body ON cases BEGIN
    UPDATE cases SET paused_working_days = json_extract(NEW.body, '$.paused_working_days'),
                     acted_closed_at = json_extract(NEW.body, '$.closed_at')
    WHERE case_id = NEW.case_id;
END;

DROP INDEX cases_by_evaluated;
CREATE INDEX cases_report_facts ON cases (evaluated_at, hall_id, kind, case_id, evaluation_id,
    state, due_at, rating_level, rating_valid, paused_working_days, acted_closed_at);
