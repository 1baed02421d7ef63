//! The hub's HTTP API for desktops (so far: sign in, who am I, sign out). JSON in
//! and out; errors are `{code, message}` with a zh-CN message; bodies are capped.

use std::net::SocketAddr;

use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;

use crate::{Hub, HubError};

/// No request of this API needs more.
const MAX_BODY: usize = 64 * 1024;

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
        HubError::UnknownAccount(_) => (StatusCode::NOT_FOUND, "not_found"),
        _ => {
            tracing::warn!(error = %e, "hub request failed");
            (StatusCode::SERVICE_UNAVAILABLE, "hub_unavailable")
        }
    };
    (
        status,
        Json(serde_json::json!({ "code": code, "message": e.to_string() })),
    )
        .into_response()
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
}

async fn login(State(hub): State<Hub>, body: Option<Json<LoginBody>>) -> Response {
    let Some(Json(b)) = body else {
        return error(HubError::Invalid(
            "请求格式错误：需要 name 与 password".into(),
        ));
    };
    match hub.login(&b.name, &b.password).await {
        Ok(s) => Json(s).into_response(),
        Err(e) => error(e),
    }
}

async fn me(State(hub): State<Hub>, headers: HeaderMap) -> Response {
    let Some(token) = bearer(&headers) else {
        return error(HubError::NoSession);
    };
    match hub.session(token).await {
        Ok(a) => Json(a).into_response(),
        Err(e) => error(e),
    }
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

/// The routes.
pub fn router(hub: Hub) -> Router {
    Router::new()
        .route("/v1/health", get(|| async { "ok" }))
        .route("/v1/login", post(login))
        .route("/v1/me", get(me))
        .route("/v1/logout", post(logout))
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(hub)
}

/// A running hub API.
pub struct RunningHub {
    /// Where it listens.
    pub addr: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
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
        })
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
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
