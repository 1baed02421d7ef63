-- An evaluation's own evaluation_id is its id, which the primary key already
-- indexes: the look-up by evaluation needs only the appeals and rectifications, so
-- a bulk sync no longer maintains a second index entry for every rating.
DROP INDEX hub_records_by_evaluation;
CREATE INDEX hub_records_follow_ups ON hub_records (hall_id, evaluation_id, hall_seq)
    WHERE kind <> 'evaluation';
