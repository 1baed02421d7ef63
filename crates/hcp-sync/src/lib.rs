//! Pulls the change feeds of many halls into the local cache.
//!
//! Per hall, a fetcher walks the feed page by page (asking for the next page while
//! the previous one is being stored) and an applier validates each page and stores
//! it together with its cursor in one transaction: a crash can neither skip nor
//! double a record. Invalid records go to the quarantine; `410 Gone` restarts the
//! feed from the beginning with the rev rule keeping what is stored; transient
//! failures are retried with capped exponential backoff and jitter; a hall that
//! still fails gets a clear reason while the other halls finish.

mod client;
mod feed_sink;
mod hub;
mod peek;
mod push;
#[cfg(feature = "sqlite")]
mod sink;
mod trust;
pub use trust::exact_trust_config;

use std::ops::Range;
#[cfg(feature = "sqlite")]
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
#[cfg(feature = "sqlite")]
use futures::StreamExt;
use hcp_core::feed::{FeedRecord, PageOutcome, PageToApply, QuarantineEntry};
use hcp_core::validate::{ValidRecord, validate_change};
use hcp_core::wire::{ChangesPage, HallProfile, MAX_PAGE_LIMIT, RawChange};
#[cfg(feature = "sqlite")]
use hcp_store::{Store, StoreError};
use serde::Serialize;
use tokio::sync::mpsc;

pub use client::{HallClient, HallEndpoint, RetryNotice, RetryPolicy, Timeouts, Token};
pub use feed_sink::FeedSink;
pub use hub::{HubAccount, HubClient, HubHallInfo, HubSession};
pub use peek::{MAX_CERTIFICATE_BYTES, PeekedCertificate, fingerprint, peek_certificate, to_pem};
pub use push::{OutboxSource, PushReport, push_hall_from};
#[cfg(feature = "sqlite")]
pub use push::{push_hall, push_halls};
#[cfg(feature = "sqlite")]
pub use sink::{SqliteSink, StorePool};

/// Why a hall could not be synced (zh-CN for people; never contains a token).
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// 401.
    #[error("大厅拒绝了令牌（401 未授权）：请检查令牌是否正确、是否已过期")]
    Unauthorized,
    /// 403, with the server's own words (a hub's are zh-CN and say why).
    #[error("令牌无权访问该大厅（403 禁止访问）")]
    Forbidden {
        /// The problem's detail, printable; may be empty.
        detail: String,
    },
    /// 404.
    #[error("该地址不是 hall-api v1 接口（404）：请检查大厅地址")]
    NotFound,
    /// Another 4xx.
    #[error("大厅服务器拒绝了请求（{status}）：{detail}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The problem detail.
        detail: String,
    },
    /// `410 Gone` (handled inside the sync; surfaces only from single calls).
    #[error("游标已过期（410）")]
    Gone,
    /// Out of retries.
    #[error("重试 {attempts} 次后仍失败：{last}")]
    GaveUp {
        /// Attempts made.
        attempts: u32,
        /// The last failure.
        last: String,
    },
    /// Unusable base URL.
    #[error("大厅地址 “{url}” 无效：{detail}")]
    BadUrl {
        /// What was given.
        url: String,
        /// Why it is unusable.
        detail: String,
    },
    /// The CA file could not be used.
    #[error("无法使用 CA 证书文件 {path}：{detail}")]
    CaFile {
        /// The file.
        path: String,
        /// Why.
        detail: String,
    },
    /// The HTTP client could not be built.
    #[error("无法创建网络客户端：{0}")]
    Client(String),
    /// The server at the address is a different hall.
    #[error("该地址上的大厅编码为 “{found}”，与登记的 “{expected}” 不一致")]
    HallMismatch {
        /// Registered.
        expected: String,
        /// Served.
        found: String,
    },
    /// The feed breaks the protocol in a way retrying cannot fix.
    #[error("大厅返回的数据不符合接口规范：{0}")]
    Protocol(String),
    /// An answer bigger than the cap (counted after decompression).
    #[error(
        "大厅的响应超过 {limit_mib} MiB 上限（按解压后计算），已停止同步该大厅：请联系大厅核查接口；确有需要时可调大上限（hcp sync --max-response-mb）"
    )]
    TooLarge {
        /// The cap, MiB.
        limit_mib: u64,
    },
    /// The hall answered with a redirect, which is not followed.
    #[error(
        "大厅地址返回了重定向（{status} → {location}），督查台不跟随重定向：请把大厅地址改为实际的接口地址后重新添加"
    )]
    Redirected {
        /// HTTP status.
        status: u16,
        /// Where it pointed.
        location: String,
    },
    /// No progress for too long.
    #[error(
        "大厅在 {secs} 秒内没有任何进展（没有送来新数据或回执），已停止本次与该大厅的通信；已保存的数据不受影响，下次同步从中断处继续"
    )]
    Stalled {
        /// The stall limit, seconds.
        secs: u64,
    },
    /// The local cache failed.
    #[cfg(feature = "sqlite")]
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The registered hall code is not a plain code (registered by an older version).
    #[error("{0}：请移除该大厅（hcp hall remove）后重新添加")]
    InvalidHallId(String),
    /// The hall is known from a task package or spreadsheet imports only: it has
    /// no server here.
    #[error("大厅 “{0}” 来自暗访任务包或导入的评价表格，本机没有它的服务器地址，无需同步")]
    NotSynced(String),
    /// No token stored for the hall.
    #[error("没有大厅 “{0}” 的令牌，请重新添加该大厅")]
    NoToken(String),
    /// An internal task died.
    #[error("同步任务异常结束：{0}")]
    Internal(String),
    /// The office hub no longer takes this desk's session.
    #[error(
        "团队服务器不再接受本机的登录（已过期、已退出或账号已停用）：请重新连接（hcp hub connect）"
    )]
    HubSessionEnded,
    /// Another sink (the office hub's database) failed; the text says how, zh-CN.
    #[error("{0}")]
    Sink(String),
}

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
    permits: Arc<tokio::sync::Semaphore>,
    kib: usize,
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

#[cfg(feature = "sqlite")]
/// Syncs every hall, `options.concurrency` at a time; one hall's failure does not
/// stop the others. Reports come back in the order of `halls`; the last event is
/// [`SyncEvent::Ended`].
pub async fn sync_halls(
    db: &Path,
    halls: Vec<HallEndpoint>,
    options: &SyncOptions,
    progress: ProgressFn,
) -> Vec<HallReport> {
    let db = db.to_path_buf();
    let order: Vec<String> = halls.iter().map(|h| h.hall_id.clone()).collect();
    let pool = sink::StorePool::default();
    let mut options = options.clone();
    if options.shared_client.is_none() && halls.len() > 1 {
        options.shared_client = client::build_client(None, &options.timeouts).ok();
    }
    if options.shared_budget.is_none() && halls.len() > 1 {
        options.shared_budget = Some(FetchBudget::new(SHARED_FETCH_AHEAD_BYTES));
    }
    let options = &options;
    let bulk_rows = if halls.len() > 1 {
        options.bulk_rows
    } else {
        0
    };
    if let Err(e) = pool.begin(db.clone(), bulk_rows).await {
        // Each hall opens the cache again and reports what is wrong with it.
        tracing::warn!(error = %e, "sync start");
    }
    let mut reports: Vec<HallReport> = futures::stream::iter(halls)
        .map(|ep| {
            let mut sink = SqliteSink::pooled(db.clone(), pool.clone());
            let progress = progress.clone();
            let options = options.clone();
            async move { sync_hall_into(&mut sink, ep, &options, progress).await }
        })
        .buffer_unordered(options.concurrency.max(1))
        .collect()
        .await;
    pool.flush(db).await;
    progress(&SyncEvent::Ended {
        halls: reports.len() as u64,
    });
    reports.sort_by_key(|r| order.iter().position(|h| *h == r.hall_id));
    reports
}

#[cfg(feature = "sqlite")]
/// Syncs one hall to the end of its feed, into the cache at `db`.
pub async fn sync_hall(
    db: PathBuf,
    ep: HallEndpoint,
    options: &SyncOptions,
    progress: ProgressFn,
) -> HallReport {
    sync_hall_into(&mut SqliteSink::new(db), ep, options, progress).await
}

/// Syncs one hall to the end of its feed, into any [`FeedSink`] (the desktop's
/// cache, the hub's database).
pub async fn sync_hall_into<S: FeedSink>(
    sink: &mut S,
    ep: HallEndpoint,
    options: &SyncOptions,
    progress: ProgressFn,
) -> HallReport {
    let started = Instant::now();
    let attempted_at = chrono::Utc::now();
    progress(&SyncEvent::Started {
        hall_id: ep.hall_id.clone(),
    });
    let mut report = HallReport {
        hall_id: ep.hall_id.clone(),
        pages: 0,
        records: 0,
        outcome: PageOutcome::default(),
        restarts: 0,
        retries: 0,
        elapsed_ms: 0,
        error: None,
    };
    let result = run_hall(sink, &ep, options, &progress, &mut report).await;
    report.elapsed_ms = started.elapsed().as_millis() as u64;
    let err_text = result.as_ref().err().map(ToString::to_string);
    if let Some(e) = &err_text {
        tracing::warn!(hall_id = %ep.hall_id, error = %e, "hall sync failed");
    }
    report.error = err_text.clone();
    // Record the outcome on the hall (best effort: the sink may be what failed).
    sink.finish(
        &ep.hall_id,
        attempted_at,
        err_text.as_deref().map_or(Ok(()), Err),
    )
    .await;
    progress(&SyncEvent::Finished {
        report: report.clone(),
    });
    report
}

#[cfg(feature = "sqlite")]
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, SyncError> + Send + 'static,
) -> Result<T, SyncError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| SyncError::Internal(e.to_string()))?
}

/// Pages the fetcher may hold ready for the applier (a full page of 5000 changes
/// is a few MB parsed)…
const FETCH_AHEAD_PAGES: usize = 6;

/// …and bytes of page bodies, whatever their number: a hall that sends pages near
/// the size cap cannot make the console hold six of them. A sync of several halls
/// shares one such budget among all of them.
const FETCH_AHEAD_BYTES: usize = 64 * 1024 * 1024;

#[cfg(feature = "sqlite")]
/// The budget the halls of one sync share: about five full pages, over half a
/// second of the writer's work, while four halls fetch.
const SHARED_FETCH_AHEAD_BYTES: usize = 16 * 1024 * 1024;

/// At most this many changes are stored in one transaction.
const MAX_BATCH_CHANGES: u64 = 30_000;

/// A single record larger than this is quarantined instead of stored: real ones
/// are a few KB (a 2000-character comment is 6 KB).
pub const MAX_RECORD_BYTES: usize = 256 * 1024;

/// How much of an oversized record the quarantine keeps, for people to see its id.
const QUARANTINE_RAW_PREFIX: usize = 4 * 1024;

/// What the fetcher hands the applier.
enum Fetched {
    Page {
        page: Box<Prepared>,
        /// A freshly fetched profile when the page announced a newer one.
        profile: Option<Box<HallProfile>>,
    },
    Restart,
}

/// A page parsed and validated (on the fetcher's side, so that it overlaps with the
/// applier writing the previous page). Records point into `body` by byte range.
struct Prepared {
    body: Bytes,
    next: String,
    more: bool,
    count: u64,
    records: Vec<(i64, Range<usize>, ValidRecord)>,
    quarantined: Vec<PreparedQuarantine>,
    skipped: u64,
    /// Highest `profile_rev` announced in the page.
    profile_rev: Option<i64>,
    /// Its share of the fetch-ahead byte budget, given back when the page is
    /// stored and dropped.
    budget: Option<tokio::sync::OwnedSemaphorePermit>,
}

struct PreparedQuarantine {
    seq: i64,
    kind: String,
    raw: Range<usize>,
    field: String,
    reason: String,
}

async fn run_hall<S: FeedSink>(
    sink: &mut S,
    ep: &HallEndpoint,
    options: &SyncOptions,
    progress: &ProgressFn,
    report: &mut HallReport,
) -> Result<(), SyncError> {
    // Registered before codes were checked? Then it must be registered again.
    hcp_core::ident::check_hall_id(&ep.hall_id)
        .map_err(|e| SyncError::InvalidHallId(e.to_string()))?;
    let client = Arc::new(HallClient::new(ep, options)?);
    let (cursor, profile_rev) = sink.begin(&ep.hall_id).await?;

    let retries = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let on_retry: Arc<dyn Fn(RetryNotice) + Send + Sync> = {
        let progress = progress.clone();
        let hall_id = ep.hall_id.clone();
        let retries = retries.clone();
        Arc::new(move |n: RetryNotice| {
            retries.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            progress(&SyncEvent::Retrying {
                hall_id: hall_id.clone(),
                attempt: n.attempt,
                reason: n.reason,
                wait_ms: n.wait.as_millis() as u64,
            })
        })
    };

    // The fetcher runs ahead of the applier; the cursor is stored only by the
    // applier, together with the page.
    let (tx, mut rx) = mpsc::channel::<Result<Fetched, SyncError>>(FETCH_AHEAD_PAGES);
    // Shared by the halls of one sync, or this hall's own.
    let budget = options
        .shared_budget
        .clone()
        .unwrap_or_else(|| FetchBudget::new(FETCH_AHEAD_BYTES));
    let fetcher = {
        let client = client.clone();
        let on_retry = on_retry.clone();
        let limit = options.page_limit.clamp(1, MAX_PAGE_LIMIT);
        let hall_id = ep.hall_id.clone();
        tokio::spawn(async move {
            let mut after = cursor;
            let mut known_profile_rev = profile_rev;
            loop {
                let h = hall_id.clone();
                let asked = after.clone();
                let read = move |body: Bytes| {
                    let h = h.clone();
                    let asked = asked.clone();
                    async move {
                        tokio::task::spawn_blocking(move || {
                            prepare(body, &h, asked.as_deref(), limit)
                        })
                        .await
                        .map_err(|e| e.to_string())?
                    }
                };
                let fetched = match client
                    .changes_with(after.as_deref(), limit, &*on_retry, read)
                    .await
                {
                    Ok(mut page) => {
                        after = Some(page.next.clone());
                        let profile = match page.profile_rev {
                            Some(rev) if rev > known_profile_rev => {
                                match client.profile(&*on_retry).await {
                                    Ok(p) if p.hall_id == hall_id => {
                                        known_profile_rev = p.profile_rev.max(rev);
                                        Some(Box::new(p))
                                    }
                                    Ok(p) => {
                                        let _ = tx
                                            .send(Err(SyncError::HallMismatch {
                                                expected: hall_id.clone(),
                                                found: hcp_core::ident::printable(&p.hall_id),
                                            }))
                                            .await;
                                        return;
                                    }
                                    Err(e) => {
                                        let _ = tx.send(Err(e)).await;
                                        return;
                                    }
                                }
                            }
                            _ => None,
                        };
                        // Wait for room in the byte budget before holding another page.
                        let kib = page
                            .body
                            .len()
                            .div_ceil(1024)
                            // A page larger than the whole budget takes all of it.
                            .clamp(1, budget.kib);
                        match budget.permits.clone().acquire_many_owned(kib as u32).await {
                            Ok(permit) => page.budget = Some(permit),
                            Err(_) => return,
                        }
                        let more = page.more;
                        if tx
                            .send(Ok(Fetched::Page {
                                page: Box::new(page),
                                profile,
                            }))
                            .await
                            .is_err()
                            || !more
                        {
                            return;
                        }
                        continue;
                    }
                    Err(e) => Err::<(), _>(e),
                };
                match fetched {
                    Err(SyncError::Gone) if after.is_some() => {
                        after = None;
                        if tx.send(Ok(Fetched::Restart)).await.is_err() {
                            return;
                        }
                    }
                    Err(SyncError::Gone) => {
                        let _ = tx
                            .send(Err(SyncError::Protocol("从头读取时仍返回 410".into())))
                            .await;
                        return;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    Ok(()) => {}
                }
            }
        })
    };

    let mut totals = PageOutcome::default();
    let mut result = Ok(());
    // A hall is stopped when no change arrives for `stall_timeout`; every stored
    // batch that brought changes starts the clock again.
    let mut last_progress = tokio::time::Instant::now();
    // An item taken off the channel while filling a batch that must wait for the
    // batch to be stored first (a restart or an error).
    let mut held: Option<Result<Fetched, SyncError>> = None;
    loop {
        let item = match held.take() {
            Some(item) => item,
            None => {
                let deadline = last_progress + options.stall_timeout;
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(item)) => item,
                    Ok(None) => break,
                    Err(_) => {
                        result = Err(SyncError::Stalled {
                            secs: options.stall_timeout.as_secs(),
                        });
                        break;
                    }
                }
            }
        };
        let first = match item {
            Ok(Fetched::Page { page, profile }) => (page, profile),
            Ok(Fetched::Restart) => {
                report.restarts += 1;
                progress(&SyncEvent::Restarted {
                    hall_id: ep.hall_id.clone(),
                });
                sink.restart(&ep.hall_id).await?;
                continue;
            }
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        // Pages the fetcher already has ready join this one in a single transaction
        // (the applier is the bottleneck of a bulk sync; see docs/benchmarks.md).
        let mut batch_records = first.0.count;
        let mut more = first.0.more;
        let mut batch = vec![first];
        while more && batch_records < MAX_BATCH_CHANGES {
            match rx.try_recv() {
                Ok(Ok(Fetched::Page { page, profile })) => {
                    batch_records += page.count;
                    more = page.more;
                    batch.push((page, profile));
                }
                Ok(other) => {
                    held = Some(other);
                    break;
                }
                Err(_) => break,
            }
        }
        let pages = batch.len() as u64;
        let applied = sink.store(&ep.hall_id, FetchedBatch::new(batch)).await;
        let outcome = match applied {
            Ok(o) => o,
            Err(e) => {
                result = Err(e);
                break;
            }
        };
        if batch_records > 0 {
            last_progress = tokio::time::Instant::now();
        }
        totals.add(&outcome);
        report.pages += pages;
        report.records += batch_records;
        report.outcome = totals;
        progress(&SyncEvent::Page {
            hall_id: ep.hall_id.clone(),
            pages: report.pages,
            records: report.records,
            totals,
            more,
        });
        if !more {
            break;
        }
    }
    drop(rx);
    // The fetcher may be waiting out a retry or a hall that does not answer:
    // stop it rather than wait for it. It holds nothing that must be saved.
    fetcher.abort();
    let _ = fetcher.await;
    report.retries = retries.load(std::sync::atomic::Ordering::Relaxed);
    result
}

/// Where `part` (a slice of `body`) sits in `body`.
fn range_in(body: &[u8], part: &str) -> Range<usize> {
    let start = (part.as_ptr() as usize).saturating_sub(body.as_ptr() as usize);
    start..start + part.len()
}

/// A page whose changes all have proper envelopes.
#[derive(serde::Deserialize)]
struct TypedPage<'a> {
    #[serde(borrow)]
    changes: Vec<EnvelopedChange<'a>>,
    next: String,
    more: bool,
}

/// One change with its envelope read; `data` stays raw until validated.
#[derive(serde::Deserialize)]
struct EnvelopedChange<'a> {
    seq: i64,
    kind: String,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
}

/// A body that is not valid UTF-8, decoded with U+FFFD in place of each bad
/// sequence, and where in the decoded text those replacements sit. Only the
/// changes that overlap a replacement are quarantined; the rest of the page reads
/// as sent.
fn decode_lossy(body: &[u8]) -> (Bytes, Vec<Range<usize>>) {
    let mut out = String::with_capacity(body.len() + 16);
    let mut bad = vec![];
    for chunk in body.utf8_chunks() {
        out.push_str(chunk.valid());
        if !chunk.invalid().is_empty() {
            let at = out.len();
            out.push(char::REPLACEMENT_CHARACTER);
            bad.push(at..out.len());
        }
    }
    (Bytes::from(out), bad)
}

fn overlaps(spans: &[Range<usize>], r: &Range<usize>) -> bool {
    spans.iter().any(|b| b.start < r.end && r.start < b.end)
}

/// The longest prefix of `s` of at most `max` bytes that ends on a character.
fn prefix(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

/// Parses and validates a page asked for with `asked_after` and `limit`. The fast
/// path reads every envelope in one pass; when an envelope is broken, or the body
/// has bytes that are not UTF-8, the page is taken apart change by change so that
/// only the broken changes are quarantined. A page that breaks the protocol (more
/// changes than `limit`, or `more: true` without moving the cursor) is an error
/// (the request is retried, then the hall fails with the reason).
fn prepare(
    body: Bytes,
    hall_id: &str,
    asked_after: Option<&str>,
    limit: u32,
) -> Result<Prepared, String> {
    let mut p = Prepared {
        body: Bytes::new(),
        next: String::new(),
        more: false,
        count: 0,
        records: vec![],
        quarantined: vec![],
        skipped: 0,
        profile_rev: None,
        budget: None,
    };
    let (body, bad_spans) = match std::str::from_utf8(&body) {
        Ok(_) => (body, vec![]),
        Err(_) => decode_lossy(&body),
    };
    let unreadable = |e: serde_json::Error| format!("变更数据无法解析：{e}");
    let fast = if bad_spans.is_empty() {
        serde_json::from_slice::<TypedPage<'_>>(&body).ok()
    } else {
        None
    };
    match fast {
        Some(page) => {
            p.count = page.changes.len() as u64;
            p.next = page.next;
            p.more = page.more;
            for c in &page.changes {
                classify(&body, c, hall_id, &mut p);
            }
        }
        None => {
            let page: ChangesPage<'_> = serde_json::from_slice(&body).map_err(unreadable)?;
            p.count = page.changes.len() as u64;
            p.next = page.next;
            p.more = page.more;
            let mut last_seq = i64::MIN;
            for raw in &page.changes {
                let raw = raw.get();
                let whole = range_in(&body, raw);
                let parsed = serde_json::from_str::<RawChange<'_>>(raw);
                if overlaps(&bad_spans, &whole) {
                    // Decoded lossily to find its seq, kind and id; kept whole.
                    let (seq, kind) = match &parsed {
                        Ok(c) => (c.seq, c.kind.clone()),
                        Err(_) => (
                            seq_guess(raw).unwrap_or(last_seq.saturating_add(1)),
                            String::new(),
                        ),
                    };
                    last_seq = seq;
                    p.quarantined.push(PreparedQuarantine {
                        seq,
                        kind,
                        raw: range_in(&body, prefix(raw, QUARANTINE_RAW_PREFIX * 16)),
                        field: String::new(),
                        reason: "记录含有不是 UTF-8 编码的字节，无法可靠读取（隔离区中以 � 显示这些字节）".into(),
                    });
                    continue;
                }
                match parsed {
                    Ok(c) => {
                        last_seq = c.seq;
                        let c = EnvelopedChange {
                            seq: c.seq,
                            kind: c.kind,
                            data: c.data,
                        };
                        classify(&body, &c, hall_id, &mut p);
                    }
                    Err(e) => p.quarantined.push(PreparedQuarantine {
                        // Not even an envelope: keep it whole, after the last good seq.
                        seq: seq_guess(raw).unwrap_or(last_seq.saturating_add(1)),
                        kind: String::new(),
                        raw: range_in(&body, prefix(raw, QUARANTINE_RAW_PREFIX)),
                        field: String::new(),
                        reason: format!("变更记录格式错误（缺少 seq/kind/data 或类型不符）：{e}"),
                    }),
                }
            }
        }
    }
    if p.count > u64::from(limit) {
        return Err(format!(
            "大厅一页返回了 {} 条变更，超过请求的上限 {limit} 条（不符合接口规范）",
            p.count
        ));
    }
    if p.more && p.next == asked_after.unwrap_or("") {
        return Err(format!(
            "大厅返回 more: true，但游标没有前进（本页 {} 条变更，next 与请求的游标相同），同步无法继续（不符合接口规范）",
            p.count
        ));
    }
    p.body = body;
    Ok(p)
}

fn classify(body: &[u8], c: &EnvelopedChange<'_>, hall_id: &str, p: &mut Prepared) {
    let data = c.data.get();
    if data.len() > MAX_RECORD_BYTES {
        p.quarantined.push(PreparedQuarantine {
            seq: c.seq,
            kind: c.kind.clone(),
            raw: range_in(body, prefix(data, QUARANTINE_RAW_PREFIX)),
            field: String::new(),
            reason: format!(
                "记录有 {} 字节，超过单条记录上限 {} KB（隔离区只保留开头部分）",
                data.len(),
                MAX_RECORD_BYTES / 1024
            ),
        });
        return;
    }
    match validate_change(&c.kind, data, hall_id) {
        Ok(ValidRecord::UnknownKind(kind)) => {
            tracing::debug!(hall_id, seq = c.seq, kind = %hcp_core::ident::printable(&kind), "unknown change kind skipped");
            p.skipped += 1;
        }
        Ok(ValidRecord::Profile(pc)) => {
            p.profile_rev = p.profile_rev.max(Some(pc.profile_rev));
        }
        Ok(record) => p.records.push((c.seq, range_in(body, data), record)),
        Err(invalid) => p.quarantined.push(PreparedQuarantine {
            seq: c.seq,
            kind: c.kind.clone(),
            raw: range_in(body, data),
            field: invalid.field.clone(),
            reason: invalid.to_string(),
        }),
    }
}

/// What one page brings apart from its text.
type PageParts = (
    Vec<(i64, Range<usize>, ValidRecord)>,
    Vec<PreparedQuarantine>,
    u64,
    Option<HallProfile>,
);

/// Consecutive pages of one hall, fetched and validated, to be stored with the last
/// one's cursor (and any profile) in one transaction.
pub struct FetchedBatch {
    /// Each page's body and next cursor.
    texts: Vec<(Bytes, String)>,
    /// Each page's records (taken out by [`FetchedBatch::pages`]).
    parts: Vec<PageParts>,
    /// The pages' share of the fetch-ahead budget, given back when the batch is
    /// dropped (once stored).
    _budget: Vec<Option<tokio::sync::OwnedSemaphorePermit>>,
}

impl FetchedBatch {
    fn new(batch: Vec<(Box<Prepared>, Option<Box<HallProfile>>)>) -> Self {
        let mut out = FetchedBatch {
            texts: Vec::with_capacity(batch.len()),
            parts: Vec::with_capacity(batch.len()),
            _budget: Vec::with_capacity(batch.len()),
        };
        for (page, profile) in batch {
            let Prepared {
                body,
                next,
                records,
                quarantined,
                skipped,
                budget,
                ..
            } = *page;
            out._budget.push(budget);
            out.texts.push((body, next));
            out.parts
                .push((records, quarantined, skipped, profile.map(|p| *p)));
        }
        out
    }

    /// The pages to store, in order (records move out: a second call gives pages
    /// without records).
    pub fn pages(&mut self) -> Result<Vec<PageToApply<'_>>, SyncError> {
        let parts = std::mem::take(&mut self.parts);
        let mut to_apply = Vec::with_capacity(parts.len());
        for ((body, next), (records, quarantined, skipped, profile)) in self.texts.iter().zip(parts)
        {
            let text = |r: &Range<usize>| {
                body.get(r.clone())
                    .and_then(|b| std::str::from_utf8(b).ok())
                    .ok_or_else(|| SyncError::Internal("record range outside the page".into()))
            };
            let mut page = PageToApply {
                next_cursor: next,
                profile,
                skipped_unknown: skipped,
                ..PageToApply::default()
            };
            for (seq, range, record) in records {
                page.records.push(FeedRecord {
                    seq,
                    raw: text(&range)?,
                    record,
                    revision: None,
                });
            }
            for q in quarantined {
                page.quarantined.push(QuarantineEntry {
                    seq: q.seq,
                    kind: q.kind,
                    raw: text(&q.raw)?,
                    field: q.field,
                    reason: q.reason,
                });
            }
            to_apply.push(page);
        }
        Ok(to_apply)
    }
}

fn seq_guess(raw: &str) -> Option<i64> {
    serde_json::from_str::<serde_json::Value>(raw)
        .ok()?
        .get("seq")?
        .as_i64()
}

/// Fetches a hall's profile once (used when a hall is added).
pub async fn fetch_profile(
    ep: &HallEndpoint,
    options: &SyncOptions,
) -> Result<HallProfile, SyncError> {
    let client = HallClient::new(ep, options)?;
    let p = client.profile(&|_| {}).await?;
    Ok(p)
}

#[cfg(feature = "sqlite")]
/// Convenience for callers that hold the vault and the store: the endpoints of the
/// given halls (all when `only` is empty).
pub fn endpoints(
    store: &Store,
    vault: &hcp_store::TokenVault,
    only: &[String],
) -> Result<Vec<HallEndpoint>, SyncError> {
    let mut out = vec![];
    for h in store.halls()? {
        if !only.is_empty() && !only.contains(&h.hall_id) {
            continue;
        }
        if h.source != "api" {
            // Known from a task package or a spreadsheet: no server, nothing to sync.
            if only.contains(&h.hall_id) {
                return Err(SyncError::NotSynced(h.hall_id));
            }
            continue;
        }
        let token = vault
            .get(&h.hall_id)?
            .ok_or_else(|| SyncError::NoToken(h.hall_id.clone()))?;
        out.push(HallEndpoint {
            hall_id: h.hall_id,
            base_url: h.base_url,
            token: Token::new(token),
            ca_file: h.ca_file.map(PathBuf::from),
        });
    }
    Ok(out)
}

/// A short pause helper for callers polling with `more: false`.
pub const POLL_INTERVAL: Duration = Duration::from_secs(60);

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(seq: i64, id: &str, comment: &str) -> String {
        format!(
            r#"{{"seq":{seq},"kind":"evaluation","data":{{"id":"{id}","rev":1,"hall_id":"H1","channel":"web","level":2,"comment":"{comment}","evaluated_at":"2026-10-09T10:00:00+08:00","status":"valid"}}}}"#
        )
    }

    fn page(changes: &[String], next: &str, more: bool) -> Bytes {
        Bytes::from(format!(
            r#"{{"changes":[{}],"next":"{next}","more":{more}}}"#,
            changes.join(",")
        ))
    }

    #[test]
    fn more_changes_than_the_limit_is_a_protocol_error() {
        let body = page(
            &[eval(1, "a", ""), eval(2, "b", ""), eval(3, "c", "")],
            "n3",
            true,
        );
        let e = prepare(body.clone(), "H1", None, 2).err().unwrap();
        assert!(e.contains("3 条变更，超过请求的上限 2 条"), "{e}");
        assert!(prepare(body, "H1", None, 3).is_ok());
    }

    #[test]
    fn more_without_moving_the_cursor_is_a_protocol_error() {
        let e = prepare(page(&[], "c7", true), "H1", Some("c7"), 100)
            .err()
            .unwrap();
        assert!(e.contains("游标没有前进"), "{e}");
        // The same `next` with more: false is simply "caught up".
        assert!(prepare(page(&[], "c7", false), "H1", Some("c7"), 100).is_ok());
        // An empty page that does move the cursor is allowed (the stall limit
        // catches a hall that only ever does that).
        assert!(prepare(page(&[], "c8", true), "H1", Some("c7"), 100).is_ok());
    }

    #[test]
    fn bytes_that_are_not_utf8_cost_only_the_record_they_are_in() {
        let mut body = page(
            &[eval(1, "a", "一"), eval(2, "b", "XX"), eval(3, "c", "三")],
            "n",
            false,
        )
        .to_vec();
        let at = body.windows(2).position(|w| w == b"XX").unwrap();
        body[at] = 0xff;
        body[at + 1] = 0xc3;
        let p = prepare(Bytes::from(body), "H1", None, 10).unwrap();
        assert_eq!(p.count, 3);
        let ids: Vec<i64> = p.records.iter().map(|r| r.0).collect();
        assert_eq!(ids, vec![1, 3]);
        assert_eq!(p.quarantined.len(), 1);
        let q = &p.quarantined[0];
        assert_eq!((q.seq, q.kind.as_str()), (2, "evaluation"));
        let raw = std::str::from_utf8(&p.body[q.raw.clone()]).unwrap();
        assert!(
            raw.contains(r#""id":"b""#) && raw.contains('\u{fffd}'),
            "{raw}"
        );
        // The good records still point at their exact text.
        let r3 = std::str::from_utf8(&p.body[p.records[1].1.clone()]).unwrap();
        assert!(r3.contains("三"));
    }

    #[test]
    fn an_oversized_record_is_quarantined_with_only_its_beginning_kept() {
        let big = "长".repeat(MAX_RECORD_BYTES / 3 + 10);
        let p = prepare(
            page(&[eval(1, "a", &big), eval(2, "b", "")], "n", false),
            "H1",
            None,
            10,
        )
        .unwrap();
        assert_eq!(p.records.len(), 1);
        assert_eq!(p.quarantined.len(), 1);
        let q = &p.quarantined[0];
        assert!(q.reason.contains("超过单条记录上限"), "{}", q.reason);
        assert!(q.raw.len() <= QUARANTINE_RAW_PREFIX);
        assert!(std::str::from_utf8(&p.body[q.raw.clone()]).is_ok());
    }
}
