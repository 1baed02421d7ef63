//! Pulls the change feeds of many halls into the local cache.
//!
//! Per hall, a fetcher walks the feed page by page (asking for the next page while
//! the previous one is being stored) and an applier validates each page and stores
//! it together with its cursor in one transaction: a crash can neither skip nor
//! double a record. Invalid records go to the quarantine; `410 Gone` restarts the
//! feed from the beginning with the rev rule keeping what is stored; transient
//! failures are retried with capped exponential backoff and jitter; a hall that
//! still fails gets a clear reason while the other halls finish.

mod client;
mod engine;
mod error;
mod events;
mod feed_sink;
mod hub;
mod options;
mod page;
mod peek;
mod push;
#[cfg(feature = "sqlite")]
mod sink;
mod trust;
pub use trust::exact_trust_config;

use std::ops::Range;
#[cfg(feature = "sqlite")]
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
#[cfg(feature = "sqlite")]
use futures::StreamExt;
use hcp_core::feed::{FeedRecord, PageOutcome, PageToApply, QuarantineEntry};
use hcp_core::validate::{ValidRecord, validate_change};
use hcp_core::wire::{ChangesPage, HallProfile, MAX_PAGE_LIMIT, RawChange};
#[cfg(feature = "sqlite")]
use hcp_store::Store;
use serde::Serialize;
use tokio::sync::mpsc;

pub use client::{HallClient, HallEndpoint, RetryNotice, RetryPolicy, Timeouts, Token};
pub use feed_sink::FeedSink;
pub use hub::{HubAccount, HubClient, HubHallInfo, HubSession};
pub use peek::{MAX_CERTIFICATE_BYTES, PeekedCertificate, fingerprint, peek_certificate, to_pem};
pub use push::{OutboxSource, PushReport, push_hall_from};
#[cfg(feature = "sqlite")]
pub use push::{push_hall, push_halls};
#[cfg(feature = "sqlite")]
pub use sink::{SqliteSink, StorePool};

pub use engine::*;
pub use error::*;
pub use events::*;
pub use options::*;
pub use page::*;

#[cfg(feature = "sqlite")]
/// Syncs every hall, `options.concurrency` at a time; one hall's failure does not
/// stop the others. Reports come back in the order of `halls`; the last event is
/// [`SyncEvent::Ended`].
pub async fn sync_halls(
    db: &Path,
    halls: Vec<HallEndpoint>,
    options: &SyncOptions,
    progress: ProgressFn,
) -> Vec<HallReport> {
    let db = db.to_path_buf();
    let order: Vec<String> = halls.iter().map(|h| h.hall_id.clone()).collect();
    let pool = sink::StorePool::default();
    let mut options = options.clone();
    if options.shared_client.is_none() && halls.len() > 1 {
        options.shared_client = client::build_client(None, &options.timeouts).ok();
    }
    if options.shared_budget.is_none() && halls.len() > 1 {
        options.shared_budget = Some(FetchBudget::new(SHARED_FETCH_AHEAD_BYTES));
    }
    let options = &options;
    let bulk_rows = if halls.len() > 1 {
        options.bulk_rows
    } else {
        0
    };
    if let Err(e) = pool.begin(db.clone(), bulk_rows).await {
        // Each hall opens the cache again and reports what is wrong with it.
        tracing::warn!(error = %e, "sync start");
    }
    let mut reports: Vec<HallReport> = futures::stream::iter(halls)
        .map(|ep| {
            let mut sink = SqliteSink::pooled(db.clone(), pool.clone());
            let progress = progress.clone();
            let options = options.clone();
            async move { sync_hall_into(&mut sink, ep, &options, progress).await }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    pool.flush(db).await;
    progress(&SyncEvent::Ended {
        halls: reports.len() as u64,
    });
    reports.sort_by_key(|r| order.iter().position(|h| *h == r.hall_id));
    reports
}

#[cfg(feature = "sqlite")]
/// Syncs one hall to the end of its feed, into the cache at `db`.
pub async fn sync_hall(
    db: PathBuf,
    ep: HallEndpoint,
    options: &SyncOptions,
    progress: ProgressFn,
) -> HallReport {
    sync_hall_into(&mut SqliteSink::new(db), ep, options, progress).await
}

#[cfg(feature = "sqlite")]
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SyncError> + Send + 'static,
) -> Result<T, SyncError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SyncError::Internal(e.to_string()))?
}

#[cfg(feature = "sqlite")]
/// The budget the halls of one sync share: about five full pages, over half a
/// second of the writer's work, while four halls fetch.
const SHARED_FETCH_AHEAD_BYTES: usize = 16 * 1024 * 1024;

#[cfg(feature = "sqlite")]
/// Convenience for callers that hold the vault and the store: the endpoints of the
/// given halls (all when `only` is empty).
pub fn endpoints(
    store: &Store,
    vault: &hcp_store::TokenVault,
    only: &[String],
) -> Result<Vec<HallEndpoint>, SyncError> {
    let mut out = vec![];
    for h in store.halls()? {
        if !only.is_empty() && !only.contains(&h.hall_id) {
            continue;
        }
        if h.source != "api" {
            // Known from a task package or a spreadsheet: no server, nothing to sync.
            if only.contains(&h.hall_id) {
                return Err(SyncError::NotSynced(h.hall_id));
            }
            continue;
        }
        let token = vault
            .get(&h.hall_id)?
            .ok_or_else(|| SyncError::NoToken(h.hall_id.clone()))?;
        out.push(HallEndpoint {
            hall_id: h.hall_id,
            base_url: h.base_url,
            token: Token::new(token),
            ca_file: h.ca_file.map(PathBuf::from),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
