//! Helpers the black-box test binaries share: run `hcp` on a database.
#![allow(dead_code)] // each test binary uses a different part

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

/// Runs `hcp --db DB ARGS…` with the token store in a file (tests never write into
/// a developer's real OS keyring).
pub fn hcp(db: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_hcp"))
        .arg("--db")
        .arg(db)
        .args(args)
        .env_remove("HCP_DB")
        .env("HCP_TOKEN_STORE", "file")
        .output()
        .expect("run hcp")
}

/// Bytes as text.
pub fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Runs `hcp` and insists it succeeds; returns its standard output.
pub fn ok(db: &Path, args: &[&str]) -> String {
    let out = hcp(db, args);
    assert!(
        out.status.success(),
        "hcp {args:?}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// [`hcp`] off the async runtime (a hall or hub serves on the test's runtime).
pub async fn run_async(db: &Path, args: &[&str]) -> Output {
    let db = db.to_path_buf();
    let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        hcp(&db, &a)
    })
    .await
    .unwrap()
}

/// [`ok`] off the async runtime.
pub async fn ok_async(db: &Path, args: &[&str]) -> String {
    let out = run_async(db, args).await;
    assert!(
        out.status.success(),
        "hcp {args:?}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// Asserts that the command's stderr contains `needle` (showing all of it if not).
pub fn stderr_says(out: &Output, needle: &str) {
    let e = text(&out.stderr);
    assert!(e.contains(needle), "stderr lacks “{needle}”: {e}");
}

/// Asserts that the command's stdout contains `needle` (showing all of it if not).
pub fn stdout_says(out: &Output, needle: &str) {
    let o = text(&out.stdout);
    assert!(o.contains(needle), "stdout lacks “{needle}”: {o}");
}

/// `hcp hall add URL --token-file FILE`, off the async runtime.
pub async fn add_hall(db: &Path, url: String, token_file: std::path::PathBuf) -> Output {
    let db = db.to_path_buf();
    tokio::task::spawn_blocking(move || {
        hcp(
            &db,
            &[
                "hall",
                "add",
                &url,
                "--token-file",
                token_file.to_str().unwrap(),
            ],
        )
    })
    .await
    .unwrap()
}

/// `hcp hall add` for every hall of the server, each with its token in a file.
pub async fn add_every_hall(srv: &hcp_hall::RunningServer, dir: &Path, db: &Path) {
    for hall in srv.state.hall_ids() {
        let tf = dir.join(format!("{hall}.txt"));
        std::fs::write(&tf, srv.token(&hall).unwrap()).unwrap();
        let out = add_hall(db, srv.base_url(&hall), tf).await;
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
}

/// `hcp hub hall add URL --token-file FILE` on the hub at `pg_url`.
pub async fn hub_add_hall(pg_url: &str, url: &str, token_file: impl AsRef<Path>) {
    let tf = token_file.as_ref().to_str().unwrap();
    hub_admin(pg_url, &["hall", "add", url, "--token-file", tf]).await;
}

/// `hcp hub user add NAME --role ROLE [--hall H] --password-file FILE`.
pub async fn hub_add_user(
    pg_url: &str,
    name: &str,
    role: &str,
    hall: Option<&str>,
    password_file: &str,
) {
    let mut args = vec!["user", "add", name, "--role", role];
    if let Some(h) = hall {
        args.extend(["--hall", h]);
    }
    args.extend(["--password-file", password_file]);
    hub_admin(pg_url, &args).await;
}

/// `hcp hub ARGS…` with the hub's database in `HCP_HUB_PG`.
pub fn hub_command(pg_url: &str, args: &[&str]) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hcp"));
    c.arg("hub").args(args).env("HCP_HUB_PG", pg_url);
    c
}

/// `hcp hub ARGS…` off the async runtime, insisting it succeeds; its output.
pub async fn hub_admin(pg_url: &str, args: &[&str]) -> String {
    let mut c = hub_command(pg_url, args);
    let out = tokio::task::spawn_blocking(move || c.output().unwrap())
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "hcp hub {args:?}\nstdout: {}\nstderr: {}",
        text(&out.stdout),
        text(&out.stderr)
    );
    text(&out.stdout)
}

/// A running `hcp hub serve`, killed with SIGKILL when dropped.
pub struct ServedHub {
    /// The process (its pid for /proc).
    pub child: Child,
    /// The `HCP_HUB_URL` it printed once listening.
    pub url: String,
}

impl Drop for ServedHub {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `hcp hub serve --addr ADDR EXTRA…` and waits for its URL.
pub fn serve_hub(pg_url: &str, addr: &str, extra: &[&str]) -> ServedHub {
    let mut child = hub_command(pg_url, &["serve", "--addr", addr])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("run hcp hub serve");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line
        .trim()
        .strip_prefix("HCP_HUB_URL=")
        .unwrap_or_else(|| panic!("hcp hub serve printed {line:?}"))
        .to_owned();
    ServedHub { child, url }
}

/// A fresh cache with the hall of `srv` registered (`hcp hall add`) and an officer
/// profile (陈静).
pub async fn officer_desk(
    srv: &hcp_hall::RunningServer,
    hall: &str,
) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("hcp.db");
    let tf = dir.path().join("token.txt");
    std::fs::write(&tf, srv.token(hall).unwrap()).unwrap();
    let out = add_hall(&db, srv.base_url(hall), tf).await;
    assert!(out.status.success(), "{}", text(&out.stderr));
    ok_async(&db, &["user", "set", "--name", "陈静", "--role", "officer"]).await;
    (dir, db)
}

/// Plays the hall: appends changes through the reference hall's admin endpoint
/// (its admin token is `admin`).
pub async fn hall_appends(srv: &hcp_hall::RunningServer, hall: &str, changes: serde_json::Value) {
    let resp = reqwest::Client::new()
        .post(format!("http://{}/admin/h/{hall}/changes", srv.addr))
        .bearer_auth("admin")
        .header("content-type", "application/json")
        .body(changes.to_string())
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
}

/// GET `url` with a bearer token, the answer's JSON body (any status).
pub async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    token: impl std::fmt::Display,
) -> T {
    answer_json(http.get(url).bearer_auth(token)).await
}

/// POST `body` as JSON with a bearer token, the answer's JSON body (any status).
pub async fn post_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    url: impl reqwest::IntoUrl,
    token: impl std::fmt::Display,
    body: &serde_json::Value,
) -> T {
    answer_json(http.post(url).bearer_auth(token).json(body)).await
}

async fn answer_json<T: serde::de::DeserializeOwned>(req: reqwest::RequestBuilder) -> T {
    req.send().await.unwrap().json().await.unwrap()
}
