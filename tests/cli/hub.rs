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
    common::stderr_says(&out, "hcp hub init");

    let out = hub(&url, &["init"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    common::stdout_says(&out, "升级到");
    let out = hub(&url, &["init"]);
    common::stdout_says(&out, "已是最新");

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
    common::stderr_says(&out, "--hall");
    let out = hub(
        &url,
        &["user", "add", "x", "--role", "root", "--password-file", pw],
    );
    common::stderr_says(&out, "身份 “root” 无效");
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
    common::stderr_says(&out, "hcp hub hall add");
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
    common::stdout_says(&out, "已添加大厅");
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
    common::stderr_says(&out, "没有登记大厅");

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
        let page: serde_json::Value = common::get_json(&http, &feed, &session).await;
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
    common::stdout_says(&out, "审计日志完整");
    assert!(!text(&out.stdout).contains("dbname"));
}

/// What an admin's `hub hall remove` and `hub user remove` do: a hall added by
/// mistake goes; a hall with records stops being synced while its records and
/// cases stay as history, its undelivered decisions are marked and its directors
/// disabled; an account that acted is never deleted. Admin steps are signed by the
/// person behind sudo (or HCP_ADMIN), not by the service account.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_removes_a_hall_and_a_mistaken_account() {
    let cluster = pg::PgCluster::start();
    let url = cluster.database("removal").await;
    let dir = tempfile::tempdir().unwrap();
    common::hub_admin(&url, &["init"]).await;
    let fixture = hcp_hall::serve_fixture(43, 2, 120, "admin").await;
    let ids = fixture.state.hall_ids();
    let (kept, mistaken) = (ids[0].clone(), ids[1].clone());
    let add_hall = |id: &str| {
        let tf = dir.path().join(format!("{id}.token"));
        std::fs::write(&tf, fixture.token(id).unwrap()).unwrap();
        vec![
            "hall".to_owned(),
            "add".to_owned(),
            fixture.base_url(id),
            "--token-file".to_owned(),
            tf.to_str().unwrap().to_owned(),
        ]
    };
    let args = add_hall(&kept);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::hub_admin(&url, &args).await;
    let pw = dir.path().join("pw");
    std::fs::write(&pw, "correct horse 1").unwrap();
    let pw = pw.to_str().unwrap();
    // The director's account is added by 李管理 through sudo.
    let out = common::hub_command(
        &url,
        &[
            "user",
            "add",
            "王主任",
            "--role",
            "director",
            "--hall",
            &kept,
            "--password-file",
            pw,
        ],
    )
    .env("SUDO_USER", "李管理")
    .output()
    .unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
    common::hub_admin(&url, &["sync"]).await;
    let db = pg::client(&url).await;
    let signed: String = db
        .query_one(
            "SELECT actor FROM hub_audit WHERE subject = 'account:王主任' AND action = 'account_added'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(signed, "李管理");

    // A hall added by mistake, never synced: removing it deletes it.
    let args = add_hall(&mistaken);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::hub_admin(&url, &args).await;
    let said = common::hub_admin(&url, &["hall", "remove", &mistaken, "--yes"]).await;
    assert!(said.contains("已删除大厅"), "{said}");
    assert!(
        !common::hub_admin(&url, &["hall", "list"])
            .await
            .contains(&mistaken)
    );

    // A hall with records: without --yes only what would happen, nothing done.
    let cases_before: i64 = db
        .query_one(
            "SELECT count(*) FROM hub_cases WHERE hall_id = $1",
            &[&kept],
        )
        .await
        .unwrap()
        .get(0);
    assert!(cases_before > 0);
    let said = common::hub_admin(&url, &["hall", "remove", &kept]).await;
    assert!(
        said.contains("未办结工单")
            && said.contains("将停用该大厅负责人账号：王主任")
            && said.contains("--yes"),
        "{said}"
    );
    assert!(
        common::hub_admin(&url, &["user", "list"])
            .await
            .contains("王主任\t大厅负责人")
    );
    assert!(
        !common::hub_admin(&url, &["hall", "list"])
            .await
            .contains("已移除")
    );
    // A decision waits for the hall when it goes.
    db.execute(
        "INSERT INTO hub_outbox (id, hall_id, case_id, kind, body)
         SELECT 'waiting-1', hall_id, case_id, 'callback', '{}' FROM hub_cases
         WHERE hall_id = $1 LIMIT 1",
        &[&kept],
    )
    .await
    .unwrap();
    let said = common::hub_admin(&url, &["hall", "remove", &kept, "--yes"]).await;
    assert!(
        said.contains("已移除") && said.contains("已停用该大厅负责人账号：王主任"),
        "{said}"
    );
    let list = common::hub_admin(&url, &["hall", "list"]).await;
    assert!(
        list.contains(&format!("{kept}\t")) && list.contains("已移除"),
        "{list}"
    );
    let users = common::hub_admin(&url, &["user", "list"]).await;
    assert!(
        users.contains(&format!("王主任\t大厅负责人\t{kept}\t已停用")),
        "{users}"
    );
    // History kept; the token forgotten; the decision marked, not sent.
    let row = db
        .query_one(
            "SELECT (SELECT count(*) FROM hub_cases WHERE hall_id = $1),
                    (SELECT token FROM hub_halls WHERE hall_id = $1),
                    (SELECT state FROM hub_outbox WHERE id = 'waiting-1')",
            &[&kept],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, i64>(0), cases_before);
    assert_eq!(row.get::<_, String>(1), "");
    assert_eq!(row.get::<_, String>(2), "undeliverable");
    // Not synced any more, by name or in a full round; no new director for it.
    let out = hub(&url, &["sync", "--hall", &kept]);
    assert!(!out.status.success());
    common::stderr_says(&out, "已从团队服务器移除");
    let out = hub(
        &url,
        &[
            "user",
            "add",
            "赵主任",
            "--role",
            "director",
            "--hall",
            &kept,
            "--password-file",
            pw,
        ],
    );
    assert!(!out.status.success());
    common::stderr_says(&out, "已移除");
    // Adding it again brings it back.
    let args = add_hall(&kept);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    common::hub_admin(&url, &args).await;
    assert!(
        !common::hub_admin(&url, &["hall", "list"])
            .await
            .contains("已移除")
    );
    common::hub_admin(&url, &["sync", "--hall", &kept]).await;

    // An account created by mistake goes; one that signed in stays.
    common::hub_add_user(&url, "陈晶", "officer", None, pw).await;
    common::hub_add_user(&url, "陈静", "officer", None, pw).await;
    let served = common::serve_hub(&url, "127.0.0.1:0", &["--sync-every", "0"]);
    let r = reqwest::Client::new()
        .post(format!("{}v1/login", served.url))
        .json(&serde_json::json!({"name": "陈静", "password": "correct horse 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    drop(served);
    let said = common::hub_admin(&url, &["user", "remove", "陈晶"]).await;
    assert!(said.contains("已删除账号 陈晶"), "{said}");
    let out = hub(&url, &["user", "remove", "陈静"]);
    assert!(!out.status.success());
    common::stderr_says(&out, "已有办理记录");
    common::stderr_says(&out, "user disable");
    let users = common::hub_admin(&url, &["user", "list"]).await;
    assert!(!users.contains("陈晶") && users.contains("陈静"), "{users}");
    let out = hub(&url, &["audit", "verify"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
}
