//! The HTTP side: hall-api v1 for several halls under `/h/<hall>/`, an admin API,
//! and fault switches for tests.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use hcp_core::wire::{
    DEFAULT_PAGE_LIMIT, DecisionResult, DecisionsRequest, DecisionsResponse,
    MAX_DECISIONS_PER_REQUEST, MAX_PAGE_LIMIT, Problem,
};
use serde::{Deserialize, Serialize};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tower_http::compression::{CompressionLayer, CompressionLevel};

use crate::feed::{CursorError, DecisionLog, HallState, NewChange};

/// Fault switches: make the server misbehave the ways real hall servers do.
/// Counters are over all `v1` requests of all halls; 0 switches a fault off.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Faults {
    /// Every Nth request answers 500.
    pub fail_every: u64,
    /// Every Nth request answers 429 with `Retry-After`.
    pub rate_limit_every: u64,
    /// The `Retry-After` seconds sent with 429 (default 1).
    pub retry_after_secs: u64,
    /// Every request waits this long first.
    pub delay_ms: u64,
    /// Every Nth `v1/changes` answer is cut off halfway through its body.
    pub truncate_every: u64,
    /// `v1/decisions` records the decisions, then waits this long before answering
    /// (a client killed meanwhile has been heard but never heard back).
    pub decisions_answer_delay_ms: u64,
    /// Only this hall misbehaves (every hall when `None`).
    pub only_hall: Option<String>,
    /// `v1/changes` answers an empty page with `more: true` and the cursor it was
    /// asked with, forever.
    pub empty_more: bool,
    /// `v1/changes` answers its page padded with this many MiB of whitespace
    /// (valid JSON; streamed, so the server does not hold it).
    pub huge_page_mb: u64,
    /// Every evaluation change whose seq is a multiple of N carries bytes that are
    /// not UTF-8 in its comment.
    pub bad_utf8_every: u64,
    /// Every `v1` request answers `302 Found` to this location.
    pub redirect_to: Option<String>,
}

impl Faults {
    /// Whether the faults apply to a request for `hall`.
    fn applies_to(&self, hall: Option<&str>) -> bool {
        self.only_hall.is_none() || self.only_hall.as_deref() == hall
    }
}

/// The hall of a `/h/<hall>/…` path.
fn hall_of_path(path: &str) -> Option<&str> {
    path.strip_prefix("/h/")?.split('/').next()
}

/// Puts bytes that are not UTF-8 at the start of the comment of every evaluation
/// change whose seq is a multiple of `every`. Rendered changes start with
/// `{"seq":N,"kind":"evaluation"`, which cannot occur inside a JSON string.
pub fn corrupt_utf8(body: &str, every: u64) -> Vec<u8> {
    const START: &str = r#"{"seq":"#;
    const COMMENT: &str = r#""comment":""#;
    let mut out = Vec::with_capacity(body.len() + 64);
    let mut rest = body;
    while let Some(i) = rest.find(START) {
        let after = &rest[i + START.len()..];
        let digits: &str = &after[..after.find(',').unwrap_or(0)];
        let seq: u64 = digits.parse().unwrap_or(0);
        let is_eval = after[digits.len()..].starts_with(r#","kind":"evaluation""#);
        out.extend_from_slice(&rest.as_bytes()[..i + START.len()]);
        rest = after;
        if is_eval
            && seq > 0
            && seq.is_multiple_of(every)
            && let Some(c) = rest.find(COMMENT)
        {
            let cut = c + COMMENT.len();
            out.extend_from_slice(&rest.as_bytes()[..cut]);
            out.extend_from_slice(&[0xff, 0xfe, 0xc3]);
            rest = &rest[cut..];
        }
    }
    out.extend_from_slice(rest.as_bytes());
    out
}

/// Everything the server holds.
pub struct ServerState {
    halls: HashMap<String, RwLock<HallState>>,
    admin_token: String,
    faults: Mutex<Faults>,
    requests: AtomicU64,
}

impl ServerState {
    /// A state from halls and the admin token.
    pub fn new(halls: Vec<HallState>, admin_token: String, faults: Faults) -> Self {
        Self {
            halls: halls
                .into_iter()
                .map(|h| (h.profile.hall_id.clone(), RwLock::new(h)))
                .collect(),
            admin_token,
            faults: Mutex::new(faults),
            requests: AtomicU64::new(0),
        }
    }

    fn faults(&self) -> Faults {
        self.faults.lock().map(|f| f.clone()).unwrap_or_default()
    }

    /// Replaces the fault switches.
    pub fn set_faults(&self, f: Faults) {
        if let Ok(mut g) = self.faults.lock() {
            *g = f;
        }
    }

    /// Runs `f` on one hall, read-only.
    pub fn with_hall<T>(&self, hall_id: &str, f: impl FnOnce(&HallState) -> T) -> Option<T> {
        let h = self.halls.get(hall_id)?;
        let g = h.read().unwrap_or_else(|p| p.into_inner());
        Some(f(&g))
    }

    /// Runs `f` on one hall, mutably.
    pub fn with_hall_mut<T>(
        &self,
        hall_id: &str,
        f: impl FnOnce(&mut HallState) -> T,
    ) -> Option<T> {
        let h = self.halls.get(hall_id)?;
        let mut g = h.write().unwrap_or_else(|p| p.into_inner());
        Some(f(&mut g))
    }

    /// Hall ids served.
    pub fn hall_ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = self.halls.keys().cloned().collect();
        ids.sort();
        ids
    }

    /// Every cursor of every hall answers 410 from now on.
    pub fn expire_cursors(&self) {
        for h in self.halls.values() {
            h.write()
                .unwrap_or_else(|p| p.into_inner())
                .expire_cursors();
        }
    }
}

/// A problem+json answer.
struct ProblemResponse {
    status: StatusCode,
    title: &'static str,
    detail: String,
    retry_after: Option<u64>,
}

impl ProblemResponse {
    fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            detail: detail.into(),
            retry_after: None,
        }
    }
}

impl IntoResponse for ProblemResponse {
    fn into_response(self) -> Response {
        let p = Problem {
            type_: format!("https://hcp.example/problems/{}", self.status.as_u16()),
            title: self.title.to_string(),
            status: self.status.as_u16(),
            detail: self.detail,
        };
        let mut r = (self.status, serde_json::to_string(&p).unwrap_or_default()).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        if let Some(secs) = self.retry_after {
            r.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        r
    }
}

type Shared = Arc<ServerState>;

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
}

/// Checks the hall exists and the token is its own.
fn authorize(state: &ServerState, hall: &str, headers: &HeaderMap) -> Result<(), ProblemResponse> {
    let Some(token) = bearer(headers) else {
        return Err(ProblemResponse::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "missing bearer token",
        ));
    };
    let Some(own) = state.with_hall(hall, |h| h.token.clone()) else {
        return Err(ProblemResponse::new(
            StatusCode::NOT_FOUND,
            "Not Found",
            format!("no hall {hall}"),
        ));
    };
    if token == own {
        return Ok(());
    }
    let other_hall = state
        .halls
        .values()
        .any(|h| h.read().map(|g| g.token == token).unwrap_or(false));
    if other_hall || token == state.admin_token {
        Err(ProblemResponse::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "this token has no right to this hall",
        ))
    } else {
        Err(ProblemResponse::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "invalid bearer token",
        ))
    }
}

fn authorize_admin(state: &ServerState, headers: &HeaderMap) -> Result<(), ProblemResponse> {
    match bearer(headers) {
        Some(t) if t == state.admin_token => Ok(()),
        Some(_) => Err(ProblemResponse::new(
            StatusCode::FORBIDDEN,
            "Forbidden",
            "admin token required",
        )),
        None => Err(ProblemResponse::new(
            StatusCode::UNAUTHORIZED,
            "Unauthorized",
            "missing bearer token",
        )),
    }
}

async fn get_hall(
    State(state): State<Shared>,
    Path(hall): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ProblemResponse> {
    authorize(&state, &hall, &headers)?;
    let p = state
        .with_hall(&hall, |h| h.profile.clone())
        .ok_or_else(|| ProblemResponse::new(StatusCode::NOT_FOUND, "Not Found", "no such hall"))?;
    Ok(Json(p).into_response())
}

#[derive(Deserialize)]
struct ChangesQuery {
    after: Option<String>,
    limit: Option<String>,
}

async fn get_changes(
    State(state): State<Shared>,
    Path(hall): Path<String>,
    Query(q): Query<ChangesQuery>,
    headers: HeaderMap,
) -> Result<Response, ProblemResponse> {
    authorize(&state, &hall, &headers)?;
    let limit = match q.limit.as_deref() {
        None => DEFAULT_PAGE_LIMIT,
        Some(s) => match s.parse::<u32>() {
            Ok(n) if n >= 1 => n.min(MAX_PAGE_LIMIT),
            _ => {
                return Err(ProblemResponse::new(
                    StatusCode::BAD_REQUEST,
                    "Bad Request",
                    format!("limit must be a positive integer, got {s:?}"),
                ));
            }
        },
    };
    let faults = state.faults();
    let faults = if faults.applies_to(Some(&hall)) {
        faults
    } else {
        Faults::default()
    };
    let json = |body: Body| {
        let mut r = Response::new(body);
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        r
    };
    if faults.empty_more {
        let next = serde_json::to_string(q.after.as_deref().unwrap_or("")).unwrap_or_default();
        return Ok(json(Body::from(format!(
            r#"{{"changes":[],"next":{next},"more":true}}"#
        ))));
    }
    let page = state
        .with_hall(&hall, |h| h.page(q.after.as_deref(), limit as usize))
        .ok_or_else(|| ProblemResponse::new(StatusCode::NOT_FOUND, "Not Found", "no such hall"))?;
    match page {
        Ok(p) if faults.huge_page_mb > 0 => {
            // `{` + N MiB of spaces + the rest of the page, streamed.
            let spaces = Bytes::from(vec![b' '; 1024 * 1024]);
            let rest = Bytes::from(p.body.get(1..).unwrap_or_default().to_owned());
            let chunks = std::iter::once(Bytes::from_static(b"{"))
                .chain(std::iter::repeat_n(spaces, faults.huge_page_mb as usize))
                .chain(std::iter::once(rest))
                .map(Ok::<Bytes, std::io::Error>);
            Ok(json(Body::from_stream(futures::stream::iter(chunks))))
        }
        Ok(p) if faults.bad_utf8_every > 0 => Ok(json(Body::from(corrupt_utf8(
            &p.body,
            faults.bad_utf8_every,
        )))),
        Ok(p) => Ok(json(Body::from(p.body))),
        Err(CursorError::Expired) => Err(ProblemResponse::new(
            StatusCode::GONE,
            "Gone",
            "history before this cursor is no longer kept; start again without `after`",
        )),
        Err(CursorError::Malformed) => Err(ProblemResponse::new(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            "not a cursor of this server",
        )),
    }
}

async fn get_attachment(
    State(state): State<Shared>,
    Path((hall, sha)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ProblemResponse> {
    authorize(&state, &hall, &headers)?;
    match state
        .with_hall(&hall, |h| h.attachment(&sha).map(<[u8]>::to_vec))
        .flatten()
    {
        Some(bytes) => {
            Ok(([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response())
        }
        None => Err(ProblemResponse::new(
            StatusCode::NOT_FOUND,
            "Not Found",
            "no such attachment",
        )),
    }
}

async fn post_decisions(
    State(state): State<Shared>,
    Path(hall): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ProblemResponse> {
    authorize(&state, &hall, &headers)?;
    let req: DecisionsRequest = serde_json::from_slice(&body).map_err(|e| {
        ProblemResponse::new(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            format!("invalid body: {e}"),
        )
    })?;
    if req.decisions.len() > MAX_DECISIONS_PER_REQUEST {
        return Err(ProblemResponse::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Payload Too Large",
            format!("at most {MAX_DECISIONS_PER_REQUEST} decisions per request"),
        ));
    }
    let results = state
        .with_hall_mut(&hall, |h| {
            req.decisions
                .into_iter()
                .map(|d| {
                    let id = d.id.clone();
                    let (status, reason) = h.decide(d);
                    DecisionResult { id, status, reason }
                })
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let delay = state.faults().decisions_answer_delay_ms;
    if delay > 0 {
        tokio::time::sleep(Duration::from_millis(delay)).await;
    }
    Ok(Json(DecisionsResponse { results }).into_response())
}

/// Body of the admin append: one change or several.
#[derive(Deserialize)]
#[serde(untagged)]
enum AppendBody {
    Many(Vec<AdminChange>),
    One(AdminChange),
}

#[derive(Deserialize)]
struct AdminChange {
    kind: String,
    data: serde_json::Value,
}

#[derive(Serialize)]
struct Appended {
    seqs: Vec<u64>,
}

async fn admin_append(
    State(state): State<Shared>,
    Path(hall): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ProblemResponse> {
    authorize_admin(&state, &headers)?;
    let body: AppendBody = serde_json::from_slice(&body).map_err(|e| {
        ProblemResponse::new(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            format!("invalid body: {e}"),
        )
    })?;
    let list = match body {
        AppendBody::Many(v) => v,
        AppendBody::One(c) => vec![c],
    };
    let seqs = state
        .with_hall_mut(&hall, |h| {
            list.into_iter()
                .map(|c| {
                    if c.kind == "profile"
                        && let Ok(p) =
                            serde_json::from_value::<hcp_core::wire::HallProfile>(c.data.clone())
                    {
                        // A full profile: serve it and announce its rev.
                        let rev = p.profile_rev;
                        h.profile = p;
                        return h.append(NewChange::new(
                            "profile",
                            &hcp_core::wire::ProfileChanged { profile_rev: rev },
                        ));
                    }
                    h.append(NewChange {
                        kind: c.kind,
                        data: c.data.to_string(),
                    })
                })
                .collect()
        })
        .ok_or_else(|| ProblemResponse::new(StatusCode::NOT_FOUND, "Not Found", "no such hall"))?;
    Ok(Json(Appended { seqs }).into_response())
}

async fn admin_decisions(
    State(state): State<Shared>,
    Path(hall): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ProblemResponse> {
    authorize_admin(&state, &headers)?;
    let decisions = state
        .with_hall(&hall, |h| h.decision_log().to_vec())
        .ok_or_else(|| ProblemResponse::new(StatusCode::NOT_FOUND, "Not Found", "no such hall"))?;
    Ok(Json(DecisionLog { decisions }).into_response())
}

async fn admin_get_faults(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ProblemResponse> {
    authorize_admin(&state, &headers)?;
    Ok(Json(state.faults()).into_response())
}

async fn admin_set_faults(
    State(state): State<Shared>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ProblemResponse> {
    authorize_admin(&state, &headers)?;
    let f: Faults = serde_json::from_slice(&body).map_err(|e| {
        ProblemResponse::new(
            StatusCode::BAD_REQUEST,
            "Bad Request",
            format!("invalid body: {e}"),
        )
    })?;
    state.set_faults(f.clone());
    Ok(Json(f).into_response())
}

async fn admin_expire(
    State(state): State<Shared>,
    headers: HeaderMap,
) -> Result<Response, ProblemResponse> {
    authorize_admin(&state, &headers)?;
    state.expire_cursors();
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn not_found() -> ProblemResponse {
    ProblemResponse::new(StatusCode::NOT_FOUND, "Not Found", "no such endpoint")
}

/// Applies the fault switches to `v1` requests.
async fn fault_layer(State(state): State<Shared>, req: Request, next: Next) -> Response {
    let n = state.requests.fetch_add(1, Ordering::Relaxed) + 1;
    let f = state.faults();
    if !f.applies_to(hall_of_path(req.uri().path())) {
        return next.run(req).await;
    }
    if let Some(to) = &f.redirect_to {
        let mut r = StatusCode::FOUND.into_response();
        if let Ok(v) = HeaderValue::from_str(to) {
            r.headers_mut().insert(header::LOCATION, v);
        }
        return r;
    }
    if f.delay_ms > 0 {
        tokio::time::sleep(Duration::from_millis(f.delay_ms)).await;
    }
    if f.fail_every > 0 && n % f.fail_every == 0 {
        return ProblemResponse::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Internal Server Error",
            "injected failure",
        )
        .into_response();
    }
    if f.rate_limit_every > 0 && n % f.rate_limit_every == 0 {
        let mut p = ProblemResponse::new(
            StatusCode::TOO_MANY_REQUESTS,
            "Too Many Requests",
            "slow down",
        );
        p.retry_after = Some(if f.retry_after_secs == 0 {
            1
        } else {
            f.retry_after_secs
        });
        return p.into_response();
    }
    let truncate = f.truncate_every > 0
        && n % f.truncate_every == 0
        && req.uri().path().ends_with("/v1/changes");
    let resp = next.run(req).await;
    if !truncate || resp.status() != StatusCode::OK {
        return resp;
    }
    // Send half the body, then break the connection.
    let (parts, body) = resp.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let half = bytes.slice(..bytes.len() / 2);
    let stream = futures::stream::iter(vec![
        Ok::<Bytes, std::io::Error>(half),
        Err(std::io::Error::other("injected cut")),
    ]);
    let mut parts = parts;
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from_stream(stream))
}

/// The router for a state.
pub fn router(state: Shared) -> Router {
    let v1 = Router::new()
        .route("/h/{hall}/v1/hall", get(get_hall))
        .route("/h/{hall}/v1/changes", get(get_changes))
        .route("/h/{hall}/v1/attachments/{sha}", get(get_attachment))
        .route("/h/{hall}/v1/decisions", post(post_decisions))
        .route_layer(middleware::from_fn_with_state(state.clone(), fault_layer));
    let admin = Router::new()
        .route("/admin/h/{hall}/changes", post(admin_append))
        .route("/admin/h/{hall}/decisions", get(admin_decisions))
        .route(
            "/admin/faults",
            get(admin_get_faults).post(admin_set_faults),
        )
        .route("/admin/expire-cursors", post(admin_expire));
    v1.merge(admin)
        .fallback(not_found)
        .layer(
            CompressionLayer::new()
                .gzip(true)
                .quality(CompressionLevel::Fastest),
        )
        .with_state(state)
}

/// A server running in the background of the current tokio runtime.
pub struct RunningServer {
    /// Where it listens.
    pub addr: SocketAddr,
    /// Its state (append records, flip faults, read decisions).
    pub state: Shared,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl RunningServer {
    /// Binds `addr` (use `127.0.0.1:0` for a free port) and serves `state`.
    pub async fn start(addr: SocketAddr, state: ServerState) -> std::io::Result<Self> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let state = Arc::new(state);
        let app = router(state.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async {
                let _ = rx.await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "hall server stopped");
            }
        });
        Ok(Self {
            addr,
            state,
            shutdown: Some(tx),
            task: Some(task),
        })
    }

    /// Base URL of a hall: `http://addr/h/<hall>/`.
    pub fn base_url(&self, hall_id: &str) -> String {
        format!("http://{}/h/{}/", self.addr, hall_id)
    }

    /// Appends a change to a hall's feed; returns its seq.
    pub fn append(&self, hall_id: &str, kind: &str, data: &serde_json::Value) -> Option<u64> {
        self.state.with_hall_mut(hall_id, |h| {
            h.append(NewChange {
                kind: kind.to_string(),
                data: data.to_string(),
            })
        })
    }

    /// The token of a hall.
    pub fn token(&self, hall_id: &str) -> Option<String> {
        self.state.with_hall(hall_id, |h| h.token.clone())
    }

    /// Stops serving and waits for the server to finish.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for RunningServer {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn corrupt_utf8_breaks_only_every_nth_evaluation() {
        let body = concat!(
            r#"{"changes":[{"seq":1,"kind":"evaluation","data":{"comment":"一"}},"#,
            r#"{"seq":2,"kind":"evaluation","data":{"comment":"二"}},"#,
            r#"{"seq":3,"kind":"appeal","data":{"comment":"三"}},"#,
            r#"{"seq":4,"kind":"evaluation","data":{"comment":"四"}}],"next":"x","more":false}"#
        );
        let out = corrupt_utf8(body, 2);
        assert!(std::str::from_utf8(&out).is_err());
        let lossy = String::from_utf8_lossy(&out);
        assert_eq!(lossy.matches('\u{fffd}').count(), 6, "{lossy}"); // ff, fe, c3 at 2 and 4
        assert!(lossy.contains(r#""comment":"一""#));
        assert!(lossy.contains(r#""comment":"三""#));
        assert_eq!(corrupt_utf8(body, 5), body.as_bytes());
    }

    #[test]
    fn faults_can_be_aimed_at_one_hall() {
        let f = Faults {
            only_hall: Some("H1".into()),
            ..Faults::default()
        };
        assert!(f.applies_to(hall_of_path("/h/H1/v1/changes")));
        assert!(!f.applies_to(hall_of_path("/h/H2/v1/changes")));
        assert!(Faults::default().applies_to(Some("H2")));
    }
}
