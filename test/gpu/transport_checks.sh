# llama.cpp over each transport (sourced by test/gpu/llama_checks.sh once llama.cpp is built, while
# the main server runs): the 110 MB model's tg128 and pp512 natively, through vgpu over the unix
# socket (the main server), over TCP with TLS 1.3 and a token, and over plain TCP (--insecure),
# each a vgpu-server of its own on 127.0.0.1 (TLS three times: the session handed to its worker, the
# default, and left in the server's relay in its two modes). One table: t/s (median of three
# rounds) and vgpu's share of native, and what TLS costs against plain TCP.
tr_pki=/tmp/vgpu-pki
rm -rf "$tr_pki"
"$BIN/vgpu-server" pki init --dir "$tr_pki" --host 127.0.0.1 >"$LOGS/transport-pki.log" 2>&1 &&
  "$BIN/vgpu-server" pki token --dir "$tr_pki" gpu >>"$LOGS/transport-pki.log" 2>&1
"$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:7072 --tls-cert "$tr_pki/server.crt" --tls-key "$tr_pki/server.key" \
  --tokens-file "$tr_pki/tokens" >"$LOGS/server-tls.log" 2>&1 &
tr_tls=$!
# the same TLS server with the session left in the server's relay (VGPU_TLS_RELAY=blocking: blocking
# reads that poll first; netpoll: the Go netpoller) instead of handed to the worker (the default)
VGPU_TLS_RELAY=blocking "$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:7074 --tls-cert "$tr_pki/server.crt" --tls-key "$tr_pki/server.key" \
  --tokens-file "$tr_pki/tokens" >"$LOGS/server-tls-blocking.log" 2>&1 &
tr_tlsbl=$!
VGPU_TLS_RELAY=netpoll "$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:7073 --tls-cert "$tr_pki/server.crt" --tls-key "$tr_pki/server.key" \
  --tokens-file "$tr_pki/tokens" >"$LOGS/server-tls-netpoll.log" 2>&1 &
tr_tlsnp=$!
"$BIN/vgpu-server" --backend real --listen tcp://127.0.0.1:7071 --insecure >"$LOGS/server-tcp.log" 2>&1 &
tr_tcp=$!
sleep 1
TR_NAMES=(native unix tcp tls tlsbl tlsnp)
tr_cmd() { # the command prefix of one transport
  case $1 in
    native) TR_CMD=("${LL_NATIVE[@]}") ;;
    unix) TR_CMD=("$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER="$VGPU_SERVER") ;;
    tcp) TR_CMD=("$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER=tcp://127.0.0.1:7071 VGPU_INSECURE=1) ;;
    tls) TR_CMD=("$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER=tcp://127.0.0.1:7072 VGPU_TLS_CA="$tr_pki/ca.crt" VGPU_TOKEN_FILE="$tr_pki/clients/gpu.token") ;;
    tlsbl) TR_CMD=("$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER=tcp://127.0.0.1:7074 VGPU_TLS_CA="$tr_pki/ca.crt" VGPU_TOKEN_FILE="$tr_pki/clients/gpu.token") ;;
    tlsnp) TR_CMD=("$GPULESS" "${LL_VGPU[@]}" VGPU_SERVER=tcp://127.0.0.1:7073 VGPU_TLS_CA="$tr_pki/ca.crt" VGPU_TOKEN_FILE="$tr_pki/clients/gpu.token") ;;
  esac
}
# Three rounds, each running every transport once (-r 3) in turn, so drift of the machine falls on
# all of them alike; each figure is the median of the three rounds' means.
for round in 1 2 3; do
  for name in "${TR_NAMES[@]}"; do
    tr_cmd $name
    timeout 100 "${TR_CMD[@]}" "$LLB/bin/llama-bench" -m /tmp/med-q8_0.gguf -p 512 -n 128 -r 3 -ngl 99 -o md \
      >"$LOGS/transport-$name.$round.md" 2>"$LOGS/transport-$name.$round.err"
    echo "== transport $name round $round (rc $?)"; grep CUDA "$LOGS/transport-$name.$round.md"; tail -n 1 "$LOGS/transport-$name.$round.err"
  done
done
grep -h "session\|identity" "$LOGS/server-tls.log" "$LOGS/server-tls-blocking.log" | head -6
kill $tr_tls $tr_tlsbl $tr_tlsnp $tr_tcp; wait $tr_tls $tr_tlsbl $tr_tlsnp $tr_tcp 2>/dev/null
# t/s of one test, median over the rounds
tr_ts() {
  for round in 1 2 3; do
    awk -F'|' -v t="$2" '$0 ~ /CUDA/ && $7 ~ t { split($8, a, "±"); printf "%.1f\n", a[1] + 0 }' "$LOGS/transport-$1.$round.md"
  done | sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print 0; else print v[int((NR + 1) / 2)] }'
}
{
  printf '%-6s %8s %8s %8s %8s %8s %8s   %s\n' test native unix tcp tls relay-bl relay-np "vgpu/native (unix, tcp, tls); TLS / plain TCP (worker, relay blocking, relay netpoll)"
  for t in tg128 pp512; do
    n=$(tr_ts native $t); u=$(tr_ts unix $t); p=$(tr_ts tcp $t); s=$(tr_ts tls $t); b=$(tr_ts tlsbl $t); q=$(tr_ts tlsnp $t)
    printf '%-6s %8s %8s %8s %8s %8s %8s   %s\n' $t "$n" "$u" "$p" "$s" "$b" "$q" \
      "$(awk -v n="$n" -v u="$u" -v p="$p" -v s="$s" -v b="$b" -v q="$q" 'BEGIN { if (n > 0 && p > 0) printf "%.1f%%, %.1f%%, %.1f%%; %.1f%%, %.1f%%, %.1f%%", 100*u/n, 100*p/n, 100*s/n, 100*s/p, 100*b/p, 100*q/p; else print "no figure" }')"
  done
} | tee "$LOGS/transport.txt"
while IFS= read -r line; do
  case "$line" in tg128*|pp512*) RESULTS+=("$(printf '%-28s %s' "transport 110MB" "$line")") ;; esac
done <"$LOGS/transport.txt"
