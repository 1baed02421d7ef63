-- Schema 23: the versions of an evaluation that a later one replaced (改评 from a
-- hall, a file's 二次评价 or 追评, a withdrawal). The evaluations table keeps the
-- latest rev only, as every figure counts it; this keeps what came before so an
-- officer sees a rating's history. Written by the feed's upsert when a higher rev
-- replaces a stored row; nothing reads it on a hot path.
CREATE TABLE evaluation_history (
    hall_id         TEXT NOT NULL,
    id              TEXT NOT NULL,
    rev             INTEGER NOT NULL,
    level           INTEGER NOT NULL,
    status          TEXT NOT NULL,
    channel         TEXT NOT NULL,
    evaluated_at    TEXT NOT NULL,
    comment         TEXT NOT NULL,
    -- What replaced it: second_rating (二次评价), follow_up (追评), revised (改评),
    -- withdrawn (撤评) or updated (corrected by its source).
    how             TEXT NOT NULL,
    replaced_by_rev INTEGER NOT NULL,
    replaced_at     TEXT NOT NULL,
    PRIMARY KEY (hall_id, id, rev)
) WITHOUT ROWID;
