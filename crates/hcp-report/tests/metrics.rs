//! The report's metrics on small hand-built fixtures in a real SQLite file: every
//! figure checked against DOMAIN.md by hand.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use hcp_core::case::{Action, CallbackResult, VerifyOutcome};
use hcp_report::{ReportSettings, build};
use hcp_store::Store;

/// October 2026, hall 340825 (all +08:00):
/// - G1 5 A01, G2 4 A01, G3 3 A02 (good)
/// - B1 1 A01 on 10-08: verified, rectified, accepted, callback satisfied on 10-20 (on time: due 10-29)
/// - B2 2 A02 on 10-09: verified, rectified, accepted, unreachable ×3 on 11-05 (closed after its
///   deadline 10-30)
/// - B3 2 A01 on 10-12: appeal upheld → excluded everywhere
/// - B4 2 A02 on 10-31T23:30 (still October): open, nothing done
/// - R1 2→4 revised (counts as good), W1 1 withdrawn (not counted)
/// - N1 2 on 11-01T00:10 (November)
/// - B5 1 on 09-30 (September): callback dissatisfied, reopened, dissatisfied → escalated
fn fixture(dir: &std::path::Path) -> Store {
    let mut s = open(dir);
    apply(
        &mut s,
        &[
            ev("B5", 1, 1, "valid", "2026-09-30T10:00:00+08:00", "A01"),
            ev("G1", 1, 5, "valid", "2026-10-02T09:00:00+08:00", "A01"),
            ev("G2", 1, 4, "valid", "2026-10-03T09:00:00+08:00", "A01"),
            ev("G3", 1, 3, "valid", "2026-10-05T09:00:00+08:00", "A02"),
            ev("B1", 1, 1, "valid", "2026-10-08T09:00:00+08:00", "A01"),
            ev("B2", 1, 2, "valid", "2026-10-09T09:00:00+08:00", "A02"),
            ev("B3", 1, 2, "valid", "2026-10-12T09:00:00+08:00", "A01"),
            ev("B4", 1, 2, "valid", "2026-10-31T23:30:00+08:00", "A02"),
            ev("R1", 1, 2, "valid", "2026-10-15T09:00:00+08:00", "A02"),
            ev("W1", 1, 1, "valid", "2026-10-16T09:00:00+08:00", "A01"),
            ev("N1", 1, 2, "valid", "2026-11-01T00:10:00+08:00", "A01"),
            ev("B6", 1, 2, "valid", "2026-10-20T09:00:00+08:00", "A01"),
        ],
    );
    apply(
        &mut s,
        &[
            ev("R1", 2, 4, "revised", "2026-10-15T09:00:00+08:00", "A02"),
            ev("W1", 2, 1, "withdrawn", "2026-10-16T09:00:00+08:00", "A01"),
            appeal("AP-B3", "B3", "2026-10-13T10:00:00+08:00"),
        ],
    );
    let verify = || Action::Verify {
        outcome: VerifyOutcome::True,
        note: "属实".into(),
    };
    act(&mut s, "B1", verify(), "2026-10-09T09:00:00+08:00");
    act(&mut s, "B2", verify(), "2026-10-10T09:00:00+08:00");
    act(&mut s, "B5", verify(), "2026-10-08T09:00:00+08:00");
    act(&mut s, "B6", verify(), "2026-10-21T09:00:00+08:00");
    act(
        &mut s,
        "B3",
        Action::DecideAppeal {
            upheld: true,
            note: "成立".into(),
        },
        "2026-10-15T09:00:00+08:00",
    );
    apply(
        &mut s,
        &[
            rect("B1", "2026-10-15T09:00:00+08:00"),
            rect("B2", "2026-10-16T09:00:00+08:00"),
            rect("B5", "2026-10-09T09:00:00+08:00"),
            rect("B6", "2026-10-21T15:00:00+08:00"),
        ],
    );
    act(
        &mut s,
        "B1",
        Action::AcceptRectification,
        "2026-10-19T09:00:00+08:00",
    );
    act(
        &mut s,
        "B2",
        Action::AcceptRectification,
        "2026-10-19T09:00:00+08:00",
    );
    act(
        &mut s,
        "B5",
        Action::AcceptRectification,
        "2026-10-10T09:00:00+08:00",
    );
    act(
        &mut s,
        "B6",
        Action::AcceptRectification,
        "2026-10-22T09:00:00+08:00",
    );
    let cb = |r: CallbackResult| Action::Callback {
        result: r,
        note: "回访".into(),
    };
    let basically = cb(CallbackResult::BasicallySatisfied);
    act(&mut s, "B6", basically, "2026-10-22T10:00:00+08:00");
    act(
        &mut s,
        "B1",
        cb(CallbackResult::Satisfied),
        "2026-10-20T09:00:00+08:00",
    );
    for _ in 0..3 {
        act(
            &mut s,
            "B2",
            cb(CallbackResult::Unreachable),
            "2026-11-05T09:00:00+08:00",
        );
    }
    act(
        &mut s,
        "B5",
        cb(CallbackResult::Dissatisfied),
        "2026-10-12T09:00:00+08:00",
    );
    apply(
        &mut s,
        &[(
            rect("B5", "2026-10-13T09:00:00+08:00").0,
            rect("B5", "2026-10-13T09:00:00+08:00")
                .1
                .replace("\"rev\":1", "\"rev\":2"),
        )],
    );
    act(
        &mut s,
        "B5",
        Action::AcceptRectification,
        "2026-10-14T09:00:00+08:00",
    );
    act(
        &mut s,
        "B5",
        cb(CallbackResult::Dissatisfied),
        "2026-10-15T09:00:00+08:00",
    );
    s
}

#[test]
fn october_metrics_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let s = fixture(dir.path());
    let now: DateTime<Utc> = "2026-11-23T00:00:00Z".parse().unwrap();
    let r = build(&s, "2026-10", Some(HALL), ReportSettings::default(), now).unwrap();
    let o = &r.overall;
    assert_eq!(r.title, "2026年10月政务服务“好差评”情况通报");
    // Valid: G1 G2 G3 B1 B2 B4 B6 R1(4) = 8; B3 excluded, W1 withdrawn, N1 November.
    assert_eq!(o.evaluations, 8);
    assert_eq!(o.levels, [1, 3, 1, 2, 1]);
    assert_eq!((o.good_rate.numerator, o.good_rate.denominator), (4, 8));
    assert_eq!(o.good_rate.display, "50.00%");
    assert_eq!((o.bad, o.bad_rate.display.as_str()), (4, "50.00%"));
    // (5 + 4 + 3 + 1 + 2 + 2 + 2 + 4) / 8 = 23 / 8 = 2.875 → 2.88 (half up)
    assert_eq!(o.mean_score.display, "2.88");
    // Month's valid bad: B1, B2, B6 (closed), B4 (open).
    let rr = &o.rectification_rate;
    assert_eq!((rr.numerator, rr.denominator), (3, 4));
    // Callbacks: B1 satisfied, B6 basically satisfied, B2 unreachable ×3 (no answer).
    assert_eq!(
        (o.callback_rate.numerator, o.callback_rate.denominator),
        (3, 4)
    );
    let cs = &o.callback_satisfaction;
    assert_eq!((cs.numerator, cs.denominator), (2, 2));
    // Rectification deadlines in October: B5 (09-30 + 15 → 10-28), B1 (10-08 → 10-29),
    // B2 (10-09 → 10-30); B6's falls in November. On time: B5 (closed 10-15), B1 (10-20);
    // B2 closed 11-05: late.
    assert_eq!(
        (o.on_time_rate.numerator, o.on_time_rate.denominator),
        (2, 3)
    );
    assert_eq!(o.appeals, 1);
    assert_eq!(o.appeal_upheld_rate.display, "100.00%");
    // At October's cut-off (10-31 24:00) B4's verification is due 11-02: not overdue.
    assert_eq!(o.overdue, 0);
    assert_eq!(
        o.visit_mean_score.display, "—",
        "no visits: a zero denominator"
    );
    // The month before: B5 only.
    assert_eq!(r.previous.evaluations, 1);
    assert_eq!(r.previous.callback_satisfaction.display, "0.00%");
    // Month edges at +08:00: B4 (10-31 23:30) in October, N1 (11-01 00:10) not.
    assert!(r.ledger.iter().any(|l| l.evaluation_id == "B4"));
    assert!(!r.ledger.iter().any(|l| l.evaluation_id == "N1"));
    let b2 = r.ledger.iter().find(|l| l.evaluation_id == "B2").unwrap();
    assert_eq!(
        (b2.state.as_str(), b2.callback.as_str()),
        ("已办结", "联系不上")
    );
    assert_eq!(b2.measures, "B2 已整改");
    // Per window and department from the profile names.
    let a01 = r
        .by_window
        .iter()
        .find(|w| w.code.as_deref() == Some("A01"))
        .unwrap();
    assert_eq!(
        (a01.name.as_str(), a01.evaluations, a01.bad),
        ("综合受理一号窗", 4, 2)
    );
    assert!(r.by_department.iter().any(|d| d.name == "人社局"));
    assert_eq!(r.daily_bad.len(), 31);
    let bad_total: i64 = r.daily_bad.iter().map(|d| d.1).sum();
    assert_eq!(bad_total, 4);
    assert_eq!(r.appeals[0].verdict, "申诉成立");
    // 典型案例: chosen by the officer, else the month's overdue.
    let b2 = case_of(&s, "B2");
    let chosen = build(
        &s,
        "2026-10",
        Some(HALL),
        ReportSettings {
            typical: vec![b2],
            ..ReportSettings::default()
        },
        now,
    )
    .unwrap();
    assert_eq!(chosen.typical_cases[0].evaluation_id, "B2");
    assert!(
        build(
            &s,
            "2026-10",
            Some(HALL),
            ReportSettings {
                typical: vec![9999],
                ..ReportSettings::default()
            },
            now
        )
        .is_err()
    );
    // November sees N1 and no more.
    let n = build(&s, "2026-11", Some(HALL), ReportSettings::default(), now).unwrap();
    assert_eq!(n.overall.evaluations, 1);
    assert_eq!(n.overall.good_rate.display, "0.00%");
    // November's cut-off is "now" (11-23): B4 and N1 were due 11-02 and are overdue.
    assert_eq!(n.overall.overdue, 2);
    assert_eq!(n.overdue.len(), 2);
    // An empty month: every rate "—".
    let e = build(&s, "2026-08", None, ReportSettings::default(), now).unwrap();
    assert_eq!(e.overall.evaluations, 0);
    assert_eq!(e.overall.good_rate.display, "—");
    assert_eq!(e.overall.mean_score.display, "—");
    assert!(build(&s, "2026-13", None, ReportSettings::default(), now).is_err());
}

#[test]
fn the_workbook_reads_back_with_the_json_figures() {
    use calamine::{DataType, Reader, Xlsx};
    let dir = tempfile::tempdir().unwrap();
    let s = fixture(dir.path());
    let now: DateTime<Utc> = "2026-11-23T00:00:00Z".parse().unwrap();
    let r = build(&s, "2026-10", Some(HALL), ReportSettings::default(), now).unwrap();
    let bytes = hcp_report::xlsx::to_xlsx(&r).unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    assert!(wb.sheet_names().contains(&"差评整改台账".to_string()));
    let overall = wb.worksheet_range("总体情况").unwrap();
    let row = |name: &str| {
        overall
            .rows()
            .find(|r| r[0] == name)
            .unwrap_or_else(|| panic!("no row {name}"))
            .to_vec()
    };
    assert_eq!(
        row("评价量")[1].to_string(),
        r.overall.evaluations.to_string()
    );
    let good = row("好评率");
    assert_eq!(good[2].to_string(), "4");
    assert_eq!(good[3].to_string(), "8");
    let v = good[1].get_float().unwrap();
    assert!((v - 0.5).abs() < 1e-9, "{v}");
    assert_eq!(row("综合评分")[1].get_float(), Some(2.88));
    let ledger = wb.worksheet_range("差评整改台账").unwrap();
    assert_eq!(ledger.rows().count(), r.ledger.len() + 1);
    assert_eq!(ledger.rows().next().unwrap()[0].to_string(), "工单号");
}
