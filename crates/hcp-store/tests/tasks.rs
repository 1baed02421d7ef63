//! The shopper's loop both ways on real SQLite files: an officer's task package
//! brings the halls to a shopper's laptop that has no hall server and no token;
//! the officer's review with comments per item goes back the same signed way.

use std::collections::BTreeMap;
use std::path::Path;

use hcp_core::case::Actor;
use hcp_core::visit::{Answer, ChecklistTemplate};
use hcp_core::wire::HallProfile;
use hcp_store::{Store, TaskHall, VisitReview, Who, now_beijing};

const HALL: &str = "340825-ZWFW";
const SHOPPER: Who<'static> = Who {
    name: "暗访员甲",
    actor: Actor::Shopper,
};
const OFFICER: Who<'static> = Who {
    name: "陈静",
    actor: Actor::Officer,
};

/// The office: a registered hall with a staff member.
fn office(dir: &Path) -> Store {
    let mut s = Store::open(dir.join("office/hcp.db")).unwrap();
    let p: HallProfile = serde_json::from_value(serde_json::json!({
        "hall_id": HALL, "name": "太湖县政务服务中心", "region_code": "340825", "level": "county",
        "profile_rev": 3, "departments": [{"code": "D1", "name": "市场监督管理局"}],
        "windows": [{"no": "A01", "name": "综合受理一号窗", "department_code": "D1"}],
        "staff": [{"no": "S1023", "name": "王敏", "window_no": "A01", "department_code": "D1"}],
        "items": []
    }))
    .unwrap();
    s.upsert_hall(&p, "https://10.1.2.3/hcp/", None, OFFICER)
        .unwrap();
    s
}

/// The shopper's laptop: nothing registered.
fn laptop(dir: &Path) -> Store {
    Store::open(dir.join("laptop/hcp.db")).unwrap()
}

fn task_package(office: &Store, dir: &Path) -> Vec<u8> {
    let out = dir.join("任务.hcpt");
    office
        .export_task_package(
            &[TaskHall {
                hall_id: HALL.into(),
                planned_date: Some("2026-12-08".into()),
            }],
            "v1",
            "12月第二周，上午办件高峰时段",
            &out,
            OFFICER,
        )
        .unwrap();
    std::fs::read(out).unwrap()
}

fn fill(s: &mut Store, id: &str) {
    for item in ChecklistTemplate::v1().items() {
        let (a, note) = if item.id == "3.3" {
            (Answer::Deduct { points: 2 }, Some("一次性告知不到位"))
        } else {
            (Answer::Pass, None)
        };
        s.set_visit_answer(id, &item.id, Some(&a), note, SHOPPER)
            .unwrap();
    }
}

#[test]
fn a_task_package_brings_the_halls_without_a_server_or_a_token() {
    let dir = tempfile::tempdir().unwrap();
    let office = office(dir.path());
    let mut laptop = laptop(dir.path());
    let bytes = task_package(&office, dir.path());

    // Unknown officer key: refused, nothing written.
    let e = laptop.import_task_package(&bytes, SHOPPER).unwrap_err();
    assert!(e.to_string().contains("未受信任"), "{e}");
    assert!(laptop.halls().unwrap().is_empty());

    // On a shopper's laptop, trusting the office's key is the shopper's decision
    // (on an office machine, the officer trusts shoppers' keys).
    let key = office.own_key().unwrap();
    laptop
        .trust_key(&key.public_key, "效能督查室", SHOPPER)
        .unwrap();
    let got = laptop.import_task_package(&bytes, SHOPPER).unwrap();
    assert_eq!(
        (got.status.as_str(), got.halls, got.halls_added),
        ("new", 1, 1)
    );
    assert_eq!(got.issued_by, "效能督查室");
    let halls = laptop.halls().unwrap();
    assert_eq!(
        (halls[0].hall_id.as_str(), halls[0].source.as_str()),
        (HALL, "task")
    );
    assert_eq!(halls[0].base_url, "", "no address");
    let profile = laptop.hall_profile(HALL).unwrap();
    assert_eq!(profile.windows[0].no, "A01");
    assert_eq!(profile.staff[0].no, "S1023");
    assert_eq!(profile.staff[0].name, "", "staff by number only");
    let tasks = laptop.visit_tasks().unwrap();
    assert_eq!(tasks.len(), 1);
    assert_eq!(tasks[0].planned_date.as_deref(), Some("2026-12-08"));
    assert_eq!(tasks[0].hall_name.as_deref(), Some("太湖县政务服务中心"));

    // Again: nothing changes.
    let audit_before = laptop.verify_audit().unwrap().rows;
    assert_eq!(
        laptop.import_task_package(&bytes, SHOPPER).unwrap().status,
        "unchanged"
    );
    assert_eq!(laptop.verify_audit().unwrap().rows, audit_before);

    // Altered anywhere: refused whole.
    let mut bad = bytes.clone();
    let n = bad.len();
    bad[n / 2] ^= 1;
    assert!(laptop.import_task_package(&bad, SHOPPER).is_err());

    // A visit to the hall carries out the task.
    let id = laptop.create_visit(HALL, "v1", SHOPPER).unwrap();
    assert_eq!(
        laptop.visit_tasks().unwrap()[0].visit_id.as_deref(),
        Some(id.as_str())
    );
}

#[test]
fn a_return_with_comments_goes_back_and_the_next_revision_is_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let mut office = office(dir.path());
    let mut laptop = laptop(dir.path());
    laptop
        .trust_key(&office.own_key().unwrap().public_key, "效能督查室", SHOPPER)
        .unwrap();
    laptop
        .import_task_package(&task_package(&office, dir.path()), SHOPPER)
        .unwrap();
    office
        .trust_key(&laptop.own_key().unwrap().public_key, "张三", OFFICER)
        .unwrap();

    let id = laptop.create_visit(HALL, "v1", SHOPPER).unwrap();
    fill(&mut laptop, &id);
    laptop.submit_visit(&id, SHOPPER).unwrap();
    let hand_in = dir.path().join("r1.hcpv");
    laptop.export_visit(&id, &hand_in).unwrap();
    office
        .import_visit(&std::fs::read(&hand_in).unwrap(), OFFICER)
        .unwrap();

    let mut comments = BTreeMap::new();
    comments.insert(
        "3.3".to_string(),
        "请补充现场照片，并写明窗口号".to_string(),
    );
    office
        .review_visit(
            &id,
            &VisitReview {
                accept: false,
                note: "3.3 证据不足",
                findings: None,
                item_comments: &comments,
            },
            OFFICER,
            now_beijing(),
        )
        .unwrap();
    let review = dir.path().join("退回.hcpr");
    office.export_review(&id, &review).unwrap();
    let review = std::fs::read(&review).unwrap();

    // An altered review is refused whole.
    let mut bad = review.clone();
    let n = bad.len();
    bad[n / 3] ^= 4;
    assert!(laptop.import_review(&bad, SHOPPER).is_err());
    assert_eq!(laptop.visit_detail(&id).unwrap().visit.state, "submitted");

    let got = laptop.import_review(&review, SHOPPER).unwrap();
    assert_eq!(
        (got.status.as_str(), got.outcome.as_str(), got.rev),
        ("applied", "returned", 1)
    );
    let d = laptop.visit_detail(&id).unwrap();
    assert_eq!(d.visit.state, "returned");
    assert_eq!(d.visit.review_note.as_deref(), Some("3.3 证据不足"));
    assert_eq!(d.visit.reviewed_by.as_deref(), Some("效能督查室"));
    let item = d.items.iter().find(|i| i.item_id == "3.3").unwrap();
    assert_eq!(
        item.review_comment.as_deref(),
        Some("请补充现场照片，并写明窗口号")
    );
    let rows = laptop.verify_audit().unwrap().rows;
    assert_eq!(
        laptop.import_review(&review, SHOPPER).unwrap().status,
        "unchanged"
    );
    assert_eq!(
        laptop.verify_audit().unwrap().rows,
        rows,
        "twice is a no-op"
    );

    // Fixed and handed in again: revision 2 replaces revision 1 at the office.
    laptop
        .set_visit_answer(
            &id,
            "3.3",
            Some(&Answer::Deduct { points: 2 }),
            Some("A01 窗口，已补照片"),
            SHOPPER,
        )
        .unwrap();
    assert_eq!(laptop.submit_visit(&id, SHOPPER).unwrap(), 2);
    let r2 = dir.path().join("r2.hcpv");
    laptop.export_visit(&id, &r2).unwrap();
    assert_eq!(
        office
            .import_visit(&std::fs::read(&r2).unwrap(), OFFICER)
            .unwrap()
            .status,
        "replaced"
    );
    office
        .review_visit(
            &id,
            &VisitReview {
                accept: true,
                note: "属实",
                findings: None,
                item_comments: &BTreeMap::new(),
            },
            OFFICER,
            now_beijing(),
        )
        .unwrap();
    let accepted = dir.path().join("通过.hcpr");
    office.export_review(&id, &accepted).unwrap();
    let got = laptop
        .import_review(&std::fs::read(&accepted).unwrap(), SHOPPER)
        .unwrap();
    assert_eq!(
        (got.status.as_str(), got.outcome.as_str()),
        ("applied", "accepted")
    );
    assert_eq!(laptop.visit_detail(&id).unwrap().visit.state, "accepted");
    // The old return, imported late, changes nothing.
    assert_eq!(
        laptop.import_review(&review, SHOPPER).unwrap().status,
        "outdated"
    );
    assert_eq!(laptop.visit_detail(&id).unwrap().visit.state, "accepted");
    assert!(laptop.verify_audit().unwrap().broken_at.is_none());
}
