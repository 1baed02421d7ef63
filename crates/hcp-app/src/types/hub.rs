//! The office hub: connecting, its status, sending actions, rebuilding the replica.

use super::*;

/// `hub_connect`'s arguments.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HubConnectArgs.ts")]
pub struct HubConnectArgs {
    /// The hub's address, e.g. `https://10.1.2.3:8740/`.
    pub url: String,
    /// 登录名.
    pub name: String,
    /// 密码 (sent to the hub once, never stored).
    pub password: String,
    /// A CA certificate file (PEM) to trust for a hub with an intranet CA or a
    /// self-signed certificate.
    #[serde(default)]
    pub ca_file: Option<String>,
    /// The hub's own certificate (PEM) as shown by `hub_peek_certificate` and
    /// accepted by the user: kept beside the cache and trusted from then on
    /// (pinned) instead of a CA file.
    #[serde(default)]
    pub pinned_certificate: Option<String>,
}

/// `hub_peek_certificate`'s arguments.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HubPeekArgs.ts")]
pub struct HubPeekArgs {
    /// The hub's `https://` address.
    pub url: String,
}

/// One queued action, by its id.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HubActionArgs.ts")]
pub struct HubActionArgs {
    /// The action's UUID.
    pub id: String,
}

/// The state of hub mode, for `hcp hub status` and the header.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "HubStatus.ts")]
pub struct HubStatus {
    /// The link, or `None` for a single desk (单机使用).
    pub link: Option<hcp_store::HubLink>,
    /// `standalone`, `connected`, `offline` or `expired` (登录已过期).
    pub state: String,
    /// Why it is offline or expired, zh-CN.
    pub message: Option<String>,
    /// A hub reached over plain http on the network: what that exposes, zh-CN.
    pub warning: Option<String>,
    /// Actions waiting for the hub (待发送), newest first.
    pub pending: Vec<hcp_store::QueuedAction>,
    /// Actions the hub refused, newest first (the last 50).
    pub rejected: Vec<hcp_store::QueuedAction>,
    /// A shopper's visits waiting to be handed in (待发送) or refused by the hub.
    pub visits: Vec<hcp_store::HubVisitUpload>,
}

/// `hub_rebuild`'s arguments.
#[derive(Debug, Clone, Deserialize, TS)]
#[ts(export_to = "HubRebuildArgs.ts")]
pub struct HubRebuildArgs {
    /// The account's password (the session may not exist on a restored hub);
    /// sent to the hub once, never stored.
    pub password: String,
}

/// What rebuilding the replica did.
#[derive(Debug, Clone, Serialize, TS)]
#[ts(export_to = "HubRebuildResult.ts")]
pub struct HubRebuildResult {
    /// Where the previous replica was kept, untouched (for review); `None` when
    /// the data file was kept (a shopper's desk holds no copies of cases).
    pub previous_file: Option<String>,
    /// This desk's steps the hub had not taken, held for review on their cases.
    pub held: Vec<hcp_store::QueuedAction>,
    /// Submitted visits that will be handed in again.
    pub visits_resent: u64,
    /// The link now.
    pub status: HubStatus,
}

/// What one exchange with the hub did.
#[derive(Debug, Clone, Default, Serialize, TS)]
#[ts(export_to = "HubExchange.ts")]
pub struct HubExchange {
    /// Actions sent.
    pub sent: u64,
    /// …accepted (or already accepted before).
    pub accepted: u64,
    /// …refused (see the queue for why).
    pub rejected: u64,
    /// Cases received that changed here.
    pub cases: u64,
    /// Issued reports received from the office.
    pub reports: u64,
    /// Visits handed in (a shopper's desk).
    pub visits_sent: u64,
    /// …refused by the hub (see the visit for why).
    pub visits_refused: u64,
    /// Handed-in visits received to review (an officer's desk).
    pub visits_received: u64,
    /// Why the exchange stopped early, zh-CN.
    pub error: Option<String>,
}
