//! What the hall's feed does to cases, inside the feed's transaction: a new bad
//! rating opens one, a revision closes it, appeals and rectifications move it.

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::{Action, Case, CaseRepository, HallStep, early_steps, opening_writes};
use rusqlite::{Transaction, params};
use serde_json::json;

use crate::audit::audit_in;
use crate::{Result, now_text, utc_text};

use super::commands::{DeskCases, append_entry};
use super::*;

/// What an evaluation change means for its case (computed by the feed writer).
pub(crate) struct EvaluationChange<'a> {
    pub hall_id: &'a str,
    pub evaluation_id: &'a str,
    pub evaluated_at: DateTime<FixedOffset>,
    pub id_hash: Option<&'a str>,
    /// Bad (level 1–2, not withdrawn) before this change; `None` when new.
    pub was_bad: Option<bool>,
    pub is_bad: bool,
    /// `revised` or `withdrawn`.
    pub status: &'a str,
    pub level: u8,
}

/// Opens or closes the case an evaluation change calls for, inside the feed's
/// transaction. Only called for records that were new or had a higher rev, so a
/// replayed page changes nothing.
pub(crate) fn on_evaluation(
    tx: &Transaction<'_>,
    rules: &CaseRules,
    e: &EvaluationChange<'_>,
) -> Result<()> {
    let now = beijing_now(Utc::now().fixed_offset());
    if e.is_bad && e.was_bad != Some(true) {
        open_case(tx, rules, e, now)?;
    } else if !e.is_bad && e.was_bad == Some(true) {
        let step = HallStep::no_longer_bad(e.evaluation_id, e.status == "withdrawn", e.level, now);
        on_hall_step(tx, rules, e.hall_id, &step)?;
    }
    Ok(())
}

pub(super) fn open_case(
    tx: &Transaction<'_>,
    rules: &CaseRules,
    e: &EvaluationChange<'_>,
    now: DateTime<FixedOffset>,
) -> Result<()> {
    let flagged = match e.id_hash {
        Some(h) => tx
            .prepare_cached("SELECT 1 FROM malicious_marks WHERE id_hash = ?1")?
            .exists([h])?,
        None => false,
    };
    let mut w = opening_writes(e.hall_id, e.evaluation_id, e.evaluated_at, flagged, now);
    let (due, warn, estimated) = deadline_columns(&w.after.case, rules, e.hall_id);
    let stamp = now_text();
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO cases (hall_id, evaluation_id, kind, state, body, evaluated_at,
                due_at, warn_at, due_estimated, flagged_malicious, opened_at, updated_at, version)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, ?12)",
        )?
        .execute(params![
            e.hall_id,
            e.evaluation_id,
            w.after.kind,
            w.after.case.state.as_str(),
            to_json(&w.after.case)?,
            utc_text(e.evaluated_at.with_timezone(&Utc)),
            due,
            warn,
            estimated,
            flagged,
            stamp,
            w.after.version,
        ])?;
    if inserted == 0 {
        return Ok(()); // a case was opened before (e.g. the rating went 2 → 4 → 2)
    }
    w.after.case_id = tx.last_insert_rowid();
    append_entry(tx, &w)?;
    for d in &w.decisions {
        queue_decision(tx, &w.after.hall_id, w.after.case_id, d)?;
    }
    // Appeals and rectifications that arrived before the case apply now, in the
    // hall's order.
    let mut early = vec![];
    for (table, kind) in [("appeals", "appeal"), ("rectifications", "rectification")] {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT seq, raw_json FROM {table} WHERE hall_id = ?1 AND evaluation_id = ?2"
        ))?;
        let rows = stmt.query_map([e.hall_id, e.evaluation_id], |r| {
            Ok((r.get::<_, i64>(0)?, kind.to_owned(), r.get::<_, String>(1)?))
        })?;
        for r in rows {
            early.push(r?);
        }
    }
    for step in early_steps(early) {
        on_hall_step(tx, rules, e.hall_id, &step)?;
    }
    Ok(())
}

/// Applies a step of the hall's feed (an appeal, a rectification, a revised
/// rating) to its case, inside the feed's transaction. Called only for new
/// records or higher revs.
pub(crate) fn on_hall_step(
    tx: &Transaction<'_>,
    rules: &CaseRules,
    hall_id: &str,
    step: &HallStep,
) -> Result<()> {
    let Some(stored) = load_case(
        tx,
        "hall_id = ?1 AND evaluation_id = ?2 AND kind = 'bad_rating'",
        &[&hall_id, &step.evaluation_id],
    )?
    else {
        return Ok(()); // no case (yet): opening one later picks the record up
    };
    let mut cases = DeskCases::new(tx, rules);
    let outcome = step.outcome(&stored.case, hall_id, rules);
    let found = cases.find(&stored, outcome.lookups())?;
    if let Some(w) = step.writes(&stored, outcome, &found) {
        cases.persist(&w)?;
    }
    Ok(())
}

/// The provincial system's verdict on an appeal (a 工单 export's 驳回理由 or
/// 工单状态), recorded as `who`'s 申诉复核 when the case is under appeal. A case no
/// longer under appeal (decided on this desk already, or closed) is left as it
/// is. Returns whether the case moved.
pub(crate) fn on_appeal_verdict(
    tx: &Transaction<'_>,
    rules: &CaseRules,
    hall_id: &str,
    evaluation_id: &str,
    action: &Action,
    at: DateTime<FixedOffset>,
    who: Who<'_>,
) -> Result<bool> {
    let Some(stored) = load_case(
        tx,
        "hall_id = ?1 AND evaluation_id = ?2 AND kind = 'bad_rating'",
        &[&hall_id, &evaluation_id],
    )?
    else {
        return Ok(false);
    };
    if stored.case.state != hcp_core::case::CaseState::UnderAppeal {
        return Ok(false);
    }
    let policy = rules.policy(hall_id);
    match stored
        .case
        .apply(action, who.actor, at, &rules.calendar, &policy)
    {
        Ok(t) if t.case != stored.case => {
            DeskCases::new(tx, rules).step(&stored, t, who.signer(), None, at)?;
            Ok(true)
        }
        _ => Ok(false),
    }
}

/// Opens a rectification task for a mystery-shopper finding inside `tx` (kind
/// `visit_finding`, keyed by `visit_id#item_id`): rectifying from `at`, with an
/// audit row, and nothing for the hall's API. Returns the case id, or `None` when
/// the task was opened before.
pub(crate) fn open_finding_case(
    tx: &Transaction<'_>,
    hall_id: &str,
    key: &str,
    summary: &str,
    who: Who<'_>,
    at: DateTime<FixedOffset>,
) -> Result<Option<i64>> {
    let rules = load_rules(tx)?;
    let case = Case::open_finding(at);
    let (due, warn, estimated) = deadline_columns(&case, &rules, hall_id);
    let stamp = now_text();
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO cases (hall_id, evaluation_id, kind, state, body, evaluated_at,
                due_at, warn_at, due_estimated, opened_at, updated_at)
             VALUES (?1, ?2, 'visit_finding', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
        )?
        .execute(params![
            hall_id,
            key,
            case.state.as_str(),
            to_json(&case)?,
            utc_text(at.with_timezone(&Utc)),
            due,
            warn,
            estimated,
            stamp
        ])?;
    if inserted == 0 {
        return Ok(None);
    }
    let case_id = tx.last_insert_rowid();
    let detail = json!({
        "from": null, "to": case.state.as_str(), "summary": summary,
        "evaluation_id": key, "hall_id": hall_id,
    });
    audit_in(
        tx,
        who,
        &format!("case:{case_id}"),
        "finding_opened",
        &detail.to_string(),
    )?;
    Ok(Some(case_id))
}
