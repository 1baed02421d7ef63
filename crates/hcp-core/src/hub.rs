//! What the office hub and a desktop replica say to each other about cases (the
//! hub's API beside hall-api v1): the office case feed's pages and the batches of
//! officers' actions with their answers. Shared so both ends use one definition.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::case::{Action, Case};

/// One action from a desktop.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ActionRequest {
    /// The desktop's UUID for it: the idempotency key.
    pub id: String,
    /// The case.
    pub case_id: i64,
    /// The case version the officer acted on.
    pub expected_version: i64,
    /// What the officer did.
    pub action: Action,
}

/// How the hub answered one action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionResult {
    /// The action's id.
    pub id: String,
    /// `accepted`, `duplicate` (already accepted before) or `rejected`.
    pub status: String,
    /// For `rejected`: `conflict`, `forbidden` or `invalid`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Why, zh-CN.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// The case's version now (after it, when accepted).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<i64>,
    /// The case's state now.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
}

/// One row of a case's timeline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// The case version this row made.
    pub version: i64,
    /// When (UTC, RFC 3339).
    pub at: DateTime<Utc>,
    /// Who: an account's name, a hall's code, or 系统.
    pub actor: String,
    /// `officer`, `hall`, `system`….
    pub role: String,
    /// The event's name.
    pub event: String,
    /// The state before (`None` when the case opened).
    pub from_state: Option<String>,
    /// The state after.
    pub to_state: String,
    /// The zh-CN sentence.
    pub summary: String,
    /// The officer's note.
    pub note: Option<String>,
    /// sha256 of the hall record the row signs.
    pub signed_sha256: Option<String>,
}

/// A case as desktops receive it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseView {
    /// The hub's case id.
    pub case_id: i64,
    /// 大厅编码.
    pub hall_id: String,
    /// The bad rating.
    pub evaluation_id: String,
    /// `bad_rating`.
    pub kind: String,
    /// The state's code.
    pub state: String,
    /// Its version: name it when acting on the case.
    pub version: i64,
    /// The current deadline.
    pub due_at: Option<DateTime<Utc>>,
    /// When 超期预警 starts.
    pub warn_at: Option<DateTime<Utc>>,
    /// The evaluator is marked malicious.
    pub flagged_malicious: bool,
    /// The rating is out of every figure (申诉成立), as the case engine decided.
    #[serde(default)]
    pub excluded: bool,
    /// The case as hcp-core's `Case`.
    pub case: Case,
    /// Its timeline, oldest first.
    pub timeline: Vec<TimelineEntry>,
}

/// A page of the office's case feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CasePage {
    /// `{seq, case}` in feed order.
    pub changes: Vec<CaseChange>,
    /// Where to go on from.
    pub next: String,
    /// More waiting.
    pub more: bool,
}

/// One change of the case feed: the case as it is now.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseChange {
    /// Feed position.
    pub seq: i64,
    /// The case.
    pub case: CaseView,
}

/// At most this many actions per request.
pub const MAX_ACTIONS_PER_REQUEST: usize = 500;

/// What the next issue of a month and scope is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NextIssueNo {
    /// 1 for a first issue, 2+ for corrections.
    pub version: i64,
    /// 〔year〕.
    pub year: i64,
    /// 第 N 期.
    pub issue_no: i64,
}

/// `POST /v1/reports/next`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct NextIssueArgs {
    /// `YYYY-MM`.
    pub month: String,
    /// One hall, or all.
    #[serde(default)]
    pub hall_id: Option<String>,
}

/// `POST /v1/reports`: a report issued under `next`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ReportUpload {
    /// `YYYY-MM`.
    pub month: String,
    /// One hall, or all.
    #[serde(default)]
    pub hall_id: Option<String>,
    /// The number it was rendered with.
    pub next: NextIssueNo,
    /// The frozen model (JSON text).
    pub model_json: String,
    /// The PDF, base64.
    pub document_base64: String,
    /// 更正说明 (versions after the first).
    #[serde(default)]
    pub correction: Option<String>,
}

/// An issued report as the hub lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubReport {
    /// The hub's id.
    pub report_id: i64,
    /// `YYYY-MM`.
    pub month: String,
    /// One hall, or all.
    pub hall_id: Option<String>,
    /// Version (2+ corrections).
    pub version: i64,
    /// 〔year〕.
    pub year: i64,
    /// 第 N 期.
    pub issue_no: i64,
    /// sha256 of the PDF.
    pub document_sha256: String,
    /// 更正说明.
    pub correction: Option<String>,
    /// 签发人.
    pub issued_by: String,
}

/// One issued report with its frozen model and PDF.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HubReportFull {
    /// What the list says.
    pub report: HubReport,
    /// The frozen model.
    pub model_json: String,
    /// The PDF, base64.
    pub document_base64: String,
}

/// The largest visit hand-in bundle the hub takes and a desk downloads: a visit's
/// photos are a few MB each.
pub const MAX_VISIT_BYTES: usize = 256 * 1024 * 1024;

/// The hub's answer to a visit hand-in (`POST /v1/visits`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitUploadResult {
    /// The visit.
    pub visit_id: String,
    /// The revision the hub holds now.
    pub rev: i64,
    /// `new`, `replaced` or `unchanged`.
    pub status: String,
}

/// A handed-in visit in the hub's visit feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HubVisit {
    /// Feed position.
    pub seq: i64,
    /// The visit (UUID).
    pub visit_id: String,
    /// Its latest revision on the hub.
    pub rev: i64,
    /// The visited hall.
    pub hall_id: String,
    /// The account that handed it in.
    pub shopper: String,
    /// Fingerprint of the key that signed it.
    pub fingerprint: String,
    /// sha256 of the bundle.
    pub sha256: String,
    /// The bundle's size in bytes.
    pub size: i64,
    /// When it was uploaded (UTC, RFC 3339).
    pub uploaded_at: String,
}

/// A page of the hub's visit feed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VisitPage {
    /// In feed order.
    pub visits: Vec<HubVisit>,
    /// Where to go on from.
    pub next: String,
    /// More waiting.
    pub more: bool,
}
