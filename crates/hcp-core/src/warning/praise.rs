//! 疑似刷好评（短时集中好评, Rule::PraiseBurst): bursts of 非常满意 on one window carrying signs of being made up.

use super::*;

/// Whether a rating carries a sign of being made up: no 办件编号, or given within
/// `fast_seconds` of the service.
fn suspicious(r: &Rated<'_>, p: &Params) -> bool {
    r.serial_no.is_none()
        || r.served_at
            .is_some_and(|s| (r.evaluated_at - s) <= Duration::seconds(p.fast_seconds))
}

/// 疑似刷好评（短时集中好评）: at least `burst_min` 非常满意 on one window within
/// `burst_minutes`, at least `burst_suspicious_share` of them without a 办件编号 or
/// within seconds of the service. One alert per burst.
pub fn praise_bursts(ratings: &[Rated<'_>], p: &Params) -> Vec<Alert> {
    let mut by_window: HashMap<(&str, &str), Vec<&Rated<'_>>> = HashMap::default();
    for r in ratings.iter().filter(|r| r.level == 5) {
        let Some(w) = r.window_no else { continue };
        by_window.entry((r.hall_id, w)).or_default().push(r);
    }
    let mut by_window: Vec<_> = by_window
        .into_iter()
        .filter(|(_, v)| v.len() as u32 >= p.burst_min)
        .collect();
    by_window.sort_by(|a, b| a.0.cmp(&b.0));
    let span = Duration::minutes(p.burst_minutes);
    let mut out = vec![];
    for ((hall, window), mut rs) in by_window {
        let unit = Unit {
            kind: UnitKind::Window,
            hall_id: hall.to_owned(),
            code: window.to_owned(),
        };
        rs.sort_by_key(|r| r.evaluated_at);
        let mut lo = 0;
        while lo < rs.len() {
            let mut hi = lo;
            while hi + 1 < rs.len() && rs[hi + 1].evaluated_at - rs[lo].evaluated_at <= span {
                hi += 1;
            }
            let run = &rs[lo..=hi];
            let n = run.len();
            let odd = run.iter().filter(|r| suspicious(r, p)).count();
            if n as u32 >= p.burst_min && odd as f64 >= p.burst_suspicious_share * n as f64 {
                let (a, b) = (run[0].evaluated_at, run[n - 1].evaluated_at);
                out.push(Alert {
                    rule: Rule::PraiseBurst,
                    explanation: format!(
                        "{} {} {}—{} 的 {} 分钟内“非常满意” {} 条，其中 {} 条无办件编号或办结后 {} 秒内评价",
                        unit.kind.label(&unit.code),
                        md(run[0].day()),
                        a.with_timezone(&beijing()).format("%H:%M"),
                        b.with_timezone(&beijing()).format("%H:%M"),
                        p.burst_minutes,
                        n,
                        odd,
                        p.fast_seconds
                    ),
                    unit: unit.clone(),
                    from: run[0].day(),
                    to: run[n - 1].day(),
                    observed: n as f64,
                    baseline: None,
                    evidence: evidence(run.iter().map(|r| r.id.to_owned())),
                });
                lo = hi + 1;
            } else {
                lo += 1;
            }
        }
    }
    out
}
