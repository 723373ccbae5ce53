// vgpu benchmark: one line per metric, "metric <name> <value> <unit>", so that a native run and a
// run through vgpu can be joined by test/gpu/bench/compare.sh.
// Build: nvcc -arch=sm_90 -cudart shared -O2 bench.cu -o bench
// Usage: bench [--quick]   (--quick: fewer repetitions, no 512 MiB sizes)
//        bench --launches [--syscall]   (only driver-API launches, 200,000 a repetition, 5
//        repetitions, for a profile of the launch path alone; --syscall reads 160 bytes from a
//        socket pair before each launch, as the worker reads a launch's frame)
//        bench --syncs   (only launch + cudaStreamSynchronize, 20,000 a repetition, 3
//        repetitions: the round trip alone, for the client's and the worker's counts of it)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>
#include <sys/socket.h>
#include <unistd.h>
#include <cuda.h>
#include <cuda_runtime.h>

static int g_fail = 0;
#define CK(call)                                                                          \
  do {                                                                                    \
    cudaError_t e_ = (call);                                                              \
    if (e_ != cudaSuccess) {                                                              \
      printf("ERROR %s %s line %d\n", #call, cudaGetErrorName(e_), __LINE__);             \
      fflush(stdout);                                                                     \
      g_fail++;                                                                           \
    }                                                                                     \
  } while (0)

static inline double now_us() {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
static double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}
static void metric(const char *name, double v, const char *unit) {
  printf("metric %s %.4f %s\n", name, v, unit);
  fflush(stdout);
}

__global__ void k_empty() {}

// launchesOnly: the driver-API launch loop alone, long enough for a CPU profile of it. With
// syscall, each launch first reads a 160-byte message from a socket pair (written ahead in
// batches, as the client's frames arrive): does a system call between launches make the
// driver's launch dearer (caches and TLBs the kernel's entry flushes)?
static int launchesOnly(bool syscall) {
  CK(cudaFree(nullptr));
  cudaStream_t s;
  CK(cudaStreamCreate(&s));
  cudaFunction_t f = nullptr;
  CK(cudaGetFuncBySymbol(&f, (const void *)k_empty));
  int sv[2] = {-1, -1};
  if (syscall && socketpair(AF_UNIX, SOCK_STREAM, 0, sv) != 0) return 2;
  static char msg[160 * 64];
  const int n = 200000;
  std::vector<double> per;
  for (int rep = 0; rep < 5; rep++) {
    double a = now_us();
    for (int i = 0; i < n; i++) {
      if (syscall) {
        if (i % 64 == 0 && write(sv[1], msg, sizeof msg) != (ssize_t)sizeof msg) return 2;
        if (read(sv[0], msg, 160) != 160) return 2;
      }
      cuLaunchKernel((CUfunction)f, 1, 1, 1, 1, 1, 1, 0, (CUstream)s, nullptr, nullptr);
    }
    CK(cudaStreamSynchronize(s));
    per.push_back((now_us() - a) / n);
  }
  metric(syscall ? "launch_driver_syscall_us" : "launch_driver_only_us", median(per), "us");
  return g_fail ? 1 : 0;
}

// syncsOnly: launch + synchronise alone, many times, so that the counts of a run through vgpu
// (VGPU_STATS, VGPU_WORKER_STATS) are those of this round trip and little else.
static int syncsOnly() {
  CK(cudaFree(nullptr));
  cudaStream_t s;
  CK(cudaStreamCreate(&s));
  const int n = 20000;
  std::vector<double> per;
  for (int rep = 0; rep < 3; rep++) {
    double a = now_us();
    for (int i = 0; i < n; i++) {
      k_empty<<<1, 1, 0, s>>>();
      CK(cudaStreamSynchronize(s));
    }
    per.push_back((now_us() - a) / n);
  }
  metric("launch_sync_only_us", median(per), "us");
  return g_fail ? 1 : 0;
}

int main(int argc, char **argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
  if (argc > 1 && strcmp(argv[1], "--launches") == 0) return launchesOnly(argc > 2 && strcmp(argv[2], "--syscall") == 0);
  if (argc > 1 && strcmp(argv[1], "--syncs") == 0) return syncsOnly();

  // init: the first call that creates the context
  double t0 = now_us();
  CK(cudaFree(nullptr));
  metric("init_us", now_us() - t0, "us");

  cudaStream_t s;
  CK(cudaStreamCreate(&s));
  for (int i = 0; i < 1000; i++) k_empty<<<1, 1, 0, s>>>();
  CK(cudaStreamSynchronize(s));

  // (a) async launch rate: N empty launches, then one synchronisation
  {
    const int n = quick ? 5000 : 20000;
    std::vector<double> per, enq;
    for (int rep = 0; rep < 3; rep++) {
      double a = now_us();
      for (int i = 0; i < n; i++) k_empty<<<1, 1, 0, s>>>();
      double b = now_us();
      CK(cudaStreamSynchronize(s));
      double c = now_us();
      enq.push_back((b - a) / n);
      per.push_back((c - a) / n);
    }
    CK(cudaGetLastError());
    metric("launch_async_us", median(per), "us");
    metric("launch_enqueue_us", median(enq), "us");
  }

  // (a') the same through the driver API's public cuLaunchKernel (cudart itself launches through
  // a private driver interface), to tell the two launch paths' costs apart
  {
    cudaFunction_t f = nullptr;
    if (cudaGetFuncBySymbol(&f, (const void *)k_empty) == cudaSuccess) {
      const int n = quick ? 5000 : 20000;
      std::vector<double> per;
      for (int rep = 0; rep < 3; rep++) {
        double a = now_us();
        for (int i = 0; i < n; i++) cuLaunchKernel((CUfunction)f, 1, 1, 1, 1, 1, 1, 0, (CUstream)s, nullptr, nullptr);
        CK(cudaStreamSynchronize(s));
        per.push_back((now_us() - a) / n);
      }
      metric("launch_async_driver_us", median(per), "us");
    }
  }

  // (a'') the caller's cost of a launch while the GPU keeps up: bursts of 64 launches into an
  // idle stream (far fewer than the driver queues), timed without their synchronisation. In (a)
  // the queue fills, so natively it measures the GPU's rate; here, the driver's CPU cost
  // natively, and through vgpu the client's (the worker's is (a)'s time less this).
  {
    const int bursts = quick ? 200 : 800, n = 64;
    std::vector<double> per;
    for (int rep = 0; rep < bursts; rep++) {
      double a = now_us();
      for (int i = 0; i < n; i++) k_empty<<<1, 1, 0, s>>>();
      per.push_back((now_us() - a) / n);
      CK(cudaStreamSynchronize(s));
    }
    metric("launch_burst_us", median(per), "us");
  }

  // (b) launch + cudaStreamSynchronize round trip
  {
    const int n = quick ? 500 : 2000;
    std::vector<double> v;
    v.reserve(n);
    for (int i = 0; i < n; i++) {
      double a = now_us();
      k_empty<<<1, 1, 0, s>>>();
      CK(cudaStreamSynchronize(s));
      v.push_back(now_us() - a);
    }
    metric("launch_sync_us", median(v), "us");
  }

  // (d) cudaMalloc + cudaFree of 1 MiB
  {
    std::vector<double> v;
    for (int i = 0; i < (quick ? 50 : 200); i++) {
      void *p = nullptr;
      double a = now_us();
      CK(cudaMalloc(&p, 1 << 20));
      CK(cudaFree(p));
      v.push_back(now_us() - a);
    }
    metric("malloc_free_1MiB_us", median(v), "us");
  }

  // (e) cudaGetDevice: median of batches of 1000 calls, at most ~1 s in all
  {
    std::vector<double> v;
    double start = now_us();
    for (int b = 0; b < 100 && now_us() - start < 1e6; b++) {
      int d = -1;
      double a = now_us();
      for (int i = 0; i < 1000; i++) CK(cudaGetDevice(&d));
      v.push_back((now_us() - a) / 1000);
    }
    metric("cudaGetDevice_us", median(v), "us");
  }

  // (c) H2D and D2H bandwidth, pageable and pinned
  {
    struct Size { size_t bytes; const char *name; int reps; };
    std::vector<Size> sizes = {{4096, "4KiB", 200}, {1 << 20, "1MiB", 50}, {64 << 20, "64MiB", 7}, {512 << 20, "512MiB", 3}};
    if (quick) sizes = {{4096, "4KiB", 50}, {1 << 20, "1MiB", 10}, {64 << 20, "64MiB", 3}};
    size_t maxb = sizes.back().bytes;
    void *d = nullptr, *pinned = nullptr;
    CK(cudaMalloc(&d, maxb));
    CK(cudaMallocHost(&pinned, maxb));
    char *pageable = (char *)malloc(maxb);
    if (!d || !pinned || !pageable) {
      printf("ERROR buffers for the bandwidth test\n");
      return 1;
    }
    memset(pageable, 1, maxb);  // fault every page in before timing
    memset(pinned, 2, maxb);
    CK(cudaMemset(d, 3, maxb));
    CK(cudaDeviceSynchronize());
    for (const Size &sz : sizes) {
      for (int pin = 0; pin < 2; pin++) {
        void *h = pin ? pinned : (void *)pageable;
        for (int dir = 0; dir < 2; dir++) {
          std::vector<double> v;
          int reps = sz.reps;
          for (int r = 0; r < reps + 1; r++) {  // the first one is a warm-up
            double a = now_us();
            if (dir == 0) CK(cudaMemcpy(d, h, sz.bytes, cudaMemcpyHostToDevice));
            else CK(cudaMemcpy(h, d, sz.bytes, cudaMemcpyDeviceToHost));
            double t = now_us() - a;
            if (r) v.push_back(t);
            else if (t > 1.5e6) reps = 1;  // very slow: keep the run time bounded
          }
          double us = median(v);
          char name[64];
          snprintf(name, sizeof name, "%s_%s_%s", dir == 0 ? "h2d" : "d2h", pin ? "pinned" : "pageable", sz.name);
          char n1[80], n2[80];
          snprintf(n1, sizeof n1, "%s_us", name);
          snprintf(n2, sizeof n2, "%s_GBps", name);
          metric(n1, us, "us");
          metric(n2, us > 0 ? (double)sz.bytes / (us * 1e3) : 0, "GB/s");
        }
      }
    }
    free(pageable);
    CK(cudaFreeHost(pinned));
    CK(cudaFree(d));
  }
  CK(cudaStreamDestroy(s));
  if (g_fail) printf("RESULT FAIL %d\n", g_fail);
  else printf("RESULT PASS\n");
  return g_fail ? 1 : 0;
}
