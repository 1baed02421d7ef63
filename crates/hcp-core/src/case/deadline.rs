//! Deadlines in working days: the policy, a case's current deadline and its rule,
//! the overdue warning and urgency.

use super::*;

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

impl Case {
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
