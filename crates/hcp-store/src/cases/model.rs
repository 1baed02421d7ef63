//! What the store hands out about cases: the inbox rows and filters, one case's
//! page, the outbox, the result of an action. Plain data; the queries that fill
//! them are in the sibling modules.

use hcp_core::case::Urgency;
use serde::Serialize;

use crate::FollowUp;
use crate::queries::EvaluationRow;

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
    /// In hub mode, the case's version on the hub after this step (the hub's
    /// timeline); a refused action's rival steps are those past its version.
    pub hub_version: Option<i64>,
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
    /// The rule it follows (「自评价之日起 5 个工作日内整改反馈」).
    pub rule: String,
    /// Working days the office verified after its own 核实时限 while this
    /// deadline still runs from the evaluation: that part is not the hall's.
    pub office_delay: Option<i64>,
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
    /// In hub mode: this desk's actions on the case waiting for the office hub
    /// (待发送) or answered by it (a rejection with its reason), newest first.
    pub queued: Vec<super::QueuedAction>,
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
    /// In hub mode: the id the action waits under for the office hub (待发送); the
    /// case changes once the hub has accepted it.
    pub queued_for_hub: Option<String>,
}
