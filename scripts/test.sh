#!/usr/bin/env bash
# Runs every check and test of HCP Supervisor: formatting, lints, unit and
# integration tests (the real reference hall server on 127.0.0.1:0, real SQLite
# files, the `hcp` binary killed with SIGKILL mid-sync…).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "需要 Rust 工具链（cargo）：见 https://rustup.rs ，安装后重新运行。" >&2
  echo "Rust toolchain (cargo) required: install it with rustup, then run again." >&2
  exit 1
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
