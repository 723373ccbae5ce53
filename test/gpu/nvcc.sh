# How the GPU scripts build their CUDA programs (sourced by exec_checks.sh and ab_server.sh): nvcc
# for the H100/H200 (sm_90) with the runtime as a shared library, so one binary loads the real
# libcudart natively and vgpu's through LD_LIBRARY_PATH.
XC_NVCC=${NVCC:-/usr/local/cuda/bin/nvcc}
XC_FLAGS=(-arch=sm_90 -cudart shared -O2 -std=c++17)
