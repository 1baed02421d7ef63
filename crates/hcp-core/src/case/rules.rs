//! The rules a case's deadlines are measured by: the working calendar (built-in
//! years plus those the office imported) and the deadline policies (the office's
//! default and each hall's own). Both stores keep them as settings under the same
//! keys and read them into this one object.

use std::collections::HashMap;

use chrono::{DateTime, FixedOffset};

use super::{Case, DeadlinePolicy, warning_from};
use crate::calendar::WorkingCalendar;

/// Settings key prefix of an imported calendar year (`calendar.year.2026`).
pub const CALENDAR_PREFIX: &str = "calendar.year.";
/// Settings key of the office's default deadline policy.
pub const POLICY_DEFAULT: &str = "policy.default";
/// Settings key prefix of a hall's own policy (`policy.hall.<大厅编码>`).
pub const POLICY_HALL_PREFIX: &str = "policy.hall.";

/// The working calendar and every hall's deadline policy, as configured.
#[derive(Debug, Clone)]
pub struct CaseRules {
    /// Built-in years plus the ones the office imported.
    pub calendar: WorkingCalendar,
    /// The policy of halls without their own.
    pub default_policy: DeadlinePolicy,
    /// Per-hall policies.
    pub hall_policies: HashMap<String, DeadlinePolicy>,
}

impl Default for CaseRules {
    fn default() -> Self {
        CaseRules {
            calendar: WorkingCalendar::builtin(),
            default_policy: DeadlinePolicy::default(),
            hall_policies: HashMap::new(),
        }
    }
}

/// A case's current deadline as stored next to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Due {
    /// When the current step is due.
    pub due_at: DateTime<FixedOffset>,
    /// When the warning starts.
    pub warn_at: DateTime<FixedOffset>,
    /// The deadline is an estimate (the calendar does not cover it).
    pub estimated: bool,
}

impl CaseRules {
    /// The rules from settings rows (key, value); keys that are not rules are
    /// ignored. The error (zh-CN) names the key that does not read.
    pub fn from_settings<'a>(
        rows: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<CaseRules, String> {
        let mut rules = CaseRules::default();
        for (key, value) in rows {
            if key.starts_with(CALENDAR_PREFIX) {
                rules
                    .calendar
                    .import_year(value)
                    .map_err(|e| format!("已导入的节假日数据 {key}：{e}"))?;
            } else if key.starts_with("policy.") {
                let p: DeadlinePolicy =
                    serde_json::from_str(value).map_err(|e| format!("时限设置 {key}：{e}"))?;
                if key == POLICY_DEFAULT {
                    rules.default_policy = p;
                } else if let Some(hall) = key.strip_prefix(POLICY_HALL_PREFIX) {
                    rules.hall_policies.insert(hall.to_owned(), p);
                }
            }
        }
        Ok(rules)
    }

    /// The policy that applies to `hall_id`.
    pub fn policy(&self, hall_id: &str) -> DeadlinePolicy {
        self.hall_policies
            .get(hall_id)
            .copied()
            .unwrap_or(self.default_policy)
    }

    /// The current deadline of a case of `hall_id` and when its warning starts
    /// (`None` when no step is running against a deadline).
    pub fn due(&self, hall_id: &str, case: &Case) -> Option<Due> {
        let policy = self.policy(hall_id);
        let d = case.current_deadline(&self.calendar, &policy)?;
        Some(Due {
            due_at: d.due_at,
            warn_at: warning_from(&d, &self.calendar, policy.warn_before),
            estimated: d.estimated,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_rows_become_rules_and_a_bad_row_is_named() {
        let own = r#"{"verify":1,"rectify":3,"appeal_filing":3,"appeal_review":5,"warn_before":1}"#;
        let rules =
            CaseRules::from_settings([("policy.hall.H1", own), ("office.name", "not a rule")])
                .unwrap();
        assert_eq!(rules.policy("H1").rectify, 3);
        assert_eq!(rules.policy("H2"), DeadlinePolicy::default());
        let err = CaseRules::from_settings([("policy.default", "{")]).unwrap_err();
        assert!(err.contains("policy.default"), "{err}");
    }
}
