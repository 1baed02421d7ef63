//! Bad-rating cases (差评工单) on disk. Every change to a case — an officer's
//! action or a record from a hall's feed — is one transaction holding the new
//! state, an audit row (the case's timeline) and, when the hall must hear of it, a
//! row in the outbox of decisions. The rules themselves live in
//! [`hcp_core::case`]; this module only persists what they decide.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::calendar::WorkingCalendar;
use hcp_core::case::{
    Action, Actor, Case, CaseState, DeadlinePolicy, DecisionOut, Effect, RefersTo, Signs,
    Transition, Urgency, warning_from,
};
use hcp_core::metrics::beijing;
use hcp_core::wire::{Decision, DecisionStatus};
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, Transaction, params, params_from_iter};
use serde::Serialize;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::audit::{AuditEntry, append_in};
use crate::queries::{EVALUATION_COLUMNS, EvaluationRow, evaluation_from_row};
use crate::{FollowUp, Result, Store, StoreError, now_text, utc_text};

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

const CALENDAR_PREFIX: &str = "calendar.year.";
const POLICY_DEFAULT: &str = "policy.default";
const POLICY_HALL_PREFIX: &str = "policy.hall.";

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

/// One line of the inbox.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "CaseListRow.ts")]
pub struct CaseListRow {
    /// 工单号.
    pub case_id: i64,
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub hall_name: Option<String>,
    /// 评价编号.
    pub evaluation_id: String,
    /// `bad_rating` (later: `visit_finding`).
    pub kind: String,
    /// State (storage name).
    pub state: String,
    /// 1..5 (`None` when the evaluation is no longer cached).
    pub level: Option<u8>,
    /// 评价渠道.
    pub channel: Option<String>,
    /// 事项名称.
    pub item_name: Option<String>,
    /// 窗口号.
    pub window_no: Option<String>,
    /// 评价内容.
    pub comment: Option<String>,
    /// 评价时间 (UTC).
    pub evaluated_at: String,
    /// The current deadline (UTC), if one governs the case now.
    pub due_at: Option<String>,
    /// The deadline rests on the Monday–Friday fallback: say so.
    pub due_estimated: bool,
    /// on_time | warning | overdue, at the time of the query.
    #[ts(type = "\"on_time\" | \"warning\" | \"overdue\" | null")]
    pub urgency: Option<Urgency>,
    /// The evaluator is marked malicious.
    pub flagged_malicious: bool,
    /// 牵头部门.
    pub lead_department: Option<String>,
    /// 承办人.
    pub assignee: Option<String>,
    /// A hall's reason for rejecting the latest decision, if any.
    pub rejection: Option<String>,
    /// Last change (UTC).
    pub updated_at: String,
    /// Bumped by every change: actions name the version they saw.
    pub version: i64,
}

/// What the inbox asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize, ts_rs::TS)]
#[ts(export_to = "CaseFilter.ts")]
#[serde(default)]
pub struct CaseFilter {
    /// States to show (empty: all).
    pub states: Vec<String>,
    /// One hall.
    pub hall_id: Option<String>,
    /// `overdue`, `warning` (warning includes overdue) or `soon` (in warning,
    /// not yet overdue).
    pub urgency: Option<String>,
    /// Only cases whose evaluator is marked malicious.
    pub flagged_only: bool,
    /// 承办人.
    pub assignee: Option<String>,
    /// An evaluation id, or text the comment contains.
    pub text: Option<String>,
    /// `bad_rating` (差评工单) or `visit_finding` (暗访发现问题).
    pub kind: Option<String>,
    /// Page size (default 50, at most 500).
    pub limit: Option<i64>,
    /// Rows to skip.
    pub offset: Option<i64>,
}

/// One page of the inbox and the number of cases matching.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "CasePage.ts")]
pub struct CasePage {
    /// The rows, soonest deadline first.
    pub rows: Vec<CaseListRow>,
    /// All matching cases.
    pub total: i64,
}

/// Cases per state, with how many of them are in warning or overdue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "CaseStateCount.ts")]
pub struct CaseStateCount {
    /// State (storage name).
    pub state: String,
    /// Cases.
    pub total: i64,
    /// Of which 超期预警.
    pub warning: i64,
    /// Of which 超期.
    pub overdue: i64,
}

/// One step on a case's timeline (an audit row).
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "CaseEvent.ts")]
pub struct CaseEvent {
    /// Audit position.
    pub seq: i64,
    /// When it was recorded here (UTC).
    pub at: String,
    /// When it happened, if that differs from the recording (UTC): the hall's
    /// time for its records, the officer's for an action recorded later.
    pub acted_at: Option<String>,
    /// Who.
    pub actor: String,
    /// officer | director | shopper | hall | system.
    pub role: String,
    /// What happened (storage name, e.g. `verify`).
    pub action: String,
    /// State before.
    pub from_state: Option<String>,
    /// State after.
    pub to_state: Option<String>,
    /// 说明 in zh-CN, ready to show.
    pub summary: String,
    /// The note, opinion or reason given.
    pub note: Option<String>,
    /// sha256 of what was signed (the record decided on), if any.
    pub signed_sha256: Option<String>,
}

/// A decision for a hall and how its delivery stands.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "OutboxRow.ts")]
pub struct OutboxRow {
    /// Outbox position.
    pub seq: i64,
    /// The UUID the hall sees.
    pub id: String,
    /// 大厅编码.
    pub hall_id: String,
    /// The case, if any.
    pub case_id: Option<i64>,
    /// Decision kind.
    pub kind: String,
    /// pending | delivered | rejected.
    pub state: String,
    /// Sending attempts.
    pub attempts: i64,
    /// The last failure to deliver.
    pub last_error: Option<String>,
    /// The hall's reason for rejecting it.
    pub reason: Option<String>,
    /// Written (UTC).
    pub created_at: String,
    /// Delivered or rejected (UTC).
    pub settled_at: Option<String>,
}

/// A deadline as shown on a case.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "CaseDeadline.ts")]
pub struct CaseDeadline {
    /// What it is for (zh-CN), e.g. 整改反馈.
    pub label: String,
    /// Its last day (Beijing date).
    pub last_day: String,
    /// The instant it ends (UTC).
    pub due_at: String,
    /// Working days left after today (negative: overdue by).
    pub working_days_left: i64,
    /// on_time | warning | overdue.
    #[ts(type = "\"on_time\" | \"warning\" | \"overdue\"")]
    pub urgency: Urgency,
    /// Rests on the Monday–Friday fallback: a year without official data.
    pub estimated: bool,
}

/// Everything the case page shows.
#[derive(Debug, Clone, PartialEq, Serialize, ts_rs::TS)]
#[ts(export_to = "CaseDetail.ts")]
pub struct CaseDetail {
    /// The inbox line.
    pub case: CaseListRow,
    /// 中文 state name.
    pub state_label: String,
    /// The bad rating (without the evaluator's ID hash).
    pub evaluation: Option<EvaluationRow>,
    /// The hall's appeals and rectifications on it.
    pub follow_ups: Vec<FollowUp>,
    /// The deadline that governs the case now.
    pub deadline: Option<CaseDeadline>,
    /// Rectifications returned so far.
    pub returns: u32,
    /// Reopened after a dissatisfied callback.
    pub reopened: bool,
    /// Unreachable callback attempts.
    pub unreachable_attempts: u32,
    /// 协办部门.
    pub co_departments: Vec<String>,
    /// The month it is a 典型案例 of, if picked.
    pub typical_month: Option<String>,
    /// Every step, oldest first.
    pub timeline: Vec<CaseEvent>,
    /// Decisions for the hall and their delivery.
    pub decisions: Vec<OutboxRow>,
    /// What the viewer may do now (hcp-core decides; the page only renders it).
    pub allowed_actions: Vec<AllowedAction>,
}

/// An action the case page offers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "AllowedAction.ts")]
pub struct AllowedAction {
    /// verify | accept | return | decideAppeal | callback | transfer | assign | close |
    /// findingRectified.
    pub key: String,
    /// 中文名 (the button).
    pub label: String,
    /// What the required text box is for (核实说明, 退回意见, …), if the action needs one.
    pub text_label: Option<String>,
    /// The state's main step (assign and transfer are secondary).
    pub primary: bool,
}

/// A case picked as a 典型案例.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "TypicalCase.ts")]
pub struct TypicalCase {
    /// 工单号.
    pub case_id: i64,
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub hall_name: Option<String>,
    /// The rating.
    pub evaluation_id: String,
    /// Its comment.
    pub comment: Option<String>,
    /// State (storage name).
    pub state: String,
    /// Who picked it.
    pub added_by: String,
}

/// What an action did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "CaseChange.ts")]
pub struct CaseChange {
    /// 工单号.
    pub case_id: i64,
    /// State before.
    pub from_state: String,
    /// State after.
    pub to_state: String,
    /// The case's new version.
    pub version: i64,
    /// Decisions queued for the hall.
    pub decisions_queued: u32,
}

/// How one hall's decisions stand.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "OutboxSummary.ts")]
pub struct OutboxSummary {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称 (none when the hall was removed).
    pub hall_name: Option<String>,
    /// Waiting to be delivered.
    pub pending: i64,
    /// Delivered (accepted or duplicate).
    pub delivered: i64,
    /// Rejected by the hall.
    pub rejected: i64,
    /// The last failure to deliver, while some are pending.
    pub last_error: Option<String>,
}

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

/// Writes a transition as hcp-core decided it: the case row, one audit row, the
/// decisions for the hall and the side effects. Decides nothing itself; it only
/// finds the records the transition refers to.
fn write_transition(
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
    let wants = |kind: RefersTo, signs: Signs| {
        t.signs == signs || t.decisions.iter().any(|d| d.refers_to == kind)
    };
    let (hall_id, evaluation_id) = (&stored.hall_id, &stored.evaluation_id);
    let rectification = if wants(RefersTo::LatestRectification, Signs::LatestRectification) {
        latest_follow_up(tx, "rectifications", hall_id, evaluation_id)?
    } else {
        None
    };
    let appeal = if wants(RefersTo::LatestAppeal, Signs::LatestAppeal) {
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
        Signs::Evaluation => tx
            .prepare_cached("SELECT raw_json FROM evaluations WHERE hall_id = ?1 AND id = ?2")?
            .query_row([hall_id, evaluation_id], |r| r.get::<_, String>(0))
            .optional()?
            .as_deref()
            .map(sha256_hex),
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
    append_in(
        tx,
        &AuditEntry {
            actor: who.name,
            role: who.actor.as_str(),
            subject: &format!("case:{}", stored.case_id),
            action: t.event,
            detail: &detail.to_string(),
        },
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
                    append_in(
                        tx,
                        &AuditEntry {
                            actor: who.name,
                            role: who.actor.as_str(),
                            subject: &format!("case:{}", stored.case_id),
                            action: "evaluator_marked_malicious",
                            detail: &json!({
                                "summary": "评价人被标记为恶意评价人员，其后续差评将提示甄别",
                                "evaluation_id": stored.evaluation_id, "hall_id": stored.hall_id,
                            })
                            .to_string(),
                        },
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
    })
}

fn queue_decision(
    tx: &Transaction<'_>,
    stored: &StoredCase,
    d: &DecisionOut,
    ref_id: Option<String>,
    who: Who<'_>,
    at: DateTime<FixedOffset>,
) -> Result<bool> {
    if stored.kind != "bad_rating" {
        // hall-api decisions are about evaluations; a visit finding has none.
        return Ok(false);
    }
    let source: Option<String> = tx
        .prepare_cached("SELECT source FROM halls WHERE hall_id = ?1")?
        .query_row([&stored.hall_id], |r| r.get(0))
        .optional()?;
    if source.as_deref().is_some_and(|s| s != "api") {
        // A hall known from spreadsheet exports has no server to tell.
        return Ok(false);
    }
    let decision = Decision {
        id: uuid::Uuid::new_v4().to_string(),
        kind: d.kind.to_owned(),
        evaluation_id: stored.evaluation_id.clone(),
        ref_id,
        outcome: d.outcome.map(str::to_owned),
        note: d.note.clone(),
        decided_at: beijing_now(at),
        officer: who.name.to_owned(),
    };
    tx.prepare_cached(
        "INSERT INTO outbox (id, hall_id, case_id, kind, body, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute(params![
        decision.id,
        stored.hall_id,
        stored.case_id,
        decision.kind,
        to_json(&decision)?,
        now_text()
    ])?;
    Ok(true)
}

/// The latest appeal or rectification on an evaluation: (id, raw_json).
fn latest_follow_up(
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

fn open_case(
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
    for table in ["appeals", "rectifications"] {
        let mut stmt = tx.prepare_cached(&format!(
            "SELECT raw_json FROM {table} WHERE hall_id = ?1 AND evaluation_id = ?2 ORDER BY seq"
        ))?;
        let raws: Vec<String> = stmt
            .query_map([e.hall_id, e.evaluation_id], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        for raw in raws {
            let kind = if table == "appeals" {
                HallRecord::Appeal
            } else {
                HallRecord::Rectification
            };
            if let Some(rec) = parse_follow_up(kind, &raw) {
                on_hall_record(tx, rules, e.hall_id, &rec, &raw)?;
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum HallRecord {
    Appeal,
    Rectification,
}

/// An appeal or rectification from the feed, as the case engine sees it.
pub(crate) struct FollowUpRecord {
    pub evaluation_id: String,
    pub id: String,
    pub rev: i64,
    pub at: DateTime<FixedOffset>,
    /// Appeals: the ground. Rectifications: `None`.
    pub ground: Option<String>,
    pub by: String,
}

fn parse_follow_up(kind: HallRecord, raw: &str) -> Option<FollowUpRecord> {
    match kind {
        HallRecord::Appeal => {
            let a: hcp_core::wire::Appeal = serde_json::from_str(raw).ok()?;
            Some(FollowUpRecord {
                evaluation_id: a.evaluation_id,
                id: a.id,
                rev: a.rev,
                at: a.filed_at,
                ground: Some(a.ground),
                by: a.filed_by,
            })
        }
        HallRecord::Rectification => {
            let r: hcp_core::wire::Rectification = serde_json::from_str(raw).ok()?;
            Some(FollowUpRecord {
                evaluation_id: r.evaluation_id,
                id: r.id,
                rev: r.rev,
                at: r.submitted_at,
                ground: None,
                by: r.responsible,
            })
        }
    }
}

/// Applies a hall's appeal (`ground` set) or rectification to its case, inside the
/// feed's transaction. Called only for new records or higher revs.
pub(crate) fn on_hall_record(
    tx: &Transaction<'_>,
    rules: &CaseRules,
    hall_id: &str,
    rec: &FollowUpRecord,
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
    let action = match &rec.ground {
        Some(ground) => Action::AppealFiled {
            id: rec.id.clone(),
            ground: ground.clone(),
            by: rec.by.clone(),
        },
        None => Action::RectificationSubmitted {
            id: rec.id.clone(),
            rev: rec.rev,
            by: rec.by.clone(),
        },
    };
    let hall = Who {
        name: hall_id,
        actor: Actor::Hall,
    };
    let policy = rules.policy(hall_id);
    match stored
        .case
        .apply(&action, Actor::Hall, rec.at, &rules.calendar, &policy)
    {
        Ok(t) if t.case == stored.case => {}
        Ok(t) => {
            write_transition(tx, rules, &stored, &t, hall, Some(raw), rec.at)?;
        }
        Err(refused) => {
            // Kept on the timeline so the officer sees what the hall tried.
            let summary = hcp_core::case::hall_record_summary(&action).unwrap_or_default();
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

/// Moves an evaluation out of every figure (申诉成立) inside `tx`.
fn exclude_evaluation(tx: &Transaction<'_>, hall_id: &str, evaluation_id: &str) -> Result<()> {
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

/// Marks the evaluator of an upheld malicious appeal and flags their open cases.
fn mark_malicious(tx: &Transaction<'_>, stored: &StoredCase) -> Result<Option<String>> {
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
    tx.prepare_cached(
        "UPDATE cases SET flagged_malicious = 1
         WHERE flagged_malicious = 0 AND case_id IN (
            SELECT c.case_id FROM evaluations e JOIN cases c
              ON c.hall_id = e.hall_id AND c.evaluation_id = e.id
            WHERE e.evaluator_id_hash = ?1 AND e.level <= ?2
              AND c.state NOT IN ('closed', 'closed_escalated', 'closed_appealed', 'closed_revised'))",
    )?
    .execute(params![hash, hcp_core::rating::BAD_LEVEL_MAX])?;
    Ok(Some(hash))
}

const LIST_COLUMNS: &str =
    "c.case_id, c.hall_id, h.name, c.evaluation_id, c.kind, c.state, e.level,
    e.channel, e.item_name, e.window_no, e.comment, c.evaluated_at, c.due_at, c.due_estimated,
    CASE WHEN c.due_at IS NULL THEN NULL WHEN c.due_at < ?1 THEN 'overdue'
         WHEN c.warn_at <= ?1 THEN 'warning' ELSE 'on_time' END,
    c.flagged_malicious, c.lead_department, c.assignee, c.rejection, c.updated_at, c.version";

const LIST_FROM: &str = "cases c
    LEFT JOIN evaluations e ON e.hall_id = c.hall_id AND e.id = c.evaluation_id
    LEFT JOIN halls h ON h.hall_id = c.hall_id";

fn list_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseListRow> {
    let urgency: Option<String> = r.get(14)?;
    Ok(CaseListRow {
        case_id: r.get(0)?,
        hall_id: r.get(1)?,
        hall_name: r.get(2)?,
        evaluation_id: r.get(3)?,
        kind: r.get(4)?,
        state: r.get(5)?,
        level: r.get(6)?,
        channel: r.get(7)?,
        item_name: r.get(8)?,
        window_no: r.get(9)?,
        comment: r.get(10)?,
        evaluated_at: r.get(11)?,
        due_at: r.get(12)?,
        due_estimated: r.get(13)?,
        urgency: urgency.as_deref().map(|u| match u {
            "overdue" => Urgency::Overdue,
            "warning" => Urgency::Warning,
            _ => Urgency::OnTime,
        }),
        flagged_malicious: r.get(15)?,
        lead_department: r.get(16)?,
        assignee: r.get(17)?,
        rejection: r.get(18)?,
        updated_at: r.get(19)?,
        version: r.get(20)?,
    })
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
        append_in(
            &tx,
            &AuditEntry {
                actor: who.name,
                role: who.actor.as_str(),
                subject: "calendar",
                action: "calendar_imported",
                detail: &json!({ "year": year, "sha256": sha256_hex(json) }).to_string(),
            },
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
        append_in(
            &tx,
            &AuditEntry {
                actor: who.name,
                role: who.actor.as_str(),
                subject: hall_id
                    .map_or("policy:default".to_string(), |h| format!("policy:{h}"))
                    .as_str(),
                action: "deadline_policy_set",
                detail: &value,
            },
        )?;
        recompute_deadlines(&tx)?;
        tx.commit()?;
        Ok(())
    }

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
                append_in(
                    &tx,
                    &AuditEntry {
                        actor: who.name,
                        role: who.actor.as_str(),
                        subject: &format!("case:{id}"),
                        action: "assignee_set",
                        detail: &json!({
                            "from": state, "to": state,
                            "summary": format!("分派承办人：{assignee}"),
                        })
                        .to_string(),
                    },
                )?;
                n += 1;
            }
        }
        tx.commit()?;
        Ok(n)
    }

    /// A page of the inbox, soonest deadline first (cases without one last).
    pub fn list_cases(&self, f: &CaseFilter, now: DateTime<Utc>) -> Result<CasePage> {
        let now = utc_text(now);
        // ?1 is "now" (for the urgency); every statement names it.
        let mut sql_where = String::from("?1 IS NOT NULL");
        let mut values: Vec<Value> = vec![Value::Text(now)];
        if !f.states.is_empty() {
            let marks: Vec<String> = f
                .states
                .iter()
                .map(|s| {
                    values.push(Value::Text(s.clone()));
                    format!("?{}", values.len())
                })
                .collect();
            sql_where.push_str(&format!(" AND c.state IN ({})", marks.join(", ")));
        }
        if let Some(h) = &f.hall_id {
            values.push(Value::Text(h.clone()));
            sql_where.push_str(&format!(" AND c.hall_id = ?{}", values.len()));
        }
        match f.urgency.as_deref() {
            Some("overdue") => sql_where.push_str(" AND c.due_at < ?1"),
            Some("warning") => sql_where.push_str(" AND c.warn_at <= ?1"),
            Some("soon") => sql_where.push_str(" AND c.warn_at <= ?1 AND c.due_at >= ?1"),
            _ => {}
        }
        if f.flagged_only {
            sql_where.push_str(" AND c.flagged_malicious = 1");
        }
        if let Some(k) = &f.kind {
            values.push(Value::Text(k.clone()));
            sql_where.push_str(&format!(" AND c.kind = ?{}", values.len()));
        }
        if let Some(a) = &f.assignee {
            values.push(Value::Text(a.clone()));
            sql_where.push_str(&format!(" AND c.assignee = ?{}", values.len()));
        }
        if let Some(text) = f.text.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            values.push(Value::Text(text.to_owned()));
            let id = values.len();
            let escaped = text
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            values.push(Value::Text(format!("%{escaped}%")));
            sql_where.push_str(&format!(
                " AND (c.evaluation_id = ?{id} OR e.comment LIKE ?{} ESCAPE '\\')",
                id + 1
            ));
        }
        let total: i64 = self
            .conn
            .prepare_cached(&format!(
                "SELECT count(*) FROM {LIST_FROM} WHERE {sql_where}"
            ))?
            .query_row(params_from_iter(values.iter()), |r| r.get(0))?;
        let limit = f.limit.unwrap_or(50).clamp(1, 500);
        let offset = f.offset.unwrap_or(0).max(0);
        values.push(Value::Integer(limit));
        values.push(Value::Integer(offset));
        let n = values.len();
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE {sql_where}
             ORDER BY c.due_at IS NULL, c.due_at, c.case_id LIMIT ?{} OFFSET ?{n}",
            n - 1
        ))?;
        let rows = stmt
            .query_map(params_from_iter(values.iter()), list_row)?
            .collect::<rusqlite::Result<_>>()?;
        Ok(CasePage { rows, total })
    }

    /// Cases per state (all halls or one), with warnings and overdue counts.
    pub fn case_counts(
        &self,
        hall_id: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<CaseStateCount>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT state, count(*), sum(warn_at <= ?2 AND due_at >= ?2), sum(due_at < ?2)
             FROM cases WHERE (?1 IS NULL OR hall_id = ?1) GROUP BY state",
        )?;
        let rows = stmt.query_map(params![hall_id, utc_text(now)], |r| {
            Ok(CaseStateCount {
                state: r.get(0)?,
                total: r.get(1)?,
                warning: r.get::<_, Option<i64>>(2)?.unwrap_or(0),
                overdue: r.get::<_, Option<i64>>(3)?.unwrap_or(0),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// A case with its evaluation, the hall's records, deadline, timeline and
    /// decisions.
    pub fn case_detail(&self, case_id: i64, now: DateTime<Utc>) -> Result<CaseDetail> {
        self.case_detail_for(case_id, now, Actor::Officer)
    }

    /// A case's page as `viewer` sees it (the actions offered follow the role).
    pub fn case_detail_for(
        &self,
        case_id: i64,
        now: DateTime<Utc>,
        viewer: Actor,
    ) -> Result<CaseDetail> {
        let row = self
            .conn
            .prepare_cached(&format!(
                "SELECT {LIST_COLUMNS} FROM {LIST_FROM} WHERE c.case_id = ?2"
            ))?
            .query_row(params![utc_text(now), case_id], list_row)
            .optional()?
            .ok_or(StoreError::UnknownCase(case_id))?;
        let stored = load_case(&self.conn, "case_id = ?1", &[&case_id])?
            .ok_or(StoreError::UnknownCase(case_id))?;
        let rules = load_rules(&self.conn)?;
        let policy = rules.policy(&row.hall_id);
        let deadline = stored
            .case
            .current_deadline(&rules.calendar, &policy)
            .map(|d| {
                let now_b = now.with_timezone(&beijing()).fixed_offset();
                let today = now_b.date_naive();
                let left = if today <= d.last_day {
                    rules.calendar.working_days_between(today, d.last_day).value
                } else {
                    -rules.calendar.working_days_between(d.last_day, today).value
                };
                CaseDeadline {
                    label: deadline_label(stored.case.state).into(),
                    last_day: d.last_day.format("%Y-%m-%d").to_string(),
                    due_at: utc_text(d.due_at.with_timezone(&Utc)),
                    working_days_left: left,
                    urgency: hcp_core::case::urgency_of(
                        &d,
                        now_b,
                        &rules.calendar,
                        policy.warn_before,
                    ),
                    estimated: d.estimated,
                }
            });
        let evaluation = self
            .conn
            .prepare_cached(&format!(
                "SELECT {EVALUATION_COLUMNS} FROM evaluations WHERE hall_id = ?1 AND id = ?2"
            ))?
            .query_row([&row.hall_id, &row.evaluation_id], evaluation_from_row)
            .optional()?;
        let follow_ups = self.follow_ups(&row.hall_id, &row.evaluation_id)?;
        let timeline = self.case_timeline(case_id)?;
        let decisions = self.outbox_rows(Some(case_id), 200)?;
        Ok(CaseDetail {
            state_label: CaseState::parse(&row.state)
                .map_or(row.state.clone(), |s| s.label_zh().to_string()),
            case: row,
            evaluation,
            follow_ups,
            deadline,
            returns: stored.case.returns,
            reopened: stored.case.reopened,
            unreachable_attempts: stored.case.unreachable_attempts,
            co_departments: stored.case.co_departments.clone(),
            typical_month: self
                .conn
                .prepare_cached("SELECT month FROM typical_cases WHERE case_id = ?1 LIMIT 1")?
                .query_row([case_id], |r| r.get(0))
                .optional()?,
            timeline,
            decisions,
            allowed_actions: stored
                .case
                .allowed_actions(viewer)
                .into_iter()
                .map(|k| AllowedAction {
                    key: k.key().to_owned(),
                    label: k.label_zh().to_owned(),
                    text_label: k.text_needed().map(str::to_owned),
                    primary: k.is_primary(),
                })
                .collect(),
        })
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
            append_in(
                &tx,
                &AuditEntry {
                    actor: who.name,
                    role: who.actor.as_str(),
                    subject: &format!("case:{case_id}"),
                    action: if typical {
                        "typical_added"
                    } else {
                        "typical_removed"
                    },
                    detail: &json!({
                        "summary": if typical {
                            format!("选为 {month} 典型案例")
                        } else {
                            format!("不再作为 {month} 典型案例")
                        },
                        "month": month,
                    })
                    .to_string(),
                },
            )?;
        }
        tx.commit()?;
        Ok(month)
    }

    /// The month's 典型案例 (of one hall, or all), in the order they were picked.
    pub fn typical_cases(&self, month: &str, hall_id: Option<&str>) -> Result<Vec<TypicalCase>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t.case_id, c.hall_id, h.name, c.evaluation_id, e.comment, c.state, t.added_by
             FROM typical_cases t JOIN cases c ON c.case_id = t.case_id
             LEFT JOIN halls h ON h.hall_id = c.hall_id
             LEFT JOIN evaluations e ON e.hall_id = c.hall_id AND e.id = c.evaluation_id
             WHERE t.month = ?1 AND (?2 IS NULL OR c.hall_id = ?2)
             ORDER BY t.added_at, t.case_id",
        )?;
        let rows = stmt.query_map(params![month, hall_id], |r| {
            Ok(TypicalCase {
                case_id: r.get(0)?,
                hall_id: r.get(1)?,
                hall_name: r.get(2)?,
                evaluation_id: r.get(3)?,
                comment: r.get(4)?,
                state: r.get(5)?,
                added_by: r.get(6)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Every step of a case, oldest first.
    pub fn case_timeline(&self, case_id: i64) -> Result<Vec<CaseEvent>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT seq, at, actor, role, action, detail FROM audit_log
             WHERE subject = ?1 ORDER BY seq",
        )?;
        let rows = stmt.query_map([format!("case:{case_id}")], |r| {
            let detail: String = r.get(5)?;
            let d: serde_json::Value = serde_json::from_str(&detail).unwrap_or_default();
            let text = |k: &str| d.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            Ok(CaseEvent {
                seq: r.get(0)?,
                at: r.get(1)?,
                acted_at: text("acted_at"),
                actor: r.get(2)?,
                role: r.get(3)?,
                action: r.get(4)?,
                from_state: text("from"),
                to_state: text("to"),
                summary: text("summary").unwrap_or_default(),
                note: text("note"),
                signed_sha256: text("signed_sha256"),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

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

    /// Evaluator ID hashes marked malicious.
    pub fn malicious_marks(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, evaluation_id, marked_at FROM malicious_marks ORDER BY marked_at",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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

fn deadline_label(s: CaseState) -> &'static str {
    match s {
        CaseState::Open => "核实时限",
        CaseState::Rectifying | CaseState::AwaitingSignoff => "整改反馈时限",
        CaseState::UnderAppeal => "申诉复核时限",
        CaseState::AppealWindow => "申诉提出时限",
        CaseState::Explained | CaseState::AwaitingCallback => "回访办结时限",
        _ => "",
    }
}

/// Recomputes the deadline columns of every case not closed (after the calendar
/// or a policy changed).
fn recompute_deadlines(tx: &Transaction<'_>) -> Result<()> {
    let rules = load_rules(tx)?;
    let mut read = tx.prepare(
        "SELECT case_id, hall_id, body FROM cases
         WHERE state NOT IN ('closed', 'closed_escalated', 'closed_appealed', 'closed_revised')",
    )?;
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
    append_in(
        tx,
        &AuditEntry {
            actor: who.name,
            role: who.actor.as_str(),
            subject: &format!("case:{case_id}"),
            action: "finding_opened",
            detail: &detail.to_string(),
        },
    )?;
    Ok(Some(case_id))
}
