//! 差评突增 (Rule::Spike): a unit's bad ratings in a day far above its own Poisson baseline.

use super::*;

/// ln k!, exact below 20, Stirling's series above (error < 1e-10).
fn ln_factorial(k: u32) -> f64 {
    if k < 20 {
        return (2..=k).map(|i| f64::from(i).ln()).sum();
    }
    let x = f64::from(k);
    x * x.ln() - x + 0.5 * (2.0 * std::f64::consts::PI * x).ln() + 1.0 / (12.0 * x)
        - 1.0 / (360.0 * x.powi(3))
}

/// P(X = k) for X ~ Poisson(λ), from logarithms (no underflow for large rates).
fn poisson_pmf(k: u32, lambda: f64) -> f64 {
    (-lambda + f64::from(k) * lambda.ln() - ln_factorial(k)).exp()
}

/// P(X ≥ k) for X ~ Poisson(λ). Small rates sum the lower terms directly; large
/// rates (a whole hall's day) sum whichever tail is the small one, from its end
/// nearest the mode, in logarithms — `e^−λ` alone underflows past λ ≈ 745.
pub fn poisson_tail(k: u32, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda <= 0.0 {
        return 0.0;
    }
    if lambda < 30.0 {
        let mut term = (-lambda).exp();
        let mut below = term;
        for i in 1..k {
            term *= lambda / f64::from(i);
            below += term;
        }
        return (1.0 - below).max(0.0);
    }
    if f64::from(k) > lambda {
        // Upper tail: from k up; the terms shrink from the start.
        let (mut term, mut sum, mut i) = (poisson_pmf(k, lambda), 0.0, k);
        while term > 0.0 && term >= sum * 1e-16 {
            sum += term;
            i += 1;
            term *= lambda / f64::from(i);
        }
        sum.min(1.0)
    } else {
        // 1 − lower tail: from k − 1 down; the terms shrink from the start.
        let (mut term, mut sum, mut i) = (poisson_pmf(k - 1, lambda), 0.0, k - 1);
        loop {
            sum += term;
            if i == 0 || term < sum * 1e-16 {
                break;
            }
            term *= f64::from(i) / lambda;
            i -= 1;
        }
        (1.0 - sum).clamp(0.0, 1.0)
    }
}

/// The fewest bad ratings in a day that fire for a unit whose baseline is
/// `mean_per_day`.
pub fn spike_threshold(mean_per_day: f64, p: &Params) -> u32 {
    let lambda = mean_per_day.max(p.baseline_floor);
    // Below the rate itself the tail is over one half: start at the rate.
    let mut k = p.spike_min_bad.max(lambda.floor() as u32);
    while poisson_tail(k, lambda) >= p.spike_alpha {
        k += 1;
    }
    k
}

/// Whether `bad` ratings in a day is a spike for a unit whose baseline is
/// `mean_per_day`.
pub fn is_spike(bad: u32, mean_per_day: f64, p: &Params) -> bool {
    bad >= p.spike_min_bad && poisson_tail(bad, mean_per_day.max(p.baseline_floor)) < p.spike_alpha
}

/// 差评突增 on the days `from..=to`: each unit (hall, window, staff member, item)
/// whose bad ratings of a day reach [`spike_threshold`] of its mean per day of
/// service (a day its hall had any rating) over the `baseline_days` before that
/// day. `ratings` must cover the baseline too.
pub fn spikes(ratings: &[Rated<'_>], from: NaiveDate, to: NaiveDate, p: &Params) -> Vec<Alert> {
    let start = from - Duration::days(i64::from(p.baseline_days));
    // unit → day → bad ratings' ids; and the first day each unit was rated at all
    // (its history: a unit new within the baseline weeks is judged on its own days).
    type Key<'k> = (UnitKind, &'k str, &'k str);
    let mut bad: HashMap<Key<'_>, BTreeMap<NaiveDate, Vec<&str>>> = HashMap::default();
    let mut seen: HashMap<(UnitKind, &str, &str), NaiveDate> = HashMap::default();
    // The days each hall served anyone (had any rating): a day's mean is per day
    // of service, so weekends and holidays do not thin the baseline.
    let mut open: HashMap<&str, BTreeSet<NaiveDate>> = HashMap::default();
    for r in ratings {
        let day = r.day();
        if day < start || day > to {
            continue;
        }
        open.entry(r.hall_id).or_default().insert(day);
        for (kind, code) in [
            (UnitKind::Hall, Some(r.hall_id)),
            (UnitKind::Window, r.window_no),
            (UnitKind::Staff, r.staff_no),
            (UnitKind::Item, r.item_code),
        ] {
            let Some(code) = code else { continue };
            let first = seen.entry((kind, r.hall_id, code)).or_insert(day);
            *first = (*first).min(day);
            if !r.is_bad() {
                continue;
            }
            bad.entry((kind, r.hall_id, code))
                .or_default()
                .entry(day)
                .or_default()
                .push(r.id);
        }
    }
    // The peers' rate: bad ratings of a kind in a hall, per unit, per day served.
    let mut units: HashMap<(UnitKind, &str), (usize, usize)> = HashMap::default();
    for k in seen.keys() {
        units.entry((k.0, k.1)).or_default().0 += 1;
    }
    for (k, days) in &bad {
        units.entry((k.0, k.1)).or_default().1 += days.values().map(Vec::len).sum::<usize>();
    }
    let peer_rate = |kind: UnitKind, hall: &str| -> f64 {
        let (n, total) = units.get(&(kind, hall)).copied().unwrap_or((1, 0));
        let served = open.get(hall).map_or(1, |d| d.len().max(1));
        total as f64 / n.max(1) as f64 / served as f64
    };
    let prior_days = f64::from(p.baseline_prior_days);
    let mut bad: Vec<_> = bad.iter().collect();
    bad.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = vec![];
    for (&key, days) in bad {
        let first_seen = seen.get(&key).copied().unwrap_or(start);
        let unit = Unit {
            kind: key.0,
            hall_id: key.1.to_owned(),
            code: key.2.to_owned(),
        };
        for (&day, ids) in days.range(from..=to) {
            let n = ids.len() as u32;
            if n < p.spike_min_bad {
                continue;
            }
            // Its own days before this one, at most the baseline weeks; a unit
            // with less than a week of history is not judged yet.
            let base_from = (day - Duration::days(i64::from(p.baseline_days))).max(first_seen);
            let history = (day - base_from).num_days();
            if history < MIN_HISTORY_DAYS {
                continue;
            }
            let before: usize = days.range(base_from..day).map(|(_, v)| v.len()).sum();
            let served = open
                .get(key.1)
                .map_or(0, |d| d.range(base_from..day).count())
                .max(1);
            let mean = (before as f64 + prior_days * peer_rate(key.0, key.1))
                / (served as f64 + prior_days);
            if !is_spike(n, mean, p) {
                continue;
            }
            out.push(Alert {
                rule: Rule::Spike,
                explanation: format!(
                    "{} {}差评 {} 条，近{}周日均 {} 条",
                    unit.kind.label(&unit.code),
                    md(day),
                    n,
                    (history + 6) / 7,
                    per_day(mean)
                ),
                unit: unit.clone(),
                from: day,
                to: day,
                observed: f64::from(n),
                baseline: Some(mean),
                evidence: evidence(ids.iter().map(|s| (*s).to_owned())),
            });
        }
    }
    out
}
