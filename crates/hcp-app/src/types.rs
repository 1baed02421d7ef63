//! Arguments and results of the commands, as serde types with TypeScript twins
//! generated into `ui/src/api/types/` (see [`crate::ts_bindings`]).

use hcp_store::{
    DayCount, EvaluationFilter, EvaluationListRow, FollowUp, HallCounts, HallRecord, PageKey,
    SpanCounts, SyncState,
};
use hcp_sync::HallReport;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// About this installation.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "AppInfo.ts")]
pub struct AppInfo {
    /// Program version.
    pub version: String,
    /// The cache file.
    pub db_path: String,
    /// Whether any hall is registered (the first run offers the demo when not).
    pub has_halls: bool,
    /// Whether the embedded demo hall is serving.
    pub demo_running: bool,
    /// Shown in the header.
    pub user_name: String,
    /// officer | shopper | director.
    pub role: String,
}

/// A hall with its sync state and what the cache holds of it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "HallSummary.ts")]
pub struct HallSummary {
    /// The hall.
    pub hall: HallRecord,
    /// Its sync bookkeeping.
    pub sync: SyncState,
    /// Its counts.
    pub counts: HallCounts,
}

/// `add_hall`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "AddHallArgs.ts")]
pub struct AddHallArgs {
    /// Base URL of the hall's server.
    pub url: String,
    /// Its bearer token.
    pub token: String,
    /// Extra CA certificate file (PEM), for an intranet CA.
    #[serde(default)]
    pub ca_file: Option<String>,
}

/// A hall just registered.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "AddedHall.ts")]
pub struct AddedHall {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub name: String,
    /// Not registered before.
    pub new: bool,
    /// Where the token is kept (zh-CN).
    pub token_location: String,
}

/// Names one hall.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HallIdArgs.ts")]
pub struct HallIdArgs {
    /// 大厅编码.
    pub hall_id: String,
}

/// `sync_now`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "SyncArgs.ts")]
pub struct SyncArgs {
    /// Halls to sync; empty: all.
    #[serde(default)]
    pub halls: Vec<String>,
}

/// How one hall's sync is going (from its latest progress event).
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export_to = "HallProgress.ts")]
pub struct HallProgress {
    /// 大厅编码.
    pub hall_id: String,
    /// running | retrying | done | failed.
    pub state: String,
    /// Pages stored in this sync.
    pub pages: u64,
    /// Records seen in this sync.
    pub records: u64,
    /// New records.
    pub new: u64,
    /// Updated records.
    pub updated: u64,
    /// Quarantined records.
    pub quarantined: u64,
    /// Why it is retrying or failed (zh-CN).
    pub message: Option<String>,
}

/// The sync board.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export_to = "SyncStatus.ts")]
pub struct SyncStatus {
    /// A sync is running.
    pub running: bool,
    /// Per hall, in the order the sync reported them.
    pub halls: Vec<HallProgress>,
}

/// The result of a sync.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "SyncResult.ts")]
pub struct SyncResult {
    /// One report per hall.
    pub reports: Vec<HallReport>,
}

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
}

/// `dashboard`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "DashboardArgs.ts")]
pub struct DashboardArgs {
    /// `YYYY-MM`; default: this month, or the latest month with data when this
    /// month has none yet.
    #[serde(default)]
    pub month: Option<String>,
    /// One hall; default all.
    #[serde(default)]
    pub hall_id: Option<String>,
}

/// A rate with its numerator and denominator.
#[derive(Debug, Clone, Copy, Serialize, TS)]
#[ts(export_to = "RateView.ts")]
pub struct RateView {
    /// 分子.
    pub numerator: i64,
    /// 分母.
    pub denominator: i64,
    /// Percent (2 decimals); `null` over zero, shown as "—".
    pub percent: Option<f64>,
}

impl From<hcp_core::metrics::Rate> for RateView {
    fn from(r: hcp_core::metrics::Rate) -> Self {
        Self {
            numerator: r.numerator,
            denominator: r.denominator,
            percent: r.percent,
        }
    }
}

/// 工作台.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "Dashboard.ts")]
pub struct Dashboard {
    /// `YYYY-MM` shown.
    pub month: String,
    /// Whether that is the current month (otherwise this month had no data yet).
    pub month_is_current: bool,
    /// Today (Beijing time).
    pub today: SpanCounts,
    /// The month.
    pub month_counts: SpanCounts,
    /// 好评率 of the month.
    pub good_rate: RateView,
    /// 差评率 of the month.
    pub bad_rate: RateView,
    /// Bad ratings per day of the month, every day listed.
    pub daily_bad: Vec<DayCount>,
    /// Every hall with its sync state.
    pub halls: Vec<HallSummary>,
}

/// Options for the 评价查询 form's selects.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "FormOptions.ts")]
pub struct FormOptions {
    /// Halls: (code, name).
    pub halls: Vec<CodeName>,
    /// Departments.
    pub departments: Vec<CodeName>,
    /// Windows.
    pub windows: Vec<CodeName>,
    /// Staff.
    pub staff: Vec<CodeName>,
}

/// A code and its name.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "CodeName.ts")]
pub struct CodeName {
    /// The code.
    pub code: String,
    /// Its name.
    pub name: String,
}

/// The domain's words, from hcp-core, so the UI never keeps a second copy.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "Vocabulary.ts")]
pub struct Vocabulary {
    /// Levels 5..1 with their names.
    pub levels: Vec<LevelWord>,
    /// Channels.
    pub channels: Vec<CodeName>,
    /// Bad-rating reason tags.
    pub reasons: Vec<CodeName>,
}

/// A level and its name.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "LevelWord.ts")]
pub struct LevelWord {
    /// 1..5.
    pub level: u8,
    /// 非常满意 …
    pub name: String,
    /// 差评.
    pub is_bad: bool,
}

/// The demo was loaded.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "DemoLoaded.ts")]
pub struct DemoLoaded {
    /// The demo halls.
    pub halls: Vec<String>,
    /// Their sync reports.
    pub reports: Vec<HallReport>,
}
