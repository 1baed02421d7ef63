//! `hcp sync` of two halls where hall 1 misbehaves on purpose — an endless empty
//! page with `more: true`, a 400 MB page, records with bytes that are not UTF-8 —
//! with the production defaults: the command ends on its own within two minutes,
//! its peak RSS stays under 300 MB, and hall 2 ends exactly as the server holds it.

mod common;
use common::add_every_hall;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use hcp_hall::{Faults, RunningServer};
use hcp_store::Store;

const LIMIT: Duration = Duration::from_secs(120);
const MAX_RSS_KIB: u64 = 300 * 1024;

async fn server() -> RunningServer {
    hcp_hall::serve_fixture(23, 2, 20_000, "admin").await
}

/// (id, rev) of a hall's latest valid evaluations on the server.
fn on_server(srv: &RunningServer, hall: &str) -> Vec<(String, i64)> {
    let mut v: Vec<_> = srv
        .state
        .with_hall(hall, |h| h.latest_records())
        .unwrap()
        .into_iter()
        .filter(|((kind, _), _)| kind == "evaluation")
        .map(|((_, id), (rev, _))| (id, rev))
        .collect();
    v.sort();
    v
}

fn in_cache(db: &Path, hall: &str) -> Vec<(String, i64)> {
    let mut v: Vec<_> = Store::open(db)
        .unwrap()
        .evaluation_keys()
        .unwrap()
        .into_iter()
        .filter(|k| k.0 == hall)
        .map(|k| (k.1, k.2))
        .collect();
    v.sort();
    v
}

/// The peak resident set (VmHWM) of a running process, in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

struct Run {
    code: Option<i32>,
    elapsed: Duration,
    peak_kib: u64,
    stdout: String,
}

/// `hcp sync --json` as a child process, watched: its peak RSS sampled until it
/// exits, killed (and the test failed) past the two-minute limit.
fn watched_sync(db: &Path) -> Run {
    let started = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hcp"))
        .arg("--db")
        .arg(db)
        .args(["sync", "--json"])
        .env_remove("HCP_DB")
        .env("HCP_TOKEN_STORE", "file")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        std::io::Read::read_to_string(&mut std::io::BufReader::new(stdout), &mut s).unwrap();
        s
    });
    let mut peak = 0;
    let code = loop {
        if let Some(kib) = peak_rss_kib(pid) {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status.code();
        }
        if started.elapsed() > LIMIT {
            let _ = child.kill();
            let _ = child.wait();
            panic!("hcp sync still running after {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    Run {
        code,
        elapsed: started.elapsed(),
        peak_kib: peak,
        stdout: reader.join().unwrap(),
    }
}

/// Registers both halls, switches the fault on for hall 1, runs `hcp sync`, and
/// checks the limits and hall 2. Returns the run and hall 1's report.
async fn scenario(faults: Faults) -> (Run, serde_json::Value, tempfile::TempDir, String) {
    let srv = server().await;
    let halls = srv.state.hall_ids();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    add_every_hall(&srv, dir.path(), &db).await;
    srv.state.set_faults(Faults {
        only_hall: Some(halls[0].clone()),
        ..faults
    });
    let db2 = db.clone();
    let run = tokio::task::spawn_blocking(move || watched_sync(&db2))
        .await
        .unwrap();
    srv.state.set_faults(Faults::default());
    assert!(run.elapsed < LIMIT, "took {:?}", run.elapsed);
    assert!(
        run.peak_kib > 0 && run.peak_kib < MAX_RSS_KIB,
        "peak RSS {} MiB",
        run.peak_kib / 1024
    );
    let reports: serde_json::Value = serde_json::from_str(&run.stdout).unwrap();
    assert_eq!(reports[1]["hall_id"], halls[1].as_str());
    assert!(reports[1]["error"].is_null(), "{}", reports[1]);
    assert_eq!(
        in_cache(&db, &halls[1]),
        on_server(&srv, &halls[1]),
        "hall 2 is exact"
    );
    eprintln!(
        "{:?}: {:.1} s, peak RSS {} MiB",
        reports[0]["error"],
        run.elapsed.as_secs_f64(),
        run.peak_kib / 1024
    );
    (run, reports[0].clone(), dir, halls[0].clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_endless_empty_more_ends_the_command_on_its_own() {
    let (run, bad, _dir, _) = scenario(Faults {
        empty_more: true,
        ..Faults::default()
    })
    .await;
    assert_eq!(run.code, Some(1), "a failed hall exits 1");
    assert!(
        bad["error"].as_str().unwrap().contains("游标没有前进"),
        "{bad}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_400_mb_page_fails_that_hall_within_the_memory_limit() {
    let (run, bad, _dir, _) = scenario(Faults {
        huge_page_mb: 400,
        ..Faults::default()
    })
    .await;
    assert_eq!(run.code, Some(1));
    assert!(
        bad["error"].as_str().unwrap().contains("超过 64 MiB 上限"),
        "{bad}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn records_that_are_not_utf8_are_quarantined_and_both_halls_finish() {
    let (run, bad, dir, hall) = scenario(Faults {
        bad_utf8_every: 50,
        ..Faults::default()
    })
    .await;
    assert_eq!(run.code, Some(0), "{bad}");
    assert!(bad["error"].is_null(), "{bad}");
    let q = Store::open(dir.path().join("hcp.db"))
        .unwrap()
        .quarantine(Some(&hall))
        .unwrap();
    assert!(q.len() > 10, "{} quarantined", q.len());
    assert_eq!(bad["outcome"]["quarantined"].as_u64(), Some(q.len() as u64));
    assert!(q.iter().all(|r| r.reason.contains("UTF-8")));
}
