//! The office end to end: a real PostgreSQL, the real reference hall with two
//! halls, `hcp hub serve`, and three desks as replicas (two officers, one
//! director) driven through the `hcp` binary. Both officers act on one case at
//! once: one wins, the other learns of the conflict and sees the winner's step;
//! the hall hears each decision once; the director sees only his hall, with the
//! officers' figures, and cannot act. Then the hub goes away: a desk reads and
//! queues three actions, and delivers them in order, once, when the hub is back.

#[path = "../support/pg.rs"]
mod pg;

mod common;
use common::text;
use common::{ok_async as ok, run_async as run};

use std::path::{Path, PathBuf};
use std::process::Output;

use std::collections::BTreeMap;

use serde_json::Value;

const PASSWORD: &str = "correct horse 1";

/// `hcp hub …` (the administrator's commands) on a blocking thread.
fn serve(pg_url: &str, addr: &str) -> common::ServedHub {
    common::serve_hub(pg_url, addr, &["--sync-every", "0"])
}

async fn cases(db: &Path) -> Vec<Value> {
    let page: Value =
        serde_json::from_str(&ok(db, &["cases", "list", "--json", "--limit", "10000"]).await)
            .unwrap();
    page["rows"].as_array().unwrap().clone()
}

async fn case(db: &Path, id: i64) -> Value {
    serde_json::from_str(&ok(db, &["case", "show", &id.to_string(), "--json"]).await).unwrap()
}

async fn report(db: &Path, hall: &str, out: &Path) -> Value {
    ok(
        db,
        &[
            "report",
            "monthly",
            "--month",
            "2026-10",
            "--hall",
            hall,
            "--format",
            "json",
            "--out",
            out.to_str().unwrap(),
        ],
    )
    .await;
    serde_json::from_slice(&std::fs::read(out).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_office_of_two_officers_and_a_director_on_one_hub() {
    let cluster = pg::PgCluster::start();
    let url = cluster.database("office").await;
    let dir = tempfile::tempdir().unwrap();
    let pw = dir.path().join("pw.txt");
    std::fs::write(&pw, format!("{PASSWORD}\n")).unwrap();
    let pw = pw.to_str().unwrap();

    let srv = hcp_hall::serve_fixture(61, 2, 600, "admin").await;
    let ids = srv.state.hall_ids();
    common::hub_admin(&url, &["init"]).await;
    for id in &ids {
        let tf = dir.path().join(format!("{id}.token"));
        std::fs::write(&tf, srv.token(id).unwrap()).unwrap();
        common::hub_add_hall(&url, &srv.base_url(id), tf).await;
    }
    for (name, role) in [
        ("陈静", "officer"),
        ("周敏", "officer"),
        ("李明", "shopper"),
    ] {
        common::hub_add_user(&url, name, role, None, pw).await;
    }
    common::hub_add_user(&url, "王主任", "director", Some(ids[0].as_str()), pw).await;
    common::hub_admin(&url, &["sync"]).await;
    let hub = serve(&url, "127.0.0.1:0");

    // Three desks connect and sync from the hub.
    let desk = |n: &str| -> PathBuf { dir.path().join(format!("{n}.db")) };
    let (a, b, d) = (desk("chen"), desk("zhou"), desk("wang"));
    for (db, name) in [(&a, "陈静"), (&b, "周敏"), (&d, "王主任")] {
        let out = ok(
            db,
            &[
                "hub",
                "connect",
                &hub.url,
                "--user",
                name,
                "--password-file",
                pw,
            ],
        )
        .await;
        assert!(out.contains("已连接团队服务器"), "{out}");
        assert!(out.contains(name), "{out}");
        ok(db, &["sync"]).await;
    }
    // A shopper's desk: the halls to visit (no ratings), a visit handed in by upload.
    let shop = desk("li");
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
    let out = ok(&shop, &["sync"]).await;
    assert!(out.contains("交件 0 份"), "{out}");
    let visit = ok(&shop, &["visit", "new", "--hall", &ids[1]])
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
    let status = ok(&shop, &["hub", "status"]).await;
    assert!(status.contains("待交件：1 份"), "{status}");
    let out = ok(&shop, &["sync"]).await;
    assert!(out.contains("交件 1 份，未受理 0 份"), "{out}");
    let status = ok(&shop, &["hub", "status"]).await;
    assert!(!status.contains("待交件"), "{status}");
    // Handed in once: the next sync sends nothing.
    let out = ok(&shop, &["sync"]).await;
    assert!(out.contains("交件 0 份"), "{out}");
    // The officer's desk receives it to review, the shopper being the hub account
    // (no key trusted on the desk first); the other officer's too, once.
    let out = ok(&a, &["sync"]).await;
    assert!(out.contains("1 份暗访交件"), "{out}");
    let out = ok(&a, &["sync"]).await;
    assert!(out.contains("0 份暗访交件"), "{out}");
    let listed: Value = serde_json::from_str(&ok(&a, &["visit", "list", "--json"]).await).unwrap();
    let row = listed
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["visit_id"] == visit.as_str())
        .unwrap_or_else(|| panic!("{listed}"))
        .clone();
    assert_eq!(row["shopper"], "李明");
    assert_eq!(row["state"], "submitted");
    assert_eq!(row["origin"], "imported");
    // A shopper reads no cases and no ratings.
    assert!(cases(&shop).await.is_empty());

    // Name and role come from the hub account.
    let refused = run(&a, &["user", "set", "--name", "冒名", "--role", "director"]).await;
    assert!(!refused.status.success());
    common::stderr_says(&refused, "来自团队服务器账号");

    // 发文机关 is the office's: set on the hub, taken by each desk at its sync
    // (the 公文 it issues signs and numbers with it); a desk cannot set its own.
    let said = common::hub_admin(
        &url,
        &[
            "office",
            "--name",
            "测试市政务服务管理局",
            "--code",
            "测政管",
            "--to",
            "各县（市、区）政务服务中心",
        ],
    )
    .await;
    assert!(said.contains("已保存发文机关设置"), "{said}");
    ok(&a, &["sync"]).await;
    let shown = ok(&a, &["report", "office"]).await;
    assert!(
        shown.contains("发文机关：测试市政务服务管理局") && shown.contains("机关代字：测政管"),
        "{shown}"
    );
    let refused = run(&a, &["report", "office", "--name", "别的局"]).await;
    assert!(!refused.status.success());
    common::stderr_says(&refused, "团队服务器上统一设置");

    // The officers share one inbox; the director has his hall's part of it.
    let all_a = cases(&a).await;
    let all_b = cases(&b).await;
    assert!(all_a.len() > 20, "{}", all_a.len());
    let ids_of = |rows: &[Value]| -> Vec<i64> {
        let mut v: Vec<i64> = rows
            .iter()
            .map(|r| r["case_id"].as_i64().unwrap())
            .collect();
        v.sort();
        v
    };
    assert_eq!(ids_of(&all_a), ids_of(&all_b));
    let his = cases(&d).await;
    assert!(!his.is_empty() && his.iter().all(|r| r["hall_id"] == ids[0].as_str()));
    let hall0: Vec<Value> = all_a
        .iter()
        .filter(|r| r["hall_id"] == ids[0].as_str())
        .cloned()
        .collect();
    assert_eq!(ids_of(&his), ids_of(&hall0));

    // Both officers verify the same open case, then sync at the same moment.
    let open: Vec<i64> = hall0
        .iter()
        .filter(|r| r["state"] == "open")
        .map(|r| r["case_id"].as_i64().unwrap())
        .collect();
    assert!(open.len() >= 4, "{open:?}");
    let x = open[0].to_string();
    for (db, note) in [(&a, "已向评价人解释政策"), (&b, "政策无依据，已解释")] {
        let out = ok(
            db,
            &[
                "case",
                "verify",
                &x,
                "--outcome",
                "no_legal_basis",
                "--note",
                note,
            ],
        )
        .await;
        assert!(out.contains("待发送"), "{out}");
    }
    let (sa, sb) = tokio::join!(run(&a, &["sync"]), run(&b, &["sync"]));
    let (sa, sb) = (text(&sa.stdout), text(&sb.stdout));
    let won_a = sa.contains("受理 1，未受理 0");
    let won_b = sb.contains("受理 1，未受理 0");
    assert!(won_a != won_b, "exactly one accepted:\n{sa}\n{sb}");
    let (winner, loser, winner_name) = if won_a {
        (&a, &b, "陈静")
    } else {
        (&b, &a, "周敏")
    };
    assert!(
        (if won_a { &sb } else { &sa }).contains("受理 0，未受理 1"),
        "{sa}\n{sb}"
    );
    // The loser sees why, and the winner's step, after the next sync — at the
    // time it happened on the hub, not when this desk received it.
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    ok(loser, &["sync"]).await;
    let seen = case(loser, open[0]).await;
    let hub_at: chrono::DateTime<chrono::Utc> = pg::client(&url)
        .await
        .query_one(
            "SELECT at FROM hub_case_events WHERE case_id = $1 ORDER BY version DESC LIMIT 1",
            &[&open[0]],
        )
        .await
        .unwrap()
        .get(0);
    let step = seen["timeline"].as_array().unwrap().last().unwrap();
    let acted = chrono::DateTime::parse_from_rfc3339(step["acted_at"].as_str().unwrap()).unwrap();
    assert_eq!(acted.timestamp(), hub_at.timestamp(), "{step}");
    let shown = ok(loser, &["case", "show", &open[0].to_string()]).await;
    let when = hub_at
        .with_timezone(&hcp_core::metrics::beijing())
        .format("%Y-%m-%d %H:%M:%S")
        .to_string();
    assert!(shown.contains(&format!("  {when}")), "{when} in:\n{shown}");
    assert_eq!(seen["case"]["state"], "explained");
    let mine = &seen["queued"][0];
    assert_eq!(mine["state"], "rejected");
    assert_eq!(mine["reason"], "conflict");
    assert!(mine["message"].as_str().unwrap().contains("已被他人更新"));
    let last = seen["timeline"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["actor"], winner_name, "{last}");
    let status = ok(loser, &["hub", "status"]).await;
    assert!(
        status.contains("未受理：1 项") && status.contains("已连接"),
        "{status}"
    );
    // Taking the refused verify again is refused at once (the case is past it);
    // dropping it keeps the row, marked, and it leaves the status.
    let id = mine["id"].as_str().unwrap().to_owned();
    assert!(status.contains(&id), "{status}");
    let redo = run(loser, &["hub", "redo", &id]).await;
    assert!(!redo.status.success());
    common::stderr_says(&redo, "不能进行此操作");
    let dropped = ok(loser, &["hub", "drop", &id]).await;
    assert!(
        dropped.contains("已放弃") && !dropped.contains("未受理"),
        "{dropped}"
    );
    let again = run(loser, &["hub", "drop", &id]).await;
    common::stderr_says(&again, "已经处理过");
    let seen = case(loser, open[0]).await;
    assert_eq!(seen["queued"][0]["resolution"], "dropped");

    // The loser takes the next step on the case as it is now: accepted.
    ok(
        loser,
        &[
            "case",
            "callback",
            &x,
            "--result",
            "satisfied",
            "--note",
            "回访满意",
        ],
    )
    .await;
    let out = ok(loser, &["sync"]).await;
    assert!(out.contains("受理 1，未受理 0"), "{out}");
    ok(winner, &["sync"]).await;
    assert_eq!(case(winner, open[0]).await["case"]["state"], "closed");

    // The hub tells the hall, once.
    common::hub_admin(&url, &["sync"]).await;
    common::hub_admin(&url, &["sync"]).await;
    let evaluation = seen["case"]["evaluation_id"].as_str().unwrap().to_owned();
    let log = srv
        .state
        .with_hall(&ids[0], |h| h.decision_log().to_vec())
        .unwrap();
    let kinds: Vec<&str> = log
        .iter()
        .filter(|d| d.evaluation_id == evaluation)
        .map(|d| d.kind.as_str())
        .collect();
    assert_eq!(kinds, ["case_opened", "callback", "case_closed"]);
    let mut seen_ids = std::collections::HashSet::new();
    assert!(log.iter().all(|d| seen_ids.insert(d.id.clone())));

    // The director: no case actions; his report's figures are the officers'.
    let refused = run(
        &d,
        &[
            "case",
            "callback",
            &x,
            "--result",
            "satisfied",
            "--note",
            "x",
        ],
    )
    .await;
    assert!(!refused.status.success());
    ok(&d, &["sync"]).await;
    let theirs = report(winner, &ids[0], &dir.path().join("r1.json")).await;
    let his = report(&d, &ids[0], &dir.path().join("r2.json")).await;
    assert_eq!(theirs["overall"], his["overall"]);
    assert_eq!(theirs["ledger"], his["ledger"]);
    assert!(!theirs["ledger"].as_array().unwrap().is_empty());

    // The office shortens hall 0's rectification time: the desks' copies of its
    // open cases get the new deadlines on their next sync.
    let rectifying = |rows: &[Value]| -> BTreeMap<i64, Value> {
        rows.iter()
            .filter(|r| r["hall_id"] == ids[0].as_str() && r["state"] == "awaiting_signoff")
            .map(|r| (r["case_id"].as_i64().unwrap(), r["due_at"].clone()))
            .collect()
    };
    let due_before = rectifying(&cases(&d).await);
    assert!(!due_before.is_empty());
    common::hub_admin(
        &url,
        &["policy", "set", "--hall", &ids[0], "--rectify", "5"],
    )
    .await;
    ok(&d, &["sync"]).await;
    let due_after = rectifying(&cases(&d).await);
    assert_eq!(due_after.len(), due_before.len());
    assert!(
        due_after.iter().all(|(id, due)| *due != due_before[id]),
        "{due_before:?}\n{due_after:?}"
    );

    // Two officers issue October's reports of the two halls at once: the hub
    // numbers them, so they differ; the director's desk receives his hall's.
    let issue_a = ["report", "issue", "--month", "2026-10", "--hall", &ids[0]];
    let issue_b = ["report", "issue", "--month", "2026-10", "--hall", &ids[1]];
    let (ia, ib) = tokio::join!(run(&a, &issue_a), run(&b, &issue_b));
    let number = |o: &Output| -> String {
        let t = text(&o.stdout);
        assert!(o.status.success(), "{t}{}", text(&o.stderr));
        let at = t.find("〔2026〕第").unwrap_or_else(|| panic!("{t}"));
        t[at..].split('期').next().unwrap().to_owned()
    };
    let (na, nb) = (number(&ia), number(&ib));
    assert_ne!(na, nb, "two desks issued the same number");
    let mut both = vec![na.clone(), nb.clone()];
    both.sort();
    assert_eq!(both, ["〔2026〕第1", "〔2026〕第2"]);
    let out = ok(&d, &["sync"]).await;
    assert!(out.contains("1 份已签发通报"), "{out}");
    let list = ok(&d, &["report", "list"]).await;
    assert!(
        list.contains(&format!("{na}期")) && !list.contains(&format!("{nb}期")),
        "{list}"
    );

    // The hub goes away. The desk still reads, exports, and queues three actions.
    let addr = hub
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    drop(hub);
    assert!(cases(&a).await.len() >= all_a.len());
    let csv = dir.path().join("evals.csv");
    ok(
        &a,
        &[
            "evaluations",
            "export",
            "--format",
            "csv",
            "--out",
            csv.to_str().unwrap(),
        ],
    )
    .await;
    assert!(std::fs::metadata(&csv).unwrap().len() > 1000);
    let three = &open[1..4];
    for id in three {
        let out = ok(
            &a,
            &[
                "case",
                "verify",
                &id.to_string(),
                "--outcome",
                "true",
                "--note",
                "属实，转整改",
            ],
        )
        .await;
        assert!(out.contains("待发送"), "{out}");
    }
    let offline = run(&a, &["sync"]).await;
    assert_eq!(offline.status.code(), Some(2), "{}", text(&offline.stdout));
    common::stderr_says(&offline, "待发送的操作保留在本机");
    let status = ok(&a, &["hub", "status"]).await;
    assert!(
        status.contains("离线") && status.contains("待发送：3 项"),
        "{status}"
    );

    // Back on the same address: delivered in order, once.
    let _hub = serve(&url, &addr);
    let out = ok(&a, &["sync"]).await;
    assert!(out.contains("发送 3 项操作（受理 3，未受理 0）"), "{out}");
    let out = ok(&a, &["sync"]).await;
    assert!(out.contains("发送 0 项操作"), "{out}");
    for id in three {
        assert_eq!(case(&a, *id).await["case"]["state"], "rectifying");
    }
    let c = pg::client(&url).await;
    let order: Vec<String> = c
        .query(
            "SELECT subject FROM hub_audit WHERE actor = '陈静' AND action = 'verify' ORDER BY seq",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let expected: Vec<String> = three.iter().map(|id| format!("case:{id}")).collect();
    assert_eq!(order[order.len() - 3..], expected[..]);
    let accepted: i64 = c
        .query_one(
            "SELECT count(*) FROM hub_actions WHERE account = '陈静' AND status = 'accepted'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(accepted, 4);
}
