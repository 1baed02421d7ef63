//! What the hub's tests share: the administrator whose steps they take, the test
//! accounts' password, and sync options that retry quickly. (PostgreSQL comes from
//! tests/support/pg.rs.)
#![allow(dead_code)]

use std::time::Duration;

use hcp_hub::Operator;
use hcp_sync::{RetryPolicy, SyncOptions};

/// The administrator of the tests' hubs.
pub const ADMIN: Operator<'static> = Operator {
    name: "root",
    role: "admin",
};

/// Every test account's password.
pub const PASSWORD: &str = "correct horse 1";

/// Sync options with `page_limit` and retries in milliseconds, not seconds.
pub fn quick_sync(page_limit: u32) -> SyncOptions {
    SyncOptions {
        page_limit,
        retry: RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(5),
            cap: Duration::from_millis(50),
            max_retry_after: Duration::from_secs(1),
        },
        ..SyncOptions::default()
    }
}
