//! Where a hall's feed goes: the fetch-validate-store pipeline is the same for the
//! desktop's SQLite cache and the office hub's PostgreSQL; only the last step
//! differs. A sink keeps the cursor with the records it stores, in one
//! transaction, so a crash can neither skip nor double a record.

use std::future::Future;

use chrono::{DateTime, Utc};
use hcp_core::feed::PageOutcome;

use crate::{FetchedBatch, SyncError};

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
