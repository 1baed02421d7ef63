//! How a sync runs: page size, concurrency, caps, retries, the stall limit, the shared fetch-ahead budget.

use super::*;

/// Knobs of a sync.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// `limit` asked for per page (servers may send fewer).
    pub page_limit: u32,
    /// Halls synced at the same time.
    pub concurrency: usize,
    /// Retry policy per request.
    pub retry: RetryPolicy,
    /// Timeouts per request.
    pub timeouts: Timeouts,
    /// The largest answer read from a hall, counted after decompression.
    pub max_response_bytes: u64,
    /// A hall that brings no new change for this long is stopped (one that keeps
    /// bringing changes is never cut off).
    pub stall_timeout: Duration,
    /// The HTTP client halls on the system's roots share. [`sync_halls`] builds
    /// one per call: building a TLS client loads and parses the system's roots,
    /// tens of milliseconds of CPU, which was most of a 500-hall sync when done
    /// per hall. It lives no longer than the call, so its connections never
    /// outlive the runtime that opened them. `None`: one client per hall.
    pub shared_client: Option<reqwest::Client>,
    /// The fetch-ahead byte budget the halls of one sync share. [`sync_halls`]
    /// makes one per call: every hall writes through one connection, so pages
    /// fetched ahead by halls waiting for it are only memory (four halls, each
    /// holding its whole feed ahead, were 300 MiB at 10M evaluations). `None`:
    /// one budget per hall.
    pub shared_budget: Option<FetchBudget>,
    /// A sync of several halls that stores more new evaluations than this (and
    /// than the cache held before) builds the time index of all halls once at its
    /// end instead of row by row; 0: never.
    pub bulk_rows: u64,
}

/// Bytes of fetched pages not yet stored, in KiB permits (a fair semaphore: a
/// hall waiting for room gets it as the pages ahead of it are stored).
#[derive(Debug, Clone)]
pub struct FetchBudget {
    pub(crate) permits: Arc<tokio::sync::Semaphore>,
    pub(crate) kib: usize,
}

impl FetchBudget {
    /// A budget of `bytes`.
    pub fn new(bytes: usize) -> Self {
        let kib = (bytes / 1024).max(1);
        Self {
            permits: Arc::new(tokio::sync::Semaphore::new(kib)),
            kib,
        }
    }
}

/// The default for [`SyncOptions::bulk_rows`]: below it, keeping the index row by
/// row costs less than building it again.
pub const DEFAULT_BULK_ROWS: u64 = 100_000;

/// The default answer cap: 64 MiB, a few dozen times a full page of 5000 changes.
pub const DEFAULT_MAX_RESPONSE_BYTES: u64 = 64 * 1024 * 1024;

/// The default stall limit.
pub const DEFAULT_STALL_TIMEOUT: Duration = Duration::from_secs(120);

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            page_limit: MAX_PAGE_LIMIT,
            concurrency: 4,
            retry: RetryPolicy::default(),
            timeouts: Timeouts::default(),
            max_response_bytes: DEFAULT_MAX_RESPONSE_BYTES,
            stall_timeout: DEFAULT_STALL_TIMEOUT,
            shared_client: None,
            shared_budget: None,
            bulk_rows: DEFAULT_BULK_ROWS,
        }
    }
}

/// Why a hall's address deserves a warning, or `None`: plain `http://` to another
/// machine sends the token and the evaluations in clear text. Loopback (the
/// embedded demo, a local test hall) is exempt.
pub fn transport_warning(base_url: &str) -> Option<String> {
    let url = reqwest::Url::parse(base_url.trim()).ok()?;
    if url.scheme() != "http" {
        return None;
    }
    let host = url
        .host_str()?
        .trim_start_matches('[')
        .trim_end_matches(']');
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    (!loopback).then(|| {
        "该大厅使用未加密的 http:// 连接：访问令牌与评价数据以明文在网络上传输，建议大厅改用 https://".to_string()
    })
}

/// A short pause helper for callers polling with `more: false`.
pub const POLL_INTERVAL: Duration = Duration::from_secs(60);
