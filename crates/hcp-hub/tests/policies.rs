//! The office's deadline policies and calendar live on the hub: setting them
//! recomputes every open case's deadline (exactly as hcp-core computes it) and
//! moves those cases in the feed, so desks receive the new deadlines.

#[path = "../../../tests/support/pg.rs"]
mod common;
mod support;
use support::ADMIN;

use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, Utc};
use hcp_core::calendar::WorkingCalendar;
use hcp_core::case::{Case, DeadlinePolicy};
use hcp_hub::{Hub, no_progress};
use hcp_sync::SyncOptions;

type Row = (String, String, Option<DateTime<Utc>>, i64);

async fn cases(c: &tokio_postgres::Client) -> BTreeMap<i64, Row> {
    c.query(
        "SELECT case_id, state, body, due_at, change_seq FROM hub_cases",
        &[],
    )
    .await
    .unwrap()
    .iter()
    .map(|r| (r.get(0), (r.get(1), r.get(2), r.get(3), r.get(4))))
    .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn policies_and_the_calendar_set_on_the_hub_move_open_deadlines() {
    let pg = common::PgCluster::start();
    let url = pg.database("policies").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    let srv = hcp_hall::serve_fixture(91, 1, 600, "admin").await;
    let hall = srv.state.hall_ids()[0].clone();
    hub.add_hall(
        &srv.base_url(&hall),
        &srv.token(&hall).unwrap(),
        None,
        ADMIN,
    )
    .await
    .unwrap();
    hub.sync_halls(&[], &SyncOptions::default(), no_progress())
        .await
        .unwrap();
    let c = common::client(&url).await;
    let before = cases(&c).await;
    assert!(before.values().any(|r| r.0 == "awaiting_signoff"));

    // A bad policy changes nothing.
    let bad = DeadlinePolicy {
        verify: 0,
        ..DeadlinePolicy::default()
    };
    assert!(hub.set_policy(Some(&hall), &bad, ADMIN).await.is_err());
    assert_eq!(cases(&c).await, before);

    // Five working days to rectify in this hall.
    let five = DeadlinePolicy {
        rectify: 5,
        ..DeadlinePolicy::default()
    };
    let moved = hub.set_policy(Some(&hall), &five, ADMIN).await.unwrap();
    let after = cases(&c).await;
    let calendar = WorkingCalendar::builtin();
    let mut changed = 0;
    for (id, (state, body, due, seq)) in &after {
        let case: Case = serde_json::from_str(body).unwrap();
        let expected = case
            .current_deadline(&calendar, &five)
            .map(|d| d.due_at.with_timezone(&Utc));
        assert_eq!(*due, expected, "case {id} ({state})");
        if *due != before[id].2 {
            changed += 1;
            assert!(*seq > before[id].3, "case {id} did not move in the feed");
        }
    }
    assert!(changed > 0);
    assert_eq!(moved, changed);
    let (rows, _) = hub.policies().await.unwrap();
    assert_eq!(rows[1].hall_id.as_deref(), Some(hall.as_str()));
    assert_eq!(rows[1].policy, five);
    assert_eq!(rows[1].updated_by.as_deref(), Some("root"));
    assert!(rows[0].updated_by.is_none(), "the default was never set");

    // Naming one limit changes that one only: 核实 set to 2, then 整改 to 10,
    // and 核实 is still 2 (it was reset to the default once).
    let (p, _) = hub
        .change_policy(
            Some(&hall),
            &hcp_hub::PolicyChange {
                verify: Some(2),
                ..Default::default()
            },
            ADMIN,
        )
        .await
        .unwrap();
    assert_eq!((p.verify, p.rectify), (2, 5));
    let (p, _) = hub
        .change_policy(
            Some(&hall),
            &hcp_hub::PolicyChange {
                rectify: Some(10),
                ..Default::default()
            },
            ADMIN,
        )
        .await
        .unwrap();
    assert_eq!(
        p,
        DeadlinePolicy {
            verify: 2,
            rectify: 10,
            ..five
        }
    );
    assert!(
        hub.change_policy(None, &hcp_hub::PolicyChange::default(), ADMIN)
            .await
            .is_err()
    );
    // Back to five days to rectify for what follows.
    hub.set_policy(Some(&hall), &five, ADMIN).await.unwrap();

    // A calendar year that is not holiday-cn data: refused.
    assert!(
        hub.import_calendar("{\"year\": 2026}", ADMIN)
            .await
            .is_err()
    );
    // 2026 with every weekday of November off: November's deadlines move.
    let mut days = vec![];
    let mut d = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap();
    while d.month0() == 10 {
        days.push(serde_json::json!({"name": "测试", "date": d.to_string(), "isOffDay": true}));
        d = d.succ_opt().unwrap();
    }
    let json = serde_json::json!({"year": 2026, "papers": [], "days": days}).to_string();
    let (year, _) = hub.import_calendar(&json, ADMIN).await.unwrap();
    assert_eq!(year, 2026);
    let (_, years) = hub.policies().await.unwrap();
    assert_eq!(years, [2026]);
    let mut cal = WorkingCalendar::builtin();
    cal.import_year(&json).unwrap();
    for (id, (_, body, due, _)) in cases(&c).await {
        let case: Case = serde_json::from_str(&body).unwrap();
        let expected = case
            .current_deadline(&cal, &five)
            .map(|d| d.due_at.with_timezone(&Utc));
        assert_eq!(due, expected, "case {id}");
    }
    assert!(matches!(
        hcp_hub::verify_audit(&hub, None).await.unwrap(),
        hcp_hub::AuditCheck::Intact { .. }
    ));
}
