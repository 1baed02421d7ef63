//! Black-box tests of the `hcp` binary against the real reference hall on
//! 127.0.0.1:0 and a real SQLite file.

mod common;
use common::{add_every_hall, add_hall, hcp, text};

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hcp_hall::{Faults, RunningServer};
use hcp_store::Store;

async fn server(halls: usize, evaluations: usize, seed: u64) -> RunningServer {
    hcp_hall::serve_fixture(seed, halls, evaluations, "admin").await
}

/// What the cache must hold: (hall, id, rev) of the latest valid evaluations.
fn server_evaluations(srv: &RunningServer) -> Vec<(String, String, i64)> {
    let mut out = vec![];
    for hall in srv.state.hall_ids() {
        for ((kind, id), (rev, _)) in srv.state.with_hall(&hall, |h| h.latest_records()).unwrap() {
            if kind == "evaluation" {
                out.push((hall.clone(), id, rev));
            }
        }
    }
    out.sort();
    out
}

fn cache_evaluations(db: &Path) -> Vec<(String, String, i64)> {
    let store = Store::open(db).unwrap();
    // The per-day figures the dashboard reads moved with every page, kills included.
    assert_eq!(store.evaluation_days_drift().unwrap(), vec![]);
    store
        .evaluation_keys()
        .unwrap()
        .into_iter()
        .map(|(h, id, rev, _, _)| (h, id, rev))
        .collect()
}

#[test]
fn demo_prints_a_summary_of_the_synced_demo_hall() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let out = hcp(&db, &["demo"]);
    let stdout = text(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", text(&out.stderr));
    assert!(stdout.contains("同步完成：3 个大厅全部成功。"), "{stdout}");
    assert!(
        stdout.contains("太湖县政务服务中心（340825-ZWFW）\t"),
        "{stdout}"
    );
    assert!(
        stdout.contains("差评工单：") && stdout.contains("待核实 "),
        "{stdout}"
    );
    assert!(
        stdout.contains("340825-ZWFW\t2"),
        "the first sync brings the ratings: {stdout}"
    );
    assert!(
        stdout.contains("暗访记录 5 条，已签发通报 2 期"),
        "{stdout}"
    );
    // Built through the real paths: the audit chain holds.
    let verify = hcp(&db, &["audit", "verify"]);
    assert!(verify.status.success(), "{}", text(&verify.stdout));
    assert!(text(&verify.stdout).contains("哈希链校验通过"));
    // Running it again (new port) updates the halls and brings nothing new.
    let again = hcp(&db, &["demo"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    common::stdout_says(&again, "340825-ZWFW\t0\t0\t");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn add_sync_export_and_remove_a_hall_without_leaking_the_token() {
    let srv = server(2, 2_000, 5).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let hall = "340825-ZWFW";
    // A citizen's comment that a spreadsheet would run as a formula, from an
    // evaluator with an ID hash.
    srv.append(
        hall,
        "evaluation",
        &serde_json::json!({"id": "E-FORMULA", "rev": 1, "hall_id": hall, "channel": "web",
            "level": 4, "comment": "=HYPERLINK(\"http://evil.example/\",\"点我\")",
            "evaluated_at": "2026-10-09T10:00:00+08:00", "status": "valid",
            "evaluator": {"real_name": true, "name_masked": "李*", "id_hash": "9f2c0000aaaa"}}),
    );
    // A bad rating the citizen withdrew (rev 2): exported with its last state.
    for (rev, status) in [(1, "valid"), (2, "withdrawn")] {
        srv.append(
            hall,
            "evaluation",
            &serde_json::json!({"id": "E-WITHDRAWN", "rev": rev, "hall_id": hall,
                "channel": "web", "level": 2, "reasons": ["slow"], "comment": "排队太久",
                "evaluated_at": "2026-10-12T10:00:00+08:00", "status": status}),
        );
    }
    let token = srv.token(hall).unwrap();
    let token_file = dir.path().join("token.txt");
    std::fs::write(&token_file, format!("{token}\n")).unwrap();
    let url = srv.base_url(hall);
    let out = add_hall(&db, url.clone(), token_file.clone()).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), hall);

    // A wrong token: clear zh-CN message, no token echoed.
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, "not-the-token").unwrap();
    let out = add_hall(&db, srv.base_url("340104-ZWFW"), bad.clone()).await;
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("401"), "{}", text(&out.stderr));
    assert!(!text(&out.stderr).contains("not-the-token"));

    let db2 = db.clone();
    let out = tokio::task::spawn_blocking(move || hcp(&db2, &["sync", "--json"]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let reports: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(reports[0]["outcome"]["new"].as_u64().unwrap() > 900);
    assert!(reports[0]["error"].is_null());

    // The token is nowhere in the database file or its WAL.
    for f in std::fs::read_dir(dir.path()).unwrap() {
        let p = f.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if name.starts_with("hcp.db") && !name.ends_with(".tokens") {
            let bytes = std::fs::read(&p).unwrap();
            assert!(
                !bytes.windows(token.len()).any(|w| w == token.as_bytes()),
                "token found in {name}"
            );
        }
    }

    // JSONL export: latest revs with exactly the hall-api field names.
    let jsonl = dir.path().join("out.jsonl");
    let out = hcp(
        &db,
        &["evaluations", "export", "--out", jsonl.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let lines: Vec<serde_json::Value> = std::fs::read_to_string(&jsonl)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), cache_evaluations(&db).len());
    let keys: Vec<&str> = lines[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    let mut expected = vec![
        "id",
        "rev",
        "hall_id",
        "serial_no",
        "item_code",
        "item_name",
        "department_code",
        "window_no",
        "staff_no",
        "channel",
        "level",
        "reasons",
        "comment",
        "served_at",
        "evaluated_at",
        "evaluator",
        "status",
    ];
    expected.sort();
    let mut keys_sorted = keys.clone();
    keys_sorted.sort();
    assert_eq!(keys_sorted, expected);
    let withdrawn = lines.iter().filter(|l| l["status"] == "withdrawn").count();
    assert!(
        withdrawn > 0,
        "withdrawn evaluations are exported with their last state"
    );
    // The evaluator's ID hash stays in unless asked for.
    assert!(
        lines.iter().all(|l| l["evaluator"]["id_hash"].is_null()),
        "no id_hash without --with-id-hash"
    );
    let with_hash = dir.path().join("with-hash.jsonl");
    let out = hcp(
        &db,
        &[
            "evaluations",
            "export",
            "--with-id-hash",
            "--out",
            with_hash.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        std::fs::read_to_string(&with_hash)
            .unwrap()
            .contains("9f2c0000aaaa")
    );

    // CSV export: BOM, Chinese headers, Beijing time.
    let csv = dir.path().join("out.csv");
    let out = hcp(
        &db,
        &[
            "evaluations",
            "export",
            "--format",
            "csv",
            "--hall",
            hall,
            "--out",
            csv.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let bytes = std::fs::read(&csv).unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"));
    let s = String::from_utf8(bytes[3..].to_vec()).unwrap();
    assert!(s.starts_with("大厅编码,大厅名称,评价编号,版本,"));
    let first = s.lines().nth(1).unwrap();
    // Names beside the codes: the hall's (and its units' where the profile has them).
    assert!(first.contains("政务服务"), "{first}");
    assert!(first.contains("2026-10-"), "{first}");
    assert!(
        !first.contains("+08:00") && !["T0", "T1", "T2"].iter().any(|t| first.contains(t)),
        "local times: {first}"
    );
    assert_eq!(s.lines().count(), lines.len() + 1);
    // Formula injection: the comment is shown, not run.
    assert!(
        s.contains("\"'=HYPERLINK(\"\"http://evil.example/"),
        "formula neutralised"
    );
    assert!(!s.contains(",\"=HYPERLINK"), "no cell starts with =");

    let out = hcp(&db, &["quarantine", "list"]);
    assert!(text(&out.stdout).contains("隔离区为空"));
    let out = hcp(&db, &["hall", "list"]);
    assert!(text(&out.stdout).contains("太湖县政务服务中心"));
    assert!(!text(&out.stdout).contains(&token));

    let out = hcp(&db, &["hall", "remove", hall]);
    assert!(out.status.success());
    assert!(cache_evaluations(&db).is_empty());
    let out = hcp(&db, &["sync"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("尚未添加大厅"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_exits_1_when_a_hall_fails_and_the_others_still_sync() {
    let srv = server(2, 600, 9).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    add_every_hall(&srv, dir.path(), &db).await;
    // The first hall's token is revoked on the server side.
    srv.state
        .with_hall_mut("340104-ZWFW", |h| h.token = "rotated".into());
    let db2 = db.clone();
    let out = tokio::task::spawn_blocking(move || hcp(&db2, &["sync"]))
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stdout = text(&out.stdout);
    assert!(stdout.contains("340104-ZWFW\t0\t0\t0\t0\t0\t"), "{stdout}");
    assert!(stdout.contains("失败：大厅拒绝了令牌（401"), "{stdout}");
    assert!(stdout.contains("1 个大厅成功，1 个失败"), "{stdout}");
    let st = Store::open(&db).unwrap();
    assert!(st.hall_counts("340825-ZWFW").unwrap().evaluations == 300);
}

/// The sync process is killed with SIGKILL at random points, several times, while
/// the hall keeps adding records; after a final sync the cache holds exactly the
/// server's data.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_killed_at_random_points_and_restarted_ends_with_exactly_the_servers_data() {
    let srv = server(2, 16_000, 11).await;
    // Slow pages so that kills land in the middle of the sync.
    srv.state.set_faults(Faults {
        delay_ms: 15,
        ..Faults::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    add_every_hall(&srv, dir.path(), &db).await;
    let mut rng: u64 = 0x5EED_1234;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut killed_mid_sync = 0;
    for round in 0..8 {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hcp"))
            .arg("--db")
            .arg(&db)
            .args(["sync", "--page-limit", "150", "--json"])
            .env("HCP_TOKEN_STORE", "file")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let wait_ms = 40 + next() % 600;
        tokio::time::sleep(Duration::from_millis(wait_ms)).await;
        if child.try_wait().unwrap().is_none() {
            killed_mid_sync += 1;
        }
        child.kill().unwrap(); // SIGKILL on Unix
        child.wait().unwrap();
        // The hall moves on between kills: a new evaluation and a revision.
        for hall in srv.state.hall_ids() {
            srv.append(
                &hall,
                "evaluation",
                &serde_json::json!({"id": format!("E-K{round}"), "rev": 1, "hall_id": hall,
                    "channel": "web", "level": 1, "evaluated_at": "2026-10-20T10:00:00+08:00",
                    "status": "valid"}),
            );
            if round > 0 {
                srv.append(
                    &hall,
                    "evaluation",
                    &serde_json::json!({"id": format!("E-K{}", round - 1), "rev": 2, "hall_id": hall,
                        "channel": "web", "level": 4, "evaluated_at": "2026-10-20T10:00:00+08:00",
                        "status": "revised"}),
                );
            }
        }
    }
    assert!(
        killed_mid_sync >= 4,
        "most kills must land mid-sync ({killed_mid_sync})"
    );
    let db2 = db.clone();
    let out = tokio::task::spawn_blocking(move || hcp(&db2, &["sync", "--page-limit", "150"]))
        .await
        .unwrap();
    assert!(out.status.success(), "{}", text(&out.stdout));
    assert_eq!(cache_evaluations(&db), server_evaluations(&srv));
    let store = Store::open(&db).unwrap();
    let mut follow: Vec<(String, String, String, i64)> = vec![];
    for hall in srv.state.hall_ids() {
        for ((kind, id), (rev, _)) in srv.state.with_hall(&hall, |h| h.latest_records()).unwrap() {
            if kind != "evaluation" {
                follow.push((kind, hall.clone(), id, rev));
            }
        }
    }
    follow.sort();
    assert_eq!(store.follow_up_keys().unwrap(), follow);
}

#[test]
fn calendar_due_counts_working_days_and_flags_years_without_data() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let out = hcp(
        &db,
        &["calendar", "due", "--from", "2026-09-28", "--days", "15"],
    );
    assert!(out.status.success());
    let first = text(&out.stdout);
    assert!(first.contains("截止 2026-10-23 23:59:59 +08:00"), "{first}");
    assert!(!first.contains("估算"), "{first}");
    let out = hcp(
        &db,
        &["calendar", "due", "--from", "2026-12-30", "--days", "5"],
    );
    let text = text(&out.stdout);
    assert!(
        text.contains("2027-01-06") && text.contains("估算"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_passes_and_names_the_row_edited_with_the_sqlite3_tool() {
    let srv = server(2, 400, 11).await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    add_every_hall(&srv, dir.path(), &db).await;
    let first = srv.state.hall_ids()[0].clone();
    let db2 = db.clone();
    let (removed, ok, listed) = tokio::task::spawn_blocking(move || {
        (
            hcp(&db2, &["hall", "remove", &first]),
            hcp(&db2, &["audit", "verify"]),
            hcp(&db2, &["audit", "list"]),
        )
    })
    .await
    .unwrap();
    assert!(removed.status.success());
    assert!(ok.status.success(), "{}", text(&ok.stdout));
    assert!(text(&ok.stdout).contains("共 3 条"), "{}", text(&ok.stdout));
    let listed = text(&listed.stdout);
    assert!(
        listed.contains("hall_removed") && listed.contains("hall_added"),
        "{listed}"
    );
    // A person with the sqlite3 tool drops the guard and edits the second row.
    let edit = Command::new("sqlite3")
        .arg(&db)
        .arg("DROP TRIGGER audit_log_no_update; UPDATE audit_log SET detail = '{}' WHERE seq = 2;")
        .output()
        .expect("sqlite3 command-line tool");
    assert!(edit.status.success(), "{}", text(&edit.stderr));
    let bad = hcp(&db, &["audit", "verify"]);
    assert_eq!(bad.status.code(), Some(1));
    let out = text(&bad.stdout);
    assert!(out.contains("第 2 条") && out.contains("修改"), "{out}");
}
