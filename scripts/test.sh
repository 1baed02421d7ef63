#!/usr/bin/env bash
# Runs every check and test of HCP Supervisor: formatting and lints (Rust and
# TypeScript), Rust unit and integration tests (the real reference hall on
# 127.0.0.1:0, real SQLite files, `hcp` killed with SIGKILL mid-sync…), Vitest, the
# Playwright browser suite against `hcp serve-ui`, and the desktop smoke test of the
# real Tauri window under Xvfb. Each suite prints its pass/fail count.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "需要 Rust 工具链（cargo）：见 https://rustup.rs ，安装后重新运行。" >&2
  echo "Rust toolchain (cargo) required: install it with rustup, then run again." >&2
  exit 1
fi
./scripts/deps.sh test
export PATH="$HOME/.cargo/bin:$PATH"
target="${CARGO_TARGET_DIR:-$PWD/target}"

echo "== ui: vue-tsc, vite build (the desktop binary embeds ui/dist)"
(cd ui && npx vue-tsc --noEmit && npx vite build --logLevel warn)
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "== cargo clippy (hcp-app without the demo feature)"
cargo clippy -p hcp-app --no-default-features --lib --locked -- -D warnings
echo "== cargo test"
cargo test --workspace --locked
echo "== cargo build (binaries for the end-to-end suites)"
cargo build --workspace --locked --bins
echo "== vitest"
(cd ui && NO_COLOR=1 npx vitest run)
echo "== browser E2E (Playwright + Debian chromium, hcp serve-ui + hcp-hall)"
# Each end-to-end suite has a hard limit: something that hangs fails here, with the
# suite named, instead of running into the CI's own limit.
HCP_BIN_DIR="$target/debug" timeout -k 30 1800 node tests/browser/run.mjs
echo "== desktop smoke (tauri-driver + WebKitWebDriver under Xvfb)"
HCP_BIN_DIR="$target/debug" timeout -k 30 600 xvfb-run -a -s "-screen 0 1366x860x24" \
  node --test --test-reporter=spec tests/desktop/desktop.test.mjs
echo "== 全部检查通过 / all checks passed"
