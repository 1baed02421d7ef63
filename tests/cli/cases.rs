//! The case workflow end to end: the `hcp` binary, a real SQLite file, and the real
//! reference hall on 127.0.0.1:0 played through its admin endpoint.

mod common;
use common::{hall_appends, officer_desk as setup, ok_async as ok, run_async as run};

use std::collections::HashSet;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hcp_hall::{Faults, RunningServer};
use hcp_store::Store;
use serde_json::{Value, json};

const ADMIN: &str = "admin";

async fn hall_server(evaluations: usize, seed: u64) -> (RunningServer, String) {
    let srv = hcp_hall::serve_fixture(seed, 1, evaluations, ADMIN).await;
    let hall = srv.state.hall_ids()[0].clone();
    (srv, hall)
}

async fn hall_decisions(srv: &RunningServer, hall: &str) -> Vec<Value> {
    let body = reqwest::Client::new()
        .get(format!("http://{}/admin/h/{hall}/decisions", srv.addr))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let v: Value = serde_json::from_str(&body).unwrap();
    v["decisions"].as_array().unwrap().clone()
}

fn evaluation(hall: &str, id: &str, rev: i64, level: u8, status: &str) -> Value {
    json!({"kind": "evaluation", "data": {
        "id": id, "rev": rev, "hall_id": hall, "channel": "window_device", "level": level,
        "window_no": "A01", "reasons": ["attitude"], "comment": "材料一次没说清楚，跑了三趟",
        "evaluated_at": "2026-11-20T09:31:05+08:00", "status": status,
        "evaluator": {"real_name": true, "name_masked": "李*", "phone_masked": "138****5521",
                      "id_hash": format!("hash-{id}")}
    }})
}

fn rectification(hall: &str, eval: &str, rev: i64, measures: &str) -> Value {
    json!({"kind": "rectification", "data": {
        "id": format!("RC-{eval}"), "rev": rev, "hall_id": hall, "evaluation_id": eval,
        "submitted_at": "2026-11-23T16:20:00+08:00", "responsible": "王敏",
        "measures": measures, "attachments": []
    }})
}

fn appeal(hall: &str, eval: &str, ground: &str) -> Value {
    json!({"kind": "appeal", "data": {
        "id": format!("AP-{eval}"), "rev": 1, "hall_id": hall, "evaluation_id": eval,
        "filed_at": "2026-11-20T15:00:00+08:00", "filed_by": "窗口负责人 张伟",
        "ground": ground, "statement": "该事项属市不动产中心办理，已当场指引", "attachments": []
    }})
}

/// The case of one evaluation: (case_id, state).
async fn case_of(db: &Path, eval: &str) -> (i64, String) {
    let page: Value = serde_json::from_str(&ok(db, &["cases", "list", "--json"]).await).unwrap();
    let row = page["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["evaluation_id"] == eval)
        .unwrap_or_else(|| panic!("no case for {eval}: {page}"));
    (
        row["case_id"].as_i64().unwrap(),
        row["state"].as_str().unwrap().to_owned(),
    )
}

fn pending_in(db: &Path) -> usize {
    let store = Store::open(db).unwrap();
    store
        .halls_with_pending_decisions()
        .unwrap()
        .iter()
        .map(|h| store.pending_decisions(h, usize::MAX).unwrap().len())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_rating_goes_from_case_to_closed_with_a_return_and_a_resubmission() {
    let (srv, hall) = hall_server(0, 7).await;
    let (_dir, db) = setup(&srv, &hall).await;
    hall_appends(
        &srv,
        &hall,
        json!([evaluation(&hall, "E-T1", 1, 2, "valid")]),
    )
    .await;
    ok(&db, &["sync"]).await;
    let (id, state) = case_of(&db, "E-T1").await;
    assert_eq!(state, "open");
    let ids = id.to_string();

    // Refusals are clear and change nothing.
    let out = run(&db, &["case", "accept", &ids]).await;
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("待核实"),
        "{out:?}"
    );

    ok(
        &db,
        &[
            "case",
            "verify",
            &ids,
            "--outcome",
            "true",
            "--note",
            "调取录像，属实",
        ],
    )
    .await;
    hall_appends(
        &srv,
        &hall,
        json!([rectification(&hall, "E-T1", 1, "已谈话")]),
    )
    .await;
    ok(&db, &["sync"]).await;
    assert_eq!(case_of(&db, "E-T1").await.1, "awaiting_signoff");

    let out = run(&db, &["case", "return", &ids, "--opinion", "  "]).await;
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("退回意见"),
        "{out:?}"
    );
    ok(
        &db,
        &[
            "case",
            "return",
            &ids,
            "--opinion",
            "整改措施不具体，请补充培训记录",
        ],
    )
    .await;
    assert_eq!(case_of(&db, "E-T1").await.1, "rectifying");

    hall_appends(
        &srv,
        &hall,
        json!([rectification(
            &hall,
            "E-T1",
            2,
            "已开展一次性告知培训，附签到表"
        )]),
    )
    .await;
    ok(&db, &["sync"]).await;
    assert_eq!(case_of(&db, "E-T1").await.1, "awaiting_signoff");
    ok(&db, &["case", "accept", &ids]).await;
    ok(
        &db,
        &[
            "case",
            "callback",
            &ids,
            "--result",
            "satisfied",
            "--note",
            "电话回访，评价人表示满意",
        ],
    )
    .await;
    assert_eq!(case_of(&db, "E-T1").await.1, "closed");
    ok(&db, &["push"]).await;

    let detail: Value =
        serde_json::from_str(&ok(&db, &["case", "show", &ids, "--json"]).await).unwrap();
    let steps: Vec<&str> = detail["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "case_opened",
            "verify",
            "rectification_submitted",
            "rectification_returned",
            "rectification_submitted",
            "rectification_accepted",
            "callback"
        ]
    );
    assert_eq!(detail["timeline"][1]["actor"], "陈静");
    let text = ok(&db, &["case", "show", &ids]).await;
    assert!(text.contains("整改措施不具体"), "{text}");

    // The hall heard every decision once, in the order they were made.
    let got = hall_decisions(&srv, &hall).await;
    let kinds: Vec<&str> = got.iter().map(|d| d["kind"].as_str().unwrap()).collect();
    assert_eq!(
        kinds,
        [
            "case_opened",
            "rectification_returned",
            "rectification_accepted",
            "callback",
            "case_closed"
        ]
    );
    assert_eq!(got[1]["ref_id"], "RC-E-T1");
    assert_eq!(got[1]["note"], "整改措施不具体，请补充培训记录");
    assert_eq!(got[3]["outcome"], "satisfied");
    assert_eq!(got[3]["officer"], "陈静");
    assert_eq!(pending_in(&db), 0);

    // Replaying the whole feed changes nothing.
    let audit_rows = Store::open(&db).unwrap().verify_audit().unwrap().rows;
    srv.state.expire_cursors();
    ok(&db, &["sync"]).await;
    assert_eq!(case_of(&db, "E-T1").await.1, "closed");
    assert_eq!(
        Store::open(&db).unwrap().verify_audit().unwrap().rows,
        audit_rows
    );
    assert_eq!(hall_decisions(&srv, &hall).await.len(), 5);

    // The audit chain holds, and an edit with the sqlite3 tool is caught by row.
    let verify = run(&db, &["audit", "verify"]).await;
    assert!(verify.status.success(), "{verify:?}");
    let edit = Command::new("sqlite3")
        .arg(&db)
        .arg(
            "DROP TRIGGER audit_log_no_update;
             UPDATE audit_log SET detail = replace(detail, '属实', '不属实') WHERE action = 'verify';",
        )
        .output()
        .expect("the sqlite3 tool (scripts/deps.sh installs it)");
    assert!(edit.status.success(), "{edit:?}");
    let seq: i64 = {
        let conn_out = Command::new("sqlite3")
            .arg(&db)
            .arg("SELECT seq FROM audit_log WHERE action = 'verify'")
            .output()
            .unwrap();
        String::from_utf8_lossy(&conn_out.stdout)
            .trim()
            .parse()
            .unwrap()
    };
    let verify = run(&db, &["audit", "verify"]).await;
    assert_eq!(verify.status.code(), Some(1));
    let said = String::from_utf8_lossy(&verify.stdout);
    assert!(said.contains(&format!("第 {seq} 条")), "{said}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upheld_appeal_excludes_the_rating_and_a_revision_closes_its_case() {
    let (srv, hall) = hall_server(0, 8).await;
    let (_dir, db) = setup(&srv, &hall).await;
    hall_appends(
        &srv,
        &hall,
        json!([
            evaluation(&hall, "E-A", 1, 1, "valid"),
            evaluation(&hall, "E-R", 1, 2, "valid"),
            evaluation(&hall, "E-G", 1, 5, "valid"),
            appeal(&hall, "E-A", "misdirected"),
        ]),
    )
    .await;
    ok(&db, &["sync"]).await;
    let bad = |db: &Path| {
        Store::open(db)
            .unwrap()
            .day_span_counts(Some(&hall), "2026-11-20", "2026-11-20")
            .unwrap()
    };
    assert_eq!((bad(&db).counted, bad(&db).bad), (3, 2));
    let (a, state) = case_of(&db, "E-A").await;
    assert_eq!(state, "under_appeal");
    let listed = ok(&db, &["cases", "list", "--state", "under_appeal"]).await;
    assert!(
        listed.contains("E-A") && !listed.contains("E-R"),
        "{listed}"
    );
    ok(
        &db,
        &[
            "case",
            "appeal-verdict",
            &a.to_string(),
            "--upheld",
            "--note",
            "属正确引导后被误评",
        ],
    )
    .await;
    assert_eq!(case_of(&db, "E-A").await.1, "closed_appealed");
    // Excluded everywhere: neither counted nor bad.
    assert_eq!((bad(&db).counted, bad(&db).bad), (2, 1));

    hall_appends(
        &srv,
        &hall,
        json!([evaluation(&hall, "E-R", 2, 4, "revised")]),
    )
    .await;
    ok(&db, &["sync"]).await;
    let (r, state) = case_of(&db, "E-R").await;
    assert_eq!(state, "closed_revised");
    let text = ok(&db, &["case", "show", &r.to_string()]).await;
    assert!(text.contains("改评为 4 级"), "{text}");
    ok(&db, &["push"]).await;
    let got = hall_decisions(&srv, &hall).await;
    let verdict = got
        .iter()
        .find(|d| d["kind"] == "appeal_verdict")
        .expect("verdict delivered");
    assert_eq!(verdict["outcome"], "upheld");
    assert_eq!(verdict["ref_id"], "AP-E-A");
    assert_eq!(got.iter().filter(|d| d["kind"] == "case_closed").count(), 2);
    assert!(
        Store::open(&db)
            .unwrap()
            .evaluation_days_drift()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_decision_reaches_the_hall_once_despite_a_kill_mid_push_and_500s() {
    // ~5% bad ratings: some 600 cases, so more than one request of 500.
    let (srv, hall) = hall_server(12_000, 9).await;
    let (_dir, db) = setup(&srv, &hall).await;
    ok(&db, &["sync", "--no-push"]).await;
    let queued = pending_in(&db);
    assert!(queued > 500, "want more than one batch, got {queued}");

    // The hall records the decisions, then takes 30 s to answer: kill the client
    // after the hall has them and before it heard back.
    srv.state.set_faults(Faults {
        decisions_answer_delay_ms: 30_000,
        ..Faults::default()
    });
    let mut child = Command::new(env!("CARGO_BIN_EXE_hcp"))
        .arg("--db")
        .arg(&db)
        .arg("push")
        .env_remove("HCP_DB")
        .env("HCP_TOKEN_STORE", "file")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while hall_decisions(&srv, &hall).await.is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the hall never got the batch"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let heard = hall_decisions(&srv, &hall).await.len();
    assert_eq!(heard, 500, "the first batch");
    assert_eq!(
        pending_in(&db),
        queued,
        "the client never stored the answer"
    );

    // Now every other request fails with 500; the push retries until done.
    srv.state.set_faults(Faults {
        fail_every: 2,
        ..Faults::default()
    });
    let report: Value = serde_json::from_str(&ok(&db, &["push", "--json"]).await).unwrap();
    assert_eq!(report[0]["duplicate"], 500, "{report}");
    assert_eq!(
        report[0]["accepted"].as_u64().unwrap() as usize,
        queued - 500
    );
    assert_eq!(report[0]["pending"], 0);
    assert_eq!(pending_in(&db), 0);

    let got = hall_decisions(&srv, &hall).await;
    let ids: Vec<&str> = got.iter().map(|d| d["id"].as_str().unwrap()).collect();
    let unique: HashSet<&str> = ids.iter().copied().collect();
    assert_eq!(ids.len(), queued, "each decision exactly once");
    assert_eq!(unique.len(), queued);
    // In the order they were written.
    let store = Store::open(&db).unwrap();
    let outbox: Vec<String> = store
        .outbox_rows(None, 100_000)
        .unwrap()
        .into_iter()
        .rev()
        .map(|o| o.id)
        .collect();
    assert_eq!(ids, outbox.iter().map(String::as_str).collect::<Vec<_>>());
}
