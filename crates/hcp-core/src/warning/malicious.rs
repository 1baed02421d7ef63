//! 疑似恶意差评 (Rule::MaliciousRater): one evaluator's bad ratings spread over windows, halls or days.

use super::*;

/// 疑似恶意差评: one evaluator with at least `malicious_min_bad` bad ratings within
/// `malicious_days`, spread over at least `malicious_min_spread` windows, or two
/// halls, or `malicious_min_spread` days.
pub fn malicious_raters(ratings: &[Rated<'_>], p: &Params) -> Vec<Alert> {
    let mut by_rater: BTreeMap<&str, Vec<&Rated<'_>>> = BTreeMap::new();
    for r in ratings.iter().filter(|r| r.is_bad()) {
        if let Some(who) = r.id_hash {
            by_rater.entry(who).or_default().push(r);
        }
    }
    let mut out = vec![];
    for (who, mut rs) in by_rater {
        if (rs.len() as u32) < p.malicious_min_bad {
            continue;
        }
        rs.sort_by_key(|r| r.evaluated_at);
        let times: Vec<_> = rs.iter().map(|r| r.evaluated_at).collect();
        let (at, n) = densest(&times, Duration::days(p.malicious_days));
        if (n as u32) < p.malicious_min_bad {
            continue;
        }
        let run = &rs[at..at + n];
        let windows: HashSet<(&str, &str)> = run
            .iter()
            .filter_map(|r| r.window_no.map(|w| (r.hall_id, w)))
            .collect();
        let halls: HashSet<&str> = run.iter().map(|r| r.hall_id).collect();
        let days: HashSet<NaiveDate> = run.iter().map(|r| r.day()).collect();
        let spread = p.malicious_min_spread as usize;
        if windows.len() < spread && halls.len() < 2 && days.len() < spread {
            continue;
        }
        let (first, last) = (run[0].day(), run[n - 1].day());
        out.push(Alert {
            rule: Rule::MaliciousRater,
            explanation: format!(
                "评价人{} 在 {}至{} 差评 {} 条，涉及 {} 个大厅、{} 个窗口、{} 天",
                short_hash(who),
                md(first),
                md(last),
                n,
                halls.len(),
                windows.len(),
                days.len()
            ),
            unit: Unit {
                kind: UnitKind::Evaluator,
                hall_id: run[0].hall_id.to_owned(),
                code: who.to_owned(),
            },
            from: first,
            to: last,
            observed: n as f64,
            baseline: None,
            evidence: evidence(run.iter().map(|r| r.id.to_owned())),
        });
    }
    out
}
