// Memory: device allocations, every copy form, memsets, pinned and registered host memory,
// peer copies, managed memory (reported, not required), and the driver VMM sequence of ggml's pool.
// Build: nvcc -arch=sm_90 -cudart shared -O2 mem.cu -o mem -lcuda
#include "check.h"
#include <vector>

__global__ void k_fill(uint32_t *p, size_t n, uint32_t seed) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    p[i] = vt_pat(i, seed);
}
__global__ void k_add(uint32_t *p, size_t n, uint32_t k) {
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    p[i] += k;
}
__global__ void k_sum(const uint32_t *p, size_t n, unsigned long long *out) {
  unsigned long long s = 0;
  for (size_t i = blockIdx.x * (size_t)blockDim.x + threadIdx.x; i < n; i += (size_t)gridDim.x * blockDim.x)
    s += p[i];
  atomicAdd(out, s);
}

static std::vector<uint32_t> pattern(size_t n, uint32_t seed, uint32_t add = 0) {
  std::vector<uint32_t> v(n);
  for (size_t i = 0; i < n; i++) v[i] = vt_pat(i, seed) + add;
  return v;
}
static size_t mismatches(const uint32_t *a, const uint32_t *b, size_t n) {
  size_t bad = 0;
  for (size_t i = 0; i < n; i++) bad += a[i] != b[i];
  return bad;
}

static void test_basic_copies() {
  const size_t n = 1 << 20, bytes = n * 4;
  uint32_t *d1 = nullptr, *d2 = nullptr;
  if (!CK(cudaMalloc(&d1, bytes)) || !CK(cudaMalloc(&d2, bytes))) return;
  std::vector<uint32_t> h = pattern(n, 1), back(n, 0);
  CK(cudaMemcpy(d1, h.data(), bytes, cudaMemcpyHostToDevice));
  CK(cudaMemcpy(d2, d1, bytes, cudaMemcpyDeviceToDevice));
  CK(cudaMemcpy(back.data(), d2, bytes, cudaMemcpyDeviceToHost));
  EXPECT(mismatches(h.data(), back.data(), n) == 0, "H2D/D2D/D2H round trip");
  printf("copy sync: %zu words hash %016llx\n", n, (unsigned long long)vt_hash(back.data(), bytes));

  // cudaMemcpyDefault with unified addressing, and an odd-sized, odd-offset copy.
  std::vector<uint32_t> part(777, 0);
  CK(cudaMemcpy(part.data(), d1 + 12345, part.size() * 4, cudaMemcpyDefault));
  EXPECT(mismatches(part.data(), h.data() + 12345, part.size()) == 0, "cudaMemcpyDefault partial");
  unsigned char odd[13];
  CK(cudaMemcpy(odd, (const unsigned char *)d1 + 3, sizeof odd, cudaMemcpyDeviceToHost));
  EXPECT(memcmp(odd, (const unsigned char *)h.data() + 3, sizeof odd) == 0, "unaligned 13-byte copy");

  // A kernel modifies device data between copies.
  k_add<<<128, 256>>>(d1, n, 7);
  CKL();
  CK(cudaMemcpy(back.data(), d1, bytes, cudaMemcpyDeviceToHost));
  std::vector<uint32_t> h7 = pattern(n, 1, 7);
  EXPECT(mismatches(h7.data(), back.data(), n) == 0, "kernel k_add result");
  unsigned long long *dsum = nullptr, sum = 0, want = 0;
  for (size_t i = 0; i < n; i++) want += h7[i];
  if (CK(cudaMalloc(&dsum, 8))) {
    CK(cudaMemset(dsum, 0, 8));
    k_sum<<<64, 256>>>(d1, n, dsum);
    CKL();
    CK(cudaMemcpy(&sum, dsum, 8, cudaMemcpyDeviceToHost));
    EXPECT(sum == want, "k_sum %llu want %llu", sum, want);
    printf("kernel sum: %llu\n", sum);
    CK(cudaFree(dsum));
  }

  // Memsets, synchronous and on a stream.
  std::vector<unsigned char> b(bytes);
  CK(cudaMemset(d2, 0xAB, bytes));
  CK(cudaMemcpy(b.data(), d2, bytes, cudaMemcpyDeviceToHost));
  size_t bad = 0;
  for (size_t i = 0; i < bytes; i++) bad += b[i] != 0xAB;
  EXPECT(bad == 0, "cudaMemset: %zu bytes wrong", bad);
  cudaStream_t s;
  if (CK(cudaStreamCreate(&s))) {
    CK(cudaMemsetAsync((char *)d2 + 1001, 0x11, 5000, s));
    CK(cudaMemsetAsync((char *)d2 + 7000, 0x00, 3, s));
    CK(cudaStreamSynchronize(s));
    CK(cudaMemcpy(b.data(), d2, bytes, cudaMemcpyDeviceToHost));
    bad = 0;
    for (size_t i = 0; i < bytes; i++) {
      unsigned char w = (i >= 1001 && i < 6001) ? 0x11 : (i >= 7000 && i < 7003) ? 0x00 : 0xAB;
      bad += b[i] != w;
    }
    EXPECT(bad == 0, "cudaMemsetAsync: %zu bytes wrong", bad);
    printf("memset: hash %016llx\n", (unsigned long long)vt_hash(b.data(), bytes));
    CK(cudaStreamDestroy(s));
  }
  CK(cudaFree(d1));
  CK(cudaFree(d2));
  CK(cudaFree(nullptr));  // freeing NULL is a no-op that succeeds
  printf("malloc/free: ok\n");
}

static void test_pitch() {
  const size_t width = 1000, height = 37;  // bytes per row, rows
  void *dp = nullptr, *dq = nullptr;
  size_t pitch = 0, pitch2 = 0;
  if (!CK(cudaMallocPitch(&dp, &pitch, width, height))) return;
  if (!CK(cudaMallocPitch(&dq, &pitch2, width, height))) return;
  EXPECT(pitch >= width && pitch2 == pitch, "pitch %zu", pitch);
  printf("pitch: %zu for width %zu\n", pitch, width);
  std::vector<unsigned char> h(width * height), back((width + 24) * height, 0xEE);
  for (size_t i = 0; i < h.size(); i++) h[i] = (unsigned char)(vt_pat(i, 2) & 0xFF);
  CK(cudaMemcpy2D(dp, pitch, h.data(), width, width, height, cudaMemcpyHostToDevice));
  CK(cudaMemcpy2D(back.data(), width + 24, dp, pitch, width, height, cudaMemcpyDeviceToHost));
  size_t bad = 0;
  for (size_t r = 0; r < height; r++)
    for (size_t c = 0; c < width + 24; c++)
      bad += back[r * (width + 24) + c] != (c < width ? h[r * width + c] : 0xEE);
  EXPECT(bad == 0, "cudaMemcpy2D: %zu bytes wrong", bad);

  cudaStream_t s;
  if (!CK(cudaStreamCreate(&s))) return;
  // D2D of a 500-byte wide sub-rectangle starting at column 100, then the whole thing back.
  CK(cudaMemset2DAsync(dq, pitch2, 0x5A, width, height, s));
  CK(cudaMemcpy2DAsync((char *)dq + 100, pitch2, (char *)dp + 100, pitch, 500, height, cudaMemcpyDeviceToDevice, s));
  std::vector<unsigned char> back2(width * height, 0);
  CK(cudaMemcpy2DAsync(back2.data(), width, dq, pitch2, width, height, cudaMemcpyDeviceToHost, s));
  CK(cudaStreamSynchronize(s));
  bad = 0;
  for (size_t r = 0; r < height; r++)
    for (size_t c = 0; c < width; c++)
      bad += back2[r * width + c] != ((c >= 100 && c < 600) ? h[r * width + c] : 0x5A);
  EXPECT(bad == 0, "cudaMemcpy2DAsync: %zu bytes wrong", bad);
  printf("memcpy2d: hash %016llx\n", (unsigned long long)vt_hash(back2.data(), back2.size()));
  CK(cudaStreamDestroy(s));
  CK(cudaFree(dp));
  CK(cudaFree(dq));
}

static void test_pinned_and_registered() {
  const size_t n = (4 << 20) / 4, bytes = n * 4;
  uint32_t *hsrc = nullptr, *hdst = nullptr, *d = nullptr;
  if (!CK(cudaMallocHost((void **)&hsrc, bytes))) return;
  if (!CK(cudaHostAlloc((void **)&hdst, bytes, cudaHostAllocDefault))) return;
  EXPECT(((uintptr_t)hsrc % 256) == 0, "cudaMallocHost pointer not 256-byte aligned");
  EXPECT(((uintptr_t)hdst % 256) == 0, "cudaHostAlloc pointer not 256-byte aligned");
  printf("pinned alignment: ok\n");
  unsigned int flags = 99;
  CK(cudaHostGetFlags(&flags, hdst));
  printf("cudaHostGetFlags: %u\n", flags);
  for (size_t i = 0; i < n; i++) hsrc[i] = vt_pat(i, 3);
  memset(hdst, 0, bytes);
  if (!CK(cudaMalloc(&d, bytes))) return;
  cudaStream_t s;
  if (!CK(cudaStreamCreate(&s))) return;
  // pinned -> device, kernel, device -> pinned, all on one stream; the host waits only once.
  CK(cudaMemcpyAsync(d, hsrc, bytes, cudaMemcpyHostToDevice, s));
  k_add<<<256, 256, 0, s>>>(d, n, 1000);
  CKL();
  CK(cudaMemcpyAsync(hdst, d, bytes, cudaMemcpyDeviceToHost, s));
  CK(cudaStreamSynchronize(s));
  std::vector<uint32_t> want = pattern(n, 3, 1000);
  EXPECT(mismatches(hdst, want.data(), n) == 0, "pinned async round trip");
  printf("pinned async: hash %016llx\n", (unsigned long long)vt_hash(hdst, bytes));

  // The pinned source is reused right after the stream finished: a copy that had not been
  // taken before the sync would see the new contents.
  for (size_t i = 0; i < n; i++) hsrc[i] = 0xFFFFFFFFu;
  CK(cudaMemcpy(hdst, d, bytes, cudaMemcpyDeviceToHost));
  EXPECT(mismatches(hdst, want.data(), n) == 0, "device data changed after pinned source reuse");

  // Async copy from pageable memory (staged by the driver) and to pageable memory.
  std::vector<uint32_t> pg = pattern(n, 4), pgback(n, 0);
  CK(cudaMemcpyAsync(d, pg.data(), bytes, cudaMemcpyHostToDevice, s));
  CK(cudaMemcpyAsync(pgback.data(), d, bytes, cudaMemcpyDeviceToHost, s));
  CK(cudaStreamSynchronize(s));
  EXPECT(mismatches(pgback.data(), pg.data(), n) == 0, "pageable async round trip");

  // cudaHostRegister on malloc'd memory (odd size), used as an async copy target.
  const size_t rbytes = bytes + 100;
  unsigned char *reg = (unsigned char *)malloc(rbytes);
  memset(reg, 0x77, rbytes);
  if (CK(cudaHostRegister(reg, rbytes, cudaHostRegisterDefault))) {
    CK(cudaMemcpyAsync(reg + 50, d, bytes, cudaMemcpyDeviceToHost, s));
    CK(cudaStreamSynchronize(s));
    EXPECT(memcmp(reg + 50, pg.data(), bytes) == 0, "registered memory copy target");
    bool edges = true;
    for (size_t i = 0; i < 50; i++) edges = edges && reg[i] == 0x77 && reg[bytes + 50 + i] == 0x77;
    EXPECT(edges, "bytes around the registered copy target changed");
    // and as a source
    memset(reg, 0x3C, rbytes);
    CK(cudaMemcpyAsync(d, reg + 4, bytes, cudaMemcpyHostToDevice, s));
    CK(cudaMemcpyAsync(pgback.data(), d, bytes, cudaMemcpyDeviceToHost, s));
    CK(cudaStreamSynchronize(s));
    EXPECT(memcmp(pgback.data(), reg + 4, bytes) == 0, "registered memory copy source");
    CK(cudaHostUnregister(reg));
    printf("host register: ok\n");
  }
  free(reg);

  // cudaMemcpyPeerAsync to the same device.
  uint32_t *d2 = nullptr;
  if (CK(cudaMalloc(&d2, bytes))) {
    CK(cudaMemcpy(d, want.data(), bytes, cudaMemcpyHostToDevice));
    CK(cudaMemset(d2, 0, bytes));
    CK(cudaMemcpyPeerAsync(d2, 0, d, 0, bytes, s));
    CK(cudaMemcpyAsync(hdst, d2, bytes, cudaMemcpyDeviceToHost, s));
    CK(cudaStreamSynchronize(s));
    EXPECT(mismatches(hdst, want.data(), n) == 0, "cudaMemcpyPeerAsync same device");
    printf("peer copy: hash %016llx\n", (unsigned long long)vt_hash(hdst, bytes));
    CK(cudaFree(d2));
  }
  CK(cudaStreamDestroy(s));
  CK(cudaFree(d));
  CK(cudaFreeHost(hsrc));
  CK(cudaFreeHost(hdst));
}

static void test_meminfo_managed() {
  size_t fr = 0, total = 0;
  if (CK(cudaMemGetInfo(&fr, &total))) {
    EXPECT(total > 0 && fr <= total, "cudaMemGetInfo values");
    printf("meminfo: ok\n");
  }
  // Managed memory: reported, not required (vgpu answers not-supported for now).
  uint32_t *m = nullptr;
  cudaError_t e = cudaMallocManaged((void **)&m, 1 << 20, cudaMemAttachGlobal);
  if (e != cudaSuccess) {
    printf("managed: %s\n", cudaGetErrorName(e));
    cudaGetLastError();  // clear the (non-sticky) error
    return;
  }
  printf("managed: supported\n");
  const size_t n = (1 << 20) / 4;
  k_fill<<<64, 256>>>(m, n, 9);
  CKL();
  CK(cudaDeviceSynchronize());
  std::vector<uint32_t> want = pattern(n, 9);
  EXPECT(mismatches(m, want.data(), n) == 0, "managed memory written by a kernel");
  CK(cudaFree(m));
}

// Driver VMM as ggml-cuda's pool uses it: reserve a large range, then map chunks as it grows.
static void test_vmm() {
  CUdevice dev;
  if (!CU(cuDeviceGet(&dev, 0))) return;
  int vmm = 0;
  CU(cuDeviceGetAttribute(&vmm, CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED, dev));
  printf("vmm supported: %d\n", vmm);
  if (!vmm) { EXPECT(false, "VMM not supported"); return; }
  CUmemAllocationProp prop;
  memset(&prop, 0, sizeof prop);
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = dev;
  size_t gran = 0, gmin = 0;
  if (!CU(cuMemGetAllocationGranularity(&gran, &prop, CU_MEM_ALLOC_GRANULARITY_RECOMMENDED))) return;
  CU(cuMemGetAllocationGranularity(&gmin, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM));
  printf("vmm granularity: recommended %zu minimum %zu\n", gran, gmin);
  if (gran == 0) return;
  const size_t vsize = 1ull << 35;  // ggml reserves 32 GiB of address space
  CUdeviceptr base = 0;
  if (!CU(cuMemAddressReserve(&base, vsize, 0, 0, 0))) return;
  EXPECT(base % gran == 0, "reserved address not aligned to the granularity");

  CUmemAccessDesc access;
  memset(&access, 0, sizeof access);
  access.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  access.location.id = dev;
  access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;

  // chunk 1: 2*gran at base, handle released right after mapping (as ggml does)
  CUmemGenericAllocationHandle h1 = 0, h2 = 0;
  const size_t c1 = 2 * gran, c2 = gran;
  bool ok = CU(cuMemCreate(&h1, c1, &prop, 0)) && CU(cuMemMap(base, c1, 0, h1, 0)) && CU(cuMemRelease(h1)) &&
            CU(cuMemSetAccess(base, c1, &access, 1));
  // chunk 2: gran right after it, handle kept until the end
  ok = ok && CU(cuMemCreate(&h2, c2, &prop, 0)) && CU(cuMemMap(base + c1, c2, 0, h2, 0)) &&
       CU(cuMemSetAccess(base + c1, c2, &access, 1));
  if (ok) {
    const size_t n = (c1 + c2) / 4;
    uint32_t *p = (uint32_t *)(uintptr_t)base;
    k_fill<<<256, 256>>>(p, n, 5);  // spans both chunks
    CKL();
    CK(cudaDeviceSynchronize());
    std::vector<uint32_t> want = pattern(n, 5), got(n, 0);
    CK(cudaMemcpy(got.data(), p, n * 4, cudaMemcpyDeviceToHost));
    EXPECT(mismatches(got.data(), want.data(), n) == 0, "kernel write through VMM mapping (cudaMemcpy)");
    printf("vmm kernel write: %zu words hash %016llx\n", n, (unsigned long long)vt_hash(got.data(), n * 4));
    // driver copies straddling the chunk boundary
    std::vector<uint32_t> mid(4096);
    for (size_t i = 0; i < mid.size(); i++) mid[i] = 0xC0DE0000u + (uint32_t)i;
    CUdeviceptr at = base + c1 - 2048 * 4;
    CU(cuMemcpyHtoD(at, mid.data(), mid.size() * 4));
    std::vector<uint32_t> midback(mid.size(), 0);
    CU(cuMemcpyDtoH(midback.data(), at, mid.size() * 4));
    EXPECT(mismatches(mid.data(), midback.data(), mid.size()) == 0, "cuMemcpy across the chunk boundary");
    // kernel reads it all back
    memcpy(want.data() + (c1 / 4 - 2048), mid.data(), mid.size() * 4);
    unsigned long long want_sum = 0, sum = 0, *dsum = nullptr;
    for (size_t i = 0; i < n; i++) want_sum += want[i];
    if (CK(cudaMalloc(&dsum, 8))) {
      CK(cudaMemset(dsum, 0, 8));
      k_sum<<<128, 256>>>(p, n, dsum);
      CKL();
      CK(cudaMemcpy(&sum, dsum, 8, cudaMemcpyDeviceToHost));
      EXPECT(sum == want_sum, "kernel sum over VMM mapping %llu want %llu", sum, want_sum);
      printf("vmm kernel read: sum %llu\n", sum);
      CK(cudaFree(dsum));
    }
    CK(cudaDeviceSynchronize());
  }
  CU(cuMemUnmap(base, c1));
  CU(cuMemUnmap(base + c1, c2));
  CU(cuMemRelease(h2));
  CU(cuMemAddressFree(base, vsize));
  printf("vmm: done\n");
}

int main() {
  setvbuf(stdout, nullptr, _IOLBF, 0);
  int count = 0;
  CK(cudaGetDeviceCount(&count));
  printf("devices: %s\n", count > 0 ? "at least one" : "none");
  CK(cudaSetDevice(0));
  CK(cudaFree(nullptr));  // creates the primary context
  test_basic_copies();
  test_pitch();
  test_pinned_and_registered();
  test_meminfo_managed();
  test_vmm();
  CK(cudaDeviceSynchronize());
  return vt_finish();
}
