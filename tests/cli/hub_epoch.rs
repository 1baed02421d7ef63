//! A hub restored from an older backup must not leave desks silently ahead of
//! it. The hub names the database it serves (its epoch: the cluster's system
//! identifier and the database's OID); a desk keeps the epoch it replicates and,
//! when the hub answers with another one, stops syncing, says so in zh-CN, and
//! keeps its own unsent steps for review. Real PostgreSQL, `pg_dump` and
//! `pg_restore` into a new database, as docs/hub-admin.md tells an admin to.

#[path = "../support/pg.rs"]
mod pg;

mod common;
use common::text;
use common::{ok_async as ok, run_async as run};

const PASSWORD: &str = "correct horse 1";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_desk_stops_when_the_hub_was_restored_from_an_older_backup() {
    let cluster = pg::PgCluster::start();
    let url = cluster.database("office").await;
    let dir = tempfile::tempdir().unwrap();
    common::hub_admin(&url, &["init"]).await;
    let srv = hcp_hall::serve_fixture(61, 1, 300, "admin").await;
    let id = srv.state.hall_ids()[0].clone();
    let tf = dir.path().join("hall.token");
    std::fs::write(&tf, srv.token(&id).unwrap()).unwrap();
    common::hub_add_hall(&url, &srv.base_url(&id), tf).await;
    let pw = dir.path().join("pw");
    std::fs::write(&pw, PASSWORD).unwrap();
    let pw = pw.to_str().unwrap();
    common::hub_add_user(&url, "陈静", "officer", None, pw).await;
    common::hub_add_user(&url, "李明", "shopper", None, pw).await;
    common::hub_admin(&url, &["sync"]).await;

    // The backup, taken now.
    let dump = dir.path().join("office.dump");
    let out = std::process::Command::new(cluster.tool("pg_dump"))
        .args(["-Fc", "-f"])
        .arg(&dump)
        .arg("-d")
        .arg(&url)
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_dump: {}", text(&out.stderr));

    // A desk connects and syncs; the office works on after the backup.
    let hub = common::serve_hub(&url, "127.0.0.1:0", &["--sync-every", "0"]);
    let port = hub
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();
    let desk = dir.path().join("chen.db");
    ok(
        &desk,
        &[
            "hub",
            "connect",
            &hub.url,
            "--user",
            "陈静",
            "--password-file",
            pw,
        ],
    )
    .await;
    ok(&desk, &["sync"]).await;
    let cases: serde_json::Value =
        serde_json::from_str(&ok(&desk, &["cases", "list", "--json", "--limit", "1000"]).await)
            .unwrap();
    let open: Vec<i64> = cases["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["state"] == "open")
        .map(|c| c["case_id"].as_i64().unwrap())
        .collect();
    assert!(open.len() >= 2, "{cases}");
    let (open, later) = (open[0], open[1]);
    ok(
        &desk,
        &[
            "case",
            "verify",
            &open.to_string(),
            "--outcome",
            "true",
            "--note",
            "调取录像属实",
        ],
    )
    .await;
    ok(&desk, &["sync"]).await;
    // A shopper hands a visit in after the backup.
    let shop = dir.path().join("li.db");
    ok(
        &shop,
        &[
            "hub",
            "connect",
            &hub.url,
            "--user",
            "李明",
            "--password-file",
            pw,
        ],
    )
    .await;
    ok(&shop, &["sync"]).await;
    let visit = ok(&shop, &["visit", "new", "--hall", &id])
        .await
        .lines()
        .find_map(|l| {
            l.split_whitespace()
                .find(|w| w.len() == 36 && w.matches('-').count() == 4)
        })
        .expect("the new visit's id")
        .to_owned();
    for item in hcp_core::visit::ChecklistTemplate::v1().items() {
        ok(&shop, &["visit", "set", &visit, &item.id, "pass"]).await;
    }
    ok(&shop, &["visit", "submit", &visit]).await;
    let out = ok(&shop, &["sync"]).await;
    assert!(out.contains("交件 1 份"), "{out}");
    // One more step waits on the desk, unsent, when the hub goes down.
    drop(hub);
    ok(
        &desk,
        &[
            "case",
            "verify",
            &later.to_string(),
            "--outcome",
            "true",
            "--note",
            "属实",
        ],
    )
    .await;

    // The admin restores the backup into a new database and serves it at the same
    // address (as docs/hub-admin.md says).
    let restored = cluster.database("office_restored").await;
    let out = std::process::Command::new(cluster.tool("pg_restore"))
        .arg("-d")
        .arg(&restored)
        .arg(&dump)
        .output()
        .unwrap();
    assert!(out.status.success(), "pg_restore: {}", text(&out.stderr));
    let _hub = common::serve_hub(
        &restored,
        &format!("127.0.0.1:{port}"),
        &["--sync-every", "0"],
    );

    // The desk's sync stops with the reason and what to do, and sends nothing.
    let out = run(&desk, &["sync"]).await;
    assert!(!out.status.success());
    let said = format!("{}{}", text(&out.stdout), text(&out.stderr));
    assert!(
        said.contains("已不是本机上次同步的那一份") && said.contains("hcp hub rebuild"),
        "{said}"
    );
    let status = ok(&desk, &["hub", "status"]).await;
    assert!(status.contains("服务器数据已更换，已停止同步"), "{status}");
    // Its unsent step is still listed for review.
    assert!(status.contains("待发送：1 项"), "{status}");
    // Signing in again on this file is refused the same way; a new file works.
    let again = run(
        &desk,
        &[
            "hub",
            "connect",
            &format!("http://127.0.0.1:{port}/"),
            "--user",
            "陈静",
            "--password-file",
            pw,
        ],
    )
    .await;
    assert!(!again.status.success());
    common::stderr_says(&again, "已不是本机上次同步的那一份");
    // 重建副本: a new replica of the hub as it is now; the old file is kept
    // beside it and the unsent step comes along, held for review.
    let rebuilt = ok(&desk, &["hub", "rebuild", "--password-file", pw]).await;
    assert!(rebuilt.contains("原数据文件保留为"), "{rebuilt}");
    assert!(rebuilt.contains("带入，待复核"), "{rebuilt}");
    let kept: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("chen.db.before-rebuild-"))
        .collect();
    assert_eq!(kept.len(), 1, "{kept:?}");
    assert!(
        !dir.path().join("chen.db.rebuilding").exists(),
        "the file being built is gone once swapped in"
    );
    // The kept file still holds the old replica: the case as that desk saw it.
    let old_copy = dir.path().join(&kept[0]);
    let before: serde_json::Value =
        serde_json::from_str(&ok(&old_copy, &["case", "show", &open.to_string(), "--json"]).await)
            .unwrap();
    assert_ne!(before["case"]["state"], "open", "{before}");
    // The rebuilt desk knows the case as the restored hub has it: not verified.
    let c: serde_json::Value =
        serde_json::from_str(&ok(&desk, &["case", "show", &open.to_string(), "--json"]).await)
            .unwrap();
    assert_eq!(c["case"]["state"], "open");
    // The held step is listed on its case, not sent by itself.
    let status: serde_json::Value =
        serde_json::from_str(&ok(&desk, &["hub", "status", "--json"]).await).unwrap();
    assert_eq!(status["state"], "connected", "{status}");
    assert_eq!(status["pending"].as_array().unwrap().len(), 0, "{status}");
    let held = status["rejected"].as_array().unwrap();
    assert_eq!(held.len(), 1, "{status}");
    assert_eq!(held[0]["case_id"].as_i64(), Some(later));
    assert_eq!(held[0]["reason"], "epoch");
    assert!(
        held[0]["message"]
            .as_str()
            .unwrap()
            .contains("重建前未被团队服务器受理"),
        "{status}"
    );
    // The officer takes it again on the case as it is now; the hub accepts it.
    let id = held[0]["id"].as_str().unwrap().to_owned();
    ok(&desk, &["hub", "redo", &id]).await;
    ok(&desk, &["sync"]).await;
    let c: serde_json::Value =
        serde_json::from_str(&ok(&desk, &["case", "show", &later.to_string(), "--json"]).await)
            .unwrap();
    assert_ne!(c["case"]["state"], "open", "{c}");
    let status: serde_json::Value =
        serde_json::from_str(&ok(&desk, &["hub", "status", "--json"]).await).unwrap();
    assert_eq!(status["rejected"].as_array().unwrap().len(), 0, "{status}");
    assert_eq!(status["pending"].as_array().unwrap().len(), 0, "{status}");

    // The shopper's desk keeps its file and hands the visit the restored hub lost
    // in again.
    let out = run(&shop, &["sync"]).await;
    assert!(!out.status.success());
    let rebuilt = ok(&shop, &["hub", "rebuild", "--password-file", pw]).await;
    assert!(
        rebuilt.contains("1 份已提交的暗访记录将重新交件"),
        "{rebuilt}"
    );
    ok(&shop, &["sync"]).await;
    let db = pg::client(&restored).await;
    let held: i64 = db
        .query_one(
            "SELECT count(*) FROM hub_visits WHERE visit_id = $1",
            &[&visit],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(held, 1, "the restored hub has the visit back");
    let status = ok(&shop, &["hub", "status"]).await;
    assert!(!status.contains("待交件"), "{status}");
}
