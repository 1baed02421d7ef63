//! The command registry: every command the UI can call, listed once. From this
//! list come the dispatch both front ends use (the browser bridge's HTTP route and
//! the desktop's one Tauri handler), the name → argument/result table, and the
//! TypeScript API map `ui/src/api/commands.ts` (written by the bindings test). A
//! new command is one line here and its method on [`App`].

use serde::Serialize;
use serde::de::DeserializeOwned;
use ts_rs::{Config, TS};

use crate::types::*;
use crate::{App, AppError, AppResult, ErrorCode};

/// One command as the TypeScript generator sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandSpec {
    /// snake_case, as called (`case_action`).
    pub name: &'static str,
    /// The TypeScript type of its argument, `None` for no argument.
    pub args: Option<String>,
    /// The TypeScript type of its result.
    pub result: String,
    /// What it does (the method's first doc line, for the TS comment).
    pub doc: &'static str,
}

fn parse<T: DeserializeOwned>(v: serde_json::Value) -> AppResult<T> {
    let v = if v.is_null() {
        serde_json::Value::Object(Default::default())
    } else {
        v
    };
    serde_json::from_value(v).map_err(|e| AppError::invalid(format!("参数格式错误：{e}")))
}

fn out<T: Serialize>(v: AppResult<T>) -> AppResult<serde_json::Value> {
    serde_json::to_value(v?).map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))
}

fn ts_name<T: TS>() -> String {
    <T as TS>::name(&Config::new().with_large_int("number"))
}

macro_rules! commands {
    ($( #[doc = $doc:literal] $name:ident ( $($args:ty)? ) -> $res:ty $(=> $via:ident)?; )*) => {
        impl App {
            /// Calls a command by name with JSON arguments: the browser bridge and
            /// the desktop's handler both come in here.
            pub async fn dispatch(
                &self,
                command: &str,
                args: serde_json::Value,
            ) -> AppResult<serde_json::Value> {
                match command {
                    $( stringify!($name) => commands!(@call self [$name $($via)?] args $(, $args)?), )*
                    _ => Err(AppError::new(
                        ErrorCode::UnknownCommand,
                        format!("未知的命令 “{command}”"),
                    )),
                }
            }
        }

        /// Every command, in the registry's order.
        pub fn command_specs() -> Vec<CommandSpec> {
            vec![$(
                CommandSpec {
                    name: stringify!($name),
                    args: commands!(@args $($args)?),
                    result: ts_name::<$res>(),
                    doc: $doc.trim_ascii(),
                },
            )*]
        }
    };
    // The method is the command's name, or the one after `=>`.
    (@call $self:ident [$name:ident $via:ident] $($rest:tt)*) => {
        commands!(@call $self [$via] $($rest)*)
    };
    (@call $self:ident [$m:ident] $a:ident) => {{
        let _ = $a;
        out($self.$m().await)
    }};
    (@call $self:ident [$m:ident] $a:ident, $t:ty) => {
        out($self.$m(parse::<$t>($a)?).await)
    };
    (@args) => { None };
    (@args $t:ty) => { Some(ts_name::<$t>()) };
}

commands! {
    /// 本机信息：版本、缓存位置、本机用户。
    app_info() -> AppInfo;
    /// 界面用语：渠道、原因、工单状态与分组、身份…
    vocabulary() -> Vocabulary => vocabulary_command;
    /// 大厅列表及同步状态。
    list_halls() -> Vec<HallSummary>;
    /// 添加大厅（令牌存入系统钥匙串）。
    add_hall(AddHallArgs) -> AddedHall;
    /// 移除大厅。
    remove_hall(HallIdArgs) -> bool;
    /// 立即同步（全部或所选大厅）。
    sync_now(SyncArgs) -> SyncResult;
    /// 同步进行中的状态。
    sync_status() -> SyncStatus => sync_status_command;
    /// 评价查询：一页。
    query_evaluations(EvaluationQuery) -> EvaluationPage;
    /// 评价查询：条数。
    count_evaluations(hcp_store::EvaluationFilter) -> i64;
    /// 一条评价及其申诉、整改。
    evaluation_detail(EvaluationRef) -> EvaluationDetail;
    /// 隔离区：被拒收的记录及原因。
    quarantine_list() -> Vec<hcp_store::QuarantineRow>;
    /// 工作台。
    dashboard(DashboardArgs) -> Dashboard;
    /// 表单选项：大厅、部门、窗口、人员。
    form_options(DashboardArgs) -> FormOptions;
    /// 载入演示数据。
    load_demo() -> DemoLoaded;
    /// 本机用户。
    current_user() -> UserProfile;
    /// 设置本机用户（记入审计）。
    set_user(UserProfile) -> UserProfile;
    /// 连接团队服务器：登录并把本机数据目录变为团队服务器的副本。
    hub_connect(HubConnectArgs) -> HubStatus;
    /// 查看团队服务器的证书（首次通过 https 连接时核对指纹）。
    hub_peek_certificate(HubPeekArgs) -> hcp_sync::PeekedCertificate;
    /// 团队服务器连接状态、账号与待发送的操作。
    hub_status() -> HubStatus;
    /// 与团队服务器交换：按顺序发送待发送的操作与交件，取回工单、交件与通报（不同步评价）。
    hub_sync() -> Option<HubExchange>;
    /// 重建副本：团队服务器恢复了备份或更换了数据库后，按其现有数据重建本机副本。
    hub_rebuild(HubRebuildArgs) -> HubRebuildResult;
    /// 重新办理团队服务器未受理的操作（按工单的最新情况）。
    hub_redo_action(HubActionArgs) -> hcp_store::QueuedAction;
    /// 放弃团队服务器未受理的操作。
    hub_drop_action(HubActionArgs) -> bool;
    /// 预警：列出某月的预警（有新数据的月份先重新计算）。
    alerts(crate::alerts::AlertsArgs) -> crate::alerts::AlertList;
    /// 预警详情：依据的评价与对象的逐日序列。
    alert_detail(crate::alerts::AlertDetailArgs) -> hcp_store::AlertDetail;
    /// 确认或排除一条预警（记入审计）。
    decide_alert(crate::alerts::DecideAlertArgs) -> hcp_store::AlertRow;
    /// 差评工单：一页。
    list_cases(hcp_store::CaseFilter) -> hcp_store::CasePage;
    /// 差评工单：各状态计数。
    case_counts(CaseCountArgs) -> Vec<hcp_store::CaseStateCount>;
    /// 一张工单：时限、时间线、可办理的操作。
    case_detail(CaseIdArgs) -> hcp_store::CaseDetail;
    /// 办理工单。
    case_action(CaseActionArgs) -> hcp_store::CaseChange;
    /// 批量分派工单。
    assign_cases(AssignCasesArgs) -> u32;
    /// 立即向大厅推送待发送的决定。
    push_now() -> Vec<hcp_sync::PushReport>;
    /// 待发送决定的汇总。
    outbox_summary() -> Vec<hcp_store::OutboxSummary>;
    /// 办理时限与节假日设置。
    case_settings() -> CaseSettings;
    /// 设置办理时限。
    set_deadline_policy(SetPolicyArgs) -> CaseSettings;
    /// 设置通报统计口径（系统默认评价是否计入好评率）。
    set_report_policy(ReportPolicyArgs) -> CaseSettings;
    /// 导入一年的节假日数据。
    import_calendar(ImportCalendarArgs) -> i32;
    /// 暗访检查表模板。
    visit_template(TemplateArgs) -> TemplateView => visit_template_command;
    /// 暗访记录列表。
    list_visits(VisitListArgs) -> Vec<hcp_store::VisitRow>;
    /// 一次暗访。
    visit_detail(VisitIdArgs) -> hcp_store::VisitDetail;
    /// 新建暗访。
    create_visit(NewVisitArgs) -> String;
    /// 填写检查项。
    set_visit_answer(VisitAnswerArgs) -> hcp_store::VisitDetail;
    /// 填写暗访基本信息。
    set_visit_fields(VisitFieldsArgs) -> hcp_store::VisitDetail;
    /// 添加照片。
    attach_visit_photo(VisitPhotoArgs) -> hcp_store::VisitPhoto;
    /// 删除照片。
    detach_visit_photo(VisitPhotoRefArgs) -> hcp_store::VisitDetail;
    /// 照片（或缩略图）。
    visit_photo(PhotoArgs) -> FileData;
    /// 提交暗访。
    submit_visit(VisitIdArgs) -> i64;
    /// 撤回已提交（未交出）的暗访。
    reopen_visit(VisitIdArgs) -> ();
    /// 审核暗访（通过或退回）。
    review_visit(VisitReviewArgs) -> Vec<i64>;
    /// 归档暗访。
    close_visit(VisitIdArgs) -> ();
    /// 导出暗访交件（.hcpv）。
    export_visit(VisitIdArgs) -> FileData;
    /// 导入暗访交件。
    import_visit(ImportVisitArgs) -> hcp_store::ImportOutcome;
    /// 本机签名密钥。
    own_key() -> hcp_store::KeyInfo;
    /// 受信任的暗访员密钥。
    trusted_keys() -> Vec<hcp_store::KeyInfo>;
    /// 信任一把密钥。
    trust_key(TrustKeyArgs) -> hcp_store::KeyInfo;
    /// 吊销一把密钥。
    revoke_key(RevokeKeyArgs) -> hcp_store::KeyInfo;
    /// 导出暗访任务包（.hcpt）。
    export_task_package(TaskPackageArgs) -> FileData;
    /// 导入暗访任务包。
    import_task_package(ImportVisitArgs) -> hcp_store::TaskImport;
    /// 暗访任务。
    visit_tasks() -> Vec<hcp_store::VisitTaskRow>;
    /// 导出审核结果（.hcpr）。
    export_review(VisitIdArgs) -> FileData;
    /// 导入审核结果。
    import_review(ImportVisitArgs) -> hcp_store::ReviewImport;
    /// 导入任一督查台文件（交件、任务包、审核结果）。
    import_file(ImportVisitArgs) -> ImportedFile;
    /// 导出评价（Excel）。
    export_evaluations(ExportEvaluationsArgs) -> FileData;
    /// 表格导入：读取并识别列。
    import_inspect(crate::imports::ImportInspectArgs) -> crate::imports::ImportStaged;
    /// 表格导入：导入。
    import_run(crate::imports::ImportRunArgs) -> hcp_import::ImportSummary;
    /// 表格导入：已保存的列对应方案。
    import_profiles() -> Vec<hcp_store::ImportProfile>;
    /// 加入或移出典型案例。
    set_typical(SetTypicalArgs) -> String;
    /// 某月的典型案例。
    typical_cases(TypicalArgs) -> Vec<hcp_store::TypicalCase>;
    /// 通报预览（月度、季度或年度）。
    report_preview(ReportArgs) -> ReportPreview;
    /// 导出通报（PDF / Excel / JSON / HTML）。
    report_export(ReportExportArgs) -> FileData;
    /// 签发通报（月度、季度或年度）。
    report_issue(ReportIssueArgs) -> hcp_store::IssuedReport;
    /// 已签发的通报。
    report_list() -> Vec<hcp_store::IssuedReport>;
    /// 公示：生成某期的公示网页与开放数据（不含个人信息与评价内容）。
    report_publish(ReportPublishArgs) -> PublishedFiles;
    /// 设置：发文机关（通报公文的版头、署名、主送、抄送、印发机关）。
    office_settings() -> OfficeSettings;
    /// 保存发文机关设置（记入审计）。
    set_office_settings(OfficeSettings) -> OfficeSettings;
    /// 保存文件（下载目录，或桌面版的另存为对话框）。
    save_file(SaveFileArgs) -> String;
    /// 用系统默认程序打开文件。
    open_file(OpenFileArgs) -> ();
}

/// The commands whose everyday method is not the command's shape.
impl App {
    async fn vocabulary_command(&self) -> AppResult<Vocabulary> {
        Ok(crate::vocabulary())
    }

    async fn sync_status_command(&self) -> AppResult<SyncStatus> {
        Ok(self.sync_status())
    }

    async fn visit_template_command(&self, a: TemplateArgs) -> AppResult<TemplateView> {
        self.visit_template(
            a.version
                .as_deref()
                .unwrap_or(hcp_core::visit::CURRENT_TEMPLATE),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_listed_once_with_typescript_types() {
        let specs = command_specs();
        let mut names: Vec<_> = specs.iter().map(|s| s.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(names.len(), before, "a command is listed twice");
        for s in &specs {
            assert!(!s.doc.is_empty(), "{} has no description", s.name);
            assert!(!s.result.is_empty(), "{}", s.name);
            assert!(
                s.args.as_deref().is_none_or(|a| !a.is_empty()),
                "{}",
                s.name
            );
        }
        let case_action = specs.iter().find(|s| s.name == "case_action").unwrap();
        assert_eq!(case_action.args.as_deref(), Some("CaseActionArgs"));
        assert_eq!(case_action.result, "CaseChange");
        let halls = specs.iter().find(|s| s.name == "list_halls").unwrap();
        assert_eq!(
            (halls.args.as_deref(), halls.result.as_str()),
            (None, "Array<HallSummary>")
        );
    }

    /// Every listed name reaches its handler: malformed arguments are refused as
    /// input, never as an unknown command. (Commands without arguments are not
    /// called here: some of them start servers or reach halls.)
    #[tokio::test]
    async fn every_command_with_arguments_is_dispatched_and_checks_them() {
        let dir = tempfile::tempdir().unwrap();
        let app = App::open(dir.path().join("hcp.db")).unwrap();
        for s in command_specs().iter().filter(|s| s.args.is_some()) {
            let e = app
                .dispatch(s.name, serde_json::json!("不是对象"))
                .await
                .unwrap_err();
            assert_eq!(e.code, ErrorCode::InvalidInput, "{}: {e:?}", s.name);
            assert!(
                e.message.starts_with("参数格式错误"),
                "{}: {}",
                s.name,
                e.message
            );
        }
    }
}
