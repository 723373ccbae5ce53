// Per-thread concurrency (docs/ARCHITECTURE.md, decision 14): 8 host threads, each with its own
// stream, launch a ~1 ms kernel into it and synchronise it, 20 times; the threads run at once.
//   nvcc -arch=sm_90 -cudart shared -O2 threads.cu -o threads
// Deterministic lines (one per thread: the sum of its buffer, checked against the expected
// value) are compared natively and through vgpu; the timing is a "metric" line (filtered out of
// the comparison): the median of 3 rounds of the whole (8 threads x 20 launches and syncs), and
// the same done by one thread alone (8 x 20 one after another, for scale).
#include "check.h"
#include <algorithm>
#include <chrono>
#include <thread>
#include <vector>

__device__ __forceinline__ unsigned long long gtime() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
// Adds add to each of the n words after ns of GPU time (block 0 spins; the kernel lasts ~ns).
__global__ void k_work(uint32_t *p, int n, uint32_t add, unsigned long long ns) {
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    unsigned long long t0 = gtime();
    while (gtime() - t0 < ns) {
    }
  }
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) p[i] += add;
}

static const int NT = 8, ITERS = 20, N = 1 << 16;
static const unsigned long long KERNEL_NS = 1000000ull;  // 1 ms

// One thread's work: its own stream and buffer, ITERS launches each followed by a
// synchronisation, then the check of its buffer. Returns the buffer's sum.
static uint64_t work(int k) {
  cudaStream_t s;
  uint32_t *d = nullptr;
  CK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
  CK(cudaMalloc(&d, N * sizeof(uint32_t)));
  CK(cudaMemsetAsync(d, 0, N * sizeof(uint32_t), s));
  for (int i = 0; i < ITERS; i++) {
    k_work<<<4, 256, 0, s>>>(d, N, (uint32_t)(k + 1), KERNEL_NS);
    CKL();
    CK(cudaStreamSynchronize(s));
  }
  std::vector<uint32_t> h(N);
  CK(cudaMemcpy(h.data(), d, N * sizeof(uint32_t), cudaMemcpyDeviceToHost));
  uint64_t sum = 0;
  for (uint32_t v : h) sum += v;
  CK(cudaFree(d));
  CK(cudaStreamDestroy(s));
  return sum;
}

static double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

int main() {
  CK(cudaFree(0));  // the context, outside the timing
  std::vector<double> together, alone;
  std::vector<uint64_t> sums(NT);
  for (int round = 0; round < 3; round++) {
    auto t0 = std::chrono::steady_clock::now();
    std::vector<std::thread> ts;
    for (int k = 0; k < NT; k++) ts.emplace_back([k, &sums] { sums[k] = work(k); });
    for (auto &t : ts) t.join();
    together.push_back(ms_since(t0));
    for (int k = 0; k < NT; k++) {
      uint64_t want = (uint64_t)N * ITERS * (k + 1);
      EXPECT(sums[k] == want, "round %d thread %d: sum %llu, want %llu", round, k, (unsigned long long)sums[k], (unsigned long long)want);
      if (round == 0) printf("thread %d: sum %llu\n", k, (unsigned long long)sums[k]);
    }
  }
  for (int round = 0; round < 3; round++) {
    auto t0 = std::chrono::steady_clock::now();
    for (int k = 0; k < NT; k++) sums[k] = work(k);
    alone.push_back(ms_since(t0));
  }
  std::sort(together.begin(), together.end());
  std::sort(alone.begin(), alone.end());
  printf("metric threads8_ms %.2f ms\n", together[1]);
  printf("metric threads1_serial_ms %.2f ms\n", alone[1]);
  return vt_finish();
}
