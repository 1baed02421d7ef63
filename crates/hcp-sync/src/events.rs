//! What a sync reports as it goes (for progress bars and the window) and per hall at the end.

use super::*;

/// Progress, per hall.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[serde(tag = "event", rename_all = "snake_case")]
#[ts(export_to = "SyncEvent.ts")]
pub enum SyncEvent {
    /// A hall's sync began.
    Started {
        /// 大厅编码.
        hall_id: String,
    },
    /// A page was stored.
    Page {
        /// 大厅编码.
        hall_id: String,
        /// Pages stored in this sync.
        pages: u64,
        /// Records seen in this sync.
        records: u64,
        /// Running totals.
        totals: PageOutcome,
        /// Whether more pages follow.
        more: bool,
    },
    /// A request failed and will be retried.
    Retrying {
        /// 大厅编码.
        hall_id: String,
        /// Which attempt failed.
        attempt: u32,
        /// Why (zh-CN).
        reason: String,
        /// Wait before the next attempt, ms.
        wait_ms: u64,
    },
    /// The server expired our cursor; starting again from the beginning.
    Restarted {
        /// 大厅编码.
        hall_id: String,
    },
    /// A hall's sync ended.
    Finished {
        /// The hall's report.
        report: HallReport,
    },
    /// The whole sync ended: every hall, and what is written once at its end (the
    /// halls' last attempts, an index a bulk sync deferred). Always the last event
    /// of [`sync_halls`]; a front end that shows "syncing" stops here, not at the
    /// last hall's `Finished`.
    Ended {
        /// Halls synced.
        halls: u64,
    },
    /// A spreadsheet import is under way (the app's one event stream carries it
    /// too: an imported file is a hall source).
    ImportProgress {
        /// The file's name.
        file_name: String,
        /// Rows read so far.
        rows: u64,
        /// How far through the file (0‥1).
        fraction: f64,
    },
}

/// How a hall's sync went.
#[derive(Debug, Clone, Serialize, ts_rs::TS)]
#[ts(export_to = "HallReport.ts")]
pub struct HallReport {
    /// 大厅编码.
    pub hall_id: String,
    /// Pages stored.
    pub pages: u64,
    /// Records seen (valid + quarantined + skipped).
    pub records: u64,
    /// new / updated / unchanged / quarantined / skipped.
    pub outcome: PageOutcome,
    /// Restarts after 410.
    pub restarts: u64,
    /// Retries made.
    pub retries: u64,
    /// Wall time, ms.
    pub elapsed_ms: u64,
    /// `None` when the hall synced to the end of its feed.
    pub error: Option<String>,
}

/// Receives progress events.
pub type ProgressFn = Arc<dyn Fn(&SyncEvent) + Send + Sync>;
