//! 电子监察预警: the rules that find, while there is still time, what the monthly
//! figures hide — a day of bad ratings far above what a unit normally gets, praise
//! that looks rigged (刷好评), and raters who flood bad ratings. Pure functions over
//! ratings; the store feeds them and keeps the alerts. Each rule and its parameters
//! are written down in `docs/warnings.md`.

use std::collections::{BTreeMap, BTreeSet};

mod concentrated;
mod malicious;
mod praise;
mod repeat;
mod serial;
mod spike;
pub use concentrated::*;
pub use malicious::*;
pub use praise::*;
pub use repeat::*;
pub use serial::*;
pub use spike::*;

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
mod tests;
