//! What the store suites share: a real SQLite file with one hall registered.
// Each suite uses its own part of this.
#![allow(dead_code)]

use std::path::Path;

use hcp_core::wire::HallProfile;
use hcp_store::{Store, Who};

/// The hall of the suites.
pub const HALL: &str = "340825-ZWFW";

/// Who registers the hall.
pub const TESTER: Who<'static> = Who {
    name: "测试",
    actor: hcp_core::case::Actor::Officer,
};

/// 太湖县政务服务中心 with no departments, windows, staff or items.
pub fn bare_profile() -> HallProfile {
    serde_json::from_value(serde_json::json!({
        "hall_id": HALL, "name": "太湖县政务服务中心", "region_code": "340825", "level": "county",
        "profile_rev": 1, "departments": [], "windows": [], "staff": [], "items": []
    }))
    .unwrap()
}

/// A new cache at `db` with `profile`'s hall registered (its server is never
/// called).
pub fn store_with_hall(db: &Path, profile: &HallProfile) -> Store {
    let mut store = Store::open(db).unwrap();
    store
        .upsert_hall(profile, "http://127.0.0.1:1/h/x/", None, TESTER)
        .unwrap();
    store
}
