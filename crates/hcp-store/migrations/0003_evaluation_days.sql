-- Schema 3: evaluations per hall and Beijing-time day, kept up to date inside the same
-- transaction as every feed page (the sync adds the new rows' figures and takes away
-- what a revised row counted before). The dashboard and the hall list read these
-- few hundred rows instead of scanning a million evaluations.
-- good/bad count latest revs that are not withdrawn (level 3–5 / level 1–2).
CREATE TABLE evaluation_days (
    hall_id   TEXT NOT NULL,
    day       TEXT NOT NULL,
    total     INTEGER NOT NULL,
    withdrawn INTEGER NOT NULL,
    good      INTEGER NOT NULL,
    bad       INTEGER NOT NULL,
    PRIMARY KEY (hall_id, day)
) WITHOUT ROWID;

INSERT INTO evaluation_days (hall_id, day, total, withdrawn, good, bad)
SELECT hall_id, date(evaluated_at, '+8 hours'), count(*),
       sum(status = 'withdrawn'),
       sum(status <> 'withdrawn' AND level > {BAD_LEVEL_MAX}),
       sum(status <> 'withdrawn' AND level <= {BAD_LEVEL_MAX})
FROM evaluations GROUP BY 1, 2;
