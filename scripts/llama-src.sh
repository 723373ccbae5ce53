#!/bin/bash
# Makes .carry/llama-src.tar.xz, the llama.cpp source the GPU script builds: from the npm package
# node-llama-cpp, which bundles it as llama/gitRelease.bundle. Only what configuring and building
# llama-bench and llama-simple needs (about 7.6 MB). The GPU machine has no internet; this runs here.
set -eu
cd "$(dirname "$0")/.."
VERSION=${1:-3.22.1}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack "node-llama-cpp@$VERSION" >/dev/null && tar xzf "node-llama-cpp-$VERSION.tgz" package/llama/gitRelease.bundle &&
 git clone -q package/llama/gitRelease.bundle llama)
mkdir -p .carry
tar cJf .carry/llama-src.tar.xz -C "$TMP/llama" --exclude='tools/server/public*' --exclude='*.gguf' --exclude='.git' \
  ggml src include common tools vendor cmake examples pocs app CMakeLists.txt
ls -la .carry/llama-src.tar.xz
