// Shared helpers for the vgpu GPU test programs (test/gpu/cuda/*.cu, test/gpu/bench/bench.cu).
//
// Every program prints only deterministic lines (values, checksums, error names; never addresses,
// timings or free-memory figures), so the output of a native run and of a run through the vgpu
// stubs can be compared with diff. A failing CUDA call prints
//     ERROR <function> <error name> line <N>
// and counts as a failure; a wrong result prints "FAIL <what>". The last line is
// "RESULT PASS" or "RESULT FAIL <n>", and the exit status is 0 iff nothing failed.
//
// Define VT_DRIVER_ONLY before including this file in a program that uses only the driver API
// (no cudart).
#pragma once
#include <cstdio>
#include <cstdint>
#include <cstring>
#include <cstdlib>
#include <cuda.h>
#ifndef VT_DRIVER_ONLY
#include <cuda_runtime.h>
#endif

static int g_fail = 0;

// Prints the function name of a call expression: the text up to its first '('.
static inline void vt_print_call(const char *expr) {
  const char *p = strchr(expr, '(');
  int n = p ? (int)(p - expr) : (int)strlen(expr);
  printf("%.*s", n, expr);
}

#ifndef VT_DRIVER_ONLY
static inline bool vt_ck(cudaError_t e, const char *expr, int line) {
  if (e == cudaSuccess) return true;
  printf("ERROR ");
  vt_print_call(expr);
  printf(" %s line %d\n", cudaGetErrorName(e), line);
  fflush(stdout);
  g_fail++;
  return false;
}
// CK(call): the call must succeed.
#define CK(call) vt_ck((call), #call, __LINE__)
// CKL(): the launch just made must not have failed (cudaGetLastError).
#define CKL() vt_ck(cudaGetLastError(), "cudaGetLastError(after launch)", __LINE__)

static inline const char *vt_ename(cudaError_t e) { return cudaGetErrorName(e); }
#endif

static inline const char *vt_cuname(CUresult r) {
  const char *s = nullptr;
  if (cuGetErrorName(r, &s) != CUDA_SUCCESS || s == nullptr) {
    static char buf[32];
    snprintf(buf, sizeof buf, "CUresult(%d)", (int)r);
    return buf;
  }
  return s;
}
static inline bool vt_cu(CUresult r, const char *expr, int line) {
  if (r == CUDA_SUCCESS) return true;
  printf("ERROR ");
  vt_print_call(expr);
  printf(" %s line %d\n", vt_cuname(r), line);
  fflush(stdout);
  g_fail++;
  return false;
}
// CU(call): a driver API call that must succeed.
#define CU(call) vt_cu((call), #call, __LINE__)

// EXPECT(cond, what): a result check.
#define EXPECT(cond, ...)                                        \
  do {                                                           \
    if (!(cond)) {                                               \
      printf("FAIL line %d: ", __LINE__);                        \
      printf(__VA_ARGS__);                                       \
      printf("\n");                                              \
      fflush(stdout);                                            \
      g_fail++;                                                  \
    }                                                            \
  } while (0)

// FNV-1a 64 over a buffer: printed as 16 hex digits, it stands for the buffer's content.
static inline uint64_t vt_hash(const void *p, size_t n) {
  const unsigned char *b = (const unsigned char *)p;
  uint64_t h = 1469598103934665603ull;
  for (size_t i = 0; i < n; i++) { h ^= b[i]; h *= 1099511628211ull; }
  return h;
}

// The test pattern used by several programs: word i of a buffer seeded with s.
#ifdef __CUDACC__
#define VT_HD __host__ __device__
#else
#define VT_HD
#endif
static inline VT_HD uint32_t vt_pat(uint64_t i, uint32_t s) {
  uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull ^ ((uint64_t)s << 17);
  x ^= x >> 29;
  return (uint32_t)(x ^ (x >> 32));
}

static inline int vt_finish() {
  if (g_fail) printf("RESULT FAIL %d\n", g_fail);
  else printf("RESULT PASS\n");
  fflush(stdout);
  return g_fail ? 1 : 0;
}
