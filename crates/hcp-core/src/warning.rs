//! 电子监察预警: the rules that find, while there is still time, what the monthly
//! figures hide — a day of bad ratings far above what a unit normally gets, praise
//! that looks rigged (刷好评), and raters who flood bad ratings. Pure functions over
//! ratings; the store feeds them and keeps the alerts. Each rule and its parameters
//! are written down in `docs/warnings.md`.

use std::collections::{BTreeMap, BTreeSet};

/// The rules' hash maps and sets: foldhash, seeded at random per process.
type HashMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
type HashSet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

use chrono::{DateTime, Duration, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::metrics::beijing;
use crate::rating::{Channel, is_bad_level};

/// A unit needs this many days of its own ratings before a day can be a spike.
pub const MIN_HISTORY_DAYS: i64 = 7;

/// The evidence an alert keeps at most (the ids beyond are counted, not listed).
pub const MAX_EVIDENCE: usize = 200;

/// One rating as the rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Rated<'a> {
    /// 评价编号.
    pub id: &'a str,
    /// 大厅编码.
    pub hall_id: &'a str,
    /// 窗口号.
    pub window_no: Option<&'a str>,
    /// 工作人员工号.
    pub staff_no: Option<&'a str>,
    /// 事项编码.
    pub item_code: Option<&'a str>,
    /// 部门编码.
    pub department_code: Option<&'a str>,
    /// 评价渠道.
    pub channel: Channel,
    /// 1–5.
    pub level: u8,
    /// 评价时间.
    pub evaluated_at: DateTime<FixedOffset>,
    /// 办理时间.
    pub served_at: Option<DateTime<FixedOffset>>,
    /// The 办件编号 it rates, if it names one.
    pub serial_no: Option<&'a str>,
    /// The evaluator (hashed ID number), if not anonymous.
    pub id_hash: Option<&'a str>,
}

impl Rated<'_> {
    fn day(&self) -> NaiveDate {
        self.evaluated_at.with_timezone(&beijing()).date_naive()
    }
    fn is_bad(&self) -> bool {
        is_bad_level(self.level)
    }
    fn is_good(&self) -> bool {
        self.level >= 4
    }
}

/// Which rule fired.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 差评突增: a day's bad ratings of a unit far above its own recent days.
    Spike,
    /// 疑似刷好评：同一评价人短期内反复评价同一窗口或人员.
    RepeatRater,
    /// 疑似刷好评：人员的好评集中于少数评价人.
    Concentrated,
    /// 疑似刷好评：同一窗口短时间内集中出现“非常满意”.
    PraiseBurst,
    /// 疑似恶意差评：同一评价人跨窗口、跨大厅或跨日多次差评.
    MaliciousRater,
    /// 疑似代理评价/系统件刷评: a run of consecutive 办件编号 of one department rated
    /// 非常满意 anonymously through one online channel within minutes, mostly out of
    /// hours or long after the service — what a script does.
    SerialRun,
}

impl Rule {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Spike => "spike",
            Rule::RepeatRater => "repeat_rater",
            Rule::Concentrated => "concentrated",
            Rule::PraiseBurst => "praise_burst",
            Rule::MaliciousRater => "malicious_rater",
            Rule::SerialRun => "serial_run",
        }
    }
    /// Every rule, in the order the window lists them.
    pub const ALL: [Rule; 6] = [
        Rule::Spike,
        Rule::RepeatRater,
        Rule::Concentrated,
        Rule::PraiseBurst,
        Rule::SerialRun,
        Rule::MaliciousRater,
    ];
    /// From its storage name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }
    /// The short zh-CN name a tab or a card shows.
    pub fn short_zh(self) -> &'static str {
        match self {
            Rule::Spike => "差评突增",
            Rule::RepeatRater => "反复评价",
            Rule::Concentrated => "好评集中",
            Rule::PraiseBurst => "短时集中好评",
            Rule::SerialRun => "连号代评",
            Rule::MaliciousRater => "疑似恶意差评",
        }
    }
    /// Whether the rule is about bad ratings (its evidence is the unit's 差评), not
    /// about praise (all its ratings).
    pub fn about_bad_ratings(self) -> bool {
        matches!(self, Rule::Spike | Rule::MaliciousRater)
    }
    /// zh-CN label.
    pub fn label_zh(self) -> &'static str {
        match self {
            Rule::Spike => "差评突增",
            Rule::RepeatRater => "疑似刷好评（同一评价人反复评价）",
            Rule::Concentrated => "疑似刷好评（好评集中于少数评价人）",
            Rule::PraiseBurst => "疑似刷好评（短时集中好评）",
            Rule::MaliciousRater => "疑似恶意差评",
            Rule::SerialRun => "疑似刷好评（连号代评）",
        }
    }
}

/// What an alert is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum UnitKind {
    /// 大厅.
    Hall,
    /// 窗口.
    Window,
    /// 工作人员.
    Staff,
    /// 事项.
    Item,
    /// 评价人 (by hashed ID).
    Evaluator,
    /// 部门 (by its code as the ratings name it).
    Department,
}

impl UnitKind {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            UnitKind::Hall => "hall",
            UnitKind::Window => "window",
            UnitKind::Staff => "staff",
            UnitKind::Item => "item",
            UnitKind::Evaluator => "evaluator",
            UnitKind::Department => "department",
        }
    }
    fn label(self, code: &str) -> String {
        match self {
            UnitKind::Hall => "全厅".to_string(),
            UnitKind::Window => format!("{code}窗口"),
            UnitKind::Staff => format!("工号{code}"),
            UnitKind::Item => format!("事项{code}"),
            UnitKind::Evaluator => format!("评价人{}", short_hash(code)),
            UnitKind::Department => format!("部门{code}"),
        }
    }
}

fn short_hash(h: &str) -> String {
    h.chars().take(8).collect()
}

/// A unit of a hall (the hall itself, a window, a staff member, an item) or an
/// evaluator.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Unit {
    /// Which kind.
    pub kind: UnitKind,
    /// The hall (for an evaluator: the hall of the first rating in the evidence).
    pub hall_id: String,
    /// Window no., staff no., item code, id_hash; the hall's code for the hall.
    pub code: String,
}

/// One warning, with its numbers and the ratings it rests on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The rule.
    pub rule: Rule,
    /// The unit.
    pub unit: Unit,
    /// First day (Beijing) of what it looked at.
    pub from: NaiveDate,
    /// Last day.
    pub to: NaiveDate,
    /// What was seen (bad ratings that day, ratings by one rater…).
    pub observed: f64,
    /// What is normal, where the rule has a baseline (mean per day…).
    pub baseline: Option<f64>,
    /// The explanation with the numbers, zh-CN.
    pub explanation: String,
    /// The evaluations it rests on (at most [`MAX_EVIDENCE`]).
    pub evidence: Vec<String>,
}

/// The rules' parameters (see `docs/warnings.md`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Params {
    /// 差评突增: the tail probability under the unit's own Poisson rate below which
    /// a day fires.
    pub spike_alpha: f64,
    /// …and the fewest bad ratings in a day that can fire at all.
    pub spike_min_bad: u32,
    /// …the days before it that make the baseline.
    pub baseline_days: u32,
    /// …the least rate per day assumed (a unit with no bad ratings at all).
    pub baseline_floor: f64,
    /// …and how many days of its peers' rate (the mean unit of its kind in its
    /// hall) join its own history: a unit with a short or quiet history leans on
    /// its peers, one with weeks of its own on itself.
    pub baseline_prior_days: u32,
    /// 同一评价人反复评价: this many good ratings of one window or staff member…
    pub repeat_min: u32,
    /// …within this many days.
    pub repeat_days: i64,
    /// 好评集中: a staff member with at least this many good ratings by named
    /// evaluators in the period…
    pub concentrated_min_good: u32,
    /// …of which the top evaluators (this many)…
    pub concentrated_top: usize,
    /// …gave at least this share.
    pub concentrated_share: f64,
    /// 短时集中好评: this many 非常满意 on one window…
    pub burst_min: u32,
    /// …within this many minutes…
    pub burst_minutes: i64,
    /// …of which at least this share has no 办件编号 or came within
    /// `fast_seconds` of the service.
    pub burst_suspicious_share: f64,
    /// A rating this soon after 办理时间 is suspicious.
    pub fast_seconds: i64,
    /// 恶意差评: one evaluator with at least this many bad ratings…
    pub malicious_min_bad: u32,
    /// …within this many days…
    pub malicious_days: i64,
    /// …across at least this many windows (or two halls, or this many days).
    pub malicious_min_spread: u32,
    /// 连号代评: at least this many consecutive 办件编号 of one department…
    pub serial_run_min: u32,
    /// …rated 非常满意, anonymously, through one online channel within this many
    /// minutes…
    pub serial_run_minutes: i64,
    /// …of which at least this share out of office hours or long after the service.
    pub serial_run_odd_share: f64,
    /// Office hours (Beijing), `[start, end)` hours: a rating outside them is odd.
    pub office_hours: (u32, u32),
    /// A rating this many hours or more after 办理时间 is long after the service.
    pub late_hours: i64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            spike_alpha: 0.000_025,
            spike_min_bad: 3,
            baseline_days: 56,
            baseline_floor: 0.05,
            baseline_prior_days: 14,
            repeat_min: 4,
            repeat_days: 7,
            concentrated_min_good: 20,
            concentrated_top: 3,
            concentrated_share: 0.5,
            burst_min: 8,
            burst_minutes: 10,
            burst_suspicious_share: 0.75,
            fast_seconds: 15,
            malicious_min_bad: 4,
            malicious_days: 30,
            malicious_min_spread: 3,
            serial_run_min: 6,
            serial_run_minutes: 15,
            serial_run_odd_share: 0.75,
            office_hours: (8, 18),
            late_hours: 24,
        }
    }
}

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

/// A rate per day as the sentences print it: one decimal, two below 0.1 (a quiet
/// unit's 0.04 is not "0.0").
fn per_day(x: f64) -> String {
    if x < 0.095 {
        format!("{x:.2}")
    } else {
        format!("{x:.1}")
    }
}

fn evidence(ids: impl IntoIterator<Item = String>) -> Vec<String> {
    ids.into_iter().take(MAX_EVIDENCE).collect()
}

fn md(d: NaiveDate) -> String {
    use chrono::Datelike;
    format!("{}月{}日", d.month(), d.day())
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

/// The densest run of `times` (sorted) within `span`: (start index, length).
fn densest(times: &[DateTime<FixedOffset>], span: Duration) -> (usize, usize) {
    let (mut best, mut len) = (0, 0);
    let mut lo = 0;
    for hi in 0..times.len() {
        while times[hi] - times[lo] > span {
            lo += 1;
        }
        if hi + 1 - lo > len {
            (best, len) = (lo, hi + 1 - lo);
        }
    }
    (best, len)
}

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

/// 疑似刷好评（好评集中）: a staff member whose good ratings by named evaluators in
/// `ratings` (one period) number at least `concentrated_min_good`, and of which
/// the top `concentrated_top` evaluators gave at least `concentrated_share`.
pub fn concentrated(ratings: &[Rated<'_>], p: &Params) -> Vec<Alert> {
    let mut by_staff: HashMap<(&str, &str), Vec<&Rated<'_>>> = HashMap::default();
    for r in ratings
        .iter()
        .filter(|r| r.is_good() && r.id_hash.is_some())
    {
        let Some(staff) = r.staff_no else { continue };
        by_staff.entry((r.hall_id, staff)).or_default().push(r);
    }
    let mut by_staff: Vec<_> = by_staff
        .into_iter()
        .filter(|(_, v)| v.len() as u32 >= p.concentrated_min_good)
        .collect();
    by_staff.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out = vec![];
    for ((hall, staff), rs) in by_staff {
        let unit = Unit {
            kind: UnitKind::Staff,
            hall_id: hall.to_owned(),
            code: staff.to_owned(),
        };
        let total = rs.len();
        if (total as u32) < p.concentrated_min_good {
            continue;
        }
        let mut per: HashMap<&str, Vec<&Rated<'_>>> = HashMap::default();
        for r in &rs {
            per.entry(r.id_hash.unwrap_or_default())
                .or_default()
                .push(r);
        }
        let mut top: Vec<(&str, Vec<&Rated<'_>>)> = per.into_iter().collect();
        top.sort_by(|a, b| b.1.len().cmp(&a.1.len()).then(a.0.cmp(b.0)));
        top.truncate(p.concentrated_top);
        let from_top: usize = top.iter().map(|(_, v)| v.len()).sum();
        let share = from_top as f64 / total as f64;
        if share < p.concentrated_share {
            continue;
        }
        let first = rs.iter().map(|r| r.day()).min().unwrap_or_default();
        let last = rs.iter().map(|r| r.day()).max().unwrap_or_default();
        out.push(Alert {
            rule: Rule::Concentrated,
            explanation: format!(
                "{} 的 {} 条实名好评中，{} 位评价人给出 {} 条（{:.0}%）",
                unit.kind.label(&unit.code),
                total,
                top.len(),
                from_top,
                share * 100.0
            ),
            unit,
            from: first,
            to: last,
            observed: share,
            baseline: None,
            evidence: evidence(
                top.iter()
                    .flat_map(|(_, v)| v.iter().map(|r| r.id.to_owned())),
            ),
        });
    }
    out
}

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

/// Every rule over `ratings`; spikes on the days `from..=to` (the ratings must
/// reach `baseline_days` before `from`), the others over the ratings given.
/// 系统默认评价 are left out: no person gave them, so they say nothing about a
/// rater, a window or a day.
pub fn all_alerts(ratings: &[Rated<'_>], from: NaiveDate, to: NaiveDate, p: &Params) -> Vec<Alert> {
    let by_people: Vec<Rated<'_>> = ratings
        .iter()
        .filter(|r| r.channel.is_by_a_person())
        .copied()
        .collect();
    let in_period: Vec<Rated<'_>> = by_people
        .iter()
        .filter(|r| (from..=to).contains(&r.day()))
        .copied()
        .collect();
    let mut out = spikes(&by_people, from, to, p);
    out.extend(repeat_raters(&in_period, p));
    out.extend(concentrated(&in_period, p));
    out.extend(praise_bursts(&in_period, p));
    out.extend(serial_runs(&in_period, p));
    out.extend(malicious_raters(&in_period, p));
    out
}

#[cfg(test)]
mod tests {
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
}
