//! What one client may cost the hub: the limits on connections, time, bodies and
//! failed logins, and the semaphores that keep expensive work (argon2, checking
//! a signed bundle) to a few at a time whatever arrives. The figures are
//! documented in docs/hub-api.md; change them there too.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

/// Open connections in all; one more is closed as soon as it is accepted.
pub const MAX_CONNECTIONS: usize = 512;
/// Open connections from one address.
pub const MAX_CONNECTIONS_PER_CLIENT: usize = 64;
/// A request's head (request line and headers) must arrive within this long of
/// the connection opening or of the previous answer; an idle connection is
/// closed after it too.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(30);
/// A request's whole life, body included (a 256 MiB hand-in at ~1 MB/s fits).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(300);
/// Bytes of a request head.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;
/// Failed logins from one address within [`FAILURE_WINDOW`] before every login
/// from it is refused until the window has passed.
pub const FAILURES_PER_CLIENT: u32 = 30;
/// See [`FAILURES_PER_CLIENT`].
pub const FAILURE_WINDOW: Duration = Duration::from_secs(10 * 60);
/// Password hashes computed at once (each takes ~19 MiB and a core for ~50 ms).
pub const ARGON2_AT_ONCE: usize = 2;
/// Hand-in uploads read and checked at once.
pub const UPLOADS_AT_ONCE: usize = 2;

/// The hub's semaphores and the failed-login counts per address.
pub(crate) struct Work {
    pub argon2: Semaphore,
    pub uploads: Semaphore,
    failures: std::sync::Mutex<HashMap<IpAddr, (u32, Instant)>>,
}

impl Work {
    pub fn new() -> Work {
        Work {
            argon2: Semaphore::new(ARGON2_AT_ONCE),
            uploads: Semaphore::new(UPLOADS_AT_ONCE),
            failures: std::sync::Mutex::new(HashMap::new()),
        }
    }

    /// Whether `ip` has used up its failed logins (the minutes left if so).
    pub fn client_locked(&self, ip: IpAddr) -> Option<i64> {
        let map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (n, since) = map.get(&ip)?;
        let age = since.elapsed();
        (*n >= FAILURES_PER_CLIENT && age < FAILURE_WINDOW)
            .then(|| ((FAILURE_WINDOW - age).as_secs() / 60 + 1) as i64)
    }

    /// Counts a failed login from `ip`.
    pub fn client_failed(&self, ip: IpAddr) {
        let mut map = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if map.len() > 4096 {
            map.retain(|_, (_, since)| since.elapsed() < FAILURE_WINDOW);
        }
        let e = map.entry(ip).or_insert((0, Instant::now()));
        if e.1.elapsed() >= FAILURE_WINDOW {
            *e = (0, Instant::now());
        }
        e.0 += 1;
    }
}
