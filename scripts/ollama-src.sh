#!/bin/bash
# Makes .carry/ollama.tar.xz, what test/gpu/ollama_checks.sh needs to run Ollama on the GPU
# machine (no Go and no internet there): the `ollama` binary built here from Ollama's Go module
# (cgo, its built-in CPU engine, the release flags of the module's build scripts), and the
# module's files from which the GPU machine builds the ggml backends with CMake (presets "Default"
# and "CUDA 13"): CMakeLists.txt, CMakePresets.json and ml/backend/ggml/ggml, as the module's
# Dockerfile copies them. Usage: scripts/ollama-src.sh [VERSION]   (default 0.17.4)
#
# The module zip leaves out four headers that only the cgo build (llama/llama.cpp) includes:
# vendor/nlohmann/json.hpp, json_fwd.hpp, stb/stb_image.h and miniaudio/miniaudio.h. They come
# from the llama.cpp source of the npm package node-llama-cpp: from .carry/llama-src.tar.xz when
# scripts/llama-src.sh has made it, else from the package's llama/gitRelease.bundle.
set -eu
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSION=${1:-0.17.4}
NLC_VERSION=${NLC_VERSION:-3.22.1}
TMP=$(mktemp -d)
trap 'chmod -R u+w "$TMP" 2>/dev/null; rm -rf "$TMP"' EXIT

dir=$(go mod download -json "github.com/ollama/ollama@v$VERSION" | jq -r .Dir)
[ -d "$dir" ] || { echo "go mod download gave no module folder" >&2; exit 1; }
SRC=$TMP/ollama
cp -r "$dir" "$SRC"
chmod -R u+w "$SRC"

# The four headers, where the cgo flags of llama/llama.cpp look for them (-I…/llama.cpp/vendor).
headers=(vendor/nlohmann/json.hpp vendor/nlohmann/json_fwd.hpp vendor/stb/stb_image.h vendor/miniaudio/miniaudio.h)
mkdir -p "$TMP/llama"
if [ -f .carry/llama-src.tar.xz ]; then
  tar xJf .carry/llama-src.tar.xz -C "$TMP/llama" "${headers[@]}"
else
  (cd "$TMP" && npm pack "node-llama-cpp@$NLC_VERSION" >/dev/null &&
   tar xzf "node-llama-cpp-$NLC_VERSION.tgz" package/llama/gitRelease.bundle &&
   rm -rf llama && git clone -q --no-checkout package/llama/gitRelease.bundle llama &&
   cd llama && git checkout -q HEAD -- "${headers[@]}")
fi
for h in "${headers[@]}"; do
  mkdir -p "$SRC/llama/llama.cpp/$(dirname "$h")"
  cp "$TMP/llama/$h" "$SRC/llama/llama.cpp/$h"
done

# The binary: cgo, -trimpath, PIE, stripped, version and release mode set, as the module's build
# scripts and its Dockerfile's build stage make it.
OUTDIR=$TMP/pack
mkdir -p "$OUTDIR/bin" "$OUTDIR/src/ml/backend/ggml"
(cd "$SRC" && CGO_ENABLED=1 go build -trimpath -buildmode=pie -buildvcs=false \
  -ldflags="-w -s -X=github.com/ollama/ollama/version.Version=$VERSION -X=github.com/ollama/ollama/server.mode=release" \
  -o "$OUTDIR/bin/ollama" .)
"$OUTDIR/bin/ollama" --version 2>&1 | tee "$TMP/version.txt"
grep -q "client version is $VERSION" "$TMP/version.txt" || { echo "ollama --version does not say $VERSION" >&2; exit 1; }

# What CMake reads on the GPU machine (the module's Dockerfile copies exactly these).
cp "$SRC/CMakeLists.txt" "$SRC/CMakePresets.json" "$OUTDIR/src/"
cp -r "$SRC/ml/backend/ggml/ggml" "$OUTDIR/src/ml/backend/ggml/"
echo "$VERSION" >"$OUTDIR/VERSION"

mkdir -p .carry
tar cJf .carry/ollama.tar.xz -C "$OUTDIR" --owner=0 --group=0 VERSION bin src
ls -la "$ROOT/.carry/ollama.tar.xz"
