//! The case engine's tests: every transition, deadlines, tabs.

use super::*;

#[test]
fn the_sql_list_of_closed_states_is_the_closed_states() {
    let closed: Vec<String> = CaseState::ALL
        .iter()
        .filter(|s| s.is_closed())
        .map(|s| format!("'{}'", s.as_str()))
        .collect();
    assert_eq!(
        crate::closed_states_sql!(),
        format!("({})", closed.join(", "))
    );
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
        assert!(refused(&open, verify(VerifyOutcome::True), who, T0).contains("只有效能督查员"));
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
        refused(&rectifying, Action::AcceptRectification, Actor::Officer, T0).contains("整改中")
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
        refused(&c, callback(CallbackResult::Satisfied), Actor::Officer, T0).contains("申诉成立")
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
