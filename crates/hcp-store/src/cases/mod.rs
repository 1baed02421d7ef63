//! Bad-rating cases (差评工单) on disk. Every change to a case — an officer's
//! action or a record from a hall's feed — is one transaction holding the new
//! state, an audit row (the case's timeline) and, when the hall must hear of it, a
//! row in the outbox of decisions. The rules themselves live in
//! [`hcp_core::case`]; this module only persists what they decide.

mod commands;
mod hooks;
mod model;
mod outbox;
mod queries;
mod replica;
mod rules;

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::{Actor, Case, warning_from};
use hcp_core::metrics::beijing;
use rusqlite::OptionalExtension;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::{Result, StoreError, utc_text};

#[cfg(test)]
pub(crate) use commands::FLAG_OPEN_CASES_OF;
use commands::write_transition;
pub(crate) use hooks::{
    EvaluationChange, on_appeal_verdict, on_evaluation, on_hall_record, open_finding_case,
};
pub use model::{
    AllowedAction, CaseChange, CaseDeadline, CaseDetail, CaseEvent, CaseFilter, CaseListRow,
    CasePage, CaseStateCount, OutboxRow, OutboxSummary, TypicalCase,
};
use outbox::queue_decision;
pub use replica::{CarriedAction, HELD_AFTER_REBUILD, HubLink, QueuedAction};
pub use rules::CaseRules;
pub(crate) use rules::load_rules;

/// Who acts on a case: a person's name and their role.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Who<'a> {
    /// 姓名 as the officer entered it in the profile.
    pub name: &'a str,
    /// Their role.
    pub actor: Actor,
}

/// The name the sync acts under in the audit log and in decisions it originates.
pub const SYSTEM_NAME: &str = "督查台（自动）";

/// A stored case row, as the transition code needs it.
struct StoredCase {
    case_id: i64,
    /// `bad_rating` or `visit_finding` (the hall hears only of the first).
    kind: String,
    hall_id: String,
    evaluation_id: String,
    case: Case,
    version: i64,
}

fn load_case(
    tx: &rusqlite::Connection,
    where_sql: &str,
    p: &[&dyn rusqlite::ToSql],
) -> Result<Option<StoredCase>> {
    let sql = format!(
        "SELECT case_id, hall_id, evaluation_id, body, version, kind FROM cases WHERE {where_sql}"
    );
    let row = tx
        .prepare_cached(&sql)?
        .query_row(p, |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, String>(5)?,
            ))
        })
        .optional()?;
    let Some((case_id, hall_id, evaluation_id, body, version, kind)) = row else {
        return Ok(None);
    };
    let case: Case = serde_json::from_str(&body)
        .map_err(|e| StoreError::Corrupt(format!("工单 {case_id}：{e}")))?;
    Ok(Some(StoredCase {
        case_id,
        kind,
        hall_id,
        evaluation_id,
        case,
        version,
    }))
}

fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

fn to_json<T: Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(|e| StoreError::Corrupt(e.to_string()))
}

fn beijing_now(at: DateTime<FixedOffset>) -> DateTime<FixedOffset> {
    at.with_timezone(&beijing())
}

/// The copies of the case's figures kept in columns: (due_at, warn_at, estimated).
fn deadline_columns(
    case: &Case,
    rules: &CaseRules,
    hall_id: &str,
) -> (Option<String>, Option<String>, bool) {
    let policy = rules.policy(hall_id);
    match case.current_deadline(&rules.calendar, &policy) {
        Some(d) => (
            Some(utc_text(d.due_at.with_timezone(&Utc))),
            Some(utc_text(
                warning_from(&d, &rules.calendar, policy.warn_before).with_timezone(&Utc),
            )),
            d.estimated,
        ),
        None => (None, None, false),
    }
}
