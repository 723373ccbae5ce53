/* A CUDA client for the round-trip count of VGPU_STATS, linked against libcuda.so.1 (the vgpu
 * stub): `roundtrips N` makes N rounds of a 4 KiB host-to-device copy and a cuDriverGetVersion,
 * each a call that waits for its reply, after the same set-up whatever N is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vgpu/zz_prototypes.h"

#define PROG "roundtrips"
#include "check.h"

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 0;
	CUdevice dev;
	CUcontext ctx;
	CUdeviceptr p;
	static char buf[4096];
	int v;
	CHECK(cuInit(0));
	CHECK(cuDeviceGet(&dev, 0));
	CHECK(cuDevicePrimaryCtxRetain(&ctx, dev));
	CHECK(cuCtxSetCurrent(ctx));
	CHECK(cuMemAlloc_v2(&p, sizeof buf));
	memset(buf, 7, sizeof buf);
	for (int i = 0; i < n; i++) {
		CHECK(cuMemcpyHtoD_v2(p, buf, sizeof buf));
		CHECK(cuDriverGetVersion(&v));
	}
	printf("ROUNDS %d\n", n);
	return 0;
}
