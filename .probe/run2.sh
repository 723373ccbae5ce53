#!/bin/bash
cd "$(dirname "$0")"
for f in /usr/local/cuda/lib64/libcudart.so.13 /usr/local/cuda/lib64/libcublas.so.13 /usr/local/cuda/lib64/libcublasLt.so.13 $(find /opt/torch/.venv -name 'libtorch_cuda.so' -o -name 'libc10_cuda.so' -o -name 'libnccl.so*' -o -name 'libcudnn_graph.so*' 2>/dev/null | head -6) $(python3 -c 'import cupy,os;print(os.path.dirname(cupy.__file__))' 2>/dev/null | xargs -r -I{} find {} -name '*.so' | head -50); do
  [ -f "$f" ] || continue
  strings -n 5 "$f" | grep -E '^cu[A-Z][A-Za-z0-9_]*$' | sed "s#^#$(basename $f) #"
done > $OUT/strings.txt 2>/dev/null
cut -d' ' -f2 $OUT/strings.txt | sed -E 's/(_v[0-9]+)?(_ptsz|_ptds)?$//' | sort -u > bases2.txt
wc -l $OUT/strings.txt bases2.txt
timeout 300 ./probe bases2.txt /usr/local/cuda/lib64/libcudart.so.13 > $OUT/probe2.txt 2>&1
echo rc=$?
