//! The sync against the real reference hall server on 127.0.0.1:0, into a real
//! SQLite file.

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hcp_hall::{Faults, RunningServer};
use hcp_store::Store;
use hcp_sync::{
    FetchBudget, HallEndpoint, HallReport, RetryPolicy, SyncEvent, SyncOptions, Timeouts, Token,
    sync_halls,
};
use serde_json::json;

const ADMIN: &str = "admin-test";

async fn server(halls: usize, evaluations: usize) -> RunningServer {
    hcp_hall::serve_fixture(7, halls, evaluations, ADMIN).await
}

fn options() -> SyncOptions {
    SyncOptions {
        page_limit: 250,
        concurrency: 4,
        retry: RetryPolicy {
            max_attempts: 12,
            base: Duration::from_millis(5),
            cap: Duration::from_millis(100),
            max_retry_after: Duration::from_secs(2),
        },
        timeouts: Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(10),
        },
        ..SyncOptions::default()
    }
}

mod common;

use common::endpoint;

/// Registers every hall of the server in a fresh cache.
async fn register(srv: &RunningServer, db: &Path) -> Vec<HallEndpoint> {
    common::register(srv, db, &options()).await
}

async fn sync(db: &Path, eps: Vec<HallEndpoint>) -> Vec<HallReport> {
    sync_halls(db, eps, &options(), Arc::new(|_| {})).await
}

type EvalKeys = Vec<(String, String, i64, String, u8)>;

/// What the cache must hold: the latest valid rev of every record of the server.
fn server_state(srv: &RunningServer) -> (EvalKeys, Vec<(String, String, String, i64)>) {
    let mut evals = vec![];
    let mut follow = vec![];
    for hall in srv.state.hall_ids() {
        let latest = srv.state.with_hall(&hall, |h| h.latest_records()).unwrap();
        for ((kind, id), (rev, data)) in latest {
            if kind == "evaluation" {
                let v: serde_json::Value = serde_json::from_str(&data).unwrap();
                evals.push((
                    hall.clone(),
                    id,
                    rev,
                    v["status"].as_str().unwrap().to_string(),
                    v["level"].as_u64().unwrap() as u8,
                ));
            } else {
                follow.push((kind, hall.clone(), id, rev));
            }
        }
    }
    evals.sort();
    follow.sort();
    (evals, follow)
}

fn assert_same_as_server(db: &Path, srv: &RunningServer) {
    let store = Store::open(db).unwrap();
    let (evals, follow) = server_state(srv);
    let got = store.evaluation_keys().unwrap();
    assert_eq!(got.len(), evals.len(), "evaluation count differs");
    assert!(got == evals, "evaluations differ from the server");
    assert_eq!(
        store.follow_up_keys().unwrap(),
        follow,
        "appeals/rectifications differ"
    );
    assert_eq!(
        store.evaluation_days_drift().unwrap(),
        vec![],
        "per-day figures differ from a recount"
    );
    let tally = store.all_hall_counts().unwrap();
    for h in srv.state.hall_ids() {
        assert_eq!(
            tally.get(&h).copied().unwrap_or_default(),
            store.hall_counts(&h).unwrap(),
            "the hall tally of {h} differs from a recount"
        );
    }
}

fn all_ok(reports: &[HallReport]) {
    for r in reports {
        assert!(r.error.is_none(), "{}: {:?}", r.hall_id, r.error);
    }
}

fn has_time_index(db: &Path) -> bool {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE name = 'evaluations_by_instant'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .unwrap()
        == 1
}

/// Whether every hall's last success is written.
fn ends_written(db: &Path) -> bool {
    rusqlite::Connection::open(db)
        .unwrap()
        .query_row(
            "SELECT count(*) = 0 FROM halls h LEFT JOIN sync_state s USING (hall_id)
             WHERE s.last_success_at IS NULL",
            [],
            |r| r.get::<_, bool>(0),
        )
        .unwrap()
}

/// Syncs (every hall must succeed) and says whether the time index was there as
/// each hall finished (`finished:true|false`) and, at the sync's last event,
/// whether the index and every hall's end were written (`ended:N:index:ends`).
async fn sync_watching_index(db: &Path, eps: Vec<HallEndpoint>, opts: &SyncOptions) -> Vec<String> {
    let seen = Arc::new(Mutex::new(vec![]));
    let (seen2, db2) = (seen.clone(), db.to_path_buf());
    let progress = Arc::new(move |e: &SyncEvent| match e {
        SyncEvent::Finished { .. } => {
            seen2
                .lock()
                .unwrap()
                .push(format!("finished:{}", has_time_index(&db2)));
        }
        SyncEvent::Ended { halls } => seen2.lock().unwrap().push(format!(
            "ended:{halls}:{}:{}",
            has_time_index(&db2),
            ends_written(&db2)
        )),
        _ => {}
    });
    all_ok(&sync_halls(db, eps, opts, progress).await);
    std::mem::take(&mut *seen.lock().unwrap())
}

/// The halls of a sync share one fetch-ahead budget. One far too small for a
/// page (each takes all of it) makes the halls take turns; none waits forever.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn halls_sharing_a_budget_smaller_than_a_page_take_turns_and_all_finish() {
    let srv = server(3, 1_500).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = register(&srv, &db).await;
    let opts = SyncOptions {
        shared_budget: Some(FetchBudget::new(1024)),
        concurrency: 3,
        ..options()
    };
    let reports = tokio::time::timeout(
        std::time::Duration::from_secs(60),
        sync_halls(&db, eps, &opts, Arc::new(|_: &SyncEvent| {})),
    )
    .await
    .expect("the halls took turns");
    all_ok(&reports);
    assert!(reports.iter().all(|r| r.pages > 1), "{reports:?}");
    assert_same_as_server(&db, &srv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bulk_sync_builds_the_time_index_at_its_end_and_the_next_one_keeps_it() {
    let srv = server(3, 1_500).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = register(&srv, &db).await;
    let opts = SyncOptions {
        bulk_rows: 200,
        ..options()
    };
    // Deferred after 200 rows; built again, and every hall's end written, before
    // the last event (a front end stops showing 同步中 on it).
    assert_eq!(
        sync_watching_index(&db, eps.clone(), &opts).await,
        [
            "finished:false",
            "finished:false",
            "finished:false",
            "ended:3:true:true"
        ]
    );
    assert_same_as_server(&db, &srv);

    // The cache now holds more than 200: new rows are few, the index stays.
    for hall in srv.state.hall_ids() {
        for i in 0..20 {
            srv.append(
                &hall,
                "evaluation",
                &json!({"id": format!("E-NEW-{i}"), "rev": 1, "hall_id": hall, "channel": "web",
                        "level": 5, "evaluated_at": "2026-11-09T10:00:00+08:00", "status": "valid"}),
            );
        }
    }
    assert_eq!(
        sync_watching_index(&db, eps, &opts).await,
        [
            "finished:true",
            "finished:true",
            "finished:true",
            "ended:3:true:true"
        ]
    );
    assert_same_as_server(&db, &srv);
    // The reference server sends the wire struct as is: no second copy of those;
    // the 60 appended with another key order are kept verbatim.
    let (kept, rebuilt): (i64, i64) = rusqlite::Connection::open(&db)
        .unwrap()
        .query_row(
            "SELECT sum(raw_json <> ''), sum(raw_json = '') FROM evaluations",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert_eq!(kept, 60);
    assert!(rebuilt >= 1_400, "{rebuilt}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_sync_matches_the_server_and_a_second_sync_changes_nothing() {
    let srv = server(3, 6_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = register(&srv, &db).await;
    let reports = sync(&db, eps.clone()).await;
    all_ok(&reports);
    assert!(reports.iter().all(|r| r.outcome.new > 1000));
    // Revisions and withdrawals in the generated feed came as updates.
    assert!(reports.iter().map(|r| r.outcome.updated).sum::<u64>() > 0);
    assert_same_as_server(&db, &srv);
    let store = Store::open(&db).unwrap();
    // Over the three halls (one hall's ~90 bad ratings may have no withdrawal).
    let counts: Vec<_> = srv
        .state
        .hall_ids()
        .iter()
        .map(|h| store.hall_counts(h).unwrap())
        .collect();
    assert!(
        counts.iter().map(|c| c.withdrawn).sum::<i64>() > 0
            && counts.iter().all(|c| c.appeals > 0 && c.rectifications > 0),
        "{counts:?}"
    );
    let st = store.sync_state("340825-ZWFW").unwrap();
    assert!(st.last_success_at.is_some() && st.last_error.is_none());

    let again = sync(&db, eps).await;
    all_ok(&again);
    for r in &again {
        assert_eq!((r.outcome.new, r.outcome.updated), (0, 0), "{r:?}");
    }
    assert_same_as_server(&db, &srv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_halls_using_the_same_evaluation_ids_are_both_kept() {
    let srv = server(2, 400).await;
    let halls = srv.state.hall_ids();
    for (i, hall) in halls.iter().enumerate() {
        srv.append(
            hall,
            "evaluation",
            &json!({"id": "E-SAME-1", "rev": 1, "hall_id": hall, "channel": "web", "level": i + 1,
                    "evaluated_at": "2026-10-09T10:00:00+08:00", "status": "valid"}),
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = register(&srv, &db).await;
    all_ok(&sync(&db, eps).await);
    let keys = Store::open(&db).unwrap().evaluation_keys().unwrap();
    let same: Vec<_> = keys.iter().filter(|k| k.1 == "E-SAME-1").collect();
    assert_eq!(same.len(), 2);
    assert_ne!(same[0].0, same[1].0);
    assert_eq!((same[0].4, same[1].4), (1, 2)); // 340104 sorts first and got level 1
    assert_same_as_server(&db, &srv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lower_rev_after_higher_is_ignored_and_revised_and_withdrawn_end_in_last_state() {
    let srv = server(1, 200).await;
    let hall = srv.state.hall_ids()[0].clone();
    let ev = |id: &str, rev: i64, level: u8, status: &str| {
        json!({"id": id, "rev": rev, "hall_id": hall, "channel": "qr_code", "level": level,
               "evaluated_at": "2026-10-09T10:00:00+08:00", "status": status})
    };
    srv.append(&hall, "evaluation", &ev("E-R", 1, 1, "valid"));
    srv.append(&hall, "evaluation", &ev("E-R", 3, 5, "revised"));
    srv.append(&hall, "evaluation", &ev("E-R", 2, 2, "revised")); // late, lower
    srv.append(&hall, "evaluation", &ev("E-W", 1, 2, "valid"));
    srv.append(&hall, "evaluation", &ev("E-W", 2, 2, "withdrawn"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = register(&srv, &db).await;
    all_ok(&sync(&db, eps.clone()).await);
    let keys = Store::open(&db).unwrap().evaluation_keys().unwrap();
    let find = |id: &str| keys.iter().find(|k| k.1 == id).cloned().unwrap();
    assert_eq!(
        find("E-R"),
        (hall.clone(), "E-R".into(), 3, "revised".into(), 5)
    );
    assert_eq!(
        find("E-W"),
        (hall.clone(), "E-W".into(), 2, "withdrawn".into(), 2)
    );

    // The lower rev arriving in a later sync is ignored too.
    srv.append(&hall, "evaluation", &ev("E-R", 1, 1, "valid"));
    let r = sync(&db, eps).await;
    all_ok(&r);
    assert_eq!(r[0].outcome.unchanged, 1);
    let keys = Store::open(&db).unwrap().evaluation_keys().unwrap();
    assert!(keys.contains(&(hall.clone(), "E-R".into(), 3, "revised".into(), 5)));
    assert_same_as_server(&db, &srv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_page_delivered_twice_changes_nothing() {
    let srv = server(1, 1_500).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = register(&srv, &db).await;
    all_ok(&sync(&db, eps.clone()).await);
    let before = Store::open(&db).unwrap().evaluation_keys().unwrap();
    // Forget the cursor: every page is delivered a second time.
    Store::open(&db)
        .unwrap()
        .restart_feed(&eps[0].hall_id)
        .unwrap();
    let r = sync(&db, eps).await;
    all_ok(&r);
    assert_eq!(
        (
            r[0].outcome.new,
            r[0].outcome.updated,
            r[0].outcome.quarantined
        ),
        (0, 0, 0)
    );
    assert!(r[0].outcome.unchanged > 1_500);
    assert_eq!(Store::open(&db).unwrap().evaluation_keys().unwrap(), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_cursor_resyncs_to_the_exact_same_end_state() {
    let srv = server(2, 2_000).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = register(&srv, &db).await;
    all_ok(&sync(&db, eps.clone()).await);
    srv.state.expire_cursors();
    let hall = eps[0].hall_id.clone();
    srv.append(
        &hall,
        "evaluation",
        &json!({"id": "E-AFTER-410", "rev": 1, "hall_id": hall, "channel": "app", "level": 1,
                "evaluated_at": "2026-10-30T10:00:00+08:00", "status": "valid"}),
    );
    let r = sync(&db, eps).await;
    all_ok(&r);
    assert!(r.iter().all(|r| r.restarts == 1), "{r:?}");
    assert_eq!(r.iter().map(|r| r.outcome.new).sum::<u64>(), 1);
    assert_same_as_server(&db, &srv);
    let st = Store::open(&db).unwrap().sync_state(&hall).unwrap();
    assert_eq!(st.restarts_total, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_429s_slow_answers_and_cut_bodies_are_survived() {
    let srv = server(2, 3_000).await;
    srv.state.set_faults(Faults {
        fail_every: 3,
        rate_limit_every: 7,
        retry_after_secs: 1,
        delay_ms: 20,
        truncate_every: 5,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = {
        // Registration itself goes through the faults too.
        srv.state.set_faults(Faults::default());
        let eps = register(&srv, &db).await;
        srv.state.set_faults(Faults {
            fail_every: 3,
            rate_limit_every: 7,
            retry_after_secs: 1,
            delay_ms: 20,
            truncate_every: 5,
            ..Faults::default()
        });
        eps
    };
    let events = Arc::new(Mutex::new(vec![]));
    let ev2 = events.clone();
    let reports = sync_halls(
        &db,
        eps,
        &options(),
        Arc::new(move |e: &SyncEvent| {
            if let SyncEvent::Retrying { reason, .. } = e {
                ev2.lock().unwrap().push(reason.clone());
            }
        }),
    )
    .await;
    all_ok(&reports);
    let reasons = events.lock().unwrap().clone();
    assert!(reasons.iter().any(|r| r.contains("500")), "{reasons:?}");
    assert!(reasons.iter().any(|r| r.contains("429")), "{reasons:?}");
    assert!(
        reasons.iter().any(|r| r.contains("中途断开")),
        "{reasons:?}"
    );
    assert!(reports.iter().all(|r| r.retries > 0));
    srv.state.set_faults(Faults::default());
    assert_same_as_server(&db, &srv);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invalid_records_are_quarantined_with_reason_and_neighbours_kept() {
    let srv = server(1, 100).await;
    let hall = srv.state.hall_ids()[0].clone();
    let ok = |id: &str| {
        json!({"id": id, "rev": 1, "hall_id": hall, "channel": "web", "level": 4,
               "evaluated_at": "2026-10-09T10:00:00+08:00", "status": "valid"})
    };
    srv.append(&hall, "evaluation", &ok("E-BEFORE"));
    let mut bad = ok("E-BAD-LEVEL");
    bad["level"] = json!(7);
    let s_level = srv.append(&hall, "evaluation", &bad).unwrap();
    let mut no_time = ok("E-NO-TIME");
    no_time.as_object_mut().unwrap().remove("evaluated_at");
    let s_time = srv.append(&hall, "evaluation", &no_time).unwrap();
    let mut bad_time = ok("E-BAD-TIME");
    bad_time["evaluated_at"] = json!("昨天下午");
    srv.append(&hall, "evaluation", &bad_time);
    let mut long = ok("E-LONG");
    long["comment"] = json!("长".repeat(2001));
    srv.append(&hall, "evaluation", &long);
    srv.append(&hall, "evaluation", &json!("not an object"));
    srv.append(&hall, "complaint", &json!({"id": "C1"})); // a kind from the future
    srv.append(&hall, "evaluation", &ok("E-AFTER"));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = register(&srv, &db).await;
    let r = sync(&db, eps.clone()).await;
    all_ok(&r);
    assert_eq!(r[0].outcome.quarantined, 5);
    assert_eq!(r[0].outcome.skipped, 1);
    let store = Store::open(&db).unwrap();
    let keys = store.evaluation_keys().unwrap();
    assert!(keys.iter().any(|k| k.1 == "E-BEFORE"));
    assert!(keys.iter().any(|k| k.1 == "E-AFTER"));
    assert!(
        !keys
            .iter()
            .any(|k| k.1.starts_with("E-BAD") || k.1 == "E-LONG" || k.1 == "E-NO-TIME")
    );
    let q = store.quarantine(Some(&hall)).unwrap();
    assert_eq!(q.len(), 5);
    let by_seq = |s: u64| q.iter().find(|x| x.seq == s as i64).unwrap();
    assert_eq!(
        by_seq(s_level).reason,
        "字段 level：评价等级为 7，应为 1–5 的整数"
    );
    assert_eq!(by_seq(s_time).reason, "字段 evaluated_at：缺失（必填）");
    assert!(q.iter().any(|x| x.reason.contains("超过上限 2000 字")));
    assert!(
        q.iter()
            .any(|x| x.reason.contains("无法解析的时间 “昨天下午”"))
    );
    assert!(
        by_seq(s_level).raw.contains("\"E-BAD-LEVEL\""),
        "the raw record is kept"
    );
    assert!(q.iter().any(|x| x.raw == "\"not an object\""));
    assert_eq!(store.sync_state(&hall).unwrap().skipped_total, 1);
    // Syncing again does not quarantine them twice.
    drop(store);
    Store::open(&db).unwrap().restart_feed(&hall).unwrap();
    all_ok(&sync(&db, eps).await);
    assert_eq!(Store::open(&db).unwrap().quarantine(None).unwrap().len(), 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_hall_gets_a_clear_reason_while_the_others_finish() {
    let srv = server(3, 900).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let mut eps = register(&srv, &db).await;
    eps[1].token = Token::new("wrong-token");
    // And one hall that is unreachable: nothing listens on port 9 of loopback.
    eps[2].base_url = "http://127.0.0.1:9/h/x/".into();
    let mut opts = options();
    opts.retry.max_attempts = 3;
    let reports = sync_halls(&db, eps.clone(), &opts, Arc::new(|_| {})).await;
    assert!(reports[0].error.is_none());
    assert!(reports[0].outcome.new > 0);
    let e1 = reports[1].error.as_deref().unwrap();
    assert!(e1.contains("401"), "{e1}");
    assert!(!e1.contains(&srv.token(&eps[1].hall_id).unwrap()));
    let e2 = reports[2].error.as_deref().unwrap();
    assert!(
        e2.contains("重试 3 次后仍失败") && e2.contains("无法连接"),
        "{e2}"
    );
    let store = Store::open(&db).unwrap();
    assert_eq!(
        store
            .sync_state(&eps[1].hall_id)
            .unwrap()
            .last_error
            .as_deref(),
        Some(e1)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_change_in_the_feed_refetches_the_profile() {
    let srv = server(1, 300).await;
    let hall = srv.state.hall_ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let eps = register(&srv, &db).await;
    all_ok(&sync(&db, eps.clone()).await);
    let mut profile = srv.state.with_hall(&hall, |h| h.profile.clone()).unwrap();
    profile.profile_rev += 1;
    profile.windows[0].name = "综合受理改名窗口".into();
    srv.state.with_hall_mut(&hall, |h| {
        h.profile = profile.clone();
        h.append(hcp_hall::NewChange::new(
            "profile",
            &hcp_core::wire::ProfileChanged {
                profile_rev: profile.profile_rev,
            },
        ));
    });
    all_ok(&sync(&db, eps).await);
    let store = Store::open(&db).unwrap();
    assert_eq!(
        store.hall(&hall).unwrap().unwrap().profile_rev,
        profile.profile_rev
    );
    assert_eq!(
        store.hall_profile(&hall).unwrap().windows[0].name,
        "综合受理改名窗口"
    );
}

/// Raw HTTP/1.1 exchange with the reference server: status line + headers + body.
async fn raw_get(srv: &RunningServer, path: &str, headers: &str) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(srv.addr).await.unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = vec![];
    s.read_to_end(&mut buf).await.unwrap();
    String::from_utf8_lossy(&buf).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reference_server_speaks_gzip_problem_json_and_cursors_per_the_spec() {
    let srv = server(2, 300).await;
    let hall = "340825-ZWFW";
    let token = srv.token(hall).unwrap();
    let auth = format!("Authorization: Bearer {token}\r\n");
    let gz = raw_get(
        &srv,
        &format!("/h/{hall}/v1/changes?limit=100"),
        &format!("{auth}Accept-Encoding: gzip\r\n"),
    )
    .await;
    assert!(gz.starts_with("HTTP/1.1 200"), "{gz:.200}");
    assert!(
        gz.to_ascii_lowercase().contains("content-encoding: gzip"),
        "{gz:.300}"
    );
    let none = raw_get(&srv, &format!("/h/{hall}/v1/hall"), "").await;
    assert!(none.starts_with("HTTP/1.1 401"));
    assert!(none.contains("application/problem+json"));
    let other = srv.token("340104-ZWFW").unwrap();
    let forbidden = raw_get(
        &srv,
        &format!("/h/{hall}/v1/hall"),
        &format!("Authorization: Bearer {other}\r\n"),
    )
    .await;
    assert!(forbidden.starts_with("HTTP/1.1 403"), "{forbidden:.100}");
    let bad_cursor = raw_get(&srv, &format!("/h/{hall}/v1/changes?after=zzz"), &auth).await;
    assert!(bad_cursor.starts_with("HTTP/1.1 400"));
    srv.state.set_faults(Faults {
        rate_limit_every: 1,
        retry_after_secs: 7,
        ..Faults::default()
    });
    let limited = raw_get(&srv, &format!("/h/{hall}/v1/hall"), &auth).await;
    assert!(limited.starts_with("HTTP/1.1 429"));
    assert!(limited.to_ascii_lowercase().contains("retry-after: 7"));
    srv.state.set_faults(Faults::default());

    // Cursors: a page's `next` resumes exactly after it; an expired one answers 410.
    let ep = endpoint(&srv, hall);
    let client = hcp_sync::HallClient::new(&ep, &options()).unwrap();
    let (_, next, more) = client.changes(None, 100, &|_| {}).await.unwrap();
    assert!(more);
    let (body, _, _) = client.changes(Some(&next), 1, &|_| {}).await.unwrap();
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(v["changes"][0]["seq"], 101);
    srv.state.expire_cursors();
    assert!(matches!(
        client.changes(Some(&next), 1, &|_| {}).await,
        Err(hcp_sync::SyncError::Gone)
    ));

    // Decisions are idempotent by id.
    let d = hcp_core::wire::Decision {
        id: "0b8f3c1e-5d7a-4c61-9a52-8c1f2d8e9a10".into(),
        kind: "case_opened".into(),
        evaluation_id: "E202610010000001".into(),
        ref_id: None,
        outcome: None,
        note: String::new(),
        decided_at: chrono::DateTime::parse_from_rfc3339("2026-10-10T15:02:00+08:00").unwrap(),
        officer: "督查员 陈静".into(),
    };
    let unknown = hcp_core::wire::Decision {
        id: "x2".into(),
        evaluation_id: "NOPE".into(),
        ..d.clone()
    };
    let req = hcp_core::wire::DecisionsRequest {
        decisions: vec![d.clone(), d.clone(), unknown],
    };
    let r = client.post_decisions(&req, &|_| {}).await.unwrap();
    use hcp_core::wire::DecisionStatus as S;
    let st: Vec<S> = r.results.iter().map(|x| x.status).collect();
    assert_eq!(st, vec![S::Accepted, S::Duplicate, S::Rejected]);
    assert!(r.results[2].reason.as_deref().unwrap().contains("NOPE"));
}
