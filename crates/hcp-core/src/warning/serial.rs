//! 疑似刷好评（连号代评, Rule::SerialRun): praise on consecutive 办件编号, anonymous, online, out of hours or long after the service.

use super::*;

/// A 办件编号 split into its prefix and the number its trailing digits make
/// (`340825-2026-0001234` → (`340825-2026-`, 1234)); `None` without trailing
/// digits (or more than 18 of them).
pub fn serial_number(serial: &str) -> Option<(&str, u64)> {
    let digits = serial.len() - serial.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits > 18 {
        return None;
    }
    let (prefix, tail) = serial.split_at(serial.len() - digits);
    tail.parse().ok().map(|n| (prefix, n))
}

/// Whether a rating was given out of office hours or long after its service.
fn odd_hour_or_late(r: &Rated<'_>, p: &Params) -> bool {
    use chrono::Timelike;
    let hour = r.evaluated_at.with_timezone(&beijing()).hour();
    let out_of_hours = hour < p.office_hours.0 || hour >= p.office_hours.1;
    let late = r
        .served_at
        .is_some_and(|s| r.evaluated_at - s >= Duration::hours(p.late_hours));
    out_of_hours || late
}

/// The longest run of consecutive numbers among `rs` (each with its serial's
/// number): the ratings that make it, in serial order. A 办件 rated twice counts
/// once.
fn longest_serial_run<'r, 'a>(rs: &[(&'r Rated<'a>, u64)]) -> Vec<&'r Rated<'a>> {
    let mut by_no: Vec<(u64, &Rated<'a>)> = rs.iter().map(|(r, n)| (*n, *r)).collect();
    by_no.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.evaluated_at.cmp(&b.1.evaluated_at)));
    by_no.dedup_by_key(|x| x.0);
    let (mut best, mut best_len) = (0, 0);
    let mut start = 0;
    for i in 0..by_no.len() {
        if i > 0 && by_no[i].0 != by_no[i - 1].0 + 1 {
            start = i;
        }
        if i + 1 - start > best_len {
            (best, best_len) = (start, i + 1 - start);
        }
    }
    by_no[best..best + best_len].iter().map(|x| x.1).collect()
}

/// 疑似刷好评（连号代评）: at least `serial_run_min` consecutive 办件编号 (one prefix)
/// of one department rated 非常满意, anonymously, through one online channel within
/// `serial_run_minutes`, at least `serial_run_odd_share` of them out of office
/// hours or `late_hours` after the service. Citizens served one after another do
/// not rate in serial order within minutes at night or days later; a script
/// walking a list of finished 办件 does. One alert per run.
pub fn serial_runs(ratings: &[Rated<'_>], p: &Params) -> Vec<Alert> {
    type Key<'k> = (&'k str, Option<&'k str>, &'static str, &'k str);
    let mut groups: HashMap<Key<'_>, Vec<(&Rated<'_>, u64)>> = HashMap::default();
    for r in ratings {
        if r.level != 5 || r.id_hash.is_some() || !r.channel.is_online() {
            continue;
        }
        let Some((prefix, n)) = r.serial_no.and_then(serial_number) else {
            continue;
        };
        groups
            .entry((r.hall_id, r.department_code, r.channel.as_wire(), prefix))
            .or_default()
            .push((r, n));
    }
    let mut groups: Vec<_> = groups
        .into_iter()
        .filter(|(_, v)| v.len() as u32 >= p.serial_run_min)
        .collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let span = Duration::minutes(p.serial_run_minutes);
    let mut out = vec![];
    for ((hall, department, channel, _), mut rs) in groups {
        let unit = match department {
            Some(d) => Unit {
                kind: UnitKind::Department,
                hall_id: hall.to_owned(),
                code: d.to_owned(),
            },
            None => Unit {
                kind: UnitKind::Hall,
                hall_id: hall.to_owned(),
                code: hall.to_owned(),
            },
        };
        rs.sort_by_key(|(r, _)| r.evaluated_at);
        let mut lo = 0;
        while lo < rs.len() {
            let mut hi = lo;
            while hi + 1 < rs.len() && rs[hi + 1].0.evaluated_at - rs[lo].0.evaluated_at <= span {
                hi += 1;
            }
            if ((hi + 1 - lo) as u32) < p.serial_run_min {
                lo += 1;
                continue;
            }
            let run = longest_serial_run(&rs[lo..=hi]);
            let n = run.len();
            let odd = run.iter().filter(|r| odd_hour_or_late(r, p)).count();
            if (n as u32) < p.serial_run_min || (odd as f64) < p.serial_run_odd_share * n as f64 {
                lo += 1;
                continue;
            }
            let first_at = run
                .iter()
                .map(|r| r.evaluated_at)
                .min()
                .unwrap_or(rs[lo].0.evaluated_at);
            let last_at = run.iter().map(|r| r.evaluated_at).max().unwrap_or(first_at);
            let (from, to) = (
                first_at.with_timezone(&beijing()).date_naive(),
                last_at.with_timezone(&beijing()).date_naive(),
            );
            out.push(Alert {
                rule: Rule::SerialRun,
                explanation: format!(
                    "{} {} {}—{} 连号办件 {}—{} 共 {} 件经{}匿名评为“非常满意”，其中 {} 件在非工作时间或办结 {} 小时后评价",
                    unit.kind.label(&unit.code),
                    md(from),
                    first_at.with_timezone(&beijing()).format("%H:%M"),
                    last_at.with_timezone(&beijing()).format("%H:%M"),
                    run[0].serial_no.unwrap_or_default(),
                    run[n - 1].serial_no.unwrap_or_default(),
                    n,
                    Channel::from_wire(channel).label_zh(),
                    odd,
                    p.late_hours
                ),
                unit: unit.clone(),
                from,
                to,
                observed: n as f64,
                baseline: None,
                evidence: evidence(run.iter().map(|r| r.id.to_owned())),
            });
            lo = hi + 1;
        }
    }
    out
}
