//! What the window and the browser bridge must refuse or survive: files opened
//! only through the platform API and only when this run saved them, hall codes
//! that are not plain codes, a hall that stops answering, the demo's tokens.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hcp_app::{AddHallArgs, App, OpenFileArgs, SaveFileArgs, SyncArgs};
use hcp_hall::{Faults, RunningServer};
use hcp_store::TokenVault;
use hcp_sync::SyncOptions;

mod common;

async fn server() -> RunningServer {
    common::server(5, 1_000).await
}

/// One flow per concern, all in one test so the token-store choice is set before
/// any thread reads the environment.
#[test]
fn hardening() {
    // SAFETY: set before the runtime or any other thread of this test binary runs.
    unsafe { std::env::set_var("HCP_TOKEN_STORE", "file") };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(files_open_through_the_platform_api_and_only_when_saved_by_this_run());
    rt.block_on(a_hall_whose_code_is_not_a_plain_code_is_refused());
    rt.block_on(a_stuck_hall_does_not_leave_sync_now_busy());
    rt.block_on(the_demo_hall_gets_random_tokens_each_launch());
    rt.block_on(the_evaluation_export_follows_the_list_filter());
}

async fn files_open_through_the_platform_api_and_only_when_saved_by_this_run() {
    let dir = tempfile::tempdir().unwrap();
    let exports = dir.path().join("下载");
    let opened: Arc<Mutex<Vec<PathBuf>>> = Arc::default();
    let seen = opened.clone();
    let app = App::open(dir.path().join("hcp.db"))
        .unwrap()
        .with_export_dir(&exports)
        .with_file_opener(Box::new(move |p| {
            seen.lock().unwrap().push(p.to_path_buf());
            Ok(())
        }));
    // A hall code as a hostile server might have sent it, in a report's name:
    // the path reaches the opener as one argument, characters and all.
    let name = "2026-10好差评情况通报-X&calc&^%PATH%.pdf";
    let path = app
        .save_file(SaveFileArgs {
            file_name: name.into(),
            data_base64: "JVBERi0xLjQ=".into(),
            ask: false,
        })
        .await
        .unwrap();
    assert_eq!(PathBuf::from(&path), exports.join(name));
    app.open_file(OpenFileArgs { path: path.clone() })
        .await
        .unwrap();
    assert_eq!(*opened.lock().unwrap(), vec![exports.join(name)]);

    // A file in the same folder that this run did not save is not opened…
    let planted = exports.join("planted.pdf");
    std::fs::write(&planted, b"%PDF-").unwrap();
    // …nor anything elsewhere, nor a program.
    for p in [
        planted.display().to_string(),
        "/etc/passwd".to_string(),
        dir.path().join("hcp.db").display().to_string(),
    ] {
        let e = app.open_file(OpenFileArgs { path: p }).await.unwrap_err();
        assert_eq!(e.code, "invalid_input");
        assert!(
            e.message.contains("只能打开督查台本次保存的"),
            "{}",
            e.message
        );
    }
    for bad in ["setup.exe", "run.bat", "a.pdf.lnk", "x.js"] {
        let e = app
            .save_file(SaveFileArgs {
                file_name: bad.into(),
                data_base64: "AA==".into(),
                ask: false,
            })
            .await
            .unwrap_err();
        assert_eq!(e.code, "invalid_input", "{bad}");
    }
    assert_eq!(opened.lock().unwrap().len(), 1, "nothing else was opened");
    // Saved where the save dialog said (the extension added when left out):
    // opened like the rest.
    let chosen = dir.path().join("我的文件夹");
    std::fs::create_dir_all(&chosen).unwrap();
    let at = app
        .save_file_at(
            chosen.join("十月通报"),
            SaveFileArgs {
                file_name: "2026-10好差评情况通报.pdf".into(),
                data_base64: "JVBERi0xLjQ=".into(),
                ask: true,
            },
        )
        .await
        .unwrap();
    assert_eq!(PathBuf::from(&at), chosen.join("十月通报.pdf"));
    assert_eq!(std::fs::read(&at).unwrap(), b"%PDF-1.4");
    app.open_file(OpenFileArgs { path: at }).await.unwrap();
    assert_eq!(opened.lock().unwrap().len(), 2);
    // Another run (another App) did not save it: refused there.
    let other = App::open(dir.path().join("hcp.db"))
        .unwrap()
        .with_export_dir(&exports)
        .with_file_opener(Box::new(|_| panic!("must not open")));
    assert!(other.open_file(OpenFileArgs { path }).await.is_err());
}

async fn a_hall_whose_code_is_not_a_plain_code_is_refused() {
    let srv = server().await;
    let hall = srv.state.hall_ids()[0].clone();
    srv.state
        .with_hall_mut(&hall, |h| h.profile.hall_id = "X&calc&".into())
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path().join("hcp.db")).unwrap();
    let e = app
        .add_hall(AddHallArgs {
            url: srv.base_url(&hall),
            token: srv.token(&hall).unwrap(),
            ca_file: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_input");
    assert!(
        e.message.contains("大厅编码（hall_id）“X&calc&”"),
        "{}",
        e.message
    );
    assert!(app.list_halls().await.unwrap().is_empty());
    assert!(
        TokenVault::for_database(&dir.path().join("hcp.db"))
            .get("X&calc&")
            .unwrap()
            .is_none(),
        "no token kept for a refused hall"
    );
}

async fn a_stuck_hall_does_not_leave_sync_now_busy() {
    let srv = server().await;
    let halls = srv.state.hall_ids();
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path().join("hcp.db"))
        .unwrap()
        .with_sync_options(SyncOptions {
            stall_timeout: Duration::from_secs(2),
            ..SyncOptions::default()
        });
    for h in &halls {
        app.add_hall(AddHallArgs {
            url: srv.base_url(h),
            token: srv.token(h).unwrap(),
            ca_file: None,
        })
        .await
        .unwrap();
    }
    // Hall 1 takes ten minutes before every answer.
    srv.state.set_faults(Faults {
        only_hall: Some(halls[0].clone()),
        delay_ms: 600_000,
        ..Faults::default()
    });
    let t = Instant::now();
    let r = app.sync_now(SyncArgs::default()).await.unwrap();
    assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
    let err = r.reports[0].error.as_deref().expect("hall 1 stopped");
    assert!(err.contains("没有任何进展"), "{err}");
    assert!(r.reports[1].error.is_none(), "{:?}", r.reports[1].error);
    assert!(!app.sync_status().running);
    // Not left "busy": the next sync starts (and hall 2 has nothing new).
    srv.state.set_faults(Faults::default());
    let again = app.sync_now(SyncArgs::default()).await.unwrap();
    assert!(again.reports.iter().all(|r| r.error.is_none()));
}

async fn the_demo_hall_gets_random_tokens_each_launch() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let token_of = |db: &std::path::Path| {
        let halls = hcp_store::Store::open(db).unwrap().halls().unwrap();
        TokenVault::for_database(db)
            .get(&halls[0].hall_id)
            .unwrap()
            .unwrap()
    };
    let first = {
        let app = App::open(&db).unwrap();
        app.load_demo().await.unwrap();
        token_of(&db)
    };
    assert_eq!(first.len(), 64);
    // The next launch (a new App: the old server is gone) gets other tokens.
    let app = App::open(&db).unwrap();
    assert!(app.resume_demo_if_loaded().await.unwrap());
    let second = token_of(&db);
    assert_ne!(first, second);
}

async fn the_evaluation_export_follows_the_list_filter() {
    use base64::Engine as _;
    let srv = server().await;
    let hall = srv.state.hall_ids()[0].clone();
    srv.append(
        &hall,
        "evaluation",
        &serde_json::json!({"id": "E-EXPORT-1", "rev": 1, "hall_id": hall, "channel": "web",
            "level": 1, "comment": "=cmd|' /C calc'!A0 跑了三趟",
            "evaluated_at": "2026-10-09T10:00:00+08:00", "status": "valid"}),
    );
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path().join("hcp.db")).unwrap();
    app.add_hall(AddHallArgs {
        url: srv.base_url(&hall),
        token: srv.token(&hall).unwrap(),
        ca_file: None,
    })
    .await
    .unwrap();
    app.sync_now(SyncArgs::default()).await.unwrap();
    let filter = hcp_store::EvaluationFilter {
        levels: vec![1, 2],
        ..Default::default()
    };
    let bad = app.count_evaluations(filter.clone()).await.unwrap();
    assert!(bad > 10);
    let csv = app
        .export_evaluations(hcp_app::ExportEvaluationsArgs {
            filter: filter.clone(),
            format: "csv".into(),
        })
        .await
        .unwrap();
    assert!(csv.file_name.ends_with(".csv"));
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&csv.data_base64)
        .unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM for Excel and WPS");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert_eq!(
        text.lines().count() as i64,
        bad + 1,
        "header + every bad rating"
    );
    assert!(text.contains("'=cmd|"), "the formula is shown, not run");
    assert!(
        text.lines().skip(1).all(|l| l.contains("不满意")),
        "only bad ratings"
    );

    let xlsx = app
        .export_evaluations(hcp_app::ExportEvaluationsArgs {
            filter,
            format: "xlsx".into(),
        })
        .await
        .unwrap();
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(&xlsx.data_base64)
        .unwrap();
    use calamine::Reader as _;
    let mut wb = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let range = wb.worksheet_range("评价明细").unwrap();
    assert_eq!(range.height() as i64, bad + 1);
    let header: Vec<String> = range
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    let comment = header.iter().position(|h| h == "评价内容").unwrap();
    assert!(
        header.contains(&"大厅名称".to_string()),
        "names beside the codes: {header:?}"
    );
    assert!(
        range
            .rows()
            .any(|r| r[comment].to_string().starts_with("=cmd|")),
        "text stays text in the workbook"
    );
    let e = app
        .export_evaluations(hcp_app::ExportEvaluationsArgs {
            filter: Default::default(),
            format: "exe".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_input");
}
