//! The hub's HTTP API for desktops (so far: sign in, who am I, sign out). JSON in
//! and out; errors are `{code, message}` with a zh-CN message; bodies are capped.

use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::{Hub, HubError};

/// No request of this API needs more.
const MAX_BODY: usize = 64 * 1024;

/// A batch of actions: 500 with notes of a few thousand characters each.
const MAX_ACTIONS_BODY: usize = 8 * 1024 * 1024;

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

async fn login(State(hub): State<Hub>, body: BodyOf<LoginBody>) -> Response {
    let Ok(Json(b)) = body else {
        return malformed("需要 name 与 password");
    };
    reply(hub.login(&b.name, &b.password).await)
}

async fn me(Signed(who): Signed) -> Response {
    Json(who).into_response()
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

async fn actions(
    State(hub): State<Hub>,
    Signed(who): Signed,
    body: BodyOf<ActionsBody>,
) -> Response {
    let Ok(Json(b)) = body else {
        return malformed("需要 {\"actions\": [{id, case_id, expected_version, action}]}");
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
    body: BodyOf<crate::ReportUpload>,
) -> Response {
    let Ok(Json(up)) = body else {
        return malformed("通报上传内容不完整");
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
    body: Result<axum::body::Bytes, axum::extract::rejection::BytesRejection>,
) -> Response {
    let Ok(bytes) = body else {
        return error(HubError::Invalid(format!(
            "交件文件过大或未传完（上限 {} MB）",
            crate::MAX_VISIT_BYTES >> 20
        )));
    };
    reply(hub.upload_visit(&who, Vec::from(bytes)).await)
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

/// The routes.
pub fn router(hub: Hub) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/login", post(login))
        .route("/v1/me", get(me))
        .route("/v1/logout", post(logout))
        .route("/v1/halls", get(halls))
        .route(
            "/v1/actions",
            post(actions).layer(DefaultBodyLimit::max(MAX_ACTIONS_BODY)),
        )
        .route("/v1/cases/changes", get(case_changes))
        .route("/v1/reports/next", post(next_issue))
        .route(
            "/v1/reports",
            get(list_reports)
                .post(upload_report)
                .layer(DefaultBodyLimit::max(
                    crate::MAX_REPORT_BYTES / 3 * 4 + 4 * 1024 * 1024,
                )),
        )
        .route("/v1/reports/{report_id}", get(get_report))
        .route(
            "/v1/visits",
            post(upload_visit).layer(DefaultBodyLimit::max(crate::MAX_VISIT_BYTES)),
        )
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

impl RunningHub {
    /// Listens on `addr` (`127.0.0.1:0` picks a free port).
    pub async fn start(hub: Hub, addr: SocketAddr) -> std::io::Result<RunningHub> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = router(hub);
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                tracing::error!(error = %e, "hub server stopped");
            }
        });
        Ok(RunningHub {
            addr,
            task: Some(task),
            tls: false,
        })
    }

    /// Listens on `addr` over TLS with `acceptor` (see [`crate::tls_acceptor`]).
    pub async fn start_tls(
        hub: Hub,
        addr: SocketAddr,
        acceptor: tokio_rustls::TlsAcceptor,
    ) -> std::io::Result<RunningHub> {
        use hyper_util::rt::{TokioExecutor, TokioIo};
        use tower::Service;
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = router(hub);
        let task = tokio::spawn(async move {
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
                let acceptor = acceptor.clone();
                let app = app.clone();
                tokio::spawn(async move {
                    let tls = match tokio::time::timeout(
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
                    let svc = hyper::service::service_fn(move |req| app.clone().call(req));
                    if let Err(e) =
                        hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                            .serve_connection(TokioIo::new(tls), svc)
                            .await
                    {
                        tracing::debug!(%peer, error = %e, "connection ended");
                    }
                });
            }
        });
        Ok(RunningHub {
            addr,
            task: Some(task),
            tls: true,
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
