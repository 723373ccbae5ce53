/* Several GPUs as one list, through the driver API (libcuda.so.1), the runtime (libcudart.so.13)
 * and NVML (libnvidia-ml.so.1), linked like any CUDA program. Under vgpu with VGPU_SERVER naming
 * several servers the list is theirs, the first server's devices first (docs/ARCHITECTURE.md,
 * "Several servers"); natively it is the machine's.
 *
 *   multidev list        one line per device and API: `driver|runtime|nvml <i> <uuid> <pci> ...`,
 *                        the counts, and cuDeviceCanAccessPeer of device pairs
 *   multidev copy A B C  copies between devices: host to A, peer A->B, peer B->C, B to device A+1
 *                        with cudaMemcpyDefault, async peer B->A on a stream of B, a stream of B
 *                        waiting for an event of A; each checked by reading back
 *   multidev loop A B    a round trip on device A and on device B, and an NVML query of B, every
 *                        20 ms: `ROUND <n> a=<rc> b=<rc> nvml=<rc>`, until 25 rounds after the
 *                        first failure (then `END`) or 1000 rounds
 *
 * Every step prints `<what> ok` or `<what> FAILED <code>`; exit 0 iff none failed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vgpu/zz_prototypes.h"

/* Offsets in the CUDA 13.0 struct cudaDeviceProp (1008 bytes; ABI facts). */
enum { P_NAME = 0, P_UUID = 256, P_PCIBUS = 568, P_PCIDEV = 572, P_PCIDOM = 576, PROP_SIZE = 1008 };
#define FIELD(p, off, type) (*(type *)((p) + (off)))
enum { cudaMemcpyHostToDevice = 1, cudaMemcpyDeviceToHost = 2, cudaMemcpyDefault = 4 };

static int failed;

static int check(const char *what, int rc)
{
	if (rc != 0) {
		printf("%s FAILED %d\n", what, rc);
		failed = 1;
	}
	return rc;
}

static void uuid_str(const unsigned char *u, char *out)
{
	sprintf(out, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
		u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

static int list(void)
{
	int n = 0;
	if (check("cuInit", cuInit(0)) || check("cuDeviceGetCount", cuDeviceGetCount(&n)))
		return 1;
	printf("driver-count %d\n", n);
	for (int i = 0; i < n; i++) {
		CUdevice d;
		CUuuid u;
		char name[256], bus[32], us[48];
		if (check("cuDeviceGet", cuDeviceGet(&d, i)) || check("cuDeviceGetName", cuDeviceGetName(name, sizeof name, d)) ||
		    check("cuDeviceGetUuid_v2", cuDeviceGetUuid_v2(&u, d)) || check("cuDeviceGetPCIBusId", cuDeviceGetPCIBusId(bus, sizeof bus, d)))
			continue;
		CUdevice back = -1;
		check("cuDeviceGetByPCIBusId", cuDeviceGetByPCIBusId(&back, bus));
		uuid_str((unsigned char *)u.bytes, us);
		printf("driver %d %s %s byPCI=%d %s\n", i, us, bus, back, name);
	}
	int rn = 0;
	if (check("cudaGetDeviceCount", cudaGetDeviceCount(&rn)))
		return 1;
	printf("runtime-count %d\n", rn);
	for (int i = 0; i < rn; i++) {
		unsigned char p[PROP_SIZE + 64];
		char us[48];
		if (check("cudaGetDeviceProperties", cudaGetDeviceProperties((struct cudaDeviceProp *)p, i)))
			continue;
		uuid_str(p + P_UUID, us);
		printf("runtime %d %s %08x:%02x:%02x.0 %s\n", i, us, FIELD(p, P_PCIDOM, int), FIELD(p, P_PCIBUS, int),
		       FIELD(p, P_PCIDEV, int), (char *)p + P_NAME);
	}
	unsigned int nn = 0;
	if (check("nvmlInit_v2", nvmlInit_v2()) || check("nvmlDeviceGetCount_v2", nvmlDeviceGetCount_v2(&nn)))
		return 1;
	printf("nvml-count %u\n", nn);
	for (unsigned int i = 0; i < nn; i++) {
		nvmlDevice_t h, again;
		char uuid[96], name[96];
		unsigned char pci[68];
		unsigned int idx = 99;
		if (check("nvmlDeviceGetHandleByIndex_v2", nvmlDeviceGetHandleByIndex_v2(i, &h)) ||
		    check("nvmlDeviceGetUUID", nvmlDeviceGetUUID(h, uuid, sizeof uuid)) ||
		    check("nvmlDeviceGetName", nvmlDeviceGetName(h, name, sizeof name)) ||
		    check("nvmlDeviceGetPciInfo_v3", nvmlDeviceGetPciInfo_v3(h, (nvmlPciInfo_t *)pci)) ||
		    check("nvmlDeviceGetIndex", nvmlDeviceGetIndex(h, &idx)))
			continue;
		/* the handle by UUID and by PCI bus id is the same device */
		unsigned int byuuid = 99, bypci = 99;
		if (!check("nvmlDeviceGetHandleByUUID", nvmlDeviceGetHandleByUUID(uuid, &again)))
			check("nvmlDeviceGetIndex", nvmlDeviceGetIndex(again, &byuuid));
		if (!check("nvmlDeviceGetHandleByPciBusId_v2", nvmlDeviceGetHandleByPciBusId_v2((char *)pci + 36, &again)))
			check("nvmlDeviceGetIndex", nvmlDeviceGetIndex(again, &bypci));
		printf("nvml %u %s %s index=%u byUUID=%u byPCI=%u domain=%08x %s\n", i, uuid, (char *)pci + 36, idx, byuuid, bypci,
		       *(unsigned int *)(pci + 16), name);
	}
	nvmlShutdown();
	for (int a = 0; a < n; a++)
		for (int b = 0; b < n; b++) {
			int can = -1;
			if (a != b && !check("cuDeviceCanAccessPeer", cuDeviceCanAccessPeer(&can, a, b)))
				printf("peer %d %d %d\n", a, b, can);
		}
	return failed;
}

#define N (3 << 20) /* large enough for the shared memory's halves (1 MiB and more) */

static void fill(unsigned char *b, int seed)
{
	for (int i = 0; i < N; i++)
		b[i] = (unsigned char)(i * 7 + seed + (i >> 12));
}

/* read device pointer p of device d back and compare it with want */
static void expect(const char *what, int d, void *p, const unsigned char *want)
{
	static unsigned char got[N];
	memset(got, 0, N);
	if (check(what, cudaSetDevice(d)) || check(what, cudaMemcpy(got, p, N, cudaMemcpyDeviceToHost)))
		return;
	if (memcmp(got, want, N) != 0) {
		printf("%s FAILED data\n", what);
		failed = 1;
		return;
	}
	printf("%s ok\n", what);
}

static int copy(int A, int B, int C)
{
	static unsigned char src[N], src2[N];
	void *a = NULL, *b = NULL, *c = NULL, *a1 = NULL;
	fill(src, 1);
	fill(src2, 5);
	if (check("cudaSetDevice A", cudaSetDevice(A)) || check("cudaMalloc A", cudaMalloc(&a, N)) ||
	    check("cudaMemcpy to A", cudaMemcpy(a, src, N, cudaMemcpyHostToDevice)) || check("cudaSetDevice A+1", cudaSetDevice(A + 1)) ||
	    check("cudaMalloc A+1", cudaMalloc(&a1, N)) || check("cudaSetDevice B", cudaSetDevice(B)) ||
	    check("cudaMalloc B", cudaMalloc(&b, N)) || check("cudaSetDevice C", cudaSetDevice(C)) || check("cudaMalloc C", cudaMalloc(&c, N)))
		return 1;
	printf("pointers a=%p b=%p c=%p a1=%p\n", a, b, c, a1);
	expect("host->A", A, a, src);

	if (!check("cudaMemcpyPeer A->B", cudaMemcpyPeer(b, B, a, A, N)))
		expect("peer A->B", B, b, src);
	if (!check("cudaMemcpyPeer B->C", cudaMemcpyPeer(c, C, b, B, N)))
		expect("peer B->C", C, c, src);

	/* unified addressing: the pointers alone say where the bytes are */
	struct { int type, device; void *dp, *hp; } at;
	if (!check("cudaPointerGetAttributes B", cudaPointerGetAttributes((struct cudaPointerAttributes *)&at, b)))
		printf("attributes b type=%d device=%d\n", at.type, at.device);
	if (!check("cudaSetDevice A (default)", cudaSetDevice(A)) &&
	    !check("cudaMemcpy B->A+1 default", cudaMemcpy(a1, b, N, cudaMemcpyDefault)))
		expect("default B->A+1", A + 1, a1, src);

	/* a stream of B: an upload, then an async peer copy B->A on it */
	cudaStream_t s;
	cudaEvent_t e;
	if (!check("cudaSetDevice B (stream)", cudaSetDevice(B)) && !check("cudaStreamCreate", cudaStreamCreate(&s)) &&
	    !check("cudaMemcpyAsync to B", cudaMemcpyAsync(b, src2, N, cudaMemcpyHostToDevice, s)) &&
	    !check("cudaMemcpyPeerAsync B->A", cudaMemcpyPeerAsync(a, A, b, B, N, s)) &&
	    !check("cudaStreamSynchronize", cudaStreamSynchronize(s)))
		expect("async peer B->A", A, a, src2);

	/* a stream of B waits for an event of A */
	if (!check("cudaSetDevice A (event)", cudaSetDevice(A)) && !check("cudaEventCreate", cudaEventCreate(&e)) &&
	    !check("cudaEventRecord", cudaEventRecord(e, NULL)) && !check("cudaSetDevice B (wait)", cudaSetDevice(B)) &&
	    !check("cudaStreamWaitEvent", cudaStreamWaitEvent(s, e, 0)) && !check("cudaStreamSynchronize (wait)", cudaStreamSynchronize(s)))
		printf("wait ok\n");

	/* the driver API: a unified copy from C to A */
	cudaSetDevice(A);
	if (!check("cuMemcpy C->A", cuMemcpy((CUdeviceptr)a, (CUdeviceptr)c, N)))
		expect("cuMemcpy C->A", A, a, src);
	return failed;
}

static int loop(int A, int B)
{
	static unsigned char buf[4096];
	void *pa = NULL, *pb = NULL;
	nvmlDevice_t hb;
	unsigned int nn = 0;
	if (check("cudaSetDevice A", cudaSetDevice(A)) || check("cudaMalloc A", cudaMalloc(&pa, sizeof buf)) ||
	    check("cudaSetDevice B", cudaSetDevice(B)) || check("cudaMalloc B", cudaMalloc(&pb, sizeof buf)) ||
	    check("nvmlInit_v2", nvmlInit_v2()) || check("nvmlDeviceGetCount_v2", nvmlDeviceGetCount_v2(&nn)) ||
	    check("nvmlDeviceGetHandleByIndex_v2", nvmlDeviceGetHandleByIndex_v2(B, &hb)))
		return 1;
	int after = -1;
	for (int n = 0; n < 1000; n++) {
		int r[2];
		void *p[2] = {pa, pb};
		int d[2] = {A, B};
		for (int k = 0; k < 2; k++) {
			r[k] = cudaSetDevice(d[k]);
			if (!r[k])
				r[k] = cudaMemcpy(p[k], buf, sizeof buf, cudaMemcpyHostToDevice);
			if (!r[k])
				r[k] = cudaMemcpy(buf, p[k], sizeof buf, cudaMemcpyDeviceToHost);
		}
		unsigned long long m[3];
		int rn = nvmlDeviceGetMemoryInfo(hb, (nvmlMemory_t *)m);
		printf("ROUND %d a=%d b=%d nvml=%d\n", n, r[0], r[1], rn);
		fflush(stdout);
		if (after < 0 && (r[0] || r[1] || rn))
			after = n;
		if (after >= 0 && n - after >= 25)
			break;
		usleep(20000);
	}
	printf("END\n");
	return 0;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return list();
	if (argc >= 5 && !strcmp(argv[1], "copy"))
		return copy(atoi(argv[2]), atoi(argv[3]), atoi(argv[4]));
	if (argc >= 4 && !strcmp(argv[1], "loop"))
		return loop(atoi(argv[2]), atoi(argv[3]));
	fprintf(stderr, "usage: multidev list | copy A B C | loop A B\n");
	return 2;
}
