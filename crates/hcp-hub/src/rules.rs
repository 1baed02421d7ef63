//! The rules a case's deadlines are measured by on the hub — core's
//! [`CaseRules`], read from `hub_settings` under the keys a desk uses.

use chrono::{DateTime, Utc};
use hcp_core::case::{Case, CaseRules};

use crate::{HubError, Result};

pub(crate) use hcp_core::case::{CALENDAR_PREFIX, POLICY_DEFAULT, POLICY_HALL_PREFIX};

/// The working calendar and deadline policies cases are measured against.
pub(crate) struct Rules(pub(crate) CaseRules);

impl std::ops::Deref for Rules {
    type Target = CaseRules;
    fn deref(&self) -> &CaseRules {
        &self.0
    }
}

impl Rules {
    /// The built-in calendar with the imported years, and the policies as set.
    pub(crate) async fn load<C: tokio_postgres::GenericClient>(c: &C) -> Result<Rules> {
        let rows = c
            .query(
                "SELECT key, value FROM hub_settings
                 WHERE key LIKE 'calendar.year.%' OR key LIKE 'policy.%' ORDER BY key",
                &[],
            )
            .await?;
        let rows: Vec<(String, String)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
        CaseRules::from_settings(rows.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .map(Rules)
            .map_err(HubError::Invalid)
    }

    /// The current deadline of a case of `hall_id` and when its warning starts.
    pub(crate) fn due(
        &self,
        hall_id: &str,
        case: &Case,
    ) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
        match self.0.due(hall_id, case) {
            Some(d) => (
                Some(d.due_at.with_timezone(&Utc)),
                Some(d.warn_at.with_timezone(&Utc)),
            ),
            None => (None, None),
        }
    }
}
