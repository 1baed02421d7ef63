//! The case workflow's commands: the user profile and its role, the inbox, a
//! case's page, officers' actions, pushing decisions, deadlines and the calendar.

use chrono::Utc;
use hcp_core::Role;
use hcp_core::case::{Action, Actor, CallbackResult, DeadlinePolicy, VerifyOutcome};
use hcp_store::{
    CaseChange, CaseDetail, CaseFilter, CasePage, CaseStateCount, OutboxSummary, Store, TokenVault,
    Who,
};
use hcp_sync::PushReport;

use crate::ErrorCode;
use crate::{App, AppError, AppResult, types::*};

/// Where the profile is kept (in the cache: one cache per OS account).
use crate::PROFILE_SETTING;

/// The OS account name, the profile's default name.
pub(crate) fn os_user() -> String {
    ["USERNAME", "USER"]
        .iter()
        .find_map(|k| std::env::var(k).ok().filter(|v| !v.trim().is_empty()))
        .unwrap_or_else(|| "本机用户".to_owned())
}

/// The profile, or the default one (the OS account, as an officer) when unset.
pub(crate) fn load_profile(s: &Store) -> AppResult<(UserProfile, bool)> {
    match s.setting(PROFILE_SETTING)? {
        Some(json) => {
            let p: UserProfile = serde_json::from_str(&json)
                .map_err(|e| AppError::new(ErrorCode::Store, format!("用户资料已损坏：{e}")))?;
            Ok((p, true))
        }
        None => Ok((
            UserProfile {
                name: os_user(),
                role: Role::Officer,
                hall_id: None,
            },
            false,
        )),
    }
}

/// Role label for people, of a role as the audit log stores it.
pub fn role_zh(role: &str) -> &'static str {
    role.parse::<Role>().map_or("未知身份", Role::label_zh)
}

/// A director may look only at their own hall.
pub(crate) fn hall_scope(p: &UserProfile, asked: Option<String>) -> AppResult<Option<String>> {
    p.role
        .hall_scope(p.hall_id.as_deref(), asked)
        .map_err(|why| AppError::new(ErrorCode::Forbidden, why))
}

/// The hall a query may see: a director's own, whatever was asked.
pub(crate) fn scoped_hall(s: &Store, asked: Option<String>) -> AppResult<Option<String>> {
    let (p, _) = load_profile(s)?;
    hall_scope(&p, asked)
}

fn to_policy(v: &DeadlinePolicyView) -> DeadlinePolicy {
    DeadlinePolicy {
        verify: v.verify,
        rectify: v.rectify,
        appeal_filing: v.appeal_filing,
        appeal_review: v.appeal_review,
        warn_before: v.warn_before,
    }
}

fn to_view(p: &DeadlinePolicy) -> DeadlinePolicyView {
    DeadlinePolicyView {
        verify: p.verify,
        rectify: p.rectify,
        appeal_filing: p.appeal_filing,
        appeal_review: p.appeal_review,
        warn_before: p.warn_before,
    }
}

/// The core action for an officer's input, or a zh-CN reason it is malformed.
pub fn to_action(a: CaseActionInput) -> AppResult<Action> {
    Ok(match a {
        CaseActionInput::Verify { outcome, note } => Action::Verify {
            outcome: VerifyOutcome::parse(&outcome).ok_or_else(|| {
                AppError::invalid(format!(
                    "核实结论 “{outcome}” 无效：应为 true、partly_true、not_true、misrated 或 no_legal_basis"
                ))
            })?,
            note,
        },
        CaseActionInput::AcceptRectification => Action::AcceptRectification,
        CaseActionInput::ReturnRectification { opinion } => {
            Action::ReturnRectification { opinion }
        }
        CaseActionInput::DecideAppeal { upheld, note } => Action::DecideAppeal { upheld, note },
        CaseActionInput::Callback { result, note } => Action::Callback {
            result: CallbackResult::parse(&result).ok_or_else(|| {
                AppError::invalid(format!(
                    "回访结果 “{result}” 无效：应为 satisfied、basically_satisfied、dissatisfied 或 unreachable"
                ))
            })?,
            note,
        },
        CaseActionInput::Transfer { department, reason } => Action::Transfer { department, reason },
        CaseActionInput::Assign { lead, co } => Action::Assign { lead, co },
        CaseActionInput::Close { note } => Action::Close { note },
        CaseActionInput::FindingRectified { note } => Action::FindingRectified { note },
    })
}

impl App {
    /// 加入/移出典型案例 (officers): the case becomes (or stops being) one of its
    /// month's 典型案例, which a report drafted for that month uses. Returns the
    /// month.
    pub async fn set_typical(&self, a: SetTypicalArgs) -> AppResult<String> {
        self.with_store(move |s| {
            let (p, _) = load_profile(s)?;
            let actor = p.role.actor();
            Ok(s.set_typical(
                a.case_id,
                a.typical,
                Who {
                    name: &p.name,
                    actor,
                },
            )?)
        })
        .await
    }

    /// A month's 典型案例 (a director: his hall's).
    pub async fn typical_cases(&self, a: TypicalArgs) -> AppResult<Vec<hcp_store::TypicalCase>> {
        self.with_store(move |s| {
            let hall = scoped_hall(s, a.hall_id)?;
            typical_of_period(s, &a.month, hall.as_deref())
        })
        .await
    }

    /// The local user profile.
    pub async fn current_user(&self) -> AppResult<UserProfile> {
        self.with_store(|s| Ok(load_profile(s)?.0)).await
    }

    /// Sets the local user profile (audited). A director needs their hall.
    pub async fn set_user(&self, p: UserProfile) -> AppResult<UserProfile> {
        if let Some(link) = self.hub_link().await? {
            return Err(AppError::new(
                ErrorCode::Refused,
                format!(
                    "本机已连接团队服务器 {}：姓名与身份来自团队服务器账号 {}，不能在本机修改",
                    link.url, link.account
                ),
            ));
        }
        let name = p.name.trim().to_owned();
        if name.is_empty() || name.chars().count() > 32 {
            return Err(AppError::invalid("请填写姓名（不超过 32 个字）"));
        }
        let hall_id = if p.role == Role::Director {
            Some(
                p.hall_id
                    .clone()
                    .filter(|h| !h.trim().is_empty())
                    .ok_or_else(|| AppError::invalid("大厅负责人须选择所在大厅"))?,
            )
        } else {
            None
        };
        let profile = UserProfile {
            name,
            role: p.role,
            hall_id,
        };
        let saved = profile.clone();
        self.with_store(move |s| {
            if let Some(h) = &profile.hall_id
                && s.hall(h)?.is_none()
            {
                return Err(AppError::not_found(format!("没有编码为 “{h}” 的大厅")));
            }
            let json = serde_json::to_string(&profile)
                .map_err(|e| AppError::new(ErrorCode::Internal, e.to_string()))?;
            // The change and its audit row commit together.
            s.set_setting_audited(
                PROFILE_SETTING,
                Some(&json),
                &hcp_store::AuditEntry {
                    actor: &profile.name,
                    role: profile.role.as_str(),
                    subject: "user",
                    action: "profile_set",
                    detail: &json,
                },
            )?;
            Ok(())
        })
        .await?;
        Ok(saved)
    }

    /// A page of the inbox. A director sees only their hall.
    pub async fn list_cases(&self, f: CaseFilter) -> AppResult<CasePage> {
        for st in &f.states {
            if hcp_core::case::CaseState::parse(st).is_none() {
                return Err(AppError::invalid(format!("工单状态 “{st}” 无效")));
            }
        }
        if let Some(u) = &f.urgency
            && !matches!(u.as_str(), "warning" | "overdue" | "soon")
        {
            return Err(AppError::invalid(
                "超期筛选应为 warning（含超期）、soon（即将超期）或 overdue（已超期）",
            ));
        }
        self.with_store(move |s| {
            let (p, _) = load_profile(s)?;
            let mut f = f;
            f.hall_id = hall_scope(&p, f.hall_id.take())?;
            Ok(s.list_cases(&f, Utc::now())?)
        })
        .await
    }

    /// Cases per state, for the inbox's tabs.
    pub async fn case_counts(&self, a: CaseCountArgs) -> AppResult<Vec<CaseStateCount>> {
        self.with_store(move |s| {
            let (p, _) = load_profile(s)?;
            let hall = hall_scope(&p, a.hall_id)?;
            Ok(s.case_counts(hall.as_deref(), Utc::now())?)
        })
        .await
    }

    /// A case's page.
    pub async fn case_detail(&self, a: CaseIdArgs) -> AppResult<CaseDetail> {
        self.with_store(move |s| {
            let (p, _) = load_profile(s)?;
            let mut d = s.case_detail_for(a.case_id, Utc::now(), p.role.actor())?;
            hall_scope(&p, Some(d.case.hall_id.clone()))?;
            // The raw record carries the evaluator's ID hash: not for the UI.
            if let Some(e) = d.evaluation.as_mut() {
                e.raw_json.clear();
            }
            Ok(d)
        })
        .await
    }

    /// An officer's action on a case, as the profile's user.
    pub async fn case_action(&self, a: CaseActionArgs) -> AppResult<CaseChange> {
        let action = to_action(a.action)?;
        self.with_store(move |s| {
            let (p, _) = load_profile(s)?;
            let who = Who {
                name: &p.name,
                actor: p.role.actor(),
            };
            let at = Utc::now()
                .with_timezone(&hcp_core::metrics::beijing())
                .fixed_offset();
            if s.hub_link()?.is_some() {
                // A replica: the action waits for the office hub, which decides.
                let stored = s.case_detail_for(a.case_id, Utc::now(), p.role.actor())?;
                hall_scope(&p, Some(stored.case.hall_id.clone()))?;
                if !p.role.may(hcp_core::Capability::DecideCases) {
                    return Err(AppError::new(
                        ErrorCode::Refused,
                        "只有效能督查员可以办理工单",
                    ));
                }
                let q = s.queue_hub_action(a.case_id, &action, who, at)?;
                return Ok(hcp_store::CaseChange {
                    case_id: a.case_id,
                    from_state: stored.case.state.clone(),
                    to_state: stored.case.state,
                    version: q.expected_version,
                    decisions_queued: 0,
                    queued_for_hub: Some(q.id),
                });
            }
            Ok(s.act_on_case(a.case_id, &action, who, a.version, at)?)
        })
        .await
    }

    /// Bulk-assigns cases to a 承办人.
    pub async fn assign_cases(&self, a: AssignCasesArgs) -> AppResult<u32> {
        if a.case_ids.is_empty() {
            return Err(AppError::invalid("请先勾选要分派的工单"));
        }
        self.with_store(move |s| {
            let (p, _) = load_profile(s)?;
            let who = Who {
                name: &p.name,
                actor: p.role.actor(),
            };
            Ok(s.assign_cases(&a.case_ids, &a.assignee, who)?)
        })
        .await
    }

    /// Delivers pending decisions to every hall that has some.
    pub async fn push_now(&self) -> AppResult<Vec<PushReport>> {
        self.push_to(None).await
    }

    /// Delivers pending decisions to the given halls (all when `None`) that have
    /// some. After a sync only the halls that answered are pushed to, so an
    /// unreachable hall does not keep the officer waiting twice.
    pub async fn push_to(&self, only: Option<Vec<String>>) -> AppResult<Vec<PushReport>> {
        let db = self.db.clone();
        let eps = self
            .with_store(move |s| {
                let halls = s.halls_with_pending_decisions()?;
                let known: Vec<String> = s.halls()?.into_iter().map(|h| h.hall_id).collect();
                let only: Vec<String> = halls
                    .into_iter()
                    .filter(|h| known.contains(h))
                    .filter(|h| only.as_ref().is_none_or(|o| o.contains(h)))
                    .collect();
                if only.is_empty() {
                    return Ok(vec![]);
                }
                Ok(hcp_sync::endpoints(
                    s,
                    &TokenVault::for_database(&db),
                    &only,
                )?)
            })
            .await?;
        Ok(hcp_sync::push_halls(&self.db, eps, &self.options).await)
    }

    /// Per hall: decisions pending, delivered, rejected.
    pub async fn outbox_summary(&self) -> AppResult<Vec<OutboxSummary>> {
        self.with_store(|s| Ok(s.outbox_summary()?)).await
    }

    /// Deadline policies and calendar years, for 设置.
    pub async fn case_settings(&self) -> AppResult<CaseSettings> {
        self.with_store(|s| {
            let rules = s.case_rules()?;
            let halls = s
                .halls()?
                .into_iter()
                .map(|h| HallPolicy {
                    policy: to_view(&rules.policy(&h.hall_id)),
                    own: rules.hall_policies.contains_key(&h.hall_id),
                    hall_id: h.hall_id,
                    name: h.name,
                })
                .collect();
            Ok(CaseSettings {
                default_policy: to_view(&rules.default_policy),
                halls,
                calendar_years: rules.calendar.years().collect(),
                imported_years: s.imported_calendar_years()?,
                count_system_default: s.count_system_default()?,
            })
        })
        .await
    }

    /// Sets the default deadline policy or a hall's (officers only).
    pub async fn set_deadline_policy(&self, a: SetPolicyArgs) -> AppResult<CaseSettings> {
        self.with_store(move |s| {
            let (p, _) = load_profile(s)?;
            let who = Who {
                name: &p.name,
                actor: p.role.actor(),
            };
            if let Some(h) = &a.hall_id
                && s.hall(h)?.is_none()
            {
                return Err(AppError::not_found(format!("没有编码为 “{h}” 的大厅")));
            }
            s.set_deadline_policy(a.hall_id.as_deref(), &to_policy(&a.policy), who)?;
            Ok(())
        })
        .await?;
        self.case_settings().await
    }

    /// Sets whether reports count 系统默认评价 in 评价量 and 好评率 (officers only).
    pub async fn set_report_policy(&self, a: ReportPolicyArgs) -> AppResult<CaseSettings> {
        self.with_store(move |s| {
            let (p, _) = load_profile(s)?;
            let who = Who {
                name: &p.name,
                actor: p.role.actor(),
            };
            s.set_count_system_default(a.count_system_default, who)?;
            Ok(())
        })
        .await?;
        self.case_settings().await
    }

    /// Imports a year of working-day data (holiday-cn JSON). Returns the year.
    pub async fn import_calendar(&self, a: ImportCalendarArgs) -> AppResult<i32> {
        if a.json.len() > 1_000_000 {
            return Err(AppError::invalid(
                "文件过大，不像节假日数据（holiday-cn 格式）",
            ));
        }
        self.with_store(move |s| {
            let (p, _) = load_profile(s)?;
            if !p.role.may(hcp_core::Capability::EditPolicies) {
                return Err(AppError::new(
                    ErrorCode::Forbidden,
                    "只有效能督查员可以导入节假日数据",
                ));
            }
            let who = Who {
                name: &p.name,
                actor: Actor::Officer,
            };
            Ok(s.import_calendar_year(&a.json, who)?)
        })
        .await
    }
}

/// The 典型案例 picked for a period (`2026-10`, `2026-Q3`, `2026`): each month's
/// picks, in month order.
pub(crate) fn typical_of_period(
    s: &Store,
    period: &str,
    hall: Option<&str>,
) -> AppResult<Vec<hcp_store::TypicalCase>> {
    let period = hcp_core::metrics::Period::parse(period).map_err(AppError::invalid)?;
    let mut picked = vec![];
    for m in period.months() {
        picked.extend(s.typical_cases(&m.to_string(), hall)?);
    }
    Ok(picked)
}
