//! The hub's HTTP API for desktops. JSON in and out; errors are RFC 9457 problems
//! with a zh-CN message. Every client may be hostile: connections are capped in
//! all and per address, a request head must arrive within
//! [`limits::HEADER_TIMEOUT`] and a whole request within
//! [`limits::REQUEST_TIMEOUT`], the session and the role are checked before a
//! body is read, and bodies are capped per route.

use std::net::{IpAddr, SocketAddr};

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::{Hub, HubError, limits};

/// No request of this API needs more.
const MAX_BODY: usize = 64 * 1024;

/// A batch of actions: 500 with notes of a few thousand characters each.
const MAX_ACTIONS_BODY: usize = 8 * 1024 * 1024;

/// An issued report: the PDF in base64 and its model.
const MAX_REPORT_BODY: usize = crate::MAX_REPORT_BYTES / 3 * 4 + 4 * 1024 * 1024;

#[derive(Deserialize)]
struct LoginBody {
    name: String,
    password: String,
}

fn error(e: HubError) -> Response {
    let (status, code) = match &e {
        HubError::BadLogin => (StatusCode::UNAUTHORIZED, "bad_login"),
        HubError::NoSession => (StatusCode::UNAUTHORIZED, "no_session"),
        HubError::TooManyAttempts(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_attempts"),
        HubError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid_input"),
        HubError::UnknownAccount(_) | HubError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        HubError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        HubError::Conflict(_) => (StatusCode::CONFLICT, "conflict"),
        HubError::Busy => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
        _ => {
            tracing::warn!(error = %e, "hub request failed");
            (StatusCode::SERVICE_UNAVAILABLE, "hub_unavailable")
        }
    };
    // RFC 9457 problem details (what hall-api v1 clients read), with the hub's
    // own `code` and `message` beside them.
    let message = e.to_string();
    (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        serde_json::json!({
            "type": "about:blank",
            "title": code,
            "status": status.as_u16(),
            "detail": message,
            "code": code,
            "message": message,
        })
        .to_string(),
    )
        .into_response()
}

/// The signed-in account of a request (refused with 401 otherwise).
struct Signed(crate::Account);

impl axum::extract::FromRequestParts<Hub> for Signed {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        hub: &Hub,
    ) -> Result<Self, Response> {
        let Some(token) = bearer(&parts.headers) else {
            return Err(error(HubError::NoSession));
        };
        hub.session(token).await.map(Signed).map_err(error)
    }
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

/// A body or query that did not read: 400 with what was expected.
fn malformed(what: &str) -> Response {
    error(HubError::Invalid(format!("请求格式错误：{what}")))
}

/// The answer: JSON, or the error's problem.
fn reply<T: serde::Serialize>(r: crate::Result<T>) -> Response {
    match r {
        Ok(v) => Json(v).into_response(),
        Err(e) => error(e),
    }
}

/// The answer when the hub already has it as JSON text.
fn reply_text(r: crate::Result<String>) -> Response {
    match r {
        Ok(body) => ([(header::CONTENT_TYPE, "application/json")], body).into_response(),
        Err(e) => error(e),
    }
}

type QueryOf<T> = Result<Query<T>, axum::extract::rejection::QueryRejection>;
type BodyOf<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

#[derive(Deserialize)]
struct ChangesQuery {
    after: Option<String>,
    limit: Option<u32>,
}

const CHANGES_QUERY: &str = "after 为游标，limit 为 1–5000 的整数";

/// The client's address, put on every request by the accept loop.
#[derive(Clone, Copy, Debug)]
struct Peer(std::net::IpAddr);

async fn login(
    State(hub): State<Hub>,
    peer: Option<axum::Extension<Peer>>,
    body: BodyOf<LoginBody>,
) -> Response {
    let Ok(Json(b)) = body else {
        return malformed("需要 name 与 password");
    };
    let client = peer.map(|axum::Extension(Peer(ip))| ip);
    reply(hub.login_from(&b.name, &b.password, client).await)
}

/// Refuses `who` unless its role is one of `roles` — before any body is read.
fn needs(who: &crate::Account, c: hcp_core::Capability, refusal: &str) -> crate::Result<()> {
    if who.may(c) {
        Ok(())
    } else {
        Err(HubError::Forbidden(refusal.into()))
    }
}

/// Reads a body of at most `limit` bytes (after the caller checked who asks).
async fn read_body(body: axum::body::Body, limit: usize, what: &str) -> crate::Result<Vec<u8>> {
    axum::body::to_bytes(body, limit)
        .await
        .map(Vec::from)
        .map_err(|_| {
            HubError::Invalid(format!(
                "{what}过大或未传完（上限 {} MB）",
                limit.div_ceil(1 << 20)
            ))
        })
}

/// A JSON body of at most `limit` bytes.
async fn read_json<T: serde::de::DeserializeOwned>(
    body: axum::body::Body,
    limit: usize,
    expected: &str,
) -> crate::Result<T> {
    let bytes = read_body(body, limit, "请求内容").await?;
    serde_json::from_slice(&bytes)
        .map_err(|_| HubError::Invalid(format!("请求格式错误：{expected}")))
}

/// The account, and which database the hub serves (desks compare it).
#[derive(serde::Serialize)]
struct Me<'a> {
    #[serde(flatten)]
    account: crate::Account,
    epoch: &'a str,
}

async fn me(State(hub): State<Hub>, Signed(who): Signed) -> Response {
    Json(Me {
        account: who,
        epoch: hub.epoch(),
    })
    .into_response()
}

async fn logout(State(hub): State<Hub>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return error(HubError::NoSession);
    };
    match hub.logout(token).await {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => error(e),
    }
}

/// 设置 → 发文机关 of the office, for every signed-in desk.
async fn office(State(hub): State<Hub>, Signed(_who): Signed) -> Response {
    reply(
        hub.office()
            .await
            .map(|o| serde_json::json!({ "office": o })),
    )
}

async fn halls(State(hub): State<Hub>, Signed(who): Signed) -> Response {
    reply(
        hub.visible_halls(&who)
            .await
            .map(|h| serde_json::json!({ "halls": h })),
    )
}

async fn hall_profile(
    State(hub): State<Hub>,
    Signed(who): Signed,
    Path(hall_id): Path<String>,
) -> Response {
    reply_text(hub.hall_profile(&who, &hall_id).await)
}

async fn hall_changes(
    State(hub): State<Hub>,
    Signed(who): Signed,
    Path(hall_id): Path<String>,
    query: QueryOf<ChangesQuery>,
) -> Response {
    let Ok(Query(q)) = query else {
        return malformed(CHANGES_QUERY);
    };
    reply_text(
        hub.hall_changes(&who, &hall_id, q.after.as_deref(), q.limit)
            .await,
    )
}

#[derive(Deserialize)]
struct ActionsBody {
    actions: Vec<crate::ActionRequest>,
}

async fn actions(State(hub): State<Hub>, Signed(who): Signed, body: axum::body::Body) -> Response {
    if let Err(e) = needs(
        &who,
        hcp_core::Capability::ViewCases,
        "只有效能督查员与大厅负责人可以办理工单",
    ) {
        return error(e);
    }
    let b: ActionsBody = match read_json(
        body,
        MAX_ACTIONS_BODY,
        "需要 {\"actions\": [{id, case_id, expected_version, action}]}",
    )
    .await
    {
        Ok(b) => b,
        Err(e) => return error(e),
    };
    reply(
        hub.act(&who, &b.actions)
            .await
            .map(|r| serde_json::json!({ "results": r })),
    )
}

async fn case(State(hub): State<Hub>, Signed(who): Signed, Path(case_id): Path<i64>) -> Response {
    reply(hub.case(&who, case_id).await)
}

async fn case_changes(
    State(hub): State<Hub>,
    Signed(who): Signed,
    query: QueryOf<ChangesQuery>,
) -> Response {
    let Ok(Query(q)) = query else {
        return malformed(CHANGES_QUERY);
    };
    reply(hub.case_changes(&who, q.after.as_deref(), q.limit).await)
}

async fn next_issue(
    State(hub): State<Hub>,
    Signed(who): Signed,
    body: BodyOf<crate::NextIssueArgs>,
) -> Response {
    let Ok(Json(a)) = body else {
        return malformed("需要 month 与 hall_id");
    };
    reply(hub.next_issue(&who, &a).await)
}

async fn upload_report(
    State(hub): State<Hub>,
    Signed(who): Signed,
    body: axum::body::Body,
) -> Response {
    if let Err(e) = needs(
        &who,
        hcp_core::Capability::IssueReports,
        "只有效能督查员可以签发通报",
    ) {
        return error(e);
    }
    let up: crate::ReportUpload = match read_json(body, MAX_REPORT_BODY, "通报上传内容不完整").await
    {
        Ok(u) => u,
        Err(e) => return error(e),
    };
    reply(hub.store_report(&who, &up).await)
}

async fn list_reports(State(hub): State<Hub>, Signed(who): Signed) -> Response {
    reply(
        hub.reports(&who)
            .await
            .map(|r| serde_json::json!({ "reports": r })),
    )
}

async fn get_report(
    State(hub): State<Hub>,
    Signed(who): Signed,
    Path(report_id): Path<i64>,
) -> Response {
    reply(hub.report(&who, report_id).await)
}

async fn upload_visit(
    State(hub): State<Hub>,
    Signed(who): Signed,
    body: axum::body::Body,
) -> Response {
    if let Err(e) = needs(
        &who,
        hcp_core::Capability::FileVisits,
        "只有暗访员账号可以上传暗访交件",
    ) {
        return error(e);
    }
    // A few uploads at a time are read and checked; the rest wait their turn.
    let Ok(_turn) = hub.work.uploads.acquire().await else {
        return error(HubError::Busy);
    };
    match read_body(body, crate::MAX_VISIT_BYTES, "交件文件").await {
        Ok(bytes) => reply(hub.upload_visit(&who, bytes).await),
        Err(e) => error(e),
    }
}

async fn visit_changes(
    State(hub): State<Hub>,
    Signed(who): Signed,
    q: QueryOf<ChangesQuery>,
) -> Response {
    let Ok(Query(q)) = q else {
        return malformed(CHANGES_QUERY);
    };
    reply(hub.visit_changes(&who, q.after.as_deref(), q.limit).await)
}

async fn visit_bundle(
    State(hub): State<Hub>,
    Signed(who): Signed,
    Path(visit_id): Path<String>,
) -> Response {
    match hub.visit_bundle(&who, &visit_id).await {
        Ok(bytes) => ([(header::CONTENT_TYPE, "application/octet-stream")], bytes).into_response(),
        Err(e) => error(e),
    }
}

/// `ok` only when the hub can reach its database too (a load balancer or a
/// monitor must not send desks to a hub whose PostgreSQL is gone).
async fn health(State(hub): State<Hub>) -> Response {
    // The epoch goes with every answer: a desk without a valid session (the
    // backup restored predates it) still learns which database this is.
    let epoch = [("x-hcp-epoch", hub.epoch().to_owned())];
    match tokio::time::timeout(std::time::Duration::from_secs(5), hub.ping()).await {
        Ok(Ok(())) => (epoch, "ok").into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "health: database unavailable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                epoch,
                "database unavailable",
            )
                .into_response()
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            epoch,
            "database unavailable",
        )
            .into_response(),
    }
}

/// The routes.
pub fn router(hub: Hub) -> Router {
    Router::new()
        .route("/v1/health", get(health))
        .route("/v1/login", post(login))
        .route("/v1/me", get(me))
        .route("/v1/logout", post(logout))
        .route("/v1/halls", get(halls))
        .route("/v1/office", get(office))
        .route("/v1/actions", post(actions))
        .route("/v1/cases/changes", get(case_changes))
        .route("/v1/reports/next", post(next_issue))
        .route("/v1/reports", get(list_reports).post(upload_report))
        .route("/v1/reports/{report_id}", get(get_report))
        .route("/v1/visits", post(upload_visit))
        .route("/v1/visits/changes", get(visit_changes))
        .route("/v1/visits/{visit_id}", get(visit_bundle))
        .route("/v1/cases/{case_id}", get(case))
        .route("/v1/halls/{hall_id}/v1/hall", get(hall_profile))
        .route("/v1/halls/{hall_id}/v1/changes", get(hall_changes))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(hub)
}

/// A running hub API.
pub struct RunningHub {
    /// Where it listens.
    pub addr: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
    tls: bool,
}

/// Open connections per address, for [`limits::MAX_CONNECTIONS_PER_CLIENT`].
type PerClient = std::sync::Arc<std::sync::Mutex<std::collections::HashMap<IpAddr, usize>>>;

/// One open connection's place in the counts, given back when it ends.
struct Slot {
    per_client: PerClient,
    ip: IpAddr,
    _permit: tokio::sync::OwnedSemaphorePermit,
}

impl Slot {
    /// A place for a connection from `ip`, or `None` when the hub or that address
    /// has as many open as it may.
    fn take(
        total: &std::sync::Arc<tokio::sync::Semaphore>,
        per_client: &PerClient,
        ip: IpAddr,
    ) -> Option<Slot> {
        let permit = total.clone().try_acquire_owned().ok()?;
        let mut map = per_client.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_insert(0);
        if *n >= limits::MAX_CONNECTIONS_PER_CLIENT {
            return None;
        }
        *n += 1;
        Some(Slot {
            per_client: per_client.clone(),
            ip,
            _permit: permit,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut map = self.per_client.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.ip);
            }
        }
    }
}

/// Serves one connection (HTTP/1.1 only: one request at a time, each head within
/// the header timeout, each request within the request timeout).
async fn serve_connection<I>(io: I, app: Router, peer: SocketAddr)
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper_util::rt::{TokioIo, TokioTimer};
    use tower::Service;
    let svc = hyper::service::service_fn(
        move |mut req: axum::extract::Request<hyper::body::Incoming>| {
            let mut app = app.clone();
            req.extensions_mut().insert(Peer(peer.ip()));
            async move {
                let req = req.map(axum::body::Body::new);
                match tokio::time::timeout(limits::REQUEST_TIMEOUT, app.call(req)).await {
                    Ok(r) => r,
                    Err(_) => Ok(error(HubError::Invalid(format!(
                        "请求超过 {} 秒未完成，已中止",
                        limits::REQUEST_TIMEOUT.as_secs()
                    )))),
                }
            }
        },
    );
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits::HEADER_TIMEOUT)
        .max_buf_size(limits::MAX_HEAD_BYTES)
        .max_headers(100);
    if let Err(e) = builder.serve_connection(TokioIo::new(io), svc).await {
        tracing::debug!(%peer, error = %e, "connection ended");
    }
}

/// Accepts connections for ever, each served on a task of its own within the
/// caps; `tls` wraps each in a handshake (itself bounded in time).
async fn accept_loop(
    listener: tokio::net::TcpListener,
    app: Router,
    tls: Option<tokio_rustls::TlsAcceptor>,
) {
    let total = std::sync::Arc::new(tokio::sync::Semaphore::new(limits::MAX_CONNECTIONS));
    let per_client: PerClient = Default::default();
    loop {
        let (tcp, peer) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                // Out of file descriptors and the like: wait, do not spin.
                tracing::warn!(error = %e, "accept failed");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = Slot::take(&total, &per_client, peer.ip()) else {
            tracing::warn!(%peer, "too many open connections: closed at once");
            drop(tcp);
            continue;
        };
        let app = app.clone();
        let tls = tls.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let _ = tcp.set_nodelay(true);
            match tls {
                None => serve_connection(tcp, app, peer).await,
                Some(acceptor) => {
                    let stream = match tokio::time::timeout(
                        crate::tls::HANDSHAKE_TIMEOUT,
                        acceptor.accept(tcp),
                    )
                    .await
                    {
                        Ok(Ok(s)) => s,
                        Ok(Err(e)) => {
                            tracing::debug!(%peer, error = %e, "TLS handshake failed");
                            return;
                        }
                        Err(_) => return,
                    };
                    serve_connection(stream, app, peer).await
                }
            }
        });
    }
}

impl RunningHub {
    /// Listens on `addr` (`127.0.0.1:0` picks a free port).
    pub async fn start(hub: Hub, addr: SocketAddr) -> std::io::Result<RunningHub> {
        RunningHub::serve(hub, addr, None).await
    }

    /// Listens on `addr` over TLS with `acceptor` (see [`crate::tls_acceptor`]).
    pub async fn start_tls(
        hub: Hub,
        addr: SocketAddr,
        acceptor: tokio_rustls::TlsAcceptor,
    ) -> std::io::Result<RunningHub> {
        RunningHub::serve(hub, addr, Some(acceptor)).await
    }

    async fn serve(
        hub: Hub,
        addr: SocketAddr,
        tls: Option<tokio_rustls::TlsAcceptor>,
    ) -> std::io::Result<RunningHub> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let is_tls = tls.is_some();
        let task = tokio::spawn(accept_loop(listener, router(hub), tls));
        Ok(RunningHub {
            addr,
            task: Some(task),
            tls: is_tls,
        })
    }

    /// `http://ADDR/` or `https://ADDR/`.
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}/", self.addr)
    }

    /// Runs until the task ends (for `hcp hub serve`).
    pub async fn wait(mut self) {
        if let Some(t) = self.task.take() {
            let _ = t.await;
        }
    }
}

impl Drop for RunningHub {
    fn drop(&mut self) {
        if let Some(t) = &self.task {
            t.abort();
        }
    }
}
