//! The bad-rating case (差评工单) of DOMAIN.md as a pure state machine: states,
//! transitions with their guards (who may act, from which state, what it needs),
//! deadlines in working days with the clock paused under appeal, and the
//! overdue warning. No I/O: the store persists what [`Case::apply`] returns, with
//! an audit row, in one transaction.

use chrono::{DateTime, FixedOffset, NaiveDate};
use serde::{Deserialize, Serialize};

use crate::calendar::{Deadline, WorkingCalendar};
use crate::metrics::beijing;

mod rules;
mod writes;
pub use rules::{
    CALENDAR_PREFIX, CaseRules, Due, POLICY_DEFAULT, POLICY_HALL_PREFIX, is_rules_key,
};
pub use writes::{
    BAD_RATING, CaseHead, CaseRepository, CaseWrites, Found, HallOutcome, HallStep, Lookups,
    OPENED, OPENED_FLAGGED, RATER_MARKED, Record, SYSTEM_NAME, SYSTEM_ROLE, Signer, TimelineEntry,
    early_steps, opening_writes, refusal_writes, sha256_hex, step_writes,
};

/// The closed states as an SQL list literal, for `concat!` into the store's
/// queries (`state NOT IN …`); a test holds it to [`CaseState::is_closed`].
#[macro_export]
macro_rules! closed_states_sql {
    () => {
        "('closed', 'closed_escalated', 'closed_appealed', 'closed_revised')"
    };
}

/// Where a case stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseState {
    /// 待核实.
    Open,
    /// 整改中 (also after a return or a reopening).
    Rectifying,
    /// 待验收: the hall submitted a rectification.
    AwaitingSignoff,
    /// 核实为不属实/误评: the hall may appeal within the filing window.
    AppealWindow,
    /// 解释说明: no legal basis; explained to the citizen, awaiting the callback.
    Explained,
    /// 待回访: the rectification was accepted.
    AwaitingCallback,
    /// 申诉中: the deadline clock is paused.
    UnderAppeal,
    /// 办结.
    Closed,
    /// 办结（回访两次不满意，升级处理）.
    ClosedEscalated,
    /// 申诉成立: the rating no longer counts anywhere.
    ClosedAppealed,
    /// 评价人已改评/撤评.
    ClosedRevised,
}

impl CaseState {
    /// The wire/storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            CaseState::Open => "open",
            CaseState::Rectifying => "rectifying",
            CaseState::AwaitingSignoff => "awaiting_signoff",
            CaseState::AppealWindow => "appeal_window",
            CaseState::Explained => "explained",
            CaseState::AwaitingCallback => "awaiting_callback",
            CaseState::UnderAppeal => "under_appeal",
            CaseState::Closed => "closed",
            CaseState::ClosedEscalated => "closed_escalated",
            CaseState::ClosedAppealed => "closed_appealed",
            CaseState::ClosedRevised => "closed_revised",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            CaseState::Open => "待核实",
            CaseState::Rectifying => "整改中",
            CaseState::AwaitingSignoff => "待验收",
            CaseState::AppealWindow => "申诉期",
            CaseState::Explained => "解释说明",
            CaseState::AwaitingCallback => "待回访",
            CaseState::UnderAppeal => "申诉中",
            CaseState::Closed => "已办结",
            CaseState::ClosedEscalated => "已办结（升级处理）",
            CaseState::ClosedAppealed => "申诉成立",
            CaseState::ClosedRevised => "评价人已改评/撤评",
        }
    }

    /// Whether nothing more happens to the case.
    pub fn is_closed(self) -> bool {
        matches!(
            self,
            CaseState::Closed
                | CaseState::ClosedEscalated
                | CaseState::ClosedAppealed
                | CaseState::ClosedRevised
        )
    }
}

/// Who acts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// 效能督查员.
    Officer,
    /// 大厅负责人 (reads; does not decide).
    Director,
    /// 暗访员.
    Shopper,
    /// The hall, through its feed (appeals, rectifications, revisions).
    Hall,
}

/// 申诉理由 in Chinese for a hall-api appeal `ground` (unknown grounds: 其他).
pub fn appeal_ground_zh(ground: &str) -> &'static str {
    match ground {
        "misdirected" => "非本部门职责，正确引导后被差评",
        "malicious" => "恶意差评",
        "duplicate" => "重复评价",
        "system_error" => "系统误操作",
        _ => "其他",
    }
}

impl Actor {
    /// The storage name (audit log role): officer | director | shopper | hall.
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Officer => "officer",
            Actor::Director => "director",
            Actor::Shopper => "shopper",
            Actor::Hall => "hall",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            Actor::Officer => "效能督查员",
            Actor::Director => "大厅负责人",
            Actor::Shopper => "暗访员",
            Actor::Hall => "大厅",
        }
    }
}

/// 核实结论.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VerifyOutcome {
    /// 属实.
    True,
    /// 部分属实.
    PartlyTrue,
    /// 不属实.
    NotTrue,
    /// 误评.
    Misrated,
    /// 无法律依据/诉求不合理 → 解释说明.
    NoLegalBasis,
}

/// 回访结果.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CallbackResult {
    /// 满意.
    Satisfied,
    /// 基本满意.
    BasicallySatisfied,
    /// 不满意.
    Dissatisfied,
    /// 联系不上.
    Unreachable,
}

/// What happens to a case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    /// The officer's verification, with a note.
    Verify {
        /// 核实结论.
        outcome: VerifyOutcome,
        /// 核实说明.
        note: String,
    },
    /// The hall submitted (or resubmitted) a rectification.
    RectificationSubmitted {
        /// The rectification's id.
        id: String,
        /// Its rev.
        rev: i64,
        /// 责任人 as the hall names them.
        #[serde(default)]
        by: String,
    },
    /// 验收通过.
    AcceptRectification,
    /// 退回, with the officer's opinion.
    ReturnRectification {
        /// 退回意见 (required).
        opinion: String,
    },
    /// The hall filed an appeal.
    AppealFiled {
        /// The appeal's id.
        id: String,
        /// `malicious` appeals mark the evaluator when upheld.
        ground: String,
        /// 申诉人 as the hall names them.
        #[serde(default)]
        by: String,
    },
    /// 申诉复核结论.
    DecideAppeal {
        /// 申诉成立.
        upheld: bool,
        /// 复核意见 (required).
        note: String,
    },
    /// 回访.
    Callback {
        /// The answer.
        result: CallbackResult,
        /// 回访记录.
        note: String,
    },
    /// 转办 to another lead department.
    Transfer {
        /// The new 牵头部门 code.
        department: String,
        /// Why (required).
        reason: String,
    },
    /// Sets the lead and co-handling departments.
    Assign {
        /// 牵头部门.
        lead: String,
        /// 协办部门.
        co: Vec<String>,
    },
    /// The evaluator revised to ≥ 3 or withdrew (automatic, from the feed).
    EvaluationNoLongerBad {
        /// `revised` or `withdrawn`.
        how: String,
        /// The level it was revised to (`revised` only).
        #[serde(default)]
        level: u8,
    },
    /// The officer confirms a mystery-shopper finding was rectified (closes it).
    FindingRectified {
        /// 整改核查说明.
        note: String,
    },
    /// The officer closes a case whose appeal window passed without an appeal.
    Close {
        /// 办结说明.
        note: String,
    },
}

/// Why an action was refused (zh-CN for people).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Refused(pub String);

/// Deadlines of a hall, in working days (DOMAIN.md defaults).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct DeadlinePolicy {
    /// 核实/回访 from the evaluation.
    pub verify: u32,
    /// 整改反馈 from the evaluation.
    pub rectify: u32,
    /// 申诉提出 from the verification.
    pub appeal_filing: u32,
    /// 申诉复核 from the filing.
    pub appeal_review: u32,
    /// 超期预警: this many working days before a deadline.
    pub warn_before: u32,
}

impl Default for DeadlinePolicy {
    fn default() -> Self {
        Self {
            verify: 1,
            rectify: 15,
            appeal_filing: 3,
            appeal_review: 5,
            warn_before: 2,
        }
    }
}

/// A case: its state and what the transitions need to remember.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Case {
    /// Where it stands.
    pub state: CaseState,
    /// When the bad rating was made (the clocks start on its Beijing day).
    pub evaluated_at: DateTime<FixedOffset>,
    /// The state an appeal interrupted (dismissal goes back there).
    pub before_appeal: Option<CaseState>,
    /// When the pending appeal was filed.
    pub appeal_filed_at: Option<DateTime<FixedOffset>>,
    /// When the case was verified (the appeal window runs from it).
    pub verified_at: Option<DateTime<FixedOffset>>,
    /// Working days the rectification clock spent paused under appeal.
    pub paused_working_days: u32,
    /// 牵头部门.
    pub lead_department: Option<String>,
    /// 协办部门.
    pub co_departments: Vec<String>,
    /// Times the rectification was returned.
    pub returns: u32,
    /// Reopened after a dissatisfied callback (allowed once).
    pub reopened: bool,
    /// Unreachable callback attempts.
    pub unreachable_attempts: u32,
    /// The latest rectification rev seen.
    pub rectification_rev: Option<i64>,
    /// The rectification rev known when the pending appeal was filed.
    pub rectification_rev_at_appeal: Option<i64>,
    /// When it closed.
    pub closed_at: Option<DateTime<FixedOffset>>,
    /// Set when an upheld appeal had the ground `malicious`: mark the evaluator.
    pub marks_evaluator_malicious: bool,
    /// A rectification task from a mystery-shopper finding (no citizen to call back).
    #[serde(default)]
    pub finding: bool,
}

/// How close a deadline is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Urgency {
    /// More than the warning margin left.
    OnTime,
    /// 超期预警: within the warning margin.
    Warning,
    /// 超期.
    Overdue,
}

fn need(text: &str, what: &str) -> Result<(), Refused> {
    if text.trim().is_empty() {
        Err(Refused(format!("请填写{what}")))
    } else {
        Ok(())
    }
}

impl Case {
    /// A new case for a valid bad rating made at `evaluated_at`.
    pub fn open(evaluated_at: DateTime<FixedOffset>) -> Self {
        Self {
            state: CaseState::Open,
            evaluated_at,
            before_appeal: None,
            appeal_filed_at: None,
            verified_at: None,
            paused_working_days: 0,
            lead_department: None,
            co_departments: vec![],
            returns: 0,
            reopened: false,
            unreachable_attempts: 0,
            rectification_rev: None,
            rectification_rev_at_appeal: None,
            closed_at: None,
            marks_evaluator_malicious: false,
            finding: false,
        }
    }

    /// A rectification task for a mystery-shopper finding, accepted at `at`: the
    /// hall rectifies at once (its clock starts on that day).
    pub fn open_finding(at: DateTime<FixedOffset>) -> Self {
        Self {
            state: CaseState::Rectifying,
            finding: true,
            ..Self::open(at)
        }
    }

    /// What `action` by `actor` at `at` does to the case — the new case, what the
    /// timeline says, the decisions for the hall and the side effects — or why it
    /// is refused. Pure: the case itself is not changed; a store persists the
    /// [`Transition`] as it is.
    pub fn apply(
        &self,
        action: &Action,
        actor: Actor,
        at: DateTime<FixedOffset>,
        calendar: &WorkingCalendar,
        policy: &DeadlinePolicy,
    ) -> Result<Transition, Refused> {
        let case = self.next(action, actor, at, calendar, policy)?;
        Ok(Transition::describe(self, case, action))
    }

    /// The actions `actor` may take on the case now, in the order to offer them.
    /// Only the officer decides; what the hall does arrives through its feed.
    pub fn allowed_actions(&self, actor: Actor) -> Vec<ActionKind> {
        use ActionKind as K;
        use CaseState as S;
        if actor != Actor::Officer {
            return vec![];
        }
        if self.finding {
            return match self.state {
                S::Rectifying | S::AwaitingSignoff => {
                    vec![K::FindingRectified, K::Assign, K::Transfer]
                }
                _ => vec![],
            };
        }
        match self.state {
            S::Open => vec![K::Verify, K::Assign, K::Transfer],
            S::Rectifying => vec![K::Assign, K::Transfer],
            S::AwaitingSignoff => vec![K::Accept, K::Return, K::Assign, K::Transfer],
            S::AppealWindow => vec![K::Close, K::Assign, K::Transfer],
            S::UnderAppeal => vec![K::DecideAppeal],
            S::AwaitingCallback | S::Explained => vec![K::Callback, K::Assign, K::Transfer],
            S::Closed | S::ClosedEscalated | S::ClosedAppealed | S::ClosedRevised => vec![],
        }
    }

    fn next(
        &self,
        action: &Action,
        actor: Actor,
        at: DateTime<FixedOffset>,
        calendar: &WorkingCalendar,
        policy: &DeadlinePolicy,
    ) -> Result<Case, Refused> {
        use CaseState as S;
        let mut c = self.clone();
        let refuse_state = || {
            Refused(format!(
                "工单当前为「{}」，不能进行此操作",
                self.state.label_zh()
            ))
        };
        let officer_only = || -> Result<(), Refused> {
            if actor == Actor::Officer {
                Ok(())
            } else {
                Err(Refused(format!(
                    "只有效能督查员可以进行此操作（当前身份：{}）",
                    actor.label_zh()
                )))
            }
        };
        let hall_only = || -> Result<(), Refused> {
            if actor == Actor::Hall {
                Ok(())
            } else {
                Err(Refused("此操作只能由大厅通过接口提交".into()))
            }
        };
        if self.state.is_closed() {
            // A closed case only absorbs a late revision or withdrawal silently.
            return match action {
                Action::EvaluationNoLongerBad { .. } | Action::RectificationSubmitted { .. }
                    if actor == Actor::Hall =>
                {
                    Ok(c)
                }
                _ => Err(refuse_state()),
            };
        }
        match action {
            Action::Verify { outcome, note } => {
                officer_only()?;
                if self.state != S::Open {
                    return Err(refuse_state());
                }
                need(note, "核实说明")?;
                // Kept for every outcome: the appeal window runs from it, and a
                // late verification is the office's delay, not the hall's.
                c.verified_at = Some(at);
                c.state = match outcome {
                    VerifyOutcome::True | VerifyOutcome::PartlyTrue => S::Rectifying,
                    VerifyOutcome::NotTrue | VerifyOutcome::Misrated => S::AppealWindow,
                    VerifyOutcome::NoLegalBasis => S::Explained,
                };
            }
            Action::RectificationSubmitted { rev, .. } => {
                hall_only()?;
                if self.rectification_rev.is_some_and(|r| r >= *rev) {
                    return Ok(c); // the feed again: nothing new
                }
                c.rectification_rev = Some(*rev);
                // Under appeal it is kept for when the appeal is dismissed.
                if matches!(self.state, S::Rectifying | S::Open) {
                    c.state = S::AwaitingSignoff;
                }
            }
            Action::AcceptRectification => {
                officer_only()?;
                if self.state != S::AwaitingSignoff {
                    return Err(refuse_state());
                }
                c.state = S::AwaitingCallback;
            }
            Action::ReturnRectification { opinion } => {
                officer_only()?;
                if self.state != S::AwaitingSignoff {
                    return Err(refuse_state());
                }
                need(opinion, "退回意见")?;
                c.returns += 1;
                c.state = S::Rectifying;
            }
            Action::AppealFiled { ground, .. } => {
                hall_only()?;
                if self.state == S::UnderAppeal {
                    return Ok(c); // the same appeal again
                }
                if self.state == S::AppealWindow
                    && let Some(v) = self.verified_at
                    && calendar.deadline(v, policy.appeal_filing).due_at < at
                {
                    return Err(Refused("申诉已超过提出期限".into()));
                }
                c.before_appeal = Some(self.state);
                c.rectification_rev_at_appeal = self.rectification_rev;
                c.appeal_filed_at = Some(at);
                c.state = S::UnderAppeal;
                c.marks_evaluator_malicious = false;
                if ground == "malicious" {
                    // Remembered for the verdict.
                    c.marks_evaluator_malicious = true;
                }
            }
            Action::DecideAppeal { upheld, note } => {
                officer_only()?;
                if self.state != S::UnderAppeal {
                    return Err(refuse_state());
                }
                need(note, "复核意见")?;
                if *upheld {
                    c.state = S::ClosedAppealed;
                    c.closed_at = Some(at);
                } else {
                    c.marks_evaluator_malicious = false;
                    let filed = self.appeal_filed_at.unwrap_or(at);
                    let paused = calendar.working_days_between(
                        filed.with_timezone(&beijing()).date_naive(),
                        at.with_timezone(&beijing()).date_naive(),
                    );
                    c.paused_working_days += paused.value.max(0) as u32;
                    c.state = match self.before_appeal {
                        // A rectification that arrived during the appeal is waiting.
                        Some(S::Rectifying) | Some(S::Open)
                            if c.rectification_rev > self.rectification_rev_at_appeal =>
                        {
                            S::AwaitingSignoff
                        }
                        Some(s) => s,
                        None => S::Open,
                    };
                    // A dismissed appeal against "not true" leaves nothing to wait for.
                    if c.state == S::AppealWindow {
                        c.state = S::Rectifying;
                    }
                }
                c.appeal_filed_at = None;
                c.before_appeal = None;
            }
            Action::Callback { result, note } => {
                officer_only()?;
                if !matches!(self.state, S::AwaitingCallback | S::Explained) {
                    return Err(refuse_state());
                }
                need(note, "回访记录")?;
                match result {
                    CallbackResult::Satisfied | CallbackResult::BasicallySatisfied => {
                        c.state = S::Closed;
                        c.closed_at = Some(at);
                    }
                    CallbackResult::Unreachable => {
                        c.unreachable_attempts += 1;
                        if c.unreachable_attempts >= 3 {
                            c.state = S::Closed;
                            c.closed_at = Some(at);
                        }
                    }
                    CallbackResult::Dissatisfied => {
                        if self.reopened {
                            c.state = S::ClosedEscalated;
                            c.closed_at = Some(at);
                        } else {
                            c.reopened = true;
                            c.unreachable_attempts = 0;
                            c.state = S::Rectifying;
                        }
                    }
                }
            }
            Action::Transfer { department, reason } => {
                officer_only()?;
                need(department, "转办部门")?;
                need(reason, "转办理由")?;
                if self.lead_department.as_deref() == Some(department.as_str()) {
                    return Err(Refused("转办部门与当前牵头部门相同".into()));
                }
                c.lead_department = Some(department.clone());
                c.co_departments.retain(|d| d != department);
            }
            Action::Assign { lead, co } => {
                officer_only()?;
                need(lead, "牵头部门")?;
                c.lead_department = Some(lead.clone());
                c.co_departments = co.iter().filter(|d| *d != lead).cloned().collect();
            }
            Action::EvaluationNoLongerBad { .. } => {
                if actor != Actor::Hall {
                    return Err(Refused("改评/撤评只能来自大厅数据".into()));
                }
                c.state = S::ClosedRevised;
                c.closed_at = Some(at);
            }
            Action::FindingRectified { note } => {
                officer_only()?;
                if !self.finding {
                    return Err(Refused(
                        "差评工单须经大厅提交整改报告、验收和回访后办结".into(),
                    ));
                }
                if !matches!(self.state, S::Rectifying | S::AwaitingSignoff) {
                    return Err(refuse_state());
                }
                need(note, "整改核查说明")?;
                c.state = S::Closed;
                c.closed_at = Some(at);
            }
            Action::Close { note } => {
                officer_only()?;
                need(note, "办结说明")?;
                if self.state != S::AppealWindow {
                    return Err(refuse_state());
                }
                let window =
                    calendar.deadline(self.verified_at.unwrap_or(at), policy.appeal_filing);
                if at <= window.due_at {
                    return Err(Refused(format!(
                        "申诉期至 {} 结束，期满后才能办结",
                        window.due_at.format("%Y-%m-%d %H:%M")
                    )));
                }
                c.state = S::Closed;
                c.closed_at = Some(at);
            }
        }
        Ok(c)
    }

    /// The deadline that governs the case now, if any: verification while open,
    /// rectification (extended by the paused days) while rectifying or awaiting
    /// sign-off, appeal review under appeal, appeal filing in the window.
    pub fn current_deadline(
        &self,
        calendar: &WorkingCalendar,
        policy: &DeadlinePolicy,
    ) -> Option<Deadline> {
        use CaseState as S;
        match self.state {
            S::Open => Some(calendar.deadline(self.evaluated_at, policy.verify)),
            S::Rectifying | S::AwaitingSignoff => Some(
                calendar.deadline(self.evaluated_at, policy.rectify + self.paused_working_days),
            ),
            S::UnderAppeal => self
                .appeal_filed_at
                .map(|f| calendar.deadline(f, policy.appeal_review)),
            S::AppealWindow => self
                .verified_at
                .map(|v| calendar.deadline(v, policy.appeal_filing)),
            S::Explained | S::AwaitingCallback => Some(
                calendar.deadline(self.evaluated_at, policy.rectify + self.paused_working_days),
            ),
            _ => None,
        }
    }

    /// The rule behind the current deadline, as the case page states it
    /// (「自评价之日起 5 个工作日内整改反馈」).
    pub fn deadline_rule(&self, policy: &DeadlinePolicy) -> Option<String> {
        use CaseState as S;
        let paused = if self.paused_working_days > 0 {
            format!(
                "（申诉期间暂停的 {} 个工作日顺延）",
                self.paused_working_days
            )
        } else {
            String::new()
        };
        Some(match self.state {
            S::Open => format!("自评价之日起 {} 个工作日内核实", policy.verify),
            S::Rectifying | S::AwaitingSignoff => {
                format!("自评价之日起 {} 个工作日内整改反馈{paused}", policy.rectify)
            }
            S::UnderAppeal => format!("自提出申诉之日起 {} 个工作日内复核", policy.appeal_review),
            S::AppealWindow => format!("自核实之日起 {} 个工作日内提出申诉", policy.appeal_filing),
            S::Explained | S::AwaitingCallback => {
                format!("自评价之日起 {} 个工作日内回访办结{paused}", policy.rectify)
            }
            _ => return None,
        })
    }

    /// Working days by which the office verified after its own 核实时限, when the
    /// current deadline still runs from the evaluation (so part of any delay is
    /// the office's, not the hall's).
    pub fn verified_late_by(
        &self,
        calendar: &WorkingCalendar,
        policy: &DeadlinePolicy,
    ) -> Option<i64> {
        use CaseState as S;
        if !matches!(
            self.state,
            S::Rectifying | S::AwaitingSignoff | S::Explained | S::AwaitingCallback
        ) {
            return None;
        }
        let verified = self.verified_at?;
        let due = calendar.deadline(self.evaluated_at, policy.verify);
        if verified <= due.due_at {
            return None;
        }
        let day = verified.with_timezone(&beijing()).date_naive();
        Some(
            calendar
                .working_days_between(due.last_day, day)
                .value
                .max(1),
        )
    }

    /// 超期预警 / 超期 at `now` for the current deadline.
    pub fn urgency(
        &self,
        now: DateTime<FixedOffset>,
        calendar: &WorkingCalendar,
        policy: &DeadlinePolicy,
    ) -> Option<Urgency> {
        let d = self.current_deadline(calendar, policy)?;
        Some(urgency_of(&d, now, calendar, policy.warn_before))
    }
}

/// How close `d` is at `now`: overdue once past, warning within `warn_before`
/// working days of its last day.
pub fn urgency_of(
    d: &Deadline,
    now: DateTime<FixedOffset>,
    calendar: &WorkingCalendar,
    warn_before: u32,
) -> Urgency {
    if now > d.due_at {
        return Urgency::Overdue;
    }
    let today: NaiveDate = now.with_timezone(&beijing()).date_naive();
    let left = calendar.working_days_between(today, d.last_day).value;
    if left <= i64::from(warn_before) {
        Urgency::Warning
    } else {
        Urgency::OnTime
    }
}

/// The instant 超期预警 starts for `d`: 00:00 +08:00 of the first day on which
/// [`urgency_of`] says `Warning` (stored so lists can filter and sort in SQL).
pub fn warning_from(
    d: &Deadline,
    calendar: &WorkingCalendar,
    warn_before: u32,
) -> DateTime<FixedOffset> {
    let mut first = d.last_day;
    for _ in 0..400 {
        let Some(before) = first.pred_opt() else {
            break;
        };
        if calendar.working_days_between(before, d.last_day).value > i64::from(warn_before) {
            break;
        }
        first = before;
    }
    use chrono::TimeZone;
    beijing()
        .from_local_datetime(&first.and_hms_opt(0, 0, 0).expect("valid time"))
        .single()
        .expect("+08:00 has no gaps")
}

/// An action the officer can take on a case, as the UI offers it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActionKind {
    /// 核实.
    Verify,
    /// 验收通过.
    Accept,
    /// 退回整改.
    Return,
    /// 申诉复核.
    DecideAppeal,
    /// 回访.
    Callback,
    /// 转办.
    Transfer,
    /// 指定牵头/协办部门.
    Assign,
    /// 申诉期满办结.
    Close,
    /// 暗访问题整改核查办结.
    FindingRectified,
}

impl ActionKind {
    /// The name the UI and the command API use.
    pub fn key(self) -> &'static str {
        match self {
            ActionKind::Verify => "verify",
            ActionKind::Accept => "accept",
            ActionKind::Return => "return",
            ActionKind::DecideAppeal => "decideAppeal",
            ActionKind::Callback => "callback",
            ActionKind::Transfer => "transfer",
            ActionKind::Assign => "assign",
            ActionKind::Close => "close",
            ActionKind::FindingRectified => "findingRectified",
        }
    }

    /// 中文名 (the button).
    pub fn label_zh(self) -> &'static str {
        match self {
            ActionKind::Verify => "核实",
            ActionKind::Accept => "验收通过",
            ActionKind::Return => "退回整改",
            ActionKind::DecideAppeal => "申诉复核",
            ActionKind::Callback => "回访",
            ActionKind::Transfer => "转办",
            ActionKind::Assign => "指定部门",
            ActionKind::Close => "办结",
            ActionKind::FindingRectified => "核查办结",
        }
    }

    /// What the text box is for when the action needs one (核实说明, 退回意见, …).
    pub fn text_needed(self) -> Option<&'static str> {
        match self {
            ActionKind::Verify => Some("核实说明"),
            ActionKind::Return => Some("退回意见"),
            ActionKind::DecideAppeal => Some("复核意见"),
            ActionKind::Callback => Some("回访记录"),
            ActionKind::Transfer => Some("转办理由"),
            ActionKind::Close => Some("办结说明"),
            ActionKind::FindingRectified => Some("整改核查说明"),
            ActionKind::Accept | ActionKind::Assign => None,
        }
    }

    /// The main step of the state (the others — assign, transfer — are secondary).
    pub fn is_primary(self) -> bool {
        !matches!(self, ActionKind::Assign | ActionKind::Transfer)
    }
}

/// What a decision for the hall refers to; the store finds that record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RefersTo {
    /// The case's evaluation only.
    Evaluation,
    /// The hall's latest rectification of the evaluation.
    LatestRectification,
    /// The hall's latest appeal against the evaluation.
    LatestAppeal,
}

/// What the timeline entry's signature (sha256 of the record as received) covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Signs {
    /// Nothing.
    Nothing,
    /// The evaluation the officer verified.
    Evaluation,
    /// The rectification the officer signed off or returned.
    LatestRectification,
    /// The appeal the officer decided.
    LatestAppeal,
    /// The hall record that caused the transition.
    HallRecord,
}

/// A decision to send to the hall (hall-api `decisions`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DecisionOut {
    /// hall-api decision kind.
    pub kind: &'static str,
    /// The record it answers.
    pub refers_to: RefersTo,
    /// Its outcome code, when it has one.
    pub outcome: Option<&'static str>,
    /// The officer's words.
    pub note: String,
}

impl DecisionOut {
    /// The hall-api decision: `id` is its idempotency key, `ref_id` the appeal or
    /// rectification it answers, `decided_at` is shown in Beijing time.
    pub fn to_wire(
        &self,
        id: String,
        evaluation_id: &str,
        ref_id: Option<String>,
        decided_at: DateTime<FixedOffset>,
        officer: &str,
    ) -> crate::wire::Decision {
        crate::wire::Decision {
            id,
            kind: self.kind.to_owned(),
            evaluation_id: evaluation_id.to_owned(),
            ref_id,
            outcome: self.outcome.map(str::to_owned),
            note: self.note.clone(),
            decided_at: decided_at.with_timezone(&beijing()),
            officer: officer.to_owned(),
        }
    }
}

/// What else changes with the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Effect {
    /// 申诉成立: the evaluation leaves every figure.
    ExcludeEvaluation,
    /// A malicious-rating appeal upheld: the evaluator is marked, and their other
    /// open cases are flagged for scrutiny.
    MarkEvaluatorMalicious,
}

/// What an action does: everything a store writes, decided here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transition {
    /// The case after it.
    pub case: Case,
    /// The event's name on the timeline (audit action).
    pub event: &'static str,
    /// The timeline's zh-CN sentence.
    pub summary: String,
    /// The officer's note, when the action carries one.
    pub note: Option<String>,
    /// What the entry's signature covers.
    pub signs: Signs,
    /// Decisions for the hall, in order (a closing case ends with `case_closed`).
    pub decisions: Vec<DecisionOut>,
    /// Side effects beyond the case.
    pub effects: Vec<Effect>,
}

/// The timeline's sentence for a record the hall sent (also when it is refused).
pub fn hall_record_summary(action: &Action) -> Option<String> {
    match action {
        Action::AppealFiled { ground, by, .. } => Some(format!(
            "大厅提出申诉（{}），申诉人：{by}",
            appeal_ground_zh(ground)
        )),
        Action::RectificationSubmitted { rev, by, .. } => Some(if *rev > 1 {
            format!("大厅重新提交整改报告（第 {rev} 版），责任人：{by}")
        } else {
            format!("大厅提交整改报告，责任人：{by}")
        }),
        _ => None,
    }
}

impl Transition {
    /// Whether persisting it needs the hall's latest record of `kind`: to sign it
    /// on the timeline or to name it in a decision for the hall.
    pub fn needs(&self, kind: RefersTo) -> bool {
        let signs = match kind {
            RefersTo::Evaluation => Signs::Evaluation,
            RefersTo::LatestRectification => Signs::LatestRectification,
            RefersTo::LatestAppeal => Signs::LatestAppeal,
        };
        self.signs == signs || self.decisions.iter().any(|d| d.refers_to == kind)
    }

    fn describe(before: &Case, case: Case, action: &Action) -> Transition {
        let mut decisions = vec![];
        let mut effects = vec![];
        let decision = |kind, refers_to, outcome, note: &str| DecisionOut {
            kind,
            refers_to,
            outcome,
            note: note.to_owned(),
        };
        let (event, summary, note, signs) = match action {
            Action::Verify { outcome, note } => {
                let next = match outcome {
                    VerifyOutcome::True | VerifyOutcome::PartlyTrue => "转大厅整改",
                    VerifyOutcome::NotTrue | VerifyOutcome::Misrated => "大厅可在申诉期内提出申诉",
                    VerifyOutcome::NoLegalBasis => "向评价人解释说明，待回访",
                };
                (
                    "verify",
                    format!("核实结论：{}，{next}", outcome.label_zh()),
                    Some(note.clone()),
                    Signs::Evaluation,
                )
            }
            Action::AcceptRectification => {
                decisions.push(decision(
                    "rectification_accepted",
                    RefersTo::LatestRectification,
                    None,
                    "",
                ));
                (
                    "rectification_accepted",
                    "整改验收通过，待回访".to_string(),
                    None,
                    Signs::LatestRectification,
                )
            }
            Action::ReturnRectification { opinion } => {
                decisions.push(decision(
                    "rectification_returned",
                    RefersTo::LatestRectification,
                    None,
                    opinion,
                ));
                (
                    "rectification_returned",
                    "整改报告退回大厅重新整改".to_string(),
                    Some(opinion.clone()),
                    Signs::LatestRectification,
                )
            }
            Action::DecideAppeal { upheld, note } => {
                decisions.push(decision(
                    "appeal_verdict",
                    RefersTo::LatestAppeal,
                    Some(if *upheld { "upheld" } else { "dismissed" }),
                    note,
                ));
                if case.state == CaseState::ClosedAppealed {
                    effects.push(Effect::ExcludeEvaluation);
                    if case.marks_evaluator_malicious {
                        effects.push(Effect::MarkEvaluatorMalicious);
                    }
                }
                (
                    "appeal_decided",
                    if *upheld {
                        "申诉成立，该差评不计入考核".to_string()
                    } else {
                        "申诉驳回，工单恢复办理，时限继续计算".to_string()
                    },
                    Some(note.clone()),
                    Signs::LatestAppeal,
                )
            }
            Action::Callback { result, note } => {
                decisions.push(decision(
                    "callback",
                    RefersTo::Evaluation,
                    Some(result.as_str()),
                    note,
                ));
                let mut summary = format!("回访结果：{}", result.label_zh());
                if case.state == CaseState::Rectifying {
                    summary.push_str("，重新整改（仅可重启一次）");
                } else if case.state == CaseState::ClosedEscalated {
                    summary.push_str("，再次不满意，升级处理");
                } else if *result == CallbackResult::Unreachable {
                    summary.push_str(&format!("（第 {} 次）", case.unreachable_attempts));
                }
                ("callback", summary, Some(note.clone()), Signs::Nothing)
            }
            Action::Transfer { department, reason } => (
                "transfer",
                format!("转办至 {department}"),
                Some(reason.clone()),
                Signs::Nothing,
            ),
            Action::Assign { lead, co } => (
                "assign",
                if co.is_empty() {
                    format!("牵头部门：{lead}")
                } else {
                    format!("牵头部门：{lead}；协办部门：{}", co.join("、"))
                },
                None,
                Signs::Nothing,
            ),
            Action::FindingRectified { note } => (
                "finding_rectified",
                "暗访发现问题已整改，核查后办结".to_string(),
                Some(note.clone()),
                Signs::Nothing,
            ),
            Action::Close { note } => (
                "close",
                "申诉期满未申诉，办结".to_string(),
                Some(note.clone()),
                Signs::Nothing,
            ),
            Action::AppealFiled { .. } => (
                "appeal_filed",
                hall_record_summary(action).unwrap_or_default(),
                None,
                Signs::HallRecord,
            ),
            Action::RectificationSubmitted { .. } => (
                "rectification_submitted",
                hall_record_summary(action).unwrap_or_default(),
                None,
                Signs::HallRecord,
            ),
            Action::EvaluationNoLongerBad { how, level } => (
                "evaluation_no_longer_bad",
                if how == "withdrawn" {
                    "评价人已撤评，工单自动办结".to_string()
                } else {
                    format!("评价人已改评为 {level} 级，工单自动办结")
                },
                None,
                Signs::Nothing,
            ),
        };
        if case.state.is_closed() && !before.state.is_closed() {
            decisions.push(decision(
                "case_closed",
                RefersTo::Evaluation,
                None,
                &format!("工单{}", case.state.label_zh()),
            ));
        }
        Transition {
            case,
            event,
            summary,
            note,
            signs,
            decisions,
            effects,
        }
    }
}

/// A tab of the case inbox: a name and the states it lists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CaseTab {
    /// The tab's key (`todo`, a state, `closed`).
    pub key: &'static str,
    /// 中文名 (全部待办, a state's name, 已办结).
    pub label_zh: &'static str,
    /// Whether it lists closed cases (no deadlines to warn about).
    pub closed: bool,
    /// The states it lists.
    pub states: Vec<CaseState>,
}

/// The case inbox's tabs, in order: all open work, each open state, then closed.
pub fn case_tabs() -> Vec<CaseTab> {
    use CaseState as S;
    let mut tabs = vec![CaseTab {
        key: "todo",
        label_zh: "全部待办",
        closed: false,
        states: S::ALL.into_iter().filter(|s| !s.is_closed()).collect(),
    }];
    for s in [
        S::Open,
        S::AwaitingSignoff,
        S::Rectifying,
        S::UnderAppeal,
        S::AwaitingCallback,
        S::Explained,
        S::AppealWindow,
    ] {
        tabs.push(CaseTab {
            key: s.as_str(),
            label_zh: s.label_zh(),
            closed: false,
            states: vec![s],
        });
    }
    tabs.push(CaseTab {
        key: "closed",
        label_zh: "已办结",
        closed: true,
        states: S::ALL.into_iter().filter(|s| s.is_closed()).collect(),
    });
    tabs
}

impl CaseState {
    /// Every state, in the order of the workflow.
    pub const ALL: [CaseState; 11] = [
        CaseState::Open,
        CaseState::Rectifying,
        CaseState::AwaitingSignoff,
        CaseState::AppealWindow,
        CaseState::Explained,
        CaseState::AwaitingCallback,
        CaseState::UnderAppeal,
        CaseState::Closed,
        CaseState::ClosedEscalated,
        CaseState::ClosedAppealed,
        CaseState::ClosedRevised,
    ];

    /// The state named `s` (its storage name).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl VerifyOutcome {
    /// Every outcome.
    pub const ALL: [VerifyOutcome; 5] = [
        VerifyOutcome::True,
        VerifyOutcome::PartlyTrue,
        VerifyOutcome::NotTrue,
        VerifyOutcome::Misrated,
        VerifyOutcome::NoLegalBasis,
    ];

    /// The storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            VerifyOutcome::True => "true",
            VerifyOutcome::PartlyTrue => "partly_true",
            VerifyOutcome::NotTrue => "not_true",
            VerifyOutcome::Misrated => "misrated",
            VerifyOutcome::NoLegalBasis => "no_legal_basis",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            VerifyOutcome::True => "属实",
            VerifyOutcome::PartlyTrue => "部分属实",
            VerifyOutcome::NotTrue => "不属实",
            VerifyOutcome::Misrated => "误评",
            VerifyOutcome::NoLegalBasis => "无法律依据（解释说明）",
        }
    }

    /// The outcome named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl CallbackResult {
    /// Every result.
    pub const ALL: [CallbackResult; 4] = [
        CallbackResult::Satisfied,
        CallbackResult::BasicallySatisfied,
        CallbackResult::Dissatisfied,
        CallbackResult::Unreachable,
    ];

    /// The wire name (hall-api `callback` outcome).
    pub fn as_str(self) -> &'static str {
        match self {
            CallbackResult::Satisfied => "satisfied",
            CallbackResult::BasicallySatisfied => "basically_satisfied",
            CallbackResult::Dissatisfied => "dissatisfied",
            CallbackResult::Unreachable => "unreachable",
        }
    }

    /// 中文名.
    pub fn label_zh(self) -> &'static str {
        match self {
            CallbackResult::Satisfied => "满意",
            CallbackResult::BasicallySatisfied => "基本满意",
            CallbackResult::Dissatisfied => "不满意",
            CallbackResult::Unreachable => "联系不上",
        }
    }

    /// The result named `s`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

impl DeadlinePolicy {
    /// Refuses values no office would set (each 1–60 working days; warning 0–10).
    pub fn check(&self) -> Result<(), Refused> {
        for (v, what) in [
            (self.verify, "核实时限"),
            (self.rectify, "整改时限"),
            (self.appeal_filing, "申诉提出时限"),
            (self.appeal_review, "申诉复核时限"),
        ] {
            if !(1..=60).contains(&v) {
                return Err(Refused(format!("{what}应为 1–60 个工作日")));
            }
        }
        if self.warn_before > 10 {
            return Err(Refused("超期预警应为 0–10 个工作日".into()));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sql_list_of_closed_states_is_the_closed_states() {
        let closed: Vec<String> = CaseState::ALL
            .iter()
            .filter(|s| s.is_closed())
            .map(|s| format!("'{}'", s.as_str()))
            .collect();
        assert_eq!(closed_states_sql!(), format!("({})", closed.join(", ")));
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).unwrap()
    }

    fn cal() -> WorkingCalendar {
        WorkingCalendar::builtin()
    }

    const T0: &str = "2026-09-28T10:00:00+08:00";

    fn verify(outcome: VerifyOutcome) -> Action {
        Action::Verify {
            outcome,
            note: "已调取监控核实".into(),
        }
    }

    fn step(c: &Case, a: Action, who: Actor, when: &str) -> Case {
        c.apply(&a, who, at(when), &cal(), &DeadlinePolicy::default())
            .unwrap_or_else(|e| panic!("{a:?} refused: {e}"))
            .case
    }

    fn refused(c: &Case, a: Action, who: Actor, when: &str) -> String {
        c.apply(&a, who, at(when), &cal(), &DeadlinePolicy::default())
            .unwrap_err()
            .0
    }

    fn rect(rev: i64) -> Action {
        Action::RectificationSubmitted {
            id: "RC-1".into(),
            rev,
            by: String::new(),
        }
    }

    fn callback(result: CallbackResult) -> Action {
        Action::Callback {
            result,
            note: "电话回访".into(),
        }
    }

    #[test]
    fn the_full_path_with_a_return_and_a_resubmission() {
        let c = Case::open(at(T0));
        let c = step(
            &c,
            verify(VerifyOutcome::True),
            Actor::Officer,
            "2026-09-29T09:00:00+08:00",
        );
        assert_eq!(c.state, CaseState::Rectifying);
        let c = step(&c, rect(1), Actor::Hall, "2026-10-09T09:00:00+08:00");
        assert_eq!(c.state, CaseState::AwaitingSignoff);
        let c = step(
            &c,
            Action::ReturnRectification {
                opinion: "措施不具体".into(),
            },
            Actor::Officer,
            "2026-10-09T15:00:00+08:00",
        );
        assert_eq!((c.state, c.returns), (CaseState::Rectifying, 1));
        // The same rev again changes nothing; a higher rev re-enters sign-off.
        assert_eq!(
            step(&c, rect(1), Actor::Hall, "2026-10-10T09:00:00+08:00"),
            c
        );
        let c = step(&c, rect(2), Actor::Hall, "2026-10-12T09:00:00+08:00");
        assert_eq!(c.state, CaseState::AwaitingSignoff);
        let c = step(
            &c,
            Action::AcceptRectification,
            Actor::Officer,
            "2026-10-12T10:00:00+08:00",
        );
        assert_eq!(c.state, CaseState::AwaitingCallback);
        let c = step(
            &c,
            callback(CallbackResult::BasicallySatisfied),
            Actor::Officer,
            "2026-10-13T10:00:00+08:00",
        );
        assert_eq!(c.state, CaseState::Closed);
        assert!(c.closed_at.is_some());
    }

    #[test]
    fn a_deadline_states_its_rule_and_the_offices_own_delay() {
        let policy = DeadlinePolicy::default();
        let open = Case::open(at(T0));
        assert_eq!(
            open.deadline_rule(&policy).unwrap(),
            format!("自评价之日起 {} 个工作日内核实", policy.verify)
        );
        // Verified the next working day (within 核实时限): nothing to explain.
        let on_time = step(
            &open,
            verify(VerifyOutcome::True),
            Actor::Officer,
            "2026-09-29T09:00:00+08:00",
        );
        assert_eq!(on_time.verified_late_by(&cal(), &policy), None);
        assert!(
            on_time
                .deadline_rule(&policy)
                .unwrap()
                .ends_with("个工作日内整改反馈")
        );
        // Verified on 10-09 (after the National Day holiday) although due on
        // 09-29: 09-30, 10-08 and 10-09 are the office's working days of delay.
        let late = step(
            &open,
            verify(VerifyOutcome::True),
            Actor::Officer,
            "2026-10-09T09:00:00+08:00",
        );
        assert_eq!(late.verified_late_by(&cal(), &policy), Some(3));
        assert_eq!(Case::open(at(T0)).verified_late_by(&cal(), &policy), None);
    }

    #[test]
    fn returned_rectification_goes_back_to_rectifying_and_needs_an_opinion() {
        let c = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::PartlyTrue),
            Actor::Officer,
            T0,
        );
        let c = step(&c, rect(1), Actor::Hall, T0);
        let msg = refused(
            &c,
            Action::ReturnRectification {
                opinion: "  ".into(),
            },
            Actor::Officer,
            T0,
        );
        assert!(msg.contains("退回意见"), "{msg}");
    }

    #[test]
    fn verification_outcomes_lead_where_the_domain_says() {
        let open = Case::open(at(T0));
        assert_eq!(
            step(&open, verify(VerifyOutcome::NotTrue), Actor::Officer, T0).state,
            CaseState::AppealWindow
        );
        assert_eq!(
            step(&open, verify(VerifyOutcome::Misrated), Actor::Officer, T0).state,
            CaseState::AppealWindow
        );
        let explained = step(
            &open,
            verify(VerifyOutcome::NoLegalBasis),
            Actor::Officer,
            T0,
        );
        assert_eq!(explained.state, CaseState::Explained);
        let closed = step(
            &explained,
            callback(CallbackResult::Satisfied),
            Actor::Officer,
            T0,
        );
        assert_eq!(closed.state, CaseState::Closed);
        // A verification needs a note and happens once.
        assert!(
            refused(
                &open,
                Action::Verify {
                    outcome: VerifyOutcome::True,
                    note: "".into()
                },
                Actor::Officer,
                T0
            )
            .contains("核实说明")
        );
        let done = step(&open, verify(VerifyOutcome::True), Actor::Officer, T0);
        assert!(refused(&done, verify(VerifyOutcome::True), Actor::Officer, T0).contains("整改中"));
    }

    #[test]
    fn only_an_officer_decides_and_only_the_hall_files() {
        let open = Case::open(at(T0));
        for who in [Actor::Director, Actor::Shopper, Actor::Hall] {
            assert!(
                refused(&open, verify(VerifyOutcome::True), who, T0).contains("只有效能督查员")
            );
        }
        let signoff = step(
            &step(&open, verify(VerifyOutcome::True), Actor::Officer, T0),
            rect(1),
            Actor::Hall,
            T0,
        );
        assert!(
            refused(&signoff, Action::AcceptRectification, Actor::Director, T0)
                .contains("只有效能督查员")
        );
        assert!(refused(&open, rect(1), Actor::Officer, T0).contains("大厅"));
        assert!(
            refused(
                &open,
                Action::AppealFiled {
                    id: "A".into(),
                    ground: "other".into(),
                    by: String::new(),
                },
                Actor::Officer,
                T0
            )
            .contains("大厅")
        );
        assert!(
            refused(
                &open,
                Action::EvaluationNoLongerBad {
                    how: "revised".into(),
                    level: 0,
                },
                Actor::Officer,
                T0
            )
            .contains("大厅")
        );
    }

    #[test]
    fn accept_and_return_need_a_submitted_rectification() {
        let rectifying = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::True),
            Actor::Officer,
            T0,
        );
        assert!(
            refused(&rectifying, Action::AcceptRectification, Actor::Officer, T0)
                .contains("整改中")
        );
        assert!(
            refused(
                &rectifying,
                Action::ReturnRectification {
                    opinion: "x".into()
                },
                Actor::Officer,
                T0
            )
            .contains("整改中")
        );
    }

    #[test]
    fn an_upheld_appeal_closes_the_case_and_a_malicious_one_marks_the_evaluator() {
        let c = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::True),
            Actor::Officer,
            T0,
        );
        let c = step(
            &c,
            Action::AppealFiled {
                id: "AP-1".into(),
                ground: "malicious".into(),
                by: String::new(),
            },
            Actor::Hall,
            "2026-09-29T09:00:00+08:00",
        );
        assert_eq!(c.state, CaseState::UnderAppeal);
        assert!(
            refused(
                &c,
                Action::DecideAppeal {
                    upheld: true,
                    note: "".into()
                },
                Actor::Officer,
                T0
            )
            .contains("复核意见")
        );
        let c = step(
            &c,
            Action::DecideAppeal {
                upheld: true,
                note: "经核实为恶意差评".into(),
            },
            Actor::Officer,
            "2026-09-30T09:00:00+08:00",
        );
        assert_eq!(c.state, CaseState::ClosedAppealed);
        assert!(c.marks_evaluator_malicious);
        // Closed: nothing but late feed records.
        assert!(
            refused(&c, callback(CallbackResult::Satisfied), Actor::Officer, T0)
                .contains("申诉成立")
        );
        assert_eq!(
            step(
                &c,
                Action::EvaluationNoLongerBad {
                    how: "withdrawn".into(),
                    level: 0,
                },
                Actor::Hall,
                T0
            ),
            c
        );
    }

    #[test]
    fn a_dismissed_appeal_resumes_where_it_was_with_the_clock_extended() {
        let policy = DeadlinePolicy::default();
        let c = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::True),
            Actor::Officer,
            T0,
        );
        assert_eq!(
            c.current_deadline(&cal(), &policy)
                .unwrap()
                .last_day
                .to_string(),
            "2026-10-23"
        );
        // Filed 10-12 (Mon), dismissed 10-14 (Wed): 2 working days paused.
        let c = step(
            &c,
            Action::AppealFiled {
                id: "AP-1".into(),
                ground: "misdirected".into(),
                by: String::new(),
            },
            Actor::Hall,
            "2026-10-12T09:00:00+08:00",
        );
        let review = c.current_deadline(&cal(), &policy).unwrap();
        assert_eq!(review.last_day.to_string(), "2026-10-19");
        let c = step(
            &c,
            Action::DecideAppeal {
                upheld: false,
                note: "理由不成立".into(),
            },
            Actor::Officer,
            "2026-10-14T16:00:00+08:00",
        );
        assert_eq!(c.state, CaseState::Rectifying);
        assert_eq!(c.paused_working_days, 2);
        assert!(!c.marks_evaluator_malicious);
        assert_eq!(
            c.current_deadline(&cal(), &policy)
                .unwrap()
                .last_day
                .to_string(),
            "2026-10-27"
        );
    }

    #[test]
    fn a_rectification_during_an_appeal_waits_for_the_verdict() {
        let c = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::True),
            Actor::Officer,
            T0,
        );
        let c = step(
            &c,
            Action::AppealFiled {
                id: "AP-1".into(),
                ground: "other".into(),
                by: String::new(),
            },
            Actor::Hall,
            "2026-10-12T09:00:00+08:00",
        );
        let c = step(&c, rect(1), Actor::Hall, "2026-10-13T09:00:00+08:00");
        assert_eq!(c.state, CaseState::UnderAppeal);
        let c = step(
            &c,
            Action::DecideAppeal {
                upheld: false,
                note: "驳回".into(),
            },
            Actor::Officer,
            "2026-10-14T09:00:00+08:00",
        );
        assert_eq!(c.state, CaseState::AwaitingSignoff);
    }

    #[test]
    fn a_dismissed_appeal_after_a_return_goes_back_to_rectifying() {
        let c = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::True),
            Actor::Officer,
            T0,
        );
        let c = step(&c, rect(1), Actor::Hall, T0);
        let c = step(
            &c,
            Action::ReturnRectification {
                opinion: "不具体".into(),
            },
            Actor::Officer,
            T0,
        );
        let c = step(
            &c,
            Action::AppealFiled {
                id: "AP-1".into(),
                ground: "other".into(),
                by: String::new(),
            },
            Actor::Hall,
            "2026-10-12T09:00:00+08:00",
        );
        let c = step(
            &c,
            Action::DecideAppeal {
                upheld: false,
                note: "驳回".into(),
            },
            Actor::Officer,
            "2026-10-13T09:00:00+08:00",
        );
        assert_eq!(c.state, CaseState::Rectifying);
    }

    #[test]
    fn callbacks_dissatisfied_reopens_once_then_escalates_and_three_unreachable_close() {
        let c = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::True),
            Actor::Officer,
            T0,
        );
        let c = step(
            &step(&c, rect(1), Actor::Hall, T0),
            Action::AcceptRectification,
            Actor::Officer,
            T0,
        );
        let reopened = step(
            &c,
            callback(CallbackResult::Dissatisfied),
            Actor::Officer,
            T0,
        );
        assert_eq!(
            (reopened.state, reopened.reopened),
            (CaseState::Rectifying, true)
        );
        let again = step(
            &step(&reopened, rect(2), Actor::Hall, T0),
            Action::AcceptRectification,
            Actor::Officer,
            T0,
        );
        assert_eq!(
            step(
                &again,
                callback(CallbackResult::Dissatisfied),
                Actor::Officer,
                T0
            )
            .state,
            CaseState::ClosedEscalated
        );
        let u1 = step(
            &c,
            callback(CallbackResult::Unreachable),
            Actor::Officer,
            T0,
        );
        let u2 = step(
            &u1,
            callback(CallbackResult::Unreachable),
            Actor::Officer,
            T0,
        );
        assert_eq!(u2.state, CaseState::AwaitingCallback);
        assert_eq!(
            step(
                &u2,
                callback(CallbackResult::Unreachable),
                Actor::Officer,
                T0
            )
            .state,
            CaseState::Closed
        );
        assert!(
            refused(
                &c,
                Action::Callback {
                    result: CallbackResult::Satisfied,
                    note: "".into()
                },
                Actor::Officer,
                T0
            )
            .contains("回访记录")
        );
        let open = Case::open(at(T0));
        assert!(
            refused(
                &open,
                callback(CallbackResult::Satisfied),
                Actor::Officer,
                T0
            )
            .contains("待核实")
        );
    }

    #[test]
    fn a_revision_or_withdrawal_closes_any_open_case() {
        let open = Case::open(at(T0));
        let signoff = step(
            &step(&open, verify(VerifyOutcome::True), Actor::Officer, T0),
            rect(1),
            Actor::Hall,
            T0,
        );
        for c in [open, signoff] {
            let closed = step(
                &c,
                Action::EvaluationNoLongerBad {
                    how: "revised".into(),
                    level: 0,
                },
                Actor::Hall,
                T0,
            );
            assert_eq!(closed.state, CaseState::ClosedRevised);
        }
    }

    #[test]
    fn the_appeal_window_closes_only_after_it_ends_and_late_appeals_are_refused() {
        let c = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::NotTrue),
            Actor::Officer,
            "2026-09-29T10:00:00+08:00",
        );
        // Window: 3 working days from 09-29 → 10-09 (National Day in between).
        let early = refused(
            &c,
            Action::Close {
                note: "无申诉".into(),
            },
            Actor::Officer,
            "2026-10-09T10:00:00+08:00",
        );
        assert!(early.contains("2026-10-09 23:59"), "{early}");
        assert_eq!(
            step(
                &c,
                Action::Close {
                    note: "期满无申诉".into()
                },
                Actor::Officer,
                "2026-10-10T09:00:00+08:00"
            )
            .state,
            CaseState::Closed
        );
        assert!(
            refused(
                &c,
                Action::AppealFiled {
                    id: "A".into(),
                    ground: "other".into(),
                    by: String::new(),
                },
                Actor::Hall,
                "2026-10-12T09:00:00+08:00"
            )
            .contains("超过")
        );
        assert_eq!(
            step(
                &c,
                Action::AppealFiled {
                    id: "A".into(),
                    ground: "other".into(),
                    by: String::new(),
                },
                Actor::Hall,
                "2026-10-08T09:00:00+08:00"
            )
            .state,
            CaseState::UnderAppeal
        );
        // Close is only for the appeal window.
        assert!(
            refused(
                &Case::open(at(T0)),
                Action::Close { note: "x".into() },
                Actor::Officer,
                T0
            )
            .contains("待核实")
        );
    }

    #[test]
    fn transfer_needs_a_reason_and_a_different_department() {
        let c = step(
            &Case::open(at(T0)),
            Action::Assign {
                lead: "D1".into(),
                co: vec!["D1".into(), "D2".into()],
            },
            Actor::Officer,
            T0,
        );
        assert_eq!(
            (c.lead_department.as_deref(), c.co_departments.clone()),
            (Some("D1"), vec!["D2".to_string()])
        );
        assert!(
            refused(
                &c,
                Action::Transfer {
                    department: "D2".into(),
                    reason: "".into()
                },
                Actor::Officer,
                T0
            )
            .contains("转办理由")
        );
        assert!(
            refused(
                &c,
                Action::Transfer {
                    department: "D1".into(),
                    reason: "x".into()
                },
                Actor::Officer,
                T0
            )
            .contains("相同")
        );
        let t = step(
            &c,
            Action::Transfer {
                department: "D2".into(),
                reason: "非本部门职责".into(),
            },
            Actor::Officer,
            T0,
        );
        assert_eq!(
            (t.lead_department.as_deref(), t.co_departments.len()),
            (Some("D2"), 0)
        );
    }

    #[test]
    fn warning_from_agrees_with_urgency_across_a_holiday() {
        let policy = DeadlinePolicy::default();
        // 3 working days from Mon 09-28: 09-29, 09-30, then 10-08 after the week off.
        let d = cal().deadline(at("2026-09-28T10:00:00+08:00"), 3);
        assert_eq!(d.last_day, NaiveDate::from_ymd_opt(2026, 10, 8).unwrap());
        let w = warning_from(&d, &cal(), policy.warn_before);
        // On 09-29 two working days are left (09-30, 10-08): the warning starts then,
        // nine calendar days before the deadline.
        assert_eq!(w, at("2026-09-29T00:00:00+08:00"));
        let just_before = w - chrono::Duration::seconds(1);
        assert_eq!(urgency_of(&d, just_before, &cal(), 2), Urgency::OnTime);
        assert_eq!(urgency_of(&d, w, &cal(), 2), Urgency::Warning);
    }

    #[test]
    fn a_finding_starts_rectifying_and_closes_when_confirmed() {
        let f = Case::open_finding(at(T0));
        assert_eq!(f.state, CaseState::Rectifying);
        let err = f
            .apply(
                &Action::FindingRectified { note: " ".into() },
                Actor::Officer,
                at(T0),
                &cal(),
                &DeadlinePolicy::default(),
            )
            .unwrap_err();
        assert!(err.0.contains("整改核查说明"));
        let done = step(
            &f,
            Action::FindingRectified {
                note: "复查已整改".into(),
            },
            Actor::Officer,
            T0,
        );
        assert_eq!(done.state, CaseState::Closed);
        // Not for bad-rating cases, and not by a director.
        let c = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::True),
            Actor::Officer,
            T0,
        );
        assert!(
            c.apply(
                &Action::FindingRectified { note: "x".into() },
                Actor::Officer,
                at(T0),
                &cal(),
                &DeadlinePolicy::default()
            )
            .is_err()
        );
        assert!(
            f.apply(
                &Action::FindingRectified { note: "x".into() },
                Actor::Director,
                at(T0),
                &cal(),
                &DeadlinePolicy::default()
            )
            .is_err()
        );
    }

    /// A case standing in `state`, with what that state remembers.
    fn standing_in(state: CaseState, finding: bool) -> Case {
        let mut c = Case::open(at(T0));
        c.state = state;
        c.finding = finding;
        c.lead_department = Some("D1".into());
        if state == CaseState::AppealWindow {
            c.verified_at = Some(at(T0));
        }
        if state == CaseState::UnderAppeal {
            c.before_appeal = Some(CaseState::Rectifying);
            c.appeal_filed_at = Some(at(T0));
        }
        if state == CaseState::AwaitingSignoff {
            c.rectification_rev = Some(1);
        }
        c
    }

    fn sample(kind: ActionKind) -> Action {
        let note = "说明".to_string();
        match kind {
            ActionKind::Verify => verify(VerifyOutcome::True),
            ActionKind::Accept => Action::AcceptRectification,
            ActionKind::Return => Action::ReturnRectification { opinion: note },
            ActionKind::DecideAppeal => Action::DecideAppeal {
                upheld: false,
                note,
            },
            ActionKind::Callback => callback(CallbackResult::Satisfied),
            ActionKind::Transfer => Action::Transfer {
                department: "D2".into(),
                reason: note,
            },
            ActionKind::Assign => Action::Assign {
                lead: "D3".into(),
                co: vec!["D4".into()],
            },
            ActionKind::Close => Action::Close { note },
            ActionKind::FindingRectified => Action::FindingRectified { note },
        }
    }

    #[test]
    fn the_offered_actions_follow_the_state_and_the_role() {
        let keys = |s: CaseState, finding: bool, who: Actor| -> Vec<&'static str> {
            standing_in(s, finding)
                .allowed_actions(who)
                .into_iter()
                .map(ActionKind::key)
                .collect()
        };
        use CaseState as S;
        let officer = Actor::Officer;
        assert!(keys(S::AwaitingSignoff, false, officer).contains(&"accept"));
        assert!(keys(S::AwaitingSignoff, false, officer).contains(&"return"));
        assert!(!keys(S::Rectifying, false, officer).contains(&"accept"));
        assert_eq!(keys(S::UnderAppeal, false, officer), ["decideAppeal"]);
        assert_eq!(keys(S::Open, false, officer)[0], "verify");
        assert!(keys(S::ClosedAppealed, false, officer).is_empty());
        assert_eq!(keys(S::Rectifying, true, officer)[0], "findingRectified");
        assert!(keys(S::Closed, true, officer).is_empty());
        // Only the officer decides: a director, a shopper or the hall get no buttons.
        for s in CaseState::ALL {
            for who in [Actor::Director, Actor::Shopper, Actor::Hall] {
                assert!(keys(s, false, who).is_empty(), "{s:?} {who:?}");
                assert!(keys(s, true, who).is_empty(), "{s:?} {who:?}");
            }
        }
    }

    #[test]
    fn the_inbox_tabs_keep_closed_cases_out_of_the_open_work() {
        let tabs = case_tabs();
        let keys: Vec<&str> = tabs.iter().map(|t| t.key).collect();
        assert_eq!(
            keys,
            [
                "todo",
                "open",
                "awaiting_signoff",
                "rectifying",
                "under_appeal",
                "awaiting_callback",
                "explained",
                "appeal_window",
                "closed"
            ]
        );
        assert!(tabs[0].states.iter().all(|s| !s.is_closed()));
        assert_eq!(tabs[0].states.len(), 7);
        let closed = &tabs.last().unwrap().states;
        assert_eq!(closed.len(), 4);
        assert!(closed.iter().all(|s| s.is_closed()));
    }

    /// Every action in every state that offers it, as the store will write it: the
    /// event, the timeline sentence, the decisions for the hall and the effects.
    #[test]
    fn each_offered_action_makes_its_transition() {
        let mut table = String::new();
        for finding in [false, true] {
            for state in CaseState::ALL {
                let c = standing_in(state, finding);
                for kind in c.allowed_actions(Actor::Officer) {
                    // 申诉期满 only after the filing window.
                    let when = if kind == ActionKind::Close {
                        "2026-10-30T10:00:00+08:00"
                    } else {
                        "2026-09-29T10:00:00+08:00"
                    };
                    let t = c
                        .apply(
                            &sample(kind),
                            Actor::Officer,
                            at(when),
                            &cal(),
                            &DeadlinePolicy::default(),
                        )
                        .unwrap_or_else(|e| panic!("{state:?} {kind:?}: {e}"));
                    let decisions: Vec<String> = t
                        .decisions
                        .iter()
                        .map(|d| match d.outcome {
                            Some(o) => format!("{}({o})", d.kind),
                            None => d.kind.to_string(),
                        })
                        .collect();
                    table.push_str(&format!(
                        "{}{} {} → {} {} | {} | [{}] | {:?}\n",
                        if finding { "finding " } else { "" },
                        state.as_str(),
                        kind.key(),
                        t.case.state.as_str(),
                        t.event,
                        t.summary,
                        decisions.join(", "),
                        t.effects
                    ));
                }
            }
        }
        let expected = include_str!("../../tests/transitions.txt");
        if std::env::var_os("HCP_UPDATE_TRANSITIONS").is_some() {
            std::fs::write(
                concat!(env!("CARGO_MANIFEST_DIR"), "/tests/transitions.txt"),
                &table,
            )
            .unwrap();
        } else {
            assert_eq!(table, expected);
        }
    }

    #[test]
    fn an_upheld_malicious_appeal_excludes_the_rating_and_marks_the_evaluator() {
        let mut c = standing_in(CaseState::UnderAppeal, false);
        c.marks_evaluator_malicious = true;
        let t = c
            .apply(
                &Action::DecideAppeal {
                    upheld: true,
                    note: "经查属恶意差评".into(),
                },
                Actor::Officer,
                at("2026-09-29T10:00:00+08:00"),
                &cal(),
                &DeadlinePolicy::default(),
            )
            .unwrap();
        assert_eq!(t.case.state, CaseState::ClosedAppealed);
        assert_eq!(
            t.effects,
            [Effect::ExcludeEvaluation, Effect::MarkEvaluatorMalicious]
        );
        assert_eq!(t.decisions[0].refers_to, RefersTo::LatestAppeal);
        assert_eq!(t.decisions[0].outcome, Some("upheld"));
        assert_eq!(t.decisions.last().unwrap().kind, "case_closed");
        assert_eq!(t.signs, Signs::LatestAppeal);
        // Without the malicious ground only the rating is excluded.
        c.marks_evaluator_malicious = false;
        let t = c
            .apply(
                &Action::DecideAppeal {
                    upheld: true,
                    note: "属误评".into(),
                },
                Actor::Officer,
                at("2026-09-29T10:00:00+08:00"),
                &cal(),
                &DeadlinePolicy::default(),
            )
            .unwrap();
        assert_eq!(t.effects, [Effect::ExcludeEvaluation]);
    }

    #[test]
    fn hall_records_are_described_even_when_refused() {
        let a = Action::AppealFiled {
            id: "AP-1".into(),
            ground: "malicious".into(),
            by: "李明".into(),
        };
        assert_eq!(
            hall_record_summary(&a).unwrap(),
            "大厅提出申诉（恶意差评），申诉人：李明"
        );
        let r = Action::RectificationSubmitted {
            id: "RC-1".into(),
            rev: 2,
            by: "王强".into(),
        };
        assert_eq!(
            hall_record_summary(&r).unwrap(),
            "大厅重新提交整改报告（第 2 版），责任人：王强"
        );
        // An officer cannot pose as the hall, even on a closed case.
        let closed = standing_in(CaseState::Closed, false);
        assert!(
            closed
                .apply(
                    &r,
                    Actor::Officer,
                    at(T0),
                    &cal(),
                    &DeadlinePolicy::default()
                )
                .is_err()
        );
    }

    #[test]
    fn names_round_trip() {
        for s in CaseState::ALL {
            assert_eq!(CaseState::parse(s.as_str()), Some(s));
        }
        for o in VerifyOutcome::ALL {
            assert_eq!(VerifyOutcome::parse(o.as_str()), Some(o));
        }
        for r in CallbackResult::ALL {
            assert_eq!(CallbackResult::parse(r.as_str()), Some(r));
        }
        assert_eq!(CaseState::parse("nope"), None);
        let bad = DeadlinePolicy {
            rectify: 0,
            ..DeadlinePolicy::default()
        };
        assert!(bad.check().unwrap_err().0.contains("整改时限"));
        assert!(DeadlinePolicy::default().check().is_ok());
    }

    #[test]
    fn warning_two_working_days_before_then_overdue() {
        let policy = DeadlinePolicy::default();
        let c = step(
            &Case::open(at(T0)),
            verify(VerifyOutcome::True),
            Actor::Officer,
            T0,
        );
        // Due 2026-10-23 (Fri).
        assert_eq!(
            c.urgency(at("2026-10-20T09:00:00+08:00"), &cal(), &policy),
            Some(Urgency::OnTime)
        );
        assert_eq!(
            c.urgency(at("2026-10-21T09:00:00+08:00"), &cal(), &policy),
            Some(Urgency::Warning)
        );
        assert_eq!(
            c.urgency(at("2026-10-23T23:59:59+08:00"), &cal(), &policy),
            Some(Urgency::Warning)
        );
        assert_eq!(
            c.urgency(at("2026-10-24T00:00:00+08:00"), &cal(), &policy),
            Some(Urgency::Overdue)
        );
        let open = Case::open(at(T0));
        // Verification: 1 working day → 09-29.
        assert_eq!(
            open.urgency(at("2026-09-30T08:00:00+08:00"), &cal(), &policy),
            Some(Urgency::Overdue)
        );
        let closed = step(
            &open,
            Action::EvaluationNoLongerBad {
                how: "withdrawn".into(),
                level: 0,
            },
            Actor::Hall,
            T0,
        );
        assert_eq!(closed.urgency(at(T0), &cal(), &policy), None);
    }
}
