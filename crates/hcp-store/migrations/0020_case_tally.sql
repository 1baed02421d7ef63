-- Cases per hall and state, kept by triggers in the same transaction as the case
-- itself, so every writer (the case engine, an officer's step, the hub's case
-- feed, a policy change) keeps it right. The inbox badges and the 工作台 read
-- totals here instead of counting every case of a state (430,000 open cases at
-- 10M evaluations); only the cases not yet overdue are still counted, for the
-- "soon" and "overdue" figures (overdue = with a deadline - not yet due).
CREATE TABLE case_tally (
    hall_id  TEXT NOT NULL,
    state    TEXT NOT NULL,
    cases    INTEGER NOT NULL,
    with_due INTEGER NOT NULL,  -- of which have a deadline (due_at set)
    PRIMARY KEY (hall_id, state)
) WITHOUT ROWID;

INSERT INTO case_tally (hall_id, state, cases, with_due)
SELECT hall_id, state, count(*), count(due_at) FROM cases GROUP BY hall_id, state;

CREATE TRIGGER case_tally_insert AFTER INSERT ON cases BEGIN
    INSERT INTO case_tally (hall_id, state, cases, with_due)
    VALUES (new.hall_id, new.state, 1, new.due_at IS NOT NULL)
    ON CONFLICT (hall_id, state) DO UPDATE
        SET cases = cases + 1, with_due = with_due + excluded.with_due;
END;

CREATE TRIGGER case_tally_delete AFTER DELETE ON cases BEGIN
    UPDATE case_tally SET cases = cases - 1, with_due = with_due - (old.due_at IS NOT NULL)
    WHERE hall_id = old.hall_id AND state = old.state;
END;

CREATE TRIGGER case_tally_update AFTER UPDATE OF hall_id, state, due_at ON cases
WHEN old.hall_id IS NOT new.hall_id OR old.state IS NOT new.state
  OR (old.due_at IS NULL) <> (new.due_at IS NULL)
BEGIN
    UPDATE case_tally SET cases = cases - 1, with_due = with_due - (old.due_at IS NOT NULL)
    WHERE hall_id = old.hall_id AND state = old.state;
    INSERT INTO case_tally (hall_id, state, cases, with_due)
    VALUES (new.hall_id, new.state, 1, new.due_at IS NOT NULL)
    ON CONFLICT (hall_id, state) DO UPDATE
        SET cases = cases + 1, with_due = with_due + excluded.with_due;
END;
