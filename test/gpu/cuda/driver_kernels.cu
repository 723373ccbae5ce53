// Device code for driver.cu, compiled three ways at build time:
//   nvcc -cubin  -arch=sm_90 driver_kernels.cu -o driver_kernels.cubin
//   nvcc -ptx    -arch=sm_90 driver_kernels.cu -o driver_kernels.ptx
//   nvcc -fatbin -arch=sm_90 driver_kernels.cu -o driver_kernels.fatbin
// extern "C" keeps the names unmangled for cuModuleGetFunction / cuLibraryGetKernel.
extern "C" {

__device__ int d_counter[4];

__global__ void vec_add(const float *a, const float *b, float *c, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) c[i] = a[i] + 2.0f * b[i];
}

// parameter offsets: out 0, c 8, x 16, f 24, d 32, s 40; 42 bytes
__global__ void params(int *out, char c, long long x, float f, double d, short s) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    out[0] = c;
    out[1] = (int)(x >> 32);
    out[2] = (int)(x & 0xFFFFFFFF);
    out[3] = __float_as_int(f);
    long long db = __double_as_longlong(d);
    out[4] = (int)(db >> 32);
    out[5] = (int)(db & 0xFFFFFFFF);
    out[6] = s;
  }
}

__global__ void bump(int k) {
  if (threadIdx.x < 4) d_counter[threadIdx.x] += k * (int)(threadIdx.x + 1);
}
}
