//! Delivers the outbox of decisions to the halls (`POST v1/decisions`).
//!
//! Per hall, the oldest pending decisions go first, at most 500 per request; the
//! next batch is sent only once the hall's answers for this one are stored, so the
//! hall hears decisions in the order they were made. Requests are retried with
//! backoff (the UUIDs make a repeat harmless: the hall answers `duplicate`). A
//! process killed after sending and before storing the answer sends the batch
//! again on the next push, and `duplicate` settles it: delivered once.

use std::path::{Path, PathBuf};

use hcp_core::wire::{DecisionStatus, DecisionsRequest, MAX_DECISIONS_PER_REQUEST};
use hcp_store::Store;
use serde::Serialize;

use crate::{HallClient, HallEndpoint, SyncError, SyncOptions, blocking};

/// How pushing to one hall went.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ts_rs::TS)]
#[ts(export_to = "PushReport.ts")]
pub struct PushReport {
    /// 大厅编码.
    pub hall_id: String,
    /// Decisions the hall took (`accepted`).
    pub accepted: u64,
    /// Decisions it already had (`duplicate`): delivered before.
    pub duplicate: u64,
    /// Decisions it refused.
    pub rejected: u64,
    /// Still waiting (the hall could not be reached).
    pub pending: u64,
    /// Why the rest could not be delivered (zh-CN).
    pub error: Option<String>,
}

/// Pushes every hall's pending decisions, one hall after another.
pub async fn push_halls(
    db: &Path,
    halls: Vec<HallEndpoint>,
    options: &SyncOptions,
) -> Vec<PushReport> {
    let mut out = vec![];
    for ep in halls {
        out.push(push_hall(db.to_path_buf(), ep, options).await);
    }
    out
}

/// Pushes one hall's pending decisions until none are left or the hall fails.
pub async fn push_hall(db: PathBuf, ep: HallEndpoint, options: &SyncOptions) -> PushReport {
    let mut report = PushReport {
        hall_id: ep.hall_id.clone(),
        ..Default::default()
    };
    if let Err(e) = run(&db, &ep, options, &mut report).await {
        tracing::warn!(hall_id = %ep.hall_id, error = %e, "pushing decisions failed");
        report.error = Some(e.to_string());
    }
    let hall = ep.hall_id.clone();
    report.pending = blocking(move || {
        let store = Store::open(&db)?;
        Ok(store.pending_decisions(&hall, usize::MAX)?.len() as u64)
    })
    .await
    .unwrap_or(report.pending);
    report
}

async fn run(
    db: &Path,
    ep: &HallEndpoint,
    options: &SyncOptions,
    report: &mut PushReport,
) -> Result<(), SyncError> {
    let client = HallClient::new(ep, options)?;
    loop {
        let (db1, hall) = (db.to_path_buf(), ep.hall_id.clone());
        let batch = blocking(move || {
            let store = Store::open(&db1)?;
            Ok(store.pending_decisions(&hall, MAX_DECISIONS_PER_REQUEST)?)
        })
        .await?;
        if batch.is_empty() {
            return Ok(());
        }
        let ids: Vec<String> = batch.iter().map(|d| d.id.clone()).collect();
        let req = DecisionsRequest { decisions: batch };
        // A hall that takes no batch for `stall_timeout` (retries included) is
        // left for the next push: it must not hold the sync up.
        let answer =
            match tokio::time::timeout(options.stall_timeout, client.post_decisions(&req, &|_| {}))
                .await
                .unwrap_or(Err(SyncError::Stalled {
                    secs: options.stall_timeout.as_secs(),
                })) {
                Ok(a) => a,
                Err(e) => {
                    let (db1, hall, msg) = (db.to_path_buf(), ep.hall_id.clone(), e.to_string());
                    blocking(move || {
                        Store::open(&db1)?.note_push_failure(&hall, &ids, &msg)?;
                        Ok(())
                    })
                    .await?;
                    return Err(e);
                }
            };
        // Matched by id: a result for a decision we did not send is ignored, and a
        // decision without a result stays pending.
        let mut settled = vec![];
        for r in answer.results {
            if !ids.contains(&r.id) {
                continue;
            }
            match r.status {
                DecisionStatus::Accepted => report.accepted += 1,
                DecisionStatus::Duplicate => report.duplicate += 1,
                DecisionStatus::Rejected => report.rejected += 1,
            }
            // A hall's reason is shown to people: printable and short.
            let reason = r.reason.map(|t| hcp_core::ident::printable(&t));
            settled.push((r.id, r.status, reason));
        }
        let complete = settled.len() == ids.len();
        let (db1, hall) = (db.to_path_buf(), ep.hall_id.clone());
        blocking(move || {
            Store::open(&db1)?.settle_decisions(&hall, &settled)?;
            Ok(())
        })
        .await?;
        if !complete {
            return Err(SyncError::Protocol(
                "决定回执缺少部分决定的结果，未确认的决定将在下次发送".into(),
            ));
        }
    }
}
