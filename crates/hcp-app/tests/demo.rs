//! The zero-configuration first run: the embedded demo hall, loaded through the
//! command set into a real SQLite file.

use hcp_app::{App, DashboardArgs, SyncArgs};

#[tokio::test]
async fn the_demo_loads_into_an_empty_cache_and_loading_again_changes_nothing() {
    // File tokens are the fallback on this machine anyway; the demo's halls are
    // removed again below so nothing is left in a keyring elsewhere either.
    let dir = tempfile::tempdir().unwrap();
    let app = App::open(dir.path().join("hcp.db")).unwrap();
    let loaded = app.load_demo().await.unwrap();
    assert_eq!(loaded.halls.len(), 3);
    assert!(
        loaded
            .reports
            .iter()
            .all(|r| r.error.is_none() && r.outcome.new > 0)
    );
    let info = app.app_info().await.unwrap();
    assert!(info.has_halls && info.demo_running);
    let d = app.dashboard(DashboardArgs::default()).await.unwrap();
    assert!(d.month_counts.counted > 8_000, "{:?}", d.month_counts);
    let again = app.load_demo().await.unwrap();
    assert!(again.reports.iter().all(|r| r.outcome.new == 0));
    // A fresh App over the same file (the app restarted) brings the demo hall back.
    drop(app);
    let app = App::open(dir.path().join("hcp.db")).unwrap();
    assert!(app.resume_demo_if_loaded().await.unwrap());
    let s = app.sync_now(SyncArgs::default()).await.unwrap();
    assert!(s.reports.iter().all(|r| r.error.is_none()), "{s:?}");
    for h in loaded.halls {
        app.remove_hall(hcp_app::HallIdArgs { hall_id: h })
            .await
            .unwrap();
    }
}
