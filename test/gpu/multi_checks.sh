# shellcheck shell=bash
# Several servers as one device list on the one GPU (sourced by test/gpu/run.sh after the
# PyTorch checks, while the main server runs): a second vgpu-server on its own socket, and the
# client given both (VGPU_SERVER=A,B) sees two devices, one per server. Natively the host has
# one GPU; each check prints what must be the same either way.
MSOCK=/tmp/vgpu-gpu2.sock
rm -f "$MSOCK"
"$BIN/vgpu-server" --listen "unix://$MSOCK" --backend real >"$LOGS/server-multi.log" 2>&1 &
MSERVER=$!
for i in $(seq 50); do [ -S "$MSOCK" ] && break; sleep 0.1; done
MULTI="$VGPU_SERVER,unix://$MSOCK"
# the device list through the driver API, the runtime and NVML (test/c/multidev.c): two devices
# through vgpu (the one GPU twice, the second's PCI domain shifted), and copies between them,
# staged through the client
timeout 60 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="$MULTI" "$BIN/multidev" list >"$LOGS/multi-list.txt" 2>&1; m_rc=$?
timeout 60 "$GPULESS" env LD_LIBRARY_PATH="$BIN" VGPU_SERVER="$MULTI" "$BIN/multidev" copy 0 1 0 >"$LOGS/multi-copy.txt" 2>&1; m_crc=$?
log "multi-server list (rc $m_rc) and copies (rc $m_crc)"; cat "$LOGS/multi-list.txt" "$LOGS/multi-copy.txt"
m_n=$(grep -c "^driver " "$LOGS/multi-list.txt")
RESULTS+=("$(printf '%-28s %s' "multi-server list" "rc $m_rc: driver $m_n, runtime $(grep -c '^runtime ' "$LOGS/multi-list.txt"), nvml $(grep -c '^nvml ' "$LOGS/multi-list.txt") devices (native 1 GPU)")")
RESULTS+=("$(printf '%-28s %s' "multi-server copies" "rc $m_crc: $(grep -c ' ok$' "$LOGS/multi-copy.txt") ok, $(grep -c 'FAILED' "$LOGS/multi-copy.txt") failed")")
# PyTorch on cuda:0 and cuda:1 (natively both are the one GPU)
check torch-multi 'grep -v "^devices:"' python3 "$ROOT/test/gpu/torch_multi.py" --one-gpu -- \
  env LD_PRELOAD="$PRE_BLAS" VGPU_SERVER="$MULTI" python3 "$ROOT/test/gpu/torch_multi.py"
grep -h "^devices:" "$LOGS/torch-multi.native.txt" "$LOGS/torch-multi.vgpu.txt" | tr '\n' ' '; echo
# llama.cpp's layers split over the two devices (its default split mode, layer) is sourced
# from test/gpu/llama_checks.sh once llama.cpp is built: it needs $MULTI and this server.
