// Streams, events and CUDA graphs (as ggml-cuda uses them).
// Built twice:
//   nvcc -arch=sm_90 -cudart shared -O2 streams.cu -o streams
//   nvcc -arch=sm_90 -cudart shared -O2 --default-stream per-thread streams.cu -o streams_ptds
// (the second calls the _ptds/_ptsz entry points of cudart, and stream 0 is per thread).
#include "check.h"
#include <thread>
#include <vector>

__device__ __forceinline__ unsigned long long gtime() {
  unsigned long long t;
  asm volatile("mov.u64 %0, %%globaltimer;" : "=l"(t));
  return t;
}
// Busy for ns nanoseconds of GPU time (one thread).
__global__ void k_spin(unsigned long long ns) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    unsigned long long t0 = gtime();
    while (gtime() - t0 < ns) {
    }
  }
}
__global__ void k_set(uint32_t *p, int n, uint32_t seed) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) p[i] = vt_pat(i, seed);
}
__global__ void k_dbl(const uint32_t *in, uint32_t *out, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) out[i] = in[i] * 2u + 1u;
}
__global__ void k_add(uint32_t *p, int n, uint32_t k) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) p[i] += k;
}
__global__ void k_scale(uint32_t *p, int n, uint32_t m) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) p[i] *= m;
}

static const int N = 1 << 20;
static const unsigned long long MS = 1000000ull;

static int count_bad(const std::vector<uint32_t> &got, uint32_t seed, uint32_t mul, uint32_t add, int upto = N) {
  int bad = 0;
  for (int i = 0; i < N; i++) {
    uint32_t want = i < upto ? vt_pat(i, seed) * mul + add : 0;
    bad += got[i] != want;
  }
  return bad;
}

static void test_priorities() {
#ifdef CUDA_API_PER_THREAD_DEFAULT_STREAM
  printf("default stream: per-thread\n");
#else
  printf("default stream: legacy\n");
#endif
  int least = 0, greatest = 0;
  CK(cudaDeviceGetStreamPriorityRange(&least, &greatest));
  printf("stream priority range: least %d greatest %d\n", least, greatest);
  cudaStream_t hp, lp, nb;
  if (CK(cudaStreamCreateWithPriority(&hp, cudaStreamNonBlocking, greatest)) &&
      CK(cudaStreamCreateWithPriority(&lp, cudaStreamDefault, least)) &&
      CK(cudaStreamCreateWithFlags(&nb, cudaStreamNonBlocking))) {
    int p1 = 99, p2 = 99;
    unsigned int f1 = 99, f2 = 99, f3 = 99;
    CK(cudaStreamGetPriority(hp, &p1));
    CK(cudaStreamGetPriority(lp, &p2));
    CK(cudaStreamGetFlags(hp, &f1));
    CK(cudaStreamGetFlags(lp, &f2));
    CK(cudaStreamGetFlags(nb, &f3));
    printf("stream priorities: high %d low %d; flags %u %u %u\n", p1, p2, f1, f2, f3);
    EXPECT(p1 == greatest && p2 == least && f1 == 1 && f2 == 0 && f3 == 1, "stream priority/flags");
    // work on both, high priority second, results checked
    uint32_t *a, *b;
    if (CK(cudaMalloc(&a, N * 4)) && CK(cudaMalloc(&b, N * 4))) {
      k_set<<<128, 256, 0, lp>>>(a, N, 1);
      CKL();
      k_set<<<128, 256, 0, hp>>>(b, N, 2);
      CKL();
      CK(cudaStreamSynchronize(lp));
      CK(cudaStreamSynchronize(hp));
      std::vector<uint32_t> h(N);
      CK(cudaMemcpy(h.data(), a, N * 4, cudaMemcpyDeviceToHost));
      EXPECT(count_bad(h, 1, 1, 0) == 0, "low-priority stream result");
      CK(cudaMemcpy(h.data(), b, N * 4, cudaMemcpyDeviceToHost));
      EXPECT(count_bad(h, 2, 1, 0) == 0, "high-priority stream result");
      CK(cudaFree(a));
      CK(cudaFree(b));
    }
    CK(cudaStreamDestroy(hp));
    CK(cudaStreamDestroy(lp));
    CK(cudaStreamDestroy(nb));
  }
}

static void test_events_and_waits() {
  cudaStream_t sa, sb;
  cudaEvent_t ev, ev2, t0, t1;
  if (!CK(cudaStreamCreateWithFlags(&sa, cudaStreamNonBlocking)) || !CK(cudaStreamCreateWithFlags(&sb, cudaStreamNonBlocking)))
    return;
  if (!CK(cudaEventCreateWithFlags(&ev, cudaEventDisableTiming)) || !CK(cudaEventCreateWithFlags(&ev2, cudaEventDisableTiming)) ||
      !CK(cudaEventCreate(&t0)) || !CK(cudaEventCreate(&t1)))
    return;
  uint32_t *buf, *out;
  if (!CK(cudaMalloc(&buf, N * 4)) || !CK(cudaMalloc(&out, N * 4))) return;
  CK(cudaMemset(buf, 0, N * 4));
  CK(cudaMemset(out, 0, N * 4));
  CK(cudaDeviceSynchronize());
  std::vector<uint32_t> h(N);

  // Cross-stream dependency: sb must wait for sa's slow producer. Ignoring the wait reads zeros.
  k_spin<<<1, 32, 0, sa>>>(50 * MS);
  CKL();
  k_set<<<128, 256, 0, sa>>>(buf, N, 21);
  CKL();
  CK(cudaEventRecord(ev, sa));
  CK(cudaStreamWaitEvent(sb, ev, 0));
  k_dbl<<<128, 256, 0, sb>>>(buf, out, N);
  CKL();
  CK(cudaStreamSynchronize(sb));
  CK(cudaMemcpy(h.data(), out, N * 4, cudaMemcpyDeviceToHost));
  int bad = count_bad(h, 21, 2, 1);
  printf("cudaStreamWaitEvent dependency: %s\n", bad == 0 ? "respected" : "IGNORED");
  EXPECT(bad == 0, "cudaStreamWaitEvent: %d wrong", bad);
  printf("cudaEventQuery after dependent stream finished: %s\n", vt_ename(cudaEventQuery(ev)));

  // Queries while busy, then after synchronising.
  k_spin<<<1, 32, 0, sa>>>(100 * MS);
  CKL();
  CK(cudaEventRecord(ev2, sa));
  cudaError_t qs = cudaStreamQuery(sa);
  cudaError_t qe = cudaEventQuery(ev2);
  printf("cudaStreamQuery busy: %s\n", vt_ename(qs));
  printf("cudaEventQuery busy: %s\n", vt_ename(qe));
  printf("cudaGetLastError after NotReady: %s\n", vt_ename(cudaGetLastError()));
  CK(cudaEventSynchronize(ev2));
  printf("cudaEventQuery after sync: %s\n", vt_ename(cudaEventQuery(ev2)));
  printf("cudaStreamQuery after sync: %s\n", vt_ename(cudaStreamQuery(sa)));
  EXPECT(qs == cudaErrorNotReady && qe == cudaErrorNotReady, "queries on a busy stream should say not ready");

  // Timing events around 2 ms of GPU work.
  CK(cudaEventRecord(t0, sb));
  k_spin<<<1, 32, 0, sb>>>(2 * MS);
  CKL();
  CK(cudaEventRecord(t1, sb));
  CK(cudaEventSynchronize(t1));
  float ms = -1.f;
  CK(cudaEventElapsedTime(&ms, t0, t1));
  printf("cudaEventElapsedTime: elapsed > 0 %s, >= 1.9 ms %s\n", ms > 0 ? "yes" : "no", ms >= 1.9f ? "yes" : "no");
  EXPECT(ms >= 1.9f, "elapsed time too small");

  // The legacy default stream synchronises with blocking streams.
  cudaStream_t blk;
  if (CK(cudaStreamCreate(&blk))) {
    CK(cudaMemset(out, 0, N * 4));
    CK(cudaDeviceSynchronize());
    k_spin<<<1, 32, 0, blk>>>(30 * MS);
    CKL();
    k_set<<<128, 256, 0, blk>>>(buf, N, 31);
    CKL();
    k_dbl<<<128, 256, 0, cudaStreamLegacy>>>(buf, out, N);  // waits for blk
    CKL();
    k_add<<<128, 256, 0, blk>>>(out, N, 5);  // waits for the legacy stream
    CKL();
    CK(cudaStreamSynchronize(blk));
    CK(cudaMemcpy(h.data(), out, N * 4, cudaMemcpyDeviceToHost));
    bad = count_bad(h, 31, 2, 6);
    printf("legacy stream implicit synchronisation: %s\n", bad == 0 ? "respected" : "IGNORED");
    EXPECT(bad == 0, "legacy stream: %d wrong", bad);
    CK(cudaStreamSynchronize(cudaStreamLegacy));
    CK(cudaStreamDestroy(blk));
  }

  // Per-thread default streams: two host threads, each with its own buffer.
  uint32_t *tb[2] = {nullptr, nullptr};
  CK(cudaMalloc(&tb[0], N * 4));
  CK(cudaMalloc(&tb[1], N * 4));
  int tbad[2] = {-1, -1};
  auto worker = [&](int t) {
    std::vector<uint32_t> hh(N);
    k_set<<<64, 256, 0, cudaStreamPerThread>>>(tb[t], N, 50 + t);
    k_add<<<64, 256, 0, 0>>>(tb[t], N, 0);  // stream 0: legacy or this thread's, in order either way
    k_add<<<64, 256, 0, cudaStreamPerThread>>>(tb[t], N, (uint32_t)t + 1);
    if (cudaStreamSynchronize(cudaStreamPerThread) != cudaSuccess) return;
    if (cudaMemcpy(hh.data(), tb[t], N * 4, cudaMemcpyDeviceToHost) != cudaSuccess) return;
    tbad[t] = count_bad(hh, 50 + t, 1, t + 1);
  };
  std::thread th0(worker, 0), th1(worker, 1);
  th0.join();
  th1.join();
  printf("cudaStreamPerThread from two threads: %d %d wrong\n", tbad[0], tbad[1]);
  EXPECT(tbad[0] == 0 && tbad[1] == 0, "per-thread streams");
  CKL();
  CK(cudaFree(tb[0]));
  CK(cudaFree(tb[1]));

  CK(cudaDeviceSynchronize());
  CK(cudaEventDestroy(ev));
  CK(cudaEventDestroy(ev2));
  CK(cudaEventDestroy(t0));
  CK(cudaEventDestroy(t1));
  CK(cudaStreamDestroy(sa));
  CK(cudaStreamDestroy(sb));
  CK(cudaFree(buf));
  CK(cudaFree(out));
}

// ---- graphs ---------------------------------------------------------------------------------

struct G {
  uint32_t *a, *b;
  cudaStream_t s;
};

// memset b; a = pattern; a += k twice; first half of a copied to b; b *= 3   (6 nodes, +1 if extra)
static cudaGraph_t capture(G &g, cudaStreamCaptureMode mode, uint32_t k, bool extra, const char *label) {
  cudaGraph_t graph = nullptr;
  if (!CK(cudaStreamBeginCapture(g.s, mode))) return nullptr;
  cudaStreamCaptureStatus st = cudaStreamCaptureStatusNone;
  CK(cudaStreamIsCapturing(g.s, &st));
  cudaStreamCaptureStatus st2 = cudaStreamCaptureStatusNone;
  unsigned long long id = 0;
  CK(cudaStreamGetCaptureInfo(g.s, &st2, &id));
  CK(cudaMemsetAsync(g.b, 0, N * 4, g.s));
  k_set<<<128, 256, 0, g.s>>>(g.a, N, 41);
  CKL();
  k_add<<<128, 256, 0, g.s>>>(g.a, N, k);
  CKL();
  k_add<<<128, 256, 0, g.s>>>(g.a, N, k);
  CKL();
  if (extra) {
    k_add<<<128, 256, 0, g.s>>>(g.a, N, 100);
    CKL();
  }
  CK(cudaMemcpyAsync(g.b, g.a, N / 2 * 4, cudaMemcpyDeviceToDevice, g.s));
  k_scale<<<128, 256, 0, g.s>>>(g.b, N, 3);
  CKL();
  CK(cudaStreamEndCapture(g.s, &graph));
  cudaStreamCaptureStatus st3 = cudaStreamCaptureStatusActive;
  CK(cudaStreamIsCapturing(g.s, &st3));
  size_t nodes = 0;
  if (graph) CK(cudaGraphGetNodes(graph, nullptr, &nodes));
  printf("capture %s k=%u: capturing %d, info status %d id %s, after end %d, nodes %zu\n", label, k, (int)st, (int)st2,
         id ? "nonzero" : "zero", (int)st3, nodes);
  EXPECT(st == cudaStreamCaptureStatusActive && st2 == cudaStreamCaptureStatusActive && st3 == cudaStreamCaptureStatusNone,
         "capture status");
  EXPECT(nodes == (extra ? 7u : 6u), "node count %zu", nodes);
  return graph;
}

static void check_graph_result(G &g, uint32_t k, bool extra, const char *what) {
  std::vector<uint32_t> h(N);
  CK(cudaMemcpy(h.data(), g.b, N * 4, cudaMemcpyDeviceToHost));
  int bad = count_bad(h, 41, 3, (2 * k + (extra ? 100 : 0)) * 3, N / 2);
  printf("%s: %s hash %016llx\n", what, bad == 0 ? "ok" : "WRONG", (unsigned long long)vt_hash(h.data(), N * 4));
  EXPECT(bad == 0, "%s: %d wrong", what, bad);
}

static void test_graphs() {
  G g;
  if (!CK(cudaMalloc(&g.a, N * 4)) || !CK(cudaMalloc(&g.b, N * 4))) return;
  if (!CK(cudaStreamCreateWithFlags(&g.s, cudaStreamNonBlocking))) return;
  cudaStreamCaptureStatus st = cudaStreamCaptureStatusActive;
  CK(cudaStreamIsCapturing(g.s, &st));
  printf("capturing before capture: %d\n", (int)st);

  cudaGraph_t g1 = capture(g, cudaStreamCaptureModeGlobal, 3, false, "global");
  if (!g1) return;
  cudaGraphExec_t exec = nullptr;
  if (!CK(cudaGraphInstantiate(&exec, g1, 0))) return;
  for (int r = 0; r < 5; r++) {
    CK(cudaMemsetAsync(g.a, 0xFF, N * 4, g.s));  // clobber: each launch must redo everything
    CK(cudaMemsetAsync(g.b, 0xFF, N * 4, g.s));
    CK(cudaGraphLaunch(exec, g.s));
    CK(cudaStreamSynchronize(g.s));
    char what[64];
    snprintf(what, sizeof what, "graph launch %d (k=3)", r + 1);
    check_graph_result(g, 3, false, what);
  }

  // Re-capture with another kernel argument (thread-local mode) and update the executable graph.
  cudaGraph_t g2 = capture(g, cudaStreamCaptureModeThreadLocal, 5, false, "thread-local");
  if (g2) {
    cudaGraphExecUpdateResultInfo info;
    memset(&info, 0, sizeof info);
    cudaError_t e = cudaGraphExecUpdate(exec, g2, &info);
    printf("cudaGraphExecUpdate same topology: %s result %d\n", vt_ename(e), (int)info.result);
    EXPECT(e == cudaSuccess && info.result == cudaGraphExecUpdateSuccess, "graph update");
    CK(cudaGraphLaunch(exec, g.s));
    CK(cudaStreamSynchronize(g.s));
    check_graph_result(g, 5, false, "graph launch after update (k=5)");
  }

  // Relaxed mode (what ggml uses), update again.
  cudaGraph_t g3 = capture(g, cudaStreamCaptureModeRelaxed, 9, false, "relaxed");
  if (g3) {
    cudaGraphExecUpdateResultInfo info;
    memset(&info, 0, sizeof info);
    cudaError_t e = cudaGraphExecUpdate(exec, g3, &info);
    printf("cudaGraphExecUpdate relaxed capture: %s result %d\n", vt_ename(e), (int)info.result);
    EXPECT(e == cudaSuccess && info.result == cudaGraphExecUpdateSuccess, "graph update 2");
    for (int r = 0; r < 3; r++) CK(cudaGraphLaunch(exec, g.s));
    CK(cudaStreamSynchronize(g.s));
    check_graph_result(g, 9, false, "graph launch x3 after update (k=9)");
  }

  // A changed topology cannot be updated: ggml then clears the error and re-instantiates.
  cudaGraph_t g4 = capture(g, cudaStreamCaptureModeRelaxed, 9, true, "relaxed+node");
  if (g4) {
    cudaGraphExecUpdateResultInfo info;
    memset(&info, 0, sizeof info);
    cudaError_t e = cudaGraphExecUpdate(exec, g4, &info);
    printf("cudaGraphExecUpdate changed topology: %s result %d\n", vt_ename(e), (int)info.result);
    EXPECT(e != cudaSuccess, "graph update with a changed topology should fail");
    printf("cudaGetLastError after failed update: %s\n", vt_ename(cudaGetLastError()));
    CK(cudaGraphExecDestroy(exec));
    exec = nullptr;
    if (CK(cudaGraphInstantiate(&exec, g4, 0))) {
      CK(cudaGraphLaunch(exec, g.s));
      CK(cudaStreamSynchronize(g.s));
      check_graph_result(g, 9, true, "graph launch after re-instantiate");
    }
  }

  // An accumulating graph launched 10 times back to back: every launch must run, in order.
  uint32_t *c;
  if (CK(cudaMalloc(&c, N * 4))) {
    CK(cudaMemset(c, 0, N * 4));
    CK(cudaDeviceSynchronize());
    cudaGraph_t ga = nullptr;
    cudaGraphExec_t ea = nullptr;
    CK(cudaStreamBeginCapture(g.s, cudaStreamCaptureModeGlobal));
    k_add<<<128, 256, 0, g.s>>>(c, N, 1);
    CKL();
    k_scale<<<128, 256, 0, g.s>>>(c, N, 1);
    CKL();
    CK(cudaStreamEndCapture(g.s, &ga));
    if (ga && CK(cudaGraphInstantiate(&ea, ga, 0))) {
      for (int r = 0; r < 10; r++) CK(cudaGraphLaunch(ea, g.s));
      CK(cudaStreamSynchronize(g.s));
      std::vector<uint32_t> h(N);
      CK(cudaMemcpy(h.data(), c, N * 4, cudaMemcpyDeviceToHost));
      int bad = 0;
      for (int i = 0; i < N; i++) bad += h[i] != 10;
      printf("accumulating graph x10: %s\n", bad == 0 ? "ok" : "WRONG");
      EXPECT(bad == 0, "accumulating graph: %d wrong", bad);
      CK(cudaGraphExecDestroy(ea));
    }
    if (ga) CK(cudaGraphDestroy(ga));
    CK(cudaFree(c));
  }

  if (exec) CK(cudaGraphExecDestroy(exec));
  CK(cudaGraphDestroy(g1));
  if (g2) CK(cudaGraphDestroy(g2));
  if (g3) CK(cudaGraphDestroy(g3));
  if (g4) CK(cudaGraphDestroy(g4));
  CK(cudaStreamDestroy(g.s));
  CK(cudaFree(g.a));
  CK(cudaFree(g.b));
}

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  CK(cudaSetDevice(0));
  test_priorities();
  test_events_and_waits();
  test_graphs();
  CK(cudaDeviceSynchronize());
  return vt_finish();
}
