-- Schema 7: issued monthly reports (签发). A row is a frozen snapshot: the model
-- JSON and the rendered document as they were issued; later syncs never touch it.
-- A correction is a new version of the same month and scope.
CREATE TABLE issued_reports (
    report_id       INTEGER PRIMARY KEY,
    month           TEXT NOT NULL,
    scope           TEXT NOT NULL,           -- hall_id, or '' for all halls
    version         INTEGER NOT NULL,
    year            INTEGER NOT NULL,
    issue_no        INTEGER NOT NULL,        -- 〔year〕第 issue_no 期
    model_json      TEXT NOT NULL,
    document        BLOB,                    -- the PDF as issued
    document_sha256 TEXT,
    correction      TEXT,                    -- 更正说明 (versions after the first)
    issued_by       TEXT NOT NULL,
    issued_at       TEXT NOT NULL,
    UNIQUE (month, scope, version)
);
CREATE TRIGGER issued_reports_no_update BEFORE UPDATE ON issued_reports
BEGIN SELECT RAISE(ABORT, '已签发的通报不能修改，更正请签发新版本'); END;
CREATE TRIGGER issued_reports_no_delete BEFORE DELETE ON issued_reports
BEGIN SELECT RAISE(ABORT, '已签发的通报不能删除'); END;
