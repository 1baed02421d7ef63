//! The report model: every metric of DOMAIN.md ("Monthly report — metrics,
//! exactly") with its numerator and denominator, computed from the cache.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use hcp_core::case::CaseState;
use hcp_core::metrics::{Period, beijing};
use hcp_store::{ReportCase, Store};
use serde::{Deserialize, Serialize};

use crate::ReportError;

/// The JSON schema name this model follows (see `docs/report-schema.md`).
pub const SCHEMA: &str = "hcp-monthly-report/1";

/// A rate as the report prints it (one type with the dashboard's).
pub use hcp_core::metrics::RateView;

/// A mean as the report prints it: sum and count, the mean to two decimals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MeanView {
    /// Σ.
    pub sum: i64,
    /// n.
    pub count: i64,
    /// "4.85" or "—".
    pub display: String,
}

impl MeanView {
    /// `sum / count` with `scale` implied decimals in `sum` (0 for plain values,
    /// 1 for tenths), shown with `decimals` decimals, half up.
    pub fn of(sum: i64, count: i64, scale: u32, decimals: u32) -> Self {
        let display = if count == 0 {
            "—".to_string()
        } else {
            // value × 10^decimals = sum × 10^decimals / (count × 10^scale), half up.
            let num = i128::from(sum) * 10i128.pow(decimals);
            let den = i128::from(count) * 10i128.pow(scale);
            let v = (2 * num + den) / (2 * den);
            let p = 10i128.pow(decimals);
            if decimals == 0 {
                v.to_string()
            } else {
                format!("{}.{:0width$}", v / p, v % p, width = decimals as usize)
            }
        };
        Self {
            sum,
            count,
            display,
        }
    }
}

/// The figures of one scope and month.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    /// 评价量 E: valid evaluations.
    pub evaluations: i64,
    /// 各等级数: level 1..5 (index 0 is level 1).
    pub levels: [i64; 5],
    /// 好评率: level 3–5 / E.
    pub good_rate: RateView,
    /// 差评数.
    pub bad: i64,
    /// 差评率.
    pub bad_rate: RateView,
    /// 综合评分: mean level, 2 decimals.
    pub mean_score: MeanView,
    /// 差评整改率: valid bad ratings whose case is closed / valid bad ratings.
    pub rectification_rate: RateView,
    /// 按期整改率: closed on or before the rectification deadline / cases whose
    /// rectification deadline fell in the month.
    pub on_time_rate: RateView,
    /// 回访率: valid bad ratings with a callback recorded / valid bad ratings.
    pub callback_rate: RateView,
    /// 回访满意率: satisfied + basically satisfied / callbacks with an answer.
    pub callback_satisfaction: RateView,
    /// 申诉数: appeals filed in the month.
    pub appeals: i64,
    /// 申诉成立率: upheld / decided (of the month's appeals).
    pub appeal_upheld_rate: RateView,
    /// 超期数: cases overdue at the cut-off.
    pub overdue: i64,
    /// 暗访平均分: mean score of visits closed in the month.
    pub visit_mean_score: MeanView,
    /// 系统默认评价, counted apart (absent in reports issued before it).
    #[serde(default)]
    pub system_default: SystemDefaultView,
}

/// 系统默认评价 of a period: ratings the system filled in because the citizen
/// gave none. Whether the figures above count them is a policy setting (off by
/// default); the report says which.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SystemDefaultView {
    /// How many (valid: latest rev, not withdrawn, not excluded).
    pub count: i64,
    /// Their share of all valid ratings, theirs included.
    pub share: RateView,
    /// Whether 评价量, 各等级数, 好评率, 差评率 and 综合评分 include them.
    pub counted: bool,
    /// The sentence the report prints.
    pub text: String,
}

impl Default for SystemDefaultView {
    fn default() -> Self {
        Self::of(0, 0, false)
    }
}

impl SystemDefaultView {
    /// `count` of `all` valid ratings, `counted` in the figures or not.
    pub fn of(count: i64, all: i64, counted: bool) -> Self {
        let share = RateView::of(count, all);
        let text = if count == 0 {
            "无系统默认评价".to_string()
        } else {
            format!(
                "系统默认评价 {count} 件，占全部评价的 {}，{}",
                share.display,
                if counted {
                    "已计入评价量和好评率（按设置）"
                } else {
                    "未计入评价量和好评率（按设置）"
                }
            )
        };
        Self {
            count,
            share,
            counted,
            text,
        }
    }
}

/// A row of the per-department / per-window / per-staff tables.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroupRow {
    /// 大厅编码.
    pub hall_id: String,
    /// Code (部门编码 / 窗口号 / 工号); `null` for "not given".
    pub code: Option<String>,
    /// Name from the hall's profile.
    pub name: String,
    /// 评价量.
    pub evaluations: i64,
    /// 好评 (3–5).
    pub good: i64,
    /// 差评 (1–2).
    pub bad: i64,
    /// 好评率.
    pub good_rate: RateView,
    /// 综合评分.
    pub mean_score: MeanView,
}

/// A line of the 差评整改台账 / 超期清单 / 典型案例.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerRow {
    /// 工单号.
    pub case_id: i64,
    /// 大厅.
    pub hall: String,
    /// 评价编号.
    pub evaluation_id: String,
    /// 评价时间 (Beijing, `YYYY-MM-DD HH:MM`).
    pub evaluated_at: String,
    /// 等级.
    pub level: Option<u8>,
    /// 等级的中文名 (不满意…); absent in reports issued before it.
    #[serde(default)]
    pub level_name: Option<String>,
    /// 窗口.
    pub window_no: Option<String>,
    /// 评价内容.
    pub comment: String,
    /// 状态 (中文).
    pub state: String,
    /// 整改时限 (Beijing date), when one applies.
    pub deadline: Option<String>,
    /// The deadline rests on the Monday–Friday fallback.
    pub deadline_estimated: bool,
    /// 整改措施.
    pub measures: String,
    /// 回访结果 (中文), the latest.
    pub callback: String,
    /// Overdue at the cut-off.
    pub overdue: bool,
}

/// How many cases of one hall were overdue at the cut-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OverdueHall {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅.
    pub hall: String,
    /// 超期件数.
    pub overdue: i64,
    /// The earliest of their current deadlines (Beijing date): how long the
    /// oldest has waited.
    pub earliest_due: String,
}

/// How many overdue cases the model lists (the longest overdue first); a
/// province's backlog runs to hundreds of thousands, which no 通报 prints and no
/// preview should carry. The Excel export of a draft lists every one.
pub const OVERDUE_LISTED: usize = 200;

/// The 差评整改台账 lines a report model carries: a hall's month fits (a province's
/// year has half a million cases, which no 通报 prints and no preview should carry);
/// the 通报 prints the first 200, the Excel export of a draft lists every one.
pub const LEDGER_LISTED: usize = 1000;

impl LedgerRow {
    /// Whether its case is closed (its state, as printed, is a closed one).
    pub fn is_closed(&self) -> bool {
        CaseState::ALL
            .iter()
            .any(|s| s.is_closed() && s.label_zh() == self.state)
    }
}

/// The 差评整改台账 counted whole.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerSummary {
    /// Cases.
    pub total: i64,
    /// …closed.
    pub closed: i64,
    /// …not closed and past their deadline at the cut-off.
    pub overdue: i64,
}

impl MonthlyReport {
    /// The ledger counted whole: the kept summary, or (a report issued before it
    /// was kept, whose list is the whole ledger) counted from the list.
    pub fn ledger_counts(&self) -> LedgerSummary {
        if self.ledger_summary.total > 0 || self.ledger.is_empty() {
            return self.ledger_summary;
        }
        let n = |f: fn(&LedgerRow) -> bool| self.ledger.iter().filter(|l| f(l)).count() as i64;
        LedgerSummary {
            total: self.ledger.len() as i64,
            closed: n(LedgerRow::is_closed),
            overdue: n(|l| l.overdue),
        }
    }
}

/// A line of 申诉复核情况.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppealRow {
    /// 大厅.
    pub hall: String,
    /// 申诉编号.
    pub appeal_id: String,
    /// 评价编号.
    pub evaluation_id: String,
    /// 提出时间 (Beijing).
    pub filed_at: String,
    /// 申诉理由 (中文).
    pub ground: String,
    /// 复核结论 (中文): 申诉成立 / 驳回 / 待复核.
    pub verdict: String,
}

/// A line of 暗访情况 (never who the shopper was).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VisitLine {
    /// 大厅.
    pub hall: String,
    /// 得分.
    pub score: String,
    /// 严重问题一票否决.
    pub failed: bool,
    /// 主要问题.
    pub findings: Vec<String>,
}

/// A line of 预警与处置: an alert of the month and what the officers decided.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlertLine {
    /// 大厅.
    pub hall: String,
    /// 预警类型 (中文).
    pub rule: String,
    /// 对象: 全厅, A03窗口, 工号S1021, 事项…, 评价人（前 8 位）.
    pub unit: String,
    /// 日期: one day or first–last.
    pub days: String,
    /// The explanation with the numbers.
    pub explanation: String,
    /// 待处置 / 已确认 / 已排除.
    pub state: String,
    /// 处置说明.
    pub note: Option<String>,
}

/// The scope.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scope {
    /// One hall, or `null` for all.
    pub hall_id: Option<String>,
    /// Its name, or 全部大厅.
    pub name: String,
}

/// Report settings (红黑榜, 典型案例).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReportSettings {
    /// Rows in each of 红榜 and 黑榜.
    pub top_n: usize,
    /// Windows with fewer evaluations are not ranked.
    pub min_evaluations: i64,
    /// 典型案例 chosen by the officer (case ids, in order); empty: the most recent
    /// overdue cases of the month, severest rating first.
    #[serde(default)]
    pub typical: Vec<i64>,
    /// Whether 系统默认评价 count in 评价量 and the rates (policy; off by default).
    #[serde(default)]
    pub count_system_default: bool,
}

impl Default for ReportSettings {
    fn default() -> Self {
        Self {
            top_n: 5,
            min_evaluations: 20,
            typical: vec![],
            count_system_default: false,
        }
    }
}

/// How an issued report is numbered and signed (absent on a draft).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IssueInfo {
    /// 〔2026〕第3期.
    pub number: String,
    /// 发文字号 as the 公文 prints it (某政管〔2026〕3号); absent before it existed.
    #[serde(default)]
    pub doc_number: Option<String>,
    /// 1, 2, … (2+ are corrections).
    pub version: i64,
    /// 更正说明.
    pub correction: Option<String>,
    /// 签发人.
    pub issued_by: String,
    /// 签发日期 (Beijing), e.g. 2026年11月23日.
    pub issued_at: String,
    /// The head of the audit chain when the report was signed (printed in the
    /// footer). Absent in snapshots issued before it was recorded.
    #[serde(default)]
    pub audit_head: Option<AuditHead>,
}

/// The last row of the audit chain: its sequence number and hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditHead {
    /// 序号.
    pub seq: i64,
    /// sha256 hex.
    pub hash: String,
}

/// One month of a quarterly or yearly report's trend table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrendRow {
    /// `2026-07`.
    pub month: String,
    /// `7月`.
    pub label: String,
    /// The month's figures (超期数 as of the month's end, or the cut-off).
    pub metrics: Metrics,
}

fn monthly() -> String {
    "monthly".into()
}
fn this_month() -> String {
    "本月".into()
}
fn last_month() -> String {
    "上月".into()
}

/// The report model (月度, 季度 or 年度通报): everything every output shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MonthlyReport {
    /// [`SCHEMA`].
    pub schema: String,
    /// The period's key: `2026-10`, `2026-Q3` or `2026` (the field keeps its
    /// first name, so reports issued before quarters existed still load and the
    /// hub's API is unchanged).
    pub month: String,
    /// `monthly`, `quarterly` or `yearly`.
    #[serde(default = "monthly")]
    pub kind: String,
    /// How the text names the period and the one before: 本月/上月,
    /// 本季度/上季度, 本年度/上年度.
    #[serde(default = "this_month")]
    pub current_name: String,
    /// See `current_name`.
    #[serde(default = "last_month")]
    pub previous_name: String,
    /// 「2026年10月政务服务"好差评"情况通报」.
    pub title: String,
    /// First and last Beijing day of the period.
    pub period: (String, String),
    /// The scope.
    pub scope: Scope,
    /// Figures are as of this instant (UTC): the end of the month, or now.
    pub cutoff: String,
    /// The period.
    pub overall: Metrics,
    /// The period before, for 环比.
    pub previous: Metrics,
    /// Quarterly and yearly: each month of the period up to the cut-off.
    #[serde(default)]
    pub trend: Vec<TrendRow>,
    /// Per department.
    pub by_department: Vec<GroupRow>,
    /// Per window.
    pub by_window: Vec<GroupRow>,
    /// Per staff member.
    pub by_staff: Vec<GroupRow>,
    /// 红榜: windows with the highest 好评率 (at least `min_evaluations`).
    pub red_list: Vec<GroupRow>,
    /// 黑榜: the lowest.
    pub black_list: Vec<GroupRow>,
    /// 每日差评数: (Beijing day, count), every day of the period.
    pub daily_bad: Vec<(String, i64)>,
    /// 差评整改台账: the cases of the period's bad ratings in rating order — the
    /// first [`LEDGER_LISTED`] of them (`ledger_summary` counts them all; reports
    /// issued before it listed every one).
    pub ledger: Vec<LedgerRow>,
    /// The whole ledger counted (absent in reports issued before it: zeros, and
    /// the list is the whole ledger — see [`MonthlyReport::ledger_counts`]).
    #[serde(default)]
    pub ledger_summary: LedgerSummary,
    /// 超期清单: cases not closed whose deadline passed at `cutoff`, the longest
    /// overdue first — at most [`OVERDUE_LISTED`] of them (`overall.overdue` counts
    /// them all; reports issued before this listed every one).
    pub overdue: Vec<LedgerRow>,
    /// 超期 per hall, the most first (absent in reports issued before it).
    #[serde(default)]
    pub overdue_by_hall: Vec<OverdueHall>,
    /// 申诉复核情况.
    pub appeals: Vec<AppealRow>,
    /// 暗访情况.
    pub visits: Vec<VisitLine>,
    /// 预警与处置: the month's alerts (absent in reports issued before it).
    #[serde(default)]
    pub alerts: Vec<AlertLine>,
    /// 典型案例.
    pub typical_cases: Vec<LedgerRow>,
    /// The settings used.
    pub settings: ReportSettings,
    /// Number and signature once issued.
    #[serde(default)]
    pub issue: Option<IssueInfo>,
    /// The issuing office as the 公文 names it (absent: 效能督查部门, no 版头 code).
    #[serde(default)]
    pub office: Option<Office>,
}

/// The issuing office (设置 → 发文机关), as the 公文 prints it.
pub use hcp_core::office::Office;

fn to_beijing(utc: &str, fmt: &str) -> String {
    DateTime::parse_from_rfc3339(utc)
        .map(|t| t.with_timezone(&beijing()).format(fmt).to_string())
        .unwrap_or_else(|_| utc.to_string())
}

fn callback_zh(code: &str) -> &'static str {
    hcp_core::case::CallbackResult::parse(code).map_or("—", |c| c.label_zh())
}

/// Parses a report period (hcp-core's [`Period`]).
pub fn parse_period(p: &str) -> Result<Period, ReportError> {
    Period::parse(p).map_err(ReportError::Input)
}

/// What the figures need of a case, read from its columns.
struct CaseFacts {
    state: CaseState,
    closed_at: Option<DateTime<chrono::FixedOffset>>,
    /// The rectification deadline (evaluation + rectify + paused working days).
    rect_deadline: hcp_core::calendar::Deadline,
}

/// Reads cases' facts for one report: rectification deadlines computed once per
/// Beijing day and number of working days (many cases share them).
struct FactsOf<'a> {
    rules: &'a hcp_core::case::CaseRules,
    memo: HashMap<(NaiveDate, u32), hcp_core::calendar::Deadline>,
}

impl<'a> FactsOf<'a> {
    fn new(rules: &'a hcp_core::case::CaseRules) -> Self {
        Self {
            rules,
            memo: HashMap::new(),
        }
    }

    /// The cases as read, with their facts (a case whose state or time does not
    /// parse is left out).
    fn read(&mut self, rows: Vec<ReportCase>) -> Vec<(ReportCase, CaseFacts)> {
        rows.into_iter()
            .filter_map(|c| {
                let f = self.of(&c)?;
                Some((c, f))
            })
            .collect()
    }

    fn of(&mut self, c: &ReportCase) -> Option<CaseFacts> {
        let state = CaseState::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == c.state)?;
        let evaluated_at = DateTime::parse_from_rfc3339(&c.evaluated_at).ok()?;
        let paused = u32::try_from(c.paused_working_days).unwrap_or(0);
        let n = self.rules.policy(&c.hall_id).rectify + paused;
        let day = evaluated_at.with_timezone(&beijing()).date_naive();
        let rules = self.rules;
        let rect_deadline = *self
            .memo
            .entry((day, n))
            .or_insert_with(|| rules.calendar.deadline(evaluated_at, n));
        Some(CaseFacts {
            state,
            closed_at: c
                .closed_at
                .as_deref()
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok()),
            rect_deadline,
        })
    }
}

/// A case as a line of the ledger, the 超期清单 or 典型案例.
fn ledger_line(
    hall_names: &HashMap<String, String>,
    cutoff: &str,
    c: &ReportCase,
    f: &CaseFacts,
) -> LedgerRow {
    let needs_deadline = !matches!(
        f.state,
        CaseState::ClosedAppealed | CaseState::ClosedRevised
    );
    let d = needs_deadline.then_some(f.rect_deadline);
    LedgerRow {
        case_id: c.case_id,
        hall: hall_names
            .get(&c.hall_id)
            .cloned()
            .unwrap_or(c.hall_id.clone()),
        evaluation_id: c.evaluation_id.clone(),
        evaluated_at: to_beijing(&c.evaluated_at, "%Y-%m-%d %H:%M"),
        level: c.level,
        level_name: c
            .level
            .and_then(hcp_core::rating::Level::new)
            .map(|l| l.label_zh().to_owned()),
        window_no: c.window_no.clone(),
        comment: c.comment.clone().unwrap_or_default(),
        state: f.state.label_zh().to_string(),
        deadline: d.map(|d| d.last_day.format("%Y-%m-%d").to_string()),
        deadline_estimated: d.is_some_and(|d| d.estimated),
        measures: c.measures.clone().unwrap_or_default(),
        callback: c
            .callbacks
            .last()
            .map_or("—".to_string(), |o| callback_zh(o).to_string()),
        overdue: !f.state.is_closed() && c.due_at.as_deref().is_some_and(|d| d < cutoff),
    }
}

/// The full lists a draft's Excel export carries where the model lists the first
/// ones: the whole 差评整改台账 and the whole 超期清单 (longest overdue first).
pub struct FullLists {
    /// Every case of the period's bad ratings, in rating order.
    pub ledger: Vec<LedgerRow>,
    /// Every case of the scope overdue at the cut-off.
    pub overdue: Vec<LedgerRow>,
}

/// Reads [`FullLists`] of a report's scope, period and cut-off.
pub fn full_lists(store: &Store, r: &MonthlyReport) -> Result<FullLists, ReportError> {
    let rules = store.case_rules()?;
    let hall_names: HashMap<String, String> = store
        .halls()?
        .into_iter()
        .map(|h| (h.hall_id, h.name))
        .collect();
    let mut facts = FactsOf::new(&rules);
    let hall = r.scope.hall_id.as_deref();
    let (from, to) = parse_period(&r.month)?.bounds_utc();
    let mut lines = |rows| -> Vec<LedgerRow> {
        facts
            .read(rows)
            .iter()
            .map(|(c, f)| ledger_line(&hall_names, &r.cutoff, c, f))
            .collect()
    };
    Ok(FullLists {
        ledger: lines(store.report_ledger_cases(hall, &from, &to, None)?),
        overdue: lines(store.report_overdue_cases(hall, &r.cutoff, None)?),
    })
}

/// Computes the figures of `[from, to)` for a scope.
#[allow(clippy::too_many_arguments)]
/// What a report reads once for every period its figures cover (the period, the
/// one before, each month of a quarter's or a year's trend).
struct Read<'a> {
    /// The cases the figures count, with their facts.
    cases: &'a [(ReportCase, CaseFacts)],
    /// The appeals filed from the previous period's start to the period's end.
    appeals: &'a [hcp_store::ReportAppeal],
    /// The cases not closed, counted per deadline.
    open_deadlines: &'a [(String, i64)],
}

fn metrics(
    store: &Store,
    hall: Option<&str>,
    from: &str,
    to: &str,
    cutoff: &str,
    read: &Read<'_>,
    count_system_default: bool,
) -> Result<(Metrics, Vec<hcp_store::LevelCount>), ReportError> {
    let cases = read.cases;
    let all = store.report_level_counts(hall, from, to)?;
    let by_system: i64 = all.iter().filter(|c| c.system_default).map(|c| c.n).sum();
    let everything: i64 = all.iter().map(|c| c.n).sum();
    let counts: Vec<hcp_store::LevelCount> = all
        .into_iter()
        .filter(|c| count_system_default || !c.system_default)
        .collect();
    let mut levels = [0i64; 5];
    for c in &counts {
        if (1..=5).contains(&c.level) {
            levels[usize::from(c.level - 1)] += c.n;
        }
    }
    let e: i64 = levels.iter().sum();
    let good = levels[2] + levels[3] + levels[4];
    let bad = levels[0] + levels[1];
    let level_sum: i64 = levels
        .iter()
        .enumerate()
        .map(|(i, n)| (i as i64 + 1) * n)
        .sum();

    // The month's valid bad ratings and their cases.
    let month_bad: Vec<&(ReportCase, CaseFacts)> = cases
        .iter()
        .filter(|(c, _)| {
            c.kind == "bad_rating"
                && c.valid
                && c.level.is_some_and(|l| l <= 2)
                && c.evaluated_at.as_str() >= from
                && c.evaluated_at.as_str() < to
        })
        .collect();
    let bad_cases = month_bad.len() as i64;
    let closed = month_bad
        .iter()
        .filter(|(_, f)| matches!(f.state, CaseState::Closed | CaseState::ClosedEscalated))
        .count() as i64;
    let with_callback = month_bad
        .iter()
        .filter(|(c, _)| !c.callbacks.is_empty())
        .count() as i64;
    let answered: Vec<&str> = month_bad
        .iter()
        .flat_map(|(c, _)| c.callbacks.iter().map(String::as_str))
        .filter(|o| *o != "unreachable")
        .collect();
    let satisfied = answered
        .iter()
        .filter(|o| matches!(**o, "satisfied" | "basically_satisfied"))
        .count() as i64;

    // 按期整改率: cases needing rectification whose deadline fell in the month.
    let mut due_in_month = 0i64;
    let mut on_time = 0i64;
    for (c, f) in cases {
        if c.kind != "bad_rating"
            || !c.valid
            || matches!(
                f.state,
                CaseState::ClosedAppealed | CaseState::ClosedRevised
            )
        {
            continue;
        }
        let d = f.rect_deadline;
        let due = hcp_store::utc_text(d.due_at.with_timezone(&Utc));
        if due.as_str() < from || due.as_str() >= to {
            continue;
        }
        due_in_month += 1;
        if f.closed_at.is_some_and(|t| t <= d.due_at) {
            on_time += 1;
        }
    }

    let appeals: Vec<&hcp_store::ReportAppeal> = read
        .appeals
        .iter()
        .filter(|a| a.filed_at.as_str() >= from && a.filed_at.as_str() < to)
        .collect();
    let decided = appeals.iter().filter(|a| a.verdict.is_some()).count() as i64;
    let upheld = appeals
        .iter()
        .filter(|a| a.verdict.as_deref() == Some("upheld"))
        .count() as i64;

    let overdue = read
        .open_deadlines
        .iter()
        .take_while(|(due, _)| due.as_str() < cutoff)
        .map(|(_, n)| n)
        .sum();

    let visits = store.report_visits(hall, from, to)?;
    let mut tenths_sum = 0i64;
    let mut scored = 0i64;
    for v in &visits {
        let d = store.visit_detail(&v.visit_id)?;
        let parts: Vec<&str> = d.visit.score.split('.').collect();
        if let [a, b] = parts.as_slice()
            && let (Ok(a), Ok(b)) = (a.parse::<i64>(), b.parse::<i64>())
        {
            tenths_sum += a * 10 + b;
            scored += 1;
        }
    }

    Ok((
        Metrics {
            evaluations: e,
            levels,
            good_rate: RateView::of(good, e),
            bad,
            bad_rate: RateView::of(bad, e),
            mean_score: MeanView::of(level_sum, e, 0, 2),
            rectification_rate: RateView::of(closed, bad_cases),
            on_time_rate: RateView::of(on_time, due_in_month),
            callback_rate: RateView::of(with_callback, bad_cases),
            callback_satisfaction: RateView::of(satisfied, answered.len() as i64),
            appeals: appeals.len() as i64,
            appeal_upheld_rate: RateView::of(upheld, decided),
            overdue,
            visit_mean_score: MeanView::of(tenths_sum, scored, 1, 1),
            system_default: SystemDefaultView::of(by_system, everything, count_system_default),
        },
        counts,
    ))
}

fn group_rows(
    counts: &[hcp_store::LevelCount],
    key: impl Fn(&hcp_store::LevelCount) -> Option<String>,
    names: &HashMap<(String, String), String>,
    hall_names: &HashMap<String, String>,
    multi_hall: bool,
) -> Vec<GroupRow> {
    let mut acc: BTreeMap<(String, Option<String>), [i64; 5]> = BTreeMap::new();
    for c in counts {
        let e = acc.entry((c.hall_id.clone(), key(c))).or_default();
        if (1..=5).contains(&c.level) {
            e[usize::from(c.level - 1)] += c.n;
        }
    }
    acc.into_iter()
        .map(|((hall_id, code), l)| {
            let e: i64 = l.iter().sum();
            let good = l[2] + l[3] + l[4];
            let sum: i64 = l.iter().enumerate().map(|(i, n)| (i as i64 + 1) * n).sum();
            let mut name = code
                .as_ref()
                .and_then(|c| names.get(&(hall_id.clone(), c.clone())).cloned())
                .unwrap_or_else(|| code.clone().unwrap_or_else(|| "（未注明）".into()));
            if multi_hall {
                name = format!(
                    "{}·{name}",
                    hall_names.get(&hall_id).cloned().unwrap_or(hall_id.clone())
                );
            }
            GroupRow {
                hall_id,
                code,
                name,
                evaluations: e,
                good,
                bad: l[0] + l[1],
                good_rate: RateView::of(good, e),
                mean_score: MeanView::of(sum, e, 0, 2),
            }
        })
        .collect()
}

/// Builds the report of a period (`2026-10`, `2026-Q3` or `2026`) for one hall
/// or all, as of `now`.
pub fn build(
    store: &Store,
    period: &str,
    hall: Option<&str>,
    settings: ReportSettings,
    now: DateTime<Utc>,
) -> Result<MonthlyReport, ReportError> {
    // A report reads cases and their ratings scattered over the whole file.
    store.reading_widely(|| build_now(store, period, hall, settings, now))?
}

fn build_now(
    store: &Store,
    period: &str,
    hall: Option<&str>,
    settings: ReportSettings,
    now: DateTime<Utc>,
) -> Result<MonthlyReport, ReportError> {
    let period = parse_period(period)?;
    let (from, to) = period.bounds_utc();
    let (pfrom, pto) = period.previous().bounds_utc();
    let now_text = hcp_store::utc_text(now);
    let cutoff = if now_text < to { now_text } else { to.clone() };
    let halls = store.halls()?;
    let hall_names: HashMap<String, String> = halls
        .iter()
        .map(|h| (h.hall_id.clone(), h.name.clone()))
        .collect();
    if let Some(h) = hall
        && !hall_names.contains_key(h)
    {
        return Err(ReportError::Input(format!("没有编码为 “{h}” 的大厅")));
    }
    let scope = Scope {
        hall_id: hall.map(str::to_owned),
        name: hall.map_or("全部大厅".to_string(), |h| hall_names[h].clone()),
    };
    let rules = store.case_rules()?;
    let mut facts = FactsOf::new(&rules);
    // The cases the figures read: those of ratings of this period and the one
    // before, and those whose rectification deadline can fall in either — ratings
    // up to the longest policy's working days (as calendar days, holidays
    // included) earlier, and with an appeal (its pause moves the deadline) up to
    // 180 days earlier.
    let longest = halls
        .iter()
        .map(|h| rules.policy(&h.hall_id).rectify)
        .max()
        .unwrap_or(15);
    let back = |days: i64| {
        DateTime::parse_from_rfc3339(&pfrom)
            .map(|t| hcp_store::utc_text(t.with_timezone(&Utc) - chrono::Duration::days(days)))
            .unwrap_or_else(|_| pfrom.clone())
    };
    let near = back(i64::from(longest) * 7 / 5 + 30);
    let far = back(180);
    let cases = facts.read(store.report_cases(hall, &near, &to, &far)?);
    let with_default = settings.count_system_default;
    let all_appeals = store.report_appeals(hall, &pfrom, &to)?;
    let open_deadlines = store.report_open_deadlines(hall)?;
    let read = Read {
        cases: &cases,
        appeals: &all_appeals,
        open_deadlines: &open_deadlines,
    };
    let (overall, counts) = metrics(store, hall, &from, &to, &cutoff, &read, with_default)?;
    let (previous, _) = metrics(store, hall, &pfrom, &pto, &pto, &read, with_default)?;
    // Quarters and years: each month up to the cut-off, 超期数 as of its end.
    let mut trend = vec![];
    if !matches!(period, Period::Month(_)) {
        for m in period.months() {
            let (mfrom, mto) = m.bounds_utc();
            if mfrom >= cutoff {
                break;
            }
            let mcut = if mto < cutoff {
                mto.clone()
            } else {
                cutoff.clone()
            };
            trend.push(TrendRow {
                month: m.to_string(),
                label: format!("{}月", m.month),
                metrics: metrics(store, hall, &mfrom, &mto, &mcut, &read, with_default)?.0,
            });
        }
    }

    let name_map = |what: &str| -> Result<HashMap<(String, String), String>, ReportError> {
        Ok(store
            .profile_names(what)?
            .into_iter()
            .map(|(h, c, n)| ((h, c), n))
            .collect())
    };
    let multi = hall.is_none() && halls.len() > 1;
    let by_department = group_rows(
        &counts,
        |c| c.department_code.clone(),
        &name_map("departments")?,
        &hall_names,
        multi,
    );
    let windows_names = name_map("windows")?;
    let by_window = group_rows(
        &counts,
        |c| c.window_no.clone(),
        &windows_names,
        &hall_names,
        multi,
    );
    let by_staff = group_rows(
        &counts,
        |c| c.staff_no.clone(),
        &name_map("staff")?,
        &hall_names,
        multi,
    );
    let mut ranked: Vec<GroupRow> = by_window
        .iter()
        .filter(|w| w.code.is_some() && w.evaluations >= settings.min_evaluations)
        .cloned()
        .collect();
    // By 好评率 exactly (cross-multiplied), then by volume, then by name.
    ranked.sort_by(|a, b| {
        let l = i128::from(b.good) * i128::from(a.evaluations);
        let r = i128::from(a.good) * i128::from(b.evaluations);
        l.cmp(&r)
            .then(b.evaluations.cmp(&a.evaluations))
            .then(a.name.cmp(&b.name))
    });
    let red_list: Vec<GroupRow> = ranked.iter().take(settings.top_n).cloned().collect();
    let black_list: Vec<GroupRow> = ranked.iter().rev().take(settings.top_n).cloned().collect();

    let (first, last) = period.days();
    let f = |d: NaiveDate| d.format("%Y-%m-%d").to_string();
    let bad_days: HashMap<String, i64> = store
        .daily_bad(hall, &f(first), &f(last))?
        .into_iter()
        .map(|d| (d.day, d.bad))
        .collect();
    let daily_bad = first
        .iter_days()
        .take_while(|d| *d <= last)
        .map(|d| (f(d), bad_days.get(&f(d)).copied().unwrap_or(0)))
        .collect();

    let ledger_row = |c: &ReportCase, f: &CaseFacts| ledger_line(&hall_names, &cutoff, c, f);
    let ledger_cases =
        facts.read(store.report_ledger_cases(hall, &from, &to, Some(LEDGER_LISTED))?);
    let ledger: Vec<LedgerRow> = ledger_cases.iter().map(|(c, f)| ledger_row(c, f)).collect();
    let (total, closed, overdue_cases) = store.report_ledger_summary(hall, &from, &to, &cutoff)?;
    let ledger_summary = LedgerSummary {
        total,
        closed,
        overdue: overdue_cases,
    };
    // 超期清单: the longest overdue first; the count per hall beside it.
    let overdue: Vec<LedgerRow> = facts
        .read(store.report_overdue_cases(hall, &cutoff, Some(OVERDUE_LISTED))?)
        .iter()
        .map(|(c, f)| ledger_row(c, f))
        .collect();
    let overdue_by_hall: Vec<OverdueHall> = store
        .report_overdue_by_hall(hall, &cutoff)?
        .into_iter()
        .map(|o| OverdueHall {
            hall: hall_names
                .get(&o.hall_id)
                .cloned()
                .unwrap_or(o.hall_id.clone()),
            hall_id: o.hall_id,
            overdue: o.overdue,
            earliest_due: to_beijing(&o.earliest_due_at, "%Y-%m-%d"),
        })
        .collect();
    // 典型案例: the officer's choice, else the most recent overdue cases of the
    // month, severest rating first.
    let typical: Vec<LedgerRow> = if settings.typical.is_empty() {
        facts
            .read(store.report_typical_cases(hall, &from, &to, &cutoff, 3)?)
            .iter()
            .map(|(c, f)| ledger_row(c, f))
            .collect()
    } else {
        // Chosen cases outside the period's (an old overdue one) are read by number.
        let missing: Vec<i64> = settings
            .typical
            .iter()
            .copied()
            .filter(|id| !ledger_cases.iter().any(|(c, _)| c.case_id == *id))
            .collect();
        let extra = facts.read(store.report_cases_by_id(&missing)?);
        let mut t = vec![];
        for id in &settings.typical {
            let (c, f) = ledger_cases
                .iter()
                .chain(extra.iter())
                .find(|(c, _)| c.case_id == *id)
                .ok_or_else(|| {
                    ReportError::Input(format!("典型案例中的工单 {id} 不在统计范围内"))
                })?;
            t.push(ledger_row(c, f));
        }
        t
    };

    let appeals = all_appeals
        .into_iter()
        .filter(|a| a.filed_at >= from && a.filed_at < to)
        .map(|a| AppealRow {
            hall: hall_names
                .get(&a.hall_id)
                .cloned()
                .unwrap_or(a.hall_id.clone()),
            appeal_id: a.appeal_id,
            evaluation_id: a.evaluation_id,
            filed_at: to_beijing(&a.filed_at, "%Y-%m-%d %H:%M"),
            ground: hcp_core::case::appeal_ground_zh(&a.ground).to_string(),
            verdict: match a.verdict.as_deref() {
                Some("upheld") => "申诉成立",
                Some("dismissed") => "驳回",
                _ => "待复核",
            }
            .to_string(),
        })
        .collect();
    let mut visits = vec![];
    for v in store.report_visits(hall, &from, &to)? {
        let d = store.visit_detail(&v.visit_id)?;
        visits.push(VisitLine {
            hall: hall_names
                .get(&v.hall_id)
                .cloned()
                .unwrap_or(v.hall_id.clone()),
            score: d.visit.score.clone(),
            failed: d.visit.severe_failed,
            findings: d
                .items
                .iter()
                .filter(|i| i.result.as_deref() == Some("deduct"))
                .map(|i| format!("{}（扣 {} 分）", i.title, i.deducted.unwrap_or(0)))
                .collect(),
        });
    }
    // Items are named, not numbered, in print.
    let item_names: HashMap<(String, String), String> = store
        .profile_names("items")?
        .into_iter()
        .map(|(h, c, n)| ((h, c), n))
        .collect();
    let mut period_alerts = vec![];
    for m in period.months() {
        period_alerts.extend(store.alerts(Some(&m.to_string()), None)?);
    }
    let alerts = period_alerts
        .into_iter()
        .filter(|a| hall.is_none_or(|h| a.hall_id == h))
        .map(|a| {
            let item = item_names.get(&(a.hall_id.clone(), a.code.clone()));
            AlertLine {
                hall: hall_names
                    .get(&a.hall_id)
                    .cloned()
                    .unwrap_or(a.hall_id.clone()),
                unit: match (a.unit_kind.as_str(), item) {
                    ("item", Some(name)) => format!("事项：{name}"),
                    _ => alert_unit(&a.unit_kind, &a.code),
                },
                days: if a.day_from == a.day_to {
                    md_zh(&a.day_from)
                } else {
                    format!("{}至{}", md_zh(&a.day_from), md_zh(&a.day_to))
                },
                state: match a.state.as_str() {
                    "acknowledged" => "已确认",
                    "dismissed" => "已排除",
                    _ => "待处置",
                }
                .to_string(),
                rule: a.rule_label,
                explanation: a.explanation,
                note: a.note,
            }
        })
        .collect();

    let (current_name, previous_name) = period.names_zh();
    let label = match period {
        Period::Year(y) => format!("{y}年度"),
        p => p.label_zh(),
    };
    Ok(MonthlyReport {
        schema: SCHEMA.into(),
        month: period.to_string(),
        kind: period.kind().into(),
        current_name: current_name.into(),
        previous_name: previous_name.into(),
        title: format!("{label}政务服务\u{201c}好差评\u{201d}情况通报"),
        period: (f(first), f(last)),
        scope,
        cutoff,
        overall,
        previous,
        trend,
        by_department,
        by_window,
        by_staff,
        red_list,
        black_list,
        daily_bad,
        ledger,
        ledger_summary,
        overdue,
        overdue_by_hall,
        appeals,
        visits,
        alerts,
        typical_cases: typical,
        settings,
        issue: None,
        office: None,
    })
}

/// `2026-11-05` → `11月5日`.
fn md_zh(day: &str) -> String {
    NaiveDate::parse_from_str(day, "%Y-%m-%d")
        .map(|d| format!("{}月{}日", d.month(), d.day()))
        .unwrap_or_else(|_| day.to_owned())
}

/// Who or what an alert is about, as the report prints it.
fn alert_unit(kind: &str, code: &str) -> String {
    match kind {
        "hall" => "全厅".to_string(),
        "window" => format!("{code}窗口"),
        "staff" => format!("工号{code}"),
        "item" => format!("事项{code}"),
        "evaluator" => format!("评价人{}", code.chars().take(8).collect::<String>()),
        "department" => format!("部门{code}"),
        _ => code.to_string(),
    }
}

/// The Beijing year of a period (for the issue number).
pub fn year_of(period: &str) -> i32 {
    Period::parse(period).map_or_else(
        |_| Utc::now().with_timezone(&beijing()).year(),
        Period::year,
    )
}
