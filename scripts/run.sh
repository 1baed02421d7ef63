#!/usr/bin/env bash
# Runs HCP Supervisor. Until the desktop app lands this is the zero-configuration
# demo: an embedded reference hall with generated data is started on 127.0.0.1,
# registered, synced into a local demo database, and summarised.
# Extra arguments go to `hcp demo` (e.g. --serve to keep the demo hall running).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "需要 Rust 工具链（cargo）：见 https://rustup.rs ，安装后重新运行。" >&2
  exit 1
fi
exec cargo run --release --locked -q -p hcp-cli --bin hcp -- demo "$@"
