//! The hub's hall sync into a real PostgreSQL from the real reference hall, and the
//! halls' records served back to desktops over hall-api v1: a desktop syncing a
//! hall through the hub ends with exactly what it gets from the hall itself.

#[path = "../support/pg.rs"]
mod common;
#[path = "../../crates/hcp-hub/tests/support/mod.rs"]
mod support;
use support::{ADMIN, PASSWORD};

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use hcp_core::Role;
use hcp_hall::RunningServer;
use hcp_hub::server::RunningHub;
use hcp_hub::{AccountRole, Hub, HubSyncReport, no_progress};
use hcp_store::{Store, Who};
use hcp_sync::{HallEndpoint, SyncOptions, Token};

fn options() -> SyncOptions {
    support::quick_sync(200)
}

/// (kind, id) → (rev, raw JSON) of every record a store holds, per hall.
type Records = BTreeMap<(String, String, String), (i64, String)>;

async fn hub_records(url: &str) -> Records {
    let c = common::client(url).await;
    c.query("SELECT hall_id, kind, id, rev, raw FROM hub_records", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1), r.get(2)), (r.get(3), r.get(4))))
        .collect()
}

fn sqlite_records(db: &Path) -> Records {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut out = Records::new();
    // Evaluations through the store: it rebuilds the raw records it did not keep.
    Store::open(db)
        .unwrap()
        .for_each_evaluation(None, |e| {
            out.insert(
                (e.hall_id, "evaluation".to_owned(), e.id),
                (e.rev, e.raw_json),
            );
            Ok(())
        })
        .unwrap();
    for (kind, table) in [("appeal", "appeals"), ("rectification", "rectifications")] {
        let mut s = c
            .prepare(&format!("SELECT hall_id, id, rev, raw_json FROM {table}"))
            .unwrap();
        let rows = s
            .query_map([], |r| {
                Ok((
                    (r.get(0)?, kind.to_owned(), r.get(1)?),
                    (r.get(2)?, r.get(3)?),
                ))
            })
            .unwrap();
        for r in rows {
            let (k, v) = r.unwrap();
            out.insert(k, v);
        }
    }
    out
}

const BY: Who<'static> = Who {
    name: "测试",
    actor: hcp_core::case::Actor::Officer,
};

/// Registers `eps` in a fresh cache at `db` and syncs them.
async fn desktop_sync(db: &Path, eps: Vec<HallEndpoint>) -> Vec<hcp_sync::HallReport> {
    {
        let mut store = Store::open(db).unwrap();
        for ep in &eps {
            let p = hcp_sync::fetch_profile(ep, &options()).await.unwrap();
            assert_eq!(p.hall_id, ep.hall_id);
            store.upsert_hall(&p, &ep.base_url, None, BY).unwrap();
        }
    }
    hcp_sync::sync_halls(db, eps, &options(), no_progress()).await
}

fn direct(srv: &RunningServer, hall: &str) -> HallEndpoint {
    HallEndpoint {
        hall_id: hall.into(),
        base_url: srv.base_url(hall),
        token: Token::new(srv.token(hall).unwrap()),
        ca_file: None,
    }
}

fn through_hub(hub: &RunningHub, hall: &str, session: &str) -> HallEndpoint {
    HallEndpoint {
        hall_id: hall.into(),
        base_url: format!("{}v1/halls/{hall}/", hub.url()),
        token: Token::new(session.to_owned()),
        ca_file: None,
    }
}

async fn login(hub: &RunningHub, name: &str) -> String {
    let r: serde_json::Value = reqwest::Client::new()
        .post(format!("{}v1/login", hub.url()))
        .json(&serde_json::json!({"name": name, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["token"].as_str().unwrap().to_owned()
}

async fn get(url: &str, token: Option<&str>) -> (u16, serde_json::Value) {
    let mut req = reqwest::Client::new().get(url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(serde_json::Value::Null))
}

fn synced(reports: Vec<HubSyncReport>) -> Vec<hcp_sync::HallReport> {
    reports
        .into_iter()
        .map(|r| match r {
            HubSyncReport::Synced { sync, push, .. } => {
                assert!(sync.error.is_none(), "{:?}", sync.error);
                assert!(push.error.is_none(), "{:?}", push.error);
                sync
            }
            HubSyncReport::Busy { hall_id } => panic!("{hall_id} busy"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_keeps_every_hall_record_once_and_serves_it_to_desktops_as_the_hall_did() {
    let pg = common::PgCluster::start();
    let url = pg.database("sync").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    let srv = hcp_hall::serve_fixture(41, 2, 700, "admin").await;
    let ids = srv.state.hall_ids();
    for id in &ids {
        hub.add_hall(&srv.base_url(id), &srv.token(id).unwrap(), None, ADMIN)
            .await
            .unwrap();
    }

    // What a desktop gets from the halls directly.
    let tmp = tempfile::tempdir().unwrap();
    let direct_db = tmp.path().join("direct.sqlite");
    let eps = ids.iter().map(|h| direct(&srv, h)).collect();
    for r in desktop_sync(&direct_db, eps).await {
        assert!(r.error.is_none(), "{:?}", r.error);
    }
    let expected = sqlite_records(&direct_db);
    assert!(expected.len() > 700, "{}", expected.len());

    // The hub syncs the same: every record once, at its highest rev, verbatim.
    let first = synced(
        hub.sync_halls(&[], &options(), no_progress())
            .await
            .unwrap(),
    );
    let new: u64 = first.iter().map(|r| r.outcome.new).sum();
    assert_eq!(new as usize, expected.len());
    assert_eq!(hub_records(&url).await, expected);

    // Again: nothing new, nothing changed.
    let again = synced(
        hub.sync_halls(&[], &options(), no_progress())
            .await
            .unwrap(),
    );
    for r in &again {
        assert_eq!((r.outcome.new, r.outcome.updated), (0, 0), "{r:?}");
    }

    // A revision at the hall: one record updated, no second copy.
    let (kind_id, (rev, raw)) = expected
        .iter()
        .find(|(k, _)| k.1 == "evaluation" && k.0 == ids[0])
        .unwrap();
    let mut data: serde_json::Value = serde_json::from_str(raw).unwrap();
    data["rev"] = serde_json::json!(rev + 1);
    data["comment"] = serde_json::json!("改评：服务已改进");
    srv.append(&ids[0], "evaluation", &data).unwrap();
    let third = synced(
        hub.sync_halls(&[ids[0].clone()], &options(), no_progress())
            .await
            .unwrap(),
    );
    assert_eq!(third.len(), 1);
    assert_eq!((third[0].outcome.new, third[0].outcome.updated), (0, 1));
    let now = hub_records(&url).await;
    assert_eq!(now.len(), expected.len());
    assert_eq!(now[kind_id].0, rev + 1);

    // The hall forgets every cursor (410): the feed starts again from its first
    // change, and every record comes back at a revision the hub has. The shortcut
    // that takes first revisions for new finds the keys taken and falls back:
    // nothing new, nothing doubled, no case opened twice.
    let count = |sql: &'static str| {
        let url = url.clone();
        async move {
            let c = common::client(&url).await;
            c.query_one(sql, &[]).await.unwrap().get::<_, i64>(0)
        }
    };
    let cases_before = count("SELECT count(*) FROM hub_cases").await;
    let decisions_before = count("SELECT count(*) FROM hub_outbox").await;
    srv.state.expire_cursors();
    let restarted = synced(
        hub.sync_halls(&[], &options(), no_progress())
            .await
            .unwrap(),
    );
    for r in &restarted {
        assert_eq!((r.outcome.new, r.outcome.updated), (0, 0), "{r:?}");
        assert!(r.outcome.unchanged > 0 && r.restarts == 1, "{r:?}");
    }
    assert_eq!(hub_records(&url).await, now);
    assert_eq!(count("SELECT count(*) FROM hub_cases").await, cases_before);
    assert_eq!(
        count("SELECT count(*) FROM hub_outbox").await,
        decisions_before
    );

    // Desktops read it back over hall-api v1 with their session.
    let running = RunningHub::start(hub.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    hub.add_user(
        "chen",
        AccountRole::Person(Role::Officer),
        None,
        PASSWORD,
        ADMIN,
    )
    .await
    .unwrap();
    hub.add_user(
        "wang",
        AccountRole::Person(Role::Director),
        Some(&ids[0]),
        PASSWORD,
        ADMIN,
    )
    .await
    .unwrap();
    hub.add_user(
        "li",
        AccountRole::Person(Role::Shopper),
        None,
        PASSWORD,
        ADMIN,
    )
    .await
    .unwrap();
    let officer = login(&running, "chen").await;
    let replica = tmp.path().join("replica.sqlite");
    let eps = ids
        .iter()
        .map(|h| through_hub(&running, h, &officer))
        .collect();
    for r in desktop_sync(&replica, eps).await {
        assert!(r.error.is_none(), "{:?}", r.error);
    }
    assert_eq!(sqlite_records(&replica), now);
    // The profile the hub serves is the hall's.
    let (status, profile) = get(
        &format!("{}v1/halls/{}/v1/hall", running.url(), ids[1]),
        Some(&officer),
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(profile["hall_id"], ids[1].as_str());

    // A director reads his hall only.
    let director = login(&running, "wang").await;
    let own = format!("{}v1/halls/{}/v1/changes?limit=5", running.url(), ids[0]);
    let other = format!("{}v1/halls/{}/v1/changes", running.url(), ids[1]);
    let (status, page) = get(&own, Some(&director)).await;
    assert_eq!(status, 200);
    assert_eq!(page["changes"].as_array().unwrap().len(), 5);
    assert_eq!(page["more"], true);
    let (status, body) = get(&other, Some(&director)).await;
    assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    let (status, _) = get(
        &format!("{}v1/halls/{}/v1/hall", running.url(), ids[1]),
        Some(&director),
    )
    .await;
    assert_eq!(status, 403);
    let (_, halls) = get(&format!("{}v1/halls", running.url()), Some(&director)).await;
    assert_eq!(halls["halls"].as_array().unwrap().len(), 1);

    // A shopper gets the hall list and no ratings.
    let shopper = login(&running, "li").await;
    let (status, _) = get(&own, Some(&shopper)).await;
    assert_eq!(status, 403);
    let (status, halls) = get(&format!("{}v1/halls", running.url()), Some(&shopper)).await;
    assert_eq!(status, 200);
    assert_eq!(halls["halls"].as_array().unwrap().len(), 2);
    assert!(!halls.to_string().contains(&srv.token(&ids[0]).unwrap()));

    // No session, a made-up one, a crafted cursor.
    assert_eq!(get(&own, None).await.0, 401);
    assert_eq!(get(&own, Some("0123abcd")).await.0, 401);
    let (status, body) = get(&format!("{own}&after=h1%20OR%201=1"), Some(&officer)).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (400, Some("invalid_input"))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_process_syncs_a_hall_at_a_time() {
    let pg = common::PgCluster::start();
    let url = pg.database("lock").await;
    Hub::init(&url).await.unwrap();
    let a = Hub::open(&url).await.unwrap();
    let b = Hub::open(&url).await.unwrap();
    let srv = hcp_hall::serve_fixture(43, 1, 2000, "admin").await;
    let id = srv.state.hall_ids()[0].clone();
    a.add_hall(&srv.base_url(&id), &srv.token(&id).unwrap(), None, ADMIN)
        .await
        .unwrap();

    // While another session holds the hall's sync lock, this process skips it.
    let (space, key) = hcp_hub::sync_lock_keys(&id);
    let c = common::client(&url).await;
    c.execute("SELECT pg_advisory_lock($1, $2)", &[&space, &key])
        .await
        .unwrap();
    let r = a.sync_halls(&[], &options(), no_progress()).await.unwrap();
    assert!(
        matches!(&r[0], HubSyncReport::Busy { hall_id } if *hall_id == id),
        "{r:?}"
    );
    assert!(hub_records(&url).await.is_empty());
    // The holder's process dies: its lock goes with its connection.
    drop(c);
    let watcher = common::client(&url).await;
    let gone = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let held: i64 = watcher
            .query_one(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if held == 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < gone,
            "the lock outlived its connection"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // Two processes at once: whichever runs, every record is there once.
    let opts = options();
    let (ra, rb) = tokio::join!(
        a.sync_halls(&[], &opts, no_progress()),
        b.sync_halls(&[], &opts, no_progress())
    );
    let mut new = 0;
    for r in ra.unwrap().into_iter().chain(rb.unwrap()) {
        if let HubSyncReport::Synced { sync: h, .. } = r {
            assert!(h.error.is_none(), "{:?}", h.error);
            new += h.outcome.new;
        }
    }
    let stored = hub_records(&url).await;
    assert_eq!(new as usize, stored.len());
    let latest = srv.state.with_hall(&id, |h| h.latest_records()).unwrap();
    assert!(
        stored.len() <= latest.len() && stored.len() > 1900,
        "{}",
        stored.len()
    );
}
