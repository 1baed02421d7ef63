//! Delivers the outbox of decisions to the halls (`POST v1/decisions`).
//!
//! Per hall, the oldest pending decisions go first, at most 500 per request; the
//! next batch is sent only once the hall's answers for this one are stored, so the
//! hall hears decisions in the order they were made. Requests are retried with
//! backoff (the UUIDs make a repeat harmless: the hall answers `duplicate`). A
//! process killed after sending and before storing the answer sends the batch
//! again on the next push, and `duplicate` settles it: delivered once.

use std::future::Future;
#[cfg(feature = "sqlite")]
use std::path::{Path, PathBuf};

use hcp_core::wire::{Decision, DecisionStatus, DecisionsRequest, MAX_DECISIONS_PER_REQUEST};
#[cfg(feature = "sqlite")]
use hcp_store::Store;
use serde::Serialize;

#[cfg(feature = "sqlite")]
use crate::blocking;
use crate::{HallClient, HallEndpoint, SyncError, SyncOptions};

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
#[cfg(feature = "sqlite")]
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

/// Where the decisions to push come from and their answers go: the desktop's
/// cache or the office hub's database.
pub trait OutboxSource: Send {
    /// The oldest pending decisions of the hall, at most `limit`.
    fn pending(
        &mut self,
        hall_id: &str,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Decision>, SyncError>> + Send;

    /// How many are still pending.
    fn pending_count(
        &mut self,
        hall_id: &str,
    ) -> impl Future<Output = Result<u64, SyncError>> + Send;

    /// The hall's answers, stored.
    fn settle(
        &mut self,
        hall_id: &str,
        settled: Vec<(String, DecisionStatus, Option<String>)>,
    ) -> impl Future<Output = Result<(), SyncError>> + Send;

    /// A failed attempt at these decisions, noted on them.
    fn note_failure(
        &mut self,
        hall_id: &str,
        ids: Vec<String>,
        error: String,
    ) -> impl Future<Output = Result<(), SyncError>> + Send;
}

/// The desktop's cache as the outbox.
#[cfg(feature = "sqlite")]
struct SqliteOutbox(PathBuf);

#[cfg(feature = "sqlite")]
impl OutboxSource for SqliteOutbox {
    async fn pending(&mut self, hall_id: &str, limit: usize) -> Result<Vec<Decision>, SyncError> {
        let (db, hall) = (self.0.clone(), hall_id.to_owned());
        blocking(move || Ok(Store::open(&db)?.pending_decisions(&hall, limit)?)).await
    }

    async fn pending_count(&mut self, hall_id: &str) -> Result<u64, SyncError> {
        let (db, hall) = (self.0.clone(), hall_id.to_owned());
        blocking(move || {
            Ok(Store::open(&db)?
                .pending_decisions(&hall, usize::MAX)?
                .len() as u64)
        })
        .await
    }

    async fn settle(
        &mut self,
        hall_id: &str,
        settled: Vec<(String, DecisionStatus, Option<String>)>,
    ) -> Result<(), SyncError> {
        let (db, hall) = (self.0.clone(), hall_id.to_owned());
        blocking(move || {
            Store::open(&db)?.settle_decisions(&hall, &settled)?;
            Ok(())
        })
        .await
    }

    async fn note_failure(
        &mut self,
        hall_id: &str,
        ids: Vec<String>,
        error: String,
    ) -> Result<(), SyncError> {
        let (db, hall) = (self.0.clone(), hall_id.to_owned());
        blocking(move || {
            Store::open(&db)?.note_push_failure(&hall, &ids, &error)?;
            Ok(())
        })
        .await
    }
}

#[cfg(feature = "sqlite")]
/// Pushes one hall's pending decisions until none are left or the hall fails.
pub async fn push_hall(db: PathBuf, ep: HallEndpoint, options: &SyncOptions) -> PushReport {
    push_hall_from(&mut SqliteOutbox(db), ep, options).await
}

/// Pushes one hall's pending decisions from any [`OutboxSource`].
pub async fn push_hall_from<S: OutboxSource>(
    source: &mut S,
    ep: HallEndpoint,
    options: &SyncOptions,
) -> PushReport {
    let mut report = PushReport {
        hall_id: ep.hall_id.clone(),
        ..Default::default()
    };
    if let Err(e) = run(source, &ep, options, &mut report).await {
        tracing::warn!(hall_id = %ep.hall_id, error = %e, "pushing decisions failed");
        report.error = Some(e.to_string());
    }
    report.pending = source
        .pending_count(&ep.hall_id)
        .await
        .unwrap_or(report.pending);
    report
}

async fn run<S: OutboxSource>(
    source: &mut S,
    ep: &HallEndpoint,
    options: &SyncOptions,
    report: &mut PushReport,
) -> Result<(), SyncError> {
    let client = HallClient::new(ep, options)?;
    loop {
        let batch = source
            .pending(&ep.hall_id, MAX_DECISIONS_PER_REQUEST)
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
                    source.note_failure(&ep.hall_id, ids, e.to_string()).await?;
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
        source.settle(&ep.hall_id, settled).await?;
        if !complete {
            return Err(SyncError::Protocol(
                "决定回执缺少部分决定的结果，未确认的决定将在下次发送".into(),
            ));
        }
    }
}
