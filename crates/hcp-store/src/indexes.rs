//! Secondary indexes a bulk sync builds once at its end instead of row by row.
//!
//! `evaluations_by_instant` orders every hall's ratings by time. A first sync of many
//! halls, each hall's feed spanning the year, inserts into it at random places: with
//! 16 KiB pages every commit rewrote about one index page per row (the commit was
//! ~30 % and the kernel's copying of WAL pages ~14 % of a 500-hall sync's CPU). While a
//! sync brings more rows than the cache held, the index is dropped and then created
//! again by one sort at the end. Its definition is kept in `deferred_indexes` by the
//! same transaction as the drop: a sync killed midway leaves the index to the next
//! sync, which creates it before anything else. Queries stay right without it, only
//! slower.

use rusqlite::{OptionalExtension, params};

use crate::{Result, Store};

/// The indexes a bulk sync may defer (names, never taken from input).
const DEFERRABLE: &[&str] = &["evaluations_by_instant"];

impl Store {
    /// Drops the deferrable indexes, keeping their definitions; returns how many
    /// were dropped (0 when already deferred).
    pub fn defer_indexes(&mut self) -> Result<usize> {
        let tx = self.write_tx()?;
        let mut n = 0;
        for name in DEFERRABLE {
            let sql: Option<String> = tx
                .query_row(
                    "SELECT sql FROM sqlite_master WHERE type = 'index' AND name = ?1",
                    [name],
                    |r| r.get(0),
                )
                .optional()?;
            let Some(sql) = sql else { continue };
            tx.execute(
                "INSERT OR REPLACE INTO deferred_indexes (name, sql) VALUES (?1, ?2)",
                params![name, sql],
            )?;
            tx.execute_batch(&format!("DROP INDEX {name}"))?;
            n += 1;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Creates again every index [`defer_indexes`](Self::defer_indexes) dropped;
    /// returns how many. A definition that is not one of ours is refused and kept.
    pub fn restore_deferred_indexes(&mut self) -> Result<usize> {
        let deferred: Vec<(String, String)> = self
            .conn
            .prepare("SELECT name, sql FROM deferred_indexes ORDER BY name")?
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<rusqlite::Result<_>>()?;
        if deferred.is_empty() {
            return Ok(0);
        }
        let tx = self.write_tx()?;
        let mut n = 0;
        for (name, sql) in deferred {
            let ours = DEFERRABLE.contains(&name.as_str())
                && sql.starts_with(&format!("CREATE INDEX {name} ON evaluations"))
                && !sql.contains(';');
            if !ours {
                tracing::warn!(index = %name, "deferred index definition refused");
                continue;
            }
            tx.execute_batch(&sql.replacen("CREATE INDEX", "CREATE INDEX IF NOT EXISTS", 1))?;
            tx.execute("DELETE FROM deferred_indexes WHERE name = ?1", [&name])?;
            n += 1;
        }
        tx.commit()?;
        Ok(n)
    }

    /// The highest rowid of `evaluations`: about how many the cache holds, read
    /// from the end of the table instead of counting it.
    pub fn evaluations_high_water(&self) -> Result<u64> {
        let n: i64 =
            self.conn
                .query_row("SELECT coalesce(max(rowid), 0) FROM evaluations", [], |r| {
                    r.get(0)
                })?;
        Ok(n.max(0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index_sql(s: &Store) -> Option<String> {
        s.conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'evaluations_by_instant'",
                [],
                |r| r.get(0),
            )
            .optional()
            .unwrap()
    }

    #[test]
    fn a_deferred_index_survives_a_crash_and_comes_back_as_it_was() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("c.db");
        let before = {
            let mut s = Store::open(&db).unwrap();
            let before = index_sql(&s).expect("the migration creates it");
            assert_eq!(s.defer_indexes().unwrap(), 1);
            assert_eq!(s.defer_indexes().unwrap(), 0, "already deferred");
            assert_eq!(index_sql(&s), None);
            before
        }; // dropped without restoring: a killed sync
        let mut s = Store::open(&db).unwrap();
        assert_eq!(s.restore_deferred_indexes().unwrap(), 1);
        assert_eq!(index_sql(&s).as_deref(), Some(before.as_str()));
        assert_eq!(s.restore_deferred_indexes().unwrap(), 0);
    }

    #[test]
    fn a_definition_that_is_not_ours_is_never_run() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = Store::open(dir.path().join("c.db")).unwrap();
        s.conn
            .execute(
                "INSERT INTO deferred_indexes (name, sql) VALUES ('evaluations_by_instant',
                 'CREATE INDEX evaluations_by_instant ON evaluations (level); DROP TABLE cases')",
                [],
            )
            .unwrap();
        assert_eq!(s.restore_deferred_indexes().unwrap(), 0);
        let cases: i64 = s
            .conn
            .query_row(
                "SELECT count(*) FROM sqlite_master WHERE name = 'cases'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(cases, 1);
    }
}
