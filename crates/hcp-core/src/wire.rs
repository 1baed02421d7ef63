//! hall-api v1 wire types (see `shared/hall-api/v1.md`).
//!
//! One definition used by both the console's client and the reference server.
//! Field names are exactly the API's; unknown fields are ignored on input so that
//! servers can add fields without breaking the console.

use chrono::{DateTime, FixedOffset};
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

/// `GET v1/hall`: the hall's profile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HallProfile {
    /// 大厅编码, unique across all halls.
    pub hall_id: String,
    /// 大厅名称.
    pub name: String,
    /// 行政区划代码 (GB/T 2260).
    pub region_code: String,
    /// province | city | county | township | village.
    pub level: String,
    /// Grows whenever anything in the profile changes.
    pub profile_rev: i64,
    /// 部门.
    #[serde(default)]
    pub departments: Vec<Department>,
    /// 窗口.
    #[serde(default)]
    pub windows: Vec<Window>,
    /// 工作人员.
    #[serde(default)]
    pub staff: Vec<Staff>,
    /// 政务服务事项.
    #[serde(default)]
    pub items: Vec<ServiceItem>,
}

/// A department (部门) of a hall.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Department {
    /// 统一社会信用代码.
    pub code: String,
    /// 部门名称.
    pub name: String,
}

/// A service window (窗口).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    /// 窗口号.
    pub no: String,
    /// 窗口名称.
    pub name: String,
    /// The department staffing the window.
    #[serde(default)]
    pub department_code: Option<String>,
}

/// A member of staff (工作人员).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Staff {
    /// 工号.
    pub no: String,
    /// 姓名.
    pub name: String,
    /// The window the person usually sits at.
    #[serde(default)]
    pub window_no: Option<String>,
    /// The person's department.
    #[serde(default)]
    pub department_code: Option<String>,
}

/// A government service item (政务服务事项).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceItem {
    /// 事项编码.
    pub code: String,
    /// 事项名称.
    pub name: String,
    /// The department that handles the item.
    #[serde(default)]
    pub department_code: Option<String>,
}

/// `GET v1/changes` answer as the client reads it: records stay raw until validated,
/// so one bad record can be quarantined without losing the page.
#[derive(Debug, Deserialize)]
pub struct ChangesPage<'a> {
    /// The changes, in `seq` order.
    #[serde(borrow)]
    pub changes: Vec<&'a RawValue>,
    /// Cursor for the next request; kept only once the page is stored.
    pub next: String,
    /// `false` means caught up for now.
    pub more: bool,
}

/// The envelope of one change, as the client first reads it.
#[derive(Debug, Deserialize)]
pub struct RawChange<'a> {
    /// Feed order.
    pub seq: i64,
    /// evaluation | appeal | rectification | profile | (future kinds).
    pub kind: String,
    /// The record itself.
    #[serde(borrow)]
    pub data: &'a RawValue,
}

/// The evaluator as the hall discloses them: masked or hashed, never in clear.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct Evaluator {
    /// 实名评价.
    #[serde(default)]
    pub real_name: bool,
    /// e.g. `李*`.
    #[serde(default)]
    pub name_masked: Option<String>,
    /// e.g. `138****5521`.
    #[serde(default)]
    pub phone_masked: Option<String>,
    /// sha256 hex of the ID-card number, salted per province; null if anonymous.
    #[serde(default)]
    pub id_hash: Option<String>,
}

/// Status of an evaluation's latest revision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EvaluationStatus {
    /// 有效.
    Valid,
    /// 已改评.
    Revised,
    /// 已撤评: does not count at all.
    Withdrawn,
}

impl EvaluationStatus {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Revised => "revised",
            Self::Withdrawn => "withdrawn",
        }
    }

    /// Parses the wire spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "valid" => Some(Self::Valid),
            "revised" => Some(Self::Revised),
            "withdrawn" => Some(Self::Withdrawn),
            _ => None,
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            Self::Valid => "有效",
            Self::Revised => "已改评",
            Self::Withdrawn => "已撤评",
        }
    }
}

/// `kind = evaluation` (评价). Key: (hall_id, id).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evaluation {
    /// 评价编号, unique within the hall only.
    pub id: String,
    /// Revision; the highest seen wins.
    pub rev: i64,
    /// 大厅编码.
    pub hall_id: String,
    /// 办件编号; null for a pure consultation.
    #[serde(default)]
    pub serial_no: Option<String>,
    /// 事项编码; may be unknown to the profile.
    #[serde(default)]
    pub item_code: Option<String>,
    /// 事项名称.
    #[serde(default)]
    pub item_name: Option<String>,
    /// 部门编码.
    #[serde(default)]
    pub department_code: Option<String>,
    /// 窗口号; null for online channels.
    #[serde(default)]
    pub window_no: Option<String>,
    /// 工号; null when not tied to a person.
    #[serde(default)]
    pub staff_no: Option<String>,
    /// 评价渠道 (wire spelling; unknown channels are kept as sent).
    pub channel: String,
    /// 1..5.
    pub level: u8,
    /// 差评原因 tags; unknown tags are kept.
    #[serde(default)]
    pub reasons: Vec<String>,
    /// Free text, up to 2000 characters.
    #[serde(default)]
    pub comment: String,
    /// 办理时间.
    #[serde(default)]
    pub served_at: Option<DateTime<FixedOffset>>,
    /// 评价时间.
    pub evaluated_at: DateTime<FixedOffset>,
    /// The evaluator, masked.
    #[serde(default)]
    pub evaluator: Evaluator,
    /// valid | revised | withdrawn.
    pub status: EvaluationStatus,
}

/// An attachment reference (bytes via `GET v1/attachments/{sha256}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attachment {
    /// File name as the hall gave it.
    pub name: String,
    /// sha256 hex of the bytes.
    pub sha256: String,
    /// Size in bytes.
    #[serde(default)]
    pub size: u64,
}

/// `kind = appeal` (申诉), filed by the hall against a bad rating.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Appeal {
    /// 申诉编号.
    pub id: String,
    /// Revision.
    pub rev: i64,
    /// 大厅编码.
    pub hall_id: String,
    /// The evaluation appealed against.
    pub evaluation_id: String,
    /// 申诉时间.
    pub filed_at: DateTime<FixedOffset>,
    /// Who filed it.
    #[serde(default)]
    pub filed_by: String,
    /// misdirected | malicious | duplicate | system_error | other (others kept).
    pub ground: String,
    /// 申诉理由.
    #[serde(default)]
    pub statement: String,
    /// Evidence.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// `kind = rectification` (整改报告).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rectification {
    /// 整改编号.
    pub id: String,
    /// Revision; a higher one is a resubmission.
    pub rev: i64,
    /// 大厅编码.
    pub hall_id: String,
    /// The evaluation rectified.
    pub evaluation_id: String,
    /// 提交时间.
    pub submitted_at: DateTime<FixedOffset>,
    /// 责任人.
    #[serde(default)]
    pub responsible: String,
    /// 整改措施.
    #[serde(default)]
    pub measures: String,
    /// Evidence.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
}

/// `kind = profile`: the profile changed; fetch `v1/hall` again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProfileChanged {
    /// The new profile revision.
    pub profile_rev: i64,
}

/// One decision pushed back to the hall (`POST v1/decisions`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// Client-made UUID: the idempotency key.
    pub id: String,
    /// appeal_verdict | rectification_accepted | rectification_returned | callback |
    /// case_opened | case_closed.
    pub kind: String,
    /// The evaluation concerned.
    pub evaluation_id: String,
    /// The appeal or rectification decided on, if any.
    #[serde(default)]
    pub ref_id: Option<String>,
    /// Kind-specific outcome.
    #[serde(default)]
    pub outcome: Option<String>,
    /// The officer's note.
    #[serde(default)]
    pub note: String,
    /// When decided.
    pub decided_at: DateTime<FixedOffset>,
    /// Who decided.
    #[serde(default)]
    pub officer: String,
}

/// Body of `POST v1/decisions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionsRequest {
    /// At most 500.
    pub decisions: Vec<Decision>,
}

/// The hall's answer for one decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    /// Taken.
    Accepted,
    /// Already had it: delivered.
    Duplicate,
    /// Refused, with a reason; not retried.
    Rejected,
}

/// One result of `POST v1/decisions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionResult {
    /// The decision's id.
    pub id: String,
    /// accepted | duplicate | rejected.
    pub status: DecisionStatus,
    /// Why it was rejected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// Answer of `POST v1/decisions`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecisionsResponse {
    /// One per decision, in order.
    pub results: Vec<DecisionResult>,
}

/// RFC 9457 problem details (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Problem {
    /// A URI naming the problem type.
    #[serde(rename = "type", default)]
    pub type_: String,
    /// Short summary.
    #[serde(default)]
    pub title: String,
    /// HTTP status.
    #[serde(default)]
    pub status: u16,
    /// Human-readable detail.
    #[serde(default)]
    pub detail: String,
}

/// Largest `limit` a server must honour on `v1/changes`.
pub const MAX_PAGE_LIMIT: u32 = 5000;
/// Default `limit` on `v1/changes`.
pub const DEFAULT_PAGE_LIMIT: u32 = 1000;
/// At most this many decisions per `POST v1/decisions`.
pub const MAX_DECISIONS_PER_REQUEST: usize = 500;
/// Longest comment allowed, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;
