//! The command set against the real reference hall on 127.0.0.1:0 and a real
//! SQLite file: what both front ends will see.

use std::collections::HashSet;

use hcp_app::{AddHallArgs, App, DashboardArgs, EvaluationQuery, EvaluationRef, SyncArgs};
use hcp_hall::RunningServer;
use hcp_store::{EvaluationFilter, Store};

mod common;

async fn server() -> RunningServer {
    common::server(7, 6_000).await
}

/// One flow, so the token-store choice is set before any thread reads the
/// environment (tests never write into a developer's OS keyring).
#[test]
fn the_command_set_against_a_real_hall() {
    // SAFETY: set before the runtime or any other thread of this test binary runs.
    unsafe { std::env::set_var("HCP_TOKEN_STORE", "file") };
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(flow());
}

async fn flow() {
    let srv = server().await;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let app = App::open(&db).unwrap();

    // Bad input gets a zh-CN message and a stable code.
    let e = app
        .add_hall(AddHallArgs {
            url: "ftp://x".into(),
            token: "t".into(),
            ca_file: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_input");
    assert!(e.message.contains("http://"), "{}", e.message);

    let halls = srv.state.hall_ids();
    // A wrong token: a clear reason, and the token is never echoed.
    let e = app
        .add_hall(AddHallArgs {
            url: srv.base_url(&halls[0]),
            token: "wrong-token-XYZ".into(),
            ca_file: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "unauthorized", "{e:?}");
    assert!(e.message.contains("令牌"), "{}", e.message);
    assert!(!e.message.contains("wrong-token-XYZ"));
    assert!(!app.app_info().await.unwrap().has_halls);

    for h in &halls {
        let added = app
            .add_hall(AddHallArgs {
                url: srv.base_url(h),
                token: srv.token(h).unwrap(),
                ca_file: None,
            })
            .await
            .unwrap();
        assert_eq!(&added.hall_id, h);
        assert!(added.new);
    }
    let mut events = app.subscribe();
    let result = app.sync_now(SyncArgs::default()).await.unwrap();
    assert!(
        result.reports.iter().all(|r| r.error.is_none()),
        "{result:?}"
    );
    let status = app.sync_status();
    assert!(!status.running);
    // The window stops showing 同步中 on the last event: it says the sync ended,
    // after every hall's `finished`.
    let mut seen = vec![];
    loop {
        match events.try_recv() {
            Ok(e) => seen.push(e),
            Err(tokio::sync::broadcast::error::TryRecvError::Lagged(_)) => continue,
            Err(_) => break,
        }
    }
    assert!(
        matches!(seen.last(), Some(hcp_sync::SyncEvent::Ended { halls: 2 })),
        "{:?}",
        seen.last()
    );
    let finished = seen
        .iter()
        .filter(|e| matches!(e, hcp_sync::SyncEvent::Finished { .. }))
        .count();
    assert_eq!(finished, 2);
    assert_eq!(status.halls.len(), 2);
    assert!(
        status.halls.iter().all(|h| h.state == "done" && h.new > 0),
        "{status:?}"
    );

    // Dashboard: October 2026 as asked, figures that add up.
    let d = app
        .dashboard(DashboardArgs {
            month: Some("2026-10".into()),
            hall_id: None,
        })
        .await
        .unwrap();
    let store = Store::open(&db).unwrap();
    let counted = store
        .evaluation_keys()
        .unwrap()
        .iter()
        .filter(|k| k.3 != "withdrawn")
        .count() as i64;
    assert_eq!(d.month_counts.counted, counted);
    assert_eq!(d.month_counts.good + d.month_counts.bad, counted);
    assert!(d.month_counts.bad > 0);
    assert_eq!(d.daily_bad.len(), 31);
    assert_eq!(
        d.daily_bad.iter().map(|x| x.bad).sum::<i64>(),
        d.month_counts.bad
    );
    assert_eq!(d.good_rate.denominator, counted);
    assert!(d.good_rate.percent.unwrap() > 80.0);
    // With no month named and nothing this month, the latest month with data.
    let d2 = app.dashboard(DashboardArgs::default()).await.unwrap();
    assert_eq!(d2.month, "2026-10");
    assert!(!d2.month_is_current);
    assert!(
        app.dashboard(DashboardArgs {
            month: Some("2026-13".into()),
            hall_id: None
        })
        .await
        .is_err()
    );

    // Bad ratings of one window, paged by key: every row once, newest first, and as
    // many as the count says.
    let opts = app
        .form_options(DashboardArgs {
            month: None,
            hall_id: Some(halls[0].clone()),
        })
        .await
        .unwrap();
    assert!(!opts.windows.is_empty());
    let filter = EvaluationFilter {
        hall_id: Some(halls[0].clone()),
        levels: vec![1, 2],
        window_no: Some(opts.windows[0].code.clone()),
        ..EvaluationFilter::default()
    };
    let total = app.count_evaluations(filter.clone()).await.unwrap();
    assert!(total > 0);
    let mut seen = HashSet::new();
    let mut last: Option<String> = None;
    let mut after = None;
    loop {
        let page = app
            .query_evaluations(EvaluationQuery {
                filter: filter.clone(),
                after: after.clone(),
                limit: Some(7),
            })
            .await
            .unwrap();
        for r in &page.rows {
            assert!(hcp_core::rating::is_bad_level(r.level) && r.hall_id == halls[0]);
            assert_eq!(r.window_no.as_deref(), Some(opts.windows[0].code.as_str()));
            if let Some(prev) = &last {
                assert!(prev >= &r.evaluated_at, "not newest first");
            }
            last = Some(r.evaluated_at.clone());
            assert!(seen.insert(r.id.clone()), "row {} twice", r.id);
        }
        match page.next {
            Some(k) => after = Some(k),
            None => break,
        }
    }
    assert_eq!(seen.len() as i64, total);

    // Detail: names from the profile, the evaluator masked, no ID hash or raw record.
    let first = seen.iter().next().unwrap().clone();
    let detail = app
        .evaluation_detail(EvaluationRef {
            hall_id: halls[0].clone(),
            id: first.clone(),
        })
        .await
        .unwrap();
    assert!(detail.is_bad);
    assert!(detail.window_name.is_some());
    let json = serde_json::to_string(&detail).unwrap();
    assert!(
        !json.contains("id_hash") && !json.contains("raw_json"),
        "{json}"
    );
    let missing = app
        .evaluation_detail(EvaluationRef {
            hall_id: halls[0].clone(),
            id: "NOPE".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(missing.code, "not_found");

    // The JSON door the browser bridge uses.
    let v = app
        .dispatch("count_evaluations", serde_json::to_value(&filter).unwrap())
        .await
        .unwrap();
    assert_eq!(v.as_i64(), Some(total));
    let e = app
        .dispatch(
            "query_evaluations",
            serde_json::json!({"filter": {"from": "昨天"}}),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code, "invalid_input");
    assert!(e.message.contains("开始时间"), "{}", e.message);
    let e = app
        .dispatch("drop_everything", serde_json::Value::Null)
        .await
        .unwrap_err();
    assert_eq!(e.code, "unknown_command");

    // Roles: a director sees only their hall's cases and cannot act on them; an
    // officer can. The sync opened the cases and pushed their openings.
    let all = app.list_cases(Default::default()).await.unwrap();
    assert!(all.total > 0);
    assert!(
        result
            .pushed
            .iter()
            .all(|p| p.pending == 0 && p.error.is_none())
    );
    assert!(!result.pushed.is_empty());
    let e = app
        .set_user(hcp_app::UserProfile {
            name: "李主任".into(),
            role: hcp_core::Role::Director,
            hall_id: None,
        })
        .await
        .unwrap_err();
    assert!(e.message.contains("所在大厅"), "{}", e.message);
    app.set_user(hcp_app::UserProfile {
        name: "李主任".into(),
        role: hcp_core::Role::Director,
        hall_id: Some(halls[0].clone()),
    })
    .await
    .unwrap();
    // A director manages no halls: adding, removing and syncing are refused by
    // the commands (not only hidden), and he sees his own hall only.
    let info = app.app_info().await.unwrap();
    assert!(
        !info
            .capabilities
            .contains(&hcp_core::Capability::ManageHalls)
    );
    let e = app
        .add_hall(AddHallArgs {
            url: srv.base_url(&halls[1]),
            token: srv.token(&halls[1]).unwrap(),
            ca_file: None,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
    assert_eq!(e.message, "大厅负责人不能添加或移除大厅");
    let e = app
        .remove_hall(hcp_app::HallIdArgs {
            hall_id: halls[1].clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
    let e = app.sync_now(SyncArgs::default()).await.unwrap_err();
    assert_eq!(e.code, "forbidden");
    assert_eq!(e.message, "大厅负责人不能同步大厅");
    let listed: Vec<String> = app
        .list_halls()
        .await
        .unwrap()
        .into_iter()
        .map(|h| h.hall.hall_id)
        .collect();
    assert_eq!(listed, [halls[0].clone()]);
    // No other hall's numbers anywhere: the dashboard's hall table, the search
    // form's selects, the ratings, the report's scope.
    let dash = app.dashboard(DashboardArgs::default()).await.unwrap();
    let dash_halls: Vec<&str> = dash.halls.iter().map(|h| h.hall.hall_id.as_str()).collect();
    assert_eq!(dash_halls, [halls[0].as_str()]);
    assert!(dash.todo.rectifying >= 0 && dash.todo.visits_to_review == 0);
    let e = app
        .dashboard(DashboardArgs {
            month: None,
            hall_id: Some(halls[1].clone()),
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
    assert_eq!(e.message, "大厅负责人只能查看本大厅的数据");
    let opts = app.form_options(DashboardArgs::default()).await.unwrap();
    let opt_halls: Vec<&str> = opts.halls.iter().map(|h| h.code.as_str()).collect();
    assert_eq!(opt_halls, [halls[0].as_str()]);
    let page = app
        .query_evaluations(EvaluationQuery {
            filter: EvaluationFilter::default(),
            after: None,
            limit: Some(500),
        })
        .await
        .unwrap();
    assert!(!page.rows.is_empty());
    assert!(page.rows.iter().all(|r| r.hall_id == halls[0]));
    let e = app
        .count_evaluations(EvaluationFilter {
            hall_id: Some(halls[1].clone()),
            ..EvaluationFilter::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
    let preview = app
        .report_preview(hcp_app::ReportArgs {
            month: dash.month.clone(),
            hall_id: None,
            typical: vec![],
            layout: None,
        })
        .await
        .unwrap();
    assert_eq!(preview.scope_name, dash.halls[0].hall.name);
    assert_eq!(preview.signer.as_deref(), Some("李主任"));
    let own = app.list_cases(Default::default()).await.unwrap();
    assert!(own.total > 0 && own.total < all.total);
    assert!(own.rows.iter().all(|r| r.hall_id == halls[0]));
    let other = hcp_store::CaseFilter {
        hall_id: Some(halls[1].clone()),
        ..Default::default()
    };
    assert_eq!(app.list_cases(other).await.unwrap_err().code, "forbidden");
    let theirs = all.rows.iter().find(|r| r.hall_id == halls[1]).unwrap();
    let e = app
        .case_detail(hcp_app::CaseIdArgs {
            case_id: theirs.case_id,
        })
        .await
        .unwrap_err();
    assert_eq!(e.code, "forbidden");
    let mine = own.rows.iter().find(|r| r.state == "open").unwrap();
    let verify = serde_json::json!({
        "case_id": mine.case_id,
        "action": {"type": "verify", "outcome": "true", "note": "属实"}
    });
    let e = app
        .dispatch("case_action", verify.clone())
        .await
        .unwrap_err();
    assert_eq!(e.code, "refused");
    assert!(e.message.contains("只有效能督查员"), "{}", e.message);
    app.set_user(hcp_app::UserProfile {
        name: "陈静".into(),
        role: hcp_core::Role::Officer,
        hall_id: None,
    })
    .await
    .unwrap();
    let done = app.dispatch("case_action", verify).await.unwrap();
    assert_eq!(done["to_state"], "rectifying");
    let d = app
        .case_detail(hcp_app::CaseIdArgs {
            case_id: mine.case_id,
        })
        .await
        .unwrap();
    assert_eq!(d.timeline.last().unwrap().actor, "陈静");
    // The deadline states its rule; the clock runs from the evaluation.
    let dl = d.deadline.as_ref().unwrap();
    assert!(
        dl.rule.starts_with("自评价之日起") && dl.rule.ends_with("个工作日内整改反馈"),
        "{}",
        dl.rule
    );
    assert!(
        d.evaluation.unwrap().raw_json.is_empty(),
        "the raw record (with the ID hash) never reaches the UI"
    );

    // A second sync brings nothing new; removing a hall forgets it.
    let again = app.sync_now(SyncArgs::default()).await.unwrap();
    assert!(
        again
            .reports
            .iter()
            .all(|r| r.outcome.new == 0 && r.error.is_none())
    );
    assert!(
        app.remove_hall(hcp_app::HallIdArgs {
            hall_id: halls[1].clone()
        })
        .await
        .unwrap()
    );
    assert_eq!(app.list_halls().await.unwrap().len(), 1);
}
