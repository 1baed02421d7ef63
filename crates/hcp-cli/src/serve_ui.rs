//! `hcp serve-ui`: the browser bridge. Serves the built UI (`ui/dist`) and the same
//! hcp-app commands the desktop shell registers, over HTTP on 127.0.0.1 only, so
//! the UI runs in a browser for the end-to-end tests and for development.
//!
//! Every `/api` call needs the random per-run token (header `x-hcp-token`; the
//! event stream takes `?token=` because `EventSource` cannot set headers). The
//! Host header must name the loopback address, so a web page elsewhere cannot
//! reach the bridge through DNS rebinding.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path as UrlPath, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hcp_app::{App, AppError, ErrorCode};
use tower_http::services::{ServeDir, ServeFile};

use crate::CliError;

struct Bridge {
    app: App,
    token: String,
    port: u16,
}

/// Runs the bridge until Ctrl-C. Prints `HCP_UI_URL=<url with token>` on stdout.
pub async fn run(db: &Path, addr: SocketAddr, dist: PathBuf, demo: bool) -> Result<(), CliError> {
    if !addr.ip().is_loopback() {
        return Err(CliError::Msg(format!(
            "serve-ui 只能监听本机回环地址（127.0.0.1），不能监听 {addr}"
        )));
    }
    if !dist.join("index.html").is_file() {
        return Err(CliError::Msg(format!(
            "找不到界面文件 {}：请先构建界面（cd ui && npm ci && npm run build）",
            dist.join("index.html").display()
        )));
    }
    let app = App::open(db).map_err(|e| CliError::Msg(e.message))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| CliError::Msg(format!("无法监听 {addr}：{e}")))?;
    let local = listener
        .local_addr()
        .map_err(|e| CliError::Msg(e.to_string()))?;
    let bridge = Arc::new(Bridge {
        app,
        // 256 bits from the OS generator: the token is the bridge's only lock.
        token: hcp_app::random_token(),
        port: local.port(),
    });
    if demo {
        // `--demo`: the first page already has data.
        bridge
            .app
            .start_demo(true)
            .await
            .map_err(|e| CliError::Msg(e.message))?;
    } else {
        // A demo loaded earlier points at a server that lived in that process.
        let b = bridge.clone();
        tokio::spawn(async move {
            if let Err(e) = b.app.start_demo(false).await {
                tracing::warn!(error = %e, "could not resume the demo hall");
            }
        });
    }
    let router = Router::new()
        .route("/api/events", get(events))
        .route("/api/{command}", post(command))
        .fallback_service(
            ServeDir::new(&dist).not_found_service(ServeFile::new(dist.join("index.html"))),
        )
        .layer(axum::middleware::from_fn_with_state(
            bridge.clone(),
            check_host,
        ))
        // Photos and hand-in bundles travel base64 in the JSON body.
        .layer(axum::extract::DefaultBodyLimit::max(64 * 1024 * 1024))
        .with_state(bridge.clone());
    println!(
        "HCP_UI_URL=http://127.0.0.1:{}/?token={}",
        local.port(),
        bridge.token
    );
    eprintln!(
        "界面已在 http://127.0.0.1:{}/ 提供（仅本机可访问）；按 Ctrl-C 退出。",
        local.port()
    );
    axum::serve(listener, router)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| CliError::Msg(e.to_string()))
}

async fn check_host(
    State(b): State<Arc<Bridge>>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    let host = req
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    let ok = [
        format!("127.0.0.1:{}", b.port),
        format!("localhost:{}", b.port),
    ]
    .iter()
    .any(|h| h == host);
    if !ok {
        return (StatusCode::FORBIDDEN, "forbidden host").into_response();
    }
    next.run(req).await
}

fn error_response(e: AppError) -> Response {
    let status = match e.code {
        ErrorCode::InvalidInput => StatusCode::BAD_REQUEST,
        ErrorCode::NotFound | ErrorCode::UnknownCommand => StatusCode::NOT_FOUND,
        ErrorCode::Busy => StatusCode::CONFLICT,
        ErrorCode::Forbidden => StatusCode::FORBIDDEN,
        // The rules said no (a state, a missing note): the user's to fix.
        ErrorCode::Refused => StatusCode::UNPROCESSABLE_ENTITY,
        ErrorCode::HallUnreachable | ErrorCode::Unauthorized => StatusCode::BAD_GATEWAY,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, axum::Json(e)).into_response()
}

/// Compared in constant time: how long a wrong guess takes says nothing about it.
fn token_ok(b: &Bridge, given: Option<&str>) -> bool {
    given.is_some_and(|g| hcp_app::secrets_equal(g.as_bytes(), b.token.as_bytes()))
}

async fn command(
    State(b): State<Arc<Bridge>>,
    UrlPath(command): UrlPath<String>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    if !token_ok(&b, headers.get("x-hcp-token").and_then(|v| v.to_str().ok())) {
        return error_response(AppError::new(
            ErrorCode::Forbidden,
            "访问令牌无效，请从 hcp serve-ui 打印的地址打开界面",
        ));
    }
    let args = if body.is_empty() {
        serde_json::Value::Null
    } else {
        match serde_json::from_slice(&body) {
            Ok(v) => v,
            Err(e) => {
                return error_response(AppError::invalid(format!("请求不是有效的 JSON：{e}")));
            }
        }
    };
    match b.app.dispatch(&command, args).await {
        Ok(v) => axum::Json(v).into_response(),
        Err(e) => error_response(e),
    }
}

#[derive(serde::Deserialize)]
struct EventsQuery {
    token: Option<String>,
}

async fn events(State(b): State<Arc<Bridge>>, Query(q): Query<EventsQuery>) -> Response {
    if !token_ok(&b, q.token.as_deref()) {
        return error_response(AppError::new(ErrorCode::Forbidden, "访问令牌无效"));
    }
    let rx = b.app.subscribe();
    let stream = futures::stream::unfold(rx, |mut rx| async move {
        loop {
            match rx.recv().await {
                Ok(ev) => {
                    let data = serde_json::to_string(&ev).unwrap_or_default();
                    return Some((
                        Ok::<_, std::convert::Infallible>(Event::default().data(data)),
                        rx,
                    ));
                }
                // A slow reader missed some progress: the next event carries totals.
                Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
            }
        }
    });
    Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response()
}
