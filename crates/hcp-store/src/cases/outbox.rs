//! The outbox of decisions for the halls: queued with the transition that made
//! them, pushed by hcp-sync, settled by the hall's answer.

use hcp_core::wire::{Decision, DecisionStatus};
use rusqlite::{OptionalExtension, Transaction, params};
use serde_json::json;

use crate::audit::{AuditEntry, append_in};
use crate::{Result, Store, StoreError, now_text};

use super::*;

/// Queues a decision core made for the hall, unless the hall has no server to
/// tell (known from spreadsheet exports). Returns whether it was queued.
pub(super) fn queue_decision(
    tx: &Transaction<'_>,
    hall_id: &str,
    case_id: i64,
    decision: &Decision,
) -> Result<bool> {
    let source: Option<String> = tx
        .prepare_cached("SELECT source FROM halls WHERE hall_id = ?1")?
        .query_row([hall_id], |r| r.get(0))
        .optional()?;
    if source.as_deref().is_some_and(|s| s != "api") {
        return Ok(false);
    }
    tx.prepare_cached(
        "INSERT INTO outbox (id, hall_id, case_id, kind, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        decision.id,
        hall_id,
        case_id,
        decision.kind,
        to_json(decision)?,
        now_text()
    ])?;
    Ok(true)
}

impl Store {
    /// Decisions, newest first: of one case, or all.
    pub fn outbox_rows(&self, case_id: Option<i64>, limit: i64) -> Result<Vec<OutboxRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, id, hall_id, case_id, kind, state, attempts, last_error, reason,
                    created_at, settled_at
             FROM outbox WHERE (?1 IS NULL OR case_id = ?1) ORDER BY seq DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![case_id, limit], |r| {
            Ok(OutboxRow {
                seq: r.get(0)?,
                id: r.get(1)?,
                hall_id: r.get(2)?,
                case_id: r.get(3)?,
                kind: r.get(4)?,
                state: r.get(5)?,
                attempts: r.get(6)?,
                last_error: r.get(7)?,
                reason: r.get(8)?,
                created_at: r.get(9)?,
                settled_at: r.get(10)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Per hall: pending, delivered and rejected decisions.
    pub fn outbox_summary(&self) -> Result<Vec<OutboxSummary>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, sum(state = 'pending'), sum(state = 'delivered'), sum(state = 'rejected'),
                    (SELECT last_error FROM outbox o2 WHERE o2.hall_id = o.hall_id
                       AND o2.state = 'pending' AND o2.last_error IS NOT NULL
                     ORDER BY seq LIMIT 1),
                    (SELECT name FROM halls h WHERE h.hall_id = o.hall_id)
             FROM outbox o GROUP BY hall_id ORDER BY hall_id",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(OutboxSummary {
                hall_id: r.get(0)?,
                hall_name: r.get(5)?,
                pending: r.get(1)?,
                delivered: r.get(2)?,
                rejected: r.get(3)?,
                last_error: r.get(4)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Halls with decisions waiting.
    pub fn halls_with_pending_decisions(&self) -> Result<Vec<String>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT DISTINCT hall_id FROM outbox WHERE state = 'pending' ORDER BY hall_id",
        )?;
        let rows = stmt.query_map([], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The oldest `limit` pending decisions of a hall, in order.
    pub fn pending_decisions(&self, hall_id: &str, limit: usize) -> Result<Vec<Decision>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT body FROM outbox WHERE hall_id = ?1 AND state = 'pending' ORDER BY seq LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![hall_id, limit as i64], |r| r.get::<_, String>(0))?;
        let mut out = vec![];
        for body in rows {
            let body = body?;
            out.push(
                serde_json::from_str(&body)
                    .map_err(|e| StoreError::Corrupt(format!("待发送决定：{e}")))?,
            );
        }
        Ok(out)
    }

    /// Records the hall's answers (one transaction): `accepted`/`duplicate` are
    /// delivered; `rejected` keeps the reason and shows on the case.
    pub fn settle_decisions(
        &mut self,
        hall_id: &str,
        results: &[(String, DecisionStatus, Option<String>)],
    ) -> Result<()> {
        let tx = self.write_tx()?;
        let now = now_text();
        for (id, status, reason) in results {
            let state = match status {
                DecisionStatus::Accepted | DecisionStatus::Duplicate => "delivered",
                DecisionStatus::Rejected => "rejected",
            };
            let changed = tx
                .prepare_cached(
                    "UPDATE outbox SET state = ?3, reason = ?4, settled_at = ?5,
                        attempts = attempts + 1, last_error = NULL
                     WHERE id = ?1 AND hall_id = ?2 AND state = 'pending'",
                )?
                .execute(params![id, hall_id, state, reason, now])?;
            if changed == 0 || *status != DecisionStatus::Rejected {
                continue;
            }
            let (case_id, kind): (Option<i64>, String) = tx
                .prepare_cached("SELECT case_id, kind FROM outbox WHERE id = ?1")?
                .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let reason = reason
                .clone()
                .unwrap_or_else(|| "（大厅未说明原因）".into());
            if let Some(case_id) = case_id {
                tx.prepare_cached(
                    "UPDATE cases SET rejection = ?2, updated_at = ?3 WHERE case_id = ?1",
                )?
                .execute(params![case_id, reason, now])?;
                append_in(
                    &tx,
                    &AuditEntry {
                        actor: hall_id,
                        role: "hall",
                        subject: &format!("case:{case_id}"),
                        action: "decision_rejected",
                        detail: &json!({
                            "summary": format!("大厅拒收决定（{kind}）：{reason}"),
                            "note": reason, "decision_id": id,
                        })
                        .to_string(),
                    },
                )?;
            }
            tracing::warn!(hall_id, case_id, kind, "hall rejected a decision");
        }
        tx.commit()?;
        Ok(())
    }

    /// Notes a failed delivery attempt on a hall's pending decisions.
    pub fn note_push_failure(&self, hall_id: &str, ids: &[String], error: &str) -> Result<()> {
        let mut stmt = self.conn.prepare_cached(
            "UPDATE outbox SET attempts = attempts + 1, last_error = ?3
             WHERE id = ?1 AND hall_id = ?2 AND state = 'pending'",
        )?;
        for id in ids {
            stmt.execute(params![id, hall_id, error])?;
        }
        Ok(())
    }
}
