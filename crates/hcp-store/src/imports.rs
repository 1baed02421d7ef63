//! Spreadsheet imports: the column profiles officers named, which hall a name in
//! a file stands for, file-sourced halls, and the log of imported files. The rows
//! themselves are stored by [`Store::apply_import_items`] (the feed's upsert).

use hcp_core::wire::{Department, HallProfile, ServiceItem, Staff, Window};
use rusqlite::{OptionalExtension, params};
use serde::Serialize;

use crate::audit::{AuditEntry, append_in, audit_in};
use crate::cases::Who;
use crate::feed::QuarantineEntry;
use crate::{Result, Store, StoreError, now_text};

/// A saved column mapping.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportProfile.ts")]
pub struct ImportProfile {
    /// The name the officer gave it (e.g. 安徽省好差评平台导出).
    pub name: String,
    /// The normalised headers of the layout, sorted.
    pub headers: Vec<String>,
    /// The mapping, as JSON (the import crate's `Mapping`).
    pub mapping_json: String,
    /// When it was last used (UTC).
    pub used_at: Option<String>,
}

/// One imported file, as the log keeps it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "ImportRecord.ts")]
pub struct ImportRecord {
    /// The file's name (no directory).
    pub file_name: String,
    /// sha256 of its bytes.
    pub sha256: String,
    /// The sheet read.
    pub sheet: String,
    /// The profile used, if a saved one.
    pub profile: Option<String>,
    /// When (UTC).
    pub imported_at: String,
    /// Who.
    pub imported_by: String,
    /// Data rows read.
    pub rows_read: i64,
    /// Evaluations not seen before.
    pub new: i64,
    /// Evaluations changed since an earlier export.
    pub updated: i64,
    /// Evaluations already stored as they are.
    pub unchanged: i64,
    /// Rows that could not be read, in quarantine.
    pub quarantined: i64,
}

impl Store {
    /// Every saved import profile, most recently used first.
    pub fn import_profiles(&self) -> Result<Vec<ImportProfile>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT name, headers, mapping_json, used_at FROM import_profiles
             ORDER BY used_at IS NULL, used_at DESC, name",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, Option<String>>(3)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (name, headers, mapping_json, used_at) = row?;
            out.push(ImportProfile {
                name,
                headers: serde_json::from_str(&headers)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                mapping_json,
                used_at,
            });
        }
        Ok(out)
    }

    /// Saves (or replaces) a named profile, audited.
    pub fn save_import_profile(
        &mut self,
        name: &str,
        headers: &[String],
        mapping_json: &str,
        by: Who<'_>,
    ) -> Result<()> {
        let name = name.trim();
        if name.is_empty() || name.chars().count() > 60 {
            return Err(StoreError::Refused(
                "映射方案名称不能为空，且不超过 60 个字".into(),
            ));
        }
        let mut sorted = headers.to_vec();
        sorted.sort();
        let headers =
            serde_json::to_string(&sorted).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let now = now_text();
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO import_profiles (name, headers, mapping_json, created_at, used_at)
             VALUES (?1, ?2, ?3, ?4, ?4)
             ON CONFLICT (name) DO UPDATE SET headers = ?2, mapping_json = ?3, used_at = ?4",
            params![name, headers, mapping_json, now],
        )?;
        audit_in(
            &tx,
            by,
            &format!("import_profile:{name}"),
            "import_profile_saved",
            mapping_json,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Notes that a profile was used now.
    pub fn touch_import_profile(&self, name: &str) -> Result<()> {
        self.conn.execute(
            "UPDATE import_profiles SET used_at = ?2 WHERE name = ?1",
            params![name, now_text()],
        )?;
        Ok(())
    }

    /// The hall a name (or region code) in a file stands for, if known.
    pub fn import_hall(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached("SELECT hall_id FROM import_halls WHERE key = ?1")?
            .query_row([key], |r| r.get(0))
            .optional()?)
    }

    /// Every name a file used for a hall, and the hall it means: (key, hall_id, name).
    pub fn import_hall_names(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self
            .conn
            .prepare_cached("SELECT key, hall_id, name FROM import_halls ORDER BY key")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Points a name used in files at a hall that exists (e.g. one with its own
    /// server), so later imports of that name land in it. Audited.
    pub fn link_import_hall(&mut self, key: &str, hall_id: &str, by: Who<'_>) -> Result<()> {
        if self.hall(hall_id)?.is_none() {
            return Err(StoreError::UnknownHall(hall_id.to_owned()));
        }
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO import_halls (key, hall_id, name) VALUES (?1, ?2, ?1)
             ON CONFLICT (key) DO UPDATE SET hall_id = ?2",
            params![key, hall_id],
        )?;
        audit_in(
            &tx,
            by,
            &format!("hall:{hall_id}"),
            "import_hall_linked",
            &serde_json::json!({ "name": key }).to_string(),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Creates a hall known only from spreadsheet exports (no server, no token)
    /// and remembers `key` for it. Audited as `hall_added`.
    pub fn create_file_hall(
        &mut self,
        key: &str,
        hall_id: &str,
        name: &str,
        region_code: &str,
        by: Who<'_>,
    ) -> Result<()> {
        hcp_core::ident::check_hall_id(hall_id).map_err(|e| StoreError::Refused(e.to_string()))?;
        let now = now_text();
        let profile = HallProfile {
            hall_id: hall_id.to_owned(),
            name: name.to_owned(),
            region_code: region_code.to_owned(),
            level: String::new(),
            profile_rev: 1,
            departments: vec![],
            windows: vec![],
            staff: vec![],
            items: vec![],
        };
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO halls (hall_id, name, region_code, level, profile_rev, base_url, ca_file,
                                profile_json, added_at, updated_at, source)
             VALUES (?1, '', '', '', 0, '', NULL, '{}', ?2, ?2, 'file')",
            params![hall_id, now],
        )?;
        crate::halls::write_profile(&tx, &profile)?;
        tx.execute(
            "INSERT OR IGNORE INTO sync_state (hall_id) VALUES (?1)",
            [hall_id],
        )?;
        tx.execute(
            "INSERT INTO import_halls (key, hall_id, name) VALUES (?1, ?2, ?3)
             ON CONFLICT (key) DO UPDATE SET hall_id = ?2, name = ?3",
            params![key, hall_id, name],
        )?;
        let detail = serde_json::json!({ "name": name, "source": "file", "key": key });
        audit_in(
            &tx,
            by,
            &format!("hall:{hall_id}"),
            "hall_added",
            &detail.to_string(),
        )?;
        tx.commit()?;
        Ok(())
    }

    /// Adds departments, windows, staff and items seen in a file to the profile of
    /// a file-sourced hall (a hall with its own server keeps the server's profile).
    pub fn merge_file_profile(
        &mut self,
        hall_id: &str,
        departments: &[Department],
        windows: &[Window],
        staff: &[Staff],
        items: &[ServiceItem],
    ) -> Result<()> {
        match self.hall(hall_id)? {
            Some(h) if h.source == "file" => {}
            _ => return Ok(()),
        }
        let mut p = self.hall_profile(hall_id)?;
        let added = add_missing(&mut p.departments, departments, |x| &x.code)
            + add_missing(&mut p.windows, windows, |x| &x.no)
            + add_missing(&mut p.staff, staff, |x| &x.no)
            + add_missing(&mut p.items, items, |x| &x.code);
        if added == 0 {
            return Ok(());
        }
        p.profile_rev += 1;
        let tx = self.write_tx()?;
        crate::halls::write_profile(&tx, &p)?;
        tx.commit()?;
        Ok(())
    }

    /// The stored revision and raw record of each of `ids` that is stored, read in
    /// one transaction (one lock, not one per id).
    pub fn evaluations_raw(
        &self,
        hall_id: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, (i64, String)>> {
        let tx = self.conn.unchecked_transaction()?;
        let mut out = std::collections::HashMap::new();
        for id in ids {
            if let Some(v) = crate::queries::evaluation_raw(&tx, hall_id, id)? {
                out.insert((*id).to_owned(), v);
            }
        }
        tx.finish()?;
        Ok(out)
    }

    /// The stored revision and raw record of each of `ids` that a hall's appeals
    /// (`appeal`) or rectifications (`rectification`) hold.
    pub fn follow_ups_raw(
        &self,
        hall_id: &str,
        kind: &str,
        ids: &[&str],
    ) -> Result<std::collections::HashMap<String, (i64, String)>> {
        // The table comes from this fixed pair, never from the caller's text.
        let table = match kind {
            "appeal" => "appeals",
            "rectification" => "rectifications",
            other => {
                return Err(StoreError::Refused(format!(
                    "未知的记录类型 “{}”",
                    hcp_core::ident::printable(other)
                )));
            }
        };
        let tx = self.conn.unchecked_transaction()?;
        let mut out = std::collections::HashMap::new();
        {
            let mut stmt = tx.prepare_cached(&format!(
                "SELECT rev, raw_json FROM {table} WHERE hall_id = ?1 AND id = ?2"
            ))?;
            for id in ids {
                if let Some(v) = stmt
                    .query_row(params![hall_id, id], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()?
                {
                    out.insert((*id).to_owned(), v);
                }
            }
        }
        tx.finish()?;
        Ok(out)
    }

    /// The bad ratings of a hall given at exactly `evaluated_at` (UTC text): where
    /// a 差评工单 row without 评价编号 finds the rating a 评价明细 file brought.
    /// (id, channel) of each.
    pub fn bad_evaluations_at(
        &self,
        hall_id: &str,
        evaluated_at: &str,
    ) -> Result<Vec<(String, String)>> {
        let mut stmt = self.conn.prepare_cached(concat!(
            "SELECT id, channel FROM evaluations
             WHERE evaluated_at = ?2 AND hall_id = ?1 AND level <= ",
            hcp_core::bad_level_max!(),
            " AND status <> 'withdrawn' ORDER BY id"
        ))?;
        let rows = stmt.query_map(params![hall_id, evaluated_at], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Puts rows of a file that could not be read into quarantine (`hall_id` may
    /// be empty when the row names no hall that could be found). A row already
    /// there (same `seq`) is not counted twice. Returns how many were new.
    pub fn quarantine_import_rows(
        &mut self,
        hall_id: &str,
        rows: &[QuarantineEntry<'_>],
    ) -> Result<u64> {
        if rows.is_empty() {
            return Ok(0);
        }
        let now = now_text();
        let tx = self.write_tx()?;
        let mut n = 0;
        {
            let mut q = tx.prepare_cached(
                "INSERT OR IGNORE INTO quarantine (hall_id, seq, kind, raw, field, reason, quarantined_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?;
            for e in rows {
                n += q.execute(params![
                    hall_id, e.seq, e.kind, e.raw, e.field, e.reason, now
                ])? as u64;
            }
            tx.execute(
                "UPDATE sync_state SET quarantined_total = quarantined_total + ?2 WHERE hall_id = ?1",
                params![hall_id, n as i64],
            )?;
        }
        tx.commit()?;
        Ok(n)
    }

    /// Logs an imported file, audited as `file_imported`.
    pub fn record_import(&mut self, r: &ImportRecord, by: Who<'_>) -> Result<()> {
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO import_files (file_name, sha256, sheet, profile, imported_at, imported_by,
                                       rows_read, new, updated, unchanged, quarantined)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                r.file_name,
                r.sha256,
                r.sheet,
                r.profile,
                r.imported_at,
                by.name,
                r.rows_read,
                r.new,
                r.updated,
                r.unchanged,
                r.quarantined
            ],
        )?;
        append_in(
            &tx,
            &AuditEntry {
                actor: by.name,
                role: by.actor.as_str(),
                subject: &format!("import:{}", r.sha256),
                action: "file_imported",
                detail: &serde_json::json!({
                    "file": r.file_name, "sheet": r.sheet, "rows": r.rows_read, "new": r.new,
                    "updated": r.updated, "unchanged": r.unchanged, "quarantined": r.quarantined
                })
                .to_string(),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The import log, newest first.
    pub fn imports(&self, limit: i64) -> Result<Vec<ImportRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT file_name, sha256, sheet, profile, imported_at, imported_by, rows_read, new,
                    updated, unchanged, quarantined
             FROM import_files ORDER BY file_id DESC LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit], |r| {
            Ok(ImportRecord {
                file_name: r.get(0)?,
                sha256: r.get(1)?,
                sheet: r.get(2)?,
                profile: r.get(3)?,
                imported_at: r.get(4)?,
                imported_by: r.get(5)?,
                rows_read: r.get(6)?,
                new: r.get(7)?,
                updated: r.get(8)?,
                unchanged: r.get(9)?,
                quarantined: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// Appends the entries of `new` whose key `list` does not have yet; how many.
fn add_missing<T: Clone>(list: &mut Vec<T>, new: &[T], key: impl Fn(&T) -> &String) -> usize {
    let before = list.len();
    for n in new {
        if !list.iter().any(|x| key(x) == key(n)) {
            list.push(n.clone());
        }
    }
    list.len() - before
}
