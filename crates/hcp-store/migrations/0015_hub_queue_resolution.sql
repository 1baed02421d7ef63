-- Schema 15: what the officer did about an action the hub refused. A refused action
-- stays on its case with the hub's answer; the officer either takes it again on the
-- case as it is now (redone: a new action is queued, this one points to it) or lets
-- it go (dropped). Either is audited; neither deletes the row.
ALTER TABLE hub_queue ADD COLUMN resolution TEXT CHECK (resolution IN ('redone', 'dropped'));
ALTER TABLE hub_queue ADD COLUMN resolved_at TEXT;
ALTER TABLE hub_queue ADD COLUMN redone_as TEXT;
