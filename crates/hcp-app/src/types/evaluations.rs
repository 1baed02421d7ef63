//! Ratings: the list's query and pages, one rating's detail, exports and imported files.

use super::*;

/// `query_evaluations`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "EvaluationQuery.ts")]
pub struct EvaluationQuery {
    /// The form.
    #[serde(default)]
    pub filter: EvaluationFilter,
    /// Continue after this row (the previous page's `next`).
    #[serde(default)]
    pub after: Option<PageKey>,
    /// Rows per page (1–500, default 20).
    #[serde(default)]
    pub limit: Option<u32>,
}

/// One page of evaluations.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "EvaluationPage.ts")]
pub struct EvaluationPage {
    /// The rows.
    pub rows: Vec<EvaluationListRow>,
    /// Key to ask for the next page with; `None` on the last page.
    pub next: Option<PageKey>,
}

/// Names one evaluation.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "EvaluationRef.ts")]
pub struct EvaluationRef {
    /// 大厅编码.
    pub hall_id: String,
    /// 评价编号.
    pub id: String,
}

/// Everything about one evaluation that an officer may see. The evaluator appears
/// masked as the hall sent it; the ID-card hash and the raw record stay in the
/// cache.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "EvaluationDetail.ts")]
pub struct EvaluationDetail {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub hall_name: String,
    /// 评价编号.
    pub id: String,
    /// Latest rev.
    pub rev: i64,
    /// 办件编号.
    pub serial_no: Option<String>,
    /// 事项编码.
    pub item_code: Option<String>,
    /// 事项名称.
    pub item_name: Option<String>,
    /// 部门编码.
    pub department_code: Option<String>,
    /// 部门名称.
    pub department_name: Option<String>,
    /// 窗口号.
    pub window_no: Option<String>,
    /// 窗口名称.
    pub window_name: Option<String>,
    /// 工号.
    pub staff_no: Option<String>,
    /// 姓名.
    pub staff_name: Option<String>,
    /// 评价渠道 code.
    pub channel: String,
    /// 1..5.
    pub level: u8,
    /// Whether this is a bad rating.
    pub is_bad: bool,
    /// 差评原因 tags.
    pub reasons: Vec<String>,
    /// 评价内容.
    pub comment: String,
    /// 办理时间 (UTC).
    pub served_at: Option<String>,
    /// 评价时间 (UTC).
    pub evaluated_at: String,
    /// 实名评价.
    pub evaluator_real_name: bool,
    /// 评价人 (masked by the hall).
    pub evaluator_name_masked: Option<String>,
    /// 联系电话 (masked by the hall).
    pub evaluator_phone_masked: Option<String>,
    /// valid | revised | withdrawn.
    pub status: String,
    /// Appeals and rectifications the hall filed on it.
    pub follow_ups: Vec<FollowUp>,
    /// Its versions, oldest first (首次评价, 二次评价, 改评…); the last counts.
    pub versions: Vec<hcp_store::EvaluationVersion>,
}

/// 评价查询's 导出.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ExportEvaluationsArgs.ts")]
pub struct ExportEvaluationsArgs {
    /// The list's filter.
    pub filter: hcp_store::EvaluationFilter,
    /// `csv` or `xlsx`.
    pub format: String,
}

/// What an imported file was and what importing it did.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "ImportedFile.ts")]
pub struct ImportedFile {
    /// `visit` (a hand-in), `task` (a task package) or `review` (an officer's
    /// review).
    pub kind: String,
    /// What happened, in zh-CN, ready to show.
    pub summary: String,
    /// The visit concerned (hand-ins and reviews).
    pub visit_id: Option<String>,
}
