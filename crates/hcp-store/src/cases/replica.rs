//! A cache in hub mode: a replica of an office hub. The hub is the single writer of
//! cases; here they are copies taken from the hub's case feed (with the hub's case
//! ids, versions and timelines), the feed's case engine is off, and an officer's
//! action waits in `hub_queue` until the hub has answered it. Reading — the inbox,
//! a case's page, the reports — works on the copies, online or not.

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::{Action, Actor, Case};
use hcp_core::hub::{ActionRequest, ActionResult, CaseView};
use rusqlite::{OptionalExtension, params};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::audit::{AuditEntry, append_in};
use crate::{Result, Store, StoreError, now_text, utc_text};

use super::*;

/// Where the hub-mode link is kept.
const LINK_SETTING: &str = "hub.link";
/// The case feed's cursor.
const CASE_CURSOR_SETTING: &str = "hub.case_cursor";

/// The hub this cache replicates, and the account it signs in as.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ts_rs::TS)]
#[ts(export_to = "HubLink.ts")]
pub struct HubLink {
    /// The hub's base URL (ending in `/`).
    pub url: String,
    /// 登录名.
    pub account: String,
    /// `officer`, `director`, `shopper` or `admin`.
    pub role: String,
    /// A director's hall.
    pub hall_id: Option<String>,
    /// The CA certificate file trusted for the hub (an intranet CA or a
    /// self-signed certificate), if any.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// Which database of the hub this cache replicates (its epoch); another one
    /// (a restored backup, a new database) stops the sync.
    #[serde(default)]
    pub epoch: Option<String>,
}

/// An action waiting for the hub, or answered by it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "QueuedAction.ts")]
pub struct QueuedAction {
    /// The action's UUID.
    pub id: String,
    /// The case.
    pub case_id: i64,
    /// The version it was taken on.
    pub expected_version: i64,
    /// What it does, zh-CN.
    pub summary: String,
    /// Who took it.
    pub actor: String,
    /// When (UTC).
    pub queued_at: String,
    /// `pending` (待发送), `accepted`, `duplicate` or `rejected`.
    pub state: String,
    /// For `rejected`: `conflict`, `forbidden` or `invalid`.
    pub reason: Option<String>,
    /// The hub's words.
    pub message: Option<String>,
    /// The case's version on the hub when it answered.
    pub hub_version: Option<i64>,
    /// For a refused action, what the officer did about it: `redone` (taken
    /// again on the case as it is now) or `dropped`; `None` while undecided.
    pub resolution: Option<String>,
}

impl HubLink {
    /// Whether this account reads the halls' ratings and the office's cases
    /// (officers and directors); shoppers and administrators do not.
    pub fn reads_records(&self) -> bool {
        matches!(self.role.as_str(), "officer" | "director")
    }
}

fn queued_of(r: &rusqlite::Row<'_>) -> rusqlite::Result<QueuedAction> {
    Ok(QueuedAction {
        id: r.get(0)?,
        case_id: r.get(1)?,
        expected_version: r.get(2)?,
        summary: r.get(3)?,
        actor: r.get(4)?,
        queued_at: r.get(5)?,
        state: r.get(6)?,
        reason: r.get(7)?,
        message: r.get(8)?,
        hub_version: r.get(9)?,
        resolution: r.get(10)?,
    })
}

const QUEUED_COLUMNS: &str = "id, case_id, expected_version, summary, actor, queued_at, state, \
                              reason, message, hub_version, resolution";

impl Store {
    /// The hub this cache replicates, if it is in hub mode.
    pub fn hub_link(&self) -> Result<Option<HubLink>> {
        match self.setting(LINK_SETTING)? {
            Some(v) => Ok(Some(serde_json::from_str(&v).map_err(|e| {
                StoreError::Corrupt(format!("团队服务器连接设置：{e}"))
            })?)),
            None => Ok(None),
        }
    }

    /// Turns this cache into a replica of a hub (audited). Only an empty cache, or
    /// one already linked to the same hub, can be linked: a desk's own cases and
    /// halls would clash with the office's.
    pub fn set_hub_link(&mut self, link: &HubLink) -> Result<()> {
        let cases: i64 = self
            .conn
            .query_row("SELECT count(*) FROM cases", [], |r| r.get(0))?;
        let halls: i64 = self
            .conn
            .query_row("SELECT count(*) FROM halls", [], |r| r.get(0))?;
        let same_hub = self.hub_link()?.is_some_and(|l| l.url == link.url);
        if !same_hub && (cases > 0 || halls > 0) {
            return Err(StoreError::Refused(
                "该数据目录已有单机使用的大厅或工单，不能再连接团队服务器：请为团队服务器使用一个新的数据目录（--db 指向新文件）".into(),
            ));
        }
        let json = to_json(link)?;
        self.set_setting_audited(
            LINK_SETTING,
            Some(&json),
            &AuditEntry {
                actor: &link.account,
                role: &link.role,
                subject: "hub",
                action: "hub_connected",
                detail: &json,
            },
        )
    }

    /// The case feed's cursor.
    pub fn hub_case_cursor(&self) -> Result<Option<String>> {
        self.setting(CASE_CURSOR_SETTING)
    }

    /// Stores a page of the hub's case feed and its cursor in one transaction:
    /// each case replaces its copy when its version is higher, and the timeline
    /// rows this copy did not have yet are added to the case's audit timeline.
    pub fn apply_hub_cases(&mut self, cases: &[CaseView], next_cursor: &str) -> Result<u64> {
        let tx = self.write_tx()?;
        let mut changed = 0;
        for c in cases {
            let local: Option<i64> = tx
                .prepare_cached("SELECT version FROM cases WHERE case_id = ?1")?
                .query_row([c.case_id], |r| r.get(0))
                .optional()?;
            if local.is_some_and(|v| v > c.version) {
                continue;
            }
            if local == Some(c.version) {
                // The same step with a new deadline (the office changed a policy or
                // the calendar) or a rater found malicious since: only those move.
                changed += tx
                    .prepare_cached(
                        "UPDATE cases SET due_at = ?2, warn_at = ?3, flagged_malicious = ?4
                         WHERE case_id = ?1
                           AND (due_at IS NOT ?2 OR warn_at IS NOT ?3 OR flagged_malicious <> ?4)",
                    )?
                    .execute(params![
                        c.case_id,
                        c.due_at.map(utc_text),
                        c.warn_at.map(utc_text),
                        c.flagged_malicious
                    ])? as u64;
                continue;
            }
            changed += 1;
            let closed_at = c.case.closed_at.map(|t| utc_text(t.with_timezone(&Utc)));
            let opened_at = c.timeline.first().map_or_else(now_text, |e| utc_text(e.at));
            tx.prepare_cached(
                "INSERT INTO cases (case_id, hall_id, evaluation_id, kind, state, body, evaluated_at,
                    due_at, warn_at, flagged_malicious, lead_department, opened_at, updated_at,
                    closed_at, version)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)
                 ON CONFLICT (case_id) DO UPDATE SET state = excluded.state, body = excluded.body,
                    due_at = excluded.due_at, warn_at = excluded.warn_at,
                    flagged_malicious = excluded.flagged_malicious,
                    lead_department = excluded.lead_department, updated_at = excluded.updated_at,
                    closed_at = excluded.closed_at, version = excluded.version",
            )?
            .execute(params![
                c.case_id,
                c.hall_id,
                c.evaluation_id,
                c.kind,
                c.state,
                to_json(&c.case)?,
                utc_text(c.case.evaluated_at.with_timezone(&Utc)),
                c.due_at.map(utc_text),
                c.warn_at.map(utc_text),
                c.flagged_malicious,
                c.case.lead_department,
                opened_at,
                now_text(),
                closed_at,
                c.version,
            ])?;
            // 申诉成立: the rating leaves every figure here too, as the hub decided.
            if c.excluded {
                super::commands::exclude_evaluation(&tx, &c.hall_id, &c.evaluation_id)?;
            }
            let from = local.unwrap_or(0);
            for e in c.timeline.iter().filter(|e| e.version > from) {
                let detail = json!({
                    "from": e.from_state, "to": e.to_state, "summary": e.summary,
                    "note": e.note, "signed_sha256": e.signed_sha256,
                    "acted_at": utc_text(e.at), "evaluation_id": c.evaluation_id,
                    "hall_id": c.hall_id, "hub_version": e.version,
                });
                append_in(
                    &tx,
                    &AuditEntry {
                        actor: &e.actor,
                        role: &e.role,
                        subject: &format!("case:{}", c.case_id),
                        action: &e.event,
                        detail: &detail.to_string(),
                    },
                )?;
            }
        }
        tx.execute(
            "INSERT INTO settings (key, value) VALUES (?1, ?2)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            params![CASE_CURSOR_SETTING, next_cursor],
        )?;
        tx.commit()?;
        Ok(changed)
    }

    /// Queues an officer's action for the hub (待发送). It is checked here against
    /// the case as it will be once the actions queued before it are accepted, so a
    /// refusal is immediate; the version it names counts those actions too.
    pub fn queue_hub_action(
        &mut self,
        case_id: i64,
        action: &Action,
        who: Who<'_>,
        at: DateTime<FixedOffset>,
    ) -> Result<QueuedAction> {
        let tx = self.write_tx()?;
        let q = queue_in(&tx, case_id, action, who, at)?;
        tx.commit()?;
        Ok(q)
    }

    /// A refused action taken again (重新办理) on the case as it is now: the same
    /// action is queued anew, checked against the current state (so an action the
    /// case has moved past is refused here, at once, with the reason), and the
    /// refused one points to it. Audited.
    pub fn redo_hub_action(
        &mut self,
        id: &str,
        who: Who<'_>,
        at: DateTime<FixedOffset>,
    ) -> Result<QueuedAction> {
        let tx = self.write_tx()?;
        let (case_id, action) = refused_in(&tx, id)?;
        let action: Action = serde_json::from_str(&action)
            .map_err(|e| StoreError::Corrupt(format!("被拒绝的操作：{e}")))?;
        let q = queue_in(&tx, case_id, &action, who, at)?;
        let detail = json!({ "refused": id, "queued": q.id, "summary": q.summary });
        settle_refused(&tx, id, case_id, Some(&q.id), &detail, who)?;
        tx.commit()?;
        Ok(q)
    }

    /// A refused action let go (放弃): kept with the hub's answer, marked dropped.
    /// Audited.
    pub fn drop_hub_action(&mut self, id: &str, who: Who<'_>) -> Result<()> {
        let tx = self.write_tx()?;
        let (case_id, _) = refused_in(&tx, id)?;
        settle_refused(&tx, id, case_id, None, &json!({ "refused": id }), who)?;
        tx.commit()?;
        Ok(())
    }

    /// The oldest actions still waiting for the hub, at most `limit`.
    pub fn pending_hub_actions(&self, limit: usize) -> Result<Vec<ActionRequest>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, case_id, expected_version, action FROM hub_queue
             WHERE state = 'pending' ORDER BY seq LIMIT ?1",
        )?;
        let rows = stmt.query_map([limit as i64], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get::<_, String>(3)?,
            ))
        })?;
        let mut out = vec![];
        for row in rows {
            let (id, case_id, expected_version, action) = row?;
            let action = serde_json::from_str(&action)
                .map_err(|e| StoreError::Corrupt(format!("待发送的操作：{e}")))?;
            out.push(ActionRequest {
                id,
                case_id,
                expected_version,
                action,
            });
        }
        Ok(out)
    }

    /// Stores the hub's answers. An action queued after a rejected one on the same
    /// case was taken on the rejected one's outcome: it is rejected with it, never
    /// sent on a state the officer did not see.
    pub fn settle_hub_actions(&mut self, results: &[ActionResult]) -> Result<()> {
        let tx = self.write_tx()?;
        let now = now_text();
        for r in results {
            tx.prepare_cached(
                "UPDATE hub_queue SET state = ?2, reason = ?3, message = ?4, hub_version = ?5,
                    answered_at = ?6
                 WHERE id = ?1 AND state = 'pending'",
            )?
            .execute(params![r.id, r.status, r.reason, r.message, r.version, now])?;
        }
        for r in results.iter().filter(|r| r.status == "rejected") {
            tx.prepare_cached(
                "UPDATE hub_queue SET state = 'rejected', reason = 'conflict',
                    message = '同一工单上先前的操作未被团队服务器受理，此操作未发送，请按最新情况重新办理',
                    answered_at = ?2
                 WHERE state = 'pending' AND case_id =
                    (SELECT case_id FROM hub_queue WHERE id = ?1)",
            )?
            .execute(params![r.id, now])?;
        }
        tx.commit()?;
        Ok(())
    }

    /// Queued actions, newest first: of one case, or all; only those still
    /// waiting when `pending_only`.
    pub fn hub_queue(&self, case_id: Option<i64>, pending_only: bool) -> Result<Vec<QueuedAction>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {QUEUED_COLUMNS} FROM hub_queue
             WHERE (?1 IS NULL OR case_id = ?1) AND (?2 = 0 OR state = 'pending')
             ORDER BY seq DESC LIMIT 1000"
        ))?;
        let rows = stmt.query_map(params![case_id, pending_only], queued_of)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

/// A step of this desk the hub has not taken (waiting, or refused and not yet
/// redone or dropped), carried into a rebuilt replica for the officer's review.
#[derive(Debug, Clone)]
pub struct CarriedAction {
    id: String,
    case_id: i64,
    expected_version: i64,
    action: String,
    summary: String,
    actor: String,
    queued_at: String,
}

impl CarriedAction {
    /// The step's UUID (kept in the new replica).
    pub fn id(&self) -> &str {
        &self.id
    }
}

impl Store {
    /// The steps this desk took that the hub has not taken: still waiting, or
    /// refused and not yet redone or dropped (oldest first).
    pub fn unsettled_hub_actions(&self) -> Result<Vec<CarriedAction>> {
        let mut stmt = self.conn.prepare(
            "SELECT id, case_id, expected_version, action, summary, actor, queued_at
             FROM hub_queue
             WHERE state = 'pending' OR (state = 'rejected' AND resolution IS NULL)
             ORDER BY seq",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CarriedAction {
                id: r.get(0)?,
                case_id: r.get(1)?,
                expected_version: r.get(2)?,
                action: r.get(3)?,
                summary: r.get(4)?,
                actor: r.get(5)?,
                queued_at: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A rebuilt replica takes the old one's unsettled steps as held for review
    /// (reason `epoch`): none is sent by itself to a hub whose cases may differ
    /// from those the step was taken on; the officer redoes each on the case as
    /// the hub has it now, or drops it. `old_file` (the kept replica) is named in
    /// the audit entry.
    pub fn hold_carried_actions(
        &mut self,
        carried: &[CarriedAction],
        old_file: &str,
        who: Who<'_>,
    ) -> Result<()> {
        let tx = self.write_tx()?;
        let now = now_text();
        for a in carried {
            tx.prepare_cached(
                "INSERT INTO hub_queue (id, case_id, expected_version, action, summary, actor,
                    queued_at, state, reason, message, answered_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'rejected', 'epoch', ?8, ?9)
                 ON CONFLICT (id) DO NOTHING",
            )?
            .execute(params![
                a.id,
                a.case_id,
                a.expected_version,
                a.action,
                a.summary,
                a.actor,
                a.queued_at,
                HELD_AFTER_REBUILD,
                now
            ])?;
        }
        append_in(
            &tx,
            &AuditEntry {
                actor: who.name,
                role: who.actor.as_str(),
                subject: "hub",
                action: "hub_replica_rebuilt",
                detail: &json!({
                    "previous_file": old_file,
                    "held": carried.iter().map(|a| &a.id).collect::<Vec<_>>(),
                })
                .to_string(),
            },
        )?;
        tx.commit()?;
        Ok(())
    }

    /// A replica that hands in but reads nothing (a shopper's): after the hub was
    /// restored, every submitted visit is sent again (the hub keeps what it has and
    /// takes back what it lost). Returns how many will be sent; audited.
    pub fn forget_hub_answers(&mut self, epoch: &str, who: Who<'_>) -> Result<u64> {
        let tx = self.write_tx()?;
        let n = tx.execute("DELETE FROM hub_visit_uploads", [])? as u64;
        append_in(
            &tx,
            &AuditEntry {
                actor: who.name,
                role: who.actor.as_str(),
                subject: "hub",
                action: "hub_replica_rebuilt",
                detail: &json!({ "epoch": epoch, "visits_to_resend": n }).to_string(),
            },
        )?;
        tx.commit()?;
        Ok(n)
    }
}

/// What a step carried into a rebuilt replica says until the officer acts on it.
pub const HELD_AFTER_REBUILD: &str = "团队服务器恢复了较早的数据，本机副本已重建；此操作是重建前未被团队服务器受理的，未自动发送：请按工单现状重新办理或放弃";

/// Marks the refused action `id` redone (as `redone_as`) or dropped, and audits it
/// on its case.
fn settle_refused(
    tx: &rusqlite::Transaction<'_>,
    id: &str,
    case_id: i64,
    redone_as: Option<&str>,
    detail: &serde_json::Value,
    who: Who<'_>,
) -> Result<()> {
    let resolution = if redone_as.is_some() {
        "redone"
    } else {
        "dropped"
    };
    tx.execute(
        "UPDATE hub_queue SET resolution = ?2, resolved_at = ?3, redone_as = ?4 WHERE id = ?1",
        params![id, resolution, now_text(), redone_as],
    )?;
    append_in(
        tx,
        &AuditEntry {
            actor: who.name,
            role: who.actor.as_str(),
            subject: &format!("case:{case_id}"),
            action: &format!("hub_action_{resolution}"),
            detail: &detail.to_string(),
        },
    )?;
    Ok(())
}

/// The refused, undecided action `id`: its case and the action (JSON).
fn refused_in(tx: &rusqlite::Transaction<'_>, id: &str) -> Result<(i64, String)> {
    let row: Option<(i64, String, String, Option<String>)> = tx
        .query_row(
            "SELECT case_id, action, state, resolution FROM hub_queue WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )
        .optional()?;
    match row {
        None => Err(StoreError::Refused("没有这项待发送的操作".into())),
        Some((_, _, state, _)) if state != "rejected" => Err(StoreError::Refused(
            "只有团队服务器未受理的操作可以重新办理或放弃".into(),
        )),
        Some((_, _, _, Some(_))) => Err(StoreError::Refused("这项操作已经处理过了".into())),
        Some((case_id, action, _, None)) => Ok((case_id, action)),
    }
}

/// Queues `action` on `case_id` in `tx` (see [`Store::queue_hub_action`]).
fn queue_in(
    tx: &rusqlite::Transaction<'_>,
    case_id: i64,
    action: &Action,
    who: Who<'_>,
    at: DateTime<FixedOffset>,
) -> Result<QueuedAction> {
    let rules = load_rules(tx)?;
    let stored =
        load_case(tx, "case_id = ?1", &[&case_id])?.ok_or(StoreError::UnknownCase(case_id))?;
    let policy = rules.policy(&stored.hall_id);
    let (projected, pending) = projected_case(tx, case_id, &stored.case, &rules, &policy, at)?;
    let t = projected
        .apply(action, who.actor, at, &rules.calendar, &policy)
        .map_err(|r| StoreError::Refused(r.0))?;
    let q = QueuedAction {
        id: uuid::Uuid::new_v4().to_string(),
        case_id,
        expected_version: stored.version + pending as i64,
        summary: t.summary.clone(),
        actor: who.name.to_owned(),
        queued_at: now_text(),
        state: "pending".into(),
        reason: None,
        message: None,
        hub_version: None,
        resolution: None,
    };
    tx.prepare_cached(
        "INSERT INTO hub_queue (id, case_id, expected_version, action, summary, actor, queued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        q.id,
        q.case_id,
        q.expected_version,
        to_json(action)?,
        q.summary,
        q.actor,
        q.queued_at
    ])?;
    Ok(q)
}

/// The case as it will be once the actions waiting for the hub are accepted, and
/// how many wait: the next step is offered and checked on it, so an officer can
/// take two steps in a row while the hub is away.
pub(crate) fn projected_case(
    conn: &rusqlite::Connection,
    case_id: i64,
    stored: &Case,
    rules: &super::rules::CaseRules,
    policy: &hcp_core::case::DeadlinePolicy,
    at: DateTime<FixedOffset>,
) -> Result<(Case, usize)> {
    let pending: Vec<String> = conn
        .prepare_cached(
            "SELECT action FROM hub_queue WHERE case_id = ?1 AND state = 'pending' ORDER BY seq",
        )?
        .query_map([case_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut projected = stored.clone();
    for a in &pending {
        let a: Action = serde_json::from_str(a)
            .map_err(|e| StoreError::Corrupt(format!("待发送的操作：{e}")))?;
        if let Ok(t) = projected.apply(&a, Actor::Officer, at, &rules.calendar, policy) {
            projected = t.case;
        }
    }
    Ok((projected, pending.len()))
}
