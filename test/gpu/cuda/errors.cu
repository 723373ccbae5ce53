// Error reporting: the codes of failing calls, last-error semantics, launch configuration errors,
// and last a kernel fault (illegal address), which leaves the context unusable: this program runs
// in its own process and does nothing after the fault but report the sticky error.
// Build: nvcc -arch=sm_90 -cudart shared -O2 errors.cu -o errors
#include "check.h"

__global__ void k_ok(int *p) { p[threadIdx.x] = threadIdx.x * 3; }
__global__ void k_bad(int *p) { *(volatile int *)p = 42; }
__global__ void k_smem(int *p) {
  extern __shared__ int sm[];
  sm[threadIdx.x] = threadIdx.x;
  __syncthreads();
  p[threadIdx.x] = sm[blockDim.x - 1 - threadIdx.x];
}

// expect: the exact error wanted, or EXPECT_ANY_ERROR for "any error but success"
static const cudaError_t EXPECT_ANY_ERROR = (cudaError_t)-1;

static void report(const char *what, cudaError_t got, cudaError_t want) {
  printf("%s: %s\n", what, vt_ename(got));
  if (want == EXPECT_ANY_ERROR) {
    EXPECT(got != cudaSuccess, "%s: expected an error, got success", what);
  } else {
    EXPECT(got == want, "%s: got %s want %s", what, vt_ename(got), vt_ename(want));
  }
}

static bool healthy(const char *when) {
  int *d = nullptr;
  int h[32];
  bool ok = CK(cudaMalloc(&d, 32 * 4));
  if (ok) {
    k_ok<<<1, 32>>>(d);
    ok = CKL() && CK(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost)) && CK(cudaFree(d));
    for (int i = 0; ok && i < 32; i++) ok = h[i] == i * 3;
  }
  printf("context healthy %s: %s\n", when, ok ? "yes" : "no");
  EXPECT(ok, "context not healthy %s", when);
  return ok;
}

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  int count = 0;
  CK(cudaGetDeviceCount(&count));

  // Invalid device ordinals; the error is recorded as the last error, which reading clears.
  report("cudaSetDevice(99)", cudaSetDevice(99), cudaErrorInvalidDevice);
  report("cudaGetLastError after it", cudaGetLastError(), cudaErrorInvalidDevice);
  report("cudaGetLastError again", cudaGetLastError(), cudaSuccess);
  cudaDeviceProp prop;
  report("cudaGetDeviceProperties(99)", cudaGetDeviceProperties(&prop, 99), cudaErrorInvalidDevice);
  int v = 0;
  report("cudaDeviceGetAttribute(dev 99)", cudaDeviceGetAttribute(&v, cudaDevAttrMultiProcessorCount, 99), cudaErrorInvalidDevice);
  cudaGetLastError();
  int dev = -1;
  CK(cudaGetDevice(&dev));
  printf("current device after failed cudaSetDevice: %d\n", dev);
  CK(cudaSetDevice(0));

  // Out of memory is not sticky.
  void *p = nullptr;
  report("cudaMalloc(1 PiB)", cudaMalloc(&p, 1ull << 50), cudaErrorMemoryAllocation);
  report("cudaPeekAtLastError", cudaPeekAtLastError(), cudaErrorMemoryAllocation);
  report("cudaGetLastError", cudaGetLastError(), cudaErrorMemoryAllocation);
  report("cudaGetLastError again", cudaGetLastError(), cudaSuccess);

  // Bad pointers.
  report("cudaFree(bogus pointer)", cudaFree((void *)0x12345), EXPECT_ANY_ERROR);
  cudaGetLastError();
  char host[64];
  report("cudaMemcpy D2H from bogus device pointer", cudaMemcpy(host, (void *)0x10, sizeof host, cudaMemcpyDeviceToHost),
         EXPECT_ANY_ERROR);
  cudaGetLastError();
  int notasymbol = 0;
  report("cudaMemcpyToSymbol(not a symbol)", cudaMemcpyToSymbol((const void *)&notasymbol, host, 4, 0, cudaMemcpyHostToDevice), EXPECT_ANY_ERROR);
  cudaGetLastError();
  healthy("after bad-pointer calls");

  // Launch configuration errors are reported by the launch itself (cudaGetLastError right after).
  // CUDA 13.0 with driver 580 reports cudaErrorInvalidValue for these (not InvalidConfiguration).
  int *d = nullptr;
  if (!CK(cudaMalloc(&d, 4096 * 4))) return vt_finish();
  k_ok<<<1, 2048>>>(d);
  report("launch with 2048 threads per block", cudaGetLastError(), EXPECT_ANY_ERROR);
  report("cudaGetLastError after it", cudaGetLastError(), cudaSuccess);
  k_ok<<<dim3(1, 70000), 32>>>(d);
  report("launch with gridDim.y 70000", cudaGetLastError(), EXPECT_ANY_ERROR);
  k_smem<<<1, 32, 100 * 1024>>>(d);  // more than 48 KiB without cudaFuncSetAttribute
  report("launch with 100 KiB dynamic shared memory, no opt-in", cudaGetLastError(), EXPECT_ANY_ERROR);
  report("cudaFuncSetAttribute(MaxDynamicSharedMemorySize, 1 MiB)",
         cudaFuncSetAttribute((const void *)k_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, 1 << 20), EXPECT_ANY_ERROR);
  cudaGetLastError();
  CK(cudaFuncSetAttribute((const void *)k_smem, cudaFuncAttributeMaxDynamicSharedMemorySize, 100 * 1024));
  k_smem<<<1, 32, 100 * 1024>>>(d);
  report("same launch after opt-in", cudaGetLastError(), cudaSuccess);
  CK(cudaDeviceSynchronize());

  // Elapsed time between events created without timing.
  cudaEvent_t e1, e2;
  if (CK(cudaEventCreateWithFlags(&e1, cudaEventDisableTiming)) && CK(cudaEventCreateWithFlags(&e2, cudaEventDisableTiming))) {
    CK(cudaEventRecord(e1, 0));
    CK(cudaEventRecord(e2, 0));
    CK(cudaEventSynchronize(e2));
    float ms = 0;
    report("cudaEventElapsedTime on DisableTiming events", cudaEventElapsedTime(&ms, e1, e2), EXPECT_ANY_ERROR);
    cudaGetLastError();
    CK(cudaEventDestroy(e1));
    CK(cudaEventDestroy(e2));
  }
  healthy("before the fault");

  // The fault: the launch succeeds, the synchronisation reports it, and it sticks: every later
  // call that needs the context fails with it. The last-error slot is a different thing: reading
  // it clears it, and natively (13.0, driver 580) it then reads cudaSuccess although the context
  // is still unusable.
  k_bad<<<1, 1>>>((int *)0x10);
  report("cudaGetLastError right after the faulting launch", cudaGetLastError(), cudaSuccess);
  report("cudaDeviceSynchronize", cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  int *q = nullptr;
  report("cudaMalloc after the fault", cudaMalloc(&q, 1024), cudaErrorIllegalAddress);
  int hh[4];
  report("cudaMemcpy after the fault", cudaMemcpy(hh, d, sizeof hh, cudaMemcpyDeviceToHost), cudaErrorIllegalAddress);
  report("cudaGetLastError", cudaGetLastError(), cudaErrorIllegalAddress);
  report("cudaPeekAtLastError after reading it", cudaPeekAtLastError(), cudaSuccess);
  report("cudaGetLastError again", cudaGetLastError(), cudaSuccess);
  report("cudaDeviceSynchronize again (sticky)", cudaDeviceSynchronize(), cudaErrorIllegalAddress);
  return vt_finish();
}
