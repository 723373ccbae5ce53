#!/bin/bash
# The figures of docs/NETWORK.md on a machine without a GPU (after `make build`): a vgpu-server
# with the simulated device on TCP (--insecure) and a unix socket, vgpu-netem relays at 0, 50 µs,
# 200 µs and 1 ms in front of it; three rounds of the round trip of 1000 small calls direct and
# through each relay, then three rounds of copies (256 MiB) over TCP and unix beside a plain
# socket pair, and through the 0 and 1 ms relays; last, each relay's lines. Ports 7401-7405.
set -u
cd "$(dirname "$0")/.."
O=$PWD/build/out
D=$(mktemp -d /tmp/vgpu-netem.XXXXXX)
echo "start $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg), $(nproc) cores"
"$O/vgpu-server" --backend sim --listen tcp://127.0.0.1:7401 --insecure --listen "unix://$D/s.sock" >"$D/server.log" 2>&1 &
srv=$!
pids=()
i=0
for rtt in 0 50us 200us 1ms; do
  i=$((i + 1))
  "$O/vgpu-netem" relay --listen 127.0.0.1:$((7401 + i)) --target tcp://127.0.0.1:7401 --rtt $rtt >"$D/relay-$rtt.out" 2>"$D/relay-$rtt.log" &
  pids+=($!)
done
trap 'kill "${pids[@]}" $srv 2>/dev/null; wait 2>/dev/null; rm -rf "$D"' EXIT
sleep 1
bench() { VGPU_SERVER=$1 VGPU_INSECURE=1 "$O/vgpu-netem" bench "${@:2}"; }
metrics() { awk '$1 == "metric" { printf "%s=%s ", $2, $3 }'; }
for round in 1 2 3; do
  echo "round $round load $(cut -d' ' -f1 /proc/loadavg)"
  echo "direct: $(bench tcp://127.0.0.1:7401 --calls 1000 --size 0 | metrics)"
  i=0
  for rtt in 0 50us 200us 1ms; do
    i=$((i + 1))
    echo "relay $rtt: $(bench tcp://127.0.0.1:$((7401 + i)) --calls 1000 --size 0 | metrics)"
  done
done
for round in 1 2 3; do
  echo "copies round $round load $(cut -d' ' -f1 /proc/loadavg)"
  bench tcp://127.0.0.1:7401 --calls 0 --reps 5 | tail -n 1
  bench "unix://$D/s.sock" --calls 0 --reps 5 | tail -n 1
  bench tcp://127.0.0.1:7402 --calls 0 --reps 3 --plain=false | tail -n 1 | sed "s/^/through the 0 ms relay: /"
  bench tcp://127.0.0.1:7405 --calls 0 --reps 3 --plain=false | tail -n 1 | sed "s/^/through the 1 ms relay: /"
done
kill "${pids[@]}"
wait "${pids[@]}" 2>/dev/null
for rtt in 0 50us 200us 1ms; do
  echo "relay $rtt:"
  cat "$D/relay-$rtt.log"
done
echo "end $(date -u +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)"
