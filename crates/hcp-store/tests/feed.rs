//! Applying pages to a real SQLite file.

use hcp_core::validate::validate_change;
use hcp_core::wire::HallProfile;
use hcp_store::{FeedRecord, PageToApply, QuarantineEntry, Store};

mod common;

use common::HALL;

fn profile() -> HallProfile {
    serde_json::from_value(serde_json::json!({
        "hall_id": HALL, "name": "太湖县政务服务中心", "region_code": "340825", "level": "county",
        "profile_rev": 1, "departments": [{"code": "D1", "name": "太湖县市场监督管理局"}],
        "windows": [{"no": "A01", "name": "综合受理一号窗", "department_code": "D1"}],
        "staff": [], "items": []
    }))
    .unwrap()
}

fn eval_json(id: &str, rev: i64, level: u8, status: &str) -> String {
    serde_json::json!({
        "id": id, "rev": rev, "hall_id": HALL, "channel": "qr_code", "level": level,
        "evaluated_at": "2026-10-08T09:31:05+08:00", "status": status
    })
    .to_string()
}

fn page<'a>(raws: &'a [String], cursor: &'a str) -> PageToApply<'a> {
    let mut p = PageToApply {
        next_cursor: cursor,
        ..Default::default()
    };
    for (i, raw) in raws.iter().enumerate() {
        let seq = i as i64 + 1;
        match validate_change("evaluation", raw, HALL) {
            Ok(record) => p.records.push(FeedRecord {
                seq,
                raw,
                record,
                revision: None,
            }),
            Err(e) => p.quarantined.push(QuarantineEntry {
                seq,
                kind: "evaluation".into(),
                raw,
                field: e.field.clone(),
                reason: e.to_string(),
            }),
        }
    }
    p
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = common::store_with_hall(&dir.path().join("hcp.db"), &profile());
    (dir, store)
}

/// The per-hall tally the triggers keep says what counting the rows says.
fn check_hall_tally(store: &Store) {
    let tally = store.all_hall_counts().unwrap();
    assert_eq!(
        tally.get(HALL).cloned().unwrap_or_default(),
        store.hall_counts(HALL).unwrap()
    );
}

#[test]
fn same_page_twice_changes_nothing() {
    let (_d, mut store) = open();
    let raws = vec![
        eval_json("E1", 1, 2, "valid"),
        eval_json("E2", 1, 5, "valid"),
    ];
    let first = store.apply_page(HALL, &page(&raws, "c1")).unwrap();
    assert_eq!((first.new, first.updated, first.unchanged), (2, 0, 0));
    let before = store.evaluation_keys().unwrap();
    let again = store.apply_page(HALL, &page(&raws, "c1")).unwrap();
    assert_eq!((again.new, again.updated, again.unchanged), (0, 0, 2));
    assert_eq!(store.evaluation_keys().unwrap(), before);
    assert_eq!(
        store.sync_state(HALL).unwrap().cursor.as_deref(),
        Some("c1")
    );
}

#[test]
fn lower_rev_after_higher_is_ignored() {
    let (_d, mut store) = open();
    let newer = vec![eval_json("E1", 3, 4, "revised")];
    let older = vec![eval_json("E1", 2, 1, "valid")];
    store.apply_page(HALL, &page(&newer, "c1")).unwrap();
    let o = store.apply_page(HALL, &page(&older, "c2")).unwrap();
    assert_eq!(o.unchanged, 1);
    assert_eq!(
        store.evaluation_keys().unwrap(),
        vec![(HALL.into(), "E1".into(), 3, "revised".into(), 4)]
    );
}

#[test]
fn invalid_record_is_quarantined_once_and_neighbours_kept() {
    let (_d, mut store) = open();
    let raws = vec![
        eval_json("E1", 1, 2, "valid"),
        eval_json("E2", 1, 7, "valid"),
        eval_json("E3", 1, 3, "valid"),
    ];
    let o = store.apply_page(HALL, &page(&raws, "c1")).unwrap();
    assert_eq!((o.new, o.quarantined), (2, 1));
    let again = store.apply_page(HALL, &page(&raws, "c1")).unwrap();
    assert_eq!(
        again.quarantined, 0,
        "a redelivered bad record is quarantined once"
    );
    let q = store.quarantine(None).unwrap();
    assert_eq!(q.len(), 1);
    assert_eq!(q[0].seq, 2);
    assert_eq!(q[0].field, "level");
    assert!(q[0].reason.contains("评价等级为 7"));
    assert_eq!(store.hall_counts(HALL).unwrap().evaluations, 2);
    check_hall_tally(&store);
    assert_eq!(store.all_hall_counts().unwrap()[HALL].quarantined, 1);
}

#[test]
fn bad_ratings_query_uses_the_partial_index_newest_first() {
    let (_d, mut store) = open();
    let raws: Vec<String> = (0..5)
        .map(|i| {
            serde_json::json!({
                "id": format!("E{i}"), "rev": 1, "hall_id": HALL, "channel": "web",
                "level": if i == 2 { 5 } else { 1 },
                "evaluated_at": format!("2026-10-0{}T10:00:00+08:00", i + 1), "status": "valid"
            })
            .to_string()
        })
        .collect();
    store.apply_page(HALL, &page(&raws, "c")).unwrap();
    let ids = store
        .bad_rating_ids(HALL, "2026-10-01T00:00:00Z", "2026-10-05T00:00:00Z", 10)
        .unwrap();
    assert_eq!(ids, vec!["E3", "E1", "E0"]);
}

#[test]
fn removing_a_hall_removes_its_cache() {
    let (_d, mut store) = open();
    let raws = vec![eval_json("E1", 1, 2, "valid")];
    store.apply_page(HALL, &page(&raws, "c1")).unwrap();
    assert!(
        store
            .remove_hall(
                HALL,
                hcp_store::Who {
                    name: "测试",
                    actor: hcp_core::case::Actor::Officer
                }
            )
            .unwrap()
    );
    assert!(store.halls().unwrap().is_empty());
    assert!(store.evaluation_keys().unwrap().is_empty());
    assert!(store.all_hall_counts().unwrap().is_empty());
    let all = store
        .day_span_counts(None, "2000-01-01", "2099-12-31")
        .unwrap();
    assert_eq!(
        (all.counted, all.bad),
        (0, 0),
        "the days' totals lost the hall"
    );
    assert!(store.evaluation_days_drift().unwrap().is_empty());
    assert!(
        !store
            .remove_hall(
                HALL,
                hcp_store::Who {
                    name: "测试",
                    actor: hcp_core::case::Actor::Officer
                }
            )
            .unwrap()
    );
}

#[test]
fn pages_stored_together_keep_the_last_cursor_and_the_highest_rev() {
    let (_d, mut store) = open();
    let p1 = vec![
        eval_json("E1", 1, 1, "valid"),
        eval_json("E2", 1, 5, "valid"),
    ];
    let p2 = vec![
        eval_json("E1", 2, 4, "revised"),
        eval_json("E3", 1, 2, "valid"),
    ];
    let out = store
        .apply_pages(HALL, &[page(&p1, "c1"), page(&p2, "c2")])
        .unwrap();
    // E1 is new in the first page and updated by the second, inside one transaction.
    assert_eq!((out.new, out.updated, out.unchanged), (3, 1, 0));
    let state = store.sync_state(HALL).unwrap();
    assert_eq!(state.cursor.as_deref(), Some("c2"));
    assert_eq!(state.pages_total, 2);
    assert_eq!(state.records_total, 4);
    let keys = store.evaluation_keys().unwrap();
    assert_eq!(keys.len(), 3);
    assert!(
        keys.iter().any(|k| k.1 == "E1" && k.2 == 2 && k.4 == 4),
        "{keys:?}"
    );
}

#[test]
fn per_day_figures_follow_revisions_withdrawals_and_day_changes() {
    let (_d, mut store) = open();
    let day = |id: &str, rev: i64, level: u8, status: &str, at: &str| {
        serde_json::json!({
            "id": id, "rev": rev, "hall_id": HALL, "channel": "qr_code", "level": level,
            "evaluated_at": at, "status": status
        })
        .to_string()
    };
    let p1 = vec![
        day("E1", 1, 1, "valid", "2026-10-31T23:30:00+08:00"),
        day("E2", 1, 5, "valid", "2026-11-01T00:10:00+08:00"),
        day("E3", 1, 2, "valid", "2026-10-08T09:00:00+08:00"),
    ];
    store.apply_page(HALL, &page(&p1, "c1")).unwrap();
    check_hall_tally(&store);
    let oct = store
        .day_span_counts(None, "2026-10-01", "2026-10-31")
        .unwrap();
    assert_eq!((oct.counted, oct.good, oct.bad), (2, 0, 2));
    // E1 revised to 4, E3 withdrawn, and a stale E2 rev changes nothing.
    let p2 = vec![
        day("E1", 2, 4, "revised", "2026-10-31T23:30:00+08:00"),
        day("E3", 2, 2, "withdrawn", "2026-10-08T09:00:00+08:00"),
        day("E2", 1, 1, "valid", "2026-11-01T00:10:00+08:00"),
    ];
    store.apply_page(HALL, &page(&p2, "c2")).unwrap();
    check_hall_tally(&store);
    let oct = store
        .day_span_counts(None, "2026-10-01", "2026-10-31")
        .unwrap();
    assert_eq!((oct.counted, oct.good, oct.bad), (1, 1, 0));
    let nov = store
        .day_span_counts(Some(HALL), "2026-11-01", "2026-11-30")
        .unwrap();
    assert_eq!((nov.counted, nov.good, nov.bad), (1, 1, 0));
    let counts = store.hall_counts(HALL).unwrap();
    assert_eq!(
        (counts.evaluations, counts.withdrawn, counts.bad),
        (3, 1, 0)
    );
    assert_eq!(store.evaluation_days_drift().unwrap(), vec![]);
    assert_eq!(
        store.latest_day(None).unwrap().as_deref(),
        Some("2026-11-01")
    );
}
