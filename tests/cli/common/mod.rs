//! Helpers the black-box test binaries share: run `hcp` on a database.
#![allow(dead_code)] // each test binary uses a different part

use std::path::Path;
use std::process::{Command, Output};

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
