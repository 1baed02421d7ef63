//! The hub when things go wrong, on a real PostgreSQL with the real reference hall
//! and the `hcp` binary: killed with SIGKILL in the middle of a hall sync, of the
//! delivery of decisions, and of a batch of actions; two hub processes on one
//! database with one killed mid-run. Afterwards nothing is lost or doubled — hall
//! records, cases, actions, decisions at the hall.

#[path = "../support/pg.rs"]
mod pg;

mod common;
use common::text;

use std::collections::{BTreeMap, HashSet};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use hcp_hall::Faults;
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse 1";

async fn count(c: &tokio_postgres::Client, sql: &str) -> i64 {
    c.query_one(sql, &[]).await.unwrap().get(0)
}

/// Waits until `sql` counts at least `n` (or panics after `secs`).
async fn wait_count(c: &tokio_postgres::Client, sql: &str, n: i64, secs: u64) -> i64 {
    let until = Instant::now() + Duration::from_secs(secs);
    loop {
        let got = count(c, sql).await;
        if got >= n {
            return got;
        }
        assert!(Instant::now() < until, "{sql}: {got} < {n}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// SIGKILL (std's kill) and reap.
fn kill(mut child: Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

fn serve(pg_url: &str, sync_every: &str) -> common::ServedHub {
    common::serve_hub(pg_url, "127.0.0.1:0", &["--sync-every", sync_every])
}

async fn setup(
    name: &str,
    seed: u64,
    evaluations: usize,
) -> (
    pg::PgCluster,
    String,
    hcp_hall::RunningServer,
    String,
    tempfile::TempDir,
) {
    let cluster = pg::PgCluster::start();
    let url = cluster.database(name).await;
    let dir = tempfile::tempdir().unwrap();
    let srv = hcp_hall::serve_fixture(seed, 1, evaluations, "admin").await;
    let hall = srv.state.hall_ids()[0].clone();
    common::hub_admin(&url, &["init"]).await;
    let tf = dir.path().join("token");
    std::fs::write(&tf, srv.token(&hall).unwrap()).unwrap();
    common::hub_add_hall(&url, &srv.base_url(&hall), tf).await;
    (cluster, url, srv, hall, dir)
}

/// What a desk syncing the hall directly holds: (kind, id) → rev, and the states of
/// its cases by evaluation.
async fn desk_truth(
    srv: &hcp_hall::RunningServer,
    hall: &str,
    dir: &std::path::Path,
) -> (BTreeMap<(String, String), i64>, BTreeMap<String, String>) {
    let db = dir.join("desk.db");
    let tf = dir.join("desk-token");
    std::fs::write(&tf, srv.token(hall).unwrap()).unwrap();
    let out = common::add_hall(&db, srv.base_url(hall), tf).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    let db2 = db.clone();
    let out = tokio::task::spawn_blocking(move || common::hcp(&db2, &["sync", "--no-push"]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let c = rusqlite::Connection::open(&db).unwrap();
    let mut records = BTreeMap::new();
    for (kind, table) in [
        ("evaluation", "evaluations"),
        ("appeal", "appeals"),
        ("rectification", "rectifications"),
    ] {
        let mut s = c.prepare(&format!("SELECT id, rev FROM {table}")).unwrap();
        for r in s
            .query_map([], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?)))
            .unwrap()
        {
            let (id, rev) = r.unwrap();
            records.insert((kind.to_owned(), id), rev);
        }
    }
    let mut s = c
        .prepare("SELECT evaluation_id, state FROM cases WHERE kind = 'bad_rating'")
        .unwrap();
    let cases = s
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    (records, cases)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_killed_mid_sync_and_mid_delivery_loses_and_doubles_nothing() {
    let (_cluster, url, srv, hall, dir) = setup("killed", 71, 40_000).await;
    let c = pg::client(&url).await;

    // Killed while pages are being stored.
    srv.state.set_faults(Faults {
        delay_ms: 250,
        ..Faults::default()
    });
    let child = common::hub_command(&url, &["sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let stored = wait_count(&c, "SELECT count(*) FROM hub_records", 1, 60).await;
    kill(child);
    let at_kill = count(&c, "SELECT count(*) FROM hub_records").await;
    assert!(at_kill >= stored);

    // Killed after the hall heard the decisions and before it answered.
    srv.state.set_faults(Faults {
        decisions_answer_delay_ms: 5_000,
        ..Faults::default()
    });
    let child = common::hub_command(&url, &["sync"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let until = Instant::now() + Duration::from_secs(60);
    while srv
        .state
        .with_hall(&hall, |h| h.decision_log().len())
        .unwrap()
        == 0
    {
        assert!(Instant::now() < until, "no decision reached the hall");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    kill(child);
    let unanswered = count(
        &c,
        "SELECT count(*) FROM hub_outbox WHERE state = 'pending'",
    )
    .await;
    assert!(
        unanswered > 0,
        "the kill came after the answers were stored"
    );

    // Restarted: the sync finishes and the delivery is settled.
    srv.state.set_faults(Faults::default());
    common::hub_admin(&url, &["sync"]).await;

    let (records, cases) = desk_truth(&srv, &hall, dir.path()).await;
    let on_hub: BTreeMap<(String, String), i64> = c
        .query("SELECT kind, id, rev FROM hub_records", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    assert!(
        at_kill < on_hub.len() as i64,
        "the first kill was not mid-sync"
    );
    assert_eq!(on_hub, records);
    let hub_cases: BTreeMap<String, String> = c
        .query("SELECT evaluation_id, state FROM hub_cases", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(hub_cases, cases);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM hub_outbox WHERE state = 'pending'"
        )
        .await,
        0
    );
    let log = srv
        .state
        .with_hall(&hall, |h| h.decision_log().to_vec())
        .unwrap();
    let mut ids = HashSet::new();
    assert!(
        log.iter().all(|d| ids.insert(d.id.clone())),
        "a decision twice"
    );
    let opened: HashSet<&str> = log
        .iter()
        .filter(|d| d.kind == "case_opened")
        .map(|d| d.evaluation_id.as_str())
        .collect();
    assert_eq!(opened.len(), cases.len());
    assert_eq!(
        log.iter().filter(|d| d.kind == "case_opened").count(),
        cases.len(),
        "a case opened twice at the hall"
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM hub_outbox").await as usize,
        log.len()
    );
}

async fn login(http: &reqwest::Client, base: &str, name: &str) -> String {
    let r: Value = http
        .post(format!("{base}v1/login"))
        .json(&json!({"name": name, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_owned()
}

async fn post_actions(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    actions: &[Value],
) -> Result<Vec<Value>, reqwest::Error> {
    let r: Value = http
        .post(format!("{base}v1/actions"))
        .bearer_auth(token)
        .json(&json!({ "actions": actions }))
        .send()
        .await?
        .json()
        .await?;
    Ok(r["results"].as_array().cloned().unwrap_or_default())
}

fn verify(case_id: i64) -> Value {
    json!({ "id": uuid::Uuid::new_v4().to_string(), "case_id": case_id, "expected_version": 1,
            "action": { "type": "verify", "outcome": "true", "note": "属实，转整改" } })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hub_processes_on_one_database_one_killed_mid_batch() {
    let (_cluster, url, srv, hall, dir) = setup("pair", 73, 30_000).await;
    let pw = dir.path().join("pw");
    std::fs::write(&pw, PASSWORD).unwrap();
    common::hub_add_user(&url, "陈静", "officer", None, pw.to_str().unwrap()).await;
    common::hub_admin(&url, &["sync"]).await;
    let c = pg::client(&url).await;
    let open: Vec<i64> = c
        .query(
            "SELECT case_id FROM hub_cases WHERE state = 'open' AND version = 1 ORDER BY case_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(open.len() >= 520, "{}", open.len());

    // Two hubs on one database, both syncing every second.
    let h1 = serve(&url, "1");
    let h2 = serve(&url, "1");
    let (url1, url2) = (h1.url.clone(), h2.url.clone());
    let http = reqwest::Client::new();
    // One session works on both: the hubs keep nothing of their own.
    let token = login(&http, &url1, "陈静").await;

    // Clients spread over both.
    let first: Vec<Value> = open[..20].iter().map(|id| verify(*id)).collect();
    for (i, a) in first.iter().enumerate() {
        let base = if i % 2 == 0 { &url1 } else { &url2 };
        let r = post_actions(&http, base, &token, std::slice::from_ref(a))
            .await
            .unwrap();
        assert_eq!(r[0]["status"], "accepted", "{}", r[0]);
    }

    // A batch of 500 to the first hub, killed while it works through it.
    let batch: Vec<Value> = open[20..520].iter().map(|id| verify(*id)).collect();
    let sent = {
        let (http, url1, token, batch) = (http.clone(), url1.clone(), token.clone(), batch.clone());
        tokio::spawn(async move { post_actions(&http, &url1, &token, &batch).await })
    };
    let done = wait_count(
        &c,
        "SELECT count(*) FROM hub_actions WHERE status = 'accepted'",
        40,
        60,
    )
    .await;
    drop(h1); // SIGKILL
    // A commit already on its way when the process died may still land: count
    // once PostgreSQL has seen the connection go.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let at_kill = count(
        &c,
        "SELECT count(*) FROM hub_actions WHERE status = 'accepted'",
    )
    .await;
    assert!(
        sent.await.unwrap().is_err(),
        "the batch finished before the kill"
    );
    assert!(at_kill >= done && at_kill < 520, "{at_kill}");

    // The client sends everything again to the survivor: each action lands once.
    let mut all = first.clone();
    all.extend(batch);
    let mut statuses = BTreeMap::new();
    for chunk in all.chunks(500) {
        for r in post_actions(&http, &url2, &token, chunk).await.unwrap() {
            *statuses
                .entry(r["status"].as_str().unwrap().to_owned())
                .or_insert(0) += 1;
        }
    }
    assert_eq!(statuses.get("rejected"), None, "{statuses:?}");
    assert_eq!(statuses["duplicate"], at_kill);
    assert_eq!(statuses["accepted"] + statuses["duplicate"], 520);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM hub_actions WHERE status = 'accepted'"
        )
        .await,
        520
    );
    let ids: Vec<i64> = open[..520].to_vec();
    let versions: Vec<i64> = c
        .query(
            "SELECT version FROM hub_cases WHERE case_id = ANY($1)",
            &[&ids],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(versions.len(), 520);
    assert!(versions.iter().all(|v| *v == 2), "a case moved twice");
    assert_eq!(
        count(&c, "SELECT count(*) FROM hub_audit WHERE action = 'verify'").await,
        520
    );

    // The survivor keeps syncing the hall: a new bad rating gets its case.
    srv.append(
        &hall,
        "evaluation",
        &json!({"id": "E-AFTER-KILL", "rev": 1, "hall_id": hall, "channel": "web", "level": 1,
                "comment": "窗口无人", "evaluated_at": "2026-10-30T10:00:00+08:00",
                "status": "valid"}),
    )
    .unwrap();
    wait_count(
        &c,
        "SELECT count(*) FROM hub_cases WHERE evaluation_id = 'E-AFTER-KILL'",
        1,
        30,
    )
    .await;
    drop(h2);
}
