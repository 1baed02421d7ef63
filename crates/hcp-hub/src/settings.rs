//! The office's deadline policies and working calendar, kept on the hub: every case
//! the hub opens or moves is measured against them, and changing them recomputes
//! the deadline of every open case (which then reaches the desks with the case).

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use hcp_core::calendar::WorkingCalendar;
use hcp_core::case::DeadlinePolicy;
use serde::Serialize;

use crate::accounts::Operator;
use crate::audit::{Entry, append};
use crate::{Hub, HubError, Result};

use crate::rules::{CALENDAR_PREFIX, POLICY_DEFAULT, POLICY_HALL_PREFIX, Rules};

/// A policy as listed: the hall it is for (`None`: the default) and its days.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyRow {
    /// 大厅编码, or `None` for the default.
    pub hall_id: Option<String>,
    /// The working days.
    pub policy: DeadlinePolicy,
    /// Who set it last, and when (`None`: the built-in default, never set).
    pub updated_by: Option<String>,
    /// When.
    pub updated_at: Option<DateTime<Utc>>,
}

/// Some of a policy's limits, as an admin names them (`hcp hub policy set
/// --rectify 10`): the others stay as they are.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PolicyChange {
    /// 核实/回访.
    pub verify: Option<u32>,
    /// 整改反馈.
    pub rectify: Option<u32>,
    /// 申诉提出.
    pub appeal_filing: Option<u32>,
    /// 申诉复核.
    pub appeal_review: Option<u32>,
    /// 即将超期提醒.
    pub warn_before: Option<u32>,
}

impl PolicyChange {
    /// Whether it names no limit at all.
    pub fn is_empty(&self) -> bool {
        *self == PolicyChange::default()
    }

    /// `base` with the named limits changed.
    pub fn apply(&self, base: DeadlinePolicy) -> DeadlinePolicy {
        DeadlinePolicy {
            verify: self.verify.unwrap_or(base.verify),
            rectify: self.rectify.unwrap_or(base.rectify),
            appeal_filing: self.appeal_filing.unwrap_or(base.appeal_filing),
            appeal_review: self.appeal_review.unwrap_or(base.appeal_review),
            warn_before: self.warn_before.unwrap_or(base.warn_before),
        }
    }
}

impl Hub {
    /// Sets the deadline policy of one hall (`Some`) or the default (`None`),
    /// audited, and recomputes the deadline of every open case. Returns how many
    /// cases' deadlines changed.
    pub async fn set_policy(
        &self,
        hall_id: Option<&str>,
        policy: &DeadlinePolicy,
        by: Operator<'_>,
    ) -> Result<u64> {
        policy.check().map_err(|r| HubError::Invalid(r.0))?;
        if let Some(h) = hall_id {
            hcp_core::ident::check_hall_id(h).map_err(|e| HubError::Invalid(e.to_string()))?;
        }
        let key = hall_id.map_or(POLICY_DEFAULT.to_owned(), |h| {
            format!("{POLICY_HALL_PREFIX}{h}")
        });
        let value = serde_json::to_string(policy).map_err(|e| HubError::Invalid(e.to_string()))?;
        self.set_setting(&key, &value, "deadline_policy_set", &value, by)
            .await
    }

    /// Changes the named limits of the default policy or of one hall's (a hall
    /// without its own starts from the default); the others keep their values.
    /// Returns the policy now in force there and how many open cases moved.
    pub async fn change_policy(
        &self,
        hall_id: Option<&str>,
        change: &PolicyChange,
        by: Operator<'_>,
    ) -> Result<(DeadlinePolicy, u64)> {
        if change.is_empty() {
            return Err(HubError::Invalid(
                "请至少指定一项时限（--verify、--rectify、--appeal-filing、--appeal-review、--warn-before）".into(),
            ));
        }
        let rules = Rules::load(&*self.conn().await?).await?;
        let base = hall_id
            .and_then(|h| rules.hall_policies.get(h).copied())
            .unwrap_or(rules.default_policy);
        let policy = change.apply(base);
        let moved = self.set_policy(hall_id, &policy, by).await?;
        Ok((policy, moved))
    }

    /// Imports one year of holiday-cn data (replacing an earlier import of that
    /// year), audited, and recomputes open cases' deadlines. Returns the year.
    pub async fn import_calendar(&self, json: &str, by: Operator<'_>) -> Result<(i32, u64)> {
        let year = WorkingCalendar::default()
            .import_year(json)
            .map_err(|e| HubError::Invalid(format!("节假日数据无效：{e}")))?;
        let detail = serde_json::json!({
            "year": year,
            "sha256": hex::encode(<sha2::Sha256 as sha2::Digest>::digest(json.as_bytes())),
        })
        .to_string();
        let moved = self
            .set_setting(
                &format!("{CALENDAR_PREFIX}{year}"),
                json,
                "calendar_imported",
                &detail,
                by,
            )
            .await?;
        Ok((year, moved))
    }

    async fn set_setting(
        &self,
        key: &str,
        value: &str,
        action: &str,
        detail: &str,
        by: Operator<'_>,
    ) -> Result<u64> {
        let mut c = self.conn().await?;
        let tx = c.transaction().await?;
        put_setting(&tx, key, value, action, detail, by).await?;
        let moved = crate::cases::recompute_deadlines(&tx).await?;
        tx.commit().await?;
        Ok(moved)
    }

    /// The policies set (the default first), and the imported calendar years.
    pub async fn policies(&self) -> Result<(Vec<PolicyRow>, Vec<i32>)> {
        let c = self.conn().await?;
        let rules = Rules::load(&*c).await?;
        let who: HashMap<String, (String, DateTime<Utc>)> = c
            .query(
                "SELECT key, updated_by, updated_at FROM hub_settings WHERE key LIKE 'policy.%'",
                &[],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), (r.get(1), r.get(2))))
            .collect();
        let row = |hall_id: Option<String>, policy: DeadlinePolicy| {
            let key = hall_id.as_ref().map_or(POLICY_DEFAULT.to_owned(), |h| {
                format!("{POLICY_HALL_PREFIX}{h}")
            });
            let set = who.get(&key).cloned();
            PolicyRow {
                hall_id,
                policy,
                updated_by: set.as_ref().map(|s| s.0.clone()),
                updated_at: set.map(|s| s.1),
            }
        };
        let mut rows = vec![row(None, rules.default_policy)];
        let mut halls: Vec<_> = rules.0.hall_policies.into_iter().collect();
        halls.sort_by(|a, b| a.0.cmp(&b.0));
        rows.extend(halls.into_iter().map(|(h, p)| row(Some(h), p)));
        let years = c
            .query(
                "SELECT substr(key, 15) FROM hub_settings WHERE key LIKE 'calendar.year.%' ORDER BY key",
                &[],
            )
            .await?
            .iter()
            .filter_map(|r| r.get::<_, String>(0).parse().ok())
            .collect();
        Ok((rows, years))
    }
}

/// Writes one setting, and the audit entry saying who did it, in `tx`.
pub(crate) async fn put_setting(
    tx: &tokio_postgres::Transaction<'_>,
    key: &str,
    value: &str,
    action: &str,
    detail: &str,
    by: Operator<'_>,
) -> Result<()> {
    tx.execute(
        "INSERT INTO hub_settings (key, value, updated_by) VALUES ($1, $2, $3)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value,
            updated_by = excluded.updated_by, updated_at = now()",
        &[&key, &value, &by.name],
    )
    .await?;
    append(
        tx,
        &Entry {
            actor: by.name,
            role: by.role,
            subject: key,
            action,
            detail,
        },
    )
    .await?;
    Ok(())
}
