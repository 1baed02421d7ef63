-- Schema 24: which revision of a visit the shopper last exported as a hand-in
-- file (or uploaded to the hub). The list marks exported visits, and 待发送 shows
-- the submitted ones whose latest revision has not left this laptop yet.
ALTER TABLE visits ADD COLUMN exported_rev INTEGER;
