//! What the hall's feed does to cases, inside the feed's transaction: a new bad
//! rating opens one, a revision closes it, appeals and rectifications move it.

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::{Action, Actor, Case, DecisionOut, RefersTo};
use hcp_core::follow_up::HallFollowUp;
use rusqlite::{Transaction, params};
use serde_json::json;

use crate::audit::{AuditEntry, append_in, audit_in};
use crate::{Result, now_text, utc_text};

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
        let Some(stored) = load_case(
            tx,
            "hall_id = ?1 AND evaluation_id = ?2 AND kind = 'bad_rating'",
            &[&e.hall_id, &e.evaluation_id],
        )?
        else {
            return Ok(());
        };
        let how = if e.status == "withdrawn" {
            "withdrawn"
        } else {
            "revised"
        };
        let action = Action::EvaluationNoLongerBad {
            how: how.into(),
            level: e.level,
        };
        let system = Who {
            name: SYSTEM_NAME,
            actor: Actor::Hall,
        };
        let policy = rules.policy(e.hall_id);
        if let Ok(t) = stored
            .case
            .apply(&action, Actor::Hall, now, &rules.calendar, &policy)
            && t.case != stored.case
        {
            write_transition(tx, rules, &stored, &t, system, None, now)?;
        }
    }
    Ok(())
}

pub(super) fn open_case(
    tx: &Transaction<'_>,
    rules: &CaseRules,
    e: &EvaluationChange<'_>,
    now: DateTime<FixedOffset>,
) -> Result<()> {
    let case = Case::open(e.evaluated_at);
    let (due, warn, estimated) = deadline_columns(&case, rules, e.hall_id);
    let flagged = match e.id_hash {
        Some(h) => tx
            .prepare_cached("SELECT 1 FROM malicious_marks WHERE id_hash = ?1")?
            .exists([h])?,
        None => false,
    };
    let stamp = now_text();
    let inserted = tx
        .prepare_cached(
            "INSERT OR IGNORE INTO cases (hall_id, evaluation_id, kind, state, body, evaluated_at,
                due_at, warn_at, due_estimated, flagged_malicious, opened_at, updated_at)
             VALUES (?1, ?2, 'bad_rating', ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
        )?
        .execute(params![
            e.hall_id,
            e.evaluation_id,
            case.state.as_str(),
            to_json(&case)?,
            utc_text(e.evaluated_at.with_timezone(&Utc)),
            due,
            warn,
            estimated,
            flagged,
            stamp
        ])?;
    if inserted == 0 {
        return Ok(()); // a case was opened before (e.g. the rating went 2 → 4 → 2)
    }
    let case_id = tx.last_insert_rowid();
    let summary = if flagged {
        "收到差评，自动生成工单（评价人已被标记为恶意评价人员，请注意甄别）"
    } else {
        "收到差评，自动生成工单"
    };
    let detail = json!({
        "from": null, "to": case.state.as_str(), "summary": summary,
        // The case runs from the rating (its deadlines count from it); a late
        // sync shows as "recorded later" rather than out of order.
        "acted_at": utc_text(e.evaluated_at.with_timezone(&Utc)),
        "evaluation_id": e.evaluation_id, "hall_id": e.hall_id,
    });
    append_in(
        tx,
        &AuditEntry {
            actor: SYSTEM_NAME,
            role: "system",
            subject: &format!("case:{case_id}"),
            action: "case_opened",
            detail: &detail.to_string(),
        },
    )?;
    let stored = StoredCase {
        case_id,
        kind: "bad_rating".into(),
        hall_id: e.hall_id.to_owned(),
        evaluation_id: e.evaluation_id.to_owned(),
        case,
        version: 1,
    };
    queue_decision(
        tx,
        &stored,
        &DecisionOut {
            kind: "case_opened",
            refers_to: RefersTo::Evaluation,
            outcome: None,
            note: "已生成差评工单".into(),
        },
        None,
        Who {
            name: SYSTEM_NAME,
            actor: Actor::Hall,
        },
        now,
    )?;
    // An appeal or rectification that arrived before the case (e.g. the rating was
    // revised down to bad later) applies now.
    for (table, kind) in [("appeals", "appeal"), ("rectifications", "rectification")] {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT raw_json FROM {table} WHERE hall_id = ?1 AND evaluation_id = ?2 ORDER BY seq"
        ))?;
        let raws: Vec<String> = stmt
            .query_map([e.hall_id, e.evaluation_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for raw in raws {
            if let Some(rec) = HallFollowUp::parse(kind, &raw) {
                on_hall_record(tx, rules, e.hall_id, &rec, &raw)?;
            }
        }
    }
    Ok(())
}

/// Applies a hall's appeal or rectification to its case, inside the feed's
/// transaction. Called only for new records or higher revs.
pub(crate) fn on_hall_record(
    tx: &Transaction<'_>,
    rules: &CaseRules,
    hall_id: &str,
    rec: &HallFollowUp,
    raw: &str,
) -> Result<()> {
    let Some(stored) = load_case(
        tx,
        "hall_id = ?1 AND evaluation_id = ?2 AND kind = 'bad_rating'",
        &[&hall_id, &rec.evaluation_id],
    )?
    else {
        return Ok(()); // no case (yet): opening one later picks the record up
    };
    let action = &rec.action;
    let hall = Who {
        name: hall_id,
        actor: Actor::Hall,
    };
    let policy = rules.policy(hall_id);
    match stored
        .case
        .apply(action, Actor::Hall, rec.at, &rules.calendar, &policy)
    {
        Ok(t) if t.case == stored.case => {}
        Ok(t) => {
            write_transition(tx, rules, &stored, &t, hall, Some(raw), rec.at)?;
        }
        Err(refused) => {
            // Kept on the timeline so the officer sees what the hall tried.
            let summary = hcp_core::case::hall_record_summary(action).unwrap_or_default();
            let detail = json!({
                "from": stored.case.state.as_str(), "to": stored.case.state.as_str(),
                "summary": format!("{summary}；未受理：{refused}"),
                "signed_sha256": sha256_hex(raw), "evaluation_id": stored.evaluation_id,
                "hall_id": hall_id,
            });
            append_in(
                tx,
                &AuditEntry {
                    actor: hall_id,
                    role: "hall",
                    subject: &format!("case:{}", stored.case_id),
                    action: "hall_record_refused",
                    detail: &detail.to_string(),
                },
            )?;
        }
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
            write_transition(tx, rules, &stored, &t, who, None, at)?;
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
