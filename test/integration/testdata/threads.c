/* Per-thread fidelity (docs/ARCHITECTURE.md, decision 14), against a sim server whose async
 * device-to-device copies each keep their stream busy for VGPU_SIM_WORK_US (simulated GPU time).
 *
 *   threads ms   8 threads, each with its own stream: COPIES copies, a synchronisation, a check
 *                of the bytes; prints the wall time of the whole ("elapsed ms: N")
 *   nodelay      thread A synchronises a busy stream; meanwhile thread B makes round trips; prints
 *                how long each took and whether B was done before A's synchronisation returned
 *   context      the current context is per thread (driver API)
 *   lasterror    two threads fail different calls at once; each reads its own last error
 *   ends         prints "phase 1" and waits a second, runs the 8 threads of "threads", makes one
 *                call (which reports their end), prints "phase 2" and waits a second (the test
 *                counts the worker's threads in each phase)
 *
 * Every check prints "FAIL ..." and exits 1 when it does not hold, else the program prints
 * "PASS" last. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "vgpu/zz_prototypes.h"

/* the header has the exported names only */
enum { cudaMemcpyDeviceToHost = 2, cudaMemcpyDeviceToDevice = 3 };
#define cuCtxCreate cuCtxCreate_v2
#define cuCtxDestroy cuCtxDestroy_v2

#define NT 8
#define COPIES 4
#define BYTES (64 << 10)

#define CHECK(x)                                                                   \
	do {                                                                           \
		int r_ = (int)(x);                                                         \
		if (r_) {                                                                  \
			printf("FAIL %s = %d (line %d)\n", #x, r_, __LINE__);                   \
			exit(1);                                                               \
		}                                                                          \
	} while (0)

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- threads: 8 streams synchronised at once ---- */

static void *stream_worker(void *p)
{
	int k = (int)(intptr_t)p;
	cudaStream_t s;
	void *a, *b;
	unsigned char host[BYTES];
	CHECK(cudaStreamCreate(&s));
	CHECK(cudaMalloc(&a, BYTES));
	CHECK(cudaMalloc(&b, BYTES));
	CHECK(cudaMemset(a, 0x10 + k, BYTES));
	CHECK(cudaMemset(b, 0, BYTES));
	for (int i = 0; i < COPIES; i++)
		CHECK(cudaMemcpyAsync(b, a, BYTES, cudaMemcpyDeviceToDevice, s));
	CHECK(cudaStreamSynchronize(s));
	CHECK(cudaMemcpy(host, b, BYTES, cudaMemcpyDeviceToHost));
	for (int i = 0; i < BYTES; i++)
		if (host[i] != 0x10 + k) {
			printf("FAIL thread %d: byte %d is %#x, want %#x\n", k, i, host[i], 0x10 + k);
			exit(1);
		}
	CHECK(cudaStreamDestroy(s));
	CHECK(cudaFree(a));
	CHECK(cudaFree(b));
	return 0;
}

static void test_threads(void)
{
	pthread_t t[NT];
	double t0 = now_ms();
	for (int k = 0; k < NT; k++)
		pthread_create(&t[k], 0, stream_worker, (void *)(intptr_t)k);
	for (int k = 0; k < NT; k++)
		pthread_join(t[k], 0);
	printf("elapsed ms: %.0f\n", now_ms() - t0);
}

/* ---- nodelay: a synchronisation on one thread does not hold up another's calls ---- */

static volatile int a_syncing;
static double a_sync_start, a_sync_end, b_start, b_end;

static void *sync_a(void *p)
{
	(void)p;
	cudaStream_t s;
	void *a, *b;
	CHECK(cudaStreamCreate(&s));
	CHECK(cudaMalloc(&a, BYTES));
	CHECK(cudaMalloc(&b, BYTES));
	for (int i = 0; i < COPIES; i++)
		CHECK(cudaMemcpyAsync(b, a, BYTES, cudaMemcpyDeviceToDevice, s));
	a_sync_start = now_ms();
	__atomic_store_n(&a_syncing, 1, __ATOMIC_RELEASE);
	CHECK(cudaStreamSynchronize(s));
	a_sync_end = now_ms();
	return 0;
}

static void *calls_b(void *p)
{
	(void)p;
	size_t fr, total;
	void *m;
	CHECK(cudaMemGetInfo(&fr, &total)); /* B's context, before A waits */
	while (!__atomic_load_n(&a_syncing, __ATOMIC_ACQUIRE))
		usleep(100);
	usleep(20000); /* A's synchronisation is on its way to the worker */
	b_start = now_ms();
	for (int i = 0; i < 20; i++) {
		CHECK(cudaMemGetInfo(&fr, &total));
		CHECK(cudaMalloc(&m, 4096));
		CHECK(cudaFree(m));
	}
	b_end = now_ms();
	return 0;
}

static void test_nodelay(void)
{
	pthread_t a, b;
	pthread_create(&a, 0, sync_a, 0);
	pthread_create(&b, 0, calls_b, 0);
	pthread_join(a, 0);
	pthread_join(b, 0);
	printf("A sync ms: %.0f\n", a_sync_end - a_sync_start);
	printf("B calls ms: %.0f\n", b_end - b_start);
	printf("B done first: %d\n", b_end < a_sync_end);
}

/* ---- context: the current context is per thread ---- */

static CUcontext main_ctx, other_ctx;

static void *ctx_thread(void *p)
{
	(void)p;
	CUcontext c = (CUcontext)1;
	CHECK(cuCtxGetCurrent(&c));
	printf("new thread's current context is NULL: %d\n", c == NULL);
	CUdevice d;
	CHECK(cuDeviceGet(&d, 0));
	CHECK(cuCtxCreate(&other_ctx, 0, d));
	CHECK(cuCtxGetCurrent(&c));
	printf("new thread's current context is its own: %d\n", c == other_ctx && c != main_ctx);
	return 0;
}

static void test_context(void)
{
	CUdevice d;
	CUcontext c;
	CHECK(cuInit(0));
	CHECK(cuDeviceGet(&d, 0));
	CHECK(cuCtxCreate(&main_ctx, 0, d));
	pthread_t t;
	pthread_create(&t, 0, ctx_thread, 0);
	pthread_join(t, 0);
	CHECK(cuCtxGetCurrent(&c));
	printf("main thread's current context is unchanged: %d\n", c == main_ctx);
	CHECK(cuCtxDestroy(other_ctx));
	CHECK(cuCtxDestroy(main_ctx));
}

/* ---- lasterror: each thread reads its own last error, made at the same time ---- */

static pthread_barrier_t bar;
static int got[2];

static void *err_thread(void *p)
{
	int k = (int)(intptr_t)p;
	pthread_barrier_wait(&bar);
	if (k == 0)
		cudaSetDevice(99); /* cudaErrorInvalidDevice, 101 */
	else
		cudaMalloc(NULL, 16); /* cudaErrorInvalidValue, 1 */
	pthread_barrier_wait(&bar);
	got[k] = cudaGetLastError();
	return 0;
}

static void test_lasterror(void)
{
	pthread_t t[2];
	pthread_barrier_init(&bar, 0, 2);
	for (int k = 0; k < 2; k++)
		pthread_create(&t[k], 0, err_thread, (void *)(intptr_t)k);
	for (int k = 0; k < 2; k++)
		pthread_join(t[k], 0);
	printf("last errors: %d %d\n", got[0], got[1]);
}

int main(int argc, char **argv)
{
	int n;
	setvbuf(stdout, NULL, _IOLBF, 0);
	CHECK(cudaGetDeviceCount(&n));
	const char *what = argc > 1 ? argv[1] : "";
	if (!strcmp(what, "threads"))
		test_threads();
	else if (!strcmp(what, "nodelay"))
		test_nodelay();
	else if (!strcmp(what, "context"))
		test_context();
	else if (!strcmp(what, "lasterror"))
		test_lasterror();
	else if (!strcmp(what, "ends")) {
		size_t fr, total;
		CHECK(cudaMemGetInfo(&fr, &total));
		printf("phase 1\n");
		sleep(1);
		test_threads();
		CHECK(cudaMemGetInfo(&fr, &total)); /* passes the 8 threads' end on */
		printf("phase 2\n");
		sleep(1);
	}
	else {
		printf("usage: threads threads|nodelay|context|lasterror|ends\n");
		return 2;
	}
	printf("PASS\n");
	return 0;
}
