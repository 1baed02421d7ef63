-- Issued monthly reports (签发), office-wide: the hub gives out 〔年〕第N期 so two
-- desks cannot issue the same number, and keeps each frozen model and PDF. A
-- correction is a new version of the same month and scope with the same number.
CREATE TABLE hub_reports (
    report_id       BIGSERIAL PRIMARY KEY,
    month           TEXT NOT NULL,
    scope           TEXT NOT NULL,            -- hall_id, or '' for all halls
    version         INTEGER NOT NULL,
    year            INTEGER NOT NULL,
    issue_no        INTEGER NOT NULL,
    model_json      TEXT NOT NULL,
    document        BYTEA NOT NULL,
    document_sha256 TEXT NOT NULL,
    correction      TEXT,
    issued_by       TEXT NOT NULL,
    issued_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (month, scope, version),
    UNIQUE (year, issue_no, version)
);
