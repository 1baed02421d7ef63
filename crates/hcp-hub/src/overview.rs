//! What an administrator looks at first (`hcp hub health`): whether PostgreSQL
//! answers, each hall's last sync, the decisions waiting for each hall, the
//! accounts locked out now, and the audit log's head.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::accounts::LOGIN_LOCK_AFTER;
use crate::audit::AuditHead;
use crate::{Hub, Result};

/// One hall's sync and delivery.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HallHealth {
    /// 大厅编码.
    pub hall_id: String,
    /// 名称.
    pub name: String,
    /// Last sync that finished.
    pub last_success_at: Option<DateTime<Utc>>,
    /// The last failure, if it came after the last success.
    pub last_error: Option<String>,
    /// When it failed.
    pub last_error_at: Option<DateTime<Utc>>,
    /// Decisions waiting to be delivered.
    pub pending_decisions: i64,
    /// Decisions the hall refused.
    pub rejected_decisions: i64,
}

/// The hub at a glance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overview {
    /// Every hall.
    pub halls: Vec<HallHealth>,
    /// Accounts locked out now (too many wrong passwords), with when it ends.
    pub locked: Vec<(String, DateTime<Utc>)>,
    /// The audit log's last row (`None`: empty).
    #[serde(skip)]
    pub audit_head: Option<AuditHead>,
    /// The same as text, `seq:hash`.
    pub audit_head_text: Option<String>,
}

impl Hub {
    /// The hub at a glance (read-only).
    pub async fn overview(&self) -> Result<Overview> {
        let c = self.conn().await?;
        let halls = c
            .query(
                "SELECT h.hall_id, h.name, s.last_success_at,
                        CASE WHEN s.last_error_at IS NOT NULL
                              AND (s.last_success_at IS NULL OR s.last_error_at > s.last_success_at)
                             THEN s.last_error END,
                        CASE WHEN s.last_error_at IS NOT NULL
                              AND (s.last_success_at IS NULL OR s.last_error_at > s.last_success_at)
                             THEN s.last_error_at END,
                        (SELECT count(*) FROM hub_outbox o WHERE o.hall_id = h.hall_id AND o.state = 'pending'),
                        (SELECT count(*) FROM hub_outbox o WHERE o.hall_id = h.hall_id AND o.state = 'rejected')
                 FROM hub_halls h LEFT JOIN hub_sync_state s ON s.hall_id = h.hall_id
                 WHERE h.removed_at IS NULL
                 ORDER BY h.hall_id",
                &[],
            )
            .await?
            .iter()
            .map(|r| HallHealth {
                hall_id: r.get(0),
                name: r.get(1),
                last_success_at: r.get(2),
                last_error: r.get(3),
                last_error_at: r.get(4),
                pending_decisions: r.get(5),
                rejected_decisions: r.get(6),
            })
            .collect();
        let locked = c
            .query(
                "SELECT account, last_at + make_interval(mins => $2) FROM hub_login_failures
                 WHERE failures >= $1 AND last_at + make_interval(mins => $2) > now()
                 ORDER BY account",
                &[&LOGIN_LOCK_AFTER, &(crate::accounts::LOCK_MINUTES as i32)],
            )
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let audit_head = c
            .query_opt(
                "SELECT seq, hash FROM hub_audit ORDER BY seq DESC LIMIT 1",
                &[],
            )
            .await?
            .map(|r| AuditHead {
                seq: r.get(0),
                hash: r.get(1),
            });
        Ok(Overview {
            halls,
            locked,
            audit_head_text: audit_head.as_ref().map(ToString::to_string),
            audit_head,
        })
    }
}
