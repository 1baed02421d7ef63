//! The case and its state machine: opening, which actions a role may take now,
//! and `apply` — each action's guard and the case after it.

use super::*;

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
