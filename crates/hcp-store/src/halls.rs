//! Halls: where they are and what their profile says.

use hcp_core::wire::HallProfile;
use rusqlite::{OptionalExtension, Transaction, params};
use serde::Serialize;

use crate::audit::audit_in;
use crate::cases::Who;
use crate::{Result, Store, StoreError, now_text};

/// A hall the console syncs from.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "HallRecord.ts")]
pub struct HallRecord {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub name: String,
    /// 行政区划代码.
    pub region_code: String,
    /// province | city | county | township | village.
    pub level: String,
    /// The profile revision stored.
    pub profile_rev: i64,
    /// Base URL of the hall's server.
    pub base_url: String,
    /// Extra CA certificate (PEM) to trust for this hall, if any.
    pub ca_file: Option<String>,
    /// When the hall was added (UTC).
    pub added_at: String,
    /// Where it is known from: `api` (its own server, synced) or `task` (an
    /// officer's task package on a shopper's laptop: profile only, never synced).
    pub source: String,
}

impl Store {
    /// Adds a hall, or updates where it lives and its profile when it is already
    /// known, with its audit row (`hall_added` / `hall_updated`) in the same
    /// transaction. Returns `true` when the hall is new. The hall code must be a
    /// plain code ([`hcp_core::ident::check_hall_id`]).
    pub fn upsert_hall(
        &mut self,
        profile: &HallProfile,
        base_url: &str,
        ca_file: Option<&str>,
        by: Who<'_>,
    ) -> Result<bool> {
        hcp_core::ident::check_hall_id(&profile.hall_id)
            .map_err(|e| StoreError::Refused(e.to_string()))?;
        let tx = self.write_tx()?;
        let existed: bool = tx
            .query_row(
                "SELECT 1 FROM halls WHERE hall_id = ?1",
                [&profile.hall_id],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        let now = now_text();
        tx.execute(
            "INSERT INTO halls (hall_id, name, region_code, level, profile_rev, base_url, ca_file,
                                profile_json, added_at, updated_at)
             VALUES (?1, '', '', '', 0, ?2, ?3, '{}', ?4, ?4)
             ON CONFLICT (hall_id) DO UPDATE SET base_url = ?2, ca_file = ?3, updated_at = ?4,
                source = 'api'",
            params![profile.hall_id, base_url, ca_file, now],
        )?;
        write_profile(&tx, profile)?;
        tx.execute(
            "INSERT OR IGNORE INTO sync_state (hall_id) VALUES (?1)",
            [&profile.hall_id],
        )?;
        let action = if existed {
            "hall_updated"
        } else {
            "hall_added"
        };
        let detail =
            serde_json::json!({ "name": profile.name, "url": base_url, "ca_file": ca_file });
        let subject = format!("hall:{}", profile.hall_id);
        audit_in(&tx, by, &subject, action, &detail.to_string())?;
        tx.commit()?;
        Ok(!existed)
    }

    /// Every hall, by id.
    pub fn halls(&self) -> Result<Vec<HallRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, name, region_code, level, profile_rev, base_url, ca_file, added_at, source
             FROM halls ORDER BY hall_id",
        )?;
        let rows = stmt.query_map([], hall_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// One hall.
    pub fn hall(&self, hall_id: &str) -> Result<Option<HallRecord>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, name, region_code, level, profile_rev, base_url, ca_file, added_at, source
             FROM halls WHERE hall_id = ?1",
        )?;
        Ok(stmt.query_row([hall_id], hall_from_row).optional()?)
    }

    /// The full stored profile of a hall.
    pub fn hall_profile(&self, hall_id: &str) -> Result<HallProfile> {
        let json: String = self
            .conn
            .query_row(
                "SELECT profile_json FROM halls WHERE hall_id = ?1",
                [hall_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| StoreError::UnknownHall(hall_id.to_owned()))?;
        serde_json::from_str(&json).map_err(|e| StoreError::Corrupt(e.to_string()))
    }

    /// Removes a hall with everything cached from it, with its audit row
    /// (`hall_removed`) in the same transaction. Returns `false` (and writes
    /// nothing) when there was no such hall.
    pub fn remove_hall(&mut self, hall_id: &str, by: Who<'_>) -> Result<bool> {
        let tx = self.write_tx()?;
        for sql in [
            // The days' totals over all halls lose this hall's share first.
            "UPDATE day_tally SET total = day_tally.total - d.total,
                withdrawn = day_tally.withdrawn - d.withdrawn, good = day_tally.good - d.good,
                bad = day_tally.bad - d.bad
             FROM (SELECT day, total, withdrawn, good, bad FROM evaluation_days
                   WHERE hall_id = ?1) d
             WHERE day_tally.day = d.day",
            "DELETE FROM evaluations WHERE hall_id = ?1",
            "DELETE FROM evaluation_history WHERE hall_id = ?1",
            "DELETE FROM appeals WHERE hall_id = ?1",
            "DELETE FROM rectifications WHERE hall_id = ?1",
            "DELETE FROM quarantine WHERE hall_id = ?1",
            "DELETE FROM sync_state WHERE hall_id = ?1",
            "DELETE FROM evaluation_days WHERE hall_id = ?1",
            "DELETE FROM import_halls WHERE hall_id = ?1",
            "DELETE FROM hall_tally WHERE hall_id = ?1",
            "DELETE FROM report_groups WHERE hall_id = ?1",
            "DELETE FROM report_months_due WHERE hall_id = ?1",
            "DELETE FROM alert_unit_months WHERE hall_id = ?1",
            "DELETE FROM alert_unit_bad WHERE hall_id = ?1",
            "DELETE FROM alert_hall_months_due WHERE hall_id = ?1",
        ] {
            tx.execute(sql, [hall_id])?;
        }
        let n = tx.execute("DELETE FROM halls WHERE hall_id = ?1", [hall_id])?;
        if n == 0 {
            return Ok(false);
        }
        audit_in(&tx, by, &format!("hall:{hall_id}"), "hall_removed", "{}")?;
        tx.commit()?;
        Ok(true)
    }
}

fn hall_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HallRecord> {
    Ok(HallRecord {
        hall_id: r.get(0)?,
        name: r.get(1)?,
        region_code: r.get(2)?,
        level: r.get(3)?,
        profile_rev: r.get(4)?,
        base_url: r.get(5)?,
        ca_file: r.get(6)?,
        added_at: r.get(7)?,
        source: r.get(8)?,
    })
}

/// A hall from an officer's task package: added with its profile when unknown,
/// its profile refreshed when it came from a package before, left alone when its
/// own server is registered here (that profile is fresher). Returns whether it
/// was added.
pub(crate) fn upsert_task_hall(tx: &Transaction<'_>, p: &HallProfile) -> Result<bool> {
    let source: Option<String> = tx
        .query_row(
            "SELECT source FROM halls WHERE hall_id = ?1",
            [&p.hall_id],
            |r| r.get(0),
        )
        .optional()?;
    match source.as_deref() {
        Some("api") => Ok(false),
        Some(_) => {
            write_profile(tx, p)?;
            Ok(false)
        }
        None => {
            let now = now_text();
            tx.execute(
                "INSERT INTO halls (hall_id, name, region_code, level, profile_rev, base_url, ca_file,
                                    profile_json, added_at, updated_at, source)
                 VALUES (?1, '', '', '', 0, '', NULL, '{}', ?2, ?2, 'task')",
                params![p.hall_id, now],
            )?;
            write_profile(tx, p)?;
            tx.execute(
                "INSERT OR IGNORE INTO sync_state (hall_id) VALUES (?1)",
                [&p.hall_id],
            )?;
            Ok(true)
        }
    }
}

/// Replaces the stored profile (departments, windows, staff, items) of a hall that
/// is already registered.
pub(crate) fn write_profile(tx: &Transaction<'_>, p: &HallProfile) -> Result<()> {
    let json = serde_json::to_string(p).map_err(|e| StoreError::Corrupt(e.to_string()))?;
    tx.execute(
        "UPDATE halls SET name = ?2, region_code = ?3, level = ?4, profile_rev = ?5,
                          profile_json = ?6, updated_at = ?7
         WHERE hall_id = ?1",
        params![
            p.hall_id,
            p.name,
            p.region_code,
            p.level,
            p.profile_rev,
            json,
            now_text()
        ],
    )?;
    for table in ["departments", "windows", "staff", "service_items"] {
        tx.execute(
            &format!("DELETE FROM {table} WHERE hall_id = ?1"),
            [&p.hall_id],
        )?;
    }
    {
        let mut s = tx.prepare_cached(
            "INSERT OR REPLACE INTO departments (hall_id, code, name) VALUES (?1, ?2, ?3)",
        )?;
        for d in &p.departments {
            s.execute(params![p.hall_id, d.code, d.name])?;
        }
        let mut s = tx.prepare_cached(
            "INSERT OR REPLACE INTO windows (hall_id, no, name, department_code) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for w in &p.windows {
            s.execute(params![p.hall_id, w.no, w.name, w.department_code])?;
        }
        let mut s = tx.prepare_cached(
            "INSERT OR REPLACE INTO staff (hall_id, no, name, window_no, department_code)
             VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        for st in &p.staff {
            s.execute(params![
                p.hall_id,
                st.no,
                st.name,
                st.window_no,
                st.department_code
            ])?;
        }
        let mut s = tx.prepare_cached(
            "INSERT OR REPLACE INTO service_items (hall_id, code, name, department_code)
             VALUES (?1, ?2, ?3, ?4)",
        )?;
        for i in &p.items {
            s.execute(params![p.hall_id, i.code, i.name, i.department_code])?;
        }
    }
    Ok(())
}
