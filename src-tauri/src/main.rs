//! 好差评督查台 — the desktop shell. A Tauri window over the hcp-app commands:
//! each command takes the state, calls hcp-app and hands back its result or its
//! `{code, message}` error. Sync progress reaches the UI as `sync-event` events.
//!
//! The cache lives in the app data directory (`HCP_DB` overrides it). `--demo`
//! loads the built-in demo halls at start when no hall is configured yet (the
//! README's run command uses it).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::Arc;

use hcp_app::*;
use hcp_store::{
    CaseChange, CaseDetail, CaseFilter, CasePage, CaseStateCount, EvaluationFilter, ImportOutcome,
    IssuedReport, KeyInfo, OutboxSummary, QuarantineRow, VisitDetail, VisitPhoto, VisitRow,
};

use tauri::{Emitter, Manager, State};

type AppState<'a> = State<'a, Arc<App>>;

#[tauri::command]
async fn app_info(app: AppState<'_>) -> Result<AppInfo, AppError> {
    app.app_info().await
}

#[tauri::command]
fn vocabulary() -> Vocabulary {
    hcp_app::vocabulary()
}

#[tauri::command]
async fn list_halls(app: AppState<'_>) -> Result<Vec<HallSummary>, AppError> {
    app.list_halls().await
}

#[tauri::command]
async fn add_hall(app: AppState<'_>, args: AddHallArgs) -> Result<AddedHall, AppError> {
    app.add_hall(args).await
}

#[tauri::command]
async fn remove_hall(app: AppState<'_>, args: HallIdArgs) -> Result<bool, AppError> {
    app.remove_hall(args).await
}

#[tauri::command]
async fn sync_now(app: AppState<'_>, args: SyncArgs) -> Result<SyncResult, AppError> {
    app.sync_now(args).await
}

#[tauri::command]
fn sync_status(app: AppState<'_>) -> SyncStatus {
    app.sync_status()
}

#[tauri::command]
async fn query_evaluations(
    app: AppState<'_>,
    args: EvaluationQuery,
) -> Result<EvaluationPage, AppError> {
    app.query_evaluations(args).await
}

#[tauri::command]
async fn count_evaluations(app: AppState<'_>, args: EvaluationFilter) -> Result<i64, AppError> {
    app.count_evaluations(args).await
}

#[tauri::command]
async fn evaluation_detail(
    app: AppState<'_>,
    args: EvaluationRef,
) -> Result<EvaluationDetail, AppError> {
    app.evaluation_detail(args).await
}

#[tauri::command]
async fn quarantine_list(app: AppState<'_>) -> Result<Vec<QuarantineRow>, AppError> {
    app.quarantine_list().await
}

#[tauri::command]
async fn dashboard(app: AppState<'_>, args: DashboardArgs) -> Result<Dashboard, AppError> {
    app.dashboard(args).await
}

#[tauri::command]
async fn form_options(app: AppState<'_>, args: DashboardArgs) -> Result<FormOptions, AppError> {
    app.form_options(args).await
}

#[tauri::command]
async fn load_demo(app: AppState<'_>) -> Result<DemoLoaded, AppError> {
    app.load_demo().await
}

#[tauri::command]
async fn current_user(app: AppState<'_>) -> Result<UserProfile, AppError> {
    app.current_user().await
}

#[tauri::command]
async fn set_user(app: AppState<'_>, args: UserProfile) -> Result<UserProfile, AppError> {
    app.set_user(args).await
}

#[tauri::command]
async fn list_cases(app: AppState<'_>, args: CaseFilter) -> Result<CasePage, AppError> {
    app.list_cases(args).await
}

#[tauri::command]
async fn case_counts(
    app: AppState<'_>,
    args: CaseCountArgs,
) -> Result<Vec<CaseStateCount>, AppError> {
    app.case_counts(args).await
}

#[tauri::command]
async fn case_detail(app: AppState<'_>, args: CaseIdArgs) -> Result<CaseDetail, AppError> {
    app.case_detail(args).await
}

#[tauri::command]
async fn case_action(app: AppState<'_>, args: CaseActionArgs) -> Result<CaseChange, AppError> {
    app.case_action(args).await
}

#[tauri::command]
async fn assign_cases(app: AppState<'_>, args: AssignCasesArgs) -> Result<u32, AppError> {
    app.assign_cases(args).await
}

#[tauri::command]
async fn push_now(app: AppState<'_>) -> Result<Vec<PushReport>, AppError> {
    app.push_now().await
}

#[tauri::command]
async fn outbox_summary(app: AppState<'_>) -> Result<Vec<OutboxSummary>, AppError> {
    app.outbox_summary().await
}

#[tauri::command]
async fn case_settings(app: AppState<'_>) -> Result<CaseSettings, AppError> {
    app.case_settings().await
}

#[tauri::command]
async fn set_deadline_policy(
    app: AppState<'_>,
    args: SetPolicyArgs,
) -> Result<CaseSettings, AppError> {
    app.set_deadline_policy(args).await
}

#[tauri::command]
async fn import_calendar(app: AppState<'_>, args: ImportCalendarArgs) -> Result<i32, AppError> {
    app.import_calendar(args).await
}

#[tauri::command]
async fn list_visits(app: AppState<'_>, args: VisitListArgs) -> Result<Vec<VisitRow>, AppError> {
    app.list_visits(args).await
}

#[tauri::command]
async fn visit_detail(app: AppState<'_>, args: VisitIdArgs) -> Result<VisitDetail, AppError> {
    app.visit_detail(args).await
}

#[tauri::command]
async fn create_visit(app: AppState<'_>, args: NewVisitArgs) -> Result<String, AppError> {
    app.create_visit(args).await
}

#[tauri::command]
async fn set_visit_answer(
    app: AppState<'_>,
    args: VisitAnswerArgs,
) -> Result<VisitDetail, AppError> {
    app.set_visit_answer(args).await
}

#[tauri::command]
async fn set_visit_fields(
    app: AppState<'_>,
    args: VisitFieldsArgs,
) -> Result<VisitDetail, AppError> {
    app.set_visit_fields(args).await
}

#[tauri::command]
async fn attach_visit_photo(
    app: AppState<'_>,
    args: VisitPhotoArgs,
) -> Result<VisitPhoto, AppError> {
    app.attach_visit_photo(args).await
}

#[tauri::command]
async fn visit_photo(app: AppState<'_>, args: PhotoArgs) -> Result<FileData, AppError> {
    app.visit_photo(args).await
}

#[tauri::command]
async fn submit_visit(app: AppState<'_>, args: VisitIdArgs) -> Result<i64, AppError> {
    app.submit_visit(args).await
}

#[tauri::command]
async fn reopen_visit(app: AppState<'_>, args: VisitIdArgs) -> Result<(), AppError> {
    app.reopen_visit(args).await
}

#[tauri::command]
async fn review_visit(app: AppState<'_>, args: VisitReviewArgs) -> Result<Vec<i64>, AppError> {
    app.review_visit(args).await
}

#[tauri::command]
async fn export_visit(app: AppState<'_>, args: VisitIdArgs) -> Result<FileData, AppError> {
    app.export_visit(args).await
}

#[tauri::command]
async fn import_visit(app: AppState<'_>, args: ImportVisitArgs) -> Result<ImportOutcome, AppError> {
    app.import_visit(args).await
}

#[tauri::command]
async fn own_key(app: AppState<'_>) -> Result<KeyInfo, AppError> {
    app.own_key().await
}

#[tauri::command]
async fn trusted_keys(app: AppState<'_>) -> Result<Vec<KeyInfo>, AppError> {
    app.trusted_keys().await
}

#[tauri::command]
async fn trust_key(app: AppState<'_>, args: TrustKeyArgs) -> Result<KeyInfo, AppError> {
    app.trust_key(args).await
}

#[tauri::command]
async fn export_task_package(
    app: AppState<'_>,
    args: TaskPackageArgs,
) -> Result<FileData, AppError> {
    app.export_task_package(args).await
}

#[tauri::command]
async fn import_task_package(
    app: AppState<'_>,
    args: ImportVisitArgs,
) -> Result<hcp_store::TaskImport, AppError> {
    app.import_task_package(args).await
}

#[tauri::command]
async fn visit_tasks(app: AppState<'_>) -> Result<Vec<hcp_store::VisitTaskRow>, AppError> {
    app.visit_tasks().await
}

#[tauri::command]
async fn export_review(app: AppState<'_>, args: VisitIdArgs) -> Result<FileData, AppError> {
    app.export_review(args).await
}

#[tauri::command]
async fn import_review(
    app: AppState<'_>,
    args: ImportVisitArgs,
) -> Result<hcp_store::ReviewImport, AppError> {
    app.import_review(args).await
}

#[tauri::command]
async fn export_evaluations(
    app: AppState<'_>,
    args: ExportEvaluationsArgs,
) -> Result<FileData, AppError> {
    app.export_evaluations(args).await
}

#[tauri::command]
async fn set_typical(app: AppState<'_>, args: SetTypicalArgs) -> Result<String, AppError> {
    app.set_typical(args).await
}

#[tauri::command]
async fn typical_cases(
    app: AppState<'_>,
    args: TypicalArgs,
) -> Result<Vec<hcp_store::TypicalCase>, AppError> {
    app.typical_cases(args).await
}

#[tauri::command]
async fn import_file(app: AppState<'_>, args: ImportVisitArgs) -> Result<ImportedFile, AppError> {
    app.import_file(args).await
}

#[tauri::command]
async fn revoke_key(app: AppState<'_>, args: RevokeKeyArgs) -> Result<KeyInfo, AppError> {
    app.revoke_key(args).await
}

#[derive(serde::Deserialize)]
struct TemplateArgs {
    #[serde(default)]
    version: Option<String>,
}

#[tauri::command]
fn visit_template(app: AppState<'_>, args: TemplateArgs) -> Result<TemplateView, AppError> {
    app.visit_template(args.version.as_deref().unwrap_or("v1"))
}

#[tauri::command]
async fn close_visit(app: AppState<'_>, args: VisitIdArgs) -> Result<(), AppError> {
    app.close_visit(args).await
}

#[tauri::command]
async fn report_preview(app: AppState<'_>, args: ReportArgs) -> Result<ReportPreview, AppError> {
    app.report_preview(args).await
}

#[tauri::command]
async fn report_export(app: AppState<'_>, args: ReportExportArgs) -> Result<FileData, AppError> {
    app.report_export(args).await
}

#[tauri::command]
async fn report_issue(app: AppState<'_>, args: ReportIssueArgs) -> Result<IssuedReport, AppError> {
    app.report_issue(args).await
}

#[tauri::command]
async fn report_list(app: AppState<'_>) -> Result<Vec<IssuedReport>, AppError> {
    app.report_list().await
}

#[tauri::command]
async fn save_file(
    window: tauri::Window,
    app: AppState<'_>,
    args: SaveFileArgs,
) -> Result<String, AppError> {
    if !args.ask {
        return app.save_file(args).await;
    }
    // The system's save dialog: the user chooses where (the shell's job).
    use tauri_plugin_dialog::DialogExt;
    let ext = std::path::Path::new(&args.file_name)
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_owned();
    let name = args.file_name.clone();
    let chosen = tokio::task::spawn_blocking(move || {
        let mut d = window.dialog().file().set_file_name(&name);
        if !ext.is_empty() {
            d = d.add_filter(ext.to_uppercase(), &[ext.as_str()]);
        }
        d.blocking_save_file()
    })
    .await
    .map_err(|e| AppError::new("internal", e.to_string()))?;
    match chosen.and_then(|p| p.into_path().ok()) {
        Some(path) => app.save_file_at(path, args).await,
        None => Err(AppError::new("cancelled", "已取消保存")),
    }
}

#[tauri::command]
async fn open_file(app: AppState<'_>, args: OpenFileArgs) -> Result<(), AppError> {
    app.open_file(args).await
}

fn main() {
    // WebKitGTK's accelerated compositing costs ~100 MB in the web process and shows
    // blank windows on some drivers and under Xvfb; a console of tables does not need
    // it. Set before any thread starts; an explicit setting is respected.
    #[cfg(target_os = "linux")]
    if std::env::var_os("WEBKIT_DISABLE_COMPOSITING_MODE").is_none() {
        // SAFETY: first statement of main, no other thread exists yet.
        unsafe { std::env::set_var("WEBKIT_DISABLE_COMPOSITING_MODE", "1") };
    }
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("HCP_LOG")
                .unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let demo = std::env::args().any(|a| a == "--demo");
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .setup(move |tauri_app| {
            let db = match std::env::var_os("HCP_DB") {
                Some(p) => std::path::PathBuf::from(p),
                None => tauri_app.path().app_data_dir()?.join("hcp.db"),
            };
            let app = Arc::new(App::open(&db).map_err(|e| e.message)?);
            tauri_app.manage(app.clone());
            // Sync progress → the window.
            let handle = tauri_app.handle().clone();
            let mut events = app.subscribe();
            tauri::async_runtime::spawn(async move {
                loop {
                    match events.recv().await {
                        Ok(e) => {
                            let _ = handle.emit("sync-event", &e);
                        }
                        Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                        Err(tokio::sync::broadcast::error::RecvError::Closed) => break,
                    }
                }
            });
            // The demo halls' embedded server lived in the previous run: bring it back.
            // `--demo` on a cache with no halls yet: the first minute has data.
            tauri::async_runtime::spawn(async move {
                let empty = app.app_info().await.map(|i| !i.has_halls).unwrap_or(false);
                let r = if demo && empty {
                    app.load_demo().await.map(|_| true)
                } else {
                    app.resume_demo_if_loaded().await
                };
                if let Err(e) = r {
                    tracing::warn!(error = %e, "demo hall not started");
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![
            app_info,
            vocabulary,
            list_halls,
            add_hall,
            remove_hall,
            sync_now,
            sync_status,
            query_evaluations,
            count_evaluations,
            evaluation_detail,
            quarantine_list,
            dashboard,
            form_options,
            load_demo,
            current_user,
            set_user,
            list_cases,
            case_counts,
            case_detail,
            case_action,
            assign_cases,
            push_now,
            outbox_summary,
            case_settings,
            set_deadline_policy,
            import_calendar,
            list_visits,
            visit_detail,
            create_visit,
            set_visit_answer,
            set_visit_fields,
            attach_visit_photo,
            visit_photo,
            submit_visit,
            reopen_visit,
            review_visit,
            export_visit,
            import_visit,
            own_key,
            trusted_keys,
            trust_key,
            revoke_key,
            export_task_package,
            import_task_package,
            visit_tasks,
            export_review,
            import_review,
            import_file,
            export_evaluations,
            set_typical,
            typical_cases,
            visit_template,
            close_visit,
            report_preview,
            report_export,
            report_issue,
            report_list,
            save_file,
            open_file,
        ])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("好差评督查台无法启动：{e}");
        std::process::exit(1);
    }
}
