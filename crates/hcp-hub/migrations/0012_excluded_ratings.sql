-- 申诉成立 takes a rating out of every figure. The case engine decides it (in
-- hcp-core, for desk and hub alike); the hub keeps it with the rating, and the
-- case feed tells desks, instead of each reader working it out from a state name.
ALTER TABLE hub_records ADD COLUMN excluded BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE hub_records r SET excluded = TRUE
FROM hub_cases c
WHERE c.state = 'closed_appealed' AND c.kind = 'bad_rating'
  AND r.hall_id = c.hall_id AND r.kind = 'evaluation' AND r.id = c.evaluation_id;
