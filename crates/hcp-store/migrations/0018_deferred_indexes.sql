-- Secondary indexes a bulk sync dropped to build again, by sorting, when it ends.
-- The definition is written here in the same transaction as the DROP, so a sync
-- killed midway leaves the index to be created again by the next sync's start.
CREATE TABLE deferred_indexes (
    name TEXT PRIMARY KEY,
    sql  TEXT NOT NULL
);
