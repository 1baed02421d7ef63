//! Reading cases: the inbox, counts, one case with its timeline, typical cases.

use chrono::{DateTime, Utc};
use hcp_core::case::{Actor, CaseState, Urgency};
use hcp_core::metrics::beijing;
use rusqlite::types::Value;
use rusqlite::{OptionalExtension, params, params_from_iter};
use serde::Serialize;

use crate::queries::{EVALUATION_COLUMNS, EvaluationRow, evaluation_from_row};
use crate::{FollowUp, Result, Store, StoreError, utc_text};

use super::*;

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

pub(super) const LIST_COLUMNS: &str =
    "c.case_id, c.hall_id, h.name, c.evaluation_id, c.kind, c.state, e.level,
    e.channel, e.item_name, e.window_no, e.comment, c.evaluated_at, c.due_at, c.due_estimated,
    CASE WHEN c.due_at IS NULL THEN NULL WHEN c.due_at < ?1 THEN 'overdue'
         WHEN c.warn_at <= ?1 THEN 'warning' ELSE 'on_time' END,
    c.flagged_malicious, c.lead_department, c.assignee, c.rejection, c.updated_at, c.version";

pub(super) const LIST_FROM: &str = "cases c
    LEFT JOIN evaluations e ON e.hall_id = c.hall_id AND e.id = c.evaluation_id
    LEFT JOIN halls h ON h.hall_id = c.hall_id";

pub(super) fn list_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CaseListRow> {
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

pub(super) fn deadline_label(s: CaseState) -> &'static str {
    match s {
        CaseState::Open => "核实时限",
        CaseState::Rectifying | CaseState::AwaitingSignoff => "整改反馈时限",
        CaseState::UnderAppeal => "申诉复核时限",
        CaseState::AppealWindow => "申诉提出时限",
        CaseState::Explained | CaseState::AwaitingCallback => "回访办结时限",
        _ => "",
    }
}

impl Store {
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

    /// Evaluator ID hashes marked malicious.
    pub fn malicious_marks(&self) -> Result<Vec<(String, String, String)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hall_id, evaluation_id, marked_at FROM malicious_marks ORDER BY marked_at",
        )?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}
