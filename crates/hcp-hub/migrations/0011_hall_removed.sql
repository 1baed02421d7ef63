-- Schema 11: a hall taken off the hub (hcp hub hall remove). A hall with records
-- keeps them, with its cases and their history (issued 通报 name them, desks read
-- them): the hub stops syncing it, forgets its token, marks the decisions it can no
-- longer deliver, and disables the hall's directors. Adding it again brings it back.
ALTER TABLE hub_halls ADD COLUMN removed_at TIMESTAMPTZ;
ALTER TABLE hub_halls ADD COLUMN removed_by TEXT;
ALTER TABLE hub_outbox DROP CONSTRAINT hub_outbox_state_check;
ALTER TABLE hub_outbox ADD CONSTRAINT hub_outbox_state_check
    CHECK (state IN ('pending', 'accepted', 'duplicate', 'rejected', 'undeliverable'));
