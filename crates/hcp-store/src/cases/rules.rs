//! The working calendar and the deadline policies a case is measured against.

use hcp_core::calendar::WorkingCalendar;
use hcp_core::case::{Actor, Case, DeadlinePolicy};
use rusqlite::{Transaction, params};
use serde_json::json;

use crate::audit::audit_in;
use crate::{Result, Store, StoreError};

use super::*;

pub use hcp_core::case::CaseRules;
pub(super) use hcp_core::case::{CALENDAR_PREFIX, POLICY_DEFAULT, POLICY_HALL_PREFIX};

/// The rules as the settings hold them now.
pub(crate) fn load_rules(conn: &rusqlite::Connection) -> Result<CaseRules> {
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM settings WHERE key LIKE 'calendar.year.%' OR key LIKE 'policy.%'
         ORDER BY key",
    )?;
    let rows: Vec<(String, String)> = stmt
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    CaseRules::from_settings(rows.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .map_err(StoreError::Corrupt)
}

/// Recomputes the deadline columns of every case not closed (after the calendar
/// or a policy changed).
pub(super) fn recompute_deadlines(tx: &Transaction<'_>) -> Result<()> {
    let rules = load_rules(tx)?;
    let mut read = tx.prepare(concat!(
        "SELECT case_id, hall_id, body FROM cases WHERE state NOT IN ",
        hcp_core::closed_states_sql!()
    ))?;
    let rows: Vec<(i64, String, String)> = read
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let mut write = tx.prepare_cached(
        "UPDATE cases SET due_at = ?2, warn_at = ?3, due_estimated = ?4 WHERE case_id = ?1",
    )?;
    for (id, hall, body) in rows {
        let case: Case = serde_json::from_str(&body)
            .map_err(|e| StoreError::Corrupt(format!("工单 {id}：{e}")))?;
        let (due, warn, est) = deadline_columns(&case, &rules, &hall);
        write.execute(params![id, due, warn, est])?;
    }
    Ok(())
}

impl Store {
    /// The working calendar and deadline policies as configured now.
    pub fn case_rules(&self) -> Result<CaseRules> {
        load_rules(&self.conn)
    }

    /// Imports one year of holiday-cn data (replacing an earlier import of that
    /// year) and recomputes every open case's deadline. Returns the year.
    pub fn import_calendar_year(&mut self, json: &str, who: Who<'_>) -> Result<i32> {
        let mut check = WorkingCalendar::default();
        let year = check
            .import_year(json)
            .map_err(|e| StoreError::Refused(e.to_string()))?;
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![format!("{CALENDAR_PREFIX}{year}"), json],
        )?;
        audit_in(
            &tx,
            who,
            "calendar",
            "calendar_imported",
            &json!({ "year": year, "sha256": sha256_hex(json) }).to_string(),
        )?;
        recompute_deadlines(&tx)?;
        tx.commit()?;
        Ok(year)
    }

    /// Sets the deadline policy of one hall (`Some`) or the default (`None`), and
    /// recomputes every open case's deadline.
    pub fn set_deadline_policy(
        &mut self,
        hall_id: Option<&str>,
        policy: &DeadlinePolicy,
        who: Who<'_>,
    ) -> Result<()> {
        if who.actor != Actor::Officer {
            return Err(StoreError::Refused("只有效能督查员可以修改时限设置".into()));
        }
        policy
            .check()
            .map_err(|r| StoreError::Refused(r.to_string()))?;
        let key = match hall_id {
            Some(h) => format!("{POLICY_HALL_PREFIX}{h}"),
            None => POLICY_DEFAULT.to_string(),
        };
        let value = to_json(policy)?;
        let tx = self.write_tx()?;
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![key, value],
        )?;
        audit_in(
            &tx,
            who,
            hall_id
                .map_or("policy:default".to_string(), |h| format!("policy:{h}"))
                .as_str(),
            "deadline_policy_set",
            &value,
        )?;
        recompute_deadlines(&tx)?;
        tx.commit()?;
        Ok(())
    }

    /// The years of imported calendar data (on top of the built-in ones).
    pub fn imported_calendar_years(&self) -> Result<Vec<i32>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT substr(key, 15) FROM settings WHERE key LIKE 'calendar.year.%' ORDER BY key",
        )?;
        let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
        let mut out = vec![];
        for y in rows {
            if let Ok(y) = y?.parse() {
                out.push(y);
            }
        }
        Ok(out)
    }
}
