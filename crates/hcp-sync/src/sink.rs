//! The desktop's SQLite cache as the [`FeedSink`] of a sync (feature `sqlite`).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use chrono::{DateTime, Utc};
use hcp_store::{PageOutcome, Store, SyncEnd};

use crate::{FeedSink, FetchedBatch, SyncError, blocking};

/// The one connection to the cache that every hall of a sync writes through, one
/// hall's call at a time. SQLite lets one writer in at a time anyway; with a
/// connection per hall the others waited in its busy handler (sleeping up to
/// 100 ms a try), and every commit by one connection emptied the page cache of
/// the others (a connection drops its whole cache when another one changed the
/// file) while each of them held up to 64 MiB. One connection keeps its cache
/// warm for every hall; fetching and validating pages still runs for
/// `concurrency` halls at once.
/// How each hall ended is kept here too and written for all halls at once by
/// [`flush`](Self::flush): one commit instead of one a hall.
///
/// It also watches how much a sync brings: past `bulk` new rows (at least what the
/// cache held when the sync began), the time index of all halls is dropped and
/// built again by one sort at [`flush`](Self::flush) (see `hcp-store/src/indexes.rs`).
#[derive(Clone, Default)]
pub struct StorePool {
    writer: Arc<Mutex<Option<Store>>>,
    ends: Arc<Mutex<Vec<SyncEnd>>>,
    bulk: Arc<Bulk>,
}

#[derive(Default)]
struct Bulk {
    /// New rows past which indexes are deferred; 0: never.
    threshold: AtomicU64,
    stored: AtomicU64,
    deferred: AtomicBool,
}

impl StorePool {
    /// Runs `f` on the sync's connection (opened at first use), waiting for the
    /// hall that has it. Call on the blocking pool.
    fn run<T>(
        &self,
        db: &Path,
        f: impl FnOnce(&mut Store) -> Result<T, SyncError>,
    ) -> Result<T, SyncError> {
        // A panic in another hall's call left its transaction rolled back (a
        // dropped transaction does): the connection itself is still good.
        let mut writer = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        let store = match &mut *writer {
            Some(s) => s,
            none => none.insert(Store::open(db)?),
        };
        f(store)
    }

    /// Before the halls: creates the indexes a killed sync left deferred, and sets
    /// the bulk threshold to the larger of `bulk_rows` and the rows already cached
    /// (`bulk_rows` 0: never defer).
    pub async fn begin(&self, db: PathBuf, bulk_rows: u64) -> Result<(), SyncError> {
        let pool = self.clone();
        blocking(move || {
            let held = pool.run(&db, |store| {
                let restored = store.restore_deferred_indexes()?;
                if restored > 0 {
                    tracing::info!(restored, "indexes a stopped sync deferred created again");
                }
                Ok(store.evaluations_high_water()?)
            })?;
            let threshold = if bulk_rows == 0 {
                0
            } else {
                bulk_rows.max(held)
            };
            pool.bulk.threshold.store(threshold, Ordering::Relaxed);
            Ok(())
        })
        .await
    }

    /// Counts `new` stored rows; the first time the count passes the threshold,
    /// drops the deferrable indexes (best effort: kept, the sync is only slower).
    fn stored(&self, store: &mut Store, new: u64) {
        let threshold = self.bulk.threshold.load(Ordering::Relaxed);
        let total = self.bulk.stored.fetch_add(new, Ordering::Relaxed) + new;
        if threshold == 0 || total <= threshold || self.bulk.deferred.swap(true, Ordering::Relaxed)
        {
            return;
        }
        match store.defer_indexes() {
            Ok(n) => tracing::info!(
                deferred = n,
                rows = total,
                "bulk sync: index built at the end"
            ),
            Err(e) => tracing::warn!(error = %e, "bulk sync: index not deferred"),
        }
    }

    /// Writes the halls' ends kept so far (best effort, like each end alone:
    /// they only say when a hall was last synced and why it failed).
    /// Then creates the indexes deferred during the sync.
    pub async fn flush(&self, db: PathBuf) {
        let ends = self
            .ends
            .lock()
            .map(|mut e| std::mem::take(&mut *e))
            .unwrap_or_default();
        let deferred = self.bulk.deferred.swap(false, Ordering::Relaxed);
        if ends.is_empty() && !deferred {
            return;
        }
        let pool = self.clone();
        let out = blocking(move || {
            pool.run(&db, |store| {
                if !ends.is_empty() {
                    store.record_sync_ends(&ends)?;
                }
                if deferred {
                    let started = std::time::Instant::now();
                    let n = store.restore_deferred_indexes()?;
                    tracing::info!(
                        created = n,
                        ms = started.elapsed().as_millis() as u64,
                        "bulk sync: deferred indexes built"
                    );
                }
                Ok(())
            })
        })
        .await;
        if let Err(e) = out {
            // The next sync's begin creates what is still deferred.
            tracing::warn!(error = %e, "sync end not fully written");
        }
    }
}

/// The desktop's cache: every call runs on the blocking pool.
pub struct SqliteSink {
    db: PathBuf,
    store: Option<Store>,
    pool: Option<StorePool>,
}

impl SqliteSink {
    /// The cache at `db` (opened on the first call).
    pub fn new(db: PathBuf) -> Self {
        Self {
            db,
            store: None,
            pool: None,
        }
    }

    /// The cache at `db`, through the connection `pool` shares among halls.
    pub fn pooled(db: PathBuf, pool: StorePool) -> Self {
        Self {
            db,
            store: None,
            pool: Some(pool),
        }
    }

    /// Runs `f` with the store on the blocking pool: the pool's shared
    /// connection, or this sink's own (kept for the next call).
    async fn with<T: Send + 'static>(
        &mut self,
        f: impl FnOnce(&mut Store) -> Result<T, SyncError> + Send + 'static,
    ) -> Result<T, SyncError> {
        let db = self.db.clone();
        if let Some(pool) = self.pool.clone() {
            return blocking(move || Ok(pool.run(&db, f))).await?;
        }
        let store = self.store.take();
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
        let pool = self.pool.clone();
        self.with(move |store| {
            let pages = batch.pages()?;
            let out = store.apply_pages(&hall_id, &pages)?;
            if let Some(pool) = &pool {
                pool.stored(store, out.new);
            }
            Ok(out)
        })
        .await
    }

    async fn finish(
        &mut self,
        hall_id: &str,
        attempted_at: DateTime<Utc>,
        outcome: Result<(), &str>,
    ) {
        if let Some(pool) = &self.pool
            && let Ok(mut ends) = pool.ends.lock()
        {
            ends.push(SyncEnd {
                hall_id: hall_id.to_owned(),
                attempted_at,
                error: outcome.err().map(str::to_owned),
            });
            return;
        }
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
