//! Halls: registering one, and what the hall list shows.

use super::*;

/// A hall with its sync state and what the cache holds of it.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "HallSummary.ts")]
pub struct HallSummary {
    /// The hall.
    pub hall: HallRecord,
    /// Its sync bookkeeping.
    pub sync: SyncState,
    /// Its counts.
    pub counts: HallCounts,
    /// Why its address deserves a warning (plain `http://` beyond this machine).
    pub transport_warning: Option<String>,
}

/// `add_hall`.
#[derive(Debug, Clone, Default, Deserialize, TS)]
#[ts(export_to = "AddHallArgs.ts")]
pub struct AddHallArgs {
    /// Base URL of the hall's server.
    pub url: String,
    /// Its bearer token.
    pub token: String,
    /// Extra CA certificate file (PEM), for an intranet CA.
    #[serde(default)]
    pub ca_file: Option<String>,
}

/// A hall just registered.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "AddedHall.ts")]
pub struct AddedHall {
    /// 大厅编码.
    pub hall_id: String,
    /// 大厅名称.
    pub name: String,
    /// Not registered before.
    pub new: bool,
    /// Where the token is kept (zh-CN).
    pub token_location: String,
    /// Why its address deserves a warning (plain `http://` beyond this machine).
    pub transport_warning: Option<String>,
}

/// Names one hall.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HallIdArgs.ts")]
pub struct HallIdArgs {
    /// 大厅编码.
    pub hall_id: String,
}
