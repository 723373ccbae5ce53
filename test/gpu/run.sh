#!/bin/bash
# vgpu on a real GPU, in one call of the device tool (run from the repository root, with
# build/out carried):  bash test/gpu/run.sh
# Starts vgpu-server with the real backend, runs every check natively and through the vgpu stubs
# in a GPU-less namespace (test/gpu/gpuless.sh), compares, prints a table last, logs under $OUT.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BIN=$ROOT/build/out
OUT=${OUT:-/tmp/vgpu-gpu-out}
LOGS=/tmp/vgpu-gpu-logs   # everything; $OUT gets logs.tgz and summary.txt (the tool returns 8 files at most)
rm -rf "$LOGS"; mkdir -p "$OUT" "$LOGS"
SOCK=/tmp/vgpu-gpu.sock
export VGPU_SERVER=unix://$SOCK
GPULESS="$ROOT/test/gpu/gpuless.sh"
RESULTS=()

log() { echo "== $*"; }

# finish: stops the server, prints the table and leaves it and the logs in $OUT; also on SIGTERM
# (run it under `timeout` shorter than the device call's limit: what finished is still reported).
finish() {
  trap - TERM
  [ -n "${SERVER:-}" ] && { kill $SERVER; wait $SERVER 2>/dev/null; }
  [ -n "${MSERVER:-}" ] && { kill $MSERVER; wait $MSERVER 2>/dev/null; }
  {
    echo
    echo "== vgpu GPU checks: $(sed -n 2,3p "$LOGS/host.txt" | tr '\n' ' ')"
    for r in "${RESULTS[@]}"; do echo "$r"; done
  } | tee "$LOGS/summary.txt"
  cp "$LOGS/summary.txt" "$OUT/summary.txt"
  tar czf "$OUT/logs.tgz" -C "$LOGS" .
}
trap 'RESULTS+=("STOPPED by SIGTERM (time limit) after $SECONDS s"); finish; exit 124' TERM

{
  log "host"
  date -u +%Y-%m-%dT%H:%MZ
  nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
  uname -r; ldd --version | head -1
  # the host's CPUs and their load: the timing rows depend on both (a busy or small host wakes
  # threads late)
  echo "cpus $(nproc): $(lscpu 2>/dev/null | awk -F': *' '/^Model name|^Thread\(s\) per core|^Core\(s\) per socket|^Socket\(s\)/ { printf "%s %s; ", $1, $2 }')load $(cut -d' ' -f1-3 /proc/loadavg)"
} 2>&1 | tee "$LOGS/host.txt"

rm -f "$SOCK"
"$BIN/vgpu-server" --listen "unix://$SOCK" --backend real >"$LOGS/server.log" 2>&1 &
SERVER=$!
for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
"$BIN/vgpu" ping || { echo "server did not come up"; cat "$LOGS/server.log"; exit 1; }

# check NAME FILTER NATIVE_CMD... -- VGPU_CMD...: runs both, compares outputs after FILTER.
check() {
  local name=$1 filter=$2; shift 2
  local native=() vgpu=()
  while [ "$1" != "--" ]; do native+=("$1"); shift; done; shift
  vgpu=("$@")
  timeout 300 "${native[@]}" >"$LOGS/$name.native.txt" 2>"$LOGS/$name.native.err"; local rn=$?
  timeout 300 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="$VGPU_SERVER" "${vgpu[@]}" >"$LOGS/$name.vgpu.txt" 2>"$LOGS/$name.vgpu.err"; local rv=$?
  local verdict
  # Same exit status and the same output (after FILTER); a check that fails natively too (a
  # negative test) passes when it fails the same way.
  if [ $rn -ne $rv ] || { [ $rn -ne 0 ] && [ "${EXPECT_FAIL:-}" != "$name" ]; }; then verdict="FAIL (rc native $rn, vgpu $rv)"
  elif diff <(eval "$filter" <"$LOGS/$name.native.txt") <(eval "$filter" <"$LOGS/$name.vgpu.txt") >"$LOGS/$name.diff"; then
    verdict="identical"; [ $rn -ne 0 ] && verdict="identical (both exit $rn, as expected)"
  else verdict="DIFFERENT (see $name.diff)"; fi
  log "$name: $verdict"; cat "$LOGS/$name.vgpu.txt"; cat "$LOGS/$name.vgpu.err" | head -20
  RESULTS+=("$(printf '%-28s %s' "$name" "$verdict")")
}

# aux_server SOCK LOG PREFIX...: a second vgpu-server (real backend) on SOCK, started through
# PREFIX (env settings, taskset), its pid in aux_ps; returns once the socket exists.
aux_server() {
  local sock=$1 logf=$2; shift 2
  rm -f "$sock"
  "$@" "$BIN/vgpu-server" --listen "unix://$sock" --backend real >"$logf" 2>&1 &
  aux_ps=$!
  for aux_i in $(seq 50); do [ -S "$sock" ] && break; sleep 0.1; done
}
# worker_stats LOG [CHARS]: the last worker-stats line in a server's log (the worker logs it as
# its session ends, just after the client exits), cut to CHARS (400)
worker_stats() {
  sleep 0.5
  grep -o "worker stats: .*" "$1" | tail -n 1 | cut -c1-"${2:-400}"
}
# workers_gone WHAT: waits (5 s at most) until no worker process of any server is left, and logs
# how long that took: a timed check must not share the GPU with the teardown of the session
# before it (natively a program's own teardown ends before it exits; a worker's goes on after
# its client has)
workers_gone() {
  local t0=$SECONDS i
  for i in $(seq 50); do pgrep -f "vgpu-server worker" >/dev/null || break; sleep 0.1; done
  log "before $1: workers gone after $i look(s) ($((SECONDS - t0)) s; $(pgrep -fc "vgpu-server worker") left)"
}

# The GPU-less namespace really has no GPU: the real driver cannot be reached from it.
"$GPULESS" bash -c 'ls -l /dev/nvidia0 2>&1 | head -1; (nvidia-smi -L 2>&1 | head -1) || true' >"$LOGS/gpuless.txt" 2>&1
RESULTS+=("$(printf '%-28s %s' "gpuless namespace" "$(tr '\n' ' ' <"$LOGS/gpuless.txt" | cut -c1-90)")")

PRE="$BIN/libcudart.so.13:$BIN/libcuda.so.1:$BIN/libnvidia-ml.so.1"
PRE_BLAS="$PRE:$BIN/libcublas.so.13:$BIN/libcublasLt.so.13"
# torch_compute: PyTorch computing (kernels, cuBLAS, cuBLASLt), the cuBLAS stubs preloaded too;
# then its double/complex products, matrix-vector products and triangular solves (cuBLAS)
torch_compute() {
  check torch-compute cat python3 "$ROOT/test/gpu/torch_matmul.py" -- env LD_PRELOAD="$PRE_BLAS" python3 "$ROOT/test/gpu/torch_matmul.py"
  check torch-blas cat python3 "$ROOT/test/gpu/torch_blas.py" -- env LD_PRELOAD="$PRE_BLAS" python3 "$ROOT/test/gpu/torch_blas.py"
  grep -q "MISMATCH" "$LOGS/torch-blas.vgpu.txt" && torch_blas_logged
}
# torch_blas_logged: after a mismatch, torch_blas.py once natively and up to 3 times through a
# server of its own, each with cuBLAS's call log (CUBLAS_LOGINFO_DBG=1: every call with its
# arguments, host scalars' values among them), in $LOGS/cublas-*.log; prints each run's
# mismatches and the first triangular solve's log entry of each side.
torch_blas_logged() {
  local sock=/tmp/vgpu-blas-log.sock k
  CUBLAS_LOGINFO_DBG=1 CUBLAS_LOGDEST_DBG="$LOGS/cublas-native.log" timeout 120 python3 "$ROOT/test/gpu/torch_blas.py" \
    >"$LOGS/torch-blas-logged.native.txt" 2>&1
  for k in 1 2 3; do
    aux_server "$sock" "$LOGS/torch-blas-logged-server-$k.log" env CUBLAS_LOGINFO_DBG=1 CUBLAS_LOGDEST_DBG="$LOGS/cublas-vgpu-$k.log"
    timeout 120 "$GPULESS" env LD_LIBRARY_PATH="$BIN" LD_PRELOAD="$PRE_BLAS" VGPU_SERVER="unix://$sock" python3 "$ROOT/test/gpu/torch_blas.py" \
      >"$LOGS/torch-blas-logged.vgpu-$k.txt" 2>&1
    kill $aux_ps; wait $aux_ps 2>/dev/null
    log "torch-blas with cuBLAS's log, run $k: $(grep -c MISMATCH "$LOGS/torch-blas-logged.vgpu-$k.txt") mismatches"
  done
  for f in "$LOGS/cublas-native.log" "$LOGS/cublas-vgpu-1.log"; do
    log "the first cublasStrsm_v2 in $(basename "$f")"; grep -m1 -A16 "cublasStrsm_v2" "$f"
  done
}

# VGPU_ONLY_LLAMA=1 skips checks 1-5 but PyTorch's computing (a short run for llama.cpp work, the
# performance table, and the cuBLAS paths PyTorch takes).
if [ "${VGPU_ONLY_LLAMA:-}" != 1 ]; then
# 1. Driver API device query + memory round trip (same binary; natively it finds the real libcuda).
check devicequery 'grep -v "memory free/total"' "$BIN/devicequery" -- "$BIN/devicequery"

# 2. Ollama's / ggml's discovery sequence, both passes (pass 2 with CUDA_VISIBLE_DEVICES=GPU-<uuid>).
check discovery 'grep -v "^free:"' env LD_LIBRARY_PATH=/usr/local/cuda/lib64 "$BIN/vgpu-discover" -- "$BIN/vgpu-discover"

# CUDA_VISIBLE_DEVICES in index form, and naming no device (discovery must fail the same way).
check discovery-cvd-index 'grep -v "^free:"' env CUDA_VISIBLE_DEVICES=0 LD_LIBRARY_PATH=/usr/local/cuda/lib64 "$BIN/vgpu-discover" -- env CUDA_VISIBLE_DEVICES=0 "$BIN/vgpu-discover"
EXPECT_FAIL=discovery-cvd-none check discovery-cvd-none 'grep -v "^free:"' env CUDA_VISIBLE_DEVICES=GPU-ffffffff-0000-0000-0000-000000000000 LD_LIBRARY_PATH=/usr/local/cuda/lib64 "$BIN/vgpu-discover" -- env CUDA_VISIBLE_DEVICES=GPU-ffffffff-0000-0000-0000-000000000000 "$BIN/vgpu-discover"

# 3. NVML through nvidia-ml-py, and the real nvidia-smi through the NVML stub.
check pynvml cat python3 "$ROOT/test/gpu/nvml_list.py" -- python3 "$ROOT/test/gpu/nvml_list.py"
. "$ROOT/test/gpu/smi_checks.sh"

# 4. PyTorch with the stubs preloaded.
check torch cat python3 "$ROOT/test/gpu/torch_props.py" -- env LD_PRELOAD="$PRE" python3 "$ROOT/test/gpu/torch_props.py"
torch_compute

# 4c. Two vgpu-servers on the one GPU as one device list (VGPU_SERVER=A,B): the list through the
# three APIs, copies between the two, PyTorch on cuda:0 and cuda:1 (test/gpu/multi_checks.sh).
. "$ROOT/test/gpu/multi_checks.sh"

# 4b. A memory limit: a second server with mem_limit = 4GiB; PyTorch, cudart and NVML through the
# stubs must all report the limit as the device's memory, and a tensor past it must raise
# torch.OutOfMemoryError (test/gpu/quota.py). Natively the same APIs report the whole device.
QSOCK=/tmp/vgpu-quota.sock; QLIMIT=$((4 << 30))
rm -f "$QSOCK"
"$BIN/vgpu-server" --listen "unix://$QSOCK" --backend real --mem-limit 4GiB >"$LOGS/server-quota.log" 2>&1 &
QSERVER=$!
for i in $(seq 50); do [ -S "$QSOCK" ] && break; sleep 0.1; done
timeout 300 "$GPULESS" env LD_PRELOAD="$PRE_BLAS" VGPU_SERVER="unix://$QSOCK" VGPU_EXPECT_LIMIT=$QLIMIT \
  python3 "$ROOT/test/gpu/quota.py" >"$LOGS/quota.vgpu.txt" 2>&1; rq=$?
python3 -c 'import torch; f, t = torch.cuda.mem_get_info(); print("native torch.cuda.mem_get_info: free %d total %d" % (f, t))' >"$LOGS/quota.native.txt" 2>&1
kill $QSERVER; wait $QSERVER 2>/dev/null
log "quota (mem_limit 4GiB): rc $rq"; cat "$LOGS/quota.native.txt" "$LOGS/quota.vgpu.txt"
q_native=$(awk '/^native/ {printf "%.0f MiB", $NF / 1048576}' "$LOGS/quota.native.txt")
q_over=$(grep -c "^PASS quota over the limit" "$LOGS/quota.vgpu.txt")
if [ $rq -eq 0 ] && grep -q "^PASS quota$" "$LOGS/quota.vgpu.txt"; then
  q_verdict="PASS: torch, cudart, NVML v1/v2, totalGlobalMem all report 4096 MiB (native: ${q_native:-?}); over-limit tensor -> OutOfMemoryError ($q_over)"
else q_verdict="FAIL (rc $rq; $(grep -m1 '^FAIL' "$LOGS/quota.vgpu.txt" | cut -c1-100))"; fi
RESULTS+=("$(printf '%-28s %s' "quota mem_limit 4GiB" "$q_verdict")")

# 5. Compiled CUDA programs, CuPy and the benchmark (native vs vgpu).
. "$ROOT/test/gpu/exec_checks.sh"
else
  torch_compute
  # only the programs, which the performance table runs (test/gpu/perf_table.sh)
  XC_BUILD_ONLY=1 . "$ROOT/test/gpu/exec_checks.sh"
fi

# 6. llama.cpp (built here from the bundled source; skipped without it), with the performance
# table; VGPU_SKIP_LLAMA=1 runs the table's other rows alone (VGPU_SKIP_TRANSPORT=1: not those).
if [ "${VGPU_SKIP_LLAMA:-}" != 1 ]; then . "$ROOT/test/gpu/llama_checks.sh"
elif [ "${VGPU_SKIP_TRANSPORT:-}" != 1 ]; then . "$ROOT/test/gpu/perf_table.sh"; fi

# 7. Ollama itself, enabled by `vgpu enable ollama` (needs .carry/ollama.tar.xz; its backend build
# takes about 6 minutes, so on a machine without the built layout it is a call of its own:
# `bash test/gpu/ollama_checks.sh`, then OLLAMA_REUSE=1 here on the same warm machine).
[ "${VGPU_SKIP_OLLAMA:-}" = 1 ] || . "$ROOT/test/gpu/ollama_checks.sh"

finish
