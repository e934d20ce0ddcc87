#!/usr/bin/env bash
# Idempotent setup for the web dashboard and its end-to-end test:
#  - uPlot (npm) into third_party/web, copied to web/vendor/ (git-ignored),
#  - playwright-core (npm) into third_party/web,
#  - Debian's chromium (/usr/bin/chromium) for the headless browser test.
# A second run changes nothing and takes a second or two.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
WEB_TP=$ROOT/third_party/web
UPLOT_VER=1.6.32
PW_VER=1.65.1
log() { printf '[web_setup] %s\n' "$*"; }

# ---- chromium -----------------------------------------------------------------
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "[web_setup] /usr/bin/chromium missing (run as root, or apt-get install -y chromium)" >&2
    exit 1
  fi
  log "installing Debian's chromium"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium
else
  log "chromium: present"
fi

# ---- npm packages -------------------------------------------------------------
have_ver() { # have_ver NAME VERSION
  local pj=$WEB_TP/node_modules/$1/package.json
  [ -f "$pj" ] && node -e "process.exit(require('$pj').version==='$2'?0:1)"
}
need=()
have_ver uplot "$UPLOT_VER" || need+=("uplot@$UPLOT_VER")
have_ver playwright-core "$PW_VER" || need+=("playwright-core@$PW_VER")
if ((${#need[@]})); then
  log "npm install ${need[*]}"
  mkdir -p "$WEB_TP"
  [ -f "$WEB_TP/package.json" ] || echo '{"name":"vigil-web-deps","private":true}' > "$WEB_TP/package.json"
  npm install --silent --no-audit --no-fund --prefix "$WEB_TP" "${need[@]}"
else
  log "npm packages: present"
fi

# ---- vendor copy --------------------------------------------------------------
mkdir -p "$ROOT/web/vendor"
for f in uPlot.iife.min.js uPlot.min.css; do
  src=$WEB_TP/node_modules/uplot/dist/$f
  if ! cmp -s "$src" "$ROOT/web/vendor/$f"; then
    cp "$src" "$ROOT/web/vendor/$f"
    log "copied $f to web/vendor/"
  fi
done
log "done"
