#!/usr/bin/env bash
# Installs what building and testing HCP Supervisor needs on Debian/Ubuntu, only what
# is missing: system packages (as root; otherwise prints the exact command), the UI's
# npm packages, and tauri-driver for the desktop smoke test.
#   scripts/deps.sh build    — compile the Rust workspace and the desktop app
#   scripts/deps.sh test     — build + browser and desktop E2E (Chromium, Xvfb, WebKitWebDriver)
set -euo pipefail
cd "$(dirname "$0")/.."
what="${1:-test}"

build_pkgs=(pkg-config build-essential libdbus-1-dev libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev
  librsvg2-dev libayatana-appindicator3-dev libxdo-dev file sqlite3 fonts-noto-cjk)
test_pkgs=(xvfb xauth webkit2gtk-driver chromium imagemagick poppler-utils postgresql openssl)
pkgs=("${build_pkgs[@]}")
[ "$what" = test ] && pkgs+=("${test_pkgs[@]}")

missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    echo "== 安装系统软件包：${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "缺少系统软件包，请先运行 / missing system packages, run:" >&2
    echo "  sudo apt-get install -y --no-install-recommends ${missing[*]}" >&2
    exit 1
  fi
fi

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "需要 Node.js 20+ 与 npm / Node.js 20+ and npm are required (apt-get install nodejs npm)" >&2
  exit 1
fi
# npm ci when node_modules is missing or older than the lock file.
if [ ! -d ui/node_modules ] || [ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]; then
  echo "== npm ci (ui/)"
  (cd ui && npm ci --no-audit --no-fund --loglevel=error)
fi

if [ "$what" = test ] && ! command -v tauri-driver >/dev/null 2>&1 && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
  echo "== cargo install tauri-driver"
  cargo install tauri-driver --version 2.1.0 --locked --quiet
fi
