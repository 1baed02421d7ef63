//! What the sync suites share: endpoints of the real reference hall and a cache
//! with its halls registered.

use std::path::Path;

use hcp_hall::RunningServer;
use hcp_store::{Store, Who};
use hcp_sync::{HallEndpoint, SyncOptions, Token};

/// Who registers the halls.
pub const BY: Who<'static> = Who {
    name: "测试",
    actor: hcp_core::case::Actor::Officer,
};

/// The endpoint of one hall of the server, with its token.
pub fn endpoint(srv: &RunningServer, hall: &str) -> HallEndpoint {
    HallEndpoint {
        hall_id: hall.into(),
        base_url: srv.base_url(hall),
        token: Token::new(srv.token(hall).unwrap()),
        ca_file: None,
    }
}

/// Registers every hall of the server in the cache at `db` (profiles fetched
/// with `options`); their endpoints.
pub async fn register(srv: &RunningServer, db: &Path, options: &SyncOptions) -> Vec<HallEndpoint> {
    let mut store = Store::open(db).unwrap();
    let mut eps = vec![];
    for hall in srv.state.hall_ids() {
        let ep = endpoint(srv, &hall);
        let profile = hcp_sync::fetch_profile(&ep, options).await.unwrap();
        store.upsert_hall(&profile, &ep.base_url, None, BY).unwrap();
        eps.push(ep);
    }
    eps
}
