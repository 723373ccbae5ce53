// Driver API only (no cudart): modules from a cubin, PTX and a fatbin, libraries and kernels,
// module globals, parameter info, and every form of cuLaunchKernel / cuLaunchKernelEx.
// Plain C++ despite the suffix; build:
//   nvcc -x c++ -cudart none -O2 driver.cu -o driver -lcuda
// Run: driver DIR   (DIR holds driver_kernels.cubin, .ptx and .fatbin, built from driver_kernels.cu)
#define VT_DRIVER_ONLY
#include "check.h"
#include <string>
#include <vector>

static std::vector<char> read_file(const std::string &path, bool nul) {
  std::vector<char> v;
  FILE *f = fopen(path.c_str(), "rb");
  if (!f) {
    printf("ERROR open %s\n", path.c_str());
    g_fail++;
    return v;
  }
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) v.insert(v.end(), buf, buf + n);
  fclose(f);
  if (nul) v.push_back('\0');
  return v;
}

static const int N = 100000;
static std::vector<float> ha(N), hb(N);
static CUdeviceptr da, db, dc;

static void verify_vec(const char *what) {
  std::vector<float> c(N, -1.f);
  CU(cuMemcpyDtoH(c.data(), dc, N * 4));
  int bad = 0;
  for (int i = 0; i < N; i++) bad += c[i] != ha[i] + 2.0f * hb[i];
  printf("%s: %s hash %016llx\n", what, bad == 0 ? "ok" : "WRONG", (unsigned long long)vt_hash(c.data(), N * 4));
  EXPECT(bad == 0, "%s: %d wrong", what, bad);
  CU(cuMemsetD32(dc, 0, N));
}

static void launch_vec(CUfunction f, CUstream s, const char *what) {
  int n = N;
  void *args[] = {&da, &db, &dc, &n};
  CU(cuLaunchKernel(f, 64, 1, 1, 256, 1, 1, 0, s, args, nullptr));
  CU(cuCtxSynchronize());
  verify_vec(what);
}

// d_counter through cuModuleGetGlobal / cuLibraryGetGlobal: write, bump with a kernel, read.
static void test_global(CUdeviceptr g, size_t bytes, CUfunction bump, const char *what) {
  printf("%s: global d_counter %zu bytes\n", what, bytes);
  EXPECT(bytes == 16, "%s: d_counter size %zu", what, bytes);
  int init[4] = {10, 20, 30, 40}, back[4] = {0, 0, 0, 0};
  CU(cuMemcpyHtoD(g, init, sizeof init));
  int k = 7;
  void *args[] = {&k};
  CU(cuLaunchKernel(bump, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr));
  CU(cuCtxSynchronize());
  CU(cuMemcpyDtoH(back, g, sizeof back));
  printf("%s: d_counter %d %d %d %d\n", what, back[0], back[1], back[2], back[3]);
  EXPECT(back[0] == 17 && back[1] == 34 && back[2] == 51 && back[3] == 68, "%s: d_counter", what);
}

static void test_module(CUmodule m, const char *what) {
  CUfunction f = nullptr, bump = nullptr;
  if (!CU(cuModuleGetFunction(&f, m, "vec_add")) || !CU(cuModuleGetFunction(&bump, m, "bump"))) return;
  launch_vec(f, nullptr, what);
  CUdeviceptr g = 0;
  size_t bytes = 0;
  if (CU(cuModuleGetGlobal(&g, &bytes, m, "d_counter"))) test_global(g, bytes, bump, what);
  CUfunction none = nullptr;
  printf("%s: cuModuleGetFunction(no_such_kernel): %s\n", what, vt_cuname(cuModuleGetFunction(&none, m, "no_such_kernel")));
}

static void check_params_out(CUdeviceptr dout, const char *what) {
  int o[7];
  CU(cuMemcpyDtoH(o, dout, sizeof o));
  printf("%s: %d %08x %08x %08x %08x %08x %d\n", what, o[0], o[1], o[2], o[3], o[4], o[5], o[6]);
  float f;
  memcpy(&f, &o[3], 4);
  long long x = ((long long)o[1] << 32) | (unsigned int)o[2];
  unsigned long long db = ((unsigned long long)(unsigned int)o[4] << 32) | (unsigned int)o[5];
  double d;
  memcpy(&d, &db, 8);
  EXPECT(o[0] == -3 && x == -0x123456789ALL && f == 2.5f && d == -0.1 && o[6] == 31000, "%s values", what);
  CU(cuMemsetD32(dout, 0, 7));
}

int main(int argc, char **argv) {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  std::string dir = argc > 1 ? argv[1] : ".";
  std::vector<char> cubin = read_file(dir + "/driver_kernels.cubin", false);
  std::vector<char> ptx = read_file(dir + "/driver_kernels.ptx", true);
  std::vector<char> fatbin = read_file(dir + "/driver_kernels.fatbin", false);
  if (g_fail) return vt_finish();

  if (!CU(cuInit(0))) return vt_finish();
  int ver = 0, count = 0;
  CU(cuDriverGetVersion(&ver));
  CU(cuDeviceGetCount(&count));
  printf("driver version %d, devices %s\n", ver, count > 0 ? "at least one" : "none");
  CUdevice dev;
  CUcontext ctx;
  if (!CU(cuDeviceGet(&dev, 0)) || !CU(cuDevicePrimaryCtxRetain(&ctx, dev)) || !CU(cuCtxSetCurrent(ctx))) return vt_finish();

  for (int i = 0; i < N; i++) { ha[i] = (float)(i % 513) * 0.25f; hb[i] = (float)(i % 97) - 48.f; }
  CU(cuMemAlloc(&da, N * 4));
  CU(cuMemAlloc(&db, N * 4));
  CU(cuMemAlloc(&dc, N * 4));
  CU(cuMemcpyHtoD(da, ha.data(), N * 4));
  CU(cuMemcpyHtoD(db, hb.data(), N * 4));
  CU(cuMemsetD32(dc, 0, N));

  // Modules: cubin and PTX with cuModuleLoadData, fatbin with cuModuleLoadFatBinary.
  CUmodule mc = nullptr, mp = nullptr, mf = nullptr;
  if (CU(cuModuleLoadData(&mc, cubin.data()))) test_module(mc, "cubin module");
  if (CU(cuModuleLoadData(&mp, ptx.data()))) test_module(mp, "ptx module");
  if (CU(cuModuleLoadFatBinary(&mf, fatbin.data()))) test_module(mf, "fatbin module");

  // Libraries: cuLibraryLoadData + cuLibraryGetKernel + cuKernelGetFunction.
  CUlibrary lib = nullptr;
  if (CU(cuLibraryLoadData(&lib, fatbin.data(), nullptr, nullptr, 0, nullptr, nullptr, 0))) {
    CUkernel kv = nullptr, kb = nullptr;
    CUfunction fv = nullptr, fb = nullptr;
    if (CU(cuLibraryGetKernel(&kv, lib, "vec_add")) && CU(cuLibraryGetKernel(&kb, lib, "bump")) &&
        CU(cuKernelGetFunction(&fv, kv)) && CU(cuKernelGetFunction(&fb, kb))) {
      launch_vec(fv, nullptr, "library kernel");
      size_t off = 0, size = 0;
      CU(cuKernelGetParamInfo(kv, 3, &off, &size));
      printf("cuKernelGetParamInfo vec_add param 3: offset %zu size %zu\n", off, size);
      CUdeviceptr g = 0;
      size_t bytes = 0;
      if (CU(cuLibraryGetGlobal(&g, &bytes, lib, "d_counter"))) test_global(g, bytes, fb, "library");
    }
    CU(cuLibraryUnload(lib));
  }

  // Parameter info, and the three ways of passing parameters.
  CUfunction fp = nullptr;
  CUdeviceptr dout = 0;
  if (mc && CU(cuModuleGetFunction(&fp, mc, "params")) && CU(cuMemAlloc(&dout, 64))) {
    size_t offs[8], sizes[8];
    int np = 0;
    CUresult r = CUDA_SUCCESS;
    for (np = 0; np < 8; np++) {
      r = cuFuncGetParamInfo(fp, np, &offs[np], &sizes[np]);
      if (r != CUDA_SUCCESS) break;
      printf("cuFuncGetParamInfo params %d: offset %zu size %zu\n", np, offs[np], sizes[np]);
    }
    printf("cuFuncGetParamInfo params %d: %s\n", np, vt_cuname(r));
    const size_t want_off[6] = {0, 8, 16, 24, 32, 40}, want_size[6] = {8, 1, 8, 4, 8, 2};
    bool layout = np == 6;
    for (int i = 0; layout && i < 6; i++) layout = offs[i] == want_off[i] && sizes[i] == want_size[i];
    EXPECT(layout, "params layout from cuFuncGetParamInfo");
    CU(cuMemsetD32(dout, 0, 7));

    char c = -3;
    long long x = -0x123456789ALL;
    float f = 2.5f;
    double d = -0.1;
    short s = 31000;
    void *args[] = {&dout, &c, &x, &f, &d, &s};
    CU(cuLaunchKernel(fp, 1, 1, 1, 32, 1, 1, 0, nullptr, args, nullptr));
    CU(cuCtxSynchronize());
    check_params_out(dout, "params via kernelParams");

    // CU_LAUNCH_PARAM_BUFFER_POINTER: one buffer laid out at the parameter offsets
    alignas(8) unsigned char pbuf[48];
    memset(pbuf, 0xCD, sizeof pbuf);
    memcpy(pbuf + 0, &dout, 8);
    memcpy(pbuf + 8, &c, 1);
    memcpy(pbuf + 16, &x, 8);
    memcpy(pbuf + 24, &f, 4);
    memcpy(pbuf + 32, &d, 8);
    memcpy(pbuf + 40, &s, 2);
    size_t psize = 42;
    void *extra[] = {CU_LAUNCH_PARAM_BUFFER_POINTER, pbuf, CU_LAUNCH_PARAM_BUFFER_SIZE, &psize, CU_LAUNCH_PARAM_END};
    CU(cuLaunchKernel(fp, 1, 1, 1, 32, 1, 1, 0, nullptr, nullptr, extra));
    CU(cuCtxSynchronize());
    check_params_out(dout, "params via extra buffer");

    // cuLaunchKernelEx with a config, an attribute and a non-blocking stream
    CUstream st = nullptr;
    if (CU(cuStreamCreate(&st, CU_STREAM_NON_BLOCKING))) {
      CUlaunchAttribute attr[1];
      memset(attr, 0, sizeof attr);
      attr[0].id = CU_LAUNCH_ATTRIBUTE_PRIORITY;
      attr[0].value.priority = 0;
      CUlaunchConfig cfg;
      memset(&cfg, 0, sizeof cfg);
      cfg.gridDimX = 1; cfg.gridDimY = 1; cfg.gridDimZ = 1;
      cfg.blockDimX = 32; cfg.blockDimY = 1; cfg.blockDimZ = 1;
      cfg.sharedMemBytes = 0;
      cfg.hStream = st;
      cfg.attrs = attr;
      cfg.numAttrs = 1;
      CU(cuLaunchKernelEx(&cfg, fp, args, nullptr));
      CU(cuStreamSynchronize(st));
      check_params_out(dout, "params via cuLaunchKernelEx");
      CUfunction fv = nullptr;
      if (CU(cuModuleGetFunction(&fv, mc, "vec_add"))) {
        int n = N;
        void *vargs[] = {&da, &db, &dc, &n};
        cfg.gridDimX = 40;
        cfg.blockDimX = 128;
        CU(cuLaunchKernelEx(&cfg, fv, vargs, nullptr));
        CU(cuStreamSynchronize(st));
        verify_vec("vec_add via cuLaunchKernelEx");
        CU(cuLaunchKernel(fv, 50, 1, 1, 64, 1, 1, 0, st, vargs, nullptr));
        CU(cuStreamSynchronize(st));
        verify_vec("vec_add via cuLaunchKernel on a stream");
      }
      CU(cuStreamDestroy(st));
    }
    CU(cuMemFree(dout));
  }
  CU(cuCtxSynchronize());
  if (mc) CU(cuModuleUnload(mc));
  if (mp) CU(cuModuleUnload(mp));
  if (mf) CU(cuModuleUnload(mf));

  // A second, created context (cuCtxCreate is cuCtxCreate_v4 in CUDA 13): module and memory of its own.
  CUcontext c2 = nullptr;
  if (CU(cuCtxCreate(&c2, nullptr, 0, dev))) {
    CUcontext cur = nullptr;
    CU(cuCtxGetCurrent(&cur));
    printf("created context current: %s\n", cur == c2 ? "yes" : "no");
    EXPECT(cur == c2, "created context is not current");
    CUmodule m2 = nullptr;
    CUdeviceptr x2 = 0;
    if (CU(cuModuleLoadData(&m2, cubin.data())) && CU(cuMemAlloc(&x2, 16))) {
      CUfunction b2 = nullptr;
      CUdeviceptr g2 = 0;
      size_t gb = 0;
      if (CU(cuModuleGetFunction(&b2, m2, "bump")) && CU(cuModuleGetGlobal(&g2, &gb, m2, "d_counter")))
        test_global(g2, gb, b2, "created context");
      CU(cuMemFree(x2));
      CU(cuModuleUnload(m2));
    }
    CU(cuCtxDestroy(c2));
    CU(cuCtxSetCurrent(ctx));
  }

  CU(cuMemFree(da));
  CU(cuMemFree(db));
  CU(cuMemFree(dc));
  CU(cuCtxSynchronize());
  CU(cuDevicePrimaryCtxRelease(dev));
  return vt_finish();
}
