//! `/v1/health` says whether the hub can serve: it is `ok` only while its
//! PostgreSQL answers, so a monitor or a load balancer does not send desks to a
//! hub whose database is gone.

#[path = "../../../tests/support/pg.rs"]
mod common;

use hcp_hub::Hub;
use hcp_hub::server::RunningHub;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_follows_the_database() {
    let pg = common::PgCluster::start();
    let url = pg.database("health").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    let running = RunningHub::start(hub, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let health = format!("{}v1/health", running.url());
    let get = || async { reqwest::get(&health).await.unwrap() };

    let r = get().await;
    assert_eq!(r.status().as_u16(), 200);
    // Which database this is, to anyone (a digest, not the server's identifiers).
    let epoch = r.headers()["x-hcp-epoch"].to_str().unwrap().to_owned();
    assert!(
        epoch.len() == 24 && epoch.bytes().all(|b| b.is_ascii_hexdigit()),
        "{epoch}"
    );
    assert_eq!(r.text().await.unwrap(), "ok");

    pg.stop();
    let r = get().await;
    assert_eq!(r.status().as_u16(), 503);
    assert_eq!(r.text().await.unwrap(), "database unavailable");

    // Back: the pool reconnects and health says so; the same database, the same epoch.
    pg.resume();
    let r = get().await;
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["x-hcp-epoch"].to_str().unwrap(), epoch);
}

/// A backup restored into the live database left two rows in `hub_schema`, and
/// every command then failed with "query returned an unexpected number of rows".
/// The table now takes one row only; a database found with more is refused, by
/// `init` and by every command, saying what happened and what to do.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_with_two_schema_rows_is_refused_with_what_to_do() {
    let pg = common::PgCluster::start();
    let url = pg.database("restored").await;
    Hub::init(&url).await.unwrap();
    let c = common::client(&url).await;
    let second = c
        .execute("INSERT INTO hub_schema (version) VALUES (1)", &[])
        .await;
    assert!(second.is_err(), "a second row is refused by the table");
    // As a restore over an older hub (before the key) left it.
    c.batch_execute(
        "ALTER TABLE hub_schema DROP CONSTRAINT hub_schema_one_row;
         INSERT INTO hub_schema (version) VALUES (9);",
    )
    .await
    .unwrap();
    for e in [
        Hub::open(&url).await.err().unwrap(),
        Hub::init(&url).await.err().unwrap(),
    ] {
        let m = e.to_string();
        assert!(
            m.contains("hub_schema 中有 2 行") && m.contains("新建一个空数据库"),
            "{m}"
        );
    }
}
