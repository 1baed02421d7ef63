//! Officers' actions on a case: hcp-core decides the transition, this persists it
//! (the case row, one audit row, the decisions for the hall, the side effects).

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::{Action, Actor, Effect, RefersTo, Signs, Transition};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use crate::audit::audit_in;
use crate::{Result, Store, StoreError, now_text, utc_text};

use super::*;

/// Writes a transition as hcp-core decided it: the case row, one audit row, the
/// decisions for the hall and the side effects. Decides nothing itself; it only
/// finds the records the transition refers to.
pub(super) fn write_transition(
    tx: &Transaction<'_>,
    rules: &CaseRules,
    stored: &StoredCase,
    t: &Transition,
    who: Who<'_>,
    hall_record_raw: Option<&str>,
    at: DateTime<FixedOffset>,
) -> Result<CaseChange> {
    let new = &t.case;
    let (due, warn, estimated) = deadline_columns(new, rules, &stored.hall_id);
    let now = now_text();
    let body = to_json(new)?;
    tx.prepare_cached(
        "UPDATE cases SET state = ?2, body = ?3, due_at = ?4, warn_at = ?5, due_estimated = ?6,
            lead_department = ?7, closed_at = ?8, updated_at = ?9, version = version + 1
         WHERE case_id = ?1",
    )?
    .execute(params![
        stored.case_id,
        new.state.as_str(),
        body,
        due,
        warn,
        estimated,
        new.lead_department,
        new.closed_at.map(|t| utc_text(t.with_timezone(&Utc))),
        now
    ])?;
    // The hall records the transition refers to, each looked up once: (id, raw).
    let (hall_id, evaluation_id) = (&stored.hall_id, &stored.evaluation_id);
    let rectification = if t.needs(RefersTo::LatestRectification) {
        latest_follow_up(tx, "rectifications", hall_id, evaluation_id)?
    } else {
        None
    };
    let appeal = if t.needs(RefersTo::LatestAppeal) {
        latest_follow_up(tx, "appeals", hall_id, evaluation_id)?
    } else {
        None
    };
    let record = |kind: RefersTo| match kind {
        RefersTo::LatestRectification => rectification.as_ref(),
        RefersTo::LatestAppeal => appeal.as_ref(),
        RefersTo::Evaluation => None,
    };
    let signed = match t.signs {
        Signs::Nothing => None,
        Signs::HallRecord => hall_record_raw.map(sha256_hex),
        Signs::Evaluation => crate::queries::evaluation_raw(tx, hall_id, evaluation_id)?
            .map(|(_, raw)| sha256_hex(&raw)),
        Signs::LatestRectification => {
            record(RefersTo::LatestRectification).map(|r| sha256_hex(&r.1))
        }
        Signs::LatestAppeal => record(RefersTo::LatestAppeal).map(|r| sha256_hex(&r.1)),
    };
    let detail = json!({
        "from": stored.case.state.as_str(),
        "to": new.state.as_str(),
        "summary": t.summary,
        "note": t.note,
        "signed_sha256": signed,
        // The outcome code (callback result, appeal verdict) for reports.
        "outcome": t.decisions.first().and_then(|d| d.outcome),
        "acted_at": utc_text(at.with_timezone(&Utc)),
        "evaluation_id": stored.evaluation_id,
        "hall_id": stored.hall_id,
    });
    audit_in(
        tx,
        who,
        &format!("case:{}", stored.case_id),
        t.event,
        &detail.to_string(),
    )?;
    let mut queued = 0;
    for d in &t.decisions {
        let ref_id = record(d.refers_to).map(|r| r.0.clone());
        queued += u32::from(queue_decision(tx, stored, d, ref_id, who, at)?);
    }
    for effect in &t.effects {
        match effect {
            Effect::ExcludeEvaluation => {
                exclude_evaluation(tx, &stored.hall_id, &stored.evaluation_id)?
            }
            Effect::MarkEvaluatorMalicious => {
                if mark_malicious(tx, stored)?.is_some() {
                    let detail = json!({
                        "summary": "评价人被标记为恶意评价人员，其后续差评将提示甄别",
                        "evaluation_id": stored.evaluation_id, "hall_id": stored.hall_id,
                    });
                    let subject = format!("case:{}", stored.case_id);
                    audit_in(
                        tx,
                        who,
                        &subject,
                        "evaluator_marked_malicious",
                        &detail.to_string(),
                    )?;
                }
            }
        }
    }
    Ok(CaseChange {
        case_id: stored.case_id,
        from_state: stored.case.state.as_str().into(),
        to_state: new.state.as_str().into(),
        version: stored.version + 1,
        decisions_queued: queued,
        queued_for_hub: None,
    })
}

/// The latest appeal or rectification on an evaluation: (id, raw_json).
pub(super) fn latest_follow_up(
    tx: &rusqlite::Connection,
    table: &str,
    hall_id: &str,
    evaluation_id: &str,
) -> Result<Option<(String, String)>> {
    let order = if table == "appeals" {
        "filed_at"
    } else {
        "submitted_at"
    };
    let sql = format!(
        "SELECT id, raw_json FROM {table} WHERE hall_id = ?1 AND evaluation_id = ?2
         ORDER BY {order} DESC, seq DESC LIMIT 1"
    );
    Ok(tx
        .prepare_cached(&sql)?
        .query_row([hall_id, evaluation_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// Moves an evaluation out of every figure (申诉成立) inside `tx`.
pub(super) fn exclude_evaluation(
    tx: &Transaction<'_>,
    hall_id: &str,
    evaluation_id: &str,
) -> Result<()> {
    let row: Option<(i64, String, String, bool)> = tx
        .prepare_cached(
            "SELECT level, status, evaluated_at, excluded FROM evaluations
             WHERE hall_id = ?1 AND id = ?2",
        )?
        .query_row([hall_id, evaluation_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .optional()?;
    let Some((level, status, at, false)) = row else {
        return Ok(());
    };
    tx.prepare_cached("UPDATE evaluations SET excluded = 1 WHERE hall_id = ?1 AND id = ?2")?
        .execute([hall_id, evaluation_id])?;
    let mut days = crate::days::DayDeltas::default();
    let day = crate::days::beijing_day_of_utc_text(&at)?;
    days.add(
        hall_id,
        day.clone(),
        crate::days::figures(level, &status, false),
        -1,
    );
    days.add(hall_id, day, crate::days::figures(level, &status, true), 1);
    days.write(tx)
}

/// Flags the open cases of one evaluator's bad ratings. The bound is in the text
/// so that SQLite can use the partial index `evaluations_bad_by_id_hash` (with a
/// bound parameter it would scan every rating).
pub(crate) const FLAG_OPEN_CASES_OF: &str = concat!(
    "UPDATE cases SET flagged_malicious = 1
     WHERE flagged_malicious = 0 AND case_id IN (
        SELECT c.case_id FROM evaluations e JOIN cases c
          ON c.hall_id = e.hall_id AND c.evaluation_id = e.id
        WHERE e.evaluator_id_hash = ?1 AND e.evaluator_id_hash IS NOT NULL AND e.level <= ",
    hcp_core::bad_level_max!(),
    "
          AND c.state NOT IN ",
    hcp_core::closed_states_sql!(),
    ")"
);

/// Marks the evaluator of an upheld malicious appeal and flags their open cases.
pub(super) fn mark_malicious(tx: &Transaction<'_>, stored: &StoredCase) -> Result<Option<String>> {
    let hash: Option<String> = tx
        .prepare_cached("SELECT evaluator_id_hash FROM evaluations WHERE hall_id = ?1 AND id = ?2")?
        .query_row([&stored.hall_id, &stored.evaluation_id], |r| r.get(0))
        .optional()?
        .flatten();
    let Some(hash) = hash else {
        return Ok(None); // anonymous: nothing to mark
    };
    tx.prepare_cached(
        "INSERT OR IGNORE INTO malicious_marks (id_hash, hall_id, evaluation_id, case_id, marked_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        hash,
        stored.hall_id,
        stored.evaluation_id,
        stored.case_id,
        now_text()
    ])?;
    tx.prepare_cached(FLAG_OPEN_CASES_OF)?
        .execute(params![hash])?;
    Ok(Some(hash))
}

impl Store {
    /// Does `action` on a case as `who` at `at`: the new state, an audit row and the
    /// decisions for the hall in one transaction. `expected_version` (what the
    /// officer was looking at) refuses the action when the case changed meanwhile.
    pub fn act_on_case(
        &mut self,
        case_id: i64,
        action: &Action,
        who: Who<'_>,
        expected_version: Option<i64>,
        at: DateTime<FixedOffset>,
    ) -> Result<CaseChange> {
        let tx = self.write_tx()?;
        let rules = load_rules(&tx)?;
        let stored =
            load_case(&tx, "case_id = ?1", &[&case_id])?.ok_or(StoreError::UnknownCase(case_id))?;
        if let Some(v) = expected_version
            && v != stored.version
        {
            return Err(StoreError::Refused(
                "工单已被更新（可能刚同步到大厅的新记录），请刷新后重试".into(),
            ));
        }
        let policy = rules.policy(&stored.hall_id);
        let t = stored
            .case
            .apply(action, who.actor, at, &rules.calendar, &policy)
            .map_err(|r| StoreError::Refused(r.0))?;
        let change = write_transition(&tx, &rules, &stored, &t, who, None, at)?;
        tx.commit()?;
        tracing::info!(case_id, action = t.event, "case action recorded");
        Ok(change)
    }

    /// Sets the 承办人 of several cases (bulk assign), one audit row each.
    pub fn assign_cases(&mut self, case_ids: &[i64], assignee: &str, who: Who<'_>) -> Result<u32> {
        if who.actor != Actor::Officer {
            return Err(StoreError::Refused("只有效能督查员可以分派工单".into()));
        }
        let assignee = assignee.trim();
        if assignee.is_empty() {
            return Err(StoreError::Refused("请填写承办人".into()));
        }
        let tx = self.write_tx()?;
        let mut n = 0;
        for id in case_ids {
            let changed = tx
                .prepare_cached(
                    "UPDATE cases SET assignee = ?2, updated_at = ?3, version = version + 1
                     WHERE case_id = ?1 AND assignee IS NOT ?2",
                )?
                .execute(params![id, assignee, now_text()])?;
            let state: Option<String> = tx
                .prepare_cached("SELECT state FROM cases WHERE case_id = ?1")?
                .query_row([id], |r| r.get(0))
                .optional()?;
            let Some(state) = state else {
                return Err(StoreError::UnknownCase(*id));
            };
            if changed == 1 {
                let detail = json!({
                    "from": state, "to": state,
                    "summary": format!("分派承办人：{assignee}"),
                });
                audit_in(
                    &tx,
                    who,
                    &format!("case:{id}"),
                    "assignee_set",
                    &detail.to_string(),
                )?;
                n += 1;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// Marks a case as a 典型案例 of its rating's month (Beijing), or takes the
    /// mark away; audited. Returns the month.
    pub fn set_typical(&mut self, case_id: i64, typical: bool, who: Who<'_>) -> Result<String> {
        if who.actor != Actor::Officer {
            return Err(StoreError::Refused("只有效能督查员可以选定典型案例".into()));
        }
        let tx = self.write_tx()?;
        let evaluated_at: String = tx
            .query_row(
                "SELECT evaluated_at FROM cases WHERE case_id = ?1",
                [case_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or(StoreError::UnknownCase(case_id))?;
        let month = DateTime::parse_from_rfc3339(&evaluated_at)
            .map(|t| {
                t.with_timezone(&hcp_core::metrics::beijing())
                    .format("%Y-%m")
                    .to_string()
            })
            .map_err(|e| StoreError::Corrupt(e.to_string()))?;
        let changed = if typical {
            tx.execute(
                "INSERT OR IGNORE INTO typical_cases (month, case_id, added_by, added_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![month, case_id, who.name, now_text()],
            )?
        } else {
            tx.execute(
                "DELETE FROM typical_cases WHERE month = ?1 AND case_id = ?2",
                params![month, case_id],
            )?
        };
        if changed > 0 {
            let (action, summary) = if typical {
                ("typical_added", format!("选为 {month} 典型案例"))
            } else {
                ("typical_removed", format!("不再作为 {month} 典型案例"))
            };
            let detail = json!({ "summary": summary, "month": month });
            audit_in(
                &tx,
                who,
                &format!("case:{case_id}"),
                action,
                &detail.to_string(),
            )?;
        }
        tx.commit()?;
        Ok(month)
    }
}
