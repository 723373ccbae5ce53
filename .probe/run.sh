#!/bin/bash
cd "$(dirname "$0")"
{
nvidia-smi -L
ls /usr/local/cuda/include/cuda*Typedefs.h
ls -la /usr/lib/x86_64-linux-gnu/libcuda.so* /usr/local/cuda/lib64/libcudart.so* 2>&1
} > $OUT/info.txt 2>&1
true
true
L=$(ldconfig -p | grep "libcuda.so.1 " | head -1 | sed "s/.*=> //"); L=$(readlink -f $L); echo "libcuda: $L" >> $OUT/info.txt
nm -D --defined-only $L | grep -i cudbg > $OUT/cudbg_types.txt
nm -D --defined-only $L | wc -l >> $OUT/info.txt
find / -xdev \( -name 'libcudart.so.12*' -o -name 'libcudart.so.13*' \) 2>/dev/null >> $OUT/info.txt
timeout 300 ./probe bases.txt /usr/local/cuda/lib64/libcudart.so.13 > $OUT/probe.txt 2>&1
echo rc=$? >> $OUT/info.txt
C12=$(find / -xdev -name 'libcudart.so.12*' -type f 2>/dev/null | head -1)
if [ -n "$C12" ]; then nm -D --defined-only --with-symbol-versions $C12 > $OUT/cudart12.nm; echo "$C12" >> $OUT/info.txt; fi
ls -la $OUT
