//! The early-warning rules' tests.

use super::*;
use chrono::TimeZone;

fn at(day: u32, h: u32, m: u32, s: u32) -> DateTime<FixedOffset> {
    beijing()
        .with_ymd_and_hms(2026, 10, day, h, m, s)
        .unwrap()
        .fixed_offset()
}

fn rated<'a>(id: &'a str, level: u8, when: DateTime<FixedOffset>) -> Rated<'a> {
    Rated {
        id,
        hall_id: "340825-ZWFW",
        window_no: Some("A03"),
        staff_no: Some("1001"),
        item_code: None,
        department_code: Some("D01"),
        channel: Channel::WindowDevice,
        level,
        evaluated_at: when,
        served_at: None,
        serial_no: Some("340825-2026-0001000"),
        id_hash: None,
    }
}

fn d(day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 10, day).unwrap()
}

#[test]
fn the_poisson_tail_by_hand() {
    // λ = 0.6: P(X ≥ 4) = 1 − e^−0.6 (1 + 0.6 + 0.18 + 0.036) = 0.003358…
    assert!((poisson_tail(4, 0.6) - 0.003_358).abs() < 1e-5);
    // P(X ≥ 5) = that − e^−0.6 · 0.6⁴/24 = 0.000394…
    assert!((poisson_tail(5, 0.6) - 0.000_394).abs() < 1e-5);
    assert_eq!(poisson_tail(0, 3.0), 1.0);
}

#[test]
fn the_poisson_tail_of_a_whole_hall() {
    // A hall with 700 bad ratings a day: e^−700 alone underflows. The tail is
    // near one half at the mean, and about 1e-3 at 3.1 standard deviations.
    let lambda = 700.0;
    let at_mean = poisson_tail(700, lambda);
    assert!((0.45..0.56).contains(&at_mean), "{at_mean}");
    let sd = lambda.sqrt();
    let far = poisson_tail((lambda + 3.1 * sd) as u32, lambda);
    assert!((2e-4..3e-3).contains(&far), "{far}");
    assert!(poisson_tail(600, lambda) > 0.99);
    assert!(poisson_tail(900, lambda) < 1e-10);
    // The two ways agree where they meet.
    let (a, b) = (poisson_tail(45, 29.999), poisson_tail(45, 30.0));
    assert!((a - b).abs() < 1e-4, "{a} {b}");
    let p = Params::default();
    let k = spike_threshold(lambda, &p);
    assert!((795..820).contains(&k), "{k}");
    assert!(!is_spike(k - 1, lambda, &p) && is_spike(k, lambda, &p));
}

#[test]
fn the_smallest_spike_that_fires_and_the_largest_that_does_not() {
    let p = Params::default();
    // 近8周日均 0.6 条 (α = 0.000025): P(X ≥ 6) = 0.000394 (by hand above)
    // − e^−0.6 · 0.6⁵/120 = 0.0000389 is not below α; P(X ≥ 7) = that −
    // e^−0.6 · 0.6⁶/720 = 0.0000033 is. 6 in a day does not fire, 7 does.
    assert_eq!(spike_threshold(0.6, &p), 7);
    assert!(!is_spike(6, 0.6, &p));
    assert!(is_spike(7, 0.6, &p));
    // A unit with no bad rating in eight weeks: the floor (0.05 a day) and the
    // least count (3) decide — 3 fires (P(X ≥ 3) at 0.05 = 1 − e^−0.05 ·
    // 1.05125 = 0.0000201), 2 never does.
    assert_eq!(spike_threshold(0.0, &p), 3);
    assert!(!is_spike(2, 0.0, &p));
    assert!(is_spike(3, 0.0, &p));
    // A busy unit (2 a day): P(X ≥ 10) = 0.0000465, P(X ≥ 11) = 0.0000083 —
    // 10 is still ordinary, 11 is not.
    assert_eq!(spike_threshold(2.0, &p), 11);
    assert!(!is_spike(10, 2.0, &p));
    assert!(is_spike(11, 2.0, &p));
}

#[test]
fn a_window_with_three_ratings_a_month_never_alarms_on_one_bad() {
    let p = Params::default();
    // Three ratings a month for three months, one of them bad on the last day.
    let mut rs = vec![];
    let ids: Vec<String> = (0..9).map(|i| format!("E{i}")).collect();
    for (i, id) in ids.iter().enumerate() {
        let when = beijing()
            .with_ymd_and_hms(2026, 8 + (i / 3) as u32, 5 + (i % 3) as u32 * 10, 10, 0, 0)
            .unwrap()
            .fixed_offset();
        rs.push(rated(id, if i == 8 { 1 } else { 5 }, when));
    }
    let last = rs[8].day();
    assert!(spikes(&rs, last, last, &p).is_empty());
    // Even one bad every month before it changes nothing.
    rs[2].level = 1;
    rs[5].level = 2;
    assert!(spikes(&rs, last, last, &p).is_empty());
}

#[test]
fn a_spike_names_the_unit_the_day_and_the_baseline() {
    let p = Params::default();
    let ids: Vec<String> = (0..60).map(|i| format!("E{i:02}")).collect();
    let good: Vec<String> = (0..56).map(|i| format!("G{i:02}")).collect();
    let mut rs = vec![];
    // Eight weeks before 10-30 the hall serves every day (a good rating on
    // B01 each day), and A03 gets one bad rating every third day: 17 in 56
    // days of service, 0.30 a day. Then 5 on 10-30. Threshold at 0.30 a day:
    // 5 (P(X ≥ 4) = 0.00021, P(X ≥ 5) = 0.000012, at the blended 0.28).
    let base = beijing()
        .with_ymd_and_hms(2026, 9, 4, 9, 0, 0)
        .unwrap()
        .fixed_offset();
    for (i, id) in good.iter().enumerate() {
        let mut r = rated(id, 5, base + Duration::days(i as i64));
        r.window_no = Some("B01");
        r.staff_no = Some("2001");
        rs.push(r);
    }
    for (i, id) in ids.iter().take(17).enumerate() {
        rs.push(rated(id, 1, base + Duration::days(3 * i as i64)));
    }
    for i in 0..5 {
        rs.push(rated(&ids[20 + i], 1, at(30, 9, i as u32, 0)));
    }
    assert_eq!(spike_threshold(17.0 / 56.0, &p), 5);
    let alerts = spikes(&rs, d(30), d(30), &p);
    let window: Vec<_> = alerts
        .iter()
        .filter(|a| a.unit.kind == UnitKind::Window)
        .collect();
    assert_eq!(window.len(), 1, "{alerts:?}");
    let a = window[0];
    assert_eq!(a.explanation, "A03窗口 10月30日差评 5 条，近8周日均 0.3 条");
    // The baseline leans 14 days on the peers: the two windows' 22 bad ratings
    // over 57 days served, per window.
    let peers = 22.0 / 2.0 / 57.0;
    let blended = (17.0 + 14.0 * peers) / (56.0 + 14.0);
    assert!((a.baseline.unwrap() - blended).abs() < 1e-12, "{a:?}");
    assert_eq!(spike_threshold(blended, &p), 5);
    assert_eq!(a.evidence.len(), 5);
    // The hall and the staff member carry the same ratings: they fire too.
    assert!(alerts.iter().any(|a| a.unit.kind == UnitKind::Hall));
    assert!(alerts.iter().any(|a| a.unit.kind == UnitKind::Staff));
    // Four that day is within the normal: nothing.
    rs.truncate(56 + 17 + 4);
    assert!(spikes(&rs, d(30), d(30), &p).is_empty());
}

#[test]
fn one_rater_praising_one_window_again_and_again() {
    let p = Params::default();
    let ids: Vec<String> = (0..5).map(|i| format!("E{i}")).collect();
    let mut rs: Vec<Rated<'_>> = (0..4)
        .map(|i| Rated {
            id_hash: Some("aa11bb22cc33dd44"),
            ..rated(&ids[i], 5, at(10 + 2 * i as u32, 10, 0, 0))
        })
        .collect();
    // Four in seven days (10-10 … 10-16): fires, on the window and the staff.
    let alerts = repeat_raters(&rs, &p);
    assert_eq!(alerts.len(), 2, "{alerts:?}");
    assert!(alerts[0].explanation.contains("评价人aa11bb22"));
    // Spread over more than seven days: nothing.
    rs[3].evaluated_at = at(18, 10, 0, 0);
    assert!(repeat_raters(&rs, &p).is_empty());
    // Bad ratings are not praise.
    rs[3].evaluated_at = at(16, 10, 0, 0);
    rs[0].level = 1;
    assert!(repeat_raters(&rs, &p).is_empty());
}

#[test]
fn praise_concentrated_on_few_raters() {
    let p = Params::default();
    let ids: Vec<String> = (0..40).map(|i| format!("E{i:02}")).collect();
    let hashes: Vec<String> = (0..40).map(|i| format!("h{i:02}")).collect();
    // 20 good ratings: 10 from three raters, 10 from ten others — 50 %: fires.
    let mut rs = vec![];
    for i in 0..20 {
        let who = if i < 10 {
            &hashes[i % 3]
        } else {
            &hashes[10 + i]
        };
        rs.push(Rated {
            id_hash: Some(who.as_str()),
            ..rated(&ids[i], 5, at(1 + i as u32, 10, 0, 0))
        });
    }
    let alerts = concentrated(&rs, &p);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].explanation,
        "工号1001 的 20 条实名好评中，3 位评价人给出 10 条（50%）"
    );
    // One of the ten from a new rater instead: 9 of 20, under half.
    rs[9].id_hash = Some("h39");
    assert!(concentrated(&rs, &p).is_empty());
    // 19 ratings are too few to judge.
    rs[9].id_hash = Some(hashes[0].as_str());
    rs.pop();
    assert!(concentrated(&rs, &p).is_empty());
}

#[test]
fn a_burst_of_top_ratings_without_service_behind_them() {
    let p = Params::default();
    let ids: Vec<String> = (0..12).map(|i| format!("E{i:02}")).collect();
    // 8 非常满意 within 7 minutes, 6 without 办件编号: fires once.
    let mut rs: Vec<Rated<'_>> = (0..8)
        .map(|i| Rated {
            serial_no: (i >= 6).then_some("340825-2026-0001000"),
            ..rated(&ids[i], 5, at(12, 14, i as u32, 0))
        })
        .collect();
    let alerts = praise_bursts(&rs, &p);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert!(
        alerts[0]
            .explanation
            .starts_with("A03窗口 10月12日 14:00—14:07"),
        "{}",
        alerts[0].explanation
    );
    // Only 5 of 8 suspicious: a busy hour, not a burst.
    rs[1].serial_no = Some("340825-2026-0001001");
    assert!(praise_bursts(&rs, &p).is_empty());
    // …unless rated within seconds of the service.
    rs[1].served_at = Some(at(12, 14, 1, 0) - Duration::seconds(5));
    assert_eq!(praise_bursts(&rs, &p).len(), 1);
    // Seven are not a burst.
    rs.pop();
    assert!(praise_bursts(&rs, &p).is_empty());
}

#[test]
fn a_rater_flooding_bad_ratings_across_windows() {
    let p = Params::default();
    let ids: Vec<String> = (0..6).map(|i| format!("E{i}")).collect();
    let windows = ["A01", "A02", "B07", "A01"];
    let mut rs: Vec<Rated<'_>> = (0..4)
        .map(|i| Rated {
            id_hash: Some("ffee0011"),
            window_no: Some(windows[i]),
            ..rated(&ids[i], 1, at(3, 9 + i as u32, 0, 0))
        })
        .collect();
    // Four bad in one day over three windows: fires.
    let alerts = malicious_raters(&rs, &p);
    assert_eq!(alerts.len(), 1);
    assert_eq!(
        alerts[0].explanation,
        "评价人ffee0011 在 10月3日至10月3日 差评 4 条，涉及 1 个大厅、3 个窗口、1 天"
    );
    // Two windows, one hall, one day: an unhappy citizen, not a flood.
    rs[2].window_no = Some("A02");
    assert!(malicious_raters(&rs, &p).is_empty());
    // The same over three days: fires again.
    rs[1].evaluated_at = at(5, 9, 0, 0);
    rs[2].evaluated_at = at(9, 9, 0, 0);
    assert_eq!(malicious_raters(&rs, &p).len(), 1);
    // Three bad ratings are never enough.
    rs.pop();
    assert!(malicious_raters(&rs, &p).is_empty());
}

#[test]
fn serial_numbers_split_at_their_trailing_digits() {
    assert_eq!(
        serial_number("340825-2026-0001234"),
        Some(("340825-2026-", 1234))
    );
    assert_eq!(
        serial_number("SP2026110500017"),
        Some(("SP", 2026110500017))
    );
    assert_eq!(serial_number("无编号"), None);
    assert_eq!(serial_number("X1234567890123456789"), None);
}

/// A script's run: consecutive 办件编号 of one department rated 非常满意,
/// anonymously, online, a minute apart at night.
fn script_run<'a>(ids: &'a [String], serials: &'a [String]) -> Vec<Rated<'a>> {
    (0..ids.len())
        .map(|i| Rated {
            channel: Channel::App,
            window_no: None,
            staff_no: None,
            serial_no: Some(serials[i].as_str()),
            served_at: Some(at(3, 10, 0, 0)),
            ..rated(&ids[i], 5, at(12, 23, i as u32, 0))
        })
        .collect()
}

#[test]
fn consecutive_serials_rated_by_a_script_fire_once() {
    let p = Params::default();
    let ids: Vec<String> = (0..8).map(|i| format!("E{i}")).collect();
    // Shuffled serials (a script walks its list, not the clock).
    let serials: Vec<String> = [3, 1, 0, 2, 5, 4, 7, 6]
        .iter()
        .map(|k| format!("340825-2026-00012{k:02}"))
        .collect();
    let mut rs = script_run(&ids, &serials);
    let alerts = serial_runs(&rs, &p);
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    let a = &alerts[0];
    assert_eq!(a.unit.kind, UnitKind::Department);
    assert_eq!(a.unit.code, "D01");
    assert_eq!(a.evidence.len(), 8);
    assert_eq!(
        a.explanation,
        "部门D01 10月12日 23:00—23:07 连号办件 340825-2026-0001200—340825-2026-0001207 \
         共 8 件经移动端/小程序匿名评为“非常满意”，其中 8 件在非工作时间或办结 24 小时后评价"
    );
    // The same in office hours, an hour after the service: citizens, not a script.
    for r in &mut rs {
        r.evaluated_at -= Duration::hours(13);
        r.served_at = Some(r.evaluated_at - Duration::hours(1));
    }
    assert!(serial_runs(&rs, &p).is_empty());
    // …but days after the service it is a script again (late, not at night).
    for r in &mut rs {
        r.served_at = Some(r.evaluated_at - Duration::days(9));
    }
    assert_eq!(serial_runs(&rs, &p).len(), 1);
}

#[test]
fn citizens_served_one_after_another_in_the_evening_are_not_a_script() {
    let p = Params::default();
    // Extended hours: a department accepts a 办件 every 4 minutes from 17:30,
    // and every citizen rates it anonymously by QR code, top marks, 10 minutes
    // later — the most uniform real evening there is. Their ratings are as far
    // apart as their services: never six in a quarter of an hour.
    let ids: Vec<String> = (0..30).map(|i| format!("E{i}")).collect();
    let serials: Vec<String> = (0..30).map(|k| format!("SP2026101200{k:02}")).collect();
    let rs: Vec<Rated<'_>> = (0..30)
        .map(|i| {
            let served = at(12, 17, 30, 0) + Duration::minutes(4 * i as i64);
            Rated {
                channel: Channel::QrCode,
                window_no: None,
                staff_no: None,
                serial_no: Some(serials[i].as_str()),
                served_at: Some(served),
                ..rated(&ids[i], 5, served + Duration::minutes(10))
            }
        })
        .collect();
    assert!(serial_runs(&rs, &p).is_empty());
}

#[test]
fn what_breaks_a_serial_run() {
    let p = Params::default();
    let ids: Vec<String> = (0..6).map(|i| format!("E{i}")).collect();
    let serials: Vec<String> = (0..6).map(|k| format!("SP20261012{k:04}")).collect();
    let rs = script_run(&ids, &serials);
    assert_eq!(serial_runs(&rs, &p).len(), 1, "six is enough");
    // A gap in the serials: two runs of 3 and 2.
    let mut gap = rs.clone();
    gap[3].serial_no = Some("SP202610129999");
    assert!(serial_runs(&gap, &p).is_empty());
    // Named raters are not anonymous scripts.
    let mut named = rs.clone();
    named[0].id_hash = Some("aa");
    assert!(serial_runs(&named, &p).is_empty());
    // At the window: a person at the counter.
    let mut counter = rs.clone();
    counter[2].channel = Channel::WindowDevice;
    assert!(serial_runs(&counter, &p).is_empty());
    // Two channels are two runs.
    let mut mixed = rs.clone();
    mixed[5].channel = Channel::Web;
    assert!(serial_runs(&mixed, &p).is_empty());
    // Spread over more than a quarter of an hour.
    let mut slow = rs.clone();
    slow[5].evaluated_at = slow[0].evaluated_at + Duration::minutes(16);
    assert!(serial_runs(&slow, &p).is_empty());
    // Another department's 办件 in the middle.
    let mut other = rs.clone();
    other[2].department_code = Some("D02");
    assert!(serial_runs(&other, &p).is_empty());
    // 系统默认评价 never counts as evidence of anything.
    let mut system = rs.clone();
    for r in &mut system {
        r.channel = Channel::SystemDefault;
    }
    assert!(serial_runs(&system, &p).is_empty());
    assert!(all_alerts(&system, d(1), d(31), &p).is_empty());
}
