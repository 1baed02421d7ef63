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
    act(
        &mut store,
        Action::Verify {
            outcome: VerifyOutcome::True,
            note: "属实".into(),
        },
    );
    apply(&mut store, &[rect("RC1", "E1", 1)]);
    assert_eq!(only_case(&store).state, "awaiting_signoff");
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
