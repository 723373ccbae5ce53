#!/bin/bash
# vgpu on a real GPU, in one call of the device tool (run from the repository root, with
# build/out carried):  bash test/gpu/run.sh
# Starts vgpu-server with the real backend, runs every check natively and through the vgpu stubs
# in a GPU-less namespace (test/gpu/gpuless.sh), compares, prints a table last, logs under $OUT.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/out
OUT=${OUT:-/tmp/vgpu-gpu-out}
mkdir -p "$OUT"
SOCK=/tmp/vgpu-gpu.sock
export VGPU_SERVER=unix://$SOCK
GPULESS="$ROOT/test/gpu/gpuless.sh"
RESULTS=()

log() { echo "== $*"; }

{
  log "host"
  date -u +%Y-%m-%dT%H:%MZ
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  uname -r; ldd --version | head -1
} 2>&1 | tee "$OUT/host.txt"

rm -f "$SOCK"
"$BIN/vgpu-server" --listen "unix://$SOCK" --backend real >"$OUT/server.log" 2>&1 &
SERVER=$!
for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
"$BIN/vgpu" ping || { echo "server did not come up"; cat "$OUT/server.log"; exit 1; }

# check NAME FILTER NATIVE_CMD... -- VGPU_CMD...: runs both, compares outputs after FILTER.
check() {
  local name=$1 filter=$2; shift 2
  local native=() vgpu=()
  while [ "$1" != "--" ]; do native+=("$1"); shift; done; shift
  vgpu=("$@")
  timeout 300 "${native[@]}" >"$OUT/$name.native.txt" 2>"$OUT/$name.native.err"; local rn=$?
  timeout 300 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="$VGPU_SERVER" "${vgpu[@]}" >"$OUT/$name.vgpu.txt" 2>"$OUT/$name.vgpu.err"; local rv=$?
  local verdict
  if [ $rn -ne 0 ] || [ $rv -ne 0 ]; then verdict="FAIL (rc native $rn, vgpu $rv)"
  elif diff <(eval "$filter" <"$OUT/$name.native.txt") <(eval "$filter" <"$OUT/$name.vgpu.txt") >"$OUT/$name.diff"; then verdict="identical"
  else verdict="DIFFERENT (see $name.diff)"; fi
  log "$name: $verdict"; cat "$OUT/$name.vgpu.txt"; cat "$OUT/$name.vgpu.err" | head -20
  RESULTS+=("$(printf '%-28s %s' "$name" "$verdict")")
}

# The GPU-less namespace really has no GPU: the real driver cannot be reached from it.
"$GPULESS" bash -c 'ls -l /dev/nvidia0 2>&1 | head -1; (nvidia-smi -L 2>&1 | head -1) || true' >"$OUT/gpuless.txt" 2>&1
RESULTS+=("$(printf '%-28s %s' "gpuless namespace" "$(tr '\n' ' ' <"$OUT/gpuless.txt" | cut -c1-90)")")

# 1. Driver API device query + memory round trip (same binary; natively it finds the real libcuda).
check devicequery 'grep -v "memory free/total"' "$BIN/devicequery" -- "$BIN/devicequery"

kill $SERVER; wait $SERVER 2>/dev/null
cp "$OUT/server.log" "$OUT/server.txt" 2>/dev/null
echo
echo "== vgpu GPU checks: $(head -2 "$OUT/host.txt" | tail -1)"
for r in "${RESULTS[@]}"; do echo "$r"; done
