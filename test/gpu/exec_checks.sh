# shellcheck shell=bash
# Compiled CUDA programs, CuPy and the benchmark, natively and through vgpu.
# Sourced by test/gpu/run.sh after its own checks, while vgpu-server still runs; it uses run.sh's
# check(), log(), RESULTS and $ROOT $BIN $LOGS $OUT $GPULESS $VGPU_SERVER. Programs are built here
# with nvcc into $LOGS/bin (dynamic cudart, so one binary loads the real libcudart natively and
# vgpu's through LD_LIBRARY_PATH=$BIN). Everything stops starting new work after XC_BUDGET seconds.
# Can also run alone on the GPU machine for native-only runs of the programs:
#   XC_NATIVE_ONLY=1 bash -c 'ROOT=$PWD LOGS=/tmp/x; . test/gpu/exec_checks.sh'
# XC_BUILD_ONLY=1 stops after building them.

XC_BUDGET=${XC_BUDGET:-230}
XC_START=$SECONDS
XC_SRC=$ROOT/test/gpu
XC_BIN=$LOGS/bin
. "$XC_SRC/nvcc.sh"
XC_CUDALIB=/usr/local/cuda/lib64
mkdir -p "$XC_BIN"

if ! declare -F log >/dev/null; then log() { echo "== $*"; }; fi
if [ -n "${XC_NATIVE_ONLY:-}" ]; then
  RESULTS=()
  BIN=${BIN:-$ROOT/build/out}
  # native-only stand-in for run.sh's check: runs the native command, prints its output
  check() {
    local name=$1; shift 2
    local native=()
    while [ "$1" != "--" ]; do native+=("$1"); shift; done
    "${native[@]}" >"$LOGS/$name.native.txt" 2>"$LOGS/$name.native.err"; local rn=$?
    log "$name: native rc $rn"; cat "$LOGS/$name.native.txt"; head -20 "$LOGS/$name.native.err"
    RESULTS+=("$(printf '%-28s %s' "$name" "native rc $rn")")
  }
fi

# xc_build NAME CMD...: runs one compiler command, keeps its output in $XC_BIN/NAME.build.log
xc_build() {
  local name=$1; shift
  if "$@" >"$XC_BIN/$name.build.log" 2>&1; then touch "$XC_BIN/$name.ok"; fi
}

log "building the CUDA test programs with $XC_NVCC"
rm -f "$XC_BIN"/*.ok
xc_pids=()
xc_build mem "$XC_NVCC" "${XC_FLAGS[@]}" -o "$XC_BIN/mem" "$XC_SRC/cuda/mem.cu" -L"$XC_CUDALIB/stubs" -lcuda & xc_pids+=($!)
xc_build kernels "$XC_NVCC" "${XC_FLAGS[@]}" -o "$XC_BIN/kernels" "$XC_SRC/cuda/kernels.cu" & xc_pids+=($!)
xc_build streams "$XC_NVCC" "${XC_FLAGS[@]}" -o "$XC_BIN/streams" "$XC_SRC/cuda/streams.cu" & xc_pids+=($!)
xc_build streams_ptds "$XC_NVCC" "${XC_FLAGS[@]}" --default-stream per-thread -o "$XC_BIN/streams_ptds" "$XC_SRC/cuda/streams.cu" & xc_pids+=($!)
xc_build errors "$XC_NVCC" "${XC_FLAGS[@]}" -o "$XC_BIN/errors" "$XC_SRC/cuda/errors.cu" & xc_pids+=($!)
xc_build threads "$XC_NVCC" "${XC_FLAGS[@]}" -o "$XC_BIN/threads" "$XC_SRC/cuda/threads.cu" & xc_pids+=($!)
xc_build driver "$XC_NVCC" -x c++ -cudart none -O2 -std=c++17 -o "$XC_BIN/driver" "$XC_SRC/cuda/driver.cu" -L"$XC_CUDALIB/stubs" -lcuda & xc_pids+=($!)
xc_build driver_cubin "$XC_NVCC" -cubin -arch=sm_90 -o "$XC_BIN/driver_kernels.cubin" "$XC_SRC/cuda/driver_kernels.cu" & xc_pids+=($!)
xc_build driver_ptx "$XC_NVCC" -ptx -arch=sm_90 -o "$XC_BIN/driver_kernels.ptx" "$XC_SRC/cuda/driver_kernels.cu" & xc_pids+=($!)
xc_build driver_fatbin "$XC_NVCC" -fatbin -arch=sm_90 -o "$XC_BIN/driver_kernels.fatbin" "$XC_SRC/cuda/driver_kernels.cu" & xc_pids+=($!)
# the same programs with the runtime linked statically (nvcc's default), which reaches the driver
# through its private export tables (shims/cuda/exporttable.c) and cuLibrary* calls
for xc_p in mem kernels streams errors; do
  xc_l=(); [ $xc_p = mem ] && xc_l=(-L"$XC_CUDALIB/stubs" -lcuda)
  xc_build ${xc_p}_static "$XC_NVCC" -arch=sm_90 -cudart static -O2 -std=c++17 -o "$XC_BIN/${xc_p}_static" "$XC_SRC/cuda/$xc_p.cu" "${xc_l[@]}" & xc_pids+=($!)
done
xc_build bench "$XC_NVCC" "${XC_FLAGS[@]}" -o "$XC_BIN/bench" "$XC_SRC/bench/bench.cu" -lcuda & xc_pids+=($!)
wait "${xc_pids[@]}"  # only the builds: run.sh's vgpu-server is a child too
for xc_f in "$XC_BIN"/*.build.log; do
  xc_n=$(basename "$xc_f" .build.log)
  if [ -e "$XC_BIN/$xc_n.ok" ]; then
    echo "built $xc_n"
    grep -i "warning" "$xc_f" | head -5
  else
    echo "BUILD FAILED: $xc_n"
    cat "$xc_f"
    RESULTS+=("$(printf '%-28s %s' "build $xc_n" "FAILED (nvcc, see bin/$xc_n.build.log)")")
  fi
done
log "builds took $((SECONDS - XC_START)) s"
# XC_BUILD_ONLY=1 (run.sh's VGPU_ONLY_LLAMA): the programs only, for the performance table
[ "${XC_BUILD_ONLY:-}" = 1 ] && return

# xc_left: seconds left of the budget
xc_left() { echo $((XC_BUDGET - (SECONDS - XC_START))); }

# xc_run NAME FILTER LIMIT PROG ARGS...: check() with a per-run time limit, if the budget allows
# and the program was built. The native side finds the real libcudart in $XC_CUDALIB.
xc_run() {
  local name=$1 filter=$2 limit=$3; shift 3
  local left; left=$(xc_left)
  if [ ! -x "$1" ]; then
    log "$name: not built"
    RESULTS+=("$(printf '%-28s %s' "$name" "NOT BUILT")")
    return
  fi
  if [ "$left" -lt 20 ]; then
    log "$name: skipped (time budget)"
    RESULTS+=("$(printf '%-28s %s' "$name" "SKIPPED (time budget)")")
    return
  fi
  [ "$limit" -gt $((left / 2)) ] && limit=$((left / 2))
  check "$name" "$filter" timeout "$limit" env LD_LIBRARY_PATH="$XC_CUDALIB" "$@" -- timeout "$limit" "$@"
}

xc_run cuda-mem 'grep -v "^managed:"' 45 "$XC_BIN/mem"
xc_run cuda-kernels cat 45 "$XC_BIN/kernels"
xc_run cuda-streams cat 45 "$XC_BIN/streams"
xc_run cuda-streams-ptds cat 45 "$XC_BIN/streams_ptds"
xc_run cuda-errors cat 45 "$XC_BIN/errors"
# 8 threads, each launching a 1 ms kernel into its own stream and synchronising it, 20 times
# (decision 14): the results compared, and the aggregate time (median of 3 rounds) natively and
# through vgpu side by side; target: vgpu's aggregate rate >= 80 % of native.
# (VGPU_STATS=1: the client's wake-ups, in the log, for a slow run; natively it changes nothing)
workers_gone cuda-threads
xc_run cuda-threads 'grep -v "^metric"' 60 env VGPU_STATS=1 "$XC_BIN/threads"
log "cuda-threads through vgpu, the client: $(grep -o "threads woken for a reply[^;]*" "$LOGS/cuda-threads.vgpu.err" 2>/dev/null)"
xc_tn=$(awk '$2 == "threads8_ms" {print $3}' "$LOGS/cuda-threads.native.txt" 2>/dev/null)
xc_tv=$(awk '$2 == "threads8_ms" {print $3}' "$LOGS/cuda-threads.vgpu.txt" 2>/dev/null)
if [ -n "$xc_tn" ] && [ -n "$xc_tv" ]; then
  RESULTS+=("$(printf '%-28s %s' "threads 8x20 1ms kernels" "$(awk -v n="$xc_tn" -v v="$xc_tv" 'BEGIN { p = 100 * n / v; printf "native %.1f ms, vgpu %.1f ms (median of 3): %.0f%% of native, target >= 80%%: %s", n, v, p, (p >= 80 ? "PASS" : "MISS") }')")")
else
  RESULTS+=("$(printf '%-28s %s' "threads 8x20 1ms kernels" "no timing (see cuda-threads logs)")")
fi
xc_run static-cudart-mem 'grep -v "^managed:"' 45 "$XC_BIN/mem_static"
xc_run static-cudart-kernels cat 45 "$XC_BIN/kernels_static"
xc_run static-cudart-streams cat 45 "$XC_BIN/streams_static"
xc_run static-cudart-errors cat 45 "$XC_BIN/errors_static"
if [ -e "$XC_BIN/driver_cubin.ok" ] && [ -e "$XC_BIN/driver_ptx.ok" ] && [ -e "$XC_BIN/driver_fatbin.ok" ]; then
  xc_run cuda-driver cat 45 "$XC_BIN/driver" "$XC_BIN"
else
  RESULTS+=("$(printf '%-28s %s' "cuda-driver" "NOT BUILT (device code)")")
fi

# cuBLAS: the GEMM family ggml uses (exact small-integer data, compared with a CPU reference).
if gcc -O2 -I"$ROOT/include" -o "$XC_BIN/gemm_native" "$ROOT/test/gpu/cublas/gemm_check.c" -L"$XC_CUDALIB" -lcublas -lcudart -Wl,-rpath,"$XC_CUDALIB" 2>"$LOGS/gemm.build.log" &&
   gcc -O2 -I"$ROOT/include" -o "$XC_BIN/gemm_vgpu" "$ROOT/test/gpu/cublas/gemm_check.c" -L"$BIN" -l:libcublas.so.13 -l:libcudart.so.13 2>>"$LOGS/gemm.build.log"; then
  check cublas-gemm cat "$XC_BIN/gemm_native" -- "$XC_BIN/gemm_vgpu"
else
  RESULTS+=("$(printf '%-28s %s' "build cublas-gemm" "FAILED (see gemm.build.log)")")
fi

# Uploads as runs over TCP (no shared memory): attention masks, masks with noise and random
# bytes uploaded async from a buffer rewritten after each call, read back and compared
# (test/integration/testdata/memloop.c), natively and through a TCP server; the client's stats
# line says how many bytes went as runs.
if gcc -O2 -I"$ROOT/include" -o "$XC_BIN/memloop_native" "$ROOT/test/integration/testdata/memloop.c" -L"$XC_CUDALIB/stubs" -lcuda 2>"$LOGS/memloop.build.log" &&
   gcc -O2 -I"$ROOT/include" -o "$XC_BIN/memloop_vgpu" "$ROOT/test/integration/testdata/memloop.c" -L"$BIN" -l:libcuda.so.1 2>>"$LOGS/memloop.build.log"; then
  "$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:7596 --insecure >"$LOGS/runs-server.log" 2>&1 &
  xc_rs=$!
  sleep 0.5
  check runs-over-tcp cat "$XC_BIN/memloop_native" runs -- env VGPU_SERVER=tcp://127.0.0.1:7596 VGPU_INSECURE=1 VGPU_STATS=1 "$XC_BIN/memloop_vgpu" runs
  kill $xc_rs; wait $xc_rs 2>/dev/null
  grep -o "[0-9]* uploaded as runs in [0-9]*" "$LOGS/runs-over-tcp.vgpu.err"
else
  RESULTS+=("$(printf '%-28s %s' "build memloop" "FAILED (see memloop.build.log)")")
fi

# CuPy: the stubs preloaded (CuPy dlopens libcuda itself; NVRTC stays the real library).
xc_pre="$BIN/libcudart.so.13:$BIN/libcuda.so.1:$BIN/libnvidia-ml.so.1"
xc_left_now=$(xc_left)
if [ "$xc_left_now" -ge 30 ]; then
  xc_t=90; [ $xc_t -gt $((xc_left_now / 2)) ] && xc_t=$((xc_left_now / 2))
  check cupy cat timeout "$xc_t" python3 -u "$XC_SRC/cupy_check.py" -- \
    timeout "$xc_t" env VGPU_LOG=debug LD_PRELOAD="$xc_pre" python3 -u "$XC_SRC/cupy_check.py"
else
  RESULTS+=("$(printf '%-28s %s' "cupy" "SKIPPED (time budget)")")
fi

# Benchmark: native, then through vgpu, then the side-by-side table.
workers_gone bench
if [ -x "$XC_BIN/bench" ]; then
  xc_left_now=$(xc_left)
  xc_mode=()
  [ "$xc_left_now" -lt 90 ] && xc_mode=(--quick)
  xc_t=$(( xc_left_now > 60 ? xc_left_now / 2 : 30 ))
  [ $xc_t -gt 120 ] && xc_t=120
  log "bench (${xc_mode[*]:-full}, limit ${xc_t} s each)"
  timeout "$xc_t" env LD_LIBRARY_PATH="$XC_CUDALIB" "$XC_BIN/bench" "${xc_mode[@]}" >"$LOGS/bench.native.txt" 2>"$LOGS/bench.native.err"
  xc_rn=$?
  if [ -n "${XC_NATIVE_ONLY:-}" ]; then
    cat "$LOGS/bench.native.txt"
    RESULTS+=("$(printf '%-28s %s' "bench" "native rc $xc_rn")")
  else
    timeout "$xc_t" "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="$VGPU_SERVER" "$XC_BIN/bench" "${xc_mode[@]}" \
      >"$LOGS/bench.vgpu.txt" 2>"$LOGS/bench.vgpu.err"
    xc_rv=$?
    head -5 "$LOGS/bench.vgpu.err"
    bash "$XC_SRC/bench/compare.sh" "$LOGS/bench.native.txt" "$LOGS/bench.vgpu.txt" | tee "$LOGS/bench.txt"
    [ -n "${OUT:-}" ] && cp "$LOGS/bench.txt" "$OUT/bench.txt" 2>/dev/null
    RESULTS+=("$(printf '%-28s %s' "bench" "$(tail -1 "$LOGS/bench.txt") (rc native $xc_rn, vgpu $xc_rv)")")
    # Where the worker's time goes in the quick benchmark: a second server whose workers write a
    # CPU profile (read it with: go tool pprof -top build/out/vgpu-server bench-worker.pprof.*).
    if [ "${VGPU_BENCH_PROFILE:-1}" = 1 ] && [ "$(xc_left)" -ge 40 ]; then
      xc_sock=/tmp/vgpu-prof.sock
      aux_server "$xc_sock" "$LOGS/prof-server.log" env VGPU_CPUPROFILE="$LOGS/bench-worker.pprof"
      timeout 60 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="unix://$xc_sock" "$XC_BIN/bench" --quick >"$LOGS/bench-prof.vgpu.txt" 2>&1
      sleep 1; kill $aux_ps; wait $aux_ps 2>/dev/null
      ls -l "$LOGS"/bench-worker.pprof.* 2>&1 | head -3
    fi
    # The launch path alone (bench --launches: 1,000,000 driver-API launches): natively, natively
    # with a socket read before each launch (as the worker reads a frame), and through a server
    # whose worker writes a CPU profile of nothing but launches (bench-launch-worker.pprof.*).
    if [ "${VGPU_BENCH_PROFILE:-1}" = 1 ] && [ "$(xc_left)" -ge 40 ]; then
      xc_sock=/tmp/vgpu-lprof.sock
      timeout 30 env LD_LIBRARY_PATH="$XC_CUDALIB" "$XC_BIN/bench" --launches >"$LOGS/bench-launches.txt" 2>&1
      timeout 30 env LD_LIBRARY_PATH="$XC_CUDALIB" "$XC_BIN/bench" --launches --syscall >>"$LOGS/bench-launches.txt" 2>&1
      aux_server "$xc_sock" "$LOGS/lprof-server.log" env VGPU_CPUPROFILE="$LOGS/bench-launch-worker.pprof"
      timeout 40 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="unix://$xc_sock" "$XC_BIN/bench" --launches \
        | sed 's/launch_driver_only_us/launch_driver_only_vgpu_us/' >>"$LOGS/bench-launches.txt" 2>&1
      sleep 1; kill $aux_ps; wait $aux_ps 2>/dev/null
      cat "$LOGS/bench-launches.txt"
      RESULTS+=("$(printf '%-28s %s' "launches only (us)" "$(awk '/^metric/ {printf "%s %s; ", $2, $3}' "$LOGS/bench-launches.txt")")")
    fi
    # Where a launch + synchronise's time goes (bench --syncs: 60,000 of them and nothing else):
    # natively, then through a server with the worker's stats (VGPU_WORKER_STATS=1: its time
    # waiting for frames, running the rows, and the rest) and the client's (VGPU_STATS=1: its
    # time writing and waiting for replies). Printed, with both counts.
    if [ "$(xc_left)" -ge 40 ]; then
      xc_sock=/tmp/vgpu-sync.sock
      timeout 30 env LD_LIBRARY_PATH="$XC_CUDALIB" "$XC_BIN/bench" --syncs >"$LOGS/bench-syncs.txt" 2>&1
      aux_server "$xc_sock" "$LOGS/sync-server.log" env VGPU_WORKER_STATS=1
      timeout 40 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="unix://$xc_sock" VGPU_STATS=1 "$XC_BIN/bench" --syncs 2>"$LOGS/bench-syncs.vgpu.err" \
        | sed 's/launch_sync_only_us/launch_sync_only_vgpu_us/' >>"$LOGS/bench-syncs.txt"
      sleep 1; kill $aux_ps; wait $aux_ps 2>/dev/null
      echo "== syncs: $(awk '/^metric/ {printf "%s %s; ", $2, $3}' "$LOGS/bench-syncs.txt")"
      grep -o "vgpu stats: .*round trips by call:" "$LOGS/bench-syncs.vgpu.err" | cut -c1-420
      worker_stats "$LOGS/sync-server.log" 700
      RESULTS+=("$(printf '%-28s %s' "launch+sync only (us)" "$(awk '/^metric/ {printf "%s %s; ", $2, $3}' "$LOGS/bench-syncs.txt")")")
    fi
    # The launch rate with the worker and the client pinned to two different cores (is the
    # gap the two busy processes sharing a core?): the quick benchmark's launch lines, natively
    # pinned too, beside the unpinned figures above. The CPU layout goes to the logs.
    if [ "${VGPU_BENCH_PINNED:-1}" = 1 ] && [ "$(xc_left)" -ge 40 ] && command -v taskset >/dev/null; then
      lscpu -e >"$LOGS/lscpu.txt" 2>&1
      xc_sock=/tmp/vgpu-pin.sock
      aux_server "$xc_sock" "$LOGS/pin-server.log" taskset -c 2
      timeout 60 taskset -c 6 env LD_LIBRARY_PATH="$XC_CUDALIB" "$XC_BIN/bench" --quick >"$LOGS/bench-pinned.native.txt" 2>&1
      timeout 60 taskset -c 6 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="unix://$xc_sock" "$XC_BIN/bench" --quick >"$LOGS/bench-pinned.vgpu.txt" 2>&1
      kill $aux_ps; wait $aux_ps 2>/dev/null
      bash "$XC_SRC/bench/compare.sh" "$LOGS/bench-pinned.native.txt" "$LOGS/bench-pinned.vgpu.txt" | grep -E "^(metric|launch)" | tee "$LOGS/bench-pinned.txt"
      RESULTS+=("$(printf '%-28s %s' "bench pinned (cores 2, 6)" "$(grep '^launch_async_us' "$LOGS/bench-pinned.txt" | awk '{print "launch " $2 " vs " $3 " us, " $4}')")")
    fi
  fi
else
  RESULTS+=("$(printf '%-28s %s' "bench" "NOT BUILT")")
fi
log "exec checks took $((SECONDS - XC_START)) s"
if [ -n "${XC_NATIVE_ONLY:-}" ]; then printf '%s\n' "${RESULTS[@]}"; fi
