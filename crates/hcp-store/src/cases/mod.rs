//! Bad-rating cases (差评工单) on disk. Every change to a case — an officer's
//! action or a record from a hall's feed — is one transaction holding the new
//! state, an audit row (the case's timeline) and, when the hall must hear of it, a
//! row in the outbox of decisions. The rules themselves live in
//! [`hcp_core::case`]; this module only persists what they decide.

mod bulk;
mod commands;
mod hooks;
mod model;
mod outbox;
mod queries;
mod replica;
mod rules;

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::{Actor, Case, Signer, sha256_hex};
use hcp_core::metrics::beijing;
use rusqlite::OptionalExtension;
use serde::Serialize;

use crate::{Result, StoreError, utc_text};

pub use bulk::{BulkActs, PendingCase};
#[cfg(test)]
pub(crate) use commands::FLAG_OPEN_CASES_OF;
pub(crate) use hooks::{
    EvaluationChange, on_appeal_verdict, on_evaluation, on_hall_step, open_finding_case,
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

/// The name automatic steps act under in the audit log and in decisions.
pub use hcp_core::case::SYSTEM_NAME;

/// A stored case row, as the transition code needs it (core's head of a case).
type StoredCase = hcp_core::case::CaseHead;

impl Who<'_> {
    /// The signer of a step this person takes.
    fn signer(&self) -> Signer<'_> {
        Signer::person(self.name, self.actor)
    }
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
    match rules.due(hall_id, case) {
        Some(d) => (
            Some(utc_text(d.due_at.with_timezone(&Utc))),
            Some(utc_text(d.warn_at.with_timezone(&Utc))),
            d.estimated,
        ),
        None => (None, None, false),
    }
}
