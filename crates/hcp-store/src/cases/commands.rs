//! Officers' actions on a case: hcp-core decides the transition, this persists it
//! (the case row, one audit row, the decisions for the hall, the side effects).

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::{
    Action, Actor, CaseRepository, CaseWrites, Found, Lookups, Record, Signer, Transition,
    step_writes,
};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use crate::audit::{AuditEntry, append_in, audit_in};
use crate::{Result, Store, StoreError, now_text, utc_text};

use super::*;

/// The desk's side of the case engine: persists what hcp-core decided, inside
/// the caller's transaction.
pub(super) struct DeskCases<'a, 't> {
    pub tx: &'a Transaction<'t>,
    pub rules: &'a CaseRules,
    /// Decisions queued for the hall by the writes so far.
    pub queued: u32,
}

impl<'a, 't> DeskCases<'a, 't> {
    pub fn new(tx: &'a Transaction<'t>, rules: &'a CaseRules) -> Self {
        DeskCases {
            tx,
            rules,
            queued: 0,
        }
    }

    /// What a transition's writes refer to, as this cache holds it.
    pub fn find(&self, head: &StoredCase, l: Lookups) -> Result<Found> {
        let (hall, eval) = (head.hall_id.as_str(), head.evaluation_id.as_str());
        let rectification = if l.rectification {
            latest_follow_up(self.tx, "rectifications", hall, eval)?
        } else {
            None
        };
        let appeal = if l.appeal {
            latest_follow_up(self.tx, "appeals", hall, eval)?
        } else {
            None
        };
        let evaluation = if l.evaluation {
            crate::queries::evaluation_raw(self.tx, hall, eval)?.map(|(_, raw)| raw)
        } else {
            None
        };
        let rater = if l.rater {
            self.tx
                .prepare_cached(
                    "SELECT evaluator_id_hash FROM evaluations WHERE hall_id = ?1 AND id = ?2",
                )?
                .query_row([hall, eval], |r| r.get(0))
                .optional()?
                .flatten()
        } else {
            None
        };
        Ok(Found {
            rectification,
            appeal,
            evaluation,
            rater,
        })
    }

    /// Decides and writes `t` on `head`: the case's change.
    pub fn step(
        &mut self,
        head: &StoredCase,
        t: Transition,
        by: Signer<'_>,
        hall_record: Option<&str>,
        at: DateTime<FixedOffset>,
    ) -> Result<CaseChange> {
        let found = self.find(head, t.lookups())?;
        let w = step_writes(head, t, &found, by, hall_record, at);
        let before = self.queued;
        self.persist(&w)?;
        Ok(CaseChange {
            case_id: w.after.case_id,
            from_state: head.case.state.as_str().into(),
            to_state: w.after.case.state.as_str().into(),
            version: w.after.version,
            decisions_queued: self.queued - before,
            queued_for_hub: None,
        })
    }
}

impl CaseRepository for DeskCases<'_, '_> {
    type Error = StoreError;

    fn persist(&mut self, w: &CaseWrites) -> Result<()> {
        let tx = self.tx;
        let (due, warn, estimated) = deadline_columns(&w.after.case, self.rules, &w.after.hall_id);
        tx.prepare_cached(
            "UPDATE cases SET state = ?2, body = ?3, due_at = ?4, warn_at = ?5, due_estimated = ?6,
                lead_department = ?7, closed_at = ?8, updated_at = ?9, version = ?10
             WHERE case_id = ?1",
        )?
        .execute(params![
            w.after.case_id,
            w.after.case.state.as_str(),
            to_json(&w.after.case)?,
            due,
            warn,
            estimated,
            w.after.case.lead_department,
            w.after
                .case
                .closed_at
                .map(|t| utc_text(t.with_timezone(&Utc))),
            now_text(),
            w.after.version,
        ])?;
        append_entry(tx, w)?;
        for d in &w.decisions {
            self.queued += u32::from(queue_decision(tx, &w.after.hall_id, w.after.case_id, d)?);
        }
        if w.exclude_rating {
            exclude_evaluation(tx, &w.after.hall_id, &w.after.evaluation_id)?;
        }
        if let Some(hash) = &w.mark_rater {
            mark_malicious(tx, hash, w)?;
        }
        Ok(())
    }
}

/// The entry on the case's timeline (the audit log, subject `case:N`).
pub(super) fn append_entry(tx: &Transaction<'_>, w: &CaseWrites) -> Result<i64> {
    let e = &w.entry;
    let detail = json!({
        "from": e.from,
        "to": e.to,
        "summary": e.summary,
        "note": e.note,
        "signed_sha256": e.signed_sha256,
        // The outcome code (callback result, appeal verdict) for reports.
        "outcome": e.outcome,
        "acted_at": utc_text(e.acted_at.with_timezone(&Utc)),
        "evaluation_id": w.after.evaluation_id,
        "hall_id": w.after.hall_id,
    });
    append_in(
        tx,
        &AuditEntry {
            actor: &e.actor,
            role: &e.role,
            subject: &format!("case:{}", w.after.case_id),
            action: &e.event,
            detail: &detail.to_string(),
        },
    )
}

/// The latest appeal or rectification on an evaluation.
pub(super) fn latest_follow_up(
    tx: &rusqlite::Connection,
    table: &str,
    hall_id: &str,
    evaluation_id: &str,
) -> Result<Option<Record>> {
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
        .query_row([hall_id, evaluation_id], |r| {
            Ok(Record {
                id: r.get(0)?,
                raw: r.get(1)?,
            })
        })
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

/// Marks a rater found malicious and flags their open cases.
fn mark_malicious(tx: &Transaction<'_>, hash: &str, w: &CaseWrites) -> Result<()> {
    tx.prepare_cached(
        "INSERT OR IGNORE INTO malicious_marks (id_hash, hall_id, evaluation_id, case_id, marked_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![
        hash,
        w.after.hall_id,
        w.after.evaluation_id,
        w.after.case_id,
        now_text()
    ])?;
    tx.prepare_cached(FLAG_OPEN_CASES_OF)?
        .execute(params![hash])?;
    Ok(())
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
        let event = t.event;
        let change = DeskCases::new(&tx, &rules).step(&stored, t, who.signer(), None, at)?;
        tx.commit()?;
        tracing::info!(case_id, action = event, "case action recorded");
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
