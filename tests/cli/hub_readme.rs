//! The README's and docs/hub-admin.md's administrator steps, in order, as an
//! admin types them, on a real PostgreSQL: the role and database (createuser,
//! createdb -O), init, an officer, a hall, serve over https with a certificate made
//! by openssl's *default* `req -x509` command, a desk connecting with that
//! certificate as `--ca-file`, a backup (pg_dump -Fc), a restore into a new
//! database (createdb, pg_restore) and the hub restarted on it — a new desk
//! connects and sees the office as it was.

#[path = "../support/pg.rs"]
mod pg;

mod common;
use common::ok_async as ok;
use common::text;

use std::process::Command;

const PASSWORD: &str = "correct horse 1";

fn must(c: &mut Command, what: &str) -> String {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_steps_as_written_work_from_install_to_a_restore() {
    let cluster = pg::PgCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let at = |tool: &str| {
        let mut c = Command::new(cluster.tool(tool));
        c.args([
            "-h",
            "127.0.0.1",
            "-p",
            &cluster.port.to_string(),
            "-U",
            "hcp",
        ]);
        c
    };
    // sudo -u postgres createuser hcp; sudo -u postgres createdb -O hcp hcp_hub
    // (the cluster's superuser stands for postgres; the office's role is not one).
    must(at("createuser").arg("office"), "createuser");
    must(at("createdb").args(["-O", "office", "hcp_hub"]), "createdb");
    let url = format!(
        "host=127.0.0.1 port={} user=office dbname=hcp_hub",
        cluster.port
    );

    // hcp hub init; an officer; a hall with its token from a file.
    common::hub_admin(&url, &["init"]).await;
    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let pw = pw.to_str().unwrap().to_owned();
    common::hub_add_user(&url, "陈静", "officer", None, &pw).await;
    let srv = hcp_hall::serve_fixture(71, 1, 200, "admin").await;
    let id = srv.state.hall_ids()[0].clone();
    let tf = dir.path().join("hall-token.txt");
    std::fs::write(&tf, srv.token(&id).unwrap()).unwrap();
    common::hub_add_hall(&url, &srv.base_url(&id), tf).await;
    common::hub_admin(&url, &["sync"]).await;
    let cases_before: i64 = pg::client(&url.replace("user=office", "user=hcp"))
        .await
        .query_one("SELECT count(*) FROM hub_cases", &[])
        .await
        .unwrap()
        .get(0);
    assert!(cases_before > 0);

    // TLS with openssl's default self-signed command (a CA:TRUE certificate).
    let (crt, key) = (dir.path().join("hub.crt"), dir.path().join("hub.key"));
    must(
        Command::new("openssl")
            .args([
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-days",
                "30",
                "-subj",
                "/CN=127.0.0.1",
                "-keyout",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&crt),
        "openssl req -x509",
    );
    let serve = |pg_url: &str, addr: &str| {
        common::serve_hub(
            pg_url,
            addr,
            &[
                "--tls-cert",
                crt.to_str().unwrap(),
                "--tls-key",
                key.to_str().unwrap(),
                "--sync-every",
                "0",
            ],
        )
    };
    let hub = serve(&url, "127.0.0.1:0");
    assert!(hub.url.starts_with("https://"), "{}", hub.url);
    let port = hub
        .url
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_owned();

    // A desk connects with the certificate as --ca-file and syncs.
    let a = dir.path().join("chen.db");
    let connect = |db: std::path::PathBuf, url: String| {
        let (pw, crt) = (pw.clone(), crt.clone());
        async move {
            ok(
                &db,
                &[
                    "hub",
                    "connect",
                    &url,
                    "--user",
                    "陈静",
                    "--password-file",
                    &pw,
                    "--ca-file",
                    crt.to_str().unwrap(),
                ],
            )
            .await
        }
    };
    let said = connect(a.clone(), hub.url.clone()).await;
    assert!(said.contains("已连接团队服务器"), "{said}");
    ok(&a, &["sync"]).await;

    // Backup: pg_dump -Fc.
    let dump = dir.path().join("hcp_hub.dump");
    must(
        at("pg_dump")
            .args(["-Fc", "-d", "hcp_hub", "-f"])
            .arg(&dump),
        "pg_dump",
    );
    drop(hub);

    // Restore into a new, empty database with the hub stopped, then start on it.
    must(
        at("createdb").args(["-O", "office", "hcp_hub_restored"]),
        "createdb restored",
    );
    must(
        at("pg_restore")
            .args(["--no-owner", "--role", "office", "-d", "hcp_hub_restored"])
            .arg(&dump),
        "pg_restore",
    );
    let restored = format!(
        "host=127.0.0.1 port={} user=office dbname=hcp_hub_restored",
        cluster.port
    );
    common::hub_admin(&restored, &["init"]).await; // ExecStartPre: nothing to do, no refusal
    let hub = serve(&restored, &format!("127.0.0.1:{port}"));
    let health = common::hub_admin(&restored, &["health"]).await;
    assert!(
        health.contains("数据库：可用") && health.contains(&id),
        "{health}"
    );

    // A new desk sees the office as the backup had it.
    let b = dir.path().join("chen-2.db");
    connect(b.clone(), hub.url.clone()).await;
    ok(&b, &["sync"]).await;
    let page: serde_json::Value =
        serde_json::from_str(&ok(&b, &["cases", "list", "--json", "--limit", "100000"]).await)
            .unwrap();
    assert_eq!(page["total"].as_i64().unwrap(), cases_before);
}
