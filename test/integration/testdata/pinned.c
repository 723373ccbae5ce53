/* A CUDA client for pinned host memory, linked against libcuda.so.1 (the vgpu stub): `pinned N`
 * allocates N MiB of pinned memory, then four times fills it with a new pattern, uploads it with
 * cuMemcpyHtoDAsync, synchronises the stream and writes the next pattern at once (as a program
 * may once its copy is done), and reads the device back; it prints a checksum of each read-back
 * and of the last upload through a synchronous copy. The same output natively and through vgpu,
 * with or without its pool of pinned memory (VGPU_PINNED_MB).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgpu/zz_prototypes.h"

#define PROG "pinned"
#include "check.h"

static unsigned long long sum(const unsigned char *b, size_t n) {
	unsigned long long h = 1469598103934665603ULL;
	for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 1099511628211ULL;
	return h;
}

int main(int argc, char **argv) {
	size_t n = (size_t)(argc > 1 ? atoi(argv[1]) : 1) << 20;
	CUdevice dev;
	CUcontext ctx;
	CUdeviceptr d;
	CUstream s;
	void *host;
	CHECK(cuInit(0));
	CHECK(cuDeviceGet(&dev, 0));
	CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
	CHECK(cuCtxSetCurrent(ctx));
	CHECK(cuStreamCreate(&s, 1));
	CHECK(cuMemAlloc_v2(&d, n));
	CHECK(cuMemAllocHost_v2(&host, n));
	unsigned char *back = malloc(n);
	for (int round = 0; round < 4; round++) {
		for (size_t i = 0; i < n; i++) ((unsigned char *)host)[i] = (unsigned char)(i * (round + 3) + (i >> 11));
		CHECK(cuMemcpyHtoDAsync_v2(d, host, n, s));
		CHECK(cuStreamSynchronize(s));
		memset(host, 0xee, n); /* the copy is done: the program may write its buffer */
		CHECK(cuMemcpyDtoH_v2(back, d, n));
		printf("round %d: %016llx\n", round, sum(back, n));
	}
	memset(host, 0x5a, n);
	CHECK(cuMemcpyHtoD_v2(d, host, n));
	CHECK(cuMemcpyDtoH_v2(back, d, n));
	printf("sync: %016llx\n", sum(back, n));
	CHECK(cuMemFreeHost(host));
	printf("PINNED OK\n");
	return 0;
}
