//! Halls that misbehave on purpose (hcp-hall's fault switches aimed at one hall),
//! against the real reference server on 127.0.0.1:0 and a real SQLite file: the
//! bad hall fails with a clear reason, or loses only its bad records; the other
//! hall of the same sync ends exactly as if the bad one were not there.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use hcp_hall::{Faults, RunningServer};
use hcp_store::Store;
use hcp_sync::{
    HallEndpoint, HallReport, RetryPolicy, SyncError, SyncOptions, Timeouts, sync_halls,
};

const ADMIN: &str = "admin-test";
async fn server(evaluations: usize) -> RunningServer {
    hcp_hall::serve_fixture(11, 2, evaluations, ADMIN).await
}

fn options() -> SyncOptions {
    SyncOptions {
        page_limit: 300,
        concurrency: 2,
        retry: RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(5),
            cap: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(1),
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(20),
        },
        max_response_bytes: 8 * 1024 * 1024,
        stall_timeout: Duration::from_secs(30),
        shared_client: None,
        shared_budget: None,
        bulk_rows: hcp_sync::DEFAULT_BULK_ROWS,
    }
}

mod common;

use common::endpoint;

/// Registers both halls (before any fault is switched on).
async fn register(srv: &RunningServer, db: &Path) -> Vec<HallEndpoint> {
    common::register(srv, db, &options()).await
}

/// The stored evaluations of one hall: (id, rev, status, level).
fn stored(db: &Path, hall: &str) -> Vec<(String, i64, String, u8)> {
    Store::open(db)
        .unwrap()
        .evaluation_keys()
        .unwrap()
        .into_iter()
        .filter(|k| k.0 == hall)
        .map(|k| (k.1, k.2, k.3, k.4))
        .collect()
}

/// What the server holds for one hall: (id, rev, status, level).
fn expected(srv: &RunningServer, hall: &str) -> Vec<(String, i64, String, u8)> {
    let latest = srv.state.with_hall(hall, |h| h.latest_records()).unwrap();
    let mut out: Vec<_> = latest
        .into_iter()
        .filter(|((kind, _), _)| kind == "evaluation")
        .map(|((_, id), (rev, data))| {
            let v: serde_json::Value = serde_json::from_str(&data).unwrap();
            (
                id,
                rev,
                v["status"].as_str().unwrap().to_string(),
                v["level"].as_u64().unwrap() as u8,
            )
        })
        .collect();
    out.sort();
    out
}

/// Syncs both halls with hall 1 misbehaving as `faults` say; returns the reports
/// (hall 1 first) and asserts hall 2 came out exact.
async fn sync_with_bad_first_hall(
    srv: &RunningServer,
    db: &Path,
    faults: Faults,
    opts: &SyncOptions,
) -> (HallReport, HallReport) {
    let eps = register(srv, db).await;
    let halls = srv.state.hall_ids();
    srv.state.set_faults(Faults {
        only_hall: Some(halls[0].clone()),
        ..faults
    });
    let reports = sync_halls(db, eps, opts, Arc::new(|_| {})).await;
    srv.state.set_faults(Faults::default());
    let (bad, good) = (reports[0].clone(), reports[1].clone());
    assert_eq!(bad.hall_id, halls[0]);
    assert!(good.error.is_none(), "hall 2 failed: {:?}", good.error);
    assert_eq!(
        stored(db, &halls[1]),
        expected(srv, &halls[1]),
        "hall 2 must be exact"
    );
    assert_eq!(
        Store::open(db).unwrap().evaluation_days_drift().unwrap(),
        vec![],
        "per-day figures match a recount"
    );
    (bad, good)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_empty_page_with_more_fails_that_hall_after_bounded_retries() {
    let srv = server(2_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let started = Instant::now();
    let (bad, _) = sync_with_bad_first_hall(
        &srv,
        &db,
        Faults {
            empty_more: true,
            ..Faults::default()
        },
        &options(),
    )
    .await;
    let err = bad.error.expect("hall 1 must fail");
    assert!(err.contains("游标没有前进"), "{err}");
    assert!(err.contains("重试 4 次"), "{err}");
    assert_eq!(bad.pages, 0);
    assert!(started.elapsed() < Duration::from_secs(30));
    let st = Store::open(&db).unwrap().sync_state(&bad.hall_id).unwrap();
    assert_eq!(st.last_error.as_deref(), Some(err.as_str()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_bigger_than_the_cap_after_decompression_fails_that_hall_at_once() {
    let srv = server(2_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    // 40 MiB of whitespace gzips to a few hundred KB: only the decompressed count
    // can catch it.
    let (bad, _) = sync_with_bad_first_hall(
        &srv,
        &db,
        Faults {
            huge_page_mb: 40,
            ..Faults::default()
        },
        &options(),
    )
    .await;
    let err = bad.error.expect("hall 1 must fail");
    assert!(err.contains("超过 8 MiB 上限"), "{err}");
    assert_eq!(bad.retries, 0, "a page over the cap is not fetched again");
    assert!(stored(&db, &bad.hall_id).is_empty(), "nothing of it stored");
    // Without the fault, the same hall then syncs normally.
    let eps = vec![endpoint(&srv, &bad.hall_id)];
    let again = sync_halls(&db, eps, &options(), Arc::new(|_| {})).await;
    assert!(again[0].error.is_none(), "{:?}", again[0].error);
    assert_eq!(stored(&db, &bad.hall_id), expected(&srv, &bad.hall_id));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_are_not_utf8_are_quarantined_and_the_rest_of_the_feed_arrives() {
    let srv = server(2_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let hall = srv.state.hall_ids()[0].clone();
    let total = srv.state.with_hall(&hall, |h| h.len()).unwrap() as u64;
    let (bad, _) = sync_with_bad_first_hall(
        &srv,
        &db,
        Faults {
            bad_utf8_every: 7,
            ..Faults::default()
        },
        &options(),
    )
    .await;
    assert!(bad.error.is_none(), "{:?}", bad.error);
    assert_eq!(bad.records, total, "every change of the feed arrived");
    let store = Store::open(&db).unwrap();
    let q = store.quarantine(Some(&hall)).unwrap();
    assert!(!q.is_empty());
    assert_eq!(bad.outcome.quarantined, q.len() as u64);
    for row in &q {
        assert_eq!(row.seq % 7, 0, "only the corrupted changes: {row:?}");
        assert_eq!(row.kind, "evaluation");
        assert!(row.reason.contains("UTF-8"), "{}", row.reason);
        assert!(
            row.raw.contains("\"id\""),
            "its id can be read: {}",
            row.raw
        );
    }
    // Every evaluation the server holds is here unless its latest revision was a
    // corrupted change.
    let have = stored(&db, &hall);
    let want = expected(&srv, &hall);
    assert!(have.len() < want.len() && have.len() + q.len() >= want.len());
    for e in &have {
        assert!(want.contains(e), "{e:?} is exactly the server's");
    }
    // Resuming: the cursor is at the end, a second sync brings nothing new and
    // quarantines nothing twice.
    let again = sync_halls(
        &db,
        vec![endpoint(&srv, &hall)],
        &options(),
        Arc::new(|_| {}),
    )
    .await;
    assert!(again[0].error.is_none());
    assert_eq!((again[0].records, again[0].outcome.quarantined), (0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hall_that_stops_answering_is_stopped_and_one_that_keeps_going_is_not() {
    let srv = server(2_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let opts = SyncOptions {
        stall_timeout: Duration::from_secs(2),
        ..options()
    };
    let started = Instant::now();
    // Hall 1 takes a minute before each answer: no progress.
    let (bad, _) = sync_with_bad_first_hall(
        &srv,
        &db,
        Faults {
            delay_ms: 60_000,
            ..Faults::default()
        },
        &opts,
    )
    .await;
    let err = bad.error.expect("hall 1 must be stopped");
    assert!(err.contains("2 秒内没有任何进展"), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "{:?}",
        started.elapsed()
    );

    // A slow hall that keeps sending pages runs past the stall limit and finishes.
    let dir2 = tempfile::tempdir().unwrap();
    let db2 = dir2.path().join("hcp.db");
    let slow = SyncOptions {
        page_limit: 50,
        stall_timeout: Duration::from_millis(700),
        ..options()
    };
    let eps = register(&srv, &db2).await;
    srv.state.set_faults(Faults {
        delay_ms: 150,
        ..Faults::default()
    });
    let t = Instant::now();
    let reports = sync_halls(&db2, eps, &slow, Arc::new(|_| {})).await;
    srv.state.set_faults(Faults::default());
    assert!(
        t.elapsed() > slow.stall_timeout * 3,
        "ran well past the limit: {:?}",
        t.elapsed()
    );
    for r in &reports {
        assert!(r.error.is_none(), "{}: {:?}", r.hall_id, r.error);
        assert_eq!(stored(&db2, &r.hall_id), expected(&srv, &r.hall_id));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redirect_is_not_followed_and_says_where_it_pointed() {
    let srv = server(600).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let (bad, _) = sync_with_bad_first_hall(
        &srv,
        &db,
        Faults {
            redirect_to: Some("http://10.9.9.9/elsewhere/".into()),
            ..Faults::default()
        },
        &options(),
    )
    .await;
    let err = bad.error.expect("hall 1 must fail");
    assert!(
        err.contains("302") && err.contains("http://10.9.9.9/elsewhere/"),
        "{err}"
    );
    assert!(err.contains("不跟随重定向"), "{err}");
    // Registration refuses it the same way.
    let hall = srv.state.hall_ids()[0].clone();
    srv.state.set_faults(Faults {
        redirect_to: Some("http://10.9.9.9/".into()),
        ..Faults::default()
    });
    let e = hcp_sync::fetch_profile(&endpoint(&srv, &hall), &options())
        .await
        .unwrap_err();
    assert!(
        matches!(e, SyncError::Redirected { status: 302, .. }),
        "{e}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ca_file_over_a_megabyte_is_refused_before_it_is_read() {
    let srv = server(10).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, vec![b'A'; 2 * 1024 * 1024]).unwrap();
    let ep = HallEndpoint {
        ca_file: Some(ca),
        ..endpoint(&srv, &srv.state.hall_ids()[0])
    };
    let e = hcp_sync::fetch_profile(&ep, &options()).await.unwrap_err();
    assert!(e.to_string().contains("超过 1 MiB"), "{e}");
}

#[test]
fn plain_http_beyond_this_machine_is_warned_about() {
    use hcp_sync::transport_warning;
    assert!(transport_warning("http://10.1.2.3:8080/hcp/").is_some());
    assert!(transport_warning("http://hall.example.gov.cn/").is_some());
    for quiet in [
        "https://10.1.2.3/hcp/",
        "http://127.0.0.1:8640/h/x/",
        "http://localhost/",
        "http://[::1]:80/",
    ] {
        assert!(transport_warning(quiet).is_none(), "{quiet}");
    }
}
