//! Visits handed in by upload: the hub checks a bundle as an officer's desk does,
//! ties it to the shopper's account and key, and serves it to officers in the
//! visit feed; a shopper sees only his own, a director none.

#[path = "../support/pg.rs"]
mod common;
#[path = "../../crates/hcp-hub/tests/support/mod.rs"]
mod support;
use support::{ADMIN, PASSWORD};

use std::path::Path;

use hcp_core::Role;
use hcp_core::case::Actor;
use hcp_core::visit::{Answer, CURRENT_TEMPLATE, ChecklistTemplate};
use hcp_hub::{AccountRole, AuditCheck, Hub, HubError, verify_audit};
use hcp_store::{Store, Who};

const SHOPPER: Who<'static> = Who {
    name: "李明",
    actor: Actor::Shopper,
};

/// A shopper's cache that knows `hall`.
fn shopper_store(db: &Path, hall: &str) -> Store {
    let mut s = Store::open(db).unwrap();
    let profile = serde_json::from_value(serde_json::json!({
        "hall_id": hall, "name": "测试大厅", "region_code": "340825", "level": "county",
        "profile_rev": 1, "departments": [], "windows": [], "staff": [], "items": []
    }))
    .unwrap();
    s.upsert_hall(&profile, "http://127.0.0.1:1/", None, SHOPPER)
        .unwrap();
    s
}

/// A visit filled and submitted; its bundle.
fn submitted(s: &mut Store, hall: &str) -> (String, Vec<u8>) {
    let id = s.create_visit(hall, CURRENT_TEMPLATE, SHOPPER).unwrap();
    for item in ChecklistTemplate::v1().items() {
        s.set_visit_answer(&id, &item.id, Some(&Answer::Pass), None, SHOPPER)
            .unwrap();
    }
    s.submit_visit(&id, SHOPPER).unwrap();
    let bytes = s.export_visit_bytes(&id).unwrap();
    (id, bytes)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_shoppers_upload_is_tied_to_the_account_and_key_and_only_officers_see_it() {
    let pg = common::PgCluster::start();
    let url = pg.database("visits").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    let srv = hcp_hall::serve_fixture(31, 1, 50, "admin").await;
    let hall = srv.state.hall_ids()[0].clone();
    hub.add_hall(
        &srv.base_url(&hall),
        &srv.token(&hall).unwrap(),
        None,
        ADMIN,
    )
    .await
    .unwrap();
    for (name, role, h) in [
        ("李明", Role::Shopper, None),
        ("赵六", Role::Shopper, None),
        ("陈静", Role::Officer, None),
        ("王主任", Role::Director, Some(hall.as_str())),
    ] {
        hub.add_user(name, AccountRole::Person(role), h, PASSWORD, ADMIN)
            .await
            .unwrap();
    }
    let who = |n: &str| {
        let hub = hub.clone();
        let n = n.to_owned();
        async move { hub.login(&n, PASSWORD).await.unwrap().account }
    };
    let (li, zhao, chen, wang) = (
        who("李明").await,
        who("赵六").await,
        who("陈静").await,
        who("王主任").await,
    );

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("a")).unwrap();
    let mut a = shopper_store(&dir.path().join("a/hcp.db"), &hall);
    let (visit, rev1) = submitted(&mut a, &hall);

    // Only a shopper hands in; a broken or foreign file is refused with the reason.
    let e = hub.upload_visit(&chen, rev1.clone()).await.unwrap_err();
    assert!(matches!(e, HubError::Forbidden(_)), "{e}");
    let mut cut = rev1.clone();
    cut.truncate(rev1.len() / 2);
    let e = hub.upload_visit(&li, cut).await.unwrap_err();
    assert!(
        matches!(&e, HubError::Invalid(m) if m.contains("交件文件无效")),
        "{e}"
    );
    let mut flipped = rev1.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x55;
    let e = hub.upload_visit(&li, flipped).await.unwrap_err();
    assert!(matches!(e, HubError::Invalid(_)), "{e}");

    let r = hub.upload_visit(&li, rev1.clone()).await.unwrap();
    assert_eq!(
        (r.visit_id.as_str(), r.rev, r.status.as_str()),
        (visit.as_str(), 1, "new")
    );
    // Again (a retried upload): nothing changes.
    let r = hub.upload_visit(&li, rev1.clone()).await.unwrap();
    assert_eq!(r.status, "unchanged");
    // Another shopper's account cannot hand it in, even the very same file: the
    // bundle is signed as 李明.
    let e = hub.upload_visit(&zhao, rev1.clone()).await.unwrap_err();
    assert!(
        matches!(&e, HubError::Forbidden(m) if m.contains("与登录账号")),
        "{e}"
    );

    // The same cache copied to a machine without the key signs with a new one:
    // same account, other key — refused.
    std::fs::create_dir_all(dir.path().join("b")).unwrap();
    drop(a); // closed, so the copy has everything (no WAL left beside it)
    std::fs::copy(dir.path().join("a/hcp.db"), dir.path().join("b/hcp.db")).unwrap();
    let mut a = Store::open(dir.path().join("a/hcp.db")).unwrap();
    let mut b = Store::open(dir.path().join("b/hcp.db")).unwrap();
    b.reopen_visit(&visit, SHOPPER).unwrap();
    b.submit_visit(&visit, SHOPPER).unwrap();
    let other_key = b.export_visit_bytes(&visit).unwrap();
    let e = hub.upload_visit(&li, other_key).await.unwrap_err();
    assert!(
        matches!(&e, HubError::Forbidden(m) if m.contains("另一把密钥")),
        "{e}"
    );

    // A new revision from the same account and key replaces it.
    a.reopen_visit(&visit, SHOPPER).unwrap();
    a.submit_visit(&visit, SHOPPER).unwrap();
    let rev2 = a.export_visit_bytes(&visit).unwrap();
    let r = hub.upload_visit(&li, rev2.clone()).await.unwrap();
    assert_eq!((r.rev, r.status.as_str()), (2, "replaced"));
    // An older revision arriving late changes nothing.
    let r = hub.upload_visit(&li, rev1.clone()).await.unwrap();
    assert_eq!((r.rev, r.status.as_str()), (2, "unchanged"));

    // The feed: the officer sees the visit once, at its latest revision.
    let page = hub.visit_changes(&chen, None, None).await.unwrap();
    assert_eq!(page.visits.len(), 1);
    let v = &page.visits[0];
    assert_eq!(
        (v.visit_id.as_str(), v.rev, v.shopper.as_str()),
        (visit.as_str(), 2, "李明")
    );
    assert_eq!(v.hall_id, hall);
    assert_eq!(v.size, rev2.len() as i64);
    assert_eq!(v.fingerprint, a.own_key().unwrap().fingerprint);
    assert!(!page.more);
    let again = hub
        .visit_changes(&chen, Some(&page.next), None)
        .await
        .unwrap();
    assert!(again.visits.is_empty());
    assert_eq!(again.next, page.next);
    assert_eq!(hub.visit_bundle(&chen, &visit).await.unwrap(), rev2);
    // The shopper sees his own; another shopper nothing; a director is refused.
    assert_eq!(
        hub.visit_changes(&li, None, None)
            .await
            .unwrap()
            .visits
            .len(),
        1
    );
    assert!(
        hub.visit_changes(&zhao, None, None)
            .await
            .unwrap()
            .visits
            .is_empty()
    );
    let e = hub.visit_bundle(&zhao, &visit).await.unwrap_err();
    assert!(matches!(e, HubError::NotFound(_)), "{e}");
    let e = hub.visit_changes(&wang, None, None).await.unwrap_err();
    assert!(matches!(e, HubError::Forbidden(_)), "{e}");
    let e = hub
        .visit_changes(&chen, Some("x9"), None)
        .await
        .unwrap_err();
    assert!(matches!(e, HubError::Invalid(_)), "{e}");

    // An officer's desk takes it as the hub vouches: the shopper is the account.
    let mut desk = shopper_store(&dir.path().join("officer.db"), &hall);
    let officer = Who {
        name: "陈静",
        actor: Actor::Officer,
    };
    let out = desk.import_visit_from_hub(&rev2, "李明", officer).unwrap();
    assert_eq!((out.rev, out.status.as_str()), (2, "new"));
    let d = desk.visit_detail(&visit).unwrap();
    assert_eq!(d.visit.shopper.as_deref(), Some("李明"));
    // The older revision arriving late changes nothing on the desk either.
    assert!(
        desk.import_visit_from_hub(&rev1, "李明", officer)
            .unwrap()
            .status
            == "unchanged"
    );

    // Every hand-in is in the hub's audit chain.
    assert!(matches!(
        verify_audit(&hub, None).await.unwrap(),
        AuditCheck::Intact { .. }
    ));

    // A signing key is the first uploader's: the same laptop's key used for
    // another shopper's name is refused until an administrator frees it.
    let mallory = Who {
        name: "赵六",
        actor: Actor::Shopper,
    };
    let id = a.create_visit(&hall, CURRENT_TEMPLATE, mallory).unwrap();
    for item in ChecklistTemplate::v1().items() {
        a.set_visit_answer(&id, &item.id, Some(&Answer::Pass), None, mallory)
            .unwrap();
    }
    a.submit_visit(&id, mallory).unwrap();
    let theirs = a.export_visit_bytes(&id).unwrap();
    let e = hub.upload_visit(&zhao, theirs.clone()).await.unwrap_err();
    assert!(
        matches!(&e, HubError::Forbidden(m) if m.contains("已绑定另一暗访员账号")),
        "{e}"
    );
    assert_eq!(hub.unbind_keys("李明", ADMIN).await.unwrap(), 1);
    let r = hub.upload_visit(&zhao, theirs).await.unwrap();
    assert_eq!(r.status, "new");
    // Now the key is 赵六's: 李明's next revision from that laptop is refused.
    a.reopen_visit(&visit, SHOPPER).unwrap();
    a.submit_visit(&visit, SHOPPER).unwrap();
    let rev3 = a.export_visit_bytes(&visit).unwrap();
    let e = hub.upload_visit(&li, rev3).await.unwrap_err();
    assert!(matches!(e, HubError::Forbidden(_)), "{e}");
    let c = common::client(&url).await;
    let unbound: i64 = c
        .query_one(
            "SELECT count(*) FROM hub_audit WHERE action = 'signer_keys_unbound'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(unbound, 1);
}
