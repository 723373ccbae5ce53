/* Memory limits as a program sees them, through the stubs: prints every API's view of device
 * 0's memory (runtime, driver, NVML v1 and v2, the device properties), then allocates past the
 * limit (expects cudaErrorMemoryAllocation) and a smaller block (expects success), and the
 * devices the driver and NVML show. Linked against libcudart.so.13, libcuda.so.1 and
 * libnvidia-ml.so.1. Exits 1 on an unexpected result. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgpu/zz_prototypes.h"

struct nvml_mem { unsigned long long total, free, used; };
struct nvml_mem2 { unsigned int version; unsigned long long total, reserved, free, used; };

#define FAIL(...) do { fprintf(stderr, "quota: " __VA_ARGS__); fputc('\n', stderr); return 1; } while (0)

int main(int argc, char **argv)
{
	size_t over = argc > 1 ? strtoull(argv[1], NULL, 0) : 0;  /* bytes past the limit */
	size_t small = argc > 2 ? strtoull(argv[2], NULL, 0) : 0; /* bytes that fit */
	size_t free_rt = 0, total_rt = 0, free_cu = 0, total_cu = 0, total_dev = 0;
	int count = 0;
	cudaError_t e;
	if ((e = cudaGetDeviceCount(&count)) != 0)
		FAIL("cudaGetDeviceCount = %d", e);
	printf("cuda devices: %d\n", count);
	if ((e = cudaMemGetInfo(&free_rt, &total_rt)) != 0)
		FAIL("cudaMemGetInfo = %d", e);
	printf("cudaMemGetInfo: free %zu total %zu\n", free_rt, total_rt);
	CUresult r;
	if ((r = cuMemGetInfo_v2(&free_cu, &total_cu)) != 0)
		FAIL("cuMemGetInfo_v2 = %d", r);
	printf("cuMemGetInfo_v2: free %zu total %zu\n", free_cu, total_cu);
	if ((r = cuDeviceTotalMem_v2(&total_dev, 0)) != 0)
		FAIL("cuDeviceTotalMem_v2 = %d", r);
	printf("cuDeviceTotalMem_v2: %zu\n", total_dev);
	unsigned char prop[1100];
	if ((e = cudaGetDeviceProperties((struct cudaDeviceProp *)prop, 0)) != 0)
		FAIL("cudaGetDeviceProperties = %d", e);
	size_t global = 0;
	memcpy(&global, prop + 288, sizeof global); /* totalGlobalMem */
	printf("totalGlobalMem: %zu\n", global);

	nvmlReturn_t n;
	unsigned int ncount = 0;
	nvmlDevice_t dev;
	struct nvml_mem m1;
	struct nvml_mem2 m2 = {.version = sizeof(struct nvml_mem2) | 2 << 24};
	char uuid[96];
	if ((n = nvmlInit_v2()) != 0 || (n = nvmlDeviceGetCount_v2(&ncount)) != 0)
		FAIL("nvml init/count = %d", n);
	printf("nvml devices: %u\n", ncount);
	if ((n = nvmlDeviceGetHandleByIndex_v2(0, &dev)) != 0 || (n = nvmlDeviceGetUUID(dev, uuid, sizeof uuid)) != 0)
		FAIL("nvml device 0 = %d", n);
	printf("nvml device 0: %s\n", uuid);
	if ((n = nvmlDeviceGetMemoryInfo(dev, (nvmlMemory_t *)&m1)) != 0 || (n = nvmlDeviceGetMemoryInfo_v2(dev, (nvmlMemory_v2_t *)&m2)) != 0)
		FAIL("nvml memory info = %d", n);
	printf("nvmlDeviceGetMemoryInfo: total %llu free %llu used %llu\n", m1.total, m1.free, m1.used);
	printf("nvmlDeviceGetMemoryInfo_v2: total %llu reserved %llu free %llu used %llu\n", m2.total, m2.reserved, m2.free, m2.used);

	if (over) {
		void *p = NULL;
		if ((e = cudaMalloc(&p, over)) != 2 /* cudaErrorMemoryAllocation */)
			FAIL("cudaMalloc(%zu) past the limit = %d", over, e);
		cudaGetLastError();
		printf("PASS over the limit: cudaErrorMemoryAllocation\n");
	}
	if (small) {
		void *p = NULL;
		if ((e = cudaMalloc(&p, small)) != 0)
			FAIL("cudaMalloc(%zu) = %d", small, e);
		size_t f = 0, t = 0;
		cudaMemGetInfo(&f, &t);
		printf("PASS smaller allocation; free now %zu\n", f);
		if ((e = cudaFree(p)) != 0)
			FAIL("cudaFree = %d", e);
	}
	return 0;
}
