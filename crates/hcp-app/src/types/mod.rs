//! Arguments and results of the commands, as serde types with TypeScript twins
//! generated into `ui/src/api/types/` (see [`crate::ts_bindings`]).

use hcp_store::{
    DayCount, EvaluationFilter, EvaluationListRow, FollowUp, HallCounts, HallRecord, PageKey,
    SpanCounts, SyncState,
};
use hcp_sync::HallReport;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

mod cases;
mod evaluations;
mod halls;
mod hub;
mod reports;
mod sync;
mod visits;
pub use cases::*;
pub use evaluations::*;
pub use halls::*;
pub use hub::*;
pub use reports::*;
pub use sync::*;
pub use visits::*;

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
    /// The profile's role.
    pub role: hcp_core::Role,
    /// What the role may see and do (menus and buttons follow it; the commands
    /// check it again).
    pub capabilities: Vec<hcp_core::Capability>,
    /// A director's hall.
    pub hall_id: Option<String>,
    /// Whether the user set the profile (otherwise the OS account name is used).
    pub profile_set: bool,
    /// In hub mode, the hub and the account (the menus follow its role); `None` on
    /// a single desk.
    pub hub: Option<hcp_store::HubLink>,
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

pub use hcp_core::metrics::RateView;

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
    /// What is waiting for someone (the officer's to-do list first).
    pub todo: Todo,
    /// Open cases with the soonest deadlines (a director: his hall's).
    pub urgent_cases: Vec<hcp_store::CaseListRow>,
    /// The latest issued report the viewer may see.
    pub latest_report: Option<hcp_store::IssuedReport>,
}

/// 工作台's to-do figures: each opens the inbox filtered to it.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export_to = "Todo.ts")]
pub struct Todo {
    /// 待核实.
    pub verify: i64,
    /// 待验收 (the hall submitted a rectification).
    pub signoff: i64,
    /// 即将超期 (超期预警, not yet overdue).
    pub warning: i64,
    /// 已超期.
    pub overdue: i64,
    /// 待回访 (accepted, or explained).
    pub callback: i64,
    /// 申诉待复核.
    pub appeals: i64,
    /// 暗访交件待审核.
    pub visits_to_review: i64,
    /// 整改中: the hall has to submit a rectification (a director's work).
    pub rectifying: i64,
    /// Working days left on the soonest rectification (negative: overdue by).
    pub rectify_days_left: Option<i64>,
    /// 申诉期: found unfounded; the hall may still appeal.
    pub appeal_window: i64,
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

/// An early-warning rule as the window names it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "AlertRuleView.ts")]
pub struct AlertRuleView {
    /// Storage name (`spike` …).
    pub code: String,
    /// Full zh-CN name.
    pub name: String,
    /// Short name for tabs and cards.
    pub short: String,
    /// About bad ratings (its evidence is 差评) rather than praise.
    pub about_bad: bool,
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
    /// Case states.
    pub case_states: Vec<CodeName>,
    /// 核实结论.
    pub verify_outcomes: Vec<CodeName>,
    /// 回访结果.
    pub callback_results: Vec<CodeName>,
    /// Roles.
    pub roles: Vec<CodeName>,
    /// The early-warning rules, in the order they are listed.
    pub alert_rules: Vec<AlertRuleView>,
    /// The case inbox's tabs and the states each lists.
    pub case_tabs: Vec<CaseTabView>,
    /// The checklist template version new visits and task packages use.
    pub current_template: String,
}

/// A tab of the case inbox.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "CaseTabView.ts")]
pub struct CaseTabView {
    /// todo | a state | closed.
    pub key: String,
    /// 中文名.
    pub label: String,
    /// Whether it lists closed cases (no deadline badges).
    pub closed: bool,
    /// The states it lists.
    pub states: Vec<String>,
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

/// The local user profile (本机用户): who acts, in which role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "UserProfile.ts")]
pub struct UserProfile {
    /// 姓名, as it goes into the audit log and into decisions sent to halls.
    pub name: String,
    /// officer (效能督查员) | shopper (暗访员) | director (大厅负责人).
    pub role: hcp_core::Role,
    /// A director's own hall (required for directors, ignored otherwise).
    #[serde(default)]
    pub hall_id: Option<String>,
}

/// A file's bytes for the UI to save or show.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "FileData.ts")]
pub struct FileData {
    /// Suggested name.
    pub file_name: String,
    /// MIME type.
    pub mime: String,
    /// The bytes, base64.
    pub data_base64: String,
}

/// 设置 → 发文机关: how the issued 通报 (a 公文) names the office.
pub type OfficeSettings = hcp_core::office::Office;

/// A file to save where the user keeps downloads (the desktop window's export).
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "SaveFileArgs.ts")]
pub struct SaveFileArgs {
    /// Suggested name.
    pub file_name: String,
    /// The bytes, base64.
    pub data_base64: String,
    /// Let the user choose where (the desktop's save dialog); otherwise it goes
    /// into the download folder (printing, the browser bridge).
    #[serde(default)]
    pub ask: bool,
}

/// A file the app saved, to open in the system's viewer.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "OpenFileArgs.ts")]
pub struct OpenFileArgs {
    /// The path `save_file` returned.
    pub path: String,
}

/// Where the user's profile is kept in the cache's settings.
pub(crate) const PROFILE_SETTING: &str = "user.profile";
