//! The working calendar and the deadline policies a case is measured against.

use std::collections::HashMap;

use hcp_core::calendar::WorkingCalendar;
use hcp_core::case::{Actor, Case, DeadlinePolicy};
use rusqlite::{Transaction, params};
use serde_json::json;

use crate::audit::audit_in;
use crate::{Result, Store, StoreError};

use super::*;

/// The working calendar and every hall's deadline policy, as configured.
#[derive(Debug, Clone)]
pub struct CaseRules {
    /// Built-in years plus the ones an officer imported.
    pub calendar: WorkingCalendar,
    /// The policy of halls without their own.
    pub default_policy: DeadlinePolicy,
    /// Per-hall policies.
    pub hall_policies: HashMap<String, DeadlinePolicy>,
}

impl CaseRules {
    /// The policy that applies to `hall_id`.
    pub fn policy(&self, hall_id: &str) -> DeadlinePolicy {
        self.hall_policies
            .get(hall_id)
            .copied()
            .unwrap_or(self.default_policy)
    }
}

pub(super) const CALENDAR_PREFIX: &str = "calendar.year.";

pub(super) const POLICY_DEFAULT: &str = "policy.default";

pub(super) const POLICY_HALL_PREFIX: &str = "policy.hall.";

pub(crate) fn load_rules(conn: &rusqlite::Connection) -> Result<CaseRules> {
    let mut calendar = WorkingCalendar::builtin();
    let mut default_policy = DeadlinePolicy::default();
    let mut hall_policies = HashMap::new();
    let mut stmt = conn.prepare_cached(
        "SELECT key, value FROM settings WHERE key LIKE 'calendar.year.%' OR key LIKE 'policy.%'
         ORDER BY key",
    )?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?)))?;
    for row in rows {
        let (key, value) = row?;
        if key.starts_with(CALENDAR_PREFIX) {
            calendar
                .import_year(&value)
                .map_err(|e| StoreError::Corrupt(format!("已导入的节假日数据 {key}：{e}")))?;
        } else {
            let p: DeadlinePolicy = serde_json::from_str(&value)
                .map_err(|e| StoreError::Corrupt(format!("时限设置 {key}：{e}")))?;
            if key == POLICY_DEFAULT {
                default_policy = p;
            } else if let Some(hall) = key.strip_prefix(POLICY_HALL_PREFIX) {
                hall_policies.insert(hall.to_owned(), p);
            }
        }
    }
    Ok(CaseRules {
        calendar,
        default_policy,
        hall_policies,
    })
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
