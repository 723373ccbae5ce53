#!/bin/bash
# The main job, end to end: start vgpu-server (the host's GPU if it has one, otherwise the clearly
# labelled simulated device) and run a CUDA device query through the vgpu stubs, exactly as an
# unmodified program would load them (LD_LIBRARY_PATH here; LD_PRELOAD works the same way).
set -eu
cd "$(dirname "$0")/.."
OUT=build/out
DIR=$(mktemp -d /tmp/vgpu-demo.XXXXXX)
SOCK=$DIR/vgpu.sock
export VGPU_SERVER=unix://$SOCK

"$OUT/vgpu-server" --listen "$VGPU_SERVER" --backend "${VGPU_BACKEND:-auto}" 2>"$DIR/server.log" &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DIR"' EXIT
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

echo "--- vgpu-server"
cat "$DIR/server.log"
echo "--- vgpu ping"
"$OUT/vgpu" ping
echo "--- CUDA device query through the vgpu stubs (LD_LIBRARY_PATH=$OUT ./$OUT/devicequery)"
LD_LIBRARY_PATH=$OUT "$OUT/devicequery"
echo "--- ok"
