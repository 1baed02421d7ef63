//! One case engine, two stores (issue 33): the same scripted histories run
//! through a desk's SQLite cache and through an office hub on a real PostgreSQL,
//! both fed by the same reference halls on 127.0.0.1:0. After every phase the
//! case rows, the timelines, the decisions for the halls, the ratings taken out
//! of the figures and the raters marked malicious must be the same.
//!
//! The script: generated months of ratings with the halls' own appeals and
//! rectifications (cases opened, records arriving before their case and
//! replayed, records refused), then officers act on every case the same way on
//! both (verify with each outcome, transfer, assign), the halls answer late
//! (rectifications and resubmissions, appeals on the grounds of malice and
//! others, a rating revised up, one withdrawn, one revised down to bad with an
//! appeal already filed), officers sign off, return, decide appeals (one upheld
//! as malicious against a rater with other open cases, who then rates badly
//! again) and call back; at last the office changes a deadline policy.
//!
//! Times the two stores take from their own clock (an officer's action, a
//! revision noticed) are compared as "during the test"; deadlines derived from
//! them are compared exactly.

#[path = "../support/pg.rs"]
mod pg;
#[path = "../../crates/hcp-hub/tests/support/mod.rs"]
mod support;
use support::{ADMIN, PASSWORD};

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, FixedOffset, Utc};
use hcp_core::Role;
use hcp_core::case::{Action, Actor, CallbackResult, DeadlinePolicy, VerifyOutcome};
use hcp_core::hub::ActionRequest;
use hcp_hall::NewChange;
use hcp_hub::{AccountRole, Hub, HubSyncReport, no_progress};
use hcp_store::{Store, Who};
use hcp_sync::{HallEndpoint, SyncOptions, Token};
use serde_json::{Value, json};

const OFFICER: &str = "陈静";

fn options() -> SyncOptions {
    support::quick_sync(200)
}

fn beijing_now() -> DateTime<FixedOffset> {
    Utc::now().with_timezone(&hcp_core::metrics::beijing())
}

/// Everything one store holds about its cases, keyed by (hall, rating).
#[derive(Debug, PartialEq, Eq)]
struct Cases {
    rows: BTreeMap<(String, String), CaseRow>,
    /// Ratings out of the figures.
    excluded: BTreeSet<(String, String)>,
    /// Raters marked malicious.
    marks: BTreeSet<String>,
}

#[derive(Debug, PartialEq, Eq)]
struct CaseRow {
    state: String,
    /// The case as core's JSON, the test's own times replaced.
    body: Value,
    version: i64,
    due_at: Option<DateTime<Utc>>,
    warn_at: Option<DateTime<Utc>>,
    flagged: bool,
    /// (version-ordered) event, from, to, actor, role, summary, note, signed.
    timeline: Vec<[Option<String>; 8]>,
    /// In the order the hall hears them: kind, ref, outcome, note, officer.
    decisions: Vec<[Option<String>; 5]>,
}

/// Times at or after `since` (the test's own clock) read as "NOW"; the
/// generated data's times stay as they are.
fn settle_times(v: &mut Value, since: DateTime<Utc>) {
    match v {
        Value::String(s) => {
            if let Ok(t) = DateTime::parse_from_rfc3339(s)
                && t.with_timezone(&Utc) >= since
            {
                *s = "NOW".into();
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| settle_times(v, since)),
        Value::Object(o) => o.values_mut().for_each(|v| settle_times(v, since)),
        _ => {}
    }
}

fn decision(body: &str, since: DateTime<Utc>) -> [Option<String>; 5] {
    let mut d: Value = serde_json::from_str(body).unwrap();
    settle_times(&mut d, since);
    let s = |k: &str| d[k].as_str().map(str::to_owned);
    [
        s("kind"),
        s("ref_id"),
        s("outcome"),
        s("note"),
        s("officer"),
    ]
}

fn desk_cases(db: &std::path::Path, since: DateTime<Utc>) -> Cases {
    let c = rusqlite::Connection::open(db).unwrap();
    let mut rows = BTreeMap::new();
    let mut q = c
        .prepare(
            "SELECT case_id, hall_id, evaluation_id, state, body, version, due_at, warn_at,
                    flagged_malicious
             FROM cases WHERE kind = 'bad_rating'",
        )
        .unwrap();
    type Row = (
        i64,
        String,
        String,
        String,
        String,
        i64,
        Option<String>,
        Option<String>,
        bool,
    );
    let cases: Vec<Row> = q
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
                r.get(6)?,
                r.get(7)?,
                r.get(8)?,
            ))
        })
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let time = |s: Option<String>| {
        s.map(|s| {
            DateTime::parse_from_rfc3339(&s)
                .unwrap()
                .with_timezone(&Utc)
        })
    };
    for (id, hall, eval, state, body, version, due, warn, flagged) in cases {
        let mut body: Value = serde_json::from_str(&body).unwrap();
        settle_times(&mut body, since);
        let mut t = c
            .prepare(
                "SELECT actor, role, action, detail FROM audit_log WHERE subject = ?1 ORDER BY seq",
            )
            .unwrap();
        let timeline = t
            .query_map([format!("case:{id}")], |r| {
                let detail: String = r.get(3)?;
                let d: Value = serde_json::from_str(&detail).unwrap();
                let s = |k: &str| d[k].as_str().map(str::to_owned);
                Ok([
                    Some(r.get::<_, String>(2)?),
                    s("from"),
                    s("to"),
                    Some(r.get(0)?),
                    Some(r.get(1)?),
                    s("summary"),
                    s("note"),
                    s("signed_sha256"),
                ])
            })
            .unwrap()
            .map(Result::unwrap)
            .collect();
        let mut d = c
            .prepare("SELECT body FROM outbox WHERE case_id = ?1 ORDER BY seq")
            .unwrap();
        let decisions = d
            .query_map([id], |r| r.get::<_, String>(0))
            .unwrap()
            .map(|b| decision(&b.unwrap(), since))
            .collect();
        rows.insert(
            (hall, eval),
            CaseRow {
                state,
                body,
                version,
                due_at: time(due),
                warn_at: time(warn),
                flagged,
                timeline,
                decisions,
            },
        );
    }
    let excluded = c
        .prepare("SELECT hall_id, id FROM evaluations WHERE excluded")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    let marks = c
        .prepare("SELECT id_hash FROM malicious_marks")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    Cases {
        rows,
        excluded,
        marks,
    }
}

async fn hub_cases(url: &str, since: DateTime<Utc>) -> Cases {
    let c = pg::client(url).await;
    let mut rows = BTreeMap::new();
    for r in c
        .query(
            "SELECT case_id, hall_id, evaluation_id, state, body, version, due_at, warn_at,
                    flagged_malicious
             FROM hub_cases WHERE kind = 'bad_rating'",
            &[],
        )
        .await
        .unwrap()
    {
        let id: i64 = r.get(0);
        let mut body: Value = serde_json::from_str(r.get(4)).unwrap();
        settle_times(&mut body, since);
        let timeline = c
            .query(
                "SELECT event, from_state, to_state, actor, role, summary, note, signed_sha256
                 FROM hub_case_events WHERE case_id = $1 ORDER BY version",
                &[&id],
            )
            .await
            .unwrap()
            .iter()
            .map(|e| std::array::from_fn(|i| e.get::<_, Option<String>>(i)))
            .collect();
        let decisions = c
            .query(
                "SELECT body FROM hub_outbox WHERE case_id = $1 ORDER BY seq",
                &[&id],
            )
            .await
            .unwrap()
            .iter()
            .map(|d| decision(d.get(0), since))
            .collect();
        rows.insert(
            (r.get(1), r.get(2)),
            CaseRow {
                state: r.get(3),
                body,
                version: r.get(5),
                due_at: r.get(6),
                warn_at: r.get(7),
                flagged: r.get(8),
                timeline,
                decisions,
            },
        );
    }
    let excluded = c
        .query(
            "SELECT hall_id, id FROM hub_records WHERE kind = 'evaluation' AND excluded",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let marks = c
        .query("SELECT id_hash FROM hub_malicious_marks", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    Cases {
        rows,
        excluded,
        marks,
    }
}

/// Both stores hold the same cases; the first difference is named.
fn assert_same(phase: &str, desk: &Cases, hub: &Cases) {
    let keys = |c: &Cases| c.rows.keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(desk), keys(hub), "{phase}: different cases");
    for (k, d) in &desk.rows {
        let h = &hub.rows[k];
        assert_eq!(d.timeline, h.timeline, "{phase}: timeline of {k:?}");
        assert_eq!(d.decisions, h.decisions, "{phase}: decisions of {k:?}");
        assert_eq!(d, h, "{phase}: case {k:?}");
    }
    assert_eq!(desk.excluded, hub.excluded, "{phase}: excluded ratings");
    assert_eq!(desk.marks, hub.marks, "{phase}: marked raters");
}

struct Office {
    hub: Hub,
    url: String,
    db: std::path::PathBuf,
    eps: Vec<HallEndpoint>,
    account: hcp_hub::Account,
    since: DateTime<Utc>,
}

impl Office {
    async fn sync(&self) {
        for r in self
            .hub
            .sync_halls(&[], &options(), no_progress())
            .await
            .unwrap()
        {
            match r {
                HubSyncReport::Synced { sync, .. } => assert!(sync.error.is_none()),
                HubSyncReport::Busy { hall_id } => panic!("{hall_id} busy"),
            }
        }
        for r in hcp_sync::sync_halls(&self.db, self.eps.clone(), &options(), no_progress()).await {
            assert!(r.error.is_none(), "{:?}", r.error);
        }
    }

    async fn compare(&self, phase: &str) -> Cases {
        let desk = desk_cases(&self.db, self.since);
        let hub = hub_cases(&self.url, self.since).await;
        assert_same(phase, &desk, &hub);
        desk
    }

    /// The same action on the same case on both; both must take it or refuse it.
    async fn act(&self, hall: &str, eval: &str, action: Action) -> bool {
        let mut store = Store::open(&self.db).unwrap();
        let (desk_id, desk_v): (i64, i64) = rusqlite::Connection::open(&self.db)
            .unwrap()
            .query_row(
                "SELECT case_id, version FROM cases WHERE hall_id = ?1 AND evaluation_id = ?2",
                [hall, eval],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let who = Who {
            name: OFFICER,
            actor: Actor::Officer,
        };
        let on_desk = store
            .act_on_case(desk_id, &action, who, Some(desk_v), beijing_now())
            .is_ok();
        let c = pg::client(&self.url).await;
        let r = c
            .query_one(
                "SELECT case_id, version FROM hub_cases WHERE hall_id = $1 AND evaluation_id = $2",
                &[&hall, &eval],
            )
            .await
            .unwrap();
        let request = ActionRequest {
            id: uuid::Uuid::new_v4().to_string(),
            case_id: r.get(0),
            expected_version: r.get(1),
            action,
        };
        let answer = self.hub.act(&self.account, &[request]).await.unwrap();
        let on_hub = answer[0].status == "accepted";
        assert_eq!(on_desk, on_hub, "{hall}/{eval}: {answer:?}");
        on_desk
    }
}

fn appeal(hall: &str, eval: &str, id: &str, ground: &str, at: &str) -> NewChange {
    NewChange {
        kind: "appeal".into(),
        data: json!({
            "id": id, "rev": 1, "hall_id": hall, "evaluation_id": eval, "filed_at": at,
            "filed_by": "窗口负责人", "ground": ground, "statement": "申诉理由", "attachments": [],
        })
        .to_string(),
    }
}

fn rectification(hall: &str, eval: &str, id: &str, rev: i64, at: &str) -> NewChange {
    NewChange {
        kind: "rectification".into(),
        data: json!({
            "id": id, "rev": rev, "hall_id": hall, "evaluation_id": eval, "submitted_at": at,
            "responsible": "窗口负责人", "measures": format!("整改措施第 {rev} 版"),
            "attachments": [],
        })
        .to_string(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_desk_and_the_hub_write_the_same_cases() {
    let since = Utc::now();
    let cluster = pg::PgCluster::start();
    let url = cluster.database("engine").await;
    Hub::init(&url).await.unwrap();
    let hub = Hub::open(&url).await.unwrap();
    let srv = hcp_hall::serve_fixture(33, 2, 1000, "admin").await;
    let ids = srv.state.hall_ids();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("desk.sqlite");
    let mut eps = vec![];
    {
        let mut store = Store::open(&db).unwrap();
        let who = Who {
            name: OFFICER,
            actor: Actor::Officer,
        };
        for id in &ids {
            let ep = HallEndpoint {
                hall_id: id.clone(),
                base_url: srv.base_url(id),
                token: Token::new(srv.token(id).unwrap()),
                ca_file: None,
            };
            hub.add_hall(&ep.base_url, &srv.token(id).unwrap(), None, ADMIN)
                .await
                .unwrap();
            let p = hcp_sync::fetch_profile(&ep, &options()).await.unwrap();
            store.upsert_hall(&p, &ep.base_url, None, who).unwrap();
            eps.push(ep);
        }
    }
    hub.add_user(
        OFFICER,
        AccountRole::Person(Role::Officer),
        None,
        PASSWORD,
        ADMIN,
    )
    .await
    .unwrap();
    let account = hub.login(OFFICER, PASSWORD).await.unwrap().account;
    let office = Office {
        hub,
        url,
        db,
        eps,
        account,
        since,
    };
    let hall = ids[0].clone();

    // A rater with two open bad ratings, a rating not bad yet with an appeal
    // filed against it, all added to the first hall's generated month.
    let template: Value = srv
        .state
        .with_hall(&hall, |h| {
            h.latest_records()
                .into_iter()
                .find(|((kind, _), _)| kind == "evaluation")
                .map(|(_, (_, raw))| serde_json::from_str(&raw).unwrap())
        })
        .unwrap()
        .unwrap();
    let rating = |id: &str, rev: i64, level: u8, rater: &str, status: &str| {
        let mut e = template.clone();
        e["id"] = json!(id);
        e["rev"] = json!(rev);
        e["level"] = json!(level);
        e["status"] = json!(status);
        e["evaluated_at"] = json!("2026-10-20T10:00:00+08:00");
        e["evaluator"]["id_hash"] = json!(rater);
        NewChange {
            kind: "evaluation".into(),
            data: e.to_string(),
        }
    };
    let rater = "ab".repeat(32);
    let append = |changes: Vec<NewChange>| {
        srv.state
            .with_hall_mut(&hall, |h| {
                for c in changes {
                    h.append(c);
                }
            })
            .unwrap();
    };
    append(vec![
        rating("DIFF-M1", 1, 1, &rater, "valid"),
        rating("DIFF-M2", 1, 2, &rater, "valid"),
        rating("DIFF-L", 1, 3, &"cd".repeat(32), "valid"),
        appeal(
            &hall,
            "DIFF-L",
            "DIFF-LA",
            "other",
            "2026-10-21T09:00:00+08:00",
        ),
        // Bad, revised to good, revised back to bad — all before the first sync.
        rating("DIFF-R", 1, 2, &"12".repeat(32), "valid"),
        rating("DIFF-R", 2, 4, &"12".repeat(32), "revised"),
        rating("DIFF-R", 3, 2, &"12".repeat(32), "revised"),
    ]);

    // Phase 1: the generated months and the halls' own follow-ups.
    office.sync().await;
    let first = office.compare("after the first sync").await;
    assert!(first.rows.len() > 30, "{}", first.rows.len());
    // Its case opened and closed as revised; the rating turning bad again does not
    // open a second case (as a desk takes the revs one by one).
    assert_eq!(
        first.rows[&(hall.clone(), "DIFF-R".to_owned())].state,
        "closed_revised"
    );
    let states: BTreeSet<&str> = first.rows.values().map(|r| r.state.as_str()).collect();
    assert!(states.len() >= 3, "{states:?}");

    // Phase 2: officers act on every open case, by turns.
    let open: Vec<(String, String)> = first
        .rows
        .iter()
        .filter(|(_, r)| r.state == "open")
        .map(|(k, _)| k.clone())
        .collect();
    let verify = |outcome, note: &str| Action::Verify {
        outcome,
        note: note.into(),
    };
    for (i, (h, e)) in open.iter().enumerate() {
        let action = match (e.as_str(), i % 6) {
            ("DIFF-M1" | "DIFF-M2", _) => verify(VerifyOutcome::NotTrue, "评价人所述与录像不符"),
            (_, 0) => verify(VerifyOutcome::True, "情况属实"),
            (_, 1) => verify(VerifyOutcome::NotTrue, "与事实不符"),
            (_, 2) => verify(VerifyOutcome::NoLegalBasis, "诉求无政策依据"),
            (_, 3) => Action::Transfer {
                department: "市场监管局".into(),
                reason: "非本窗口职责".into(),
            },
            (_, 4) => verify(VerifyOutcome::Misrated, "评价人误操作"),
            _ => Action::Assign {
                lead: "民政局".into(),
                co: vec!["人社局".into()],
            },
        };
        office.act(h, e, action).await;
    }
    office.compare("after the officers' first round").await;

    // Phase 3: the halls answer late; ratings revised and withdrawn.
    let now = beijing_now().to_rfc3339();
    let second = office.compare("before the halls answer").await;
    let mut late = vec![];
    let (mut revised, mut withdrawn, mut appeals) = (false, false, 0);
    for ((h, e), row) in &second.rows {
        if h != &hall {
            continue;
        }
        match row.state.as_str() {
            "rectifying" => {
                late.push(rectification(h, e, &format!("R-{e}"), 1, &now));
            }
            "appeal_window" => {
                let ground = if e.starts_with("DIFF-M1") {
                    "malicious"
                } else {
                    "other"
                };
                // Every third appeal comes after its filing window: refused.
                appeals += 1;
                let filed = if appeals % 3 == 0 {
                    "2027-02-01T09:00:00+08:00"
                } else {
                    now.as_str()
                };
                late.push(appeal(h, e, &format!("A-{e}"), ground, filed));
            }
            "open" | "explained" if !revised => {
                revised = true;
                late.push(rating(e, 9, 5, &"ef".repeat(32), "revised"));
            }
            "explained" if !withdrawn => {
                withdrawn = true;
                late.push(rating(e, 9, 2, &"ef".repeat(32), "withdrawn"));
            }
            _ => {}
        }
    }
    // The rating with an appeal on file turns bad: its case opens and the
    // appeal it already had is replayed on it.
    late.push(rating("DIFF-L", 2, 2, &"cd".repeat(32), "revised"));
    append(late);
    office.sync().await;
    let third = office.compare("after the halls' late answers").await;
    let l = &third.rows[&(hall.clone(), "DIFF-L".to_owned())];
    assert_eq!(
        l.timeline.last().unwrap()[0].as_deref(),
        Some("appeal_filed"),
        "the appeal filed before the case is replayed on it: {:?}",
        l.timeline
    );

    // Phase 4: sign-offs, returns, appeal decisions, callbacks.
    let mut returned = vec![];
    for (i, ((h, e), row)) in third.rows.iter().enumerate() {
        let action = match row.state.as_str() {
            "awaiting_signoff" if i % 2 == 0 => Action::AcceptRectification,
            "awaiting_signoff" => {
                returned.push((h.clone(), e.clone()));
                Action::ReturnRectification {
                    opinion: "整改措施不具体".into(),
                }
            }
            "under_appeal" => Action::DecideAppeal {
                upheld: e == "DIFF-M1" || i % 3 == 0,
                note: "经复核".into(),
            },
            "explained" => Action::Callback {
                result: CallbackResult::Dissatisfied,
                note: "群众仍不满意".into(),
            },
            _ => continue,
        };
        office.act(h, e, action).await;
    }
    // A returned rectification comes back as its second version — and one of them
    // at once as a third too, both in one sync (the hub takes a batch of pages at
    // once; a desk, record by record).
    let mut again = vec![];
    for (i, (h, e)) in returned.iter().filter(|(h, _)| h == &hall).enumerate() {
        again.push(rectification(h, e, &format!("R-{e}"), 2, &now));
        if i == 0 {
            again.push(rectification(h, e, &format!("R-{e}"), 3, &now));
        }
    }
    assert!(!again.is_empty(), "no rectification was returned");
    append(again);
    // The marked rater rates badly again: the new case opens flagged.
    append(vec![rating("DIFF-M3", 1, 1, &rater, "valid")]);
    office.sync().await;
    let fourth = office.compare("after the decisions").await;
    let m = |e: &str| &fourth.rows[&(hall.clone(), e.to_owned())];
    assert_eq!(m("DIFF-M1").state, "closed_appealed");
    assert!(fourth.marks.contains(&rater));
    assert!(
        fourth
            .excluded
            .contains(&(hall.clone(), "DIFF-M1".to_owned()))
    );
    assert!(
        m("DIFF-M2").flagged,
        "the rater's other open case is flagged"
    );
    assert!(m("DIFF-M3").flagged, "the rater's next case opens flagged");
    for (i, ((h, e), row)) in fourth.rows.iter().enumerate() {
        let action = match row.state.as_str() {
            "awaiting_callback" | "explained" => Action::Callback {
                result: if i % 2 == 0 {
                    CallbackResult::Satisfied
                } else {
                    CallbackResult::Unreachable
                },
                note: "已回访".into(),
            },
            "awaiting_signoff" => Action::AcceptRectification,
            _ => continue,
        };
        office.act(h, e, action).await;
    }
    let fifth = office.compare("after the callbacks").await;
    let closed = fifth
        .rows
        .values()
        .filter(|r| r.state.starts_with("closed"))
        .count();
    assert!(closed > 5, "{closed}");

    // Phase 5: the office gives the first hall longer deadlines.
    let policy = DeadlinePolicy {
        verify: 3,
        rectify: 20,
        ..DeadlinePolicy::default()
    };
    office
        .hub
        .set_policy(Some(&hall), &policy, ADMIN)
        .await
        .unwrap();
    Store::open(&office.db)
        .unwrap()
        .set_deadline_policy(
            Some(&hall),
            &policy,
            Who {
                name: OFFICER,
                actor: Actor::Officer,
            },
        )
        .unwrap();
    let last = office.compare("after the policy change").await;
    let moved = last
        .rows
        .iter()
        .filter(|(k, r)| r.due_at.is_some() && fifth.rows[*k].due_at != r.due_at)
        .count();
    assert!(moved > 0, "the policy moved no deadline");
    // The script went through every kind of step.
    let events: BTreeSet<&str> = last
        .rows
        .values()
        .flat_map(|r| r.timeline.iter().filter_map(|e| e[0].as_deref()))
        .collect();
    for e in [
        "case_opened",
        "verify",
        "transfer",
        "assign",
        "rectification_submitted",
        "rectification_accepted",
        "rectification_returned",
        "appeal_filed",
        "appeal_decided",
        "hall_record_refused",
        "callback",
        "evaluation_no_longer_bad",
    ] {
        assert!(events.contains(e), "no {e} in {events:?}");
    }
}
