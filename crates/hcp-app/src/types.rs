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
    /// Why its address deserves a warning (plain `http://` beyond this machine).
    pub transport_warning: Option<String>,
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
    /// Why its address deserves a warning (plain `http://` beyond this machine).
    pub transport_warning: Option<String>,
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
    /// Only sync: leave the decisions waiting for the halls (`hcp sync --no-push`).
    #[serde(default)]
    #[ts(optional)]
    pub no_push: Option<bool>,
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
    /// Decisions pushed to the halls after the sync.
    pub pushed: Vec<hcp_sync::PushReport>,
    /// In hub mode: the actions sent to the office hub and the cases taken from it.
    pub hub: Option<HubExchange>,
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
    /// Its versions, oldest first (首次评价, 二次评价, 改评…); the last counts.
    pub versions: Vec<hcp_store::EvaluationVersion>,
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

/// Which case.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "CaseIdArgs.ts")]
pub struct CaseIdArgs {
    /// 工单号.
    pub case_id: i64,
}

/// Cases per state of one hall or all.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "CaseCountArgs.ts")]
pub struct CaseCountArgs {
    /// One hall (a director always sees only their own).
    #[serde(default)]
    pub hall_id: Option<String>,
}

/// An officer's action on a case (hall actions come only from the feed).
#[derive(Debug, Clone, Deserialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export_to = "CaseActionInput.ts")]
pub enum CaseActionInput {
    /// 核实: outcome true | partly_true | not_true | misrated | no_legal_basis.
    Verify {
        /// 核实结论.
        outcome: String,
        /// 核实说明.
        note: String,
    },
    /// 验收通过.
    AcceptRectification,
    /// 退回 with an opinion.
    ReturnRectification {
        /// 退回意见.
        opinion: String,
    },
    /// 申诉复核.
    DecideAppeal {
        /// 申诉成立.
        upheld: bool,
        /// 复核意见.
        note: String,
    },
    /// 回访: satisfied | basically_satisfied | dissatisfied | unreachable.
    Callback {
        /// 回访结果.
        result: String,
        /// 回访记录.
        note: String,
    },
    /// 转办.
    Transfer {
        /// New 牵头部门.
        department: String,
        /// 转办理由.
        reason: String,
    },
    /// 牵头/协办部门.
    Assign {
        /// 牵头部门.
        lead: String,
        /// 协办部门.
        #[serde(default)]
        co: Vec<String>,
    },
    /// A mystery-shopper finding checked as rectified: closes it.
    FindingRectified {
        /// 整改核查说明.
        note: String,
    },
    /// 办结 after the appeal window.
    Close {
        /// 办结说明.
        note: String,
    },
}

/// An action on a case, naming the version the officer saw.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "CaseActionArgs.ts")]
pub struct CaseActionArgs {
    /// 工单号.
    pub case_id: i64,
    /// The version shown (refused when the case changed meanwhile).
    #[serde(default)]
    pub version: Option<i64>,
    /// What to do.
    pub action: CaseActionInput,
}

/// Bulk assign.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "AssignCasesArgs.ts")]
pub struct AssignCasesArgs {
    /// 工单号.
    pub case_ids: Vec<i64>,
    /// 承办人.
    pub assignee: String,
}

/// Deadlines in working days (DOMAIN.md defaults: 1, 15, 3, 5; warning 2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export_to = "DeadlinePolicyView.ts")]
pub struct DeadlinePolicyView {
    /// 核实/回访.
    pub verify: u32,
    /// 整改反馈.
    pub rectify: u32,
    /// 申诉提出.
    pub appeal_filing: u32,
    /// 申诉复核.
    pub appeal_review: u32,
    /// 超期预警 before the deadline.
    pub warn_before: u32,
}

/// One hall's policy.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "HallPolicy.ts")]
pub struct HallPolicy {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub name: String,
    /// Its policy.
    pub policy: DeadlinePolicyView,
    /// Whether it is the hall's own (otherwise the default applies).
    pub own: bool,
}

/// What 设置 shows about deadlines and the calendar.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "CaseSettings.ts")]
pub struct CaseSettings {
    /// The default policy.
    pub default_policy: DeadlinePolicyView,
    /// Every hall's.
    pub halls: Vec<HallPolicy>,
    /// Years with official working-day data.
    pub calendar_years: Vec<i32>,
    /// Of which imported by an officer.
    pub imported_years: Vec<i32>,
    /// Whether reports count 系统默认评价 in 评价量 and 好评率 (off: counted apart).
    pub count_system_default: bool,
}

/// The report's counting policy.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportPolicyArgs.ts")]
pub struct ReportPolicyArgs {
    /// Whether 系统默认评价 count in 评价量 and 好评率.
    pub count_system_default: bool,
}

/// Sets the default policy (`hall_id` absent) or a hall's.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "SetPolicyArgs.ts")]
pub struct SetPolicyArgs {
    /// The hall; absent: the default.
    #[serde(default)]
    pub hall_id: Option<String>,
    /// The policy.
    pub policy: DeadlinePolicyView,
}

/// A holiday-cn JSON file's text.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ImportCalendarArgs.ts")]
pub struct ImportCalendarArgs {
    /// The file's contents.
    pub json: String,
}

/// Which visit.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitIdArgs.ts")]
pub struct VisitIdArgs {
    /// Visit id.
    pub visit_id: String,
}

/// Visits of one hall or all.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "VisitListArgs.ts")]
pub struct VisitListArgs {
    /// One hall.
    #[serde(default)]
    pub hall_id: Option<String>,
}

/// A new visit.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "NewVisitArgs.ts")]
pub struct NewVisitArgs {
    /// The hall to visit.
    pub hall_id: String,
    /// Checklist template version (default v1).
    #[serde(default)]
    pub template_version: Option<String>,
}

/// One item's answer and note, saved at once.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitAnswerArgs.ts")]
pub struct VisitAnswerArgs {
    /// Visit id.
    pub visit_id: String,
    /// Item id.
    pub item_id: String,
    /// pass | deduct | not_applicable; `null` leaves the answer as it is; `clear`
    /// removes it.
    #[serde(default)]
    pub result: Option<String>,
    /// Points deducted (with `deduct`).
    #[serde(default)]
    pub points: Option<u32>,
    /// The note; `null` leaves it as it is.
    #[serde(default)]
    pub note: Option<String>,
}

/// Header fields.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitFieldsArgs.ts")]
pub struct VisitFieldsArgs {
    /// Visit id.
    pub visit_id: String,
    /// The fields.
    pub fields: hcp_store::VisitFields,
}

/// A photo for an item.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitPhotoArgs.ts")]
pub struct VisitPhotoArgs {
    /// Visit id.
    pub visit_id: String,
    /// Item id.
    pub item_id: String,
    /// The file's name.
    pub file_name: String,
    /// The bytes, base64.
    pub data_base64: String,
}

/// A photo of an item, to take off.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitPhotoRefArgs.ts")]
pub struct VisitPhotoRefArgs {
    /// Visit id.
    pub visit_id: String,
    /// Item id.
    pub item_id: String,
    /// The photo's content address.
    pub sha256: String,
}

/// The officer's review.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "VisitReviewArgs.ts")]
pub struct VisitReviewArgs {
    /// Visit id.
    pub visit_id: String,
    /// Accept (true) or return (false).
    pub accept: bool,
    /// 审核意见 (required to return).
    #[serde(default)]
    pub note: String,
    /// Deducted items to open rectification tasks for (absent: all).
    #[serde(default)]
    pub findings: Option<Vec<String>>,
    /// Comments per checklist item (item id → comment), for the shopper.
    #[serde(default)]
    pub item_comments: std::collections::BTreeMap<String, String>,
}

/// 加入/移出典型案例.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "SetTypicalArgs.ts")]
pub struct SetTypicalArgs {
    /// 工单号.
    pub case_id: i64,
    /// Pick (true) or unpick (false).
    pub typical: bool,
}

/// A month's 典型案例, for the report's picker.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "TypicalArgs.ts")]
pub struct TypicalArgs {
    /// `YYYY-MM`.
    pub month: String,
    /// One hall, or all.
    #[serde(default)]
    pub hall_id: Option<String>,
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

/// `export_task_package`: the halls to visit, when, with which checklist.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "TaskPackageArgs.ts")]
pub struct TaskPackageArgs {
    /// The halls (with optional planned dates).
    pub halls: Vec<hcp_store::TaskHall>,
    /// Checklist version (default v1).
    #[serde(default)]
    pub template_version: Option<String>,
    /// 任务说明.
    #[serde(default)]
    pub note: String,
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

/// A bundle's bytes to import.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ImportVisitArgs.ts")]
pub struct ImportVisitArgs {
    /// The file (`.hcpv`, `.hcpt` or `.hcpr`), base64.
    pub data_base64: String,
}

/// A photo to show.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "PhotoArgs.ts")]
pub struct PhotoArgs {
    /// Content address.
    pub sha256: String,
    /// The thumbnail instead of the photo.
    #[serde(default)]
    pub thumbnail: bool,
}

/// A trusted key to revoke.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "RevokeKeyArgs.ts")]
pub struct RevokeKeyArgs {
    /// Its public key (hex) or fingerprint.
    pub key: String,
}

/// A shopper's key to trust.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "TrustKeyArgs.ts")]
pub struct TrustKeyArgs {
    /// The public key (hex).
    pub public_key: String,
    /// Whose.
    pub name: String,
}

/// Which checklist template.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "TemplateArgs.ts")]
pub struct TemplateArgs {
    /// Its version; the current one when `null`.
    #[serde(default)]
    pub version: Option<String>,
}

/// A checklist template for the form.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "TemplateView.ts")]
pub struct TemplateView {
    /// Version.
    pub version: String,
    /// Name.
    pub name: String,
    /// Sections: (id, name, item ids).
    pub sections: Vec<TemplateSection>,
}

/// A section of a template.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "TemplateSection.ts")]
pub struct TemplateSection {
    /// Id.
    pub id: String,
    /// 栏目名称.
    pub name: String,
    /// Its item ids, in order.
    pub items: Vec<String>,
}

/// Which report: a period and a scope.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportArgs.ts")]
pub struct ReportArgs {
    /// The period: a month `2026-10`, a quarter `2026-Q3` or a year `2026`.
    pub month: String,
    /// One hall; absent: all halls (a director: always their own).
    #[serde(default)]
    pub hall_id: Option<String>,
    /// 典型案例: case ids chosen by the officer (empty: chosen automatically).
    #[serde(default)]
    pub typical: Vec<i64>,
    /// `official` (公文, what issuing stores) or `brief` (数据简报, the default).
    #[serde(default)]
    pub layout: Option<String>,
}

/// 设置 → 发文机关: how the issued 通报 (a 公文) names the office.
pub type OfficeSettings = hcp_core::office::Office;

/// `report_publish`: a period's 公示.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportPublishArgs.ts")]
pub struct ReportPublishArgs {
    /// The period: `2026-11`, `2026-Q4` or `2026`.
    pub month: String,
    /// One hall (its screen); absent: all halls.
    #[serde(default)]
    pub hall_id: Option<String>,
}

/// Where a 公示 was written.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "PublishedFiles.ts")]
pub struct PublishedFiles {
    /// The folder (index.html, data.json and the CSVs).
    pub folder: String,
    /// Its page.
    pub index: String,
}

/// An export of a draft or an issued report.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportExportArgs.ts")]
pub struct ReportExportArgs {
    /// The period of a draft: `2026-10`, `2026-Q3` or `2026`.
    #[serde(default)]
    pub month: Option<String>,
    /// The scope (drafts).
    #[serde(default)]
    pub hall_id: Option<String>,
    /// An issued report instead of a draft.
    #[serde(default)]
    pub report_id: Option<i64>,
    /// pdf | xlsx | json.
    pub format: String,
    /// 典型案例: case ids chosen by the officer (empty: chosen automatically).
    #[serde(default)]
    pub typical: Vec<i64>,
    /// A draft PDF's layout: `official` (公文) or `brief` (数据简报, the default).
    #[serde(default)]
    pub layout: Option<String>,
}

/// Issue (签发) a report; a correction needs its note.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "ReportIssueArgs.ts")]
pub struct ReportIssueArgs {
    /// The period: `2026-10`, `2026-Q3` or `2026`.
    pub month: String,
    /// The scope.
    #[serde(default)]
    pub hall_id: Option<String>,
    /// 更正说明 (required for a new version).
    #[serde(default)]
    pub correction: Option<String>,
    /// 典型案例: case ids chosen by the officer (empty: chosen automatically).
    #[serde(default)]
    pub typical: Vec<i64>,
    /// 提前签发: the officer confirmed issuing a period that has not ended yet.
    #[serde(default)]
    pub early: bool,
}

/// The preview: the exact pages as images.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "ReportPreview.ts")]
pub struct ReportPreview {
    /// The report's title.
    pub title: String,
    /// PNG pages, base64.
    pub pages: Vec<String>,
    /// Each page's text (for screen readers and search).
    pub texts: Vec<String>,
    /// The issue this period and scope would get: version and number.
    pub next_version: i64,
    /// 〔year〕 of that issue.
    pub next_year: i64,
    /// 第 N 期 of that issue (a hub numbers the office's issues itself).
    pub next_issue_no: i64,
    /// 范围: 全部大厅 or the hall's name.
    pub scope_name: String,
    /// 签发人: the profile's name, `None` while the desk's user gave none.
    pub signer: Option<String>,
}

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

/// `hub_connect`'s arguments.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HubConnectArgs.ts")]
pub struct HubConnectArgs {
    /// The hub's address, e.g. `https://10.1.2.3:8740/`.
    pub url: String,
    /// 登录名.
    pub name: String,
    /// 密码 (sent to the hub once, never stored).
    pub password: String,
    /// A CA certificate file (PEM) to trust for a hub with an intranet CA or a
    /// self-signed certificate.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// The hub's own certificate (PEM) as shown by `hub_peek_certificate` and
    /// accepted by the user: kept beside the cache and trusted from then on
    /// (pinned) instead of a CA file.
    #[serde(default)]
    pub pinned_certificate: Option<String>,
}

/// `hub_peek_certificate`'s arguments.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HubPeekArgs.ts")]
pub struct HubPeekArgs {
    /// The hub's `https://` address.
    pub url: String,
}

/// One queued action, by its id.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HubActionArgs.ts")]
pub struct HubActionArgs {
    /// The action's UUID.
    pub id: String,
}

/// The state of hub mode, for `hcp hub status` and the header.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "HubStatus.ts")]
pub struct HubStatus {
    /// The link, or `None` for a single desk (单机使用).
    pub link: Option<hcp_store::HubLink>,
    /// `standalone`, `connected`, `offline` or `expired` (登录已过期).
    pub state: String,
    /// Why it is offline or expired, zh-CN.
    pub message: Option<String>,
    /// A hub reached over plain http on the network: what that exposes, zh-CN.
    pub warning: Option<String>,
    /// Actions waiting for the hub (待发送), newest first.
    pub pending: Vec<hcp_store::QueuedAction>,
    /// Actions the hub refused, newest first (the last 50).
    pub rejected: Vec<hcp_store::QueuedAction>,
    /// A shopper's visits waiting to be handed in (待发送) or refused by the hub.
    pub visits: Vec<hcp_store::HubVisitUpload>,
}

/// `hub_rebuild`'s arguments.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HubRebuildArgs.ts")]
pub struct HubRebuildArgs {
    /// The account's password (the session may not exist on a restored hub);
    /// sent to the hub once, never stored.
    pub password: String,
}

/// What rebuilding the replica did.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "HubRebuildResult.ts")]
pub struct HubRebuildResult {
    /// Where the previous replica was kept, untouched (for review); `None` when
    /// the data file was kept (a shopper's desk holds no copies of cases).
    pub previous_file: Option<String>,
    /// This desk's steps the hub had not taken, held for review on their cases.
    pub held: Vec<hcp_store::QueuedAction>,
    /// Submitted visits that will be handed in again.
    pub visits_resent: u64,
    /// The link now.
    pub status: HubStatus,
}

/// What one exchange with the hub did.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export_to = "HubExchange.ts")]
pub struct HubExchange {
    /// Actions sent.
    pub sent: u64,
    /// …accepted (or already accepted before).
    pub accepted: u64,
    /// …refused (see the queue for why).
    pub rejected: u64,
    /// Cases received that changed here.
    pub cases: u64,
    /// Issued reports received from the office.
    pub reports: u64,
    /// Visits handed in (a shopper's desk).
    pub visits_sent: u64,
    /// …refused by the hub (see the visit for why).
    pub visits_refused: u64,
    /// Handed-in visits received to review (an officer's desk).
    pub visits_received: u64,
    /// Why the exchange stopped early, zh-CN.
    pub error: Option<String>,
}

/// Where the user's profile is kept in the cache's settings.
pub(crate) const PROFILE_SETTING: &str = "user.profile";
