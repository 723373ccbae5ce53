// Kernels: parameter layouts, every launch path of cudart, dynamic shared memory, function
// attributes, occupancy, __device__ and __constant__ symbols, device printf, templates.
// Build: nvcc -arch=sm_90 -cudart shared -O2 kernels.cu -o kernels
#include "check.h"
#include <cooperative_groups.h>
#include <vector>
namespace cg = cooperative_groups;

// ---- parameter layouts -------------------------------------------------------------------

__global__ void k_ints(int a, int b, int c, unsigned int d, int *out) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    out[0] = a; out[1] = b; out[2] = c; out[3] = (int)d; out[4] = a + b * c;
  }
}

__global__ void k_floats(float x, double y, float z, double w, double *out) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    out[0] = x; out[1] = y; out[2] = z; out[3] = w; out[4] = (double)x * y + z * w;
  }
}

// char and 64-bit values interleaved: offsets 0, 8, 16, 20, 24, 32, 40, 48
__global__ void k_mix(char c, long long x, char c2, int i, short s, double d, unsigned char u, long long *out) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    out[0] = c; out[1] = x; out[2] = c2; out[3] = i; out[4] = s;
    out[5] = __double_as_longlong(d); out[6] = u;
  }
}

struct S40 {
  int a;
  float b;
  double c;
  long long d;
  short e[4];
  char f[8];
};
static_assert(sizeof(S40) == 40, "S40 must be 40 bytes");

__global__ void k_struct(int tag, S40 s, char after, S40 *out, int *tags) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    *out = s;
    tags[0] = tag;
    tags[1] = after;
  }
}

// a 16-byte aligned vector after a char: offset 16
__global__ void k_align16(char c, float4 v, int *out) {
  if (threadIdx.x == 0) {
    out[0] = c;
    out[1] = __float_as_int(v.x); out[2] = __float_as_int(v.y);
    out[3] = __float_as_int(v.z); out[4] = __float_as_int(v.w);
  }
}

// a 1 KiB struct by value
struct Big { int v[256]; };
__global__ void k_big(Big b, int *out) {
  int t = threadIdx.x;
  if (t < 256) out[t] = b.v[t] * 3;
}

// pointers + n, grid-stride
__global__ void k_vadd(const float *a, const float *b, float *c, int n) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) c[i] = a[i] + 2.0f * b[i];
}

// 3-D grid and block
__global__ void k_dims(int *out) {
  int bx = blockIdx.x + gridDim.x * (blockIdx.y + gridDim.y * blockIdx.z);
  int tx = threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z);
  int nt = blockDim.x * blockDim.y * blockDim.z;
  out[bx * nt + tx] = (blockIdx.z << 24) | (blockIdx.y << 20) | (blockIdx.x << 16) | (threadIdx.z << 8) |
                      (threadIdx.y << 4) | threadIdx.x;
}

// ---- dynamic shared memory, cooperative launch, templates ---------------------------------

__global__ void k_dynsmem(uint32_t *out, int words) {
  extern __shared__ uint32_t sm[];
  for (int i = threadIdx.x; i < words; i += blockDim.x) sm[i] = vt_pat(i, blockIdx.x);
  __syncthreads();
  // each thread sums a strided slice read in reverse order
  uint32_t s = 0;
  for (int i = words - 1 - threadIdx.x; i >= 0; i -= blockDim.x) s += sm[i] * (uint32_t)(i + 1);
  atomicAdd(&out[blockIdx.x], s);
}

__global__ void k_coop(const uint32_t *in, int n, unsigned long long *partial, unsigned long long *out) {
  cg::grid_group g = cg::this_grid();
  __shared__ unsigned long long bs;
  if (threadIdx.x == 0) bs = 0;
  __syncthreads();
  unsigned long long s = 0;
  int nthreads = gridDim.x * blockDim.x;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += nthreads) s += in[i];
  atomicAdd(&bs, s);
  __syncthreads();
  if (threadIdx.x == 0) partial[blockIdx.x] = bs;
  g.sync();  // every block's partial is visible after this
  if (blockIdx.x == 0 && threadIdx.x == 0) {
    unsigned long long t = 0;
    for (unsigned int b = 0; b < gridDim.x; b++) t += partial[b];
    *out = t;
  }
}

template <typename T, int N>
__global__ void k_tmpl(T *p, T a) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
#pragma unroll
  for (int k = 0; k < N; k++) p[i * N + k] = p[i * N + k] * a + (T)k;
}

// ---- symbols ------------------------------------------------------------------------------

__device__ int g_dev[16];
__constant__ float c_coef[32];

__global__ void k_symbols(float *out) {
  int t = threadIdx.x;
  if (t < 16) g_dev[t] = g_dev[t] * 2 + t;
  if (t < 32) out[t] = c_coef[t] * c_coef[31 - t];
}

// ---- device printf ------------------------------------------------------------------------

__global__ void k_printf(int launch, double v) {
  if (threadIdx.x == 0 && blockIdx.x == 0) {
    printf("device printf: launch %d int %d hex %x\n", launch, launch * 7 - 3, 0xC0DE + launch);
    printf("device printf: launch %d double %.6f llong %lld string %s\n", launch, v, -1234567890123ll, "abc");
  }
}

// ---- tests --------------------------------------------------------------------------------

static void test_layouts(cudaStream_t s1, cudaStream_t s2) {
  int *di = nullptr;
  double *dd = nullptr;
  long long *dl = nullptr;
  S40 *ds = nullptr;
  if (!CK(cudaMalloc(&di, 4096)) || !CK(cudaMalloc(&dd, 64)) || !CK(cudaMalloc(&dl, 64)) || !CK(cudaMalloc(&ds, 64)))
    return;
  int hi[256];
  double hd[5];
  long long hl[7];

  // ints, default stream
  k_ints<<<1, 32>>>(-7, 123456, 9, 0xFEDCBA98u, di);
  CKL();
  CK(cudaMemcpy(hi, di, 5 * 4, cudaMemcpyDeviceToHost));
  printf("k_ints: %d %d %d %08x %d\n", hi[0], hi[1], hi[2], (unsigned)hi[3], hi[4]);
  EXPECT(hi[0] == -7 && hi[1] == 123456 && hi[2] == 9 && (unsigned)hi[3] == 0xFEDCBA98u && hi[4] == -7 + 123456 * 9, "k_ints");

  // floats and doubles, created stream
  k_floats<<<1, 32, 0, s1>>>(1.5f, 3.141592653589793, -0.25f, 1e300, dd);
  CKL();
  CK(cudaMemcpyAsync(hd, dd, 5 * 8, cudaMemcpyDeviceToHost, s1));
  CK(cudaStreamSynchronize(s1));
  printf("k_floats: %a %a %a %a %a\n", hd[0], hd[1], hd[2], hd[3], hd[4]);
  EXPECT(hd[0] == 1.5 && hd[1] == 3.141592653589793 && hd[2] == -0.25 && hd[3] == 1e300, "k_floats");

  // char / int64 alignment mix, second stream
  k_mix<<<1, 1, 0, s2>>>('A', 0x0123456789ABCDEFll, (char)-5, -42, (short)-30000, -2.5, (unsigned char)200, dl);
  CKL();
  CK(cudaStreamSynchronize(s2));
  CK(cudaMemcpy(hl, dl, 7 * 8, cudaMemcpyDeviceToHost));
  printf("k_mix: %lld %llx %lld %lld %lld %llx %lld\n", hl[0], hl[1], hl[2], hl[3], hl[4], hl[5], hl[6]);
  EXPECT(hl[0] == 'A' && hl[1] == 0x0123456789ABCDEFll && hl[2] == -5 && hl[3] == -42 && hl[4] == -30000 &&
             hl[6] == 200, "k_mix");

  // 40-byte struct by value, between an int and a char
  S40 in;
  memset(&in, 0, sizeof in);
  in.a = -1; in.b = 0.1f; in.c = -1.0 / 3.0; in.d = -0x7FFFFFFFFFFFll;
  for (int i = 0; i < 4; i++) in.e[i] = (short)(1000 * i - 1500);
  memcpy(in.f, "vgpu!S4", 8);
  k_struct<<<2, 64>>>(0x5EED, in, 'z', ds, di);
  CKL();
  S40 out;
  CK(cudaMemcpy(&out, ds, sizeof out, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(hi, di, 8, cudaMemcpyDeviceToHost));
  printf("k_struct: bytes hash %016llx tag %x after %c\n", (unsigned long long)vt_hash(&out, sizeof out), hi[0], (char)hi[1]);
  EXPECT(memcmp(&in, &out, sizeof in) == 0 && hi[0] == 0x5EED && hi[1] == 'z', "k_struct");

  // float4 after a char
  k_align16<<<1, 1>>>('q', make_float4(1.f, -2.f, 3.5f, 1e-30f), di);
  CKL();
  CK(cudaMemcpy(hi, di, 5 * 4, cudaMemcpyDeviceToHost));
  printf("k_align16: %c %08x %08x %08x %08x\n", (char)hi[0], hi[1], hi[2], hi[3], hi[4]);
  float f4[4];
  memcpy(f4, hi + 1, 16);
  EXPECT(hi[0] == 'q' && f4[0] == 1.f && f4[1] == -2.f && f4[2] == 3.5f && f4[3] == 1e-30f, "k_align16");

  // 1 KiB struct by value
  Big big;
  for (int i = 0; i < 256; i++) big.v[i] = i * i - 100;
  k_big<<<1, 256, 0, s1>>>(big, di);
  CKL();
  CK(cudaStreamSynchronize(s1));
  CK(cudaMemcpy(hi, di, 256 * 4, cudaMemcpyDeviceToHost));
  bool okbig = true;
  for (int i = 0; i < 256; i++) okbig = okbig && hi[i] == (i * i - 100) * 3;
  printf("k_big: hash %016llx\n", (unsigned long long)vt_hash(hi, 256 * 4));
  EXPECT(okbig, "k_big");

  // 3-D grid and block
  const dim3 g(3, 2, 2), b(4, 2, 3);
  const int total = 3 * 2 * 2 * 4 * 2 * 3;
  CK(cudaMemset(di, 0xFF, total * 4));
  k_dims<<<g, b, 0, s2>>>(di);
  CKL();
  CK(cudaStreamSynchronize(s2));
  CK(cudaMemcpy(hi, di, total * 4, cudaMemcpyDeviceToHost));
  bool okdims = true;
  for (int i = 0; i < total; i++) okdims = okdims && hi[i] != -1;
  printf("k_dims: %d threads hash %016llx\n", total, (unsigned long long)vt_hash(hi, total * 4));
  EXPECT(okdims, "k_dims: not every thread wrote");
  CK(cudaFree(di));
  CK(cudaFree(dd));
  CK(cudaFree(dl));
  CK(cudaFree(ds));
}

static void test_launch_apis(cudaStream_t s1) {
  const int n = 100000;
  std::vector<float> a(n), b(n), c(n);
  for (int i = 0; i < n; i++) { a[i] = (float)(i % 1000) * 0.5f; b[i] = (float)(i % 77) - 30.f; }
  float *da, *db, *dc;
  if (!CK(cudaMalloc(&da, n * 4)) || !CK(cudaMalloc(&db, n * 4)) || !CK(cudaMalloc(&dc, n * 4))) return;
  CK(cudaMemcpy(da, a.data(), n * 4, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(db, b.data(), n * 4, cudaMemcpyHostToDevice));
  auto verify = [&](const char *what) {
    CK(cudaMemcpy(c.data(), dc, n * 4, cudaMemcpyDeviceToHost));
    int bad = 0;
    for (int i = 0; i < n; i++) bad += c[i] != a[i] + 2.0f * b[i];
    EXPECT(bad == 0, "%s: %d wrong", what, bad);
    printf("%s: hash %016llx\n", what, (unsigned long long)vt_hash(c.data(), n * 4));
    CK(cudaMemset(dc, 0, n * 4));
  };
  int nn = n;
  void *args[] = {&da, &db, &dc, &nn};

  CK(cudaLaunchKernel((const void *)k_vadd, dim3(64), dim3(256), args, 0, nullptr));
  verify("cudaLaunchKernel default stream");
  CK(cudaLaunchKernel((const void *)k_vadd, dim3(100), dim3(128), args, 0, s1));
  CK(cudaStreamSynchronize(s1));
  verify("cudaLaunchKernel stream");

  int lo = 0, hi = 0;
  CK(cudaDeviceGetStreamPriorityRange(&lo, &hi));
  cudaLaunchAttribute attrs[2];
  memset(attrs, 0, sizeof attrs);
  attrs[0].id = cudaLaunchAttributePriority;
  attrs[0].val.priority = hi;
  attrs[1].id = cudaLaunchAttributeCooperative;
  attrs[1].val.cooperative = 0;
  cudaLaunchConfig_t cfg = {};
  cfg.gridDim = dim3(80);
  cfg.blockDim = dim3(192);
  cfg.dynamicSmemBytes = 0;
  cfg.stream = s1;
  cfg.attrs = attrs;
  cfg.numAttrs = 2;
  CK(cudaLaunchKernelExC(&cfg, (const void *)k_vadd, args));
  CK(cudaStreamSynchronize(s1));
  verify("cudaLaunchKernelExC priority+cooperative=0");

  // the C++ template wrapper of cudaLaunchKernelEx (it calls cudaLaunchKernelExC)
  cfg.numAttrs = 0;
  cfg.attrs = nullptr;
  CK(cudaLaunchKernelEx(&cfg, k_vadd, (const float *)da, (const float *)db, dc, n));
  CK(cudaStreamSynchronize(s1));
  verify("cudaLaunchKernelEx template");

  // Cooperative launch with a grid-wide barrier.
  int coop = 0, sms = 0, per_sm = 0;
  CK(cudaDeviceGetAttribute(&coop, cudaDevAttrCooperativeLaunch, 0));
  CK(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, 0));
  CK(cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&per_sm, (const void *)k_coop, 256, 0, cudaOccupancyDefault));
  printf("cooperative launch supported: %d\n", coop);
  const int blocks = 64;  // fixed, so the output does not depend on the SM count
  EXPECT(per_sm * sms >= blocks, "not enough co-resident blocks for the cooperative test");
  const int cn = 1 << 20;
  std::vector<uint32_t> hin(cn);
  unsigned long long want = 0;
  for (int i = 0; i < cn; i++) { hin[i] = vt_pat(i, 11); want += hin[i]; }
  uint32_t *din;
  unsigned long long *dpart, *dout, got = 0;
  if (CK(cudaMalloc(&din, cn * 4)) && CK(cudaMalloc(&dpart, blocks * 8)) && CK(cudaMalloc(&dout, 8))) {
    CK(cudaMemcpy(din, hin.data(), cn * 4, cudaMemcpyHostToDevice));
    CK(cudaMemset(dout, 0, 8));
    int cnn = cn;
    void *cargs[] = {&din, &cnn, &dpart, &dout};
    CK(cudaLaunchCooperativeKernel((const void *)k_coop, dim3(blocks), dim3(256), cargs, 0, s1));
    CK(cudaStreamSynchronize(s1));
    CK(cudaMemcpy(&got, dout, 8, cudaMemcpyDeviceToHost));
    printf("cudaLaunchCooperativeKernel: sum %llu\n", got);
    EXPECT(got == want, "cooperative sum %llu want %llu", got, want);
    CK(cudaFree(din));
    CK(cudaFree(dpart));
    CK(cudaFree(dout));
  }
  CK(cudaFree(da));
  CK(cudaFree(db));
  CK(cudaFree(dc));
}

static void print_attrs(const char *name, const void *f) {
  cudaFuncAttributes fa;
  memset(&fa, 0, sizeof fa);
  if (!CK(cudaFuncGetAttributes(&fa, f))) return;
  printf("attributes %s: maxThreadsPerBlock %d sharedSizeBytes %zu constSizeBytes %zu localSizeBytes %zu numRegs %d "
         "ptxVersion %d binaryVersion %d maxDynamicSharedSizeBytes %d\n",
         name, fa.maxThreadsPerBlock, fa.sharedSizeBytes, fa.constSizeBytes, fa.localSizeBytes, fa.numRegs,
         fa.ptxVersion, fa.binaryVersion, fa.maxDynamicSharedSizeBytes);
}

static void test_dynsmem_attrs() {
  const int smem = 100 * 1024, words = smem / 4, blocks = 8;
  print_attrs("k_dynsmem (before)", (const void *)k_dynsmem);
  CK(cudaFuncSetAttribute((const void *)k_dynsmem, cudaFuncAttributeMaxDynamicSharedMemorySize, smem));
  print_attrs("k_dynsmem (after)", (const void *)k_dynsmem);
  print_attrs("k_struct", (const void *)k_struct);
  print_attrs("k_coop", (const void *)k_coop);
  print_attrs("k_tmpl<double,2>", (const void *)k_tmpl<double, 2>);

  int nb = -1;
  CK(cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&nb, (const void *)k_vadd, 256, 0, cudaOccupancyDefault));
  printf("occupancy k_vadd 256 threads: %d blocks/SM\n", nb);
  CK(cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(&nb, (const void *)k_dynsmem, 256, smem, cudaOccupancyDisableCachingOverride));
  printf("occupancy k_dynsmem 256 threads 100 KiB: %d blocks/SM\n", nb);

  uint32_t *d;
  if (!CK(cudaMalloc(&d, blocks * 4))) return;
  CK(cudaMemset(d, 0, blocks * 4));
  k_dynsmem<<<blocks, 256, smem>>>(d, words);
  CKL();
  uint32_t h[blocks];
  CK(cudaMemcpy(h, d, sizeof h, cudaMemcpyDeviceToHost));
  for (int bl = 0; bl < blocks; bl++) {
    uint32_t want = 0;
    for (int i = 0; i < words; i++) want += vt_pat(i, bl) * (uint32_t)(i + 1);
    EXPECT(h[bl] == want, "k_dynsmem block %d: %08x want %08x", bl, h[bl], want);
  }
  printf("dynamic shared memory 100 KiB: hash %016llx\n", (unsigned long long)vt_hash(h, sizeof h));
  CK(cudaFree(d));
}

static void test_symbols() {
  int hv[16], back[16];
  for (int i = 0; i < 16; i++) hv[i] = 100 + i;
  float coef[32];
  for (int i = 0; i < 32; i++) coef[i] = 0.5f * i - 3.f;
  CK(cudaMemcpyToSymbol(g_dev, hv, sizeof hv));
  CK(cudaMemcpyToSymbol(c_coef, coef, sizeof coef));
  // a partial write at an offset into the __constant__ array
  float two[2] = {42.f, -42.f};
  CK(cudaMemcpyToSymbol(c_coef, two, sizeof two, 8 * sizeof(float), cudaMemcpyHostToDevice));
  coef[8] = 42.f;
  coef[9] = -42.f;
  float *dout;
  if (!CK(cudaMalloc(&dout, 32 * 4))) return;
  k_symbols<<<1, 32>>>(dout);
  CKL();
  float out[32];
  CK(cudaMemcpy(out, dout, sizeof out, cudaMemcpyDeviceToHost));
  bool ok = true;
  for (int i = 0; i < 32; i++) ok = ok && out[i] == coef[i] * coef[31 - i];
  EXPECT(ok, "__constant__ c_coef read by kernel");
  printf("constant: hash %016llx\n", (unsigned long long)vt_hash(out, sizeof out));

  CK(cudaMemcpyFromSymbol(back, g_dev, sizeof back));
  ok = true;
  for (int i = 0; i < 16; i++) ok = ok && back[i] == hv[i] * 2 + i;
  EXPECT(ok, "cudaMemcpyFromSymbol g_dev");
  printf("device global via cudaMemcpyFromSymbol: %d %d ... %d\n", back[0], back[1], back[15]);

  void *addr = nullptr;
  size_t size = 0;
  CK(cudaGetSymbolAddress(&addr, g_dev));
  CK(cudaGetSymbolSize(&size, g_dev));
  printf("cudaGetSymbolSize g_dev: %zu\n", size);
  int via[16] = {0};
  if (addr) {
    CK(cudaMemcpy(via, addr, sizeof via, cudaMemcpyDeviceToHost));
    EXPECT(memcmp(via, back, sizeof via) == 0, "g_dev through cudaGetSymbolAddress");
    CK(cudaMemset(addr, 0, 4 * 4));
    CK(cudaMemcpyFromSymbol(back, g_dev, 4 * 4, 0, cudaMemcpyDeviceToHost));
    EXPECT(back[0] == 0 && back[3] == 0, "cudaMemset through the symbol address");
    printf("device global via cudaGetSymbolAddress: ok\n");
  }
  CK(cudaFree(dout));
}

static void test_templates() {
  const int threads = 128;
  std::vector<float> hf(threads * 4);
  std::vector<double> hd(threads * 2);
  std::vector<int> hi(threads * 8);
  for (size_t i = 0; i < hf.size(); i++) hf[i] = (float)i * 0.25f;
  for (size_t i = 0; i < hd.size(); i++) hd[i] = (double)i / 3.0;
  for (size_t i = 0; i < hi.size(); i++) hi[i] = (int)i - 500;
  float *df;
  double *dd;
  int *dI;
  if (!CK(cudaMalloc(&df, hf.size() * 4)) || !CK(cudaMalloc(&dd, hd.size() * 8)) || !CK(cudaMalloc(&dI, hi.size() * 4)))
    return;
  CK(cudaMemcpy(df, hf.data(), hf.size() * 4, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dd, hd.data(), hd.size() * 8, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(dI, hi.data(), hi.size() * 4, cudaMemcpyHostToDevice));
  k_tmpl<float, 4><<<1, threads>>>(df, 1.5f);
  CKL();
  k_tmpl<double, 2><<<2, threads / 2>>>(dd, -2.0);
  CKL();
  k_tmpl<int, 8><<<4, threads / 4>>>(dI, 3);
  CKL();
  std::vector<float> rf(hf.size());
  std::vector<double> rd(hd.size());
  std::vector<int> ri(hi.size());
  CK(cudaMemcpy(rf.data(), df, rf.size() * 4, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(rd.data(), dd, rd.size() * 8, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(ri.data(), dI, ri.size() * 4, cudaMemcpyDeviceToHost));
  int bad = 0;
  for (size_t i = 0; i < hf.size(); i++) bad += rf[i] != hf[i] * 1.5f + (float)(i % 4);
  for (size_t i = 0; i < hd.size(); i++) bad += rd[i] != hd[i] * -2.0 + (double)(i % 2);
  for (size_t i = 0; i < hi.size(); i++) bad += ri[i] != hi[i] * 3 + (int)(i % 8);
  EXPECT(bad == 0, "templated kernels: %d wrong", bad);
  printf("templates: float %016llx double %016llx int %016llx\n", (unsigned long long)vt_hash(rf.data(), rf.size() * 4),
         (unsigned long long)vt_hash(rd.data(), rd.size() * 8), (unsigned long long)vt_hash(ri.data(), ri.size() * 4));
  CK(cudaFree(df));
  CK(cudaFree(dd));
  CK(cudaFree(dI));
}

static void test_printf(cudaStream_t s1) {
  printf("host: before device printf\n");
  fflush(stdout);
  k_printf<<<1, 1>>>(1, 0.125);
  CKL();
  CK(cudaDeviceSynchronize());
  fflush(stdout);
  printf("host: between device printfs\n");
  fflush(stdout);
  k_printf<<<1, 1, 0, s1>>>(2, -1e-3);
  CKL();
  k_printf<<<1, 1, 0, s1>>>(3, 12345.678);
  CKL();
  CK(cudaDeviceSynchronize());
  fflush(stdout);
  printf("host: after device printf\n");
  fflush(stdout);
}

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  CK(cudaSetDevice(0));
  cudaStream_t s1, s2;
  CK(cudaStreamCreate(&s1));
  CK(cudaStreamCreateWithFlags(&s2, cudaStreamNonBlocking));
  test_layouts(s1, s2);
  test_launch_apis(s1);
  test_dynsmem_attrs();
  test_symbols();
  test_templates();
  test_printf(s1);
  CK(cudaStreamDestroy(s1));
  CK(cudaStreamDestroy(s2));
  CK(cudaDeviceSynchronize());
  return vt_finish();
}
