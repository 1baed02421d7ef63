//! The demo office at work: each case's next step at the time an officer would have taken it, through the case engine.

use super::*;

pub(crate) struct Clock<'a> {
    pub(crate) cal: &'a hcp_core::WorkingCalendar,
    pub(crate) anchor: DateTime<FixedOffset>,
}

impl Clock<'_> {
    /// The working day `n` working days after `day`.
    pub(crate) fn add(&self, day: NaiveDate, n: u32) -> NaiveDate {
        self.cal.add_working_days(day, n).value
    }

    /// An office-hours instant `n` working days after `after` (never before it),
    /// or `None` when that is still in the future.
    pub(crate) fn later(
        &self,
        after: DateTime<FixedOffset>,
        n: u32,
        r: f64,
    ) -> Option<DateTime<FixedOffset>> {
        let day = self.add(after.date_naive(), n);
        let mut t = office_time(day, r);
        if t <= after {
            t = after + Duration::minutes(20 + (r * 90.0) as i64);
        }
        (t <= self.anchor).then_some(t)
    }
}

// ---- the officer's rounds ----

pub(crate) const VERIFY_TRUE: &[&str] = &[
    "经调取窗口录像并与当事工作人员核实，评价反映情况属实。",
    "已电话联系评价人并核对办件记录，情况基本属实，转大厅整改。",
    "经核实，窗口一次性告知不到位，评价属实。",
];

pub(crate) const VERIFY_NOT_TRUE: &[&str] = &[
    "经核查办件记录与现场录像，工作人员已按规定告知，评价内容与事实不符。",
    "该事项不属本窗口职责，工作人员已正确指引，属误评。",
];

pub(crate) const VERIFY_NO_BASIS: &[&str] =
    &["评价人诉求缺乏政策依据，已向评价人解释说明相关规定。"];

pub(crate) const RETURN_OPINION: &[&str] = &[
    "整改报告未写明具体措施和完成时限，请补充后重新提交。",
    "请补充对当事工作人员的培训记录及回访评价人的情况。",
];

pub(crate) const CALLBACK_OK: &[&str] = &[
    "电话回访评价人，对整改结果表示满意。",
    "回访评价人，评价人认可大厅的处理。",
];

pub(crate) const CALLBACK_BAD: &[&str] = &["回访评价人，评价人认为问题仍未解决，要求继续整改。"];

pub(crate) const CALLBACK_NONE: &[&str] = &["电话回访未接通。"];

pub(crate) const APPEAL_UPHELD: &[&str] = &[
    "经复核，大厅已正确指引，差评不计入考核。",
    "经复核，属系统误操作产生的重复评价，申诉成立。",
];

pub(crate) const APPEAL_DISMISSED: &[&str] = &["经复核，申诉理由不充分，维持差评，请继续整改。"];

pub(crate) const MEASURES: &[&str] = &[
    "已组织窗口人员开展一次性告知专题培训，并电话向评价人致歉说明。",
    "已优化该事项办事指南，在窗口张贴材料清单，并安排专人导办。",
    "已对当事工作人员批评教育，纳入月度考核，并完善首问负责登记。",
];

pub(crate) const RESPONSIBLE: &[&str] = &["王敏", "刘洋", "张伟", "陈丽", "赵强"];

/// One pass over every open case: each takes every step whose time has come;
/// what the halls would send in answer is returned to be appended and synced.
pub(crate) fn office_round(
    s: &mut Store,
    anchor: DateTime<Utc>,
    mut transferred: bool,
) -> AppResult<(usize, Vec<Appended>, bool)> {
    let rules = s.case_rules()?;
    let mut departments: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for h in s.halls()? {
        let p = s.hall_profile(&h.hall_id)?;
        departments.insert(
            h.hall_id,
            p.departments.into_iter().map(|d| d.code).collect(),
        );
    }
    let clock = Clock {
        cal: &rules.calendar,
        anchor: bj(anchor),
    };
    let officer = Who {
        name: DEMO_OFFICER,
        actor: Actor::Officer,
    };
    let mut ids = vec![];
    let mut offset = 0;
    loop {
        let page = s.list_cases(
            &CaseFilter {
                kind: Some("bad_rating".into()),
                limit: Some(500),
                offset: Some(offset),
                ..CaseFilter::default()
            },
            anchor,
        )?;
        offset += page.rows.len() as i64;
        ids.extend(
            page.rows
                .into_iter()
                .filter(|r| {
                    !hcp_core::case::CaseState::parse(&r.state).is_some_and(|s| s.is_closed())
                })
                .map(|r| r.case_id),
        );
        if offset >= page.total {
            break;
        }
    }
    ids.sort_unstable();
    let mut acted = 0;
    let mut sent = vec![];
    for id in ids {
        // Every step this case can take now, one after another.
        for _ in 0..8 {
            let d = s.case_detail(id, anchor)?;
            let depts = departments
                .get(&d.case.hall_id)
                .map_or(&[][..], Vec::as_slice);
            match next_step(&d, &clock, depts, &mut transferred) {
                Step::Act(action, at) => {
                    match s.act_on_case(id, &action, officer, Some(d.case.version), at) {
                        Ok(_) => acted += 1,
                        // The engine has the last word; the demo only proposes.
                        Err(hcp_store::StoreError::Refused(why)) => {
                            tracing::debug!(case_id = id, %why, "demo step refused");
                            break;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
                Step::HallSends(a) => {
                    sent.push(a);
                    break;
                }
                Step::Wait => break,
            }
        }
    }
    Ok((acted, sent, transferred))
}

pub(crate) enum Step {
    Act(Action, DateTime<FixedOffset>),
    HallSends(Appended),
    Wait,
}

/// When the case last moved: its rating, or the latest action's own time.
pub(crate) fn last_moved(d: &CaseDetail) -> DateTime<FixedOffset> {
    let mut t = parse_utc(&d.case.evaluated_at).unwrap_or_else(Utc::now);
    for e in &d.timeline {
        if let Some(a) = e.acted_at.as_deref().and_then(parse_utc) {
            t = t.max(a);
        }
    }
    bj(t)
}

pub(crate) fn next_step(
    d: &CaseDetail,
    clock: &Clock<'_>,
    departments: &[String],
    transferred: &mut bool,
) -> Step {
    use hcp_core::case::CaseState as S;
    let key = format!("{}/{}", d.case.hall_id, d.case.evaluation_id);
    let k = key.as_str();
    let Some(state) = S::parse(&d.case.state) else {
        return Step::Wait;
    };
    let last = last_moved(d);
    let rects: Vec<_> = d
        .follow_ups
        .iter()
        .filter(|f| f.kind == "rectification")
        .collect();
    let rect_rev = rects.iter().map(|f| f.rev).max().unwrap_or(0);
    let act = |action: Action, at: Option<DateTime<FixedOffset>>| match at {
        Some(at) => Step::Act(action, at),
        None => Step::Wait,
    };
    match state {
        S::Open => {
            // A few are left lying: 超期 待核实.
            if roll(k, "neglect") < 0.01 {
                return Step::Wait;
            }
            let r = roll(k, "verify");
            // The last days' verdicts are spread wider, so that the short-lived
            // states (申诉期, 解释说明) are on screen too.
            let age = clock
                .cal
                .working_days_between(last.date_naive(), clock.anchor.date_naive())
                .value;
            let outcome = if age <= 3 {
                if r < 0.30 {
                    VerifyOutcome::True
                } else if r < 0.55 {
                    VerifyOutcome::NotTrue
                } else if r < 0.65 {
                    VerifyOutcome::Misrated
                } else {
                    VerifyOutcome::NoLegalBasis
                }
            } else if r < 0.70 {
                VerifyOutcome::True
            } else if r < 0.82 {
                VerifyOutcome::PartlyTrue
            } else if r < 0.90 {
                VerifyOutcome::NotTrue
            } else if r < 0.94 {
                VerifyOutcome::Misrated
            } else {
                VerifyOutcome::NoLegalBasis
            };
            let note = match outcome {
                VerifyOutcome::True | VerifyOutcome::PartlyTrue => pick(k, "vnote", VERIFY_TRUE),
                VerifyOutcome::NotTrue | VerifyOutcome::Misrated => {
                    pick(k, "vnote", VERIFY_NOT_TRUE)
                }
                VerifyOutcome::NoLegalBasis => pick(k, "vnote", VERIFY_NO_BASIS),
            };
            let days = u32::from(roll(k, "vday") < 0.6);
            act(
                Action::Verify {
                    outcome,
                    note: note.into(),
                },
                clock.later(last, days, roll(k, "vtime")),
            )
        }
        S::Rectifying => {
            // One case is transferred to another department on its way.
            if !*transferred
                && roll(k, "transfer") < 0.05
                && !d.timeline.iter().any(|e| e.action == "transfer")
                && let Some(to) = departments
                    .iter()
                    .find(|c| Some(c.as_str()) != d.case.lead_department.as_deref())
            {
                *transferred = true;
                return act(
                    Action::Transfer {
                        department: to.clone(),
                        reason: "经核实，该事项由该部门牵头承办，予以转办".into(),
                    },
                    clock.later(last, 0, roll(k, "ttime")),
                );
            }
            let next_rev = rect_rev + 1;
            let what = format!("late{next_rev}");
            // Some halls are late: these become 超期预警 and 超期.
            if roll(k, &what) < if next_rev == 1 { 0.05 } else { 0.1 } {
                return Step::Wait;
            }
            let days = 2 + (roll(k, &format!("rday{next_rev}")) * 9.0) as u32;
            let Some(at) = clock.later(last, days, roll(k, &format!("rtime{next_rev}"))) else {
                return Step::Wait;
            };
            let id = rects
                .first()
                .map_or_else(|| format!("RC-D{:05}", d.case.case_id), |f| f.id.clone());
            let mut measures = pick(k, &format!("m{next_rev}"), MEASURES).to_string();
            if next_rev > 1 {
                measures = format!("（补充整改）{measures}已按意见补充培训记录与回访情况。");
            }
            Step::HallSends(Appended {
                hall: d.case.hall_id.clone(),
                kind: "rectification".into(),
                data: serde_json::json!({
                    "id": id, "rev": next_rev, "hall_id": d.case.hall_id,
                    "evaluation_id": d.case.evaluation_id, "submitted_at": at.to_rfc3339(),
                    "responsible": pick(k, "who", RESPONSIBLE), "measures": measures,
                    "attachments": [],
                }),
            })
        }
        S::AwaitingSignoff => {
            let days = 1 + u32::from(roll(k, &format!("sday{rect_rev}")) < 0.4);
            let at = clock.later(last, days, roll(k, &format!("stime{rect_rev}")));
            if rect_rev <= 1 && d.returns == 0 && roll(k, "return") < 0.12 {
                act(
                    Action::ReturnRectification {
                        opinion: pick(k, "ropinion", RETURN_OPINION).into(),
                    },
                    at,
                )
            } else {
                act(Action::AcceptRectification, at)
            }
        }
        S::AwaitingCallback | S::Explained => {
            let n = d.unreachable_attempts;
            let what = format!("cb{}{n}", u8::from(d.reopened));
            let r = roll(k, &what);
            let result = if d.reopened {
                if r < 0.3 {
                    CallbackResult::Dissatisfied
                } else {
                    CallbackResult::Satisfied
                }
            } else if n > 0 {
                if r < 0.5 {
                    CallbackResult::Unreachable
                } else {
                    CallbackResult::BasicallySatisfied
                }
            } else if r < 0.70 {
                CallbackResult::Satisfied
            } else if r < 0.84 {
                CallbackResult::BasicallySatisfied
            } else if r < 0.93 && state == S::AwaitingCallback {
                CallbackResult::Dissatisfied
            } else {
                CallbackResult::Unreachable
            };
            let note = match result {
                CallbackResult::Satisfied | CallbackResult::BasicallySatisfied => {
                    pick(k, &what, CALLBACK_OK)
                }
                CallbackResult::Dissatisfied => pick(k, &what, CALLBACK_BAD),
                CallbackResult::Unreachable => pick(k, &what, CALLBACK_NONE),
            };
            // Explaining to a citizen takes longer than calling back after a fix.
            let days = if state == S::Explained { 3 } else { 1 }
                + u32::from(roll(k, &format!("{what}d")) < 0.5);
            act(
                Action::Callback {
                    result,
                    note: note.into(),
                },
                clock.later(last, days, roll(k, &format!("{what}t"))),
            )
        }
        S::AppealWindow => {
            // Some halls appeal a "not true" verdict within the window; the rest
            // are closed once it has passed.
            let appealed = d.follow_ups.iter().any(|f| f.kind == "appeal");
            if !appealed && roll(k, "appeal") < 0.35 {
                return match clock.later(last, 1, roll(k, "atime")) {
                    Some(at) => Step::HallSends(Appended {
                        hall: d.case.hall_id.clone(),
                        kind: "appeal".into(),
                        data: serde_json::json!({
                            "id": format!("AP-D{:05}", d.case.case_id), "rev": 1,
                            "hall_id": d.case.hall_id, "evaluation_id": d.case.evaluation_id,
                            "filed_at": at.to_rfc3339(), "filed_by": format!("窗口负责人 {}", pick(k, "aby", RESPONSIBLE)),
                            "ground": pick(k, "ground", &["misdirected", "malicious", "other"]),
                            "statement": "该评价人所办事项不属本窗口受理范围，工作人员已按规定指引至相应窗口，附现场录像截图。",
                            "attachments": [],
                        }),
                    }),
                    None => Step::Wait,
                };
            }
            act(
                Action::Close {
                    note: "申诉期满，大厅未提出申诉，予以办结。".into(),
                },
                clock.later(last, 4, roll(k, "ctime")),
            )
        }
        S::UnderAppeal => {
            let ground = d
                .follow_ups
                .iter()
                .filter(|f| f.kind == "appeal")
                .filter_map(|f| f.ground.clone())
                .next_back()
                .unwrap_or_default();
            let upheld = roll(k, "verdict") < if ground == "malicious" { 0.7 } else { 0.45 };
            let days = 1 + (roll(k, "vd") * 3.0) as u32;
            act(
                Action::DecideAppeal {
                    upheld,
                    note: if upheld {
                        pick(k, "vn", APPEAL_UPHELD)
                    } else {
                        pick(k, "vn", APPEAL_DISMISSED)
                    }
                    .into(),
                },
                clock.later(last, days, roll(k, "vt")),
            )
        }
        _ => Step::Wait,
    }
}
