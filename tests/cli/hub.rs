//! `hcp hub …` as an office's administrator uses it, on a real PostgreSQL cluster:
//! init (twice), accounts from password files, the list, a hall registered with
//! its token from a file, `serve` printing its URL,
//! a sign-in over HTTP, the audit chain verified.

#[path = "../support/pg.rs"]
mod pg;

mod common;
use common::text;

use std::process::Output;

fn hub(pg_url: &str, args: &[&str]) -> Output {
    common::hub_command(pg_url, args).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_sets_up_the_hub_and_an_officer_signs_in() {
    let cluster = pg::PgCluster::start();
    let url = cluster.database("cli").await;
    let dir = tempfile::tempdir().unwrap();

    // Before init every command says what to run.
    let out = hub(&url, &["user", "list"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("hcp hub init"),
        "{}",
        text(&out.stderr)
    );

    let out = hub(&url, &["init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("升级到"),
        "{}",
        text(&out.stdout)
    );
    let out = hub(&url, &["init"]);
    assert!(
        text(&out.stdout).contains("已是最新"),
        "{}",
        text(&out.stdout)
    );

    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, "correct horse 1\n").unwrap();
    let pw = pw.to_str().unwrap();
    let out = hub(
        &url,
        &[
            "user",
            "add",
            "陈静",
            "--role",
            "officer",
            "--password-file",
            pw,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("效能督查员"));
    // A director without a hall, and a role that does not exist: clear refusals.
    let out = hub(
        &url,
        &[
            "user",
            "add",
            "王主任",
            "--role",
            "director",
            "--password-file",
            pw,
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("--hall"),
        "{}",
        text(&out.stderr)
    );
    let out = hub(
        &url,
        &["user", "add", "x", "--role", "root", "--password-file", pw],
    );
    assert!(
        text(&out.stderr).contains("身份 “root” 无效"),
        "{}",
        text(&out.stderr)
    );
    let out = hub(
        &url,
        &[
            "user",
            "add",
            "王主任",
            "--role",
            "director",
            "--hall",
            "340825-ZWFW",
            "--password-file",
            pw,
        ],
    );
    // Not a hall this hub knows: refused, saying how to register it first.
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("hcp hub hall add"),
        "{}",
        text(&out.stderr)
    );
    let list = text(&hub(&url, &["user", "list"]).stdout);
    assert!(list.contains("陈静\t效能督查员\t—\t正常"), "{list}");
    assert!(!list.contains("王主任"), "{list}");

    // A hall registered on the hub with its token from a file; listed without it.
    let hall = hcp_hall::serve_fixture(41, 1, 50, "admin").await;
    let id = hall.state.hall_ids()[0].clone();
    let token = hall.token(&id).unwrap();
    let tf = dir.path().join("hall-token.txt");
    std::fs::write(&tf, format!("{token}\n")).unwrap();
    let out = hub(
        &url,
        &[
            "hall",
            "add",
            &hall.base_url(&id),
            "--token-file",
            tf.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("已添加大厅"),
        "{}",
        text(&out.stdout)
    );
    let list = text(&hub(&url, &["hall", "list"]).stdout);
    assert!(list.contains(&id), "{list}");
    assert!(!list.contains(&token), "{list}");
    // Now the hall is known, its director can be created.
    let out = hub(
        &url,
        &[
            "user",
            "add",
            "王主任",
            "--role",
            "director",
            "--hall",
            &id,
            "--password-file",
            pw,
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let users = text(&hub(&url, &["user", "list"]).stdout);
    assert!(
        users.contains(&format!("王主任\t大厅负责人\t{id}\t正常")),
        "{users}"
    );

    // Synced on demand: every record of the hall, then nothing new.
    let out = hub(&url, &["sync"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let summary = text(&out.stdout);
    assert!(
        summary.contains(&id) && summary.contains("全部成功"),
        "{summary}"
    );
    // The admin's overview: the database, the hall's last sync, no error, the
    // audit head to keep.
    let out = hub(&url, &["health"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let health = text(&out.stdout);
    assert!(
        health.contains("数据库：可用") && health.contains("被锁定的账号：无"),
        "{health}"
    );
    let line = health.lines().find(|l| l.starts_with(id.as_str())).unwrap();
    assert!(
        line.contains("\t—\t0\t0"),
        "synced, no error, nothing waiting: {line}"
    );
    assert!(health.contains("审计日志头：HEAD="), "{health}");
    // A hall another process is syncing (the serving hub) is skipped, and a run
    // that synced nothing says so and does not exit 0.
    let (space, key) = hcp_hub::sync_lock_keys(&id);
    let holder = pg::client(&url).await;
    holder
        .execute("SELECT pg_advisory_lock($1, $2)", &[&space, &key])
        .await
        .unwrap();
    let out = hub(&url, &["sync"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out.stdout));
    let said = text(&out.stdout);
    assert!(
        said.contains("本次跳过") && said.contains("未同步任何大厅"),
        "{said}"
    );
    assert!(!said.contains("全部成功"), "{said}");
    drop(holder);
    let out = hub(&url, &["sync", "--hall", "no-such-hall"]);
    assert!(!out.status.success());
    assert!(
        text(&out.stderr).contains("没有登记大厅"),
        "{}",
        text(&out.stderr)
    );

    // `serve` prints its URL once it listens; the officer signs in over HTTP.
    let served = common::serve_hub(&url, "127.0.0.1:0", &["--sync-every", "1"]);
    let base = served.url.clone();
    let http = reqwest::Client::new();
    let r = http
        .post(format!("{base}v1/login"))
        .json(&serde_json::json!({"name": "陈静", "password": "correct horse 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: serde_json::Value = r.json().await.unwrap();
    assert_eq!(s["account"]["name"], "陈静");
    // The schedule brings a new rating at the hall to the hub's feed of it.
    let session = s["token"].as_str().unwrap().to_owned();
    let data = serde_json::json!({
        "id": "E-SCHEDULED-1", "rev": 1, "hall_id": id, "channel": "web", "level": 1,
        "comment": "排队太久", "evaluated_at": "2026-10-20T10:00:00+08:00", "status": "valid"
    });
    hall.append(&id, "evaluation", &data).unwrap();
    let feed = format!("{base}v1/halls/{id}/v1/changes?limit=5000");
    let mut seen = false;
    for _ in 0..100 {
        let page: serde_json::Value = http
            .get(&feed)
            .bearer_auth(&session)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if page["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["data"]["id"] == "E-SCHEDULED-1")
        {
            seen = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    }
    assert!(seen, "the scheduled sync did not bring the new rating");
    drop(served);

    // The connection string never shows in what the commands print.
    let out = hub(&url, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("审计日志完整"),
        "{}",
        text(&out.stdout)
    );
    assert!(!text(&out.stdout).contains("dbname"));
}
