//! Cases driven by the feed and by officers, on a real SQLite file.

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::{Action, Actor, CallbackResult, DeadlinePolicy, VerifyOutcome};
use hcp_core::validate::validate_change;
use hcp_core::wire::{DecisionStatus, HallProfile};
use hcp_store::{CaseFilter, FeedRecord, PageToApply, Store, Who};

mod common;

use common::HALL;
const OFFICER: Who<'static> = Who {
    name: "陈静",
    actor: Actor::Officer,
};

fn profile() -> HallProfile {
    common::bare_profile()
}

fn eval(id: &str, rev: i64, level: u8, status: &str, hash: &str) -> (String, String) {
    (
        "evaluation".into(),
        serde_json::json!({
            "id": id, "rev": rev, "hall_id": HALL, "channel": "qr_code", "level": level,
            "evaluated_at": "2026-09-28T09:31:05+08:00", "status": status,
            "evaluator": {"real_name": true, "id_hash": hash}
        })
        .to_string(),
    )
}

fn appeal(id: &str, eval: &str, ground: &str) -> (String, String) {
    (
        "appeal".into(),
        serde_json::json!({
            "id": id, "rev": 1, "hall_id": HALL, "evaluation_id": eval,
            "filed_at": "2026-09-29T10:00:00+08:00", "filed_by": "张伟", "ground": ground,
            "statement": "已当场指引"
        })
        .to_string(),
    )
}

fn rect(id: &str, eval: &str, rev: i64) -> (String, String) {
    (
        "rectification".into(),
        serde_json::json!({
            "id": id, "rev": rev, "hall_id": HALL, "evaluation_id": eval,
            "submitted_at": "2026-10-09T16:20:00+08:00", "responsible": "王敏",
            "measures": "已培训"
        })
        .to_string(),
    )
}

fn apply(store: &mut Store, changes: &[(String, String)]) {
    let mut p = PageToApply {
        next_cursor: "c",
        ..Default::default()
    };
    for (i, (kind, raw)) in changes.iter().enumerate() {
        let record = validate_change(kind, raw, HALL).unwrap();
        p.records.push(FeedRecord {
            seq: i as i64 + 1,
            raw,
            record,
            revision: None,
        });
    }
    store.apply_page(HALL, &p).unwrap();
}

fn open() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = common::store_with_hall(&dir.path().join("hcp.db"), &profile());
    (dir, store)
}

fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn only_case(store: &Store) -> hcp_store::CaseListRow {
    let page = store
        .list_cases(&CaseFilter::default(), Utc::now())
        .unwrap();
    assert_eq!(page.total, 1, "{:?}", page.rows);
    page.rows.into_iter().next().unwrap()
}

fn pending(store: &Store) -> Vec<(String, Option<String>)> {
    store
        .pending_decisions(HALL, 500)
        .unwrap()
        .into_iter()
        .map(|d| (d.kind, d.outcome))
        .collect()
}

/// The tally the triggers keep equals counting the cases, and the counts read
/// from it equal counting every case, whatever the time (before any deadline, in
/// warning, overdue).
fn check_tally(store: &Store) {
    // The hall's tally (appeals, rectifications, figures) too.
    assert_eq!(
        store
            .all_hall_counts()
            .unwrap()
            .get(HALL)
            .cloned()
            .unwrap_or_default(),
        store.hall_counts(HALL).unwrap()
    );
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let rows = |sql: &str| -> Vec<(String, String, i64, i64)> {
        conn.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(
        rows(
            "SELECT hall_id, state, cases, with_due FROM case_tally WHERE cases > 0 ORDER BY 1, 2"
        ),
        rows(
            "SELECT hall_id, state, count(*), count(due_at) FROM cases GROUP BY 1, 2 ORDER BY 1, 2"
        )
    );
    for now in [
        "2026-09-28T12:00:00+08:00",
        "2026-09-29T12:00:00+08:00",
        "2026-10-08T12:00:00+08:00",
        "2026-10-09T12:00:00+08:00",
        "2026-10-12T12:00:00+08:00",
        "2026-10-30T12:00:00+08:00",
        "2027-06-01T12:00:00+08:00",
    ] {
        let now = at(now).with_timezone(&Utc);
        let text = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        for hall in [None, Some(HALL)] {
            let counted: Vec<(String, i64, i64, i64)> = conn
                .prepare(
                    "SELECT state, count(*), coalesce(sum(warn_at <= ?2 AND due_at >= ?2), 0),
                            coalesce(sum(due_at < ?2), 0)
                     FROM cases WHERE (?1 IS NULL OR hall_id = ?1) GROUP BY state ORDER BY state",
                )
                .unwrap()
                .query_map(rusqlite::params![hall, text], |r| {
                    Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                })
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            let read: Vec<(String, i64, i64, i64)> = store
                .case_counts(hall, now)
                .unwrap()
                .into_iter()
                .map(|c| (c.state, c.total, c.warning, c.overdue))
                .collect();
            assert_eq!(read, counted, "at {text}, hall {hall:?}");
            let open: Vec<String> = counted
                .iter()
                .filter(|c| !c.0.starts_with("closed"))
                .map(|c| c.0.clone())
                .collect();
            let total = store
                .list_cases(
                    &CaseFilter {
                        states: open.clone(),
                        hall_id: hall.map(str::to_owned),
                        ..CaseFilter::default()
                    },
                    now,
                )
                .unwrap()
                .total;
            // No states named: all of them.
            let expected: i64 = counted
                .iter()
                .filter(|c| open.is_empty() || open.contains(&c.0))
                .map(|c| c.1)
                .sum();
            assert_eq!(total, expected);
        }
    }
}

/// The inbox's pages, whatever the states, hall, urgency and offset, are the
/// cases in deadline order (no deadline last, ties by case id), exactly as one
/// sort of all of them gives.
#[test]
fn inbox_pages_follow_the_deadline_order_across_states() {
    let (_d, mut store) = open();
    let mut changes = vec![];
    for i in 0..30 {
        // Ten days, three ratings each: equal deadlines, broken by case id.
        let day = 10 + i % 10;
        changes.push((
            "evaluation".to_string(),
            serde_json::json!({
                "id": format!("E{i:02}"), "rev": 1, "hall_id": HALL, "channel": "web",
                "level": 1 + i % 2, "evaluated_at": format!("2026-08-{day}T10:00:00+08:00"),
                "status": "valid", "evaluator": {"real_name": true, "id_hash": format!("h{i}")}
            })
            .to_string(),
        ));
    }
    apply(&mut store, &changes);
    // Some move on: appeals (under_appeal), revisions to good (closed, no deadline).
    let mut more = vec![];
    for i in [1, 4, 7, 22] {
        more.push(appeal(
            &format!("AP{i}"),
            &format!("E{i:02}"),
            "misdirected",
        ));
    }
    for i in [2, 13, 25] {
        more.push((
            "evaluation".to_string(),
            serde_json::json!({
                "id": format!("E{i:02}"), "rev": 2, "hall_id": HALL, "channel": "web",
                "level": 5, "evaluated_at": format!("2026-08-{}T10:00:00+08:00", 10 + i % 10),
                "status": "revised", "evaluator": {"real_name": true, "id_hash": format!("h{i}")}
            })
            .to_string(),
        ));
    }
    apply(&mut store, &more);
    check_tally(&store);
    let conn = rusqlite::Connection::open(store.path()).unwrap();
    let now = at("2026-08-20T12:00:00+08:00").with_timezone(&Utc);
    let now_text = now.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let state_sets: [&[&str]; 4] = [
        &["open", "under_appeal"],
        &["under_appeal", "open", "open"],
        &["closed_revised", "open"],
        &["closed_revised"],
    ];
    for states in state_sets {
        for urgency in [None, Some("overdue"), Some("warning"), Some("soon")] {
            let marks = vec!["?"; states.len()].join(", ");
            let cond = match urgency {
                Some("overdue") => " AND due_at < ?",
                Some("warning") => " AND warn_at <= ?",
                Some("soon") => " AND warn_at <= ? AND due_at >= ?",
                _ => "",
            };
            let sql = format!(
                "SELECT case_id FROM cases WHERE state IN ({marks}){cond}
                 ORDER BY due_at IS NULL, due_at, case_id"
            );
            let mut args: Vec<String> = states.iter().map(|s| s.to_string()).collect();
            args.extend(std::iter::repeat_n(
                now_text.clone(),
                cond.matches('?').count(),
            ));
            let all: Vec<i64> = conn
                .prepare(&sql)
                .unwrap()
                .query_map(rusqlite::params_from_iter(args.iter()), |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap();
            for offset in [0, 1, 4, 7, 25, 40] {
                let page = store
                    .list_cases(
                        &CaseFilter {
                            states: states.iter().map(|s| s.to_string()).collect(),
                            urgency: urgency.map(str::to_owned),
                            limit: Some(4),
                            offset: Some(offset),
                            ..CaseFilter::default()
                        },
                        now,
                    )
                    .unwrap();
                let ids: Vec<i64> = page.rows.iter().map(|r| r.case_id).collect();
                let want: Vec<i64> = all.iter().skip(offset as usize).take(4).copied().collect();
                assert_eq!(ids, want, "{states:?} {urgency:?} offset {offset}");
                assert_eq!(page.total, all.len() as i64, "{states:?} {urgency:?}");
            }
        }
    }
}

#[test]
fn a_bad_rating_opens_one_case_and_replaying_the_feed_changes_nothing() {
    let (_d, mut store) = open();
    let page = vec![
        eval("E1", 1, 2, "valid", "h1"),
        eval("E2", 1, 5, "valid", "h2"),
    ];
    apply(&mut store, &page);
    let audit_before = store.verify_audit().unwrap().rows;
    apply(&mut store, &page);
    let c = only_case(&store);
    assert_eq!((c.state.as_str(), c.evaluation_id.as_str()), ("open", "E1"));
    assert_eq!(store.verify_audit().unwrap().rows, audit_before);
    assert_eq!(pending(&store), vec![("case_opened".to_string(), None)]);
    let detail = store.case_detail(c.case_id, Utc::now()).unwrap();
    assert_eq!(detail.timeline.len(), 1);
    assert_eq!(detail.timeline[0].action, "case_opened");
    assert_eq!(detail.deadline.unwrap().last_day, "2026-09-29");
    let search = |text: &str| {
        store
            .list_cases(
                &CaseFilter {
                    text: Some(text.into()),
                    ..Default::default()
                },
                Utc::now(),
            )
            .unwrap()
            .total
    };
    assert_eq!(search("E1"), 1);
    assert_eq!(search("E2"), 0, "E2 is a good rating: no case");
    assert_eq!(search("%"), 0, "LIKE wildcards are searched for literally");
}

#[test]
fn appeal_upheld_excludes_the_rating_and_marks_a_malicious_evaluator() {
    let (_d, mut store) = open();
    apply(&mut store, &[eval("E1", 1, 1, "valid", "evil")]);
    apply(&mut store, &[appeal("AP1", "E1", "malicious")]);
    let c = only_case(&store);
    assert_eq!(c.state, "under_appeal");
    check_tally(&store);
    let bad = |s: &Store| {
        s.day_span_counts(None, "2026-09-28", "2026-09-28")
            .unwrap()
            .bad
    };
    assert_eq!(bad(&store), 1);
    store
        .act_on_case(
            c.case_id,
            &Action::DecideAppeal {
                upheld: true,
                note: "经核实属恶意差评".into(),
            },
            OFFICER,
            Some(c.version),
            at("2026-09-30T10:00:00+08:00"),
        )
        .unwrap();
    assert_eq!(only_case(&store).state, "closed_appealed");
    check_tally(&store);
    assert_eq!(bad(&store), 0, "an upheld appeal takes the rating out");
    assert!(store.evaluation_days_drift().unwrap().is_empty());
    let kinds = pending(&store);
    assert_eq!(
        kinds[1..],
        [
            ("appeal_verdict".to_string(), Some("upheld".to_string())),
            ("case_closed".to_string(), None)
        ]
    );
    // The same evaluator's next bad rating is flagged, not dropped.
    apply(&mut store, &[eval("E9", 1, 2, "valid", "evil")]);
    let page = store
        .list_cases(
            &CaseFilter {
                flagged_only: true,
                ..Default::default()
            },
            Utc::now(),
        )
        .unwrap();
    assert_eq!(page.total, 1);
    assert_eq!(page.rows[0].evaluation_id, "E9");
    // A later revision of the excluded rating keeps it out of the figures.
    apply(&mut store, &[eval("E1", 2, 2, "revised", "evil")]);
    assert!(store.evaluation_days_drift().unwrap().is_empty());
}

#[test]
fn rectification_return_resubmit_accept_callback_closes() {
    let (_d, mut store) = open();
    apply(&mut store, &[eval("E1", 1, 2, "valid", "h1")]);
    let id = only_case(&store).case_id;
    let act = |store: &mut Store, a: Action| {
        store
            .act_on_case(id, &a, OFFICER, None, at("2026-10-10T10:00:00+08:00"))
            .unwrap()
    };
    check_tally(&store);
    act(
        &mut store,
        Action::Verify {
            outcome: VerifyOutcome::True,
            note: "属实".into(),
        },
    );
    check_tally(&store);
    apply(&mut store, &[rect("RC1", "E1", 1)]);
    assert_eq!(only_case(&store).state, "awaiting_signoff");
    check_tally(&store);
    let err = store
        .act_on_case(
            id,
            &Action::ReturnRectification {
                opinion: " ".into(),
            },
            OFFICER,
            None,
            at("2026-10-10T10:00:00+08:00"),
        )
        .unwrap_err();
    assert!(err.to_string().contains("退回意见"), "{err}");
    act(
        &mut store,
        Action::ReturnRectification {
            opinion: "措施不具体".into(),
        },
    );
    assert_eq!(only_case(&store).state, "rectifying");
    apply(&mut store, &[rect("RC1", "E1", 1)]); // replay: nothing
    assert_eq!(only_case(&store).state, "rectifying");
    apply(&mut store, &[rect("RC1", "E1", 2)]);
    assert_eq!(only_case(&store).state, "awaiting_signoff");
    act(&mut store, Action::AcceptRectification);
    act(
        &mut store,
        Action::Callback {
            result: CallbackResult::Satisfied,
            note: "满意".into(),
        },
    );
    let c = only_case(&store);
    assert_eq!(c.state, "closed");
    check_tally(&store);
    let detail = store.case_detail(id, Utc::now()).unwrap();
    let actions: Vec<_> = detail.timeline.iter().map(|e| e.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "case_opened",
            "verify",
            "rectification_submitted",
            "rectification_returned",
            "rectification_submitted",
            "rectification_accepted",
            "callback"
        ]
    );
    assert!(detail.timeline[5].signed_sha256.is_some());
    let kinds: Vec<_> = pending(&store).into_iter().map(|k| k.0).collect();
    assert_eq!(
        kinds,
        [
            "case_opened",
            "rectification_returned",
            "rectification_accepted",
            "callback",
            "case_closed"
        ]
    );
    // A stale view is refused.
    let err = store
        .act_on_case(
            id,
            &Action::Close { note: "x".into() },
            OFFICER,
            Some(1),
            Utc::now().fixed_offset(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("刷新"), "{err}");
    assert!(store.verify_audit().unwrap().broken_at.is_none());
}

#[test]
fn a_revision_to_good_or_a_withdrawal_closes_the_case() {
    let (_d, mut store) = open();
    apply(&mut store, &[eval("E1", 1, 2, "valid", "h1")]);
    apply(&mut store, &[eval("E1", 2, 4, "revised", "h1")]);
    let c = only_case(&store);
    assert_eq!(c.state, "closed_revised");
    check_tally(&store);
    let detail = store.case_detail(c.case_id, Utc::now()).unwrap();
    assert!(
        detail
            .timeline
            .last()
            .unwrap()
            .summary
            .contains("改评为 4 级"),
        "{:?}",
        detail.timeline
    );
    assert_eq!(pending(&store).last().unwrap().0, "case_closed");
}

#[test]
fn directors_cannot_sign_off_and_hall_answers_settle_the_outbox() {
    let (_d, mut store) = open();
    apply(&mut store, &[eval("E1", 1, 2, "valid", "h1")]);
    let id = only_case(&store).case_id;
    let err = store
        .act_on_case(
            id,
            &Action::Verify {
                outcome: VerifyOutcome::True,
                note: "x".into(),
            },
            Who {
                name: "李主任",
                actor: Actor::Director,
            },
            None,
            Utc::now().fixed_offset(),
        )
        .unwrap_err();
    assert!(err.to_string().contains("只有效能督查员"), "{err}");
    let d = store.pending_decisions(HALL, 10).unwrap();
    store
        .settle_decisions(
            HALL,
            &[(
                d[0].id.clone(),
                DecisionStatus::Rejected,
                Some("评价不存在".into()),
            )],
        )
        .unwrap();
    assert!(store.pending_decisions(HALL, 10).unwrap().is_empty());
    let c = only_case(&store);
    assert_eq!(c.rejection.as_deref(), Some("评价不存在"));
    let detail = store.case_detail(id, Utc::now()).unwrap();
    assert_eq!(detail.timeline.last().unwrap().action, "decision_rejected");
}

#[test]
fn a_policy_or_calendar_change_moves_open_deadlines() {
    let (_d, mut store) = open();
    apply(&mut store, &[eval("E1", 1, 2, "valid", "h1")]);
    let before = only_case(&store).due_at.unwrap();
    store
        .set_deadline_policy(
            Some(HALL),
            &DeadlinePolicy {
                verify: 3,
                ..Default::default()
            },
            OFFICER,
        )
        .unwrap();
    let after = only_case(&store).due_at.unwrap();
    check_tally(&store);
    assert_eq!(before, "2026-09-29T15:59:59Z");
    // 09-29, 09-30, then the National Day week: 10-08.
    assert_eq!(after, "2026-10-08T15:59:59Z");
    let err = store
        .set_deadline_policy(
            None,
            &DeadlinePolicy {
                rectify: 0,
                ..Default::default()
            },
            OFFICER,
        )
        .unwrap_err();
    assert!(err.to_string().contains("整改时限"), "{err}");
    let year = store
        .import_calendar_year(
            r#"{"year": 2027, "days": [{"name": "元旦", "date": "2027-01-01", "isOffDay": true}]}"#,
            OFFICER,
        )
        .unwrap();
    assert_eq!(year, 2027);
    assert_eq!(store.imported_calendar_years().unwrap(), vec![2027]);
    assert!(
        store
            .import_calendar_year(r#"{"year": 2027, "days": [{"name": "x", "date": "2028-01-01", "isOffDay": true}]}"#, OFFICER)
            .is_err()
    );
}

/// The action the bulk test's office takes on a case in `state` (one policy for both
/// paths), at one instant: an appeal window that has not ended refuses the close.
fn office_step(state: &str, case_id: i64) -> Option<Action> {
    Some(match state {
        "open" => Action::Verify {
            outcome: if case_id % 2 == 0 {
                VerifyOutcome::NotTrue
            } else {
                VerifyOutcome::True
            },
            note: "经核实".into(),
        },
        "awaiting_signoff" => Action::AcceptRectification,
        "awaiting_callback" => Action::Callback {
            result: CallbackResult::Satisfied,
            note: "满意".into(),
        },
        "appeal_window" => Action::Close {
            note: "申诉期满".into(),
        },
        "under_appeal" => Action::DecideAppeal {
            upheld: true,
            note: "申诉成立".into(),
        },
        _ => return None,
    })
}

/// What a case engine run leaves, without the wall-clock stamps.
fn engine_result(store: &Store) -> Vec<String> {
    let page = store
        .list_cases(&CaseFilter::default(), Utc::now())
        .unwrap();
    let mut out = vec![];
    for r in page.rows {
        let timeline: Vec<String> = store
            .case_timeline(r.case_id)
            .unwrap()
            .into_iter()
            .map(|e| {
                format!(
                    "{}:{:?}>{:?}@{:?}",
                    e.action, e.from_state, e.to_state, e.acted_at
                )
            })
            .collect();
        out.push(format!(
            "{} {} {} v{} flagged={} level={:?} {timeline:?}",
            r.case_id, r.evaluation_id, r.state, r.version, r.flagged_malicious, r.level
        ));
    }
    out.push(format!("{:?}", pending(store)));
    out.push(format!("{:?}", store.malicious_marks().unwrap().len()));
    out.push(format!("{:?}", store.hall_counts(HALL).unwrap()));
    out
}

#[test]
fn acting_in_bulk_writes_what_acting_case_by_case_writes() {
    let feed = vec![
        eval("E1", 1, 1, "valid", "h1"),
        rect("R1", "E1", 1),
        eval("E2", 1, 2, "valid", "h1"),
        appeal("A2", "E2", "malicious"),
        eval("E3", 1, 1, "valid", "h3"),
        eval("E4", 1, 2, "valid", "h4"),
        eval("E5", 1, 5, "valid", "h5"),
        eval("E6", 1, 1, "valid", "h6"),
        rect("R6", "E6", 1),
    ];
    let when = at("2026-10-20T10:00:00+08:00");
    let (_d1, mut bulk) = open();
    apply(&mut bulk, &feed);
    let (_d2, mut single) = open();
    apply(&mut single, &feed);

    let mut grounds = vec![];
    let acts = bulk
        .act_in_bulk(
            OFFICER,
            10,
            |p| {
                grounds.push(p.appeal_ground.clone());
                office_step(p.case.state.as_str(), p.case_id).map(|a| (a, when))
            },
            |_, _, _| {},
        )
        .unwrap();
    assert!(grounds.contains(&Some("malicious".into())), "{grounds:?}");

    // The same office, one action and one transaction at a time.
    let (mut acted, mut refused) = (0, 0);
    for _ in 0..10 {
        let mut moved = 0;
        let mut rows = single
            .list_cases(&CaseFilter::default(), Utc::now())
            .unwrap()
            .rows;
        rows.sort_by_key(|r| r.case_id);
        for r in rows {
            let Some(action) = office_step(&r.state, r.case_id) else {
                continue;
            };
            match single.act_on_case(r.case_id, &action, OFFICER, None, when) {
                Ok(_) => moved += 1,
                Err(hcp_store::StoreError::Refused(_)) => refused += 1,
                Err(e) => panic!("{e}"),
            }
        }
        acted += moved;
        if moved == 0 {
            break;
        }
    }
    assert_eq!((acts.acted, acts.refused), (acted, refused));
    // E1, E6: sign-off and callback; E2: the appeal; E3, E4: verified; E4's
    // close refused in the two rounds before its appeal window ends.
    assert_eq!((acts.acted, acts.refused, acts.rounds), (7, 2, 3));
    let (a, b) = (engine_result(&bulk), engine_result(&single));
    assert_eq!(a, b);
    // The upheld malicious appeal marked its rater, and the rating left the figures.
    assert!(a.iter().any(|l| l.contains("closed_appealed")), "{a:#?}");
    assert_eq!(bulk.malicious_marks().unwrap().len(), 1);
    assert_eq!(bulk.verify_audit().unwrap().broken_at, None);
}
