//! A configuration change and its audit row commit together: when the row cannot
//! be written, the change is not made either (it used to be two transactions, so a
//! crash between them left a hall added with nobody on record).

use hcp_core::case::Actor;
use hcp_core::wire::HallProfile;
use hcp_store::{AuditEntry, Store, Who};

const BY: Who<'static> = Who {
    name: "陈静",
    actor: Actor::Officer,
};

fn profile(id: &str) -> HallProfile {
    serde_json::from_value(serde_json::json!({
        "hall_id": id, "name": "太湖县政务服务中心", "region_code": "340825", "level": "county",
        "profile_rev": 1, "departments": [], "windows": [], "staff": [], "items": []
    }))
    .unwrap()
}

/// Makes every further audit append fail, as a full disk or a crash would.
fn break_the_audit_log(path: &std::path::Path) {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.execute_batch(
        "CREATE TRIGGER audit_broken BEFORE INSERT ON audit_log
         BEGIN SELECT RAISE(ABORT, 'audit log unavailable'); END;",
    )
    .unwrap();
}

#[test]
fn hall_added_removed_and_profile_set_write_their_audit_row_in_the_same_transaction() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hcp.db");
    let mut s = Store::open(&path).unwrap();
    assert!(
        s.upsert_hall(&profile("H1"), "http://127.0.0.1:1/", None, BY)
            .unwrap()
    );
    let rows = s.audit_rows(10).unwrap();
    assert_eq!(
        (
            rows[0].action.as_str(),
            rows[0].subject.as_str(),
            rows[0].actor.as_str()
        ),
        ("hall_added", "hall:H1", "陈静")
    );

    break_the_audit_log(&path);
    // Adding: refused, and the hall is not there.
    assert!(
        s.upsert_hall(&profile("H2"), "http://127.0.0.1:1/", None, BY)
            .is_err()
    );
    assert!(
        s.hall("H2").unwrap().is_none(),
        "added without an audit row"
    );
    // Removing: refused, and the hall is still there.
    assert!(s.remove_hall("H1", BY).is_err());
    assert!(
        s.hall("H1").unwrap().is_some(),
        "removed without an audit row"
    );
    // A profile change: refused, the setting unchanged.
    let entry = AuditEntry {
        actor: "陈静",
        role: "officer",
        subject: "user",
        action: "profile_set",
        detail: "{}",
    };
    assert!(
        s.set_setting_audited("user.profile", Some("{\"x\":1}"), &entry)
            .is_err()
    );
    assert_eq!(s.setting("user.profile").unwrap(), None);
}

#[test]
fn a_hall_code_that_is_not_a_plain_code_is_never_stored() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = Store::open(dir.path().join("hcp.db")).unwrap();
    let e = s
        .upsert_hall(&profile("X&calc&"), "http://127.0.0.1:1/", None, BY)
        .unwrap_err();
    assert!(e.to_string().contains("大厅编码（hall_id）"), "{e}");
    assert!(s.halls().unwrap().is_empty());
}
