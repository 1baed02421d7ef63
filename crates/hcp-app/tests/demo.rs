//! The zero-configuration first run: the embedded demo hall, loaded through the
//! command set into a real SQLite file, on a fixed "today" — a lived-in office
//! with every case state, deadlines in warning and overdue, appeals decided both
//! ways, callbacks, a transfer, visits with their findings, a returned visit and
//! last month's report issued, all reached through the real paths.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use hcp_app::{App, CaseCountArgs, DashboardArgs, SyncArgs};
use hcp_store::{CaseFilter, Store};

fn today() -> DateTime<Utc> {
    // A Wednesday in the calendar's data, mid-month.
    DateTime::parse_from_rfc3339("2026-11-18T10:00:00+08:00")
        .unwrap()
        .with_timezone(&Utc)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_is_a_lived_in_office_reached_through_the_real_paths() {
    // SAFETY: set before any other thread of this test binary reads it.
    unsafe { std::env::set_var("HCP_TOKEN_STORE", "file") };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.db");
    let app = App::open(&db).unwrap();
    let started = std::time::Instant::now();
    let loaded = app.load_demo_at(today()).await.unwrap();
    eprintln!("demo built in {:.1} s", started.elapsed().as_secs_f64());
    assert_eq!(loaded.halls.len(), 3);
    assert!(
        loaded.reports.iter().all(|r| r.error.is_none()),
        "{loaded:?}"
    );

    let store = Store::open(&db).unwrap();
    // Every state of the case engine is there.
    let mut states = BTreeSet::new();
    let mut offset = 0;
    loop {
        let page = store
            .list_cases(
                &CaseFilter {
                    limit: Some(500),
                    offset: Some(offset),
                    ..CaseFilter::default()
                },
                today(),
            )
            .unwrap();
        offset += page.rows.len() as i64;
        states.extend(page.rows.iter().map(|r| r.state.clone()));
        if offset >= page.total {
            break;
        }
    }
    for s in hcp_core::case::CaseState::ALL {
        assert!(
            states.contains(s.as_str()),
            "no case is {}: {states:?}",
            s.as_str()
        );
    }
    // Deadlines in warning and overdue, relative to "today".
    let urgent = |u: &str| {
        store
            .list_cases(
                &CaseFilter {
                    urgency: Some(u.into()),
                    ..CaseFilter::default()
                },
                today(),
            )
            .unwrap()
            .rows
    };
    let overdue = urgent("overdue");
    let warning_only: Vec<_> = urgent("warning")
        .into_iter()
        .filter(|r| !overdue.iter().any(|o| o.case_id == r.case_id))
        .collect();
    assert!(!warning_only.is_empty(), "a case in 超期预警");
    assert!(
        !overdue.is_empty() && overdue.len() < 40,
        "a few overdue, not hundreds: {}",
        overdue.len()
    );
    // Decided both ways, callbacks of every kind, a transfer: in the audit log.
    let rows = store.audit_rows(100_000).unwrap();
    let has = |action: &str, needle: &str| {
        rows.iter()
            .any(|r| r.action == action && r.detail.contains(needle))
    };
    assert!(
        has("appeal_decided", "\"outcome\":\"upheld\""),
        "an upheld appeal"
    );
    assert!(
        has("appeal_decided", "\"outcome\":\"dismissed\""),
        "a dismissed appeal"
    );
    assert!(has("callback", "\"outcome\":\"satisfied\""));
    assert!(has("callback", "\"outcome\":\"dissatisfied\""));
    assert!(
        rows.iter().any(|r| r.action == "transfer"),
        "a transferred case"
    );
    assert!(
        rows.iter().any(|r| r.action == "rectification_returned"),
        "a returned rectification"
    );
    // The officer's steps carry their own time, before "today".
    let verify = rows.iter().find(|r| r.action == "verify").unwrap();
    let acted: serde_json::Value = serde_json::from_str(&verify.detail).unwrap();
    let acted = acted["acted_at"].as_str().unwrap();
    assert!(acted < hcp_store::utc_text(today()).as_str(), "{acted}");

    // Visits: two closed last month, one accepted with open findings, one returned.
    let visits = store.list_visits(None).unwrap();
    let mut vstates: Vec<_> = visits.iter().map(|v| v.state.as_str()).collect();
    vstates.sort_unstable();
    assert_eq!(
        vstates,
        ["accepted", "closed", "closed", "returned", "submitted"]
    );
    assert!(visits.iter().all(|v| v.shopper.as_deref() == Some("李明")));
    let photos: usize = visits
        .iter()
        .map(|v| {
            store
                .visit_detail(&v.visit_id)
                .unwrap()
                .items
                .iter()
                .map(|i| i.photos.len())
                .sum::<usize>()
        })
        .sum();
    assert!(photos >= 4, "{photos} photos");
    let findings = store
        .list_cases(
            &CaseFilter {
                kind: Some("visit_finding".into()),
                ..CaseFilter::default()
            },
            today(),
        )
        .unwrap();
    assert!(findings.total >= 4, "finding tasks: {}", findings.total);
    assert!(findings.rows.iter().any(|r| r.state == "rectifying"));

    // Last month's report, issued, with its 暗访 section.
    let issued = store.issued_reports().unwrap();
    assert_eq!(
        issued.len(),
        2,
        "all halls, and one hall's for its director"
    );
    assert!(issued.iter().all(|r| r.month == "2026-10"));
    let all = issued.iter().find(|r| r.hall_id.is_none()).unwrap();
    let (_, json, pdf) = store.issued_report(all.report_id).unwrap();
    assert!(pdf.is_some_and(|p| p.starts_with(b"%PDF")));
    let model: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        model["visits"].as_array().unwrap().len(),
        2,
        "暗访 in the report"
    );
    assert!(model["overall"]["evaluations"].as_i64().unwrap() > 1_000);

    // A broken record from a hall waits in the quarantine with its reason.
    let q = store.quarantine(None).unwrap();
    assert_eq!(q.len(), 1);
    assert!(q[0].reason.contains("level"), "{}", q[0].reason);
    // The chain holds.
    assert!(store.verify_audit().unwrap().broken_at.is_none());

    // The dashboard sees the current month.
    let d = app
        .dashboard(DashboardArgs {
            hall_id: None,
            month: Some("2026-11".into()),
        })
        .await
        .unwrap();
    assert!(d.month_counts.counted > 1_000, "{:?}", d.month_counts);
    let counts = app.case_counts(CaseCountArgs::default()).await.unwrap();
    assert!(counts.iter().any(|c| c.state == "open" && c.total > 0));
    // 工作台 is a to-do list first.
    assert!(
        d.todo.verify > 0 && d.todo.signoff > 0 && d.todo.callback > 0,
        "{:?}",
        d.todo
    );
    assert!(d.todo.appeals > 0, "{:?}", d.todo);
    assert_eq!(d.todo.visits_to_review, 1, "{:?}", d.todo);
    assert_eq!(d.urgent_cases.len(), 8);
    assert_eq!(
        d.latest_report.as_ref().map(|r| r.month.as_str()),
        Some("2026-10")
    );

    // A hall without a server, run from files: the national standard's layout
    // (a 二次评价 in a rating's history, 系统默认评价 counted apart in the issued
    // report) and the province's 差评工单 export moving its cases.
    let file_hall = store
        .halls()
        .unwrap()
        .into_iter()
        .find(|h| h.name == "怀宁县政务服务中心")
        .expect("the demo's hall from files");
    assert_eq!(file_hall.source, "file");
    let revised = store
        .list_evaluations(
            &hcp_store::EvaluationFilter {
                hall_id: Some(file_hall.hall_id.clone()),
                include_withdrawn: true,
                ..Default::default()
            },
            None,
            500,
        )
        .unwrap()
        .0
        .into_iter()
        .filter(|e| e.status == "revised")
        .collect::<Vec<_>>();
    assert!(!revised.is_empty(), "a 二次评价 in the file hall");
    let versions = store
        .evaluation_versions(&file_hall.hall_id, &revised[0].id)
        .unwrap();
    assert_eq!(versions.first().unwrap().how_label, "首次评价");
    assert!(
        versions
            .iter()
            .any(|v| v.how_label == "二次评价" || v.how_label == "追评"),
        "{versions:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.action == "appeal_decided" && r.detail.contains("省平台驳回申诉")),
        "the province's dismissal recorded as the officer's decision"
    );
    let file_cases = store
        .list_cases(
            &CaseFilter {
                hall_id: Some(file_hall.hall_id.clone()),
                ..CaseFilter::default()
            },
            today(),
        )
        .unwrap()
        .rows;
    assert!(
        file_cases.iter().any(|c| c.state == "awaiting_signoff"),
        "a rectification from the 工单 export: {file_cases:?}"
    );
    let sd = &model["overall"]["system_default"];
    assert!(sd["count"].as_i64().unwrap() > 0, "{sd}");
    assert_eq!(sd["counted"], false);
    // Every rule has something to show last month, the script's serial run too.
    let mut writer = Store::open(&db).unwrap();
    writer.recompute_due_alerts().unwrap();
    for rule in hcp_core::warning::Rule::ALL {
        assert!(
            !writer
                .alerts(Some("2026-10"), Some(rule.as_str()))
                .unwrap()
                .is_empty(),
            "no {} alert in the demo",
            rule.as_str()
        );
    }
    drop(writer);

    // Loading again (the app restarted) changes nothing.
    let audit_rows = store.verify_audit().unwrap().rows;
    drop(app);
    let app = App::open(&db).unwrap();
    assert!(app.resume_demo_if_loaded().await.unwrap());
    let s = app.sync_now(SyncArgs::default()).await.unwrap();
    assert!(s.reports.iter().all(|r| r.error.is_none()), "{s:?}");
    assert!(
        s.reports
            .iter()
            .all(|r| r.outcome.new == 0 && r.outcome.updated == 0),
        "{s:?}"
    );
    let after = store.verify_audit().unwrap().rows;
    // Re-registering the halls (new tokens, new port) is all that is written.
    assert_eq!(after - audit_rows, 3, "only the three hall_updated rows");
    for h in loaded.halls {
        app.remove_hall(hcp_app::HallIdArgs { hall_id: h })
            .await
            .unwrap();
    }
}
