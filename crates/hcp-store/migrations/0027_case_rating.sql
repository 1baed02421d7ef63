-- Schema 27: what a report needs of a case's rating, on the case row.
--
-- A report's figures count cases by their rating's level and whether the rating
-- still counts (not withdrawn, not excluded by an upheld appeal). Reading those by
-- joining every case of a year to its rating walked the ratings' B-tree half a
-- million times; they are now kept on the case, by triggers, so no writer can
-- forget them:
-- - a case opened reads its rating (if stored already);
-- - a rating stored after its case (a hub replica may receive the case first)
--   sets them — only a rating that is bad or not its first revision can have a
--   case, so the others are not looked up;
-- - a rating revised, withdrawn or excluded moves them.
ALTER TABLE cases ADD COLUMN rating_level INTEGER;
ALTER TABLE cases ADD COLUMN rating_valid INTEGER NOT NULL DEFAULT 0;

UPDATE cases SET
    rating_level = (SELECT e.level FROM evaluations e
                    WHERE e.hall_id = cases.hall_id AND e.id = cases.evaluation_id),
    rating_valid = coalesce((SELECT e.status <> 'withdrawn' AND e.excluded = 0 FROM evaluations e
                             WHERE e.hall_id = cases.hall_id AND e.id = cases.evaluation_id), 0);

CREATE TRIGGER cases_rating_on_open AFTER INSERT ON cases BEGIN
    UPDATE cases SET
        rating_level = (SELECT e.level FROM evaluations e
                        WHERE e.hall_id = NEW.hall_id AND e.id = NEW.evaluation_id),
        rating_valid = coalesce((SELECT e.status <> 'withdrawn' AND e.excluded = 0
                                 FROM evaluations e
                                 WHERE e.hall_id = NEW.hall_id AND e.id = NEW.evaluation_id), 0)
    WHERE case_id = NEW.case_id;
END;

CREATE TRIGGER cases_rating_on_store AFTER INSERT ON evaluations
WHEN NEW.level <= {BAD_LEVEL_MAX} OR NEW.rev > 1 BEGIN
    UPDATE cases SET rating_level = NEW.level,
                     rating_valid = (NEW.status <> 'withdrawn' AND NEW.excluded = 0)
    WHERE hall_id = NEW.hall_id AND evaluation_id = NEW.id;
END;

CREATE TRIGGER cases_rating_on_change AFTER UPDATE OF level, status, excluded ON evaluations
WHEN NEW.level IS NOT OLD.level OR NEW.status IS NOT OLD.status
  OR NEW.excluded IS NOT OLD.excluded BEGIN
    UPDATE cases SET rating_level = NEW.level,
                     rating_valid = (NEW.status <> 'withdrawn' AND NEW.excluded = 0)
    WHERE hall_id = NEW.hall_id AND evaluation_id = NEW.id;
END;
