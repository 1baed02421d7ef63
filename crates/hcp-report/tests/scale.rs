//! What keeps a province's report small and fast, held to the slow way: the
//! level counts kept per hall and month (`report_groups`) equal a count of the
//! rows after every kind of change, and the 超期清单 lists the longest overdue
//! while its count, its per-hall figures and the Excel export's full list cover
//! every one; the 差评整改台账 lists the first cases of the period while its
//! counts, the default 典型案例 and the draft's Excel export cover every one.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use hcp_core::case::{Action, CallbackResult, VerifyOutcome};
use hcp_report::model::{LEDGER_LISTED, LedgerRow, OVERDUE_LISTED, full_lists};
use hcp_report::{ReportSettings, build};
use hcp_store::{LevelCount, Store};

/// October 2026 in Beijing as UTC instants, and the same span one second wider,
/// which is not a whole month and so is counted from the rows.
const OCT: (&str, &str) = ("2026-09-30T16:00:00Z", "2026-10-31T16:00:00Z");
const OCT_BY_ROWS: (&str, &str) = ("2026-09-30T15:59:59Z", "2026-10-31T16:00:00Z");

fn sorted(mut v: Vec<LevelCount>) -> Vec<LevelCount> {
    v.sort_by(|a, b| {
        (&a.hall_id, &a.department_code, &a.window_no, &a.staff_no)
            .cmp(&(&b.hall_id, &b.department_code, &b.window_no, &b.staff_no))
            .then(a.level.cmp(&b.level))
            .then(a.system_default.cmp(&b.system_default))
    });
    v
}

/// The kept groups (after the report asked for them once) against the rows.
fn same_as_rows(s: &Store, step: &str) -> Vec<LevelCount> {
    let kept = sorted(s.report_level_counts(Some(HALL), OCT.0, OCT.1).unwrap());
    let rows = sorted(
        s.report_level_counts(Some(HALL), OCT_BY_ROWS.0, OCT_BY_ROWS.1)
            .unwrap(),
    );
    assert_eq!(kept, rows, "{step}");
    // Asked again, the kept groups are read as they are.
    assert_eq!(
        sorted(s.report_level_counts(None, OCT.0, OCT.1).unwrap()),
        rows,
        "{step}, again"
    );
    rows
}

/// What the figures read of a case, kept on its row (the rating's level and
/// validity, the pause and the closing time from its body), equals a join to the
/// rating and a read of the body; returns how many cases there are.
fn case_ratings_match(dir: &std::path::Path, step: &str) -> usize {
    let db = rusqlite::Connection::open(dir.join("hcp.db")).unwrap();
    type Facts = (i64, Option<i64>, bool, Option<i64>, Option<String>);
    let rows = |sql: &str| -> Vec<Facts> {
        db.prepare(sql)
            .unwrap()
            .query_map([], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    let kept = rows(
        "SELECT case_id, rating_level, rating_valid, paused_working_days, acted_closed_at
         FROM cases ORDER BY case_id",
    );
    let joined = rows(
        "SELECT c.case_id, e.level,
                coalesce(e.status <> 'withdrawn' AND e.excluded = 0, 0),
                json_extract(c.body, '$.paused_working_days'), json_extract(c.body, '$.closed_at')
         FROM cases c LEFT JOIN evaluations e ON e.hall_id = c.hall_id AND e.id = c.evaluation_id
         ORDER BY c.case_id",
    );
    assert_eq!(kept, joined, "{step}");
    // The callbacks' outcomes, in the order recorded (migration 0029).
    let outcomes = |sql: &str| -> Vec<(i64, Option<String>)> {
        db.prepare(sql)
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    };
    assert_eq!(
        outcomes("SELECT case_id, callback_outcomes FROM cases ORDER BY case_id"),
        outcomes(
            "SELECT c.case_id, (SELECT group_concat(json_extract(l.detail, '$.outcome'), ',' ORDER BY l.seq)
                                FROM audit_log l WHERE l.action = 'callback'
                                  AND l.subject = 'case:' || c.case_id)
             FROM cases c ORDER BY c.case_id"
        ),
        "{step}"
    );
    kept.len()
}

fn total(v: &[LevelCount]) -> i64 {
    v.iter().map(|c| c.n).sum()
}

#[test]
fn the_kept_level_counts_follow_every_change_to_a_rating() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path());
    apply(
        &mut s,
        &[
            ev("G1", 1, 5, "valid", "2026-10-01T00:00:00+08:00", "A01"),
            ev("G2", 1, 4, "valid", "2026-10-03T09:00:00+08:00", "A02"),
            ev("B1", 1, 1, "valid", "2026-10-08T09:00:00+08:00", "A01"),
            ev("B2", 1, 2, "valid", "2026-10-31T23:59:59+08:00", "A02"),
            // Outside October on both sides.
            ev("S1", 1, 5, "valid", "2026-09-30T23:59:58+08:00", "A01"),
            ev("N1", 1, 1, "valid", "2026-11-01T00:00:00+08:00", "A01"),
        ],
    );
    let first = same_as_rows(&s, "first sync");
    assert_eq!(total(&first), 4);
    assert_eq!(case_ratings_match(dir.path(), "first sync"), 3);
    // A revision that moves a rating to another window and level, one that
    // moves it out of the month, and a withdrawal.
    apply(
        &mut s,
        &[
            ev("G1", 2, 2, "revised", "2026-10-01T00:00:00+08:00", "A02"),
            ev("G2", 2, 4, "valid", "2026-11-02T09:00:00+08:00", "A02"),
            ev("B1", 2, 1, "withdrawn", "2026-10-08T09:00:00+08:00", "A01"),
        ],
    );
    let revised = same_as_rows(&s, "revisions");
    assert_eq!(total(&revised), 2);
    assert_eq!(case_ratings_match(dir.path(), "revisions"), 4);
    assert!(
        revised
            .iter()
            .any(|c| c.window_no.as_deref() == Some("A02") && c.level == 2 && c.n == 2),
        "{revised:?}"
    );
    // An upheld appeal takes its rating out of every figure.
    apply(
        &mut s,
        &[appeal("AP-B2", "B2", "2026-11-01T10:00:00+08:00")],
    );
    act(
        &mut s,
        "B2",
        Action::DecideAppeal {
            upheld: true,
            note: "成立".into(),
        },
        "2026-11-02T09:00:00+08:00",
    );
    let excluded = same_as_rows(&s, "appeal upheld");
    assert_eq!(total(&excluded), 1);
    case_ratings_match(dir.path(), "appeal upheld");
    // Callbacks: one unanswered, then one answered, on a case explained.
    act(
        &mut s,
        "N1",
        Action::Verify {
            outcome: VerifyOutcome::NoLegalBasis,
            note: "已解释".into(),
        },
        "2026-11-02T09:00:00+08:00",
    );
    for (result, when) in [
        (CallbackResult::Unreachable, "2026-11-03T09:00:00+08:00"),
        (
            CallbackResult::BasicallySatisfied,
            "2026-11-04T09:00:00+08:00",
        ),
    ] {
        act(
            &mut s,
            "N1",
            Action::Callback {
                result,
                note: "回访".into(),
            },
            when,
        );
        case_ratings_match(dir.path(), "a callback");
    }
    let n1 = rusqlite::Connection::open(dir.path().join("hcp.db"))
        .unwrap()
        .query_row(
            "SELECT callback_outcomes FROM cases WHERE evaluation_id = 'N1'",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap();
    assert_eq!(n1, "unreachable,basically_satisfied");
    // The report reads the same figures.
    let now: DateTime<Utc> = "2026-11-23T00:00:00Z".parse().unwrap();
    let r = build(&s, "2026-10", Some(HALL), ReportSettings::default(), now).unwrap();
    assert_eq!(r.overall.evaluations, 1);
    assert_eq!(r.overall.levels, [0, 1, 0, 0, 0]);
    // A case stored before its rating (a hub replica may receive it first), then
    // the rating, revised: the case row follows.
    {
        let db = rusqlite::Connection::open(dir.path().join("hcp.db")).unwrap();
        db.execute(
            "INSERT INTO cases (hall_id, evaluation_id, state, body, evaluated_at, opened_at,
                updated_at) VALUES (?1, 'R1', 'open', '{}', '2026-10-09T01:00:00Z',
                '2026-10-09T01:00:00Z', '2026-10-09T01:00:00Z')",
            [HALL],
        )
        .unwrap();
    }
    case_ratings_match(dir.path(), "a case before its rating");
    apply(
        &mut s,
        &[ev(
            "R1",
            3,
            2,
            "revised",
            "2026-10-09T09:00:00+08:00",
            "A01",
        )],
    );
    case_ratings_match(dir.path(), "the rating after its case");
    apply(
        &mut s,
        &[ev(
            "R1",
            4,
            1,
            "revised",
            "2026-10-09T09:00:00+08:00",
            "A01",
        )],
    );
    case_ratings_match(dir.path(), "the rating revised");
    // A hall removed takes its groups along.
    assert!(s.remove_hall(HALL, OFFICER).unwrap());
    assert!(
        s.report_level_counts(None, OCT.0, OCT.1)
            .unwrap()
            .is_empty()
    );
}

#[test]
fn the_overdue_list_is_the_longest_overdue_and_every_one_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path());
    let n = OVERDUE_LISTED + 7;
    // One bad rating a day-and-a-bit apart from 2026-06-01: all overdue by late
    // November, the first the longest.
    let start: DateTime<Utc> = "2026-06-01T01:00:00Z".parse().unwrap();
    let changes: Vec<(String, String)> = (0..n)
        .map(|i| {
            let when = (start + chrono::Duration::minutes(i as i64 * 700))
                .with_timezone(&hcp_core::metrics::beijing())
                .to_rfc3339();
            ev(&format!("B{i:03}"), 1, 2, "valid", &when, "A01")
        })
        .collect();
    apply(&mut s, &changes);
    let now: DateTime<Utc> = "2026-11-23T00:00:00Z".parse().unwrap();
    let r = build(&s, "2026-11", None, ReportSettings::default(), now).unwrap();
    assert_eq!(r.overall.overdue, n as i64);
    assert_eq!(r.overdue.len(), OVERDUE_LISTED);
    assert_eq!(r.overdue[0].evaluation_id, "B000");
    let deadlines: Vec<&str> = r
        .overdue
        .iter()
        .map(|l| l.deadline.as_deref().unwrap())
        .collect();
    assert!(deadlines.windows(2).all(|w| w[0] <= w[1]), "{deadlines:?}");
    assert!(r.overdue.iter().all(|l| l.overdue));
    assert_eq!(r.overdue_by_hall.len(), 1);
    let h = &r.overdue_by_hall[0];
    assert_eq!(
        (h.hall_id.as_str(), h.hall.as_str(), h.overdue),
        (HALL, "太湖县政务服务中心", n as i64)
    );
    // Its current deadline (核实, one working day), not the rectification's.
    assert_eq!(h.earliest_due, "2026-06-02");
    // The draft's workbook lists every one; the model's lists the first and says so.
    let full = full_lists(&s, &r).unwrap();
    let all = &full.overdue;
    assert_eq!(all.len(), n);
    assert_eq!(all[..OVERDUE_LISTED], r.overdue[..]);
    use calamine::{Reader, Xlsx};
    let sheet = |bytes: Vec<u8>| {
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        let rows: Vec<Vec<String>> = wb
            .worksheet_range("超期清单")
            .unwrap()
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect())
            .collect();
        let by_hall = wb.worksheet_range("超期分布").unwrap();
        (rows, by_hall.rows().count())
    };
    let (full, halls) = sheet(hcp_report::xlsx::to_xlsx_full(&r, &full).unwrap());
    assert_eq!(full.len(), n + 1);
    assert_eq!(halls, 2);
    let (listed, _) = sheet(hcp_report::xlsx::to_xlsx(&r).unwrap());
    assert_eq!(
        listed.len(),
        OVERDUE_LISTED + 3,
        "header, rows, a blank, the note"
    );
    assert!(
        listed.last().unwrap()[0].contains(&format!("共 {n} 件")),
        "{:?}",
        listed.last()
    );
    // The longest overdue revised to 满意 closes its case: the count and the list move.
    let first_at = (start)
        .with_timezone(&hcp_core::metrics::beijing())
        .to_rfc3339();
    apply(&mut s, &[ev("B000", 2, 5, "revised", &first_at, "A01")]);
    let after = build(&s, "2026-11", None, ReportSettings::default(), now).unwrap();
    assert_eq!(after.overall.overdue, n as i64 - 1);
    assert_eq!(after.overdue[0].evaluation_id, "B001");
    assert_eq!(after.overdue_by_hall[0].overdue, n as i64 - 1);
}

#[test]
fn a_report_while_another_connection_writes_counts_from_the_rows() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path());
    apply(
        &mut s,
        &[
            ev("G1", 1, 5, "valid", "2026-10-02T09:00:00+08:00", "A01"),
            ev("B1", 1, 1, "valid", "2026-10-08T09:00:00+08:00", "A02"),
        ],
    );
    same_as_rows(&s, "first sync");
    apply(
        &mut s,
        &[ev(
            "G1",
            2,
            2,
            "revised",
            "2026-10-02T09:00:00+08:00",
            "A01",
        )],
    );
    // A sync holds the write lock: the month the revision marked cannot be rebuilt
    // now, and the figures are counted from the rows, correct all the same.
    let sync = rusqlite::Connection::open(dir.path().join("hcp.db")).unwrap();
    sync.execute_batch("BEGIN IMMEDIATE").unwrap();
    let started = std::time::Instant::now();
    let busy = sorted(s.report_level_counts(Some(HALL), OCT.0, OCT.1).unwrap());
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let rows = sorted(
        s.report_level_counts(Some(HALL), OCT_BY_ROWS.0, OCT_BY_ROWS.1)
            .unwrap(),
    );
    assert_eq!(busy, rows);
    assert_eq!(
        busy.iter()
            .filter(|c| c.level <= 2)
            .map(|c| c.n)
            .sum::<i64>(),
        2
    );
    sync.execute_batch("ROLLBACK").unwrap();
    // Once the lock is free the month is rebuilt and reads the same.
    same_as_rows(&s, "after the sync let go");
}

#[test]
fn the_ledger_lists_the_first_cases_and_every_one_is_counted() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path());
    let n = LEDGER_LISTED + 23;
    // Bad ratings half an hour apart from October 1st, every third 非常不满意;
    // every 50th revised to 满意 later (its case closes).
    let start: DateTime<Utc> = "2026-09-30T16:30:00Z".parse().unwrap();
    let when = |i: usize| {
        (start + chrono::Duration::minutes(i as i64 * 30))
            .with_timezone(&hcp_core::metrics::beijing())
            .to_rfc3339()
    };
    let level = |i: usize| if i.is_multiple_of(3) { 1 } else { 2 };
    let mut changes: Vec<(String, String)> = (0..n)
        .map(|i| ev(&format!("L{i:04}"), 1, level(i), "valid", &when(i), "A01"))
        .collect();
    changes.extend(
        (0..n)
            .step_by(50)
            .map(|i| ev(&format!("L{i:04}"), 2, 5, "revised", &when(i), "A01")),
    );
    apply(&mut s, &changes);
    let now: DateTime<Utc> = "2026-11-03T00:00:00Z".parse().unwrap();
    let r = build(&s, "2026-10", None, ReportSettings::default(), now).unwrap();
    let full = full_lists(&s, &r).unwrap();
    assert_eq!(full.ledger.len(), n);
    assert_eq!(r.ledger.len(), LEDGER_LISTED);
    assert_eq!(full.ledger[..LEDGER_LISTED], r.ledger[..]);
    assert_eq!(r.ledger[0].evaluation_id, "L0000");
    // Counted whole, as the full list counts.
    let count = |f: &dyn Fn(&LedgerRow) -> bool| full.ledger.iter().filter(|l| f(l)).count() as i64;
    let overdue = count(&|l| l.overdue);
    assert!(overdue > 900 && overdue <= n as i64 - 21, "{overdue}");
    assert_eq!(
        (
            r.ledger_summary.total,
            r.ledger_summary.closed,
            r.ledger_summary.overdue
        ),
        (n as i64, 21, overdue)
    );
    assert_eq!(count(&LedgerRow::is_closed), 21);
    // 典型案例 by default: the period's overdue cases, severest first, then the
    // latest — picked over the whole ledger, not the listed part.
    let mut expected: Vec<&LedgerRow> = full.ledger.iter().filter(|l| l.overdue).collect();
    expected.sort_by(|a, b| {
        a.level
            .cmp(&b.level)
            .then(b.evaluated_at.cmp(&a.evaluated_at))
    });
    let ids = |v: Vec<&LedgerRow>| v.iter().map(|l| l.case_id).take(3).collect::<Vec<_>>();
    assert_eq!(ids(r.typical_cases.iter().collect()), ids(expected));
    assert!(
        r.typical_cases[0].evaluation_id > r.ledger.last().unwrap().evaluation_id,
        "the latest severe overdue case lies beyond the listed part"
    );
    // A report issued before the summary was kept counts from its (whole) list.
    let mut old = r.clone();
    old.ledger_summary = Default::default();
    old.ledger = full.ledger.clone();
    assert_eq!(old.ledger_counts(), r.ledger_summary);
    // The 公示 counts every case and lists the model's.
    let public = hcp_report::publish::public_report(&r, &|h| h.to_owned(), None);
    assert_eq!(public.cases_summary, r.ledger_summary);
    assert_eq!(public.cases.len(), LEDGER_LISTED);
    // The draft's workbook lists every case; the issued one the model's and says so.
    use calamine::{Reader, Xlsx};
    let rows = |bytes: Vec<u8>| {
        let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
        wb.worksheet_range("差评整改台账")
            .unwrap()
            .rows()
            .map(|r| r.iter().map(|c| c.to_string()).collect::<Vec<_>>())
            .collect::<Vec<_>>()
    };
    assert_eq!(
        rows(hcp_report::xlsx::to_xlsx_full(&r, &full).unwrap()).len(),
        n + 1
    );
    let listed = rows(hcp_report::xlsx::to_xlsx(&r).unwrap());
    assert_eq!(
        listed.len(),
        LEDGER_LISTED + 3,
        "header, rows, a blank, the note"
    );
    assert!(listed.last().unwrap()[0].contains(&format!("共 {n} 件")));
}

/// A desk of the previous release (schema 28: callbacks read from the audit log)
/// upgraded in place reports exactly what it reported before.
#[test]
fn a_cache_from_before_the_kept_callbacks_upgrades_to_the_same_report() {
    let dir = tempfile::tempdir().unwrap();
    let mut s = open(dir.path());
    apply(
        &mut s,
        &[
            ev("B1", 1, 1, "valid", "2026-10-08T09:00:00+08:00", "A01"),
            ev("B2", 1, 2, "valid", "2026-10-09T09:00:00+08:00", "A02"),
            ev("B3", 1, 1, "valid", "2026-10-12T09:00:00+08:00", "A01"),
        ],
    );
    for eval in ["B1", "B2"] {
        act(
            &mut s,
            eval,
            Action::Verify {
                outcome: VerifyOutcome::NoLegalBasis,
                note: "已解释".into(),
            },
            "2026-10-13T09:00:00+08:00",
        );
    }
    let calls = [
        (
            "B1",
            CallbackResult::Unreachable,
            "2026-10-14T09:00:00+08:00",
        ),
        ("B1", CallbackResult::Satisfied, "2026-10-15T09:00:00+08:00"),
        (
            "B2",
            CallbackResult::Unreachable,
            "2026-10-14T10:00:00+08:00",
        ),
    ];
    for (eval, result, when) in calls {
        let note = "回访".to_string();
        act(&mut s, eval, Action::Callback { result, note }, when);
    }
    let now: DateTime<Utc> = "2026-11-23T00:00:00Z".parse().unwrap();
    let report = |s: &Store| build(s, "2026-10", None, ReportSettings::default(), now).unwrap();
    let r = report(&s);
    let callbacks: Vec<&str> = r.ledger.iter().map(|l| l.callback.as_str()).collect();
    assert_eq!(callbacks, ["满意", "联系不上", "—"], "{callbacks:?}");
    let before = hcp_report::to_json(&r).unwrap();
    drop(s);
    {
        let db = rusqlite::Connection::open(dir.path().join("hcp.db")).unwrap();
        db.execute_batch(
            "DROP TRIGGER cases_callback_outcomes;
             DROP INDEX cases_report_facts;
             ALTER TABLE cases DROP COLUMN callback_outcomes;
             CREATE INDEX cases_report_facts ON cases (evaluated_at, hall_id, kind, case_id,
                 evaluation_id, state, due_at, rating_level, rating_valid, paused_working_days,
                 acted_closed_at);
             PRAGMA user_version = 28;",
        )
        .unwrap();
    }
    let s = Store::open(dir.path().join("hcp.db")).unwrap();
    assert_eq!(s.schema_version().unwrap(), 29);
    case_ratings_match(dir.path(), "upgraded");
    assert_eq!(hcp_report::to_json(&report(&s)).unwrap(), before);
}
