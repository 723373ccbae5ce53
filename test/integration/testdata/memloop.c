/* A CUDA client for the worker tests, linked against libcuda.so.1 (the vgpu stub).
 *
 *   memloop loop        allocate 8 MiB, print "PTR <hex>", then copy it host->device->host
 *                       forever, checking the data; prints "READY" after the first round trip
 *                       and "ITER <n>" every 4 rounds. Dies by itself after 20 s (alarm), so it
 *                       can never outlive a test that lost track of it.
 *   memloop peek <hex>  read 16 bytes at device address <hex> without allocating anything and
 *                       print "PEEK <result>"; exits 0 when the read was refused with
 *                       CUDA_ERROR_INVALID_VALUE (the address is not this session's).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vgpu/zz_prototypes.h"

#define CHECK(call)                                                                       \
	do {                                                                              \
		CUresult r_ = (call);                                                     \
		if (r_ != 0) {                                                            \
			fprintf(stderr, "memloop: %s failed: %d\n", #call, r_);           \
			exit(2);                                                          \
		}                                                                         \
	} while (0)

int main(int argc, char **argv)
{
	alarm(20);
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: memloop loop | memloop peek <hex>\n");
		return 2;
	}
	CUdevice dev;
	CUcontext ctx;
	CHECK(cuInit(0));
	CHECK(cuDeviceGet(&dev, 0));
	CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
	CHECK(cuCtxSetCurrent(ctx));

	if (strcmp(argv[1], "peek") == 0 && argc == 3) {
		CUdeviceptr p = strtoull(argv[2], NULL, 16);
		unsigned char buf[16];
		CUresult r = cuMemcpyDtoH_v2(buf, p, sizeof buf);
		printf("PEEK %d\n", r);
		return r == 1 ? 0 : 1;
	}
	if (strcmp(argv[1], "loop") != 0)
		return 2;

	size_t n = 8 << 20;
	unsigned char *src = malloc(n), *dst = malloc(n);
	if (!src || !dst)
		return 2;
	CUdeviceptr d;
	CHECK(cuMemAlloc_v2(&d, n));
	printf("PTR %llx\n", (unsigned long long)d);
	for (unsigned long it = 1;; it++) {
		for (size_t k = 0; k < n; k += 4096)
			src[k] = (unsigned char)(it + k / 4096);
		CHECK(cuMemcpyHtoD_v2(d, src, n));
		memset(dst, 0, n);
		CHECK(cuMemcpyDtoH_v2(dst, d, n));
		if (memcmp(src, dst, n) != 0) {
			fprintf(stderr, "memloop: round %lu: data differs\n", it);
			return 3;
		}
		if (it == 1)
			printf("READY\n");
		if (it % 4 == 0)
			printf("ITER %lu\n", it);
	}
}
