//! 好差评督查台 — the desktop shell. A Tauri window over the hcp-app commands:
//! one Tauri command, `call`, hands every `{command, args}` to hcp-app's registry
//! and gives back its result or its `{code, message}` error. Sync progress reaches
//! the UI as `sync-event` events.
//!
//! The cache lives in the app data directory (`HCP_DB` overrides it). `--demo`
//! loads the built-in demo halls at start when no hall is configured yet (the
//! README's run command uses it).

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

use std::sync::Arc;

use hcp_app::{App, AppError, ErrorCode, SaveFileArgs};

use tauri::{Emitter, Manager, State};

type AppState<'a> = State<'a, Arc<App>>;

/// The one command the window calls: every hcp-app command goes through the
/// registry's dispatch by name (`{command, args}`), so a new command needs nothing
/// here. Only the shell's own part is here: `save_file` with `ask` opens the
/// system's save dialog.
#[tauri::command]
async fn call(
    window: tauri::Window,
    app: AppState<'_>,
    command: String,
    args: serde_json::Value,
) -> Result<serde_json::Value, AppError> {
    if command == "save_file" {
        let a: SaveFileArgs = serde_json::from_value(args.clone())
            .map_err(|e| AppError::invalid(format!("参数格式错误：{e}")))?;
        if a.ask {
            let path = save_file_as(window, app.inner().clone(), a).await?;
            return Ok(serde_json::Value::String(path));
        }
    }
    app.dispatch(&command, args).await
}

/// The system's save dialog: the user chooses where (the shell's job).
async fn save_file_as(
    window: tauri::Window,
    app: Arc<App>,
    args: SaveFileArgs,
) -> Result<String, AppError> {
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
    .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
    match chosen.and_then(|p| p.into_path().ok()) {
        Some(path) => app.save_file_at(path, args).await,
        None => Err(AppError::new(ErrorCode::Cancelled, "已取消保存")),
    }
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
            // A demo loaded in an earlier run gets its hall server back; `--demo`
            // on a cache with no halls yet: the first minute has data.
            tauri::async_runtime::spawn(async move {
                if let Err(e) = app.start_demo(demo).await {
                    tracing::warn!(error = %e, "demo hall not started");
                }
            });
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![call])
        .run(tauri::generate_context!());
    if let Err(e) = result {
        eprintln!("好差评督查台无法启动：{e}");
        std::process::exit(1);
    }
}
