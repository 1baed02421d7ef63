//! Quarterly and yearly reports on a hand-built year in a real SQLite file: every
//! figure worked out by hand from the rules (docs/domain.md), with the quarter
//! edges at +08:00, an appeal filed and upheld in a later quarter than its rating,
//! and a rating revised across a quarter boundary.

mod common;

use chrono::{DateTime, Utc};
use common::*;
use hcp_core::case::{Action, CallbackResult, VerifyOutcome};
use hcp_report::{MonthlyReport, ReportSettings, build};
use hcp_store::Store;

/// Hall 340825, 2026 (all +08:00; working days from the 2026 calendar):
/// - Y0 1 A01 2025-12-31 23:59:59: last year; open. Verify due 01-04 (Sunday, a
///   make-up workday), rectification due 01-22.
/// - Y1 5 A01 01-05.
/// - Y2 2 A02 03-31 23:59 (Q1's last minute): verified, rectified, accepted, callback
///   satisfied 04-09; rectification due 04-22 (清明 04-04..06 off) → on time.
/// - Y3 4 A01 04-01 00:01 (Q2's first minute).
/// - Y4 1 A01 06-30 23:30 (Q2): open. Verify due 07-01, rectification due 07-21.
/// - Y5 3 A02 07-01 00:30 (Q3; still June 30 in UTC).
/// - Y8 2 A01 08-10: verified, rectified, accepted, satisfied 08-21; due 08-31.
/// - Y6 1 A01 09-30 10:00 (Q3): appeal filed 10-08, upheld 10-12 (Q4) → counts
///   nowhere; the appeal is Q4's.
/// - Y7 1 A02 09-30 20:00 (Q3), revised to 4 on a later page (in October): counts as
///   a 4 in September; its case closes as revised.
/// - Y9 2 A02 10-01 00:00 (Q4's first instant, a holiday): verified 10-08,
///   rectified, accepted, basically satisfied 10-16; rectification due 10-27
///   (国庆 10-01..07 off, 10-10 a make-up Saturday).
/// - Y10 5 A01 12-31 23:59 (the year's last minute).
/// - Y11 1 A01 2027-01-01 00:00: next year.
fn year(dir: &std::path::Path) -> Store {
    let mut s = open(dir);
    apply(
        &mut s,
        &[
            ev("Y0", 1, 1, "valid", "2025-12-31T23:59:59+08:00", "A01"),
            ev("Y1", 1, 5, "valid", "2026-01-05T09:00:00+08:00", "A01"),
            ev("Y2", 1, 2, "valid", "2026-03-31T23:59:00+08:00", "A02"),
            ev("Y3", 1, 4, "valid", "2026-04-01T00:01:00+08:00", "A01"),
            ev("Y4", 1, 1, "valid", "2026-06-30T23:30:00+08:00", "A01"),
            ev("Y5", 1, 3, "valid", "2026-07-01T00:30:00+08:00", "A02"),
            ev("Y8", 1, 2, "valid", "2026-08-10T09:00:00+08:00", "A01"),
            ev("Y6", 1, 1, "valid", "2026-09-30T10:00:00+08:00", "A01"),
            ev("Y7", 1, 1, "valid", "2026-09-30T20:00:00+08:00", "A02"),
            ev("Y9", 1, 2, "valid", "2026-10-01T00:00:00+08:00", "A02"),
            ev("Y10", 1, 5, "valid", "2026-12-31T23:59:00+08:00", "A01"),
            ev("Y11", 1, 1, "valid", "2027-01-01T00:00:00+08:00", "A01"),
        ],
    );
    let verify = || Action::Verify {
        outcome: VerifyOutcome::True,
        note: "属实".into(),
    };
    let cb = |r: CallbackResult| Action::Callback {
        result: r,
        note: "回访".into(),
    };
    // Y2: closed 04-09.
    act(&mut s, "Y2", verify(), "2026-04-01T09:00:00+08:00");
    apply(&mut s, &[rect("Y2", "2026-04-08T09:00:00+08:00")]);
    act(
        &mut s,
        "Y2",
        Action::AcceptRectification,
        "2026-04-09T09:00:00+08:00",
    );
    act(
        &mut s,
        "Y2",
        cb(CallbackResult::Satisfied),
        "2026-04-09T10:00:00+08:00",
    );
    // Y8: closed 08-21.
    act(&mut s, "Y8", verify(), "2026-08-11T09:00:00+08:00");
    apply(&mut s, &[rect("Y8", "2026-08-20T09:00:00+08:00")]);
    act(
        &mut s,
        "Y8",
        Action::AcceptRectification,
        "2026-08-21T09:00:00+08:00",
    );
    act(
        &mut s,
        "Y8",
        cb(CallbackResult::Satisfied),
        "2026-08-21T10:00:00+08:00",
    );
    // Y7 revised to 4 and Y6 appealed, both in October.
    apply(
        &mut s,
        &[
            ev("Y7", 2, 4, "revised", "2026-09-30T20:00:00+08:00", "A02"),
            appeal("AP-Y6", "Y6", "2026-10-08T09:00:00+08:00"),
        ],
    );
    act(
        &mut s,
        "Y6",
        Action::DecideAppeal {
            upheld: true,
            note: "成立".into(),
        },
        "2026-10-12T09:00:00+08:00",
    );
    // Y9: closed 10-16.
    act(&mut s, "Y9", verify(), "2026-10-08T09:00:00+08:00");
    apply(&mut s, &[rect("Y9", "2026-10-15T09:00:00+08:00")]);
    act(
        &mut s,
        "Y9",
        Action::AcceptRectification,
        "2026-10-16T09:00:00+08:00",
    );
    act(
        &mut s,
        "Y9",
        cb(CallbackResult::BasicallySatisfied),
        "2026-10-16T10:00:00+08:00",
    );
    s
}

fn now() -> DateTime<Utc> {
    "2027-01-10T00:00:00Z".parse().unwrap()
}

fn report(s: &Store, period: &str) -> MonthlyReport {
    build(s, period, Some(HALL), ReportSettings::default(), now()).unwrap()
}

fn pair(r: &hcp_core::metrics::RateView) -> (i64, i64) {
    (r.numerator, r.denominator)
}

#[test]
fn the_third_quarter_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let s = year(dir.path());
    let r = report(&s, "2026-Q3");
    assert_eq!(r.title, "2026年第三季度政务服务“好差评”情况通报");
    assert_eq!(
        (r.kind.as_str(), r.month.as_str()),
        ("quarterly", "2026-Q3")
    );
    assert_eq!(
        (r.current_name.as_str(), r.previous_name.as_str()),
        ("本季度", "上季度")
    );
    assert_eq!(r.period, ("2026-07-01".into(), "2026-09-30".into()));
    // Beijing midnight of 1 October: the cut-off of a past quarter.
    assert_eq!(r.cutoff, "2026-09-30T16:00:00Z");
    let o = &r.overall;
    // Y5 (3, 07-01 00:30 is Q3 though June in UTC), Y8 (2), Y7 (revised: 4).
    // Y6 does not count (upheld, though decided in Q4); Y4 (06-30 23:30) is Q2's,
    // Y9 (10-01 00:00) Q4's.
    assert_eq!(o.evaluations, 3);
    assert_eq!(o.levels, [0, 1, 1, 1, 0]);
    assert_eq!(pair(&o.good_rate), (2, 3));
    assert_eq!(o.good_rate.display, "66.67%");
    assert_eq!((o.bad, o.bad_rate.display.as_str()), (1, "33.33%"));
    // (3 + 2 + 4) / 3 = 3.00
    assert_eq!(o.mean_score.display, "3.00");
    // Valid bad: Y8 only (Y7 is a 4 now, Y6 upheld); closed.
    assert_eq!(pair(&o.rectification_rate), (1, 1));
    assert_eq!(pair(&o.callback_rate), (1, 1));
    assert_eq!(pair(&o.callback_satisfaction), (1, 1));
    // Rectification deadlines in Q3: Y4 (07-21, still open) and Y8 (08-31, closed
    // 08-21). Y6 (appealed) and Y7 (revised) need none.
    assert_eq!(pair(&o.on_time_rate), (1, 2));
    assert_eq!(o.on_time_rate.display, "50.00%");
    // AP-Y6 was filed 10-08: Q4's, not Q3's.
    assert_eq!(o.appeals, 0);
    assert_eq!(o.appeal_upheld_rate.display, "—");
    // Open at 10-01 00:00 past their deadline: Y0 (due 01-04), Y4 (due 07-01).
    assert_eq!(o.overdue, 2);
    // Q2 before it: Y3 (4) and Y4 (1).
    assert_eq!(r.previous.evaluations, 2);
    assert_eq!(r.previous.levels, [1, 0, 0, 1, 0]);
    // Q2's cut-off (07-01 00:00) comes before Y4's verify deadline (07-01 23:59:59).
    assert_eq!(r.previous.overdue, 1);
    // Month by month.
    let t: Vec<(&str, &str, i64, i64)> = r
        .trend
        .iter()
        .map(|t| {
            (
                t.month.as_str(),
                t.label.as_str(),
                t.metrics.evaluations,
                t.metrics.bad,
            )
        })
        .collect();
    assert_eq!(
        t,
        [
            ("2026-07", "7月", 1, 0),
            ("2026-08", "8月", 1, 1),
            ("2026-09", "9月", 1, 0)
        ]
    );
    // 超期 as of each month's end: Y0 and Y4 (due 07-01) from July on.
    assert!(r.trend.iter().all(|t| t.metrics.overdue == 2));
    // The ledger lists the quarter's bad ratings' cases, whatever became of them.
    let mut ledger: Vec<(&str, &str)> = r
        .ledger
        .iter()
        .map(|l| (l.evaluation_id.as_str(), l.state.as_str()))
        .collect();
    ledger.sort();
    assert_eq!(
        ledger,
        [
            ("Y6", "申诉成立"),
            ("Y7", "评价人已改评/撤评"),
            ("Y8", "已办结")
        ]
    );
    assert!(r.appeals.is_empty());
    assert_eq!(r.daily_bad.len(), 92);
    assert_eq!(r.daily_bad.iter().map(|d| d.1).sum::<i64>(), 1);
}

#[test]
fn the_fourth_quarter_counts_the_late_appeal() {
    let dir = tempfile::tempdir().unwrap();
    let s = year(dir.path());
    let r = report(&s, "2026-Q4");
    assert_eq!(r.title, "2026年第四季度政务服务“好差评”情况通报");
    assert_eq!(r.period, ("2026-10-01".into(), "2026-12-31".into()));
    let o = &r.overall;
    // Y9 (2, 10-01 00:00), Y10 (5, 12-31 23:59); Y11 is 2027's.
    assert_eq!(o.evaluations, 2);
    assert_eq!(o.levels, [0, 1, 0, 0, 1]);
    assert_eq!(o.good_rate.display, "50.00%");
    assert_eq!(o.mean_score.display, "3.50");
    assert_eq!(pair(&o.rectification_rate), (1, 1));
    // Y9's rectification due 10-27, closed 10-16.
    assert_eq!(pair(&o.on_time_rate), (1, 1));
    assert_eq!(pair(&o.callback_satisfaction), (1, 1));
    // The appeal on Q3's Y6, filed and upheld in Q4.
    assert_eq!(o.appeals, 1);
    assert_eq!(pair(&o.appeal_upheld_rate), (1, 1));
    assert_eq!(r.appeals[0].evaluation_id, "Y6");
    assert_eq!(r.appeals[0].verdict, "申诉成立");
    assert_eq!(o.overdue, 2);
    // Q3 before it.
    assert_eq!(r.previous.evaluations, 3);
    assert_eq!(
        r.trend.iter().map(|t| t.label.as_str()).collect::<Vec<_>>(),
        ["10月", "11月", "12月"]
    );
    assert_eq!(r.trend[0].metrics.appeals, 1);
    assert_eq!(
        r.ledger
            .iter()
            .map(|l| l.evaluation_id.as_str())
            .collect::<Vec<_>>(),
        ["Y9"]
    );
}

#[test]
fn the_year_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let s = year(dir.path());
    let settings = ReportSettings {
        min_evaluations: 1,
        ..ReportSettings::default()
    };
    let r = build(&s, "2026", Some(HALL), settings, now()).unwrap();
    assert_eq!(r.title, "2026年度政务服务“好差评”情况通报");
    assert_eq!((r.kind.as_str(), r.month.as_str()), ("yearly", "2026"));
    assert_eq!(r.previous_name, "上年度");
    assert_eq!(r.period, ("2026-01-01".into(), "2026-12-31".into()));
    assert_eq!(r.cutoff, "2026-12-31T16:00:00Z");
    let o = &r.overall;
    // Y1 5, Y2 2, Y3 4, Y4 1, Y5 3, Y8 2, Y7 4, Y9 2, Y10 5; not Y6, Y0, Y11.
    assert_eq!(o.evaluations, 9);
    assert_eq!(o.levels, [1, 3, 1, 2, 2]);
    assert_eq!(o.good_rate.display, "55.56%");
    assert_eq!((o.bad, o.bad_rate.display.as_str()), (4, "44.44%"));
    // 28 / 9 = 3.111…
    assert_eq!(
        (o.mean_score.sum, o.mean_score.display.as_str()),
        (28, "3.11")
    );
    // Valid bad: Y2, Y4, Y8, Y9; all closed but Y4.
    assert_eq!(pair(&o.rectification_rate), (3, 4));
    assert_eq!(o.rectification_rate.display, "75.00%");
    assert_eq!(pair(&o.callback_rate), (3, 4));
    assert_eq!(pair(&o.callback_satisfaction), (3, 3));
    // Deadlines in 2026: Y0 (01-22, open), Y2 (04-22), Y4 (07-21, open), Y8
    // (08-31), Y9 (10-27).
    assert_eq!(pair(&o.on_time_rate), (3, 5));
    assert_eq!(o.on_time_rate.display, "60.00%");
    assert_eq!(o.appeals, 1);
    assert_eq!(o.overdue, 2);
    // 2025: Y0 alone.
    assert_eq!(r.previous.evaluations, 1);
    assert_eq!(r.previous.bad, 1);
    // Twelve months, every rating in its Beijing month.
    let per_month: Vec<(i64, i64)> = r
        .trend
        .iter()
        .map(|t| (t.metrics.evaluations, t.metrics.bad))
        .collect();
    assert_eq!(
        per_month,
        [
            (1, 0), // Y1
            (0, 0),
            (1, 1), // Y2 at 03-31 23:59
            (1, 0), // Y3 at 04-01 00:01
            (0, 0),
            (1, 1), // Y4
            (1, 0), // Y5
            (1, 1), // Y8
            (1, 0), // Y7 as revised; Y6 upheld
            (1, 1), // Y9
            (0, 0),
            (1, 0), // Y10
        ]
    );
    // The months' counts add up to the year's.
    let sum: i64 = r.trend.iter().map(|t| t.metrics.evaluations).sum();
    assert_eq!(sum, o.evaluations);
    // Overdue at each month's end: Y0 from January (due 01-04), Y4 from July.
    let overdue: Vec<i64> = r.trend.iter().map(|t| t.metrics.overdue).collect();
    assert_eq!(overdue, [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2]);
    assert_eq!(r.trend[9].metrics.appeals, 1);
    // 红黑榜 over the year: A01 3 good of 5 (Y1 Y3 Y10 / Y4 Y8), A02 2 of 4.
    let red: Vec<(&str, i64, i64)> = r
        .red_list
        .iter()
        .map(|w| (w.code.as_deref().unwrap(), w.good, w.evaluations))
        .collect();
    assert_eq!(red, [("A01", 3, 5), ("A02", 2, 4)]);
    assert_eq!(r.black_list[0].code.as_deref(), Some("A02"));
    assert_eq!(r.daily_bad.len(), 365);
    assert_eq!(r.daily_bad.iter().map(|d| d.1).sum::<i64>(), 4);
    // The first quarter ends at 03-31 24:00 Beijing: Y1 and Y2.
    let q1 = report(&s, "2026-Q1");
    assert_eq!(q1.overall.evaluations, 2);
    assert_eq!(q1.previous.evaluations, 1, "2025-Q4 holds Y0");
    let q2 = report(&s, "2026-Q2");
    assert_eq!(q2.overall.levels, [1, 0, 0, 1, 0]);
}

#[test]
fn a_year_in_progress_stops_its_trend_at_the_cut_off_and_outputs_carry_the_trend() {
    let dir = tempfile::tempdir().unwrap();
    let s = year(dir.path());
    // As of 2026-08-15: the year's trend runs January to August.
    let mid: DateTime<Utc> = "2026-08-15T04:00:00Z".parse().unwrap();
    let r = build(&s, "2026", Some(HALL), ReportSettings::default(), mid).unwrap();
    assert_eq!(r.trend.len(), 8);
    assert_eq!(r.cutoff, "2026-08-15T04:00:00Z");
    // The workbook has the trend sheet with the same figures.
    use calamine::{DataType, Reader, Xlsx};
    let full = report(&s, "2026");
    let bytes = hcp_report::xlsx::to_xlsx(&full).unwrap();
    let mut wb: Xlsx<_> = Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let trend = wb.worksheet_range("各月趋势").unwrap();
    let rows: Vec<(String, f64)> = trend
        .rows()
        .skip(1)
        .map(|r| (r[0].to_string(), r[1].get_float().unwrap()))
        .collect();
    assert_eq!(rows.len(), 12);
    assert_eq!(rows[2], ("2026-03".to_string(), 1.0));
    assert_eq!(rows[10], ("2026-11".to_string(), 0.0));
    let overall = wb.worksheet_range("总体情况").unwrap();
    let head: Vec<String> = overall
        .rows()
        .next()
        .unwrap()
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert_eq!(head[1], "本年度");
    assert_eq!(head[4], "上年度");
    // A monthly report has no trend; bad periods are refused in zh-CN.
    assert!(report(&s, "2026-10").trend.is_empty());
    for bad in ["2026-Q5", "2026-13", "26"] {
        let e = build(&s, bad, None, ReportSettings::default(), now()).unwrap_err();
        assert!(e.to_string().contains("统计期间"), "{bad}: {e}");
    }
}
