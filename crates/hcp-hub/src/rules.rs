//! The rules a case's deadlines are measured by on the hub: the working calendar
//! (built-in years plus those an administrator imported) and the deadline
//! policies (the office's default, and each hall's own), read from `hub_settings`.
//! Cases use them; settings change them.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hcp_core::calendar::WorkingCalendar;
use hcp_core::case::{Case, DeadlinePolicy};

use crate::{HubError, Result};

pub(crate) const CALENDAR_PREFIX: &str = "calendar.year.";
pub(crate) const POLICY_DEFAULT: &str = "policy.default";
pub(crate) const POLICY_HALL_PREFIX: &str = "policy.hall.";

/// The working calendar and deadline policies cases are measured against.
pub(crate) struct Rules {
    pub(crate) calendar: WorkingCalendar,
    pub(crate) default_policy: DeadlinePolicy,
    pub(crate) hall_policies: HashMap<String, DeadlinePolicy>,
}

impl Rules {
    /// The built-in calendar with the imported years, and the policies as set.
    pub(crate) async fn load<C: tokio_postgres::GenericClient>(c: &C) -> Result<Rules> {
        let mut rules = Rules {
            calendar: WorkingCalendar::builtin(),
            default_policy: DeadlinePolicy::default(),
            hall_policies: HashMap::new(),
        };
        let rows = c
            .query(
                "SELECT key, value FROM hub_settings
                 WHERE key LIKE 'calendar.year.%' OR key LIKE 'policy.%' ORDER BY key",
                &[],
            )
            .await?;
        for r in rows {
            let (key, value): (String, String) = (r.get(0), r.get(1));
            if key.starts_with(CALENDAR_PREFIX) {
                rules
                    .calendar
                    .import_year(&value)
                    .map_err(|e| HubError::Invalid(format!("已导入的节假日数据 {key}：{e}")))?;
            } else {
                let p: DeadlinePolicy = serde_json::from_str(&value)
                    .map_err(|e| HubError::Invalid(format!("时限设置 {key}：{e}")))?;
                if key == POLICY_DEFAULT {
                    rules.default_policy = p;
                } else if let Some(hall) = key.strip_prefix(POLICY_HALL_PREFIX) {
                    rules.hall_policies.insert(hall.to_owned(), p);
                }
            }
        }
        Ok(rules)
    }

    /// The policy of a hall.
    pub(crate) fn policy(&self, hall_id: &str) -> DeadlinePolicy {
        self.hall_policies
            .get(hall_id)
            .copied()
            .unwrap_or(self.default_policy)
    }

    /// The current deadline of a case of `hall_id` and when its warning starts.
    pub(crate) fn due(
        &self,
        hall_id: &str,
        case: &Case,
    ) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        let policy = self.policy(hall_id);
        match case.current_deadline(&self.calendar, &policy) {
            Some(d) => (
                Some(d.due_at.with_timezone(&Utc)),
                Some(
                    hcp_core::case::warning_from(&d, &self.calendar, policy.warn_before)
                        .with_timezone(&Utc),
                ),
            ),
            None => (None, None),
        }
    }
}
