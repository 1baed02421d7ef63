-- Each hall's totals for 大厅与同步 and the 工作台's hall list, kept in the
-- transaction that writes the rows they count: evaluations, withdrawn and bad
-- ratings by the code that writes the per-day figures (one row a hall a
-- transaction, `days.rs`, rather than a trigger on every per-day row),
-- appeals, rectifications and quarantined records by the triggers below. Counting them per hall read 182,500 per-day rows and every appeal and
-- rectification at 10M evaluations: a third of the 工作台's time.
CREATE TABLE hall_tally (
    hall_id        TEXT PRIMARY KEY,
    evaluations    INTEGER NOT NULL DEFAULT 0,
    withdrawn      INTEGER NOT NULL DEFAULT 0,
    bad            INTEGER NOT NULL DEFAULT 0,
    appeals        INTEGER NOT NULL DEFAULT 0,
    rectifications INTEGER NOT NULL DEFAULT 0,
    quarantined    INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;

INSERT INTO hall_tally (hall_id, evaluations, withdrawn, bad)
SELECT hall_id, sum(total), sum(withdrawn), sum(bad) FROM evaluation_days WHERE true
GROUP BY hall_id;
INSERT INTO hall_tally (hall_id, appeals)
SELECT hall_id, count(*) FROM appeals WHERE true GROUP BY hall_id
ON CONFLICT (hall_id) DO UPDATE SET appeals = excluded.appeals;
INSERT INTO hall_tally (hall_id, rectifications)
SELECT hall_id, count(*) FROM rectifications WHERE true GROUP BY hall_id
ON CONFLICT (hall_id) DO UPDATE SET rectifications = excluded.rectifications;
INSERT INTO hall_tally (hall_id, quarantined)
SELECT hall_id, count(*) FROM quarantine WHERE true GROUP BY hall_id
ON CONFLICT (hall_id) DO UPDATE SET quarantined = excluded.quarantined;

CREATE TRIGGER hall_tally_appeals_insert AFTER INSERT ON appeals BEGIN
    INSERT INTO hall_tally (hall_id, appeals) VALUES (new.hall_id, 1)
    ON CONFLICT (hall_id) DO UPDATE SET appeals = appeals + 1;
END;
CREATE TRIGGER hall_tally_appeals_delete AFTER DELETE ON appeals BEGIN
    UPDATE hall_tally SET appeals = appeals - 1 WHERE hall_id = old.hall_id;
END;

CREATE TRIGGER hall_tally_rectifications_insert AFTER INSERT ON rectifications BEGIN
    INSERT INTO hall_tally (hall_id, rectifications) VALUES (new.hall_id, 1)
    ON CONFLICT (hall_id) DO UPDATE SET rectifications = rectifications + 1;
END;
CREATE TRIGGER hall_tally_rectifications_delete AFTER DELETE ON rectifications BEGIN
    UPDATE hall_tally SET rectifications = rectifications - 1 WHERE hall_id = old.hall_id;
END;

CREATE TRIGGER hall_tally_quarantine_insert AFTER INSERT ON quarantine BEGIN
    INSERT INTO hall_tally (hall_id, quarantined) VALUES (new.hall_id, 1)
    ON CONFLICT (hall_id) DO UPDATE SET quarantined = quarantined + 1;
END;
CREATE TRIGGER hall_tally_quarantine_delete AFTER DELETE ON quarantine BEGIN
    UPDATE hall_tally SET quarantined = quarantined - 1 WHERE hall_id = old.hall_id;
END;

-- The 工作台's month and today figures and its daily bad ratings of all halls:
-- the per-day figures summed over halls, one row a day, kept by the same code
-- (`days.rs`). The primary key of `evaluation_days` starts with the hall, so a
-- range of days of all halls read every day of every hall. Neither this table
-- nor an index by day is free: either made the 1M/500-hall sync ~20 % slower
-- (docs/benchmarks.md).
CREATE TABLE day_tally (
    day       TEXT PRIMARY KEY,
    total     INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    good      INTEGER NOT NULL,
    bad       INTEGER NOT NULL
) WITHOUT ROWID;

INSERT INTO day_tally (day, total, withdrawn, good, bad)
SELECT day, sum(total), sum(withdrawn), sum(good), sum(bad) FROM evaluation_days
GROUP BY day;
