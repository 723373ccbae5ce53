# llama.cpp over each transport (sourced by test/gpu/llama_checks.sh once llama.cpp is built, while
# the main server runs): the 110 MB model's tg128 and pp512 natively, through vgpu over the unix
# socket (the main server), over TCP with TLS 1.3 and a token, and over plain TCP (--insecure),
# each a vgpu-server of its own on 127.0.0.1. One table: t/s and vgpu's share of native, and what
# TLS costs against plain TCP.
tr_pki=/tmp/vgpu-pki
rm -rf "$tr_pki"
"$BIN/vgpu-server" pki init --dir "$tr_pki" --host 127.0.0.1 >"$LOGS/transport-pki.log" 2>&1 &&
  "$BIN/vgpu-server" pki token --dir "$tr_pki" gpu >>"$LOGS/transport-pki.log" 2>&1
"$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:7072 --tls-cert "$tr_pki/server.crt" --tls-key "$tr_pki/server.key" \
  --tokens-file "$tr_pki/tokens" >"$LOGS/server-tls.log" 2>&1 &
tr_tls=$!
"$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:7071 --insecure >"$LOGS/server-tcp.log" 2>&1 &
tr_tcp=$!
sleep 1
tr_bench() { # tr_bench NAME CMD...: llama-bench tg128 and pp512 of the 110 MB model, 5 repetitions
  local name=$1; shift
  timeout 150 "$@" "$LLB/bin/llama-bench" -m /tmp/med-q8_0.gguf -p 512 -n 128 -r 5 -ngl 99 -o md \
    >"$LOGS/transport-$name.md" 2>"$LOGS/transport-$name.err"
  echo "== transport $name (rc $?)"; cat "$LOGS/transport-$name.md"; tail -n 2 "$LOGS/transport-$name.err"
}
tr_bench native "${LL_NATIVE[@]}"
tr_bench unix "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER="$VGPU_SERVER"
tr_bench tcp "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER=tcp://127.0.0.1:7071 VGPU_INSECURE=1
tr_bench tls "$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER=tcp://127.0.0.1:7072 VGPU_TLS_CA="$tr_pki/ca.crt" VGPU_TOKEN_FILE="$tr_pki/clients/gpu.token"
grep -h "session\|identity" "$LOGS/server-tls.log" | head -3
kill $tr_tls $tr_tcp; wait $tr_tls $tr_tcp 2>/dev/null
# t/s of one test in one table
tr_ts() { awk -F'|' -v t="$2" '$0 ~ /CUDA/ && $7 ~ t { split($8, a, "±"); printf "%.1f", a[1] + 0; f = 1 } END { if (!f) printf "0" }' "$LOGS/transport-$1.md"; }
{
  printf '%-8s %10s %10s %10s %10s   %s\n' test native unix tcp tls "vgpu/native (unix, tcp, tls); tls/tcp"
  for t in tg128 pp512; do
    n=$(tr_ts native $t); u=$(tr_ts unix $t); p=$(tr_ts tcp $t); s=$(tr_ts tls $t)
    printf '%-8s %10s %10s %10s %10s   %s\n' $t "$n" "$u" "$p" "$s" \
      "$(awk -v n="$n" -v u="$u" -v p="$p" -v s="$s" 'BEGIN { if (n > 0 && p > 0) printf "%.1f%%, %.1f%%, %.1f%%; TLS %.1f%% of plain TCP", 100*u/n, 100*p/n, 100*s/n, 100*s/p; else print "no figure" }')"
  done
} | tee "$LOGS/transport.txt"
while IFS= read -r line; do
  case "$line" in tg128*|pp512*) RESULTS+=("$(printf '%-28s %s' "transport 110MB" "$line")") ;; esac
done <"$LOGS/transport.txt"
