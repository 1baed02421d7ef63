#!/usr/bin/env bash
# Runs 好差评督查台 (the desktop app). With nothing configured yet it loads the
# built-in demo halls (an embedded reference hall with generated data), so the app
# is useful in its first minute. Installs the Debian packages it needs when run as
# root, or prints the exact command when not. The first run compiles the app.
#   HCP_DB=/path/to/hcp.db ./scripts/run.sh   — use another cache file
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null 2>&1; then
  echo "需要 Rust 工具链（cargo）：见 https://rustup.rs ，安装后重新运行。" >&2
  exit 1
fi
./scripts/deps.sh build
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; then
  echo "没有图形显示（DISPLAY 未设置）。在无界面的机器上可用：xvfb-run -a ./scripts/run.sh" >&2
  echo "或在浏览器中使用：cargo run -p hcp-cli --bin hcp -- serve-ui --demo" >&2
  exit 1
fi
(cd ui && npx vite build --logLevel warn)
exec cargo run --release --locked -q -p hcp-desktop --features custom-protocol -- --demo "$@"
