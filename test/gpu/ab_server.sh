#!/bin/bash
# A/B of two builds on the GPU machine, after test/gpu/run.sh in the same call or alone (it uses
# what run.sh leaves, and makes what is missing: the 8-thread test test/gpu/cuda/threads.cu built
# under /tmp/vgpu-gpu-logs/bin, llama.cpp under /tmp/llama from .carry/llama-bin.tar.xz.*, the
# 110 MB model /tmp/med-q8_0.gguf from .carry/vgpu-gguf):
#   bash test/gpu/ab_server.sh OTHER [ROUNDS]
# OTHER is another build's vgpu-server, or a folder of another build's files (any of build/out's:
# the server, libvgpucore.so, a stub) laid over this build's, for the client side too, or
# env:VAR=VALUE[,VAR=VALUE...]: this build with those variables in the other side's clients
# (env:VGPU_RING_KB=0: calls and replies through the socket instead of the shared memory).
# AB_TCP=1 serves both over TCP on 127.0.0.1 (`--insecure`) instead of unix sockets: the network
# path, without shared memory or rings (AB_TCP=1 ... env:VGPU_UPLOAD_CACHE_MB=64: the upload
# cache against none).
# Each round runs every test natively, against the other build and against this one
# (build/out), in turn and in an order that turns from round to round, each build's server on a
# unix socket of its own with VGPU_WORKER_STATS=1 and its clients with VGPU_STATS=1; so drift of
# the machine falls on all three alike. Tests: the 8-thread test (threads8_ms, its median of 3),
# llama-bench tg128 and pp512 on the 110 MB model (-r 3), the launch path alone (launch_us: bench
# --launches, test/gpu/bench/bench.cu, the median of 5 × 200,000 driver-API launches), launch +
# synchronise alone (sync_us: bench --syncs, the median of 3 × 20,000) and a PyTorch training step
# (train_ms: test/gpu/torch_train.py, the median of its 30 steps). Prints
# each round's figures, the worker-stats and client lines of the 8-thread test, llama-bench's
# client counts (round trips, bytes through shared memory and uploaded from pinned memory in
# place, reads that slept), and the medians.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OTHER=${1:?usage: ab_server.sh OTHER_VGPU_SERVER_OR_FOLDER [ROUNDS]}
ROUNDS=${2:-3}
GPULESS="$ROOT/test/gpu/gpuless.sh"
THREADS=/tmp/vgpu-gpu-logs/bin/threads
BENCH=/tmp/vgpu-gpu-logs/bin/bench
LLB=/tmp/llama/build/bin
MODEL=/tmp/med-q8_0.gguf
LOGS=/tmp/vgpu-ab
rm -rf "$LOGS"; mkdir -p "$LOGS"
. "$ROOT/test/gpu/nvcc.sh"
if [ ! -x "$THREADS" ]; then
  mkdir -p "$(dirname "$THREADS")"
  "$XC_NVCC" "${XC_FLAGS[@]}" -o "$THREADS" "$ROOT/test/gpu/cuda/threads.cu"
fi
if [ ! -x "$BENCH" ]; then
  "$XC_NVCC" "${XC_FLAGS[@]}" -o "$BENCH" "$ROOT/test/gpu/bench/bench.cu" -lcuda
fi
if [ ! -x "$LLB/llama-bench" ] && [ -e "$ROOT/.carry/llama-bin.tar.xz.00" ]; then
  mkdir -p "$LLB" && cat "$ROOT"/.carry/llama-bin.tar.xz.[0-9][0-9] | xz -dc | tar xf - -C "$LLB"
fi
[ -e "$MODEL" ] || "$ROOT/.carry/vgpu-gguf" -o "$MODEL" -type q8_0 -embd 1024 -heads 16 -heads-kv 16 -ff 2816 -layers 8 -vocab 272 -ctx 1024 >/dev/null
# each build's outputs: this one's, and the other's (this one's with the other's files over them),
# in a folder named vgpu-out, which gpuless.sh leaves visible (it covers every other libcuda.so*)
declare -A OUTS=([this]=$ROOT/build/out [other]=$LOGS/other/vgpu-out)
mkdir -p "$LOGS/other" && cp -a "$ROOT/build/out" "${OUTS[other]}"
OTHER_ENV=()
if [[ $OTHER == env:* ]]; then IFS=, read -ra OTHER_ENV <<<"${OTHER#env:}"
elif [ -d "$OTHER" ]; then cp -a "$OTHER"/. "${OUTS[other]}"/; else cp "$OTHER" "${OUTS[other]}/vgpu-server"; fi

# each build's server address, and what its clients add to reach it
declare -A ADDR
for name in other this; do ADDR[$name]=unix://$LOGS/$name.sock; done
AB_NET=()
if [ "${AB_TCP:-}" = 1 ]; then ADDR[other]=tcp://127.0.0.1:7471 ADDR[this]=tcp://127.0.0.1:7472 AB_NET=(VGPU_INSECURE=1); fi

# ab_run NAME: the tests once natively (NAME native) or against server NAME's socket
ab_run() {
  local name=$1 th tg pp lu ls tr
  if [ "$name" = native ]; then
    th=$(LD_LIBRARY_PATH=/usr/local/cuda/lib64 timeout 60 "$THREADS" | grep -o 'threads8_ms [0-9.]*' | cut -d' ' -f2)
    lu=$(LD_LIBRARY_PATH=/usr/local/cuda/lib64 timeout 30 "$BENCH" --launches | awk '$1 == "metric" {print $3}')
    ls=$(LD_LIBRARY_PATH=/usr/local/cuda/lib64 timeout 30 "$BENCH" --syncs | awk '$1 == "metric" {print $3}')
    tr=$(timeout 120 python3 "$ROOT/test/gpu/torch_train.py" 2>/dev/null | awk '$1 == "metric" && $2 == "train_step_ms" {print $3}')
    [ -x "$LLB/llama-bench" ] && LD_LIBRARY_PATH="$LLB:/usr/local/cuda/lib64" timeout 100 "$LLB/llama-bench" -m "$MODEL" -p 512 -n 128 -r 3 -ngl 99 -o md \
      >"$LOGS/llama.md" 2>/dev/null
  else
    local b=${OUTS[$name]} xenv=()
    [ "$name" = other ] && xenv=(${OTHER_ENV[@]+"${OTHER_ENV[@]}"})
    xenv+=(${AB_NET[@]+"${AB_NET[@]}"})
    local pre="$b/libcudart.so.13:$b/libcublas.so.13:$b/libcublasLt.so.13:$b/libcuda.so.1:$b/libnvidia-ml.so.1"
    timeout 60 "$GPULESS" env ${xenv[@]+"${xenv[@]}"} LD_LIBRARY_PATH="$b" VGPU_SERVER="${ADDR[$name]}" VGPU_STATS=1 "$THREADS" >>"$LOGS/threads-$name.txt" 2>&1
    th=$(grep -o 'threads8_ms [0-9.]*' "$LOGS/threads-$name.txt" | tail -n 1 | cut -d' ' -f2)
    lu=$(timeout 40 "$GPULESS" env ${xenv[@]+"${xenv[@]}"} LD_LIBRARY_PATH="$b" VGPU_SERVER="${ADDR[$name]}" "$BENCH" --launches 2>>"$LOGS/bench-$name.err" |
      awk '$1 == "metric" {print $3}')
    ls=$(timeout 40 "$GPULESS" env ${xenv[@]+"${xenv[@]}"} LD_LIBRARY_PATH="$b" VGPU_SERVER="${ADDR[$name]}" "$BENCH" --syncs 2>>"$LOGS/bench-$name.err" |
      awk '$1 == "metric" {print $3}')
    tr=$(timeout 120 "$GPULESS" env ${xenv[@]+"${xenv[@]}"} LD_PRELOAD="$b/libcudart.so.13:$b/libcuda.so.1:$b/libnvidia-ml.so.1:$b/libcublas.so.13:$b/libcublasLt.so.13" \
      VGPU_SERVER="${ADDR[$name]}" python3 "$ROOT/test/gpu/torch_train.py" 2>>"$LOGS/train-$name.err" | awk '$1 == "metric" && $2 == "train_step_ms" {print $3}')
    [ -x "$LLB/llama-bench" ] && timeout 100 "$GPULESS" env ${xenv[@]+"${xenv[@]}"} LD_LIBRARY_PATH="$LLB:$b" LD_PRELOAD="$pre" VGPU_SERVER="${ADDR[$name]}" \
      VGPU_STATS=1 "$LLB/llama-bench" -m "$MODEL" -p 512 -n 128 -r 3 -ngl 99 -o md >"$LOGS/llama.md" 2>>"$LOGS/llama-$name.err"
  fi
  # llama-bench's t/s column (the mean of its repetitions) for each test
  tg=$(grep tg128 "$LOGS/llama.md" 2>/dev/null | awk -F'|' '{print $(NF-1)}' | awk '{print $1}')
  pp=$(grep pp512 "$LOGS/llama.md" 2>/dev/null | awk -F'|' '{print $(NF-1)}' | awk '{print $1}')
  [ "$name" != native ] && [ -z "$tg" ] && [ -x "$LLB/llama-bench" ] && tail -n 5 "$LOGS/llama-$name.err" | sed "s|^|llama-bench through $name: |" >&2
  rm -f "$LOGS/llama.md"
  echo "$name threads8_ms ${th:-?} tg128 ${tg:-?} pp512 ${pp:-?} launch_us ${lu:-?} sync_us ${ls:-?} train_ms ${tr:-?}"
}

pids=()
for name in other this; do
  x=${OUTS[$name]}/vgpu-server
  rm -f "$LOGS/$name.sock"
  insecure=(); [[ ${ADDR[$name]} == tcp:* ]] && insecure=(--insecure)
  VGPU_WORKER_STATS=1 "$x" --listen "${ADDR[$name]}" "${insecure[@]}" --backend real >"$LOGS/server-$name.log" 2>&1 &
  pids+=($!)
  for i in $(seq 50); do { [ -S "$LOGS/$name.sock" ] || grep -q "listening" "$LOGS/server-$name.log"; } && break; sleep 0.1; done
done
# the order turns each round (native other this, other this native, this native other): at
# 04:14 on 2026-12-07, with this build always last, its tg128 was the lowest of each round
order=(native other this)
for k in $(seq "$ROUNDS"); do
  for i in 0 1 2; do
    name=${order[$(( (i + k - 1) % 3 ))]}
    echo "round $k $(ab_run $name)"
  done
done | tee "$LOGS/rounds.txt"
kill "${pids[@]}"; wait "${pids[@]}" 2>/dev/null
for name in other this; do
  echo "== worker stats, $name (the threads test's sessions), and its clients' wake-ups"
  grep -o "worker stats: .*" "$LOGS/server-$name.log" | grep "vgpuLaunchKernel=960" | cut -c1-420
  grep -o "threads woken for a reply[^;]*" "$LOGS/threads-$name.txt"
  # what the settings under test change in llama-bench's clients (one stats line a round)
  grep -o "vgpu stats: [0-9]* round trips\|[0-9]* bytes through shared memory\|[0-9]* bytes uploaded from pinned memory in place\|[0-9]* reads blocked after polling" \
    "$LOGS/llama-$name.err" 2>/dev/null | paste -sd' ' | sed "s/vgpu stats: /\nllama-bench $name: /g" | sed '/^$/d'
done
# median NAME FIELD: the median of a field over the rounds
median() { awk -v n="$1" -v f="$2" '$3 == n { for (i = 4; i < NF; i++) if ($i == f) print $(i + 1) }' "$LOGS/rounds.txt" | grep -v '?' | sort -g |
  awk '{ v[NR] = $1 } END { if (NR) print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2); else print "?" }'; }
echo "== medians of $ROUNDS rounds: threads8_ms, tg128 t/s, pp512 t/s, launch_us, sync_us, train_ms (each native, other, this)"
for f in threads8_ms tg128 pp512 launch_us sync_us train_ms; do echo "$f $(median native $f) $(median other $f) $(median this $f)"; done
# the servers' logs and llama-bench's errors, for the run's $OUT
# (one file per OTHER, so that two A/Bs in one call keep both)
[ -n "${OUT:-}" ] && tar czf "$OUT/ab-logs-$(basename "$OTHER" | tr -c 'A-Za-z0-9_.=\n-' _).tgz" -C "$LOGS" --exclude='*.sock' --exclude=other . 2>/dev/null
