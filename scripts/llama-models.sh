#!/bin/bash
# Makes what test/gpu/llama_checks.sh reads from .carry/ besides the llama.cpp source: the
# random-weight models tiny-q8_0.gguf and tiny-f16.gguf, and a static vgpu-gguf binary with which
# the GPU machine (no Go there) makes the larger benchmark model itself.
set -eu
cd "$(dirname "$0")/.."
mkdir -p .carry
CGO_ENABLED=0 go build -o .carry/vgpu-gguf ./cmd/vgpu-gguf
for t in q8_0 f16; do
  .carry/vgpu-gguf -o .carry/tiny-$t.gguf -type $t -embd 256 -heads 4 -heads-kv 4 -ff 512 -layers 2 -vocab 272 -ctx 1024
done
