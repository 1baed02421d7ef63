//! The systemd unit the README and docs/hub-admin.md give an administrator: its
//! `Environment=` lines, read the way systemd reads them (systemd.exec(5):
//! assignments separated by spaces, double-quoted to keep spaces), must give the
//! hub its whole PostgreSQL connection string. An unquoted
//! `Environment=HCP_HUB_PG=host=/run/postgresql user=hcp dbname=hcp_hub` set
//! `HCP_HUB_PG=host=/run/postgresql` only, and the hub connected to database `hcp`.

use std::collections::BTreeMap;

/// One `Environment=` value as systemd splits it into assignments.
fn assignments(value: &str) -> Vec<String> {
    let mut out = vec![];
    let mut cur = String::new();
    let mut quoted: Option<char> = None;
    let mut chars = value.chars();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (None, '"' | '\'') => quoted = Some(c),
            (Some(q), c) if c == q => quoted = None,
            (Some(_), '\\') => {
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            (None, ' ' | '\t') => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            (_, c) => cur.push(c),
        }
    }
    assert!(quoted.is_none(), "unterminated quote in {value:?}");
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The environment of every `[Service]` unit in `text`'s ini blocks.
fn unit_environments(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut units = vec![];
    for block in text.split("```ini").skip(1) {
        let block = block.split("```").next().unwrap();
        let mut env = BTreeMap::new();
        for line in block.lines() {
            if let Some(v) = line.trim().strip_prefix("Environment=") {
                for a in assignments(v) {
                    let (k, v) = a.split_once('=').expect("NAME=value");
                    env.insert(k.to_owned(), v.to_owned());
                }
            }
        }
        units.push(env);
    }
    units
}

#[test]
fn the_documented_unit_gives_the_hub_its_whole_connection_string() {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    for doc in ["README.md", "docs/hub-admin.md"] {
        let text = std::fs::read_to_string(format!("{root}/{doc}")).unwrap();
        let units = unit_environments(&text);
        assert!(!units.is_empty(), "{doc} has a unit");
        for env in units {
            assert_eq!(
                env.get("HCP_HUB_PG").map(String::as_str),
                Some("host=/run/postgresql user=hcp dbname=hcp_hub"),
                "{doc}: {env:?}"
            );
            assert_eq!(
                env.get("HCP_LOG").map(String::as_str),
                Some("info"),
                "{doc}"
            );
        }
    }
    // The parser reads systemd's way: the old, unquoted line loses the database.
    let old = assignments("HCP_HUB_PG=host=/run/postgresql user=hcp dbname=hcp_hub");
    assert_eq!(old[0], "HCP_HUB_PG=host=/run/postgresql");
}

/// Where systemd is installed, its own verifier reads the unit too.
#[test]
fn systemd_analyze_accepts_the_unit_where_available() {
    let Ok(out) = std::process::Command::new("systemd-analyze")
        .arg("--version")
        .output()
    else {
        eprintln!("systemd-analyze not installed: the parser test above stands for it");
        return;
    };
    if !out.status.success() {
        return;
    }
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/../..");
    let text = std::fs::read_to_string(format!("{root}/docs/hub-admin.md")).unwrap();
    let unit = text
        .split("```ini")
        .nth(1)
        .unwrap()
        .split("```")
        .next()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("hcp-hub.service");
    std::fs::write(
        &path,
        unit.replace("/usr/local/bin/hcp", env!("CARGO_BIN_EXE_hcp")),
    )
    .unwrap();
    let out = std::process::Command::new("systemd-analyze")
        .args(["verify", "--man=no"])
        .arg(&path)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        !said.contains("hcp-hub.service:"),
        "systemd-analyze found problems in the unit:\n{said}"
    );
}
