-- The office's deadline policies and working calendar, set on the hub so every
-- case's deadline is the office's: `policy.default`, `policy.hall.<id>` (DeadlinePolicy
-- JSON) and `calendar.year.<YYYY>` (holiday-cn JSON imported on top of the built-in
-- years).
CREATE TABLE hub_settings (
    key         TEXT PRIMARY KEY,
    value       TEXT NOT NULL,
    updated_by  TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
