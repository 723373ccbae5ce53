# The performance table (sourced by test/gpu/llama_checks.sh once llama.cpp is built, while the
# main server runs): per transport, vgpu beside native from the same run. Transports: the main
# server over its unix socket (with the shared memory), TCP loopback (--insecure), TCP with TLS 1.3
# and a token, TCP through vgpu-netem's relay adding 200 µs of round trip, and vsock where the
# host's vsock loopback reaches a server (a VM's client reaches its host that way). Measured:
#   llama-bench tg128 and pp512 on the 110 MB model and a 1.1 B-parameter one (22 layers, embd
#     2048, Q8_0, random weights: test/gpu/llama_checks.sh's vgpu-gguf), median of 3 rounds,
#     each round running every transport once in turn so drift of the machine falls on all alike,
#     and each round's figure llama-bench's mean of 3 repetitions (the 110 MB model's prompt
#     takes 3.5 ms, which one repetition measures with the noise of a moment);
#   the launch benchmark (test/gpu/bench/bench.cu --quick: medians of thousands of launches),
#     async launch and launch + synchronise, and its 64 MiB pageable copies each way;
#   the 8-thread test (test/gpu/cuda/threads.cu: median of 3 rounds), and once more over unix
#     with the worker's stats: the hand-offs of the reading between its threads (printed);
#   a PyTorch training step (test/gpu/torch_train.py: median of 30 steps; its loss must match),
#     and through the unix server with VGPU_STATS=1 at 10 and 20 steps: the round trips per step
#     and the rows they wait for (printed, not in the table);
#   the 1.1 B model over TCP and TLS with the client's and the worker's stats, and the 110 MB
#     model's prompts over unix and TCP with them (printed: below).
# Needs exec_checks.sh's programs ($XC_BIN/bench, $XC_BIN/threads). One table, $LOGS/perf.txt.
pt_t0=$SECONDS
pt_tcp=7095 pt_relay=7096 pt_tls=7097 pt_tls0=7098 pt_tcps=7099 pt_tlss=7100
pt_pki=/tmp/vgpu-pki-perf
rm -rf "$pt_pki"
"$BIN/vgpu-server" pki init --dir "$pt_pki" --host 127.0.0.1 >"$LOGS/perf-pki.log" 2>&1 &&
  "$BIN/vgpu-server" pki token --dir "$pt_pki" gpu >>"$LOGS/perf-pki.log" 2>&1
pt_pids=()
# pt_tcp_server NAME PORT [VAR=VALUE...]: a plain TCP server (--insecure) in the environment
# given, its pid added to pt_pids
pt_tcp_server() {
  local name=$1 port=$2; shift 2
  env "$@" "$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:$port --insecure >"$LOGS/perf-server-$name.log" 2>&1 &
  pt_pids+=($!)
}
pt_tcp_server tcp $pt_tcp
# pt_tls_server NAME PORT [VAR=VALUE...]: a TLS server (the pki's certificate and token) in the
# environment given, its pid added to pt_pids
pt_tls_server() {
  local name=$1 port=$2; shift 2
  env "$@" "$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:$port --tls-cert "$pt_pki/server.crt" \
    --tls-key "$pt_pki/server.key" --tokens-file "$pt_pki/tokens" >"$LOGS/perf-server-$name.log" 2>&1 &
  pt_pids+=($!)
}
pt_tls_server tls $pt_tls
"$BIN/vgpu-netem" relay --listen 127.0.0.1:$pt_relay --target tcp://127.0.0.1:$pt_tcp --rtt 200us \
  >"$LOGS/perf-relay.out" 2>"$LOGS/perf-relay.log" &
pt_pids+=($!)
# llama.cpp's rows need its build (llama_checks.sh sources this file then; run.sh sources it
# without, under VGPU_SKIP_LLAMA=1, for the other rows)
pt_llama_ok=; [ -x "${LLB:-}/bin/llama-bench" ] && pt_llama_ok=1
# the 1.1 B-parameter model: llama_checks.sh writes it (LL_BIG) before anything is timed
pt_big=${LL_BIG:-/tmp/big-q8_0.gguf}
sleep 1
PT_NAMES=(native unix tcp tls relay200)
# VGPU_PERF_TLS_NOCREW=1 adds a last transport, tls0: TLS with no record crew on either side
# (VGPU_TLS_CREW=0 for its server and its clients), to tell what the crew gains or costs
if [ "${VGPU_PERF_TLS_NOCREW:-}" = 1 ]; then
  pt_tls_server tls0 $pt_tls0 VGPU_TLS_CREW=0
  PT_NAMES+=(tls0)
  sleep 1
fi
# "tcpcache" in VGPU_PERF_TRANSPORTS adds a last transport: plain TCP, its clients with the
# upload cache (VGPU_UPLOAD_CACHE_MB=64; docs/NETWORK.md), beside tcp without it
[[ " ${VGPU_PERF_TRANSPORTS:-} " == *" tcpcache "* ]] && PT_NAMES+=(tcpcache)
# VGPU_PERF_TRANSPORTS="native unix ...": measure only these (the table keeps every column, "-"
# for the others), for a run short of device time
pt_on() { [ -z "${VGPU_PERF_TRANSPORTS:-}" ] || [[ " $VGPU_PERF_TRANSPORTS " == *" $1 "* ]]; }
# pt_env NAME: the environment of one transport (PT_ENV), empty natively
pt_env() {
  case $1 in
    native) PT_ENV=() ;;
    unix) PT_ENV=(VGPU_SERVER="$VGPU_SERVER") ;;
    tcp) PT_ENV=(VGPU_SERVER=tcp://127.0.0.1:$pt_tcp VGPU_INSECURE=1) ;;
    tls) PT_ENV=(VGPU_SERVER=tcp://127.0.0.1:$pt_tls VGPU_TLS_CA="$pt_pki/ca.crt" VGPU_TOKEN_FILE="$pt_pki/clients/gpu.token") ;;
    relay200) PT_ENV=(VGPU_SERVER=tcp://127.0.0.1:$pt_relay VGPU_INSECURE=1) ;;
    tcpcache) PT_ENV=(VGPU_SERVER=tcp://127.0.0.1:$pt_tcp VGPU_INSECURE=1 VGPU_UPLOAD_CACHE_MB=64) ;;
    tls0) PT_ENV=(VGPU_SERVER=tcp://127.0.0.1:$pt_tls0 VGPU_TLS_CA="$pt_pki/ca.crt" VGPU_TOKEN_FILE="$pt_pki/clients/gpu.token" VGPU_TLS_CREW=0) ;;
    vsock) PT_ENV=(VGPU_SERVER=vsock://local:$pt_vsock) ;;
  esac
}
# vsock: a server on vsock://any:7101 taking this host's own CID (1, the loopback transport) as a
# guest; a column of its own where a client reaches it (the kernel's vsock loopback, as a VM's
# client reaches its host over virtio-vsock), else a line saying why not
pt_vsock=7101
pt_on vsock && { [ -d /sys/module/vsock_loopback ] || modprobe vsock_loopback 2>/dev/null
  "$BIN/vgpu-server" --backend real --listen vsock://any:$pt_vsock --vsock-allow 1 >"$LOGS/perf-server-vsock.log" 2>&1 & pt_pids+=($!); sleep 1; }
if ! pt_on vsock; then
  pt_vs="not measured (VGPU_PERF_TRANSPORTS)"
elif timeout 20 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER=vsock://local:$pt_vsock "$BIN/devicequery" >"$LOGS/perf-vsock-probe.txt" 2>&1; then
  PT_NAMES+=(vsock)
  pt_vs="reached the server over vsock://local:$pt_vsock"
else
  pt_vs="not reachable here; the server: $(tail -n 1 "$LOGS/perf-server-vsock.log" | cut -c1-200); the client: $(head -n 1 "$LOGS/perf-vsock-probe.txt" | cut -c1-200); vsock modules: $(lsmod 2>/dev/null | grep -o '^[a-z_]*vsock[a-z_]*' | tr '\n' ' ')"
fi
echo "== perf vsock: $pt_vs"
RESULTS+=("$(printf '%-28s %s' "vsock loopback" "$pt_vs")")
# pt_metric FILE NAME: a "metric NAME VALUE unit" line's value
pt_metric() { awk -v m="$2" '$1 == "metric" && $2 == m { print $3; exit }' "$1" 2>/dev/null; }
# pt_counted TITLE BASE SERVERLOG VAR=VALUE... -- ARGS...: llama-bench ARGS through vgpu in the
# environment given, with the client's counts (VGPU_STATS=1), into BASE.md and BASE.err; prints
# its rate, the client's counts and the worker's stats (worker_stats, run.sh)
pt_counted() {
  local title=$1 base=$2 slog=$3 vars=(); shift 3
  while [ "$1" != -- ]; do vars+=("$1"); shift; done; shift
  timeout 60 "$GPULESS" "${LL_VGPU[@]}" "${vars[@]}" VGPU_STATS=1 \
    "$LLB/bin/llama-bench" "$@" -ngl 99 -o md >"$base.md" 2>"$base.err"
  echo "== perf $title (rc $?): $(awk -F'|' '/CUDA/ { print $8 }' "$base.md") t/s"
  grep -o "vgpu stats: .*round trips by call:" "$base.err" | cut -c1-330
  worker_stats "$slog"
}
# pt_cuda NAME CMD...: a CUDA program natively or through vgpu over transport NAME
pt_cuda() {
  local name=$1; shift
  pt_env "$name"
  if [ "$name" = native ]; then timeout 120 env LD_LIBRARY_PATH="$XC_CUDALIB" "$@"
  else timeout 120 "$GPULESS" env LD_LIBRARY_PATH="$BIN" "${PT_ENV[@]}" "$@"; fi
}
pt_pre="$BIN/libcudart.so.13:$BIN/libcuda.so.1:$BIN/libnvidia-ml.so.1:$BIN/libcublas.so.13:$BIN/libcublasLt.so.13"
for name in "${PT_NAMES[@]}"; do
  pt_on $name || continue
  pt_cuda $name "$XC_BIN/bench" --quick >"$LOGS/perf-bench-$name.txt" 2>"$LOGS/perf-bench-$name.err"
  echo "== perf bench $name (rc $?, $((SECONDS - pt_t0)) s)"
  pt_cuda $name "$XC_BIN/threads" >"$LOGS/perf-threads-$name.txt" 2>"$LOGS/perf-threads-$name.err"
  echo "== perf threads $name (rc $?)"
  pt_env $name
  if [ $name = native ]; then timeout 180 python3 "$ROOT/test/gpu/torch_train.py" >"$LOGS/perf-train-$name.txt" 2>"$LOGS/perf-train-$name.err"
  else timeout 180 "$GPULESS" env LD_PRELOAD="$pt_pre" "${PT_ENV[@]}" python3 "$ROOT/test/gpu/torch_train.py" >"$LOGS/perf-train-$name.txt" 2>"$LOGS/perf-train-$name.err"; fi
  echo "== perf train $name (rc $?)"; cat "$LOGS/perf-train-$name.txt"; tail -n 2 "$LOGS/perf-train-$name.err"
done
# where the 8 threads' time goes: the test once more, over a unix server of its own with
# VGPU_WORKER_STATS=1, whose line counts the hand-offs of the reading between the worker's
# threads and their time (each a thread woken on the path of the frames after it), and the
# client's VGPU_STATS=1, whose line counts its threads woken for replies another read. Printed.
pt_wsock=/tmp/vgpu-perf-ws.sock
aux_server "$pt_wsock" "$LOGS/perf-server-threads-stats.log" env VGPU_WORKER_STATS=1
timeout 120 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="unix://$pt_wsock" VGPU_STATS=1 "$XC_BIN/threads" >"$LOGS/perf-threads-stats.txt" 2>&1
echo "== perf threads stats (rc $?): $(grep -o 'threads8_ms [0-9.]*' "$LOGS/perf-threads-stats.txt"); client: $(grep -o 'threads woken for a reply[^;]*' "$LOGS/perf-threads-stats.txt")"
worker_stats "$LOGS/perf-server-threads-stats.log"
kill $aux_ps; wait $aux_ps 2>/dev/null
# the same with reads polling 50 µs instead of 2 ms on both sides (VGPU_SPIN_US=50): do the
# polling threads take the CPUs that woken threads need? Native's run beside it, 3 times each.
aux_server "$pt_wsock" "$LOGS/perf-server-threads-spin50.log" env VGPU_WORKER_STATS=1 VGPU_SPIN_US=50
for pt_i in 1 2 3; do
  timeout 60 env LD_LIBRARY_PATH="$XC_CUDALIB" "$XC_BIN/threads" >"$LOGS/perf-threads-spin-native.$pt_i.txt" 2>&1
  timeout 60 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="unix://$pt_wsock" VGPU_SPIN_US=50 VGPU_STATS=1 "$XC_BIN/threads" >"$LOGS/perf-threads-spin50.$pt_i.txt" 2>&1
  echo "== perf threads spin 50 µs, round $pt_i: native $(pt_metric "$LOGS/perf-threads-spin-native.$pt_i.txt" threads8_ms) ms, vgpu $(pt_metric "$LOGS/perf-threads-spin50.$pt_i.txt" threads8_ms) ms; client: $(grep -o 'threads woken for a reply[^;]*' "$LOGS/perf-threads-spin50.$pt_i.txt")"
done
worker_stats "$LOGS/perf-server-threads-spin50.log"
kill $aux_ps; wait $aux_ps 2>/dev/null
# which calls a training step waits for: VGPU_STATS=1 over unix at 10 and 20 steps (their
# difference over 10 steps is one step's; the busiest rows of each are printed)
for pt_n in 10 20; do
  timeout 120 "$GPULESS" env LD_PRELOAD="$pt_pre" VGPU_SERVER="$VGPU_SERVER" VGPU_STATS=1 python3 "$ROOT/test/gpu/torch_train.py" $pt_n \
    >"$LOGS/perf-train-stats-$pt_n.txt" 2>&1
  echo "== perf train stats $pt_n steps (rc $?): $(grep -o 'vgpu stats: [0-9]* round trips.*' "$LOGS/perf-train-stats-$pt_n.txt" | sed 's/async calls.*round trips by call:/async calls ...; round trips by call:/' | head -n 1)"
done
pt_models=(-m /tmp/med-q8_0.gguf); [ -s "$pt_big" ] && pt_models+=(-m "$pt_big")
for round in ${pt_llama_ok:+1 2 3}; do
  for name in "${PT_NAMES[@]}"; do
    pt_on $name || continue
    pt_env $name
    if [ $name = native ]; then pt_cmd=("${LL_NATIVE[@]}"); else pt_cmd=("$GPULESS" "${LL_VGPU[@]}" "${PT_ENV[@]}"); fi
    timeout 150 "${pt_cmd[@]}" "$LLB/bin/llama-bench" "${pt_models[@]}" -p 512 -n 128 -r 3 -ngl 99 -o md \
      >"$LOGS/perf-llama-$name.$round.md" 2>"$LOGS/perf-llama-$name.$round.err"
    echo "== perf llama $name round $round (rc $?, $((SECONDS - pt_t0)) s)"; grep CUDA "$LOGS/perf-llama-$name.$round.md"
  done
done
# Where TLS's time goes against plain TCP: the 1.1 B model's pp512 and tg128 (one process each),
# once over each, with the client's counts (VGPU_STATS=1: round trips, bytes, time writing and
# waiting) and the worker's time split (VGPU_WORKER_STATS=1), on servers of their own so that
# the table's run without stats. Printed, not in the table.
if [ -n "$pt_llama_ok" ] && [ -s "$pt_big" ] && pt_on tcp && pt_on tls; then
  pt_tcp_server tcps $pt_tcps VGPU_WORKER_STATS=1
  pt_tls_server tlss $pt_tlss VGPU_WORKER_STATS=1
  sleep 1
  for name in tcp tls; do
    pt_env $name
    pt_port=$pt_tcps; [ $name = tls ] && pt_port=$pt_tlss
    for pt_test in pp512 tg128; do
      pt_flags=(-p 512 -n 0); [ $pt_test = tg128 ] && pt_flags=(-p 0 -n 128)
      pt_counted "why $name $pt_test" "$LOGS/perf-why-$name-$pt_test" "$LOGS/perf-server-${name}s.log" \
        "${PT_ENV[@]}" VGPU_SERVER=tcp://127.0.0.1:$pt_port -- -m "$pt_big" "${pt_flags[@]}" -r 3
    done
  done
  # Where a prompt's time goes: the 110 MB model's pp512 over unix (a server of its own, with the
  # worker's stats) and over TCP, each at 2 and at 12 repetitions, with the client's and the
  # worker's counts: the two runs differ by 10 prompts (the model's load and llama-bench's
  # warm-up prompt are in both). Printed, not in the table.
  pt_psock=/tmp/vgpu-perf-ps.sock
  aux_server "$pt_psock" "$LOGS/perf-server-prompt-unix.log" env VGPU_WORKER_STATS=1
  for name in unix tcp; do
    pt_srv=(VGPU_SERVER="unix://$pt_psock") pt_log=$LOGS/perf-server-prompt-unix.log
    [ $name = tcp ] && pt_srv=(VGPU_SERVER=tcp://127.0.0.1:$pt_tcps VGPU_INSECURE=1) pt_log=$LOGS/perf-server-tcps.log
    for pt_r in 2 12; do
      pt_counted "prompt $name -r $pt_r" "$LOGS/perf-prompt-$name-r$pt_r" "$pt_log" \
        "${pt_srv[@]}" -- -m /tmp/med-q8_0.gguf -p 512 -n 0 -r $pt_r
    done
  done
  kill $aux_ps; wait $aux_ps 2>/dev/null
fi
kill "${pt_pids[@]}" 2>/dev/null; wait "${pt_pids[@]}" 2>/dev/null
rm -f "$pt_big"

# pt_llama NAME MODEL TEST: t/s, the median of the rounds (llama-bench's md: model size in
# column 3, test in 7, t/s in 8)
pt_llama() {
  for round in 1 2 3; do
    awk -F'|' -v s="$2" -v t="$3" '$0 ~ /CUDA/ && $3 ~ s && $7 ~ t { split($8, a, "±"); printf "%.1f\n", a[1] + 0 }' "$LOGS/perf-llama-$1.$round.md"
  done | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print ""; else print v[int((NR + 1) / 2)] }'
}
# one row: label, higher-is-better (1) or lower (0), target share of native on unix, on tcp,
# and TLS's target share of plain TCP (empty: none), then the value per transport
pt_row() {
  local label=$1 up=$2 tu=$3 tt=$4 ts=$5; shift 5
  awk -v label="$label" -v up="$up" -v tu="$tu" -v tt="$tt" -v ts="$ts" -v vals="$*" 'BEGIN {
    n = split(vals, v, " ")
    line = sprintf("%-22s", label)
    for (i = 1; i <= n; i++) line = line sprintf(" %10s", v[i] == "-" ? "-" : v[i])
    for (i = 2; i <= n; i++) {
      if (v[1] == "-" || v[i] == "-" || v[1] + 0 == 0 || v[i] + 0 == 0) { r[i] = -1; line = line sprintf(" %6s", "-"); continue }
      r[i] = up ? 100 * v[i] / v[1] : 100 * v[1] / v[i]
      line = line sprintf(" %5.1f%%", r[i])
    }
    rs = -1
    if (v[3] != "-" && v[4] != "-" && v[3] + 0 > 0 && v[4] + 0 > 0) {
      rs = up ? 100 * v[4] / v[3] : 100 * v[3] / v[4]
      line = line sprintf(" %6.1f%%", rs)
    } else line = line sprintf(" %7s", "-")
    verdict = ""
    if (tu != "" && r[2] >= 0) verdict = verdict sprintf(" unix %s", r[2] >= tu ? "met" : "MISSED")
    if (tt != "" && r[3] >= 0) verdict = verdict sprintf(" tcp %s", r[3] >= tt ? "met" : "MISSED")
    if (ts != "" && rs >= 0) verdict = verdict sprintf(" tls %s", rs >= ts ? "met" : "MISSED")
    print line (verdict == "" ? "" : "  target" verdict)
  }'
}
pt_vals() { # FN ARGS...: FN NAME ARGS for each transport, "-" where there is no figure
  local fn=$1; shift
  local out=() v
  for name in "${PT_NAMES[@]}"; do v=$($fn $name "$@"); out+=("${v:--}"); done
  echo "${out[@]}"
}
pt_bench() { pt_metric "$LOGS/perf-bench-$1.txt" "$2"; }
pt_threads() { pt_metric "$LOGS/perf-threads-$1.txt" threads8_ms; }
pt_train() { pt_metric "$LOGS/perf-train-$1.txt" train_step_ms; }
{
  # the header: a column per transport, then each one's share of native, then TLS against TCP
  printf '%-22s' test; printf ' %10s' "${PT_NAMES[@]}"; pt_short=("${PT_NAMES[@]:1}"); printf ' %6s' "${pt_short[@]/relay200/relay}"; printf ' %7s\n' "tls/tcp"
  pt_row "110MB tg128 t/s" 1 95 90 95 $(pt_vals pt_llama "104.76 MiB" tg128)
  pt_row "110MB pp512 t/s" 1 90 90 95 $(pt_vals pt_llama "104.76 MiB" pp512)
  pt_row "1.1B tg128 t/s" 1 95 90 95 $(pt_vals pt_llama "GiB" tg128)
  pt_row "1.1B pp512 t/s" 1 90 90 95 $(pt_vals pt_llama "GiB" pp512)
  pt_row "launch async us" 0 90 "" "" $(pt_vals pt_bench launch_async_us)
  pt_row "launch+sync us" 0 50 "" "" $(pt_vals pt_bench launch_sync_us)
  pt_row "h2d 64MiB GB/s" 1 "" "" "" $(pt_vals pt_bench h2d_pageable_64MiB_GBps)
  pt_row "d2h 64MiB GB/s" 1 "" "" "" $(pt_vals pt_bench d2h_pageable_64MiB_GBps)
  pt_row "8 threads ms" 0 80 "" "" $(pt_vals pt_threads)
  pt_row "torch train step ms" 0 "" "" "" $(pt_vals pt_train)
  pt_loss=$(for name in "${PT_NAMES[@]}"; do grep -h "^loss" "$LOGS/perf-train-$name.txt" 2>/dev/null || echo "none"; done | sort | uniq -c | awk '{ printf "%s%d x %s", (NR > 1 ? "; " : ""), $1, $NF }')
  echo "torch loss per transport: $pt_loss"
} | tee "$LOGS/perf.txt"
[ -n "${OUT:-}" ] && cp "$LOGS/perf.txt" "$OUT/perf.txt" 2>/dev/null
while IFS= read -r line; do
  case "$line" in test*|*[0-9]*) RESULTS+=("$(printf '%-12s %s' "perf" "$line")") ;; esac
done <"$LOGS/perf.txt"
log "perf table: $((SECONDS - pt_t0)) s"
