-- The halls the hub syncs. Their tokens live here and never leave the hub: no API
-- answer carries them, and desktops in hub mode never see them.
CREATE TABLE hub_halls (
    hall_id       TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    base_url      TEXT NOT NULL,
    token         TEXT NOT NULL,
    ca_file       TEXT,
    profile_json  TEXT NOT NULL,
    added_by      TEXT NOT NULL,
    added_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);
