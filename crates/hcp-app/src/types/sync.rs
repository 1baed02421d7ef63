//! Sync: what to sync, how each hall is doing, what a sync did.

use super::*;

/// `sync_now`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "SyncArgs.ts")]
pub struct SyncArgs {
    /// Halls to sync; empty: all.
    #[serde(default)]
    pub halls: Vec<String>,
    /// Only sync: leave the decisions waiting for the halls (`hcp sync --no-push`).
    #[serde(default)]
    #[ts(optional)]
    pub no_push: Option<bool>,
}

/// How one hall's sync is going (from its latest progress event).
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export_to = "HallProgress.ts")]
pub struct HallProgress {
    /// 大厅编码.
    pub hall_id: String,
    /// running | retrying | done | failed.
    pub state: String,
    /// Pages stored in this sync.
    pub pages: u64,
    /// Records seen in this sync.
    pub records: u64,
    /// New records.
    pub new: u64,
    /// Updated records.
    pub updated: u64,
    /// Quarantined records.
    pub quarantined: u64,
    /// Why it is retrying or failed (zh-CN).
    pub message: Option<String>,
}

/// The sync board.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export_to = "SyncStatus.ts")]
pub struct SyncStatus {
    /// A sync is running.
    pub running: bool,
    /// Per hall, in the order the sync reported them.
    pub halls: Vec<HallProgress>,
}

/// The result of a sync.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "SyncResult.ts")]
pub struct SyncResult {
    /// One report per hall.
    pub reports: Vec<HallReport>,
    /// Decisions pushed to the halls after the sync.
    pub pushed: Vec<hcp_sync::PushReport>,
    /// In hub mode: the actions sent to the office hub and the cases taken from it.
    pub hub: Option<HubExchange>,
}
