//! The case engine on the hub, on a real PostgreSQL with the real reference hall:
//! cases open from the synced ratings exactly as on a desktop; two officers acting
//! on one case at once — one wins, the other gets `conflict` with the case's
//! version and sees the winner's step; repeats are `duplicate`; directors and
//! shoppers are refused; each decision reaches the hall once.

#[path = "../support/pg.rs"]
mod common;
#[path = "../../crates/hcp-hub/tests/support/mod.rs"]
mod support;
use support::{ADMIN, PASSWORD};

use std::collections::BTreeMap;

use hcp_core::Role;
use hcp_hub::server::RunningHub;
use hcp_hub::{AccountRole, Hub, HubSyncReport, no_progress};
use hcp_store::{Store, Who};
use hcp_sync::{HallEndpoint, SyncOptions, Token};
use serde_json::{Value, json};

fn options() -> SyncOptions {
    support::quick_sync(500)
}

async fn sync(hub: &Hub) {
    for r in hub
        .sync_halls(&[], &options(), no_progress())
        .await
        .unwrap()
    {
        match r {
            HubSyncReport::Synced { sync, push, .. } => {
                assert!(sync.error.is_none(), "{:?}", sync.error);
                assert!(push.error.is_none(), "{:?}", push.error);
                assert_eq!(push.pending, 0);
            }
            HubSyncReport::Busy { hall_id } => panic!("{hall_id} busy"),
        }
    }
}

struct Client {
    base: String,
    token: String,
    http: reqwest::Client,
}

impl Client {
    async fn login(hub: &RunningHub, name: &str) -> Client {
        let http = reqwest::Client::new();
        let r: Value = http
            .post(format!("{}v1/login", hub.url()))
            .json(&json!({"name": name, "password": PASSWORD}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        Client {
            base: hub.url(),
            token: r["token"].as_str().unwrap().to_owned(),
            http,
        }
    }

    async fn get(&self, path: &str) -> (u16, Value) {
        let r = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .unwrap();
        (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
    }

    async fn act(&self, actions: Value) -> Vec<Value> {
        let r: Value = self
            .http
            .post(format!("{}v1/actions", self.base))
            .bearer_auth(&self.token)
            .json(&json!({ "actions": actions }))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        r["results"].as_array().expect("results").clone()
    }

    /// Every case the account receives, through the feed.
    async fn all_cases(&self) -> Vec<Value> {
        let mut after = String::new();
        let mut out = vec![];
        loop {
            let (status, page) = self
                .get(&format!("v1/cases/changes?limit=100&after={after}"))
                .await;
            assert_eq!(status, 200, "{page}");
            for c in page["changes"].as_array().unwrap() {
                out.push(c["case"].clone());
            }
            after = page["next"].as_str().unwrap().to_owned();
            if page["more"] == false {
                return out;
            }
        }
    }
}

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_office_one_case_per_bad_rating_and_one_winner_per_step() {
    let pg_cluster = common::PgCluster::start();
    let url = pg_cluster.database("cases").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    let srv = hcp_hall::serve_fixture(52, 2, 900, "admin").await;
    let ids = srv.state.hall_ids();
    for id in &ids {
        hub.add_hall(&srv.base_url(id), &srv.token(id).unwrap(), None, ADMIN)
            .await
            .unwrap();
    }
    for (name, role, hall) in [
        ("陈静", Role::Officer, None),
        ("周敏", Role::Officer, None),
        ("王主任", Role::Director, Some(ids[0].as_str())),
        ("李明", Role::Shopper, None),
    ] {
        hub.add_user(name, AccountRole::Person(role), hall, PASSWORD, ADMIN)
            .await
            .unwrap();
    }
    sync(&hub).await;

    // The hub's cases are the desktop's: same ratings, same states.
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("desk.sqlite");
    {
        let mut store = Store::open(&db).unwrap();
        let by = Who {
            name: "测试",
            actor: hcp_core::case::Actor::Officer,
        };
        for id in &ids {
            let ep = HallEndpoint {
                hall_id: id.clone(),
                base_url: srv.base_url(id),
                token: Token::new(srv.token(id).unwrap()),
                ca_file: None,
            };
            let p = hcp_sync::fetch_profile(&ep, &options()).await.unwrap();
            store.upsert_hall(&p, &ep.base_url, None, by).unwrap();
        }
    }
    let eps = ids
        .iter()
        .map(|id| HallEndpoint {
            hall_id: id.clone(),
            base_url: srv.base_url(id),
            token: Token::new(srv.token(id).unwrap()),
            ca_file: None,
        })
        .collect();
    hcp_sync::sync_halls(&db, eps, &options(), no_progress()).await;
    let desk: BTreeMap<(String, String), String> = {
        let c = rusqlite::Connection::open(&db).unwrap();
        let mut s = c
            .prepare("SELECT hall_id, evaluation_id, state FROM cases WHERE kind = 'bad_rating'")
            .unwrap();
        s.query_map([], |r| Ok(((r.get(0)?, r.get(1)?), r.get(2)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect()
    };
    let c = common::client(&url).await;
    let on_hub: BTreeMap<(String, String), String> = c
        .query("SELECT hall_id, evaluation_id, state FROM hub_cases", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    assert!(desk.len() > 20, "{}", desk.len());
    assert_eq!(on_hub, desk);

    // Every case_opened reached its hall once.
    let opened: i64 = c
        .query_one(
            "SELECT count(*) FROM hub_outbox WHERE kind = 'case_opened'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    let log = |hall: &str| {
        srv.state
            .with_hall(hall, |h| h.decision_log().to_vec())
            .unwrap()
    };
    let queued: i64 = c
        .query_one("SELECT count(*) FROM hub_outbox", &[])
        .await
        .unwrap()
        .get(0);
    let at_halls: Vec<_> = ids.iter().flat_map(|h| log(h)).collect();
    assert_eq!(opened as usize, desk.len());
    assert_eq!(
        at_halls.iter().filter(|d| d.kind == "case_opened").count(),
        desk.len()
    );
    // (A rating revised up in the same feed also got its case_closed.)
    assert_eq!(at_halls.len(), queued as usize);

    let hub_api = RunningHub::start(hub.clone(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let chen = Client::login(&hub_api, "陈静").await;
    let zhou = Client::login(&hub_api, "周敏").await;
    let director = Client::login(&hub_api, "王主任").await;
    let shopper = Client::login(&hub_api, "李明").await;

    // Both officers receive every case; the director only his hall's.
    let all = chen.all_cases().await;
    assert_eq!(all.len(), desk.len());
    let his = director.all_cases().await;
    assert!(!his.is_empty());
    assert!(his.iter().all(|c| c["hall_id"] == ids[0].as_str()));
    assert_eq!(
        his.len(),
        all.iter()
            .filter(|c| c["hall_id"] == ids[0].as_str())
            .count()
    );
    assert_eq!(shopper.get("v1/cases/changes").await.0, 403);

    // One open case of the director's hall, acted on by both officers at once.
    let case = all
        .iter()
        .find(|c| c["state"] == "open" && c["hall_id"] == ids[0].as_str())
        .expect("an open case");
    let case_id = case["case_id"].as_i64().unwrap();
    let v1 = case["version"].as_i64().unwrap();
    let (a_id, b_id) = (uuid(), uuid());
    let verify = |id: &str, note: &str| {
        json!([{ "id": id, "case_id": case_id, "expected_version": v1,
                 "action": { "type": "verify", "outcome": "no_legal_basis", "note": note } }])
    };
    let (ra, rb) = tokio::join!(
        chen.act(verify(&a_id, "已向评价人解释政策")),
        zhou.act(verify(&b_id, "政策无依据"))
    );
    let (ra, rb) = (&ra[0], &rb[0]);
    let statuses = [
        ra["status"].as_str().unwrap(),
        rb["status"].as_str().unwrap(),
    ];
    assert!(
        statuses == ["accepted", "rejected"] || statuses == ["rejected", "accepted"],
        "{ra} {rb}"
    );
    let (winner, loser, loser_result, winner_name) = if statuses[0] == "accepted" {
        (&chen, &zhou, rb, "陈静")
    } else {
        (&zhou, &chen, ra, "周敏")
    };
    assert_eq!(loser_result["reason"], "conflict");
    assert_eq!(loser_result["version"], v1 + 1);
    assert_eq!(loser_result["state"], "explained");
    assert!(
        loser_result["message"]
            .as_str()
            .unwrap()
            .contains("已被他人更新"),
        "{loser_result}"
    );
    // The same action again (a retry after a lost answer): the same answer.
    let winner_id = if statuses[0] == "accepted" {
        &a_id
    } else {
        &b_id
    };
    let again = winner.act(verify(winner_id, "已向评价人解释政策")).await;
    assert_eq!(again[0]["status"], "duplicate");
    // An action id is the sender's: another account cannot replay it.
    let stolen = loser.act(verify(winner_id, "x")).await;
    assert_eq!(stolen[0]["status"], "rejected");

    // The loser sees the winner's step on the case.
    let (status, now) = loser.get(&format!("v1/cases/{case_id}")).await;
    assert_eq!(status, 200);
    assert_eq!(now["version"], v1 + 1);
    let last = now["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], winner_name);
    assert_eq!(last["event"], "verify");

    // The director may read his hall's case but not act on it, nor see others'.
    let (status, _) = director.get(&format!("v1/cases/{case_id}")).await;
    assert_eq!(status, 200);
    let refused = director
        .act(
            json!([{ "id": uuid(), "case_id": case_id, "expected_version": v1 + 1,
                       "action": { "type": "callback", "result": "satisfied", "note": "满意" } }]),
        )
        .await;
    assert_eq!(refused[0]["reason"], "forbidden", "{}", refused[0]);
    let other = all
        .iter()
        .find(|c| c["hall_id"] == ids[1].as_str())
        .unwrap();
    let (status, _) = director
        .get(&format!("v1/cases/{}", other["case_id"]))
        .await;
    assert_eq!(status, 404);
    // A hall's own record cannot be forged by a desktop; a malformed id is refused.
    let forged = loser
        .act(json!([{ "id": uuid(), "case_id": case_id, "expected_version": v1 + 1,
                       "action": { "type": "appeal_filed", "id": "AP-X", "ground": "malicious" } }]))
        .await;
    assert_eq!(forged[0]["reason"], "invalid");
    let bad_id = loser
        .act(
            json!([{ "id": "1; DROP TABLE hub_cases", "case_id": case_id, "expected_version": 1,
                       "action": { "type": "close", "note": "x" } }]),
        )
        .await;
    assert_eq!(bad_id[0]["reason"], "invalid");

    // The loser takes the next step on the current version: accepted, and the
    // case closes with a callback and case_closed for the hall.
    let next = loser
        .act(json!([{ "id": uuid(), "case_id": case_id, "expected_version": v1 + 1,
                       "action": { "type": "callback", "result": "satisfied", "note": "回访满意" } }]))
        .await;
    assert_eq!(next[0]["status"], "accepted", "{}", next[0]);
    assert_eq!(next[0]["state"], "closed");

    // Delivered on the next sync, once; another sync sends nothing again.
    let before = log(&ids[0]).len();
    sync(&hub).await;
    sync(&hub).await;
    let after = log(&ids[0]);
    assert_eq!(after.len(), before + 2);
    let evaluation = case["evaluation_id"].as_str().unwrap();
    let mine: Vec<&str> = after
        .iter()
        .filter(|d| d.evaluation_id == evaluation)
        .map(|d| d.kind.as_str())
        .collect();
    assert_eq!(mine, ["case_opened", "callback", "case_closed"]);
    let officer = &after.last().unwrap().officer;
    assert!(officer == "陈静" || officer == "周敏", "{officer}");

    // The audit log names the accounts that acted, and its chain holds.
    let actors: Vec<String> = c
        .query(
            "SELECT actor FROM hub_audit WHERE subject = $1 ORDER BY seq",
            &[&format!("case:{case_id}")],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(actors.len(), 2);
    assert_eq!(actors[0], winner_name);
    assert!(matches!(
        hcp_hub::verify_audit(&hub, None).await.unwrap(),
        hcp_hub::AuditCheck::Intact { .. }
    ));

    // A signed-out session and an expired one reach nothing.
    let r = winner
        .http
        .post(format!("{}v1/logout", winner.base))
        .bearer_auth(&winner.token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    assert_eq!(winner.get("v1/cases/changes").await.0, 401);
    c.execute(
        "UPDATE hub_sessions SET expires_at = now() - interval '1 minute'
         WHERE account = '王主任'",
        &[],
    )
    .await
    .unwrap();
    assert_eq!(director.get(&format!("v1/cases/{case_id}")).await.0, 401);
    let r = director
        .http
        .post(format!("{}v1/actions", director.base))
        .bearer_auth(&director.token)
        .json(&json!({ "actions": [] }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    assert_eq!(
        director
            .get(&format!("v1/halls/{}/v1/changes", ids[0]))
            .await
            .0,
        401
    );
}
