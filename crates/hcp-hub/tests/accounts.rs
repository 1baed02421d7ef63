//! Accounts, sessions and the audit chain of the hub on a real PostgreSQL cluster,
//! and the sign-in API over HTTP on 127.0.0.1.

#[path = "../../../tests/support/pg.rs"]
mod common;
mod support;
use support::ADMIN;

use hcp_core::Role;
use hcp_hub::server::RunningHub;
use hcp_hub::{AccountRole, AuditCheck, Hub, HubError, LOGIN_LOCK_AFTER, verify_audit};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn accounts_sessions_and_the_audit_chain() {
    let pg = common::PgCluster::start();
    let url = pg.database("accounts").await;

    // Not initialised: refused with the command to run.
    let e = Hub::open(&url).await.unwrap_err();
    assert!(matches!(e, HubError::NotInitialised), "{e}");
    // Two hubs initialising at once: one applies, the other finds nothing to do.
    let (a, b) = tokio::join!(Hub::init(&url), Hub::init(&url));
    let mut befores = [a.unwrap(), b.unwrap()];
    befores.sort();
    assert_eq!(befores, [0, hcp_hub::SCHEMA_VERSION]);
    assert_eq!(Hub::init(&url).await.unwrap(), hcp_hub::SCHEMA_VERSION);
    let hub = Hub::open(&url).await.unwrap();

    // Accounts: a director needs a hall; names are unique; short passwords refused.
    let director = AccountRole::Person(Role::Director);
    let officer = AccountRole::Person(Role::Officer);
    let e = hub
        .add_user("王主任", director, None, "password-1", ADMIN)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("须指定所在大厅"), "{e}");
    let e = hub
        .add_user("陈静", officer, None, "short", ADMIN)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("密码须为"), "{e}");
    hub.add_user("陈静", officer, None, "correct horse 1", ADMIN)
        .await
        .unwrap();
    // A director of a hall the hub does not know: refused, saying how to register it.
    let e = hub
        .add_user(
            "王主任",
            director,
            Some("999999-XXXX"),
            "battery staple 2",
            ADMIN,
        )
        .await
        .unwrap_err();
    assert!(e.to_string().contains("hcp hub hall add"), "{e}");
    common::hub_hall_row(&url, "340825-ZWFW").await;
    hub.add_user(
        "王主任",
        director,
        Some("340825-ZWFW"),
        "battery staple 2",
        ADMIN,
    )
    .await
    .unwrap();
    let e = hub
        .add_user("陈静", officer, None, "another one 3", ADMIN)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("已存在"), "{e}");
    let users = hub.users().await.unwrap();
    assert_eq!(users.len(), 2);
    let wang = users.iter().find(|u| u.name == "王主任").unwrap();
    assert_eq!(
        (wang.role, wang.hall_id.as_deref()),
        ("director", Some("340825-ZWFW"))
    );

    // The database keeps an argon2id hash, never the password.
    let c = common::client(&url).await;
    let stored: String = c
        .query_one(
            "SELECT password_hash FROM hub_accounts WHERE name = '陈静'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert!(stored.starts_with("$argon2id$"), "{stored}");
    assert!(!stored.contains("correct horse"));

    // Sign in; the token is only stored hashed.
    let s = hub.login("陈静", "correct horse 1").await.unwrap();
    assert_eq!(s.account.role, "officer");
    assert_eq!(hub.session(&s.token).await.unwrap().name, "陈静");
    let hashes: Vec<String> = c
        .query("SELECT token_hash FROM hub_sessions", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert!(!hashes.contains(&s.token));
    // A session left unused past the idle limit ends before its 12 hours.
    let idle = hub.login("陈静", "correct horse 1").await.unwrap();
    c.execute(
        "UPDATE hub_sessions SET last_seen_at = now() - make_interval(mins => $1 + 1)
         WHERE token_hash = encode(sha256($2::text::bytea), 'hex')",
        &[&(hcp_hub::SESSION_IDLE_MINUTES as i32), &idle.token],
    )
    .await
    .unwrap();
    assert!(matches!(
        hub.session(&idle.token).await,
        Err(HubError::NoSession)
    ));
    assert_eq!(hub.session(&s.token).await.unwrap().name, "陈静");

    // Wrong password, unknown name, disabled account: one answer for all.
    assert!(matches!(
        hub.login("陈静", "wrong password").await,
        Err(HubError::BadLogin)
    ));
    assert!(matches!(
        hub.login("无此人", "whatever 12").await,
        Err(HubError::BadLogin)
    ));
    // Failures in a row lock the name, even with the right password afterwards.
    for _ in 1..LOGIN_LOCK_AFTER {
        assert!(matches!(
            hub.login("陈静", "wrong password").await,
            Err(HubError::BadLogin)
        ));
    }
    let e = hub.login("陈静", "correct horse 1").await.unwrap_err();
    assert!(matches!(e, HubError::TooManyAttempts(_)), "{e}");
    // A reset clears the lock and ends every session.
    hub.reset_password("陈静", "new password 4", ADMIN)
        .await
        .unwrap();
    assert!(matches!(
        hub.session(&s.token).await,
        Err(HubError::NoSession)
    ));
    let s = hub.login("陈静", "new password 4").await.unwrap();

    // Expired and revoked sessions are refused; so is a malformed token.
    c.execute(
        "UPDATE hub_sessions SET expires_at = now() - interval '1 minute' WHERE revoked_at IS NULL",
        &[],
    )
    .await
    .unwrap();
    assert!(matches!(
        hub.session(&s.token).await,
        Err(HubError::NoSession)
    ));
    let s = hub.login("陈静", "new password 4").await.unwrap();
    hub.logout(&s.token).await.unwrap();
    assert!(matches!(
        hub.session(&s.token).await,
        Err(HubError::NoSession)
    ));
    assert!(matches!(
        hub.session("' OR 1=1 --").await,
        Err(HubError::NoSession)
    ));

    // A disabled account loses its sessions and cannot sign in.
    let w = hub.login("王主任", "battery staple 2").await.unwrap();
    hub.disable_user("王主任", ADMIN).await.unwrap();
    assert!(matches!(
        hub.session(&w.token).await,
        Err(HubError::NoSession)
    ));
    assert!(matches!(
        hub.login("王主任", "battery staple 2").await,
        Err(HubError::BadLogin)
    ));
    assert!(matches!(
        hub.disable_user("无此人", ADMIN).await,
        Err(HubError::UnknownAccount(_))
    ));
    // Enabled again: signs in; the admin's overview lists a locked name until
    // it is enabled (which lifts the lock).
    hub.enable_user("王主任", ADMIN).await.unwrap();
    hub.login("王主任", "battery staple 2").await.unwrap();
    for _ in 0..hcp_hub::LOGIN_LOCK_AFTER {
        let _ = hub.login("王主任", "wrong password").await;
    }
    let o = hub.overview().await.unwrap();
    assert_eq!(
        o.locked.iter().map(|l| l.0.as_str()).collect::<Vec<_>>(),
        ["王主任"]
    );
    assert!(o.audit_head.is_some());
    hub.enable_user("王主任", ADMIN).await.unwrap();
    assert!(hub.overview().await.unwrap().locked.is_empty());
    hub.login("王主任", "battery staple 2").await.unwrap();

    // Everything above is in the chain, failed logins included, no password.
    let actions: Vec<String> = c
        .query("SELECT action FROM hub_audit ORDER BY seq", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for a in [
        "account_added",
        "login",
        "login_failed",
        "password_reset",
        "logout",
        "account_disabled",
        "account_enabled",
    ] {
        assert!(
            actions.iter().any(|x| x == a),
            "{a} missing from {actions:?}"
        );
    }
    let all: String = c
        .query("SELECT detail FROM hub_audit", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get::<_, String>(0))
        .collect();
    assert!(!all.contains("correct horse") && !all.contains("new password"));
    let rows = actions.len() as i64;
    let AuditCheck::Intact { rows: n, head } = verify_audit(&hub, None).await.unwrap() else {
        panic!("the chain is broken");
    };
    let head = head.unwrap();
    assert_eq!((n, head.seq), (rows, rows));
    // The head as printed reads back, and a check against it passes…
    let head: hcp_hub::AuditHead = head.to_string().parse().unwrap();
    assert!(matches!(
        verify_audit(&hub, Some(&head)).await.unwrap(),
        AuditCheck::Intact { .. }
    ));
    // …until rows are deleted from the end: the shorter chain is still whole, but
    // it no longer reaches the head noted before.
    c.execute("DELETE FROM hub_audit WHERE seq = $1", &[&rows])
        .await
        .unwrap();
    assert!(matches!(
        verify_audit(&hub, None).await.unwrap(),
        AuditCheck::Intact { .. }
    ));
    assert!(matches!(
        verify_audit(&hub, Some(&head)).await.unwrap(),
        AuditCheck::Broken { seq, .. } if seq == rows
    ));
    // An edited row breaks the chain at that row.
    c.execute("UPDATE hub_audit SET actor = 'mallory' WHERE seq = 2", &[])
        .await
        .unwrap();
    assert!(matches!(
        verify_audit(&hub, None).await.unwrap(),
        AuditCheck::Broken { seq: 2, .. }
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signing_in_over_http() {
    let pg = common::PgCluster::start();
    let url = pg.database("http").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    let officer = AccountRole::Person(Role::Officer);
    hub.add_user("陈静", officer, None, "correct horse 1", ADMIN)
        .await
        .unwrap();
    let srv = RunningHub::start(hub, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = srv.url();
    let http = reqwest::Client::new();

    let r = http
        .post(format!("{base}v1/login"))
        .json(&serde_json::json!({"name": "陈静", "password": "wrong password"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "bad_login");
    assert_eq!(body["message"], "用户名或密码错误");

    // A body that is not a login, and one far too big, are refused.
    let r = http
        .post(format!("{base}v1/login"))
        .body("{")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let huge = "x".repeat(1 << 20);
    let r = http
        .post(format!("{base}v1/login"))
        .header("content-type", "application/json")
        .body(format!("{{\"name\":\"{huge}\",\"password\":\"p\"}}"))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_client_error(), "{}", r.status());
    // The hub refused that body without reading it and closed the connection; a
    // pooled connection may still look open to the client, so go on with a fresh
    // client rather than race the close.
    let http = reqwest::Client::new();

    let r = http
        .post(format!("{base}v1/login"))
        .json(&serde_json::json!({"name": "陈静", "password": "correct horse 1"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let s: serde_json::Value = r.json().await.unwrap();
    let token = s["token"].as_str().unwrap().to_owned();
    assert_eq!(s["account"]["role"], "officer");

    let me = |t: Option<String>| {
        let mut req = http.get(format!("{base}v1/me"));
        if let Some(t) = t {
            req = req.bearer_auth(t);
        }
        req.send()
    };
    let r = me(Some(token.clone())).await.unwrap();
    assert_eq!(r.status(), 200);
    let a: serde_json::Value = r.json().await.unwrap();
    assert_eq!(a["name"], "陈静");
    assert_eq!(me(None).await.unwrap().status(), 401);
    assert_eq!(me(Some("0".repeat(64))).await.unwrap().status(), 401);

    let r = http
        .post(format!("{base}v1/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    let r = me(Some(token)).await.unwrap();
    assert_eq!(r.status(), 401);
    let body: serde_json::Value = r.json().await.unwrap();
    assert_eq!(body["code"], "no_session");
}
