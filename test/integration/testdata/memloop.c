/* A CUDA client for the worker tests, linked against libcuda.so.1 (the vgpu stub).
 *
 *   memloop loop        allocate 8 MiB, print "PTR <hex>", then copy it host->device->host
 *                       forever, checking the data; prints "READY" after the first round trip
 *                       and "ITER <n>" every 4 rounds. Dies by itself after 20 s (alarm), so it
 *                       can never outlive a test that lost track of it.
 *   memloop ring        async uploads (cuMemcpyHtoDAsync) of 1 to 17 MiB from one host buffer
 *                       rewritten after each call, 300 MiB in all, with a synchronous copy
 *                       each way now and then; checks the device's bytes against a mirror and
 *                       prints "RING OK"
 *   memloop peek <hex>  read 16 bytes at device address <hex> without allocating anything and
 *                       print "PEEK <result>"; exits 0 when the read was refused with
 *                       CUDA_ERROR_INVALID_VALUE (the address is not this session's).
 *   memloop idle <s>    allocate, print "IDLE", make no call for <s> seconds, then copy to the
 *                       allocation and print "AWAKE <result>"; exits 0 when the copy worked.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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

/* ring: the device buffer is 48 MiB; each upload goes to a varying offset from the same host
 * buffer, which is overwritten at once after the call (an async copy from pageable memory has
 * taken its bytes when it returns). */
static int ring(void)
{
	const size_t dn = 48 << 20, hn = 17 << 20;
	const size_t sizes[] = {1 << 20, (3 << 20) + 123, 16 << 20, 17 << 20, (2 << 20) + 4096};
	unsigned char *host = malloc(hn), *mirror = calloc(1, dn), *back = malloc(dn);
	if (!host || !mirror || !back)
		return 2;
	CUdeviceptr d;
	CUstream st;
	CHECK(cuMemAlloc_v2(&d, dn));
	CHECK(cuStreamCreate(&st, 0));
	CHECK(cuMemsetD8_v2(d, 0, dn));
	size_t total = 0;
	for (unsigned it = 0; total < (300u << 20); it++) {
		size_t n = sizes[it % 5], off = ((size_t)it * 7340033u) % (dn - n);
		for (size_t k = 0; k < n; k++)
			host[k] = (unsigned char)(it * 31 + k * 7 + (k >> 12));
		if (it % 11 == 10) {
			CHECK(cuMemcpyHtoD_v2(d + off, host, n)); /* synchronous: the halves */
		} else {
			CHECK(cuMemcpyHtoDAsync_v2(d + off, host, n, st));
		}
		memcpy(mirror + off, host, n);
		memset(host, 0xee, n); /* the caller's buffer is free again */
		total += n;
		if (it % 13 == 12) { /* read back midway: the halves again, after a fence */
			CHECK(cuStreamSynchronize(st));
			CHECK(cuMemcpyDtoH_v2(back, d, dn));
			if (memcmp(back, mirror, dn) != 0) {
				fprintf(stderr, "memloop: ring: data differs after upload %u\n", it);
				return 3;
			}
		}
	}
	CHECK(cuStreamSynchronize(st));
	CHECK(cuMemcpyDtoH_v2(back, d, dn));
	if (memcmp(back, mirror, dn) != 0) {
		fprintf(stderr, "memloop: ring: data differs at the end\n");
		return 3;
	}
	printf("RING OK %zu MiB\n", total >> 20);
	return 0;
}

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
	if (strcmp(argv[1], "ring") == 0)
		return ring();
	if (strcmp(argv[1], "idle") == 0 && argc == 3) {
		CUdeviceptr d;
		unsigned char b[64] = {1};
		CHECK(cuMemAlloc_v2(&d, sizeof b));
		printf("IDLE\n");
		for (time_t end = time(NULL) + atoi(argv[2]); time(NULL) < end;)
			usleep(100000); /* a signal to the Go runtime's threads may cut a sleep short */
		CUresult r = cuMemcpyHtoD_v2(d, b, sizeof b);
		printf("AWAKE %d\n", r);
		return r == 0 ? 0 : 1;
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
