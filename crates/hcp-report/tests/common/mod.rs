//! Fixture helpers shared by the report tests: a hall with two windows in a real
//! SQLite file, feed records by hand, and officer actions at given instants.
#![allow(dead_code)]

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::case::{Action, Actor};
use hcp_core::validate::validate_change;
use hcp_core::wire::HallProfile;
use hcp_store::{FeedRecord, PageToApply, Store, Who};

pub const HALL: &str = "340825-ZWFW";
pub const OFFICER: Who<'static> = Who {
    name: "陈静",
    actor: Actor::Officer,
};

pub fn at(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

pub fn open(dir: &std::path::Path) -> Store {
    let mut s = Store::open(dir.join("hcp.db")).unwrap();
    let p: HallProfile = serde_json::from_value(serde_json::json!({
        "hall_id": HALL, "name": "太湖县政务服务中心", "region_code": "340825", "level": "county",
        "profile_rev": 1,
        "departments": [{"code": "D1", "name": "市场监督管理局"}, {"code": "D2", "name": "人社局"}],
        "windows": [{"no": "A01", "name": "综合受理一号窗", "department_code": "D1"},
                    {"no": "A02", "name": "社保窗", "department_code": "D2"}],
        "staff": [{"no": "S1", "name": "王敏", "window_no": "A01", "department_code": "D1"}],
        "items": []
    }))
    .unwrap();
    s.upsert_hall(
        &p,
        "http://127.0.0.1:1/h/x/",
        None,
        hcp_store::Who {
            name: "测试",
            actor: hcp_core::case::Actor::Officer,
        },
    )
    .unwrap();
    s
}

pub fn ev(
    id: &str,
    rev: i64,
    level: u8,
    status: &str,
    when: &str,
    window: &str,
) -> (String, String) {
    let dep = if window == "A01" { "D1" } else { "D2" };
    (
        "evaluation".into(),
        serde_json::json!({
            "id": id, "rev": rev, "hall_id": HALL, "channel": "window_device", "level": level,
            "evaluated_at": when, "status": status, "window_no": window, "department_code": dep,
            "staff_no": if window == "A01" { Some("S1") } else { None },
            "comment": format!("{id} 的评价"),
        })
        .to_string(),
    )
}

pub fn appeal(id: &str, eval: &str, when: &str) -> (String, String) {
    (
        "appeal".into(),
        serde_json::json!({
            "id": id, "rev": 1, "hall_id": HALL, "evaluation_id": eval, "filed_at": when,
            "filed_by": "张伟", "ground": "misdirected", "statement": "已正确引导"
        })
        .to_string(),
    )
}

pub fn rect(eval: &str, when: &str) -> (String, String) {
    (
        "rectification".into(),
        serde_json::json!({
            "id": format!("RC-{eval}"), "rev": 1, "hall_id": HALL, "evaluation_id": eval,
            "submitted_at": when, "responsible": "王敏", "measures": format!("{eval} 已整改")
        })
        .to_string(),
    )
}

pub fn apply(s: &mut Store, changes: &[(String, String)]) {
    let mut p = PageToApply {
        next_cursor: "c",
        ..Default::default()
    };
    for (i, (kind, raw)) in changes.iter().enumerate() {
        p.records.push(FeedRecord {
            seq: i as i64 + 1,
            raw,
            record: validate_change(kind, raw, HALL).unwrap(),
            revision: None,
        });
    }
    s.apply_page(HALL, &p).unwrap();
}

pub fn case_of(s: &Store, eval: &str) -> i64 {
    s.list_cases(
        &hcp_store::CaseFilter {
            text: Some(eval.into()),
            ..Default::default()
        },
        Utc::now(),
    )
    .unwrap()
    .rows[0]
        .case_id
}

pub fn act(s: &mut Store, eval: &str, a: Action, when: &str) {
    let id = case_of(s, eval);
    s.act_on_case(id, &a, OFFICER, None, at(when)).unwrap();
}
