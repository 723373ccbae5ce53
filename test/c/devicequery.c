/* A CUDA device query through the driver API, as a discovery step of Ollama or llama.cpp makes
 * it, plus a memory round trip. Linked like any CUDA program against libcuda.so.1: natively the
 * real driver, under vgpu the stub. Prints the same report either way; exits 1 on any error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgpu/zz_prototypes.h"

struct mem_alloc_prop { /* CUmemAllocationProp, 32 bytes */
	int type, handle_types, loc_type, loc_id;
	void *win32;
	unsigned char comp, rdma;
	unsigned short usage;
	unsigned char reserved[4];
};
_Static_assert(sizeof(struct mem_alloc_prop) == 32, "CUmemAllocationProp is 32 bytes");

static int failed;
#define CHECK(call)                                                                      \
	do {                                                                             \
		CUresult r_ = (call);                                                    \
		if (r_ != 0) {                                                           \
			const char *n_ = "?";                                            \
			cuGetErrorName(r_, &n_);                                         \
			fprintf(stderr, "devicequery: %s failed: %d %s\n", #call, r_, n_); \
			failed = 1;                                                      \
			goto out;                                                        \
		}                                                                        \
	} while (0)

int main(int argc, char **argv)
{
	int quiet_mem = argc > 1 && strcmp(argv[1], "--no-free-mem") == 0;
	int version = 0, count = 0;
	CHECK(cuInit(0));
	CHECK(cuDriverGetVersion(&version));
	printf("driver version: %d\n", version);
	CHECK(cuDeviceGetCount(&count));
	printf("devices: %d\n", count);
	for (int i = 0; i < count; i++) {
		CUdevice dev;
		char name[256], bus[32];
		CUuuid uuid;
		size_t total = 0, gran = 0;
		int major = 0, minor = 0, sms = 0, vmm = 0;
		CHECK(cuDeviceGet(&dev, i));
		CHECK(cuDeviceGetName(name, sizeof name, dev));
		CHECK(cuDeviceGetUuid_v2(&uuid, dev));
		CHECK(cuDeviceTotalMem_v2(&total, dev));
		CHECK(cuDeviceGetAttribute(&major, 75, dev));
		CHECK(cuDeviceGetAttribute(&minor, 76, dev));
		CHECK(cuDeviceGetAttribute(&sms, 16, dev));
		CHECK(cuDeviceGetAttribute(&vmm, 102, dev));
		CHECK(cuDeviceGetPCIBusId(bus, sizeof bus, dev));
		struct mem_alloc_prop prop = {.type = 1, .loc_type = 1, .loc_id = dev};
		CHECK(cuMemGetAllocationGranularity(&gran, (const CUmemAllocationProp *)&prop, 0));
		printf("device %d: %s\n", i, name);
		printf("  uuid: GPU-");
		for (int k = 0; k < 16; k++)
			printf("%s%02x", (k == 4 || k == 6 || k == 8 || k == 10) ? "-" : "", (unsigned char)uuid.bytes[k]);
		printf("\n  pci bus id: %s\n", bus);
		printf("  compute capability: %d.%d\n", major, minor);
		printf("  multiprocessors: %d\n", sms);
		printf("  total memory: %zu MiB\n", total >> 20);
		printf("  vmm supported: %d, granularity %zu\n", vmm, gran);

		/* A memory round trip on the device: H2D, memset, D2D, D2H. */
		CUcontext ctx;
		CUdeviceptr a, b;
		size_t n = 1 << 20, free_b = 0, total_b = 0;
		unsigned char *host = malloc(n), *back = malloc(n);
		for (size_t k = 0; k < n; k++)
			host[k] = (unsigned char)(k * 7 + 3);
		CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
		CHECK(cuCtxSetCurrent(ctx));
		CHECK(cuMemGetInfo_v2(&free_b, &total_b));
		if (!quiet_mem)
			printf("  memory free/total: %zu/%zu MiB\n", free_b >> 20, total_b >> 20);
		CHECK(cuMemAlloc_v2(&a, n));
		CHECK(cuMemAlloc_v2(&b, n));
		CHECK(cuMemcpyHtoD_v2(a, host, n));
		CHECK(cuMemsetD8_v2(a, 0xab, 16));
		CHECK(cuMemcpyDtoD_v2(b, a, n));
		CHECK(cuMemcpyDtoH_v2(back, b, n));
		CHECK(cuCtxSynchronize());
		memset(host, 0xab, 16);
		printf("  memory round trip (1 MiB H2D, memset, D2D, D2H): %s\n", memcmp(host, back, n) == 0 ? "identical" : "MISMATCH");
		if (memcmp(host, back, n) != 0)
			failed = 1;
		/* A copy larger than one frame (100 MiB) travels in pieces and arrives whole. */
		size_t big = 100 << 20;
		CUdeviceptr d_big;
		unsigned char *h_big = malloc(big), *h_back = malloc(big);
		for (size_t k = 0; k < big; k++)
			h_big[k] = (unsigned char)(k ^ (k >> 11));
		CHECK(cuMemAlloc_v2(&d_big, big));
		CHECK(cuMemcpyHtoD_v2(d_big, h_big, big));
		CHECK(cuMemcpyDtoH_v2(h_back, d_big, big));
		printf("  100 MiB round trip: %s\n", memcmp(h_big, h_back, big) == 0 ? "identical" : "MISMATCH");
		if (memcmp(h_big, h_back, big) != 0)
			failed = 1;
		CHECK(cuMemFree_v2(d_big));
		free(h_big);
		free(h_back);
		/* A copy past the end of an allocation must be refused, not crash anything. */
		CUresult r = cuMemcpyHtoD_v2(a + n - 8, host, 64);
		printf("  copy past the allocation: %s\n", r == 1 ? "refused (CUDA_ERROR_INVALID_VALUE)" : "NOT REFUSED");
		if (r != 1)
			failed = 1;
		CHECK(cuMemFree_v2(a));
		CHECK(cuMemFree_v2(b));
		CHECK(cuDevicePrimaryCtxRelease_v2(dev));
		free(host);
		free(back);
	}
out:
	return failed;
}
