//! The hub over TLS with an intranet (here self-signed) certificate: a desk that
//! trusts it signs in and reads a hall through the hub; one that does not is
//! refused before anything is sent; plain http on the TLS port gets nothing.

#[path = "../../../tests/support/pg.rs"]
mod common;
mod support;
use support::{ADMIN, PASSWORD};

use hcp_core::Role;
use hcp_hub::server::RunningHub;
use hcp_hub::{AccountRole, Hub, no_progress};
use hcp_sync::{HallEndpoint, HubClient, SyncOptions, Token};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desks_reach_a_hub_over_tls_when_they_trust_its_certificate() {
    let pg = common::PgCluster::start();
    let url = pg.database("tls").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    let srv = hcp_hall::serve_fixture(81, 1, 100, "admin").await;
    let id = srv.state.hall_ids()[0].clone();
    hub.add_hall(&srv.base_url(&id), &srv.token(&id).unwrap(), None, ADMIN)
        .await
        .unwrap();
    hub.add_user(
        "陈静",
        AccountRole::Person(Role::Officer),
        None,
        PASSWORD,
        ADMIN,
    )
    .await
    .unwrap();
    hub.sync_halls(&[], &SyncOptions::default(), no_progress())
        .await
        .unwrap();

    let dir = tempfile::tempdir().unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let cert = dir.path().join("hub.crt");
    let key = dir.path().join("hub.key");
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.signing_key.serialize_pem()).unwrap();

    // Files mixed up: a clear refusal, no listener.
    let e = hcp_hub::tls_acceptor(&key, &cert).err().unwrap();
    assert!(e.to_string().contains("证书"), "{e}");

    let acceptor = hcp_hub::tls_acceptor(&cert, &key).unwrap();
    let running = RunningHub::start_tls(hub, "127.0.0.1:0".parse().unwrap(), acceptor)
        .await
        .unwrap();
    let base = running.url();
    assert!(base.starts_with("https://"), "{base}");
    let mut opts = SyncOptions::default();
    opts.retry.max_attempts = 2;

    // Trusted: sign in, list the halls, read one through the hub.
    let s = HubClient::login(&base, "陈静", PASSWORD, Some(&cert), &opts)
        .await
        .unwrap();
    let client = HubClient::new(&base, &s.token, Some(&cert), &opts).unwrap();
    assert_eq!(client.halls().await.unwrap().len(), 1);
    let ep = HallEndpoint {
        hall_id: id.clone(),
        base_url: HubClient::hall_base_url(&base, &id),
        token: Token::new(s.token.clone()),
        ca_file: Some(cert.clone()),
    };
    assert_eq!(
        hcp_sync::fetch_profile(&ep, &opts).await.unwrap().hall_id,
        id
    );

    // Not trusted: refused at the handshake, the password never sent.
    let e = HubClient::login(&base, "陈静", PASSWORD, None, &opts)
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("UnknownIssuer") || e.contains("certificate"),
        "{e}"
    );

    // 首次连接: the certificate the hub presents, read without sending anything,
    // is the one it serves; pinned (written out and trusted), the login works.
    let peeked = hcp_sync::peek_certificate(&base, std::time::Duration::from_secs(10))
        .await
        .unwrap();
    assert_eq!(peeked.sha256, hcp_sync::fingerprint(ck.cert.der()));
    assert_eq!(peeked.sha256.len(), 32 * 3 - 1);
    let pinned = dir.path().join("pinned.pem");
    std::fs::write(&pinned, &peeked.pem).unwrap();
    HubClient::login(&base, "陈静", PASSWORD, Some(&pinned), &opts)
        .await
        .unwrap();
    // Only https has a certificate to show; a closed port says so.
    let e = hcp_sync::peek_certificate(&plain_url(&base), std::time::Duration::from_secs(5))
        .await
        .err()
        .unwrap();
    assert!(e.to_string().contains("https"), "{e}");

    // Plain http to the TLS port: no answer.
    let plain = format!("http://{}/v1/health", running.addr);
    let r = reqwest::Client::new().get(&plain).send().await;
    assert!(r.is_err() || !r.unwrap().status().is_success());
}

fn plain_url(base: &str) -> String {
    base.replacen("https://", "http://", 1)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_hub_reaches_postgresql_over_tls_and_only_with_the_right_certificate() {
    let pg = common::PgCluster::start();
    let url = pg.database("pgtls").await;
    let dir = tempfile::tempdir().unwrap();
    let server = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_string()]).unwrap();
    let right = dir.path().join("db.pem");
    let wrong = dir.path().join("other.pem");
    std::fs::write(&right, server.cert.pem()).unwrap();
    std::fs::write(&wrong, other.cert.pem()).unwrap();
    pg.require_tls(&server.cert.pem(), &server.signing_key.serialize_pem())
        .await;
    let tls = |ca: &std::path::Path| hcp_hub::DbOptions {
        ca_file: Some(ca.to_path_buf()),
        ..Default::default()
    };

    // Clear text is refused by the server now (hostssl only).
    assert!(Hub::init(&url).await.is_err());
    // Another certificate pinned: refused by the hub before anything is sent.
    let e = Hub::init_with(&url, &tls(&wrong)).await.unwrap_err();
    assert!(matches!(e, hcp_hub::HubError::Db(_)), "{e}");
    // The database's own certificate: the hub works over TLS.
    Hub::init_with(&url, &tls(&right)).await.unwrap();
    let hub = Hub::open_with(&url, &tls(&right)).await.unwrap();
    hub.add_user(
        "陈静",
        AccountRole::Person(Role::Officer),
        None,
        PASSWORD,
        ADMIN,
    )
    .await
    .unwrap();
    hub.login("陈静", PASSWORD).await.unwrap();
    // And the server saw TLS on every connection the hub opened.
    let c = common::client(&pg.socket_url("pgtls")).await;
    let (tcp, plain): (i64, i64) = {
        let r = c
            .query_one(
                "SELECT count(*), count(*) FILTER (WHERE NOT s.ssl) FROM pg_stat_activity a
                 JOIN pg_stat_ssl s ON s.pid = a.pid
                 WHERE a.datname = 'pgtls' AND a.client_addr IS NOT NULL",
                &[],
            )
            .await
            .unwrap();
        (r.get(0), r.get(1))
    };
    assert!(
        tcp >= 1 && plain == 0,
        "{tcp} connections, {plain} in clear"
    );
}
