# Network latency (sourced by test/gpu/llama_checks.sh after perf_table.sh, once llama.cpp
# is built, while the main server runs; VGPU_SKIP_LATENCY=1 leaves it out; docs/NETWORK.md).
# The 110 MB model's tg128 and pp512 (llama-bench -r 3) natively and through vgpu over plain TCP
# on 127.0.0.1 (a vgpu-server --insecure of its own), direct and through vgpu-netem relays that
# add 50 µs, 200 µs and 1 ms of round trip. For each path: the round trip of a small call
# (vgpu-netem bench, median of 500) and the round trips per generated token (VGPU_STATS of
# llama-simple at 32 and 96 tokens: the difference over the tokens between). One table
# (test/gpu/latency_table.sh): t/s, vgpu/native and the model's prediction
# 1 / (t_native + n_rt × RTT). Then the copy benchmark (vgpu-netem bench, 256 MiB each way)
# over unix and TCP beside a plain socket pair of each kind. Meant to take under 150 s.
lt_t0=$SECONDS
lt_port=7081
"$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:$lt_port --insecure >"$LOGS/latency-server.log" 2>&1 &
lt_srv=$!
# path name, round trip set (µs), address
lt_paths=("tcp 0 tcp://127.0.0.1:$lt_port")
lt_pids=()
lt_i=0
for lt_rtt in 50 200 1000; do
  lt_i=$((lt_i + 1))
  "$BIN/vgpu-netem" relay --listen 127.0.0.1:$((lt_port + lt_i)) --target tcp://127.0.0.1:$lt_port --rtt ${lt_rtt}us \
    >"$LOGS/latency-relay-$lt_rtt.out" 2>"$LOGS/latency-relay-$lt_rtt.log" &
  lt_pids+=($!)
  lt_paths+=("relay-${lt_rtt}us $lt_rtt tcp://127.0.0.1:$((lt_port + lt_i))")
done
for i in $(seq 50); do
  [ "$(cat "$LOGS"/latency-relay-*.out 2>/dev/null | grep -c listening)" -eq 3 ] && break
  sleep 0.1
done
sleep 1 # the server's listener

# t/s of one test in a llama-bench markdown table
lt_ts() { awk -F'|' -v t="$2" '$0 ~ /CUDA/ && $7 ~ t { split($8, a, "±"); printf "%.2f", a[1] + 0; f = 1 } END { if (!f) printf "0" }' "$1"; }
# the number before LABEL in the VGPU_STATS line of FILE ("round trips", "async calls", ...)
lt_stat() { grep -o "vgpu stats: .*" "$1" | grep -o "[0-9]* $2" | head -1 | awk '{ print $1 + 0 }'; }
# tokens llama-simple generated ("decoded N tokens"), 0 if it did not say
lt_dec() { grep -o "decoded *[0-9]*" "$1" | awk '{ n = $2 + 0 } END { print n + 0 }'; }
# per token between runs A and B of N tokens apart: (LABEL of B - LABEL of A) / N, or "-"
lt_per() { awk -v a="$(lt_stat "$1" "$4")" -v b="$(lt_stat "$2" "$4")" -v n="$3" 'BEGIN { if (n > 0 && a != "" && b != "") printf "%.2f", (b - a) / n; else printf "-" }'; }

timeout 60 "${LL_NATIVE[@]}" "$LLB/bin/llama-bench" -m /tmp/med-q8_0.gguf -p 512 -n 128 -r 3 -ngl 99 -o md \
  >"$LOGS/latency-native.md" 2>"$LOGS/latency-native.err"
echo "== latency native (rc $?)"; cat "$LOGS/latency-native.md"
# path, RTT set, call RTT, tg128, pp512, and per token: round trips, async calls, bytes out, bytes in
printf 'native\t-\t-\t%s\t%s\t-\t-\t-\t-\n' "$(lt_ts "$LOGS/latency-native.md" tg128)" "$(lt_ts "$LOGS/latency-native.md" pp512)" >"$LOGS/latency.tsv"
for p in "${lt_paths[@]}"; do
  read -r name rtt addr <<<"$p"
  lt_env=(VGPU_SERVER="$addr" VGPU_INSECURE=1)
  env "${lt_env[@]}" timeout 30 "$BIN/vgpu-netem" bench --calls 500 --size 0 >"$LOGS/latency-$name-call.txt" 2>&1
  call=$(awk '$1 == "metric" && $2 == "rtt_median_us" { printf "%.1f", $3 }' "$LOGS/latency-$name-call.txt")
  timeout 60 "$GPULESS" "${LL_VGPU[@]}" "${lt_env[@]}" "$LLB/bin/llama-bench" -m /tmp/med-q8_0.gguf -p 512 -n 128 -r 3 -ngl 99 -o md \
    >"$LOGS/latency-$name.md" 2>"$LOGS/latency-$name.err"
  echo "== latency $name (rc $?; call round trip ${call:-?} us)"; cat "$LOGS/latency-$name.md"; tail -n 2 "$LOGS/latency-$name.err"
  for n in 32 96; do
    timeout 60 "$GPULESS" "${LL_VGPU[@]}" "${lt_env[@]}" VGPU_STATS=1 "$LLB/bin/llama-simple" -m /tmp/med-q8_0.gguf -n $n -ngl 99 "Hello world" \
      >/dev/null 2>"$LOGS/latency-$name-stats-$n.err"
  done
  lt_a=$LOGS/latency-$name-stats-32.err lt_b=$LOGS/latency-$name-stats-96.err
  grep -h "decoded\|vgpu stats" "$lt_a" "$lt_b" | cut -c1-300
  lt_tok=$(( $(lt_dec "$lt_b") - $(lt_dec "$lt_a") ))
  printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$name" "$rtt" "${call:--}" "$(lt_ts "$LOGS/latency-$name.md" tg128)" "$(lt_ts "$LOGS/latency-$name.md" pp512)" \
    "$(lt_per "$lt_a" "$lt_b" $lt_tok "round trips")" "$(lt_per "$lt_a" "$lt_b" $lt_tok "async calls")" \
    "$(lt_per "$lt_a" "$lt_b" $lt_tok "bytes out")" "$(lt_per "$lt_a" "$lt_b" $lt_tok "bytes in")" >>"$LOGS/latency.tsv"
done
kill "${lt_pids[@]}"; wait "${lt_pids[@]}" 2>/dev/null
grep -h "closed" "$LOGS"/latency-relay-*.log | cut -c1-400 | tail -n 6
bash "$ROOT/test/gpu/latency_table.sh" "$LOGS/latency.tsv" | tee "$LOGS/latency.txt"
while IFS= read -r line; do
  case "$line" in native*|tcp*|relay*) RESULTS+=("$(printf '%-28s %s' "latency 110MB" "$line")") ;; esac
done <"$LOGS/latency.txt"

# bulk copies through vgpu (real backend) beside a plain socket pair, over unix (the main server:
# through the shared memory) and TCP (a server of its own, whose worker says where its time went)
kill $lt_srv; wait $lt_srv 2>/dev/null
VGPU_WORKER_STATS=1 "$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:$lt_port --insecure >"$LOGS/latency-copy-server.log" 2>&1 &
lt_srv=$!
sleep 1
for lt_addr in "$VGPU_SERVER" tcp://127.0.0.1:$lt_port; do
  lt_kind=${lt_addr%%:*}
  VGPU_SERVER="$lt_addr" VGPU_INSECURE=1 timeout 60 "$BIN/vgpu-netem" bench --calls 1000 --size $((256 << 20)) --reps 3 \
    >"$LOGS/latency-copy-$lt_kind.txt" 2>&1
  echo "== copies over $lt_kind (rc $?)"; cat "$LOGS/latency-copy-$lt_kind.txt"
  RESULTS+=("$(printf '%-28s %s' "copy bench $lt_kind" "$(tail -n 1 "$LOGS/latency-copy-$lt_kind.txt" | cut -c1-200)")")
done
kill $lt_srv; wait $lt_srv 2>/dev/null
grep -o "worker stats: .*" "$LOGS/latency-copy-server.log" | cut -c1-700
log "latency checks: $((SECONDS - lt_t0)) s"
