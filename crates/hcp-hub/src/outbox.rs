//! The hub's outbox to the halls: hcp-sync's push (oldest first, 500 a request,
//! the next batch only once the answers to this one are stored) reading and
//! settling `hub_outbox`. It runs under the hall's sync lock, so one process
//! delivers a hall's decisions at a time; the UUIDs make a resend after a crash
//! harmless (the hall answers `duplicate`).

use hcp_core::wire::{Decision, DecisionStatus};
use hcp_sync::{OutboxSource, SyncError};

use crate::db::Conn;

fn sink_err(e: tokio_postgres::Error) -> SyncError {
    SyncError::Sink(crate::HubError::Db(e).to_string())
}

/// `hub_outbox` on the connection that holds the hall's lock.
pub(crate) struct PgOutbox<'a> {
    pub conn: &'a mut Conn,
}

impl OutboxSource for PgOutbox<'_> {
    async fn pending(&mut self, hall_id: &str, limit: usize) -> Result<Vec<Decision>, SyncError> {
        let rows = self
            .conn
            .query(
                "SELECT body FROM hub_outbox WHERE hall_id = $1 AND state = 'pending'
                 ORDER BY seq LIMIT $2",
                &[&hall_id, &(limit as i64)],
            )
            .await
            .map_err(sink_err)?;
        rows.iter()
            .map(|r| {
                serde_json::from_str(&r.get::<_, String>(0))
                    .map_err(|e| SyncError::Sink(format!("待发送的决定已损坏：{e}")))
            })
            .collect()
    }

    async fn pending_count(&mut self, hall_id: &str) -> Result<u64, SyncError> {
        let n: i64 = self
            .conn
            .query_one(
                "SELECT count(*) FROM hub_outbox WHERE hall_id = $1 AND state = 'pending'",
                &[&hall_id],
            )
            .await
            .map_err(sink_err)?
            .get(0);
        Ok(n as u64)
    }

    async fn settle(
        &mut self,
        hall_id: &str,
        settled: Vec<(String, DecisionStatus, Option<String>)>,
    ) -> Result<(), SyncError> {
        // One statement for the whole answer (500 decisions a request).
        let mut ids = Vec::with_capacity(settled.len());
        let mut states = Vec::with_capacity(settled.len());
        let mut reasons = Vec::with_capacity(settled.len());
        for (id, status, reason) in settled {
            ids.push(id);
            states.push(match status {
                DecisionStatus::Accepted => "accepted",
                DecisionStatus::Duplicate => "duplicate",
                DecisionStatus::Rejected => "rejected",
            });
            reasons.push(reason);
        }
        self.conn
            .execute(
                "UPDATE hub_outbox o SET state = u.state, reason = u.reason, settled_at = now(),
                    attempts = attempts + 1, last_error = NULL
                 FROM unnest($2::text[], $3::text[], $4::text[]) AS u (id, state, reason)
                 WHERE o.hall_id = $1 AND o.id = u.id AND o.state = 'pending'",
                &[&hall_id, &ids, &states, &reasons],
            )
            .await
            .map_err(sink_err)?;
        Ok(())
    }

    async fn note_failure(
        &mut self,
        hall_id: &str,
        ids: Vec<String>,
        error: String,
    ) -> Result<(), SyncError> {
        self.conn
            .execute(
                "UPDATE hub_outbox SET attempts = attempts + 1, last_error = $3
                 WHERE hall_id = $1 AND id = ANY($2) AND state = 'pending'",
                &[&hall_id, &ids, &error],
            )
            .await
            .map_err(sink_err)?;
        Ok(())
    }
}
