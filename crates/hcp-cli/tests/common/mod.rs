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
