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

/// A unit of a hall the spike rule watches: (kind, hall, code).
pub type UnitKey<'k> = (UnitKind, &'k str, &'k str);

/// What 差评突增 needs of a window of days, as counts: the rule reads nothing else,
/// so a store may keep these per unit and day instead of reading the ratings.
/// Only ratings by a person that count (not withdrawn, not excluded) belong here.
#[derive(Debug, Default)]
pub struct SpikeCounts<'k> {
    /// The days each hall served anyone (had any rating).
    open: HashMap<&'k str, BTreeSet<NaiveDate>>,
    /// The first day each unit was rated.
    seen: HashMap<UnitKey<'k>, NaiveDate>,
    /// Bad ratings per unit and day.
    bad: HashMap<UnitKey<'k>, BTreeMap<NaiveDate, u32>>,
}

impl<'k> SpikeCounts<'k> {
    /// The unit was rated on `day` (a hall unit also marks the hall's day served).
    pub fn rated(&mut self, key: UnitKey<'k>, day: NaiveDate) {
        if key.0 == UnitKind::Hall {
            self.open.entry(key.1).or_default().insert(day);
        }
        let first = self.seen.entry(key).or_insert(day);
        *first = (*first).min(day);
    }
    /// …and had `n` bad ratings that day.
    pub fn bad(&mut self, key: UnitKey<'k>, day: NaiveDate, n: u32) {
        if n > 0 {
            *self.bad.entry(key).or_default().entry(day).or_default() += n;
        }
    }
}

/// One unit's day that fired, before its evidence is attached.
#[derive(Debug, Clone, PartialEq)]
pub struct SpikeDay {
    /// The unit.
    pub unit: Unit,
    /// The day (Beijing).
    pub day: NaiveDate,
    /// Its bad ratings.
    pub bad: u32,
    /// The unit's mean per day of service before it.
    pub mean: f64,
    /// Days of its own history the mean rests on (at most the baseline weeks).
    pub history_days: i64,
}

impl SpikeDay {
    /// The alert, resting on `evidence` (the day's bad ratings, at most
    /// [`MAX_EVIDENCE`] are kept).
    pub fn into_alert(self, evidence_ids: impl IntoIterator<Item = String>) -> Alert {
        Alert {
            rule: Rule::Spike,
            explanation: format!(
                "{} {}差评 {} 条，近{}周日均 {} 条",
                self.unit.kind.label(&self.unit.code),
                md(self.day),
                self.bad,
                (self.history_days + 6) / 7,
                per_day(self.mean)
            ),
            unit: self.unit,
            from: self.day,
            to: self.day,
            observed: f64::from(self.bad),
            baseline: Some(self.mean),
            evidence: evidence(evidence_ids),
        }
    }
}

/// 差评突增 on the days `from..=to` from counts that cover the `baseline_days`
/// before `from` up to `to`: each unit (hall, window, staff member, item) whose
/// bad ratings of a day reach [`spike_threshold`] of its mean per day of service
/// (a day its hall had any rating) over the `baseline_days` before that day.
pub fn spike_days(
    c: &SpikeCounts<'_>,
    from: NaiveDate,
    to: NaiveDate,
    p: &Params,
) -> Vec<SpikeDay> {
    let start = from - Duration::days(i64::from(p.baseline_days));
    // The peers' rate: bad ratings of a kind in a hall, per unit, per day served.
    let mut units: HashMap<(UnitKind, &str), (usize, u64)> = HashMap::default();
    for k in c.seen.keys() {
        units.entry((k.0, k.1)).or_default().0 += 1;
    }
    for (k, days) in &c.bad {
        units.entry((k.0, k.1)).or_default().1 += days
            .range(start..=to)
            .map(|(_, n)| u64::from(*n))
            .sum::<u64>();
    }
    let served_in = |hall: &str, a: NaiveDate, b: NaiveDate| {
        c.open.get(hall).map_or(0, |d| d.range(a..b).count())
    };
    let peer_rate = |kind: UnitKind, hall: &str| -> f64 {
        let (n, total) = units.get(&(kind, hall)).copied().unwrap_or((1, 0));
        let served = c
            .open
            .get(hall)
            .map_or(1, |d| d.range(start..=to).count().max(1));
        total as f64 / n.max(1) as f64 / served as f64
    };
    let prior_days = f64::from(p.baseline_prior_days);
    let mut bad: Vec<_> = c.bad.iter().collect();
    bad.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = vec![];
    for (&key, days) in bad {
        let first_seen = c.seen.get(&key).copied().unwrap_or(start).max(start);
        for (&day, &n) in days.range(from..=to) {
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
            let before: u64 = days.range(base_from..day).map(|(_, v)| u64::from(*v)).sum();
            let served = served_in(key.1, base_from, day).max(1);
            let mean = (before as f64 + prior_days * peer_rate(key.0, key.1))
                / (served as f64 + prior_days);
            if !is_spike(n, mean, p) {
                continue;
            }
            out.push(SpikeDay {
                unit: Unit {
                    kind: key.0,
                    hall_id: key.1.to_owned(),
                    code: key.2.to_owned(),
                },
                day,
                bad: n,
                mean,
                history_days: history,
            });
        }
    }
    out
}

/// 差评突增 over ratings: [`spike_days`] of their counts, each resting on the day's
/// bad ratings in time order. `ratings` must cover the baseline too.
pub fn spikes(ratings: &[Rated<'_>], from: NaiveDate, to: NaiveDate, p: &Params) -> Vec<Alert> {
    let start = from - Duration::days(i64::from(p.baseline_days));
    let mut counts = SpikeCounts::default();
    let mut ids: HashMap<(UnitKey<'_>, NaiveDate), Vec<&Rated<'_>>> = HashMap::default();
    for r in ratings {
        let day = r.day();
        if day < start || day > to {
            continue;
        }
        for (kind, code) in [
            (UnitKind::Hall, Some(r.hall_id)),
            (UnitKind::Window, r.window_no),
            (UnitKind::Staff, r.staff_no),
            (UnitKind::Item, r.item_code),
        ] {
            let Some(code) = code else { continue };
            let key = (kind, r.hall_id, code);
            counts.rated(key, day);
            if r.is_bad() {
                counts.bad(key, day, 1);
                if day >= from {
                    ids.entry((key, day)).or_default().push(r);
                }
            }
        }
    }
    spike_days(&counts, from, to, p)
        .into_iter()
        .map(|s| {
            let key = (s.unit.kind, s.unit.hall_id.as_str(), s.unit.code.as_str());
            let mut rs: Vec<&Rated<'_>> = ids.get(&(key, s.day)).cloned().unwrap_or_default();
            rs.sort_by(|a, b| a.evaluated_at.cmp(&b.evaluated_at).then(a.id.cmp(b.id)));
            let evidence: Vec<String> = rs.iter().map(|r| r.id.to_owned()).collect();
            s.into_alert(evidence)
        })
        .collect()
}
