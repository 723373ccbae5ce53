#!/bin/bash
# Where a token's time goes through vgpu: builds llama-simple (as llama_checks.sh does), then runs
# it through the stubs with VGPU_STATS=1 for two generation lengths, graphs on and off; the
# difference between the two lengths, divided by the extra tokens, is the per-token cost in round
# trips, async calls, writes and bytes. Run from the repository root with build/out and .carry
# carried: bash test/gpu/llama_stats.sh
set -u
ROOT=$(pwd); BIN=$ROOT/build/out; OUT=${OUT:-/tmp/llama-stats}; mkdir -p "$OUT"
LL=/tmp/llama; rm -rf $LL; mkdir -p $LL; tar xJf .carry/llama-src.tar.xz -C $LL
(cd $LL && cmake -S . -B build -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90 -DCMAKE_CUDA_RUNTIME_LIBRARY=Shared \
   -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DCMAKE_BUILD_TYPE=Release >/dev/null 2>&1 &&
 cmake --build build -j16 --target llama-simple llama-bench >/dev/null 2>&1) || { echo "build failed"; exit 1; }
.carry/vgpu-gguf -o /tmp/med.gguf -type q8_0 -embd 1024 -heads 16 -heads-kv 16 -ff 2816 -layers 8 -vocab 272 -ctx 1024 >/dev/null
SOCK=/tmp/vgpu-stats.sock; rm -f $SOCK
"$BIN/vgpu-server" --listen unix://$SOCK --backend real >"$OUT/server.log" 2>&1 &
for i in $(seq 50); do [ -S $SOCK ] && break; sleep 0.1; done
PRE="$BIN/libcudart.so.13:$BIN/libcublas.so.13:$BIN/libcublasLt.so.13:$BIN/libcuda.so.1:$BIN/libnvidia-ml.so.1"
for g in on off; do
  ge=(); [ $g = off ] && ge=(GGML_CUDA_DISABLE_GRAPHS=1)
  for n in 32 96; do
    echo "== graphs $g, $n tokens"
    env "${ge[@]}" LD_LIBRARY_PATH=$LL/build/bin:/usr/local/cuda/lib64 $LL/build/bin/llama-simple -m /tmp/med.gguf -n $n -ngl 99 "Hello world" 2>&1 >/dev/null | grep "decoded" | sed 's/^/native: /'
    test/gpu/gpuless.sh env "${ge[@]}" VGPU_STATS=1 VGPU_SERVER=unix://$SOCK LD_LIBRARY_PATH=$LL/build/bin:$BIN LD_PRELOAD="$PRE" \
      $LL/build/bin/llama-simple -m /tmp/med.gguf -n $n -ngl 99 "Hello world" 2>&1 >/dev/null | grep -E "decoded|vgpu stats" | sed 's/^/vgpu:   /'
  done
done 2>&1 | tee "$OUT/llama-stats.txt"
# and the speed, graphs on, natively and through vgpu
for side in native vgpu; do
  if [ $side = native ]; then pre=(env LD_LIBRARY_PATH=$LL/build/bin:/usr/local/cuda/lib64)
  else pre=(test/gpu/gpuless.sh env VGPU_SERVER=unix://$SOCK LD_LIBRARY_PATH=$LL/build/bin:$BIN LD_PRELOAD="$PRE"); fi
  echo "== llama-bench $side"
  "${pre[@]}" $LL/build/bin/llama-bench -m /tmp/med.gguf -p 512 -n 128 -r 3 -ngl 99 -o md 2>/dev/null
done 2>&1 | tee -a "$OUT/llama-stats.txt"
kill %1 2>/dev/null
