# llama.cpp through vgpu (issue 5): sourced by test/gpu/run.sh after its other checks, while the
# server runs. Needs .carry/llama-src.tar.xz (scripts/llama-src.sh makes it from the npm package
# node-llama-cpp) or the binaries an earlier run built (below), and .carry/tiny-*.gguf +
# .carry/vgpu-gguf (scripts/llama-models.sh); without them it says so and does nothing. Builds
# llama.cpp with CUDA for sm_90 (shared cudart and cuBLAS), then runs each check natively and
# through the stubs, client GPU-less.
LL_SRC=$ROOT/.carry/llama-src.tar.xz
# The built binaries, stripped, as xz parts of at most 15 MB (the device tool brings back files
# of 16 MiB at most): a run leaves them in $OUT as llama-bin.tar.xz.00, .01, …; copied to .carry,
# a later run takes them and skips the build (2 to 6 minutes, the longest step of the script).
LL_PARTS=("$ROOT"/.carry/llama-bin.tar.xz.[0-9][0-9])
[ -f "${LL_PARTS[0]}" ] || LL_PARTS=()
if [ ! -f "$LL_SRC" ] && [ ${#LL_PARTS[@]} -eq 0 ]; then
  RESULTS+=("$(printf '%-28s %s' "llama.cpp" "SKIPPED (no .carry/llama-src.tar.xz, no .carry/llama-bin.tar.xz.00)")")
else
  LL=/tmp/llama; LLB=$LL/build
  rm -rf "$LL"; mkdir -p "$LL"
  ll_t0=$(date +%s)
  if [ ${#LL_PARTS[@]} -gt 0 ]; then
    mkdir -p "$LLB/bin" && cat "${LL_PARTS[@]}" | xz -dc | tar xf - -C "$LLB/bin"; ll_rc=$?
    log "llama.cpp: prebuilt binaries from ${#LL_PARTS[@]} part(s) of .carry/llama-bin.tar.xz (rc $ll_rc)"
  else
  tar xJf "$LL_SRC" -C "$LL"
  # LLAMA_NO_FA=1 leaves out the FlashAttention kernels (a shorter build, for a short lease; the
  # same binary runs natively and through vgpu, so the comparison holds)
  ll_fa=(); [ "${LLAMA_NO_FA:-}" = 1 ] && ll_fa=(-DGGML_CUDA_FA=OFF)
  (cd "$LL" && cmake -S . -B build -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_RUNTIME_LIBRARY=Shared "${ll_fa[@]}" \
      -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >"$LOGS/llama-cmake.log" 2>&1 &&
   cmake --build build -j16 --target llama-bench llama-simple >"$LOGS/llama-build.log" 2>&1)
  ll_rc=$?
  log "llama.cpp build: rc $ll_rc in $(( $(date +%s) - ll_t0 )) s"
  # the binaries go back in $OUT for later runs to carry: stripped (the CUDA kernels are kept),
  # in parts of 15 MB; three at most, so the tool's 8 files hold them beside the logs
  if [ $ll_rc -eq 0 ]; then
    (cd "$LLB/bin" && strip --strip-unneeded llama-bench llama-simple *.so* 2>/dev/null
     tar cf - llama-bench llama-simple *.so* | xz -T16 -9 >/tmp/llama-bin.tar.xz) &&
      split -b 15000000 -d -a 2 /tmp/llama-bin.tar.xz "$OUT/llama-bin.tar.xz."
    ll_np=$(ls "$OUT"/llama-bin.tar.xz.[0-9][0-9] 2>/dev/null | wc -l)
    log "llama.cpp binaries: $(stat -c %s /tmp/llama-bin.tar.xz 2>/dev/null) bytes of xz, $ll_np part(s) in \$OUT"
    [ "$ll_np" -gt 3 ] && rm -f "$OUT"/llama-bin.tar.xz.[0-9][0-9]
    rm -f /tmp/llama-bin.tar.xz
  fi
  fi
  if [ $ll_rc -ne 0 ]; then
    tail -30 "$LOGS/llama-build.log"
    RESULTS+=("$(printf '%-28s %s' "llama.cpp build" "FAILED (see llama-build.log)")")
  else
    readelf -d "$LLB/bin/libggml-cuda.so" 2>/dev/null | grep NEEDED | tee "$LOGS/llama-needed.txt"
    LL_PRE="$BIN/libcudart.so.13:$BIN/libcublas.so.13:$BIN/libcublasLt.so.13:$BIN/libcuda.so.1:$BIN/libnvidia-ml.so.1"
    LL_NATIVE=(env LD_LIBRARY_PATH="$LLB/bin:/usr/local/cuda/lib64")
    LL_VGPU=(env LD_LIBRARY_PATH="$LLB/bin:$BIN" LD_PRELOAD="$LL_PRE")
    # the performance table's 1.1 B-parameter model (perf_table.sh), written while the checks
    # below compare outputs and waited for before anything is timed, so that no measurement
    # shares the host's CPUs and disk with writing its 1.2 GB
    LL_BIG=/tmp/big-q8_0.gguf; ll_gguf=
    if [ "${VGPU_SKIP_TRANSPORT:-}" != 1 ]; then
      "$ROOT/.carry/vgpu-gguf" -o "$LL_BIG" -type q8_0 -embd 2048 -heads 32 -heads-kv 4 -ff 5632 -layers 22 -vocab 32000 -ctx 2048 \
        >"$LOGS/perf-gguf.log" 2>&1 &
      ll_gguf=$!
    fi
    # the device list (free memory differs between runs)
    check llama-devices 'sed -E "s/[0-9]+ MiB free/N MiB free/"' "${LL_NATIVE[@]}" "$LLB/bin/llama-bench" --list-devices -- \
      "${LL_VGPU[@]}" "$LLB/bin/llama-bench" --list-devices
    # greedy generation: the generated text must be identical (timings filtered out)
    for m in q8_0 f16; do
      for g in on off; do
        ge=(); [ $g = off ] && ge=(GGML_CUDA_DISABLE_GRAPHS=1)
        check "llama-gen-$m-graphs-$g" 'grep -v -E "^(main|llama_perf|load_|ggml_cuda|print_info|llama_|common_|build:|system_info|sampler|generate|graph_|clip|init)" | grep -v "t/s"' \
          env "${ge[@]}" LD_LIBRARY_PATH="$LLB/bin:/usr/local/cuda/lib64" "$LLB/bin/llama-simple" -m "$ROOT/.carry/tiny-$m.gguf" -n 64 -ngl 99 "Hello world" -- \
          env "${ge[@]}" LD_LIBRARY_PATH="$LLB/bin:$BIN" LD_PRELOAD="$LL_PRE" "$LLB/bin/llama-simple" -m "$ROOT/.carry/tiny-$m.gguf" -n 64 -ngl 99 "Hello world"
      done
    done
    # speed: pp512 and tg128, graphs on, on the tiny model (launch-bound) and on a 110 MB one
    # (8 layers, embd 1024, ff 2816, Q8_0) made here with the carried vgpu-gguf
    [ -n "$ll_gguf" ] && { wait $ll_gguf; log "1.1 B model (rc $?): $(tail -n 1 "$LOGS/perf-gguf.log")"; sync "$LL_BIG"; }
    "$ROOT/.carry/vgpu-gguf" -o /tmp/med-q8_0.gguf -type q8_0 -embd 1024 -heads 16 -heads-kv 16 -ff 2816 -layers 8 -vocab 272 -ctx 1024 >/dev/null
    for side in native vgpu; do
      if [ $side = native ]; then cmd=("${LL_NATIVE[@]}"); else cmd=("$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER="$VGPU_SERVER"); fi
      timeout 200 "${cmd[@]}" "$LLB/bin/llama-bench" -m "$ROOT/.carry/tiny-q8_0.gguf" -m /tmp/med-q8_0.gguf -p 512 -n 128 -r 10 -ngl 99 -o md \
        >"$LOGS/llama-bench.$side.txt" 2>"$LOGS/llama-bench.$side.err"
      echo "== llama-bench $side (rc $?)"; cat "$LOGS/llama-bench.$side.txt"; tail -3 "$LOGS/llama-bench.$side.err"
    done
    # where a token's time goes: VGPU_STATS for 32 and 96 generated tokens (graphs on); the
    # difference over 64 tokens is the per-token cost in round trips, async calls and bytes
    for n in 32 96; do
      timeout 60 "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER="$VGPU_SERVER" VGPU_STATS=1 "$LLB/bin/llama-simple" -m /tmp/med-q8_0.gguf -n $n -ngl 99 "Hello world" \
        >/dev/null 2>"$LOGS/llama-stats-$n.err"
      echo "tokens $n: rc $?"
      grep -E "decoded|vgpu stats" "$LOGS/llama-stats-$n.err" | sed "s/^/tokens $n: /"
    done 2>&1 | tee "$LOGS/llama-stats.txt"
    # tg128 on the 110 MB model, natively and through vgpu with the read polling (VGPU_SPIN_US)
    # of worker and client at each WORKER:CLIENT pair of LLAMA_SPIN_SWEEP (a server of its own
    # per pair): how much of the tg gap is thread wake-ups on a token's path
    if [ -n "${LLAMA_SPIN_SWEEP:-}" ]; then {
      timeout 100 "${LL_NATIVE[@]}" "$LLB/bin/llama-bench" -m /tmp/med-q8_0.gguf -p 0 -n 128 -r 5 -ngl 99 -o md 2>/dev/null |
        grep tg128 | sed "s/^/native:          /"
      for pair in $LLAMA_SPIN_SWEEP; do
        aux_server /tmp/vgpu-spin.sock "$LOGS/spin-server.log" env VGPU_SPIN_US="${pair%%:*}"
        timeout 100 "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER=unix:///tmp/vgpu-spin.sock VGPU_SPIN_US="${pair##*:}" \
          "$LLB/bin/llama-bench" -m /tmp/med-q8_0.gguf -p 0 -n 128 -r 5 -ngl 99 -o md 2>/dev/null |
          grep tg128 | sed "s/^/spin $pair us: /"
        timeout 60 "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER=unix:///tmp/vgpu-spin.sock VGPU_SPIN_US="${pair##*:}" VGPU_STATS=1 \
          "$LLB/bin/llama-simple" -m /tmp/med-q8_0.gguf -n 96 -ngl 99 "Hello world" 2>&1 >/dev/null | grep -o "decoded.*t/s\|[0-9.]* ms writing.*polling" | sed "s/^/spin $pair us: /"
        kill $aux_ps; wait $aux_ps 2>/dev/null
      done; } 2>&1 | tee "$LOGS/llama-spin.txt"
    fi
    # where pp512's time goes (LLAMA_PP_STATS=1): llama-bench pp512 at 10 and 30 repetitions per
    # model, client VGPU_STATS beside the worker's VGPU_WORKER_STATS (a server of its own); the
    # difference of the two is 20 prompts' worth. Each run's stderr is kept (llama-ppstats-*.err).
    # LLAMA_PP_STATS="VAR=VALUE ...": the same once per client setting, in turn (such as
    # VGPU_PINNED_MB=0 VGPU_PINNED_MB=64: the prompt split with and without the pinned pool).
    if [ -n "${LLAMA_PP_STATS:-}" ]; then {
      aux_server /tmp/vgpu-ws.sock "$LOGS/ws-server.log" env VGPU_WORKER_STATS=1
      for setting in $LLAMA_PP_STATS; do
        [ "$setting" = 1 ] && setting=VGPU_STATS=1
        for m in "$ROOT/.carry/tiny-q8_0.gguf" /tmp/med-q8_0.gguf; do
          for t in "-p 512 -n 0 -r 10" "-p 512 -n 0 -r 30" "-p 0 -n 128 -r 5"; do
            e="$LOGS/llama-ppstats-$(basename "$m" .gguf)-$(echo $t | tr -d ' -')-${setting//[^A-Za-z0-9]/_}.err"
            echo "== $(basename "$m") $t ($setting)"
            timeout 100 "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER=unix:///tmp/vgpu-ws.sock VGPU_STATS=1 "$setting" \
              "$LLB/bin/llama-bench" -m "$m" $t -ngl 99 -o md 2>"$e" | grep -E "pp512|tg128"
            echo "rc ${PIPESTATUS[0]}"; grep "vgpu stats" "$e"
            sleep 0.2; grep "worker stats" "$LOGS/ws-server.log" | tail -1
          done
        done
      done
      kill $aux_ps; wait $aux_ps 2>/dev/null; } 2>&1 | tee "$LOGS/llama-ppstats.txt"
    fi
    # LLAMA_REPEAT=N: the 110 MB model's pp512 and a 96-token generation N times each through
    # vgpu, every exit status and stderr kept (an intermittent client exit was seen twice)
    if [ -n "${LLAMA_REPEAT:-}" ]; then {
      for i in $(seq "$LLAMA_REPEAT"); do
        timeout 100 "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER="$VGPU_SERVER" VGPU_STATS=1 "$LLB/bin/llama-bench" -m /tmp/med-q8_0.gguf -p 512 -n 0 -r 30 -ngl 99 -o md \
          >"$LOGS/llama-repeat-bench-$i.out" 2>"$LOGS/llama-repeat-bench-$i.err"
          echo "repeat $i bench rc $? $(grep pp512 "$LOGS/llama-repeat-bench-$i.out" | awk -F'|' '{print $8}')"
        timeout 60 "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER="$VGPU_SERVER" VGPU_STATS=1 "$LLB/bin/llama-simple" -m /tmp/med-q8_0.gguf -n 96 -ngl 99 "Hello world" \
          >"$LOGS/llama-repeat-gen-$i.out" 2>"$LOGS/llama-repeat-gen-$i.err"
          echo "repeat $i gen rc $? $(grep -o 'decoded.*' "$LOGS/llama-repeat-gen-$i.err")"
      done
      dmesg 2>/dev/null | tail -20; } 2>&1 | tee "$LOGS/llama-repeat.txt"
    fi
    # LLAMA_AB="A B": the 110 MB model's pp512 (-r 30) natively, then through vgpu with the
    # client environment setting A, then B, alternately 4 times: a change's effect on one
    # machine, beside native's own spread
    if [ -n "${LLAMA_AB:-}" ]; then {
      for i in 1 2 3 4; do
        echo "native: $(timeout 100 "${LL_NATIVE[@]}" "$LLB/bin/llama-bench" -m /tmp/med-q8_0.gguf -p 512 -n 0 -r 30 -ngl 99 -o md 2>/dev/null | grep pp512 | awk -F'|' '{print $8}')"
        for v in $LLAMA_AB; do
          echo "$v: $(timeout 100 "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER="$VGPU_SERVER" "$v" "$LLB/bin/llama-bench" -m /tmp/med-q8_0.gguf -p 512 -n 0 -r 30 -ngl 99 -o md 2>/dev/null | grep pp512 | awk -F'|' '{print $8}')"
        done
      done; } 2>&1 | tee "$LOGS/llama-ab.txt"
    fi
    # the layers split over two devices, one per vgpu-server (multi_checks.sh): llama.cpp's
    # default split mode with two GPUs; natively the one GPU holds them all. Same tokens.
    if [ -n "${MULTI:-}" ]; then
      check llama-gen-split-2-servers 'grep -v -E "^(main|llama_perf|load_|ggml_cuda|print_info|llama_|common_|build:|system_info|sampler|generate|graph_|clip|init)" | grep -v "t/s"' \
        "${LL_NATIVE[@]}" "$LLB/bin/llama-simple" -m /tmp/med-q8_0.gguf -n 64 -ngl 99 "Hello world" -- \
        "${LL_VGPU[@]}" VGPU_SERVER="$MULTI" "$LLB/bin/llama-simple" -m /tmp/med-q8_0.gguf -n 64 -ngl 99 "Hello world"
      grep -h "CUDA[01]\|using device\|offloaded" "$LOGS/llama-gen-split-2-servers.vgpu.err" | head -6
    fi
    # the performance table: per transport (unix, TCP, TLS, a 200 µs relay), vgpu beside native
    # (VGPU_SKIP_TRANSPORT=1 leaves it out)
    [ "${VGPU_SKIP_TRANSPORT:-}" = 1 ] || . "$ROOT/test/gpu/perf_table.sh"
    # the same model over TCP with 0, 50 µs, 200 µs and 1 ms of added round trip, against the
    # model of docs/NETWORK.md, and bulk copies beside a plain socket (VGPU_SKIP_LATENCY=1 leaves it out)
    [ "${VGPU_SKIP_LATENCY:-}" = 1 ] || . "$ROOT/test/gpu/latency_checks.sh"
    while IFS= read -r line; do
      RESULTS+=("$(printf '%-28s %s' "llama-bench" "$line")")
    done < <(bash "$ROOT/test/gpu/llama_ratio.sh" "$LOGS/llama-bench.native.txt" "$LOGS/llama-bench.vgpu.txt")
  fi
fi
