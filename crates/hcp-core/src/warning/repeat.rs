//! 疑似刷好评（同一评价人反复评价, Rule::RepeatRater): one evaluator praising one window or staff member again and again.

use super::*;

/// 疑似刷好评（同一评价人反复评价）: one evaluator giving one window or one staff
/// member at least `repeat_min` good ratings within `repeat_days` days.
pub fn repeat_raters<'a>(ratings: &[Rated<'a>], p: &Params) -> Vec<Alert> {
    // Most (unit, rater) pairs occur once: count with borrowed keys first, keep
    // the ratings only of pairs that can reach the threshold.
    type Key<'k> = (UnitKind, &'k str, &'k str, &'k str);
    let keys = |r: &Rated<'a>| -> [Option<Key<'a>>; 2] {
        let who = r.id_hash.filter(|_| r.is_good());
        [
            who.zip(r.window_no)
                .map(|(w, c)| (UnitKind::Window, r.hall_id, c, w)),
            who.zip(r.staff_no)
                .map(|(w, c)| (UnitKind::Staff, r.hall_id, c, w)),
        ]
    };
    let mut counts: HashMap<Key<'a>, u32> = HashMap::default();
    for r in ratings {
        for k in keys(r).into_iter().flatten() {
            *counts.entry(k).or_default() += 1;
        }
    }
    let mut groups: HashMap<Key<'a>, Vec<&Rated<'a>>> = HashMap::default();
    for r in ratings {
        for k in keys(r).into_iter().flatten() {
            if counts[&k] >= p.repeat_min {
                groups.entry(k).or_default().push(r);
            }
        }
    }
    let mut groups: Vec<_> = groups.into_iter().collect();
    groups.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = vec![];
    for ((kind, hall, code, who), mut rs) in groups {
        let unit = Unit {
            kind,
            hall_id: hall.to_owned(),
            code: code.to_owned(),
        };
        rs.sort_by_key(|r| r.evaluated_at);
        let times: Vec<_> = rs.iter().map(|r| r.evaluated_at).collect();
        let (at, n) = densest(&times, Duration::days(p.repeat_days));
        if (n as u32) < p.repeat_min {
            continue;
        }
        let run = &rs[at..at + n];
        let (first, last) = (run[0].day(), run[n - 1].day());
        out.push(Alert {
            rule: Rule::RepeatRater,
            explanation: format!(
                "评价人{} 在 {}至{} 对{}给出好评 {} 次（{} 天内 {} 次即预警）",
                short_hash(who),
                md(first),
                md(last),
                unit.kind.label(&unit.code),
                n,
                p.repeat_days,
                p.repeat_min
            ),
            unit,
            from: first,
            to: last,
            observed: n as f64,
            baseline: None,
            evidence: evidence(run.iter().map(|r| r.id.to_owned())),
        });
    }
    out
}
