//! One hall's HTTP client: bearer auth, gzip, extra CA, retries with capped
//! exponential backoff and jitter, `Retry-After`. A hall's answer is read as a
//! stream and cut off at a size cap counted **after** decompression; redirects
//! are not followed.

use std::fmt;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use hcp_core::wire::{DecisionsRequest, DecisionsResponse, HallProfile, Problem};
use reqwest::{StatusCode, Url, header};

use crate::{SyncError, SyncOptions};

/// A CA bundle larger than this is not a CA bundle.
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// An error answer's body is read up to this much (for its problem detail).
const MAX_ERROR_BODY_BYTES: u64 = 64 * 1024;

/// A bearer token. Never printed: `Debug` shows `***`.
#[derive(Clone)]
pub struct Token(String);

impl Token {
    /// Wraps a token (surrounding whitespace, e.g. a file's newline, is dropped).
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into().trim().to_string())
    }

    /// The secret itself, for the `Authorization` header and the token vault
    /// only: never log it or put it in a message.
    pub fn secret(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(***)")
    }
}

/// Where a hall is and how to reach it.
#[derive(Debug, Clone)]
pub struct HallEndpoint {
    /// The hall's id as registered (checked against what the server says).
    pub hall_id: String,
    /// Base URL; the v1 paths are relative to it.
    pub base_url: String,
    /// Its token.
    pub token: Token,
    /// Extra CA certificates (PEM) to trust besides the system roots.
    pub ca_file: Option<PathBuf>,
}

/// How hard to try.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Attempts per request, the first included.
    pub max_attempts: u32,
    /// First backoff.
    pub base: Duration,
    /// Longest backoff.
    pub cap: Duration,
    /// Longest `Retry-After` honoured.
    pub max_retry_after: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 8,
            base: Duration::from_millis(250),
            cap: Duration::from_secs(15),
            max_retry_after: Duration::from_secs(120),
        }
    }
}

/// Timeouts of a hall client.
#[derive(Debug, Clone)]
pub struct Timeouts {
    /// TCP/TLS connect.
    pub connect: Duration,
    /// Whole request, body included.
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Self {
            connect: Duration::from_secs(10),
            request: Duration::from_secs(120),
        }
    }
}

/// One failed attempt, and whether another may help.
#[derive(Debug)]
pub(crate) enum Attempt {
    Retry {
        reason: String,
        retry_after: Option<Duration>,
    },
    Fatal(SyncError),
    Gone,
}

/// A retry the client is about to make (for progress reporting).
#[derive(Debug, Clone)]
pub struct RetryNotice {
    /// The attempt that failed (1-based).
    pub attempt: u32,
    /// Why (zh-CN).
    pub reason: String,
    /// How long we wait before the next one.
    pub wait: Duration,
}

/// An HTTP client for one hall.
pub struct HallClient {
    http: reqwest::Client,
    base: Url,
    token: Token,
    retry: RetryPolicy,
    max_body: u64,
    jitter: std::sync::Mutex<u64>,
}

impl HallClient {
    /// Builds the client for an endpoint with the options' retries, timeouts and
    /// size cap.
    pub fn new(ep: &HallEndpoint, options: &SyncOptions) -> Result<Self, SyncError> {
        let retry = options.retry.clone();
        let timeouts = options.timeouts.clone();
        let mut base = Url::parse(ep.base_url.trim()).map_err(|e| SyncError::BadUrl {
            url: ep.base_url.clone(),
            detail: e.to_string(),
        })?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SyncError::BadUrl {
                url: ep.base_url.clone(),
                detail: "只支持 http:// 或 https://".into(),
            });
        }
        if !base.path().ends_with('/') {
            let p = format!("{}/", base.path());
            base.set_path(&p);
        }
        let http = match (&ep.ca_file, &options.shared_client) {
            // Halls on the system roots share the sync's client (tokens go on each
            // request, never on the client).
            (None, Some(c)) => c.clone(),
            (ca, _) => build_client(ca.as_deref(), &timeouts)?,
        };
        let seed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1)
            ^ ep.hall_id
                .bytes()
                .fold(0u64, |h, b| h.rotate_left(5) ^ b as u64);
        Ok(Self {
            http,
            base,
            token: ep.token.clone(),
            retry,
            max_body: options.max_response_bytes.max(1),
            jitter: std::sync::Mutex::new(seed | 1),
        })
    }

    fn url(&self, rel: &str) -> Url {
        self.base.join(rel).unwrap_or_else(|_| self.base.clone())
    }

    /// `GET v1/hall`, with retries.
    pub async fn profile(
        &self,
        on_retry: &(dyn Fn(RetryNotice) + Send + Sync),
    ) -> Result<HallProfile, SyncError> {
        let url = self.url("v1/hall");
        self.with_retries(on_retry, || async {
            let body = self.get_once(url.clone()).await?;
            serde_json::from_slice::<HallProfile>(&body).map_err(|e| Attempt::Retry {
                reason: format!("大厅资料无法解析：{e}"),
                retry_after: None,
            })
        })
        .await
    }

    /// `GET v1/changes`, with retries. Returns the body, the next cursor and
    /// `more`; `Err(SyncError::Gone)` on 410.
    pub async fn changes(
        &self,
        after: Option<&str>,
        limit: u32,
        on_retry: &(dyn Fn(RetryNotice) + Send + Sync),
    ) -> Result<(Bytes, String, bool), SyncError> {
        #[derive(serde::Deserialize)]
        struct Envelope {
            #[allow(dead_code)]
            changes: serde::de::IgnoredAny,
            next: String,
            more: bool,
        }
        self.changes_with(after, limit, on_retry, |body| async move {
            let env: Envelope =
                serde_json::from_slice(&body).map_err(|e| format!("变更数据无法解析：{e}"))?;
            Ok((body, env.next, env.more))
        })
        .await
    }

    /// `GET v1/changes` with the body handed to `read` inside the retry loop: a
    /// body that arrived whole but does not read as a page (a proxy's error page,
    /// a cut the transport did not notice, a page that breaks the protocol) is
    /// fetched again, a bounded number of times. `read`'s error is the zh-CN
    /// reason.
    pub async fn changes_with<T, F, Fut>(
        &self,
        after: Option<&str>,
        limit: u32,
        on_retry: &(dyn Fn(RetryNotice) + Send + Sync),
        read: F,
    ) -> Result<T, SyncError>
    where
        F: Fn(Bytes) -> Fut,
        Fut: std::future::Future<Output = Result<T, String>>,
    {
        let mut url = self.url("v1/changes");
        {
            let mut q = url.query_pairs_mut();
            if let Some(a) = after {
                q.append_pair("after", a);
            }
            q.append_pair("limit", &limit.to_string());
        }
        self.with_retries(on_retry, || async {
            let body = self.get_once(url.clone()).await?;
            read(body).await.map_err(|reason| Attempt::Retry {
                reason,
                retry_after: None,
            })
        })
        .await
    }

    /// `GET rel` (with a query) read as JSON, with retries.
    pub(crate) async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        rel: &str,
        query: &[(&str, &str)],
        what: &str,
    ) -> Result<T, SyncError> {
        let mut url = self.url(rel);
        if !query.is_empty() {
            let mut q = url.query_pairs_mut();
            for (k, v) in query {
                q.append_pair(k, v);
            }
        }
        self.with_retries(&|_| {}, || async {
            let body = self.get_once(url.clone()).await?;
            serde_json::from_slice::<T>(&body).map_err(|e| Attempt::Retry {
                reason: format!("{what}无法解析：{e}"),
                retry_after: None,
            })
        })
        .await
    }

    /// `POST rel` with a JSON body, read as JSON; retried only when `idempotent`.
    pub(crate) async fn post_json<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        rel: &str,
        body: &B,
        what: &str,
        idempotent: bool,
    ) -> Result<T, SyncError> {
        let no_notice = |_: RetryNotice| {};
        self.post_json_with(rel, body, what, idempotent.then_some(&no_notice))
            .await
    }

    /// `GET rel` once, without the session, and one header of the answer (a
    /// hub's `x-hcp-epoch` on its health check, whatever the status).
    pub(crate) async fn get_header(
        &self,
        rel: &str,
        header: &str,
    ) -> Result<Option<String>, SyncError> {
        let resp = self
            .http
            .get(self.url(rel))
            .send()
            .await
            .map_err(|e| SyncError::Client(e.to_string()))?;
        Ok(resp
            .headers()
            .get(header)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(128).collect()))
    }

    /// `POST rel` with no body, once, the answer's body ignored (a sign-out).
    pub(crate) async fn post_nothing(&self, rel: &str) -> Result<(), SyncError> {
        let resp = self
            .http
            .post(self.url(rel))
            .bearer_auth(self.token.secret())
            .send()
            .await
            .map_err(|e| SyncError::Client(e.to_string()))?;
        if resp.status().is_success() {
            Ok(())
        } else {
            Err(SyncError::Client(format!(
                "HTTP {}",
                resp.status().as_u16()
            )))
        }
    }

    /// `POST v1/decisions`, with retries (safe: the ids make it idempotent).
    pub async fn post_decisions(
        &self,
        req: &DecisionsRequest,
        on_retry: &(dyn Fn(RetryNotice) + Send + Sync),
    ) -> Result<DecisionsResponse, SyncError> {
        self.post_json_with("v1/decisions", req, "决定回执", Some(on_retry))
            .await
    }

    /// `POST rel` with a JSON body, read as JSON: with retries when `on_retry` is
    /// given (the request is safe to repeat), once otherwise.
    async fn post_json_with<B: serde::Serialize, T: serde::de::DeserializeOwned>(
        &self,
        rel: &str,
        body: &B,
        what: &str,
        on_retry: Option<&(dyn Fn(RetryNotice) + Send + Sync)>,
    ) -> Result<T, SyncError> {
        let body = serde_json::to_vec(body).map_err(|e| SyncError::Client(e.to_string()))?;
        self.post_body(rel, body, "application/json", what, on_retry)
            .await
    }

    /// `POST rel` with a file as the body (`application/octet-stream`), read as
    /// JSON, with retries (the request must be safe to repeat).
    pub(crate) async fn post_bytes<T: serde::de::DeserializeOwned>(
        &self,
        rel: &str,
        body: Vec<u8>,
        what: &str,
    ) -> Result<T, SyncError> {
        let no_notice = |_: RetryNotice| {};
        self.post_body(
            rel,
            body,
            "application/octet-stream",
            what,
            Some(&no_notice),
        )
        .await
    }

    async fn post_body<T: serde::de::DeserializeOwned>(
        &self,
        rel: &str,
        body: Vec<u8>,
        content_type: &'static str,
        what: &str,
        on_retry: Option<&(dyn Fn(RetryNotice) + Send + Sync)>,
    ) -> Result<T, SyncError> {
        let url = self.url(rel);
        let body = Bytes::from(body);
        let once = || async {
            let resp = self
                .http
                .post(url.clone())
                .bearer_auth(self.token.secret())
                .header(header::CONTENT_TYPE, content_type)
                .body(body.clone())
                .send()
                .await
                .map_err(transport)?;
            let bytes = check(resp, self.max_body).await?;
            serde_json::from_slice::<T>(&bytes).map_err(|e| Attempt::Retry {
                reason: format!("{what}无法解析：{e}"),
                retry_after: None,
            })
        };
        match on_retry {
            Some(on_retry) => self.with_retries(on_retry, once).await,
            None => once().await.map_err(|a| match a {
                Attempt::Fatal(e) => e,
                Attempt::Gone => SyncError::Gone,
                Attempt::Retry { reason, .. } => SyncError::GaveUp {
                    attempts: 1,
                    last: reason,
                },
            }),
        }
    }

    /// `GET rel` as bytes (a file), at most `cap` of them, with retries.
    pub(crate) async fn get_bytes(&self, rel: &str, cap: u64) -> Result<Bytes, SyncError> {
        let url = self.url(rel);
        self.with_retries(&|_| {}, || async {
            let resp = self
                .http
                .get(url.clone())
                .bearer_auth(self.token.secret())
                .header(header::ACCEPT, "application/octet-stream")
                .send()
                .await
                .map_err(transport)?;
            check(resp, cap).await
        })
        .await
    }

    async fn get_once(&self, url: Url) -> Result<Bytes, Attempt> {
        let resp = self
            .http
            .get(url)
            .bearer_auth(self.token.secret())
            .header(header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(transport)?;
        check(resp, self.max_body).await
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exp = self
            .retry
            .base
            .saturating_mul(1u32 << attempt.saturating_sub(1).min(16));
        let capped = exp.min(self.retry.cap);
        // "Equal jitter": half fixed, half random, so retries of many clients spread.
        let r = {
            let mut s = self.jitter.lock().unwrap_or_else(|p| p.into_inner());
            *s ^= *s << 13;
            *s ^= *s >> 7;
            *s ^= *s << 17;
            *s
        };
        let frac = (r >> 11) as f64 / (1u64 << 53) as f64;
        capped.mul_f64(0.5 + 0.5 * frac)
    }

    async fn with_retries<T, F, Fut>(
        &self,
        on_retry: &(dyn Fn(RetryNotice) + Send + Sync),
        mut op: F,
    ) -> Result<T, SyncError>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, Attempt>>,
    {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match op().await {
                Ok(v) => return Ok(v),
                Err(Attempt::Fatal(e)) => return Err(e),
                Err(Attempt::Gone) => return Err(SyncError::Gone),
                Err(Attempt::Retry {
                    reason,
                    retry_after,
                }) => {
                    if attempt >= self.retry.max_attempts {
                        return Err(SyncError::GaveUp {
                            attempts: attempt,
                            last: reason,
                        });
                    }
                    let wait = match retry_after {
                        Some(ra) => ra.min(self.retry.max_retry_after),
                        None => self.backoff(attempt),
                    };
                    tracing::debug!(attempt, wait_ms = wait.as_millis() as u64, %reason, "retrying hall request");
                    on_retry(RetryNotice {
                        attempt,
                        reason,
                        wait,
                    });
                    tokio::time::sleep(wait).await;
                }
            }
        }
    }
}

fn transport(e: reqwest::Error) -> Attempt {
    let cause = root_cause(&e);
    let reason = if e.is_timeout() {
        "请求超时".to_string()
    } else if e.is_connect() {
        format!("无法连接大厅服务器（{}）", root_cause(&e))
    } else if e.is_body() || e.is_decode() || cause.contains("before message completed") {
        format!("连接中途断开，响应不完整（{cause}）")
    } else {
        format!("网络错误（{}）", root_cause(&e))
    };
    Attempt::Retry {
        reason,
        retry_after: None,
    }
}

/// The innermost error text, without the URL reqwest puts in front.
fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// Reads a body as it arrives, decompressed, and stops past `cap` bytes: a hall
/// cannot make the console hold more than that, whatever it sends or claims.
async fn read_capped(mut resp: reqwest::Response, cap: u64) -> Result<Bytes, Attempt> {
    let too_large = || {
        Attempt::Fatal(SyncError::TooLarge {
            limit_mib: cap.div_ceil(1024 * 1024),
        })
    };
    // Content-Length is the compressed size when gzipped: only a first hint.
    if resp.content_length().is_some_and(|n| n > cap) {
        return Err(too_large());
    }
    let mut buf = bytes::BytesMut::with_capacity(
        resp.content_length().unwrap_or(64 * 1024).min(cap) as usize,
    );
    while let Some(chunk) = resp.chunk().await.map_err(transport)? {
        if buf.len() as u64 + chunk.len() as u64 > cap {
            return Err(too_large());
        }
        buf.extend_from_slice(&chunk);
    }
    Ok(buf.freeze())
}

async fn check(resp: reqwest::Response, cap: u64) -> Result<Bytes, Attempt> {
    let status = resp.status();
    if status.is_success() {
        return read_capped(resp, cap).await;
    }
    if status.is_redirection() {
        let to = resp
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(hcp_core::ident::printable)
            .unwrap_or_default();
        return Err(Attempt::Fatal(SyncError::Redirected {
            status: status.as_u16(),
            location: to,
        }));
    }
    let retry_after = resp
        .headers()
        .get(header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    let body = read_capped(resp, MAX_ERROR_BODY_BYTES)
        .await
        .unwrap_or_default();
    let detail = serde_json::from_slice::<Problem>(&body)
        .ok()
        .map(|p| {
            let d = if p.detail.is_empty() {
                p.title
            } else {
                p.detail
            };
            hcp_core::ident::printable(&d)
        })
        .unwrap_or_default();
    let code = status.as_u16();
    match status {
        StatusCode::GONE => Err(Attempt::Gone),
        StatusCode::UNAUTHORIZED => Err(Attempt::Fatal(SyncError::Unauthorized)),
        StatusCode::FORBIDDEN => Err(Attempt::Fatal(SyncError::Forbidden { detail })),
        StatusCode::NOT_FOUND => Err(Attempt::Fatal(SyncError::NotFound)),
        StatusCode::TOO_MANY_REQUESTS => Err(Attempt::Retry {
            reason: "大厅服务器限流（429）".into(),
            retry_after,
        }),
        s if s.is_server_error() => Err(Attempt::Retry {
            reason: format!("大厅服务器错误（{code}）"),
            retry_after,
        }),
        _ => Err(Attempt::Fatal(SyncError::Rejected {
            status: code,
            detail,
        })),
    }
}

/// A client with the timeouts, no redirects, and — with a CA file — trust in
/// exactly that file's certificates (see `trust`).
pub(crate) fn build_client(
    ca_file: Option<&std::path::Path>,
    timeouts: &Timeouts,
) -> Result<reqwest::Client, SyncError> {
    let mut b = reqwest::Client::builder()
        .connect_timeout(timeouts.connect)
        .timeout(timeouts.request)
        .user_agent(concat!("hcp-supervisor/", env!("CARGO_PKG_VERSION")))
        // A hall that redirects is misconfigured: say so instead of following
        // it (possibly to another host, with the token).
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(Duration::from_secs(30));
    if let Some(path) = ca_file {
        let ca_err = |detail: String| SyncError::CaFile {
            path: path.display().to_string(),
            detail,
        };
        let len = std::fs::metadata(path)
            .map_err(|e| ca_err(e.to_string()))?
            .len();
        if len > MAX_CA_FILE_BYTES {
            return Err(ca_err(format!(
                "文件有 {len} 字节，超过 1 MiB，不像证书文件"
            )));
        }
        let mut pem = vec![];
        std::io::Read::read_to_end(
            &mut std::io::Read::take(
                std::fs::File::open(path).map_err(|e| ca_err(e.to_string()))?,
                MAX_CA_FILE_BYTES + 1,
            ),
            &mut pem,
        )
        .map_err(|e| ca_err(e.to_string()))?;
        if pem.len() as u64 > MAX_CA_FILE_BYTES {
            return Err(ca_err("文件超过 1 MiB，不像证书文件".into()));
        }
        use rustls::pki_types::CertificateDer;
        use rustls::pki_types::pem::PemObject;
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&pem)
            .collect::<Result<_, _>>()
            .map_err(|e| ca_err(e.to_string()))?;
        if certs.is_empty() {
            return Err(SyncError::CaFile {
                path: path.display().to_string(),
                detail: "文件中没有 PEM 格式的证书".into(),
            });
        }
        // Exactly the file's certificates, as pins or roots; never the system's
        // roots besides (see `trust`).
        let config = crate::trust::client_config(&certs).map_err(|e| ca_err(e.to_string()))?;
        b = b.tls_backend_preconfigured(config);
    }
    b.build().map_err(|e| SyncError::Client(e.to_string()))
}
