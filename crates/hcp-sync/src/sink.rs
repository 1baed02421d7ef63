//! Where a hall's feed goes: the fetch-validate-store pipeline is the same for the
//! desktop's SQLite cache and the office hub's PostgreSQL; only the last step
//! differs. A sink keeps the cursor with the records it stores, in one
//! transaction, so a crash can neither skip nor double a record.

use std::future::Future;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use hcp_store::{PageOutcome, Store};

use crate::{FetchedBatch, SyncError, blocking};

/// The store behind a hall sync.
pub trait FeedSink: Send {
    /// Where the hall's feed resumes (`None`: from the beginning) and the profile
    /// rev already stored.
    fn begin(
        &mut self,
        hall_id: &str,
    ) -> impl Future<Output = Result<(Option<String>, i64), SyncError>> + Send;

    /// Forgets the cursor after `410 Gone` (the rev rule keeps what is stored).
    fn restart(&mut self, hall_id: &str) -> impl Future<Output = Result<(), SyncError>> + Send;

    /// Stores the pages and the last page's cursor, all or nothing.
    fn store(
        &mut self,
        hall_id: &str,
        batch: FetchedBatch,
    ) -> impl Future<Output = Result<PageOutcome, SyncError>> + Send;

    /// Records how the attempt that began at `attempted_at` ended (best effort).
    fn finish(
        &mut self,
        hall_id: &str,
        attempted_at: DateTime<Utc>,
        outcome: Result<(), &str>,
    ) -> impl Future<Output = ()> + Send;
}

/// The desktop's cache: every call runs on the blocking pool.
pub struct SqliteSink {
    db: PathBuf,
    store: Option<Store>,
}

impl SqliteSink {
    /// The cache at `db` (opened on the first call).
    pub fn new(db: PathBuf) -> Self {
        Self { db, store: None }
    }

    /// Runs `f` with the store on the blocking pool and keeps the store for the
    /// next call.
    async fn with<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, SyncError> + Send + 'static,
    ) -> Result<T, SyncError> {
        let store = self.store.take();
        let db = self.db.clone();
        let (store, out) = blocking(move || {
            let mut store = match store {
                Some(s) => s,
                None => Store::open(&db)?,
            };
            let out = f(&mut store);
            Ok((store, out))
        })
        .await?;
        self.store = Some(store);
        out
    }
}

impl FeedSink for SqliteSink {
    async fn begin(&mut self, hall_id: &str) -> Result<(Option<String>, i64), SyncError> {
        let hall_id = hall_id.to_owned();
        self.with(move |store| {
            let state = store.sync_state(&hall_id)?;
            let rev = store.hall(&hall_id)?.map_or(0, |h| h.profile_rev);
            Ok((state.cursor, rev))
        })
        .await
    }

    async fn restart(&mut self, hall_id: &str) -> Result<(), SyncError> {
        let hall_id = hall_id.to_owned();
        self.with(move |store| Ok(store.restart_feed(&hall_id)?))
            .await
    }

    async fn store(
        &mut self,
        hall_id: &str,
        mut batch: FetchedBatch,
    ) -> Result<PageOutcome, SyncError> {
        let hall_id = hall_id.to_owned();
        self.with(move |store| {
            let pages = batch.pages()?;
            Ok(store.apply_pages(&hall_id, &pages)?)
        })
        .await
    }

    async fn finish(
        &mut self,
        hall_id: &str,
        attempted_at: DateTime<Utc>,
        outcome: Result<(), &str>,
    ) {
        let hall_id = hall_id.to_owned();
        let outcome = outcome.map_err(str::to_owned);
        let _ = self
            .with(move |store| {
                store.record_sync_end(
                    &hall_id,
                    attempted_at,
                    outcome.as_ref().map_err(String::as_str).copied(),
                )?;
                Ok(())
            })
            .await;
    }
}
