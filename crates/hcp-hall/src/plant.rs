//! Anomalies planted with known answers (`hcp-hall generate --plant-anomalies`):
//! a day of bad ratings on one window, each kind of rigged praise, and raters who
//! flood bad ratings, at units chosen by the seed. The answer key written beside
//! the data says where each one is and which ratings make it, so a test can score
//! the warning rules: precision and recall per rule.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, TimeZone, Weekday};
use hcp_core::wire::{Evaluation, EvaluationStatus, Evaluator, HallProfile};
use serde::{Deserialize, Serialize};

use crate::change::NewChange;
use crate::generate::{GeneratedHall, Rng, cst};

/// The answer key's file name in a data directory.
pub const ANSWER_KEY_FILE: &str = "answer-key.json";

/// One planted anomaly.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plant {
    /// The rule that should find it (`hcp_core::warning::Rule::as_str`).
    pub rule: String,
    /// The hall (for a rater across halls: the hall of the first rating).
    pub hall_id: String,
    /// `window`, `staff`, `department` or `evaluator`.
    pub unit_kind: String,
    /// Window no., staff no., department code, or the evaluator's `id_hash`.
    pub code: String,
    /// First day (Beijing).
    pub day_from: NaiveDate,
    /// Last day.
    pub day_to: NaiveDate,
    /// The planted evaluations.
    pub evaluations: Vec<String>,
    /// What was planted, zh-CN.
    pub what: String,
}

/// Every planted anomaly of a dataset.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AnswerKey {
    /// The generator's seed.
    pub seed: u64,
    /// The month planted, `YYYY-MM`.
    pub month: String,
    /// The plants.
    pub plants: Vec<Plant>,
}

/// An alert as the scoring sees it.
#[derive(Debug, Clone)]
pub struct Found<'a> {
    /// Its rule.
    pub rule: &'a str,
    /// Its unit's kind.
    pub unit_kind: &'a str,
    /// Its unit's hall.
    pub hall_id: &'a str,
    /// Its unit's code.
    pub code: &'a str,
    /// First day.
    pub day_from: NaiveDate,
    /// Last day.
    pub day_to: NaiveDate,
    /// The evaluations it rests on.
    pub evidence: &'a [String],
}

/// How one rule did against the key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleScore {
    /// The rule.
    pub rule: String,
    /// Plants of this rule.
    pub plants: usize,
    /// …found by an alert of this rule on the planted unit and days.
    pub found: usize,
    /// Alerts of this rule.
    pub alerts: usize,
    /// …resting on planted ratings (at least 3 of its evidence, or all of it).
    pub true_alerts: usize,
}

impl RuleScore {
    /// Share of the rule's alerts that point at planted ratings (1 with no alerts).
    pub fn precision(&self) -> f64 {
        if self.alerts == 0 {
            1.0
        } else {
            self.true_alerts as f64 / self.alerts as f64
        }
    }
    /// Share of the rule's plants that it found (1 with no plants).
    pub fn recall(&self) -> f64 {
        if self.plants == 0 {
            1.0
        } else {
            self.found as f64 / self.plants as f64
        }
    }
}

/// The rules scored, in this order.
pub const RULES: [&str; 6] = [
    "spike",
    "repeat_rater",
    "concentrated",
    "praise_burst",
    "serial_run",
    "malicious_rater",
];

/// Scores alerts against the key, rule by rule.
///
/// A plant is found when an alert of its rule names its unit (its hall too,
/// except for an evaluator, who may rate in several halls) and its days overlap
/// the plant's. An alert is true when it rests on planted ratings: at least three
/// of its evidence, or all of it. A planted spike on a window is then also rightly
/// seen on that window's staff, its items and its hall that day.
pub fn score(key: &AnswerKey, alerts: &[Found<'_>]) -> Vec<RuleScore> {
    let planted: HashSet<&str> = key
        .plants
        .iter()
        .flat_map(|p| p.evaluations.iter().map(String::as_str))
        .collect();
    RULES
        .iter()
        .map(|&rule| {
            let plants: Vec<&Plant> = key.plants.iter().filter(|p| p.rule == rule).collect();
            let mine: Vec<&Found<'_>> = alerts.iter().filter(|a| a.rule == rule).collect();
            let found = plants
                .iter()
                .filter(|p| {
                    mine.iter().any(|a| {
                        a.unit_kind == p.unit_kind
                            && a.code == p.code
                            && (p.unit_kind == "evaluator" || a.hall_id == p.hall_id)
                            && a.day_from <= p.day_to
                            && p.day_from <= a.day_to
                    })
                })
                .count();
            let true_alerts = mine
                .iter()
                .filter(|a| {
                    let hits = a
                        .evidence
                        .iter()
                        .filter(|e| planted.contains(e.as_str()))
                        .count();
                    hits >= 3 || (hits > 0 && hits == a.evidence.len())
                })
                .count();
            RuleScore {
                rule: rule.to_owned(),
                plants: plants.len(),
                found,
                alerts: mine.len(),
                true_alerts,
            }
        })
        .collect()
}

/// A window as planting sees it: its no., its staff nos., its department's
/// items (code, name).
type WindowView = (String, Vec<String>, Vec<(String, String)>);

/// What planting needs of a hall: its windows with their staff and items, and
/// how many named good ratings each staff member already has.
struct HallView {
    hall_id: String,
    region: String,
    windows: Vec<WindowView>,
    /// Departments with items: (code, its items (code, name)).
    departments: Vec<(String, Vec<(String, String)>)>,
    named_good: HashMap<String, usize>,
}

impl HallView {
    fn of(g: &GeneratedHall) -> Self {
        let p: &HallProfile = &g.profile;
        let windows = p
            .windows
            .iter()
            .map(|w| {
                let staff = p
                    .staff
                    .iter()
                    .filter(|s| s.window_no.as_deref() == Some(&w.no))
                    .map(|s| s.no.clone())
                    .collect();
                let items = p
                    .items
                    .iter()
                    .filter(|i| i.department_code == w.department_code)
                    .map(|i| (i.code.clone(), i.name.clone()))
                    .collect();
                (w.no.clone(), staff, items)
            })
            .filter(|(_, staff, items): &(_, Vec<String>, Vec<_>)| {
                !staff.is_empty() && !items.is_empty()
            })
            .collect();
        let departments = p
            .departments
            .iter()
            .map(|d| {
                let items = p
                    .items
                    .iter()
                    .filter(|i| i.department_code.as_deref() == Some(d.code.as_str()))
                    .map(|i| (i.code.clone(), i.name.clone()))
                    .collect::<Vec<_>>();
                (d.code.clone(), items)
            })
            .filter(|(_, items)| !items.is_empty())
            .collect();
        let mut named_good: HashMap<String, usize> = HashMap::new();
        for c in g.changes.iter().filter(|c| c.kind == "evaluation") {
            let Ok(e) = serde_json::from_str::<Evaluation>(&c.data) else {
                continue;
            };
            if e.rev == 1
                && e.level >= 4
                && e.evaluator.id_hash.is_some()
                && let Some(s) = e.staff_no
            {
                *named_good.entry(s).or_default() += 1;
            }
        }
        HallView {
            hall_id: p.hall_id.clone(),
            region: p.region_code.clone(),
            windows,
            departments,
            named_good,
        }
    }
}

/// Builds planted evaluations with ids that no generated one has.
struct Planter {
    rng: Rng,
    /// The days plants may fall on.
    first: NaiveDate,
    last: NaiveDate,
    counter: u64,
}

/// One planted rating's shape.
struct Shape<'a> {
    window: &'a str,
    staff: Option<&'a str>,
    item: &'a (String, String),
    level: u8,
    at: DateTime<FixedOffset>,
    /// Seconds between 办理 and 评价.
    after_service: i64,
    serial: bool,
    id_hash: Option<&'a str>,
}

impl Planter {
    fn hex(&mut self) -> String {
        self.rng.hex(32)
    }

    fn at(&mut self, day: NaiveDate, from_h: u32, span_min: u64) -> DateTime<FixedOffset> {
        let secs = i64::from(from_h) * 3600 + self.rng.below(span_min * 60) as i64;
        let naive = day.and_hms_opt(0, 0, 0).expect("midnight") + Duration::seconds(secs);
        cst()
            .from_local_datetime(&naive)
            .single()
            .expect("fixed offset is unambiguous")
    }

    /// A working day (Monday–Friday) at least `after` days after the first day
    /// and `room` days before the last; `None` when the range has none.
    fn weekday(&mut self, after: i64, room: i64) -> Option<NaiveDate> {
        let lo = self.first + Duration::days(after);
        let hi = self.last - Duration::days(room);
        let days: Vec<NaiveDate> = lo
            .iter_days()
            .take_while(|d| *d <= hi)
            .filter(|d| !matches!(d.weekday(), Weekday::Sat | Weekday::Sun))
            .collect();
        (!days.is_empty()).then(|| *self.rng.pick(&days))
    }

    fn evaluation(&mut self, v: &HallView, s: Shape<'_>) -> Evaluation {
        self.counter += 1;
        let bad = hcp_core::rating::is_bad_level(s.level);
        Evaluation {
            id: format!("P{}{:06}", s.at.format("%Y%m%d"), self.counter),
            rev: 1,
            hall_id: v.hall_id.clone(),
            serial_no: s
                .serial
                .then(|| format!("{}-{}-P{:06}", v.region, s.at.year(), self.counter)),
            item_code: Some(s.item.0.clone()),
            item_name: Some(s.item.1.clone()),
            department_code: None,
            window_no: Some(s.window.to_owned()),
            staff_no: s.staff.map(str::to_owned),
            channel: "window_device".into(),
            level: s.level,
            reasons: if bad { vec!["attitude".into()] } else { vec![] },
            comment: if bad {
                "等了很久没人理".into()
            } else {
                String::new()
            },
            served_at: Some(s.at - Duration::seconds(s.after_service)),
            evaluated_at: s.at,
            evaluator: match s.id_hash {
                Some(h) => Evaluator {
                    real_name: true,
                    name_masked: Some("王*".into()),
                    phone_masked: Some("139****0000".into()),
                    id_hash: Some(h.to_owned()),
                },
                None => Evaluator::default(),
            },
            status: EvaluationStatus::Valid,
        }
    }
}

/// Plants anomalies into generated halls of one month (`year`, `month`), and
/// returns where they are. Per hall: a spike of bad ratings on one window, an
/// evaluator praising one window again and again, a staff member praised mostly
/// by three evaluators, a burst of 非常满意 on one window, a script praising a run
/// of consecutive 办件编号 of one department at night, and a rater flooding bad
/// ratings over several windows (every third of them over two halls).
pub fn plant_anomalies(halls: &mut [GeneratedHall], seed: u64, year: i32, month: u32) -> AnswerKey {
    let first = NaiveDate::from_ymd_opt(year, month, 1).expect("a valid month");
    let last = first
        .checked_add_months(chrono::Months::new(1))
        .and_then(|d| d.pred_opt())
        .expect("a valid month");
    // The month's data begins on its first day: a spike needs days before it.
    plant_between(halls, seed, first, last, 11, &RULES)
}

/// Plants the anomalies of `kinds` (rule names) on working days of
/// `first..=last` (the demo: a spike and a burst in the days of this month before
/// today), a spike no sooner than `spike_after` days after `first` (the days its
/// baseline needs, where the data begins at `first`). A kind that needs more days
/// than the range has is left out.
pub fn plant_between(
    halls: &mut [GeneratedHall],
    seed: u64,
    first: NaiveDate,
    last: NaiveDate,
    spike_after: i64,
    kinds: &[&str],
) -> AnswerKey {
    let views: Vec<HallView> = halls.iter().map(HallView::of).collect();
    let mut p = Planter {
        rng: Rng::new(seed ^ 0x504C_414E_5400),
        first,
        last,
        counter: 0,
    };
    let wants = |k: &str| kinds.contains(&k);
    let mut plants = vec![];
    let mut added: Vec<Vec<Evaluation>> = vec![vec![]; halls.len()];
    for (hi, v) in views.iter().enumerate() {
        if v.windows.len() < 4 {
            continue;
        }
        // Four different windows: spike, repeat, burst, and the concentrated staff's.
        let mut order: Vec<usize> = (0..v.windows.len()).collect();
        for i in (1..order.len()).rev() {
            order.swap(i, p.rng.below(i as u64 + 1) as usize);
        }
        let w = |k: usize| &v.windows[order[k]];

        // 差评突增: 6–9 bad ratings on one window in one working day.
        if wants("spike")
            && let Some(day) = p.weekday(spike_after, 0)
        {
            let (wno, staff, items) = w(0);
            let n = 6 + p.rng.below(4) as usize;
            let mut ids = vec![];
            for _ in 0..n {
                let at = p.at(day, 9, 8 * 60);
                let staff_no = p.rng.pick(staff).clone();
                let item = p.rng.pick(items).clone();
                let after = 120 + p.rng.below(1800) as i64;
                let who = p.rng.chance(0.6).then(|| p.hex());
                let level = 1 + p.rng.below(2) as u8;
                let e = p.evaluation(
                    v,
                    Shape {
                        window: wno,
                        staff: Some(&staff_no),
                        item: &item,
                        level,
                        at,
                        after_service: after,
                        serial: true,
                        id_hash: who.as_deref(),
                    },
                );
                ids.push(e.id.clone());
                added[hi].push(e);
            }
            plants.push(Plant {
                rule: "spike".into(),
                hall_id: v.hall_id.clone(),
                unit_kind: "window".into(),
                code: wno.clone(),
                day_from: day,
                day_to: day,
                what: format!("{wno}窗口 {day} 差评 {n} 条"),
                evaluations: ids,
            });
        }

        // 同一评价人反复评价: one evaluator praises one window 5–6 times in 5 days.
        if wants("repeat_rater")
            && let Some(first) = p.weekday(2, 5)
        {
            let (wno, staff, items) = w(1);
            let who = p.hex();
            let n = 5 + p.rng.below(2) as usize;
            let mut ids = vec![];
            let mut last = first;
            for k in 0..n {
                let day = first + Duration::days((k as i64 * 5) / n as i64);
                last = last.max(day);
                let at = p.at(day, 9, 8 * 60);
                let staff_no = p.rng.pick(staff).clone();
                let item = p.rng.pick(items).clone();
                let after = 60 + p.rng.below(600) as i64;
                let e = p.evaluation(
                    v,
                    Shape {
                        window: wno,
                        staff: Some(&staff_no),
                        item: &item,
                        level: 5,
                        at,
                        after_service: after,
                        serial: true,
                        id_hash: Some(&who),
                    },
                );
                ids.push(e.id.clone());
                added[hi].push(e);
            }
            plants.push(Plant {
                rule: "repeat_rater".into(),
                hall_id: v.hall_id.clone(),
                unit_kind: "window".into(),
                code: wno.clone(),
                day_from: first,
                day_to: last,
                what: format!("同一评价人 5 天内对 {wno}窗口好评 {n} 次"),
                evaluations: ids,
            });
        }

        // 短时集中好评: 9–12 非常满意 on one window within 6 minutes, most without
        // a 办件编号 or seconds after the service.
        if wants("praise_burst")
            && let Some(day) = p.weekday(0, 0)
        {
            let (wno, staff, items) = w(2);
            let start = p.at(day, 10, 5 * 60);
            let n = 9 + p.rng.below(4) as usize;
            let mut ids = vec![];
            for k in 0..n {
                let at = start + Duration::seconds((k as i64 * 360) / n as i64);
                let staff_no = p.rng.pick(staff).clone();
                let item = p.rng.pick(items).clone();
                // All but one: no 办件编号, or 2–11 s after the service.
                let odd = k > 0;
                let (serial, after) = match (odd, p.rng.chance(0.5)) {
                    (true, true) => (false, 60 + p.rng.below(600) as i64),
                    (true, false) => (true, 2 + p.rng.below(10) as i64),
                    (false, _) => (true, 120 + p.rng.below(900) as i64),
                };
                let e = p.evaluation(
                    v,
                    Shape {
                        window: wno,
                        staff: Some(&staff_no),
                        item: &item,
                        level: 5,
                        at,
                        after_service: after,
                        serial,
                        id_hash: None,
                    },
                );
                ids.push(e.id.clone());
                added[hi].push(e);
            }
            plants.push(Plant {
                rule: "praise_burst".into(),
                hall_id: v.hall_id.clone(),
                unit_kind: "window".into(),
                code: wno.clone(),
                day_from: day,
                day_to: day,
                what: format!("{wno}窗口 {day} 6 分钟内“非常满意” {n} 条"),
                evaluations: ids,
            });
        }

        // 好评集中: three evaluators give a staff member more good ratings over the
        // month than everyone else together.
        if wants("concentrated") && p.weekday(0, 0).is_some() {
            let (wno, staff, items) = w(3);
            let staff_no = staff
                .iter()
                .min_by_key(|s| (v.named_good.get(*s).copied().unwrap_or(0), (*s).clone()))
                .expect("a window with staff")
                .clone();
            let others = v.named_good.get(&staff_no).copied().unwrap_or(0);
            let each = (others * 2 / 3 + 1).max(7);
            let raters: Vec<String> = (0..3).map(|_| p.hex()).collect();
            let mut ids = vec![];
            let (mut lo, mut hi_day) = (None::<NaiveDate>, None::<NaiveDate>);
            for who in &raters {
                for _ in 0..each {
                    let Some(day) = p.weekday(0, 0) else { break };
                    lo = Some(lo.map_or(day, |d| d.min(day)));
                    hi_day = Some(hi_day.map_or(day, |d| d.max(day)));
                    let at = p.at(day, 9, 8 * 60);
                    let item = p.rng.pick(items).clone();
                    let after = 60 + p.rng.below(900) as i64;
                    let level = 4 + u8::from(p.rng.chance(0.8));
                    let e = p.evaluation(
                        v,
                        Shape {
                            window: wno,
                            staff: Some(&staff_no),
                            item: &item,
                            level,
                            at,
                            after_service: after,
                            serial: true,
                            id_hash: Some(who),
                        },
                    );
                    ids.push(e.id.clone());
                    added[hi].push(e);
                }
            }
            plants.push(Plant {
                rule: "concentrated".into(),
                hall_id: v.hall_id.clone(),
                unit_kind: "staff".into(),
                code: staff_no.clone(),
                day_from: lo.expect("planted"),
                day_to: hi_day.expect("planted"),
                what: format!(
                    "3 位评价人各给工号{staff_no} 好评 {each} 条（其余实名好评约 {others} 条）"
                ),
                evaluations: ids,
            });
        }

        // 连号代评: a script rates 8–11 consecutive 办件编号 of one department 非常满意,
        // anonymously, through one online channel, a minute or so apart at night,
        // days after the 办件 were finished.
        if wants("serial_run")
            && !v.departments.is_empty()
            && let Some(day) = p.weekday(0, 0)
        {
            let (dept, items) = &v.departments[p.rng.below(v.departments.len() as u64) as usize];
            let channel = *p.rng.pick(&["app", "web", "qr_code"]);
            let n = 8 + p.rng.below(4) as usize;
            let base = 1_000_000 + p.rng.below(8_000_000);
            let start = p.at(day, 21, 120);
            let served = start - Duration::days(2 + p.rng.below(9) as i64);
            // The script walks its list in its own order, not the clock's.
            let mut order: Vec<usize> = (0..n).collect();
            for i in (1..n).rev() {
                order.swap(i, p.rng.below(i as u64 + 1) as usize);
            }
            let mut ids = vec![];
            let mut at = start;
            for k in order {
                p.counter += 1;
                at += Duration::seconds(40 + p.rng.below(50) as i64);
                let item = p.rng.pick(items).clone();
                let e = Evaluation {
                    id: format!("P{}{:06}", at.format("%Y%m%d"), p.counter),
                    rev: 1,
                    hall_id: v.hall_id.clone(),
                    serial_no: Some(format!(
                        "{}-{}-S{:07}",
                        v.region,
                        at.year(),
                        base + k as u64
                    )),
                    item_code: Some(item.0),
                    item_name: Some(item.1),
                    department_code: Some(dept.clone()),
                    window_no: None,
                    staff_no: None,
                    channel: channel.into(),
                    level: 5,
                    reasons: vec![],
                    comment: String::new(),
                    served_at: Some(served),
                    evaluated_at: at,
                    evaluator: Evaluator::default(),
                    status: EvaluationStatus::Valid,
                };
                ids.push(e.id.clone());
                added[hi].push(e);
            }
            plants.push(Plant {
                rule: "serial_run".into(),
                hall_id: v.hall_id.clone(),
                unit_kind: "department".into(),
                code: dept.clone(),
                day_from: day,
                day_to: at.with_timezone(&cst()).date_naive(),
                what: format!("部门{dept} {day} 夜间连号 {n} 件匿名“非常满意”"),
                evaluations: ids,
            });
        }

        // 疑似恶意差评: 5–6 bad ratings over 3+ windows within 20 days; every third
        // one also in the next hall.
        if wants("malicious_rater")
            && let Some(first) = p.weekday(0, 19)
        {
            let who = p.hex();
            let n = 5 + p.rng.below(2) as usize;
            let across = hi % 3 == 1 && hi + 1 < views.len() && views[hi + 1].windows.len() >= 3;
            let mut ids = vec![];
            let mut days = vec![];
            for k in 0..n {
                let (h, vv) = if across && k % 2 == 1 {
                    (hi + 1, &views[hi + 1])
                } else {
                    (hi, v)
                };
                let (wno, staff, items) = &vv.windows[k % vv.windows.len()];
                let day = first + Duration::days((k as i64 * 18) / n as i64);
                let at = p.at(day, 9, 8 * 60);
                let staff_no = p.rng.pick(staff).clone();
                let item = p.rng.pick(items).clone();
                let after = 300 + p.rng.below(1800) as i64;
                let level = 1 + p.rng.below(2) as u8;
                let e = p.evaluation(
                    vv,
                    Shape {
                        window: wno,
                        staff: Some(&staff_no),
                        item: &item,
                        level,
                        at,
                        after_service: after,
                        serial: true,
                        id_hash: Some(&who),
                    },
                );
                days.push(day);
                ids.push(e.id.clone());
                added[h].push(e);
            }
            plants.push(Plant {
                rule: "malicious_rater".into(),
                hall_id: v.hall_id.clone(),
                unit_kind: "evaluator".into(),
                code: who,
                day_from: days[0],
                day_to: days[n - 1],
                what: format!(
                    "同一评价人 {} 天内差评 {n} 条，涉及 {} 个窗口{}",
                    (days[n - 1] - days[0]).num_days() + 1,
                    n.min(v.windows.len()),
                    if across { "、2 个大厅" } else { "" }
                ),
                evaluations: ids,
            });
        }
    }
    for (g, mut extra) in halls.iter_mut().zip(added) {
        // They reach the hall after what it had, in the order they were given.
        extra.sort_by_key(|e| e.evaluated_at);
        g.changes
            .extend(extra.iter().map(|e| NewChange::new("evaluation", e)));
    }
    AnswerKey {
        seed,
        month: first.format("%Y-%m").to_string(),
        plants,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{GenSpec, HallState, generate};
    use hcp_core::warning::{Params, Rated, all_alerts};

    /// The alerts of the rules over the halls' latest revisions, as stored.
    fn alerts_of(halls: &[GeneratedHall]) -> (Vec<hcp_core::warning::Alert>, usize) {
        let mut evals = vec![];
        let mut windows = 0;
        for g in halls {
            windows += g.profile.windows.len();
            let h = HallState::from_generated(g.clone());
            for ((kind, _), (_, data)) in h.latest_records() {
                if kind != "evaluation" {
                    continue;
                }
                let e: Evaluation = serde_json::from_str(&data).unwrap();
                if e.status != EvaluationStatus::Withdrawn {
                    evals.push(e);
                }
            }
        }
        let rated: Vec<Rated<'_>> = evals
            .iter()
            .map(|e| Rated {
                id: &e.id,
                hall_id: &e.hall_id,
                window_no: e.window_no.as_deref(),
                staff_no: e.staff_no.as_deref(),
                item_code: e.item_code.as_deref(),
                department_code: e.department_code.as_deref(),
                channel: hcp_core::rating::Channel::from_wire(&e.channel),
                level: e.level,
                evaluated_at: e.evaluated_at,
                served_at: e.served_at,
                serial_no: e.serial_no.as_deref(),
                id_hash: e.evaluator.id_hash.as_deref(),
            })
            .collect();
        let from = NaiveDate::from_ymd_opt(2026, 10, 1).unwrap();
        let to = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
        (all_alerts(&rated, from, to, &Params::default()), windows)
    }

    /// Precision and recall of every rule at least 0.9 on planted data, and at
    /// most 1 alert per 100 windows on the same data without the plants. (The
    /// end-to-end run through a real sync is `tests/cli/alerts.rs`.)
    #[test]
    fn every_rule_finds_the_plants_and_little_else() {
        let spec = GenSpec {
            seed: 11,
            halls: 20,
            evaluations: 80_000,
            year: 2026,
            month: 10,
            months: 1,
        };
        let clean = generate(&spec);
        let (alerts, windows) = alerts_of(&clean);
        assert!(
            alerts.len() * 100 <= windows,
            "{} alerts on clean data over {windows} windows: {:#?}",
            alerts.len(),
            alerts.iter().map(|a| &a.explanation).collect::<Vec<_>>()
        );
        let mut planted = clean.clone();
        let key = plant_anomalies(&mut planted, spec.seed, 2026, 10);
        assert_eq!(key.plants.len(), RULES.len() * 20);
        let (alerts, _) = alerts_of(&planted);
        let found: Vec<Found<'_>> = alerts
            .iter()
            .map(|a| Found {
                rule: a.rule.as_str(),
                unit_kind: a.unit.kind.as_str(),
                hall_id: &a.unit.hall_id,
                code: &a.unit.code,
                day_from: a.from,
                day_to: a.to,
                evidence: &a.evidence,
            })
            .collect();
        for s in score(&key, &found) {
            assert_eq!(s.plants, 20, "{s:?}");
            assert!(s.precision() >= 0.9 && s.recall() >= 0.9, "{s:?}");
        }
    }

    #[test]
    fn scoring_by_hand() {
        let day = NaiveDate::from_ymd_opt(2026, 10, 12).unwrap();
        let ids = |p: &str, n: usize| (0..n).map(|i| format!("{p}{i}")).collect::<Vec<_>>();
        let key = AnswerKey {
            seed: 1,
            month: "2026-10".into(),
            plants: vec![Plant {
                rule: "spike".into(),
                hall_id: "H".into(),
                unit_kind: "window".into(),
                code: "A03".into(),
                day_from: day,
                day_to: day,
                evaluations: ids("P", 6),
                what: String::new(),
            }],
        };
        let (planted, natural) = (ids("P", 6), ids("E", 4));
        let mut mixed = ids("P", 3);
        mixed.extend(ids("E", 9));
        fn alert<'a>(code: &'a str, kind: &'a str, day: NaiveDate, ev: &'a [String]) -> Found<'a> {
            Found {
                rule: "spike",
                unit_kind: kind,
                hall_id: "H",
                code,
                day_from: day,
                day_to: day,
                evidence: ev,
            }
        }
        // The window itself, the hall that day (3 planted of 12: true), and a
        // natural spike elsewhere (false).
        let found = [
            alert("A03", "window", day, &planted),
            alert("H", "hall", day, &mixed),
            alert("B01", "window", day, &natural),
        ];
        let s = &score(&key, &found)[0];
        assert_eq!((s.plants, s.found, s.alerts, s.true_alerts), (1, 1, 3, 2));
        // The same unit on another day does not find the plant.
        let other = alert("A03", "window", day + Duration::days(1), &planted);
        let s = &score(&key, &[other])[0];
        assert_eq!((s.found, s.true_alerts), (0, 1));
    }
}
