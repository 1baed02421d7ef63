//! What an action does, as plain data: the timeline's event and sentence, what the
//! entry signs, the decisions for the hall and the effects beyond the case.

use super::*;

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

    pub(super) fn describe(before: &Case, case: Case, action: &Action) -> Transition {
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
