//! Mystery-shopper visits end to end with the `hcp` binary: a shopper's
//! installation fills a visit through the running app (killed with SIGKILL midway),
//! hands it in; an officer's installation imports and accepts it.

mod common;
use common::{hcp, ok};

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use hcp_core::visit::ChecklistTemplate;
use hcp_store::Store;
use serde_json::{Value, json};

/// `hcp serve-ui` on `db`: the child and its API base and token.
fn serve(db: &Path) -> (Child, String, String) {
    // Only the command API is used: a stand-in page for the UI directory.
    let dist = db.parent().unwrap().join("dist");
    std::fs::create_dir_all(&dist).unwrap();
    std::fs::write(dist.join("index.html"), "<!doctype html>").unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_hcp"))
        .arg("--db")
        .arg(db)
        .args(["serve-ui", "--addr", "127.0.0.1:0", "--dist"])
        .arg(&dist)
        .env("HCP_TOKEN_STORE", "file")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().strip_prefix("HCP_UI_URL=").unwrap().to_owned();
    let (base, token) = url.split_once("/?token=").unwrap();
    (child, base.to_owned(), token.to_owned())
}

async fn call(base: &str, token: &str, cmd: &str, args: Value) -> Value {
    let r = reqwest::Client::new()
        .post(format!("{base}/api/{cmd}"))
        .header("x-hcp-token", token)
        .header("content-type", "application/json")
        .body(args.to_string())
        .send()
        .await
        .unwrap();
    let status = r.status();
    let body: Value = serde_json::from_str(&r.text().await.unwrap()).unwrap_or(Value::Null);
    assert!(status.is_success(), "{cmd}: {status} {body}");
    body
}

fn png() -> Vec<u8> {
    let img = image::RgbImage::from_fn(80, 60, |x, y| image::Rgb([x as u8 * 3, y as u8 * 4, 90]));
    let mut out = std::io::Cursor::new(vec![]);
    image::DynamicImage::ImageRgb8(img)
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visit_survives_a_sigkill_is_handed_in_and_accepted_elsewhere() {
    let srv = hcp_hall::serve_fixture(3, 1, 0, "admin").await;
    let hall = srv.state.hall_ids()[0].clone();
    let dir = tempfile::tempdir().unwrap();
    let tf = dir.path().join("token.txt");
    std::fs::write(&tf, srv.token(&hall).unwrap()).unwrap();
    let url = srv.base_url(&hall);
    let root = dir.path().to_path_buf();
    let setup = move |name: &str, user: &str, role: &str| -> PathBuf {
        let db = root.join(name).join("hcp.db");
        ok(
            &db,
            &["hall", "add", &url, "--token-file", tf.to_str().unwrap()],
        );
        ok(&db, &["user", "set", "--name", user, "--role", role]);
        db
    };
    let (shop_db, office_db) = tokio::task::spawn_blocking(move || {
        (
            setup("shopper", "暗访员甲", "shopper"),
            setup("officer", "陈静", "officer"),
        )
    })
    .await
    .unwrap();
    let s = shop_db.clone();
    let id = tokio::task::spawn_blocking(move || ok(&s, &["visit", "new", "--hall", &hall]))
        .await
        .unwrap()
        .trim()
        .to_owned();

    // Fill through the running app; every answer acknowledged is on disk at once.
    let (mut app, base, token) = serve(&shop_db);
    let items: Vec<String> = ChecklistTemplate::v1()
        .items()
        .map(|i| i.id.clone())
        .collect();
    let (first, rest) = items.split_at(20);
    for item in first {
        let (result, points) = if item == "3.3" {
            ("deduct", Some(2))
        } else {
            ("pass", None)
        };
        call(
            &base,
            &token,
            "set_visit_answer",
            json!({"visit_id": id, "item_id": item, "result": result, "points": points, "note": format!("{item} 已核查")}),
        )
        .await;
    }
    // A refusal is the user's to fix, not a server fault: 422 with its reason.
    let r = reqwest::Client::new()
        .post(format!("{base}/api/submit_visit"))
        .header("x-hcp-token", &token)
        .header("content-type", "application/json")
        .body(json!({ "visit_id": id }).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), reqwest::StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["code"], "refused");
    assert!(
        body["message"].as_str().unwrap().contains("未填写"),
        "{body}"
    );
    // One more in flight, then SIGKILL.
    let (b2, t2, id2, item2) = (base.clone(), token.clone(), id.clone(), rest[0].clone());
    let inflight = tokio::spawn(async move {
        let _ = reqwest::Client::new()
            .post(format!("{b2}/api/set_visit_answer"))
            .header("x-hcp-token", t2)
            .header("content-type", "application/json")
            .body(json!({"visit_id": id2, "item_id": item2, "result": "pass"}).to_string())
            .send()
            .await;
    });
    app.kill().unwrap();
    app.wait().unwrap();
    let _ = inflight.await;
    {
        let store = Store::open(&shop_db).unwrap();
        let d = store.visit_detail(&id).unwrap();
        assert!(d.visit.answered >= 20, "{} answered", d.visit.answered);
        for i in d.items.iter().filter(|i| first.contains(&i.item_id)) {
            assert!(i.result.is_some(), "{} lost", i.item_id);
            assert_eq!(i.note, format!("{} 已核查", i.item_id));
        }
    }

    // Reopened: finish the rest from the command line, with a photo.
    let photo = dir.path().join("窗口.png");
    std::fs::write(&photo, png()).unwrap();
    let (s, id3) = (shop_db.clone(), id.clone());
    let rest = rest.to_vec();
    let bundle = dir.path().join("visit.hcpv");
    let b = bundle.clone();
    let (pubkey, shown) = tokio::task::spawn_blocking(move || {
        for item in &rest {
            ok(
                &s,
                &[
                    "visit",
                    "set",
                    &id3,
                    item,
                    if item == "8.3" { "na" } else { "pass" },
                ],
            );
        }
        ok(
            &s,
            &["visit", "attach", &id3, "3.3", photo.to_str().unwrap()],
        );
        let shown = ok(&s, &["visit", "show", &id3]);
        ok(&s, &["visit", "submit", &id3]);
        ok(&s, &["visit", "export", &id3, "--out", b.to_str().unwrap()]);
        let keys = ok(&s, &["keys", "show"]);
        (keys.lines().nth(1).unwrap().trim().to_owned(), shown)
    })
    .await
    .unwrap();
    assert!(shown.contains("得分 98.0"), "{shown}"); // (101 - 2 - 2) / (101 - 2)
    assert!(shown.contains("照片 1 张"), "{shown}");

    let (o, id4) = (office_db.clone(), id.clone());
    tokio::task::spawn_blocking(move || {
        let refused = hcp(&o, &["visit", "import", bundle.to_str().unwrap()]);
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("未受信任"));
        ok(&o, &["keys", "trust", &pubkey, "--name", "暗访员甲"]);
        assert!(ok(&o, &["visit", "import", bundle.to_str().unwrap()]).contains("已导入"));
        assert!(ok(&o, &["visit", "import", bundle.to_str().unwrap()]).contains("未做改动"));
        let accepted = ok(&o, &["visit", "review", &id4, "--accept", "--note", "属实"]);
        assert!(accepted.contains("整改任务 1 件"), "{accepted}");
        let cases: Value = serde_json::from_str(&ok(&o, &["cases", "list", "--json"])).unwrap();
        assert_eq!(cases["rows"][0]["kind"], "visit_finding");
        let shown = ok(&o, &["visit", "show", &id4]);
        assert!(
            shown.contains("审核通过") && shown.contains("照片 1 张"),
            "{shown}"
        );
        // Revoked: the same shopper's bundles are refused from now on, and the
        // list says so.
        let revoked = ok(&o, &["keys", "revoke", &pubkey]);
        assert!(revoked.contains("已撤销对 暗访员甲 的公钥"), "{revoked}");
        assert!(ok(&o, &["keys", "list"]).contains("已撤销"));
        let refused = hcp(&o, &["visit", "import", bundle.to_str().unwrap()]);
        assert!(!refused.status.success());
        assert!(
            String::from_utf8_lossy(&refused.stderr).contains("被撤销信任"),
            "{}",
            String::from_utf8_lossy(&refused.stderr)
        );
        assert!(ok(&o, &["audit", "list", "--limit", "3"]).contains("key_revoked"));
    })
    .await
    .unwrap();
}
