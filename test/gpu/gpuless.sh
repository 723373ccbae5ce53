#!/bin/bash
# Runs CMD as a GPU-less client: a private mount namespace in which the NVIDIA device nodes and
# every copy of the real libcuda / libnvidia-ml are covered by /dev/null, so nothing can reach
# the driver except through vgpu. Usage: test/gpu/gpuless.sh CMD ARGS...
exec unshare -m --propagation private bash -c '
for d in /dev/nvidia*; do [ -c "$d" ] && mount --bind /dev/null "$d"; done
for f in $(find / -xdev \( -name "libcuda.so*" -o -name "libnvidia-ml.so*" -o -name "libcudadebugger.so*" \) \( -type f -o -type l \) -not -path "*/vgpu-out/*" -not -path "*/build/out/*" 2>/dev/null | xargs -r -n1 readlink -f | sort -u); do
  case "$f" in */build/out/*) continue;; esac
  mount --bind /dev/null "$f" 2>/dev/null
done
exec "$@"' gpuless "$@"
