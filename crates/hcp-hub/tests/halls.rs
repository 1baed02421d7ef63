//! Halls registered on the hub: asked who they are with their token, listed
//! without it, refused with a clear reason, audited without the token.

#[path = "../../../tests/support/pg.rs"]
mod common;
mod support;
use support::ADMIN;

use hcp_hub::{AuditCheck, Hub, verify_audit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_administrator_registers_halls_whose_tokens_never_leave_the_hub() {
    let pg = common::PgCluster::start();
    let url = pg.database("halls").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    let srv = hcp_hall::serve_fixture(31, 2, 100, "admin").await;
    let ids = srv.state.hall_ids();

    // A wrong token: refused, nothing kept.
    let e = hub
        .add_hall(&srv.base_url(&ids[0]), "not-the-token", None, ADMIN)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("无法添加大厅"), "{e}");
    assert!(!e.to_string().contains("not-the-token"), "{e}");
    assert!(hub.halls().await.unwrap().is_empty());

    for id in &ids {
        let token = srv.token(id).unwrap();
        let (h, new) = hub
            .add_hall(&srv.base_url(id), &token, None, ADMIN)
            .await
            .unwrap();
        assert!(new);
        assert_eq!(&h.hall_id, id);
    }
    // Again: an update, not a second hall.
    let token = srv.token(&ids[0]).unwrap();
    let (_, new) = hub
        .add_hall(&srv.base_url(&ids[0]), &token, None, ADMIN)
        .await
        .unwrap();
    assert!(!new);
    let halls = hub.halls().await.unwrap();
    assert_eq!(
        halls.iter().map(|h| h.hall_id.clone()).collect::<Vec<_>>(),
        ids
    );
    let listed = serde_json::to_string(&halls).unwrap();
    for id in &ids {
        assert!(
            !listed.contains(&srv.token(id).unwrap()),
            "a token in the list"
        );
    }

    // The audit log has the halls, not their tokens, and its chain holds.
    let c = common::client(&url).await;
    let rows = c
        .query("SELECT action, detail FROM hub_audit ORDER BY seq", &[])
        .await
        .unwrap();
    let actions: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert_eq!(actions, ["hall_added", "hall_added", "hall_updated"]);
    for r in &rows {
        let detail: String = r.get(1);
        for id in &ids {
            assert!(!detail.contains(&srv.token(id).unwrap()), "{detail}");
        }
    }
    assert!(matches!(
        verify_audit(&hub, None).await.unwrap(),
        AuditCheck::Intact { rows: 3, .. }
    ));
}
