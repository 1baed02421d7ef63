-- Schema 12: evaluations from the provincial system's spreadsheet exports.
-- A file is a hall source like a hall server: its rows go through the same
-- validation, upsert, quarantine and case engine. These tables remember how a
-- layout maps onto our fields, which hall a name in a file means, and each import.

-- A column mapping an officer named, reused when a file's headers match.
CREATE TABLE import_profiles (
    name         TEXT PRIMARY KEY,
    headers      TEXT NOT NULL,          -- JSON array of the normalised headers, sorted
    mapping_json TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    used_at      TEXT
);

-- What a hall name (or 区划 code) in a file stands for. A new name creates a
-- file-sourced hall (halls.source = 'file'); it can later point at a hall that
-- has its own server so both sources land in one hall.
CREATE TABLE import_halls (
    key     TEXT PRIMARY KEY,             -- normalised name, or the region code
    hall_id TEXT NOT NULL,
    name    TEXT NOT NULL
);

-- One imported file: what it brought.
CREATE TABLE import_files (
    file_id     INTEGER PRIMARY KEY,
    file_name   TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    sheet       TEXT NOT NULL,
    profile     TEXT,
    imported_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    rows_read   INTEGER NOT NULL,
    new         INTEGER NOT NULL,
    updated     INTEGER NOT NULL,
    unchanged   INTEGER NOT NULL,
    quarantined INTEGER NOT NULL
);
