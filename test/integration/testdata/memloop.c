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
 *   memloop runs        async uploads of 64 KiB to 17 MiB of float32 attention masks (rows of 0
 *                       then -inf, as llama.cpp uploads them), of masks with random bytes
 *                       written into them, of V-cache indices (int64 steps, as llama.cpp
 *                       uploads them without FlashAttention) and of random bytes, from one host
 *                       buffer rewritten after each call; checks the device's bytes and prints
 *                       "RUNS OK"
 *   memloop blocks      async uploads of token embeddings (512 rows of a table of 272 rows of
 *                       4 KiB, 256 rows of one of 64 rows of 8 KiB with 100 bytes more) from one
 *                       host buffer rewritten after each call, again and again to the same
 *                       device buffers, on two threads at once (each its own stream and
 *                       buffers); checks the device's bytes and prints "BLOCKS OK"
 *   memloop peek <hex>  read 16 bytes at device address <hex> without allocating anything and
 *                       print "PEEK <result>"; exits 0 when the read was refused with
 *                       CUDA_ERROR_INVALID_VALUE (the address is not this session's).
 *   memloop idle <s>    allocate, print "IDLE", make no call for <s> seconds, then copy to the
 *                       allocation and print "AWAKE <result>"; exits 0 when the copy worked.
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vgpu/zz_prototypes.h"

#define PROG "memloop"
#include "check.h"

/* uploads: a device buffer of dn bytes (zeroed) and a stream, the host buffer uploads come from,
 * a mirror of what the device should hold and a buffer to read it back into. */
struct uploads {
	size_t dn;
	unsigned char *host, *mirror, *back;
	CUdeviceptr d;
	CUstream st;
};

static int uploads_init(struct uploads *u, size_t dn, size_t hn)
{
	u->dn = dn;
	u->host = malloc(hn), u->mirror = calloc(1, dn), u->back = malloc(dn);
	if (!u->host || !u->mirror || !u->back)
		return 2;
	CHECK(cuMemAlloc_v2(&u->d, dn));
	CHECK(cuStreamCreate(&u->st, 0));
	CHECK(cuMemsetD8_v2(u->d, 0, dn));
	return 0;
}

/* uploaded: host[0, n) was sent to d + off: mirror it, then overwrite the host buffer (the
 * caller's buffer is free again once the call returns, as an async copy from pageable memory has
 * taken its bytes by then). */
static void uploaded(struct uploads *u, size_t off, size_t n)
{
	memcpy(u->mirror + off, u->host, n);
	memset(u->host, 0xee, n);
}

/* same waits for the stream, reads the device buffer back and compares it with the mirror. */
static int same(struct uploads *u, const char *what, const char *when)
{
	CHECK(cuStreamSynchronize(u->st));
	CHECK(cuMemcpyDtoH_v2(u->back, u->d, u->dn));
	if (memcmp(u->back, u->mirror, u->dn) != 0) {
		fprintf(stderr, "memloop: %s: data differs %s\n", what, when);
		return 3;
	}
	return 0;
}

/* ring: the device buffer is 48 MiB; each upload goes to a varying offset from the same host
 * buffer, which is overwritten at once after the call. */
static int ring(void)
{
	const size_t sizes[] = {1 << 20, (3 << 20) + 123, 16 << 20, 17 << 20, (2 << 20) + 4096};
	struct uploads u;
	if (uploads_init(&u, 48 << 20, 17 << 20))
		return 2;
	size_t total = 0;
	for (unsigned it = 0; total < (300u << 20); it++) {
		size_t n = sizes[it % 5], off = ((size_t)it * 7340033u) % (u.dn - n);
		for (size_t k = 0; k < n; k++)
			u.host[k] = (unsigned char)(it * 31 + k * 7 + (k >> 12));
		if (it % 11 == 10) {
			CHECK(cuMemcpyHtoD_v2(u.d + off, u.host, n)); /* synchronous: the halves */
		} else {
			CHECK(cuMemcpyHtoDAsync_v2(u.d + off, u.host, n, u.st));
		}
		uploaded(&u, off, n);
		total += n;
		/* read back midway: the halves again, after a fence */
		if (it % 13 == 12 && same(&u, "ring", "midway"))
			return 3;
	}
	if (same(&u, "ring", "at the end"))
		return 3;
	printf("RING OK %zu MiB\n", total >> 20);
	return 0;
}

/* mask fills n bytes with float32 rows of `cols` values: row r is 0 up to column r, then -inf;
 * with noise, random bytes over every 16th row; with all, random bytes everywhere. */
static void mask(unsigned char *b, size_t n, size_t cols, int noise, int all, unsigned seed)
{
	const unsigned inf = 0xff800000u;
	size_t words = n / 4;
	for (size_t i = 0; i < words; i++) {
		unsigned v = (i % cols) > (i / cols) % cols ? inf : 0;
		memcpy(b + 4 * i, &v, 4);
	}
	for (size_t i = 4 * words; i < n; i++)
		b[i] = (unsigned char)(seed + i);
	for (size_t i = 0; i < n; i++) {
		size_t row = i / (4 * cols);
		if (all || (noise && row % 16 == 3)) {
			seed = seed * 1103515245u + 12345u;
			b[i] = (unsigned char)(seed >> 16);
		}
	}
}

/* indices fills n bytes with llama.cpp's V-cache indices: for each token t, t + j * cells for
 * each of per values (int64), and the bytes past the last whole index as they come. */
static void indices(unsigned char *b, size_t n, size_t per, size_t cells)
{
	for (size_t i = 0; 8 * i + 8 <= n; i++) {
		long long v = (long long)((i % per) * cells + i / per);
		memcpy(b + 8 * i, &v, 8);
	}
}

/* runs: 30 async uploads of 64 KiB to 17 MiB, masks and indices most of them, read back every
 * 10th. */
static int runs(void)
{
	const size_t sizes[] = {64 << 10, (1 << 20) + 4, 3 << 20, (17 << 20) - 12, (512 << 10) + 3};
	struct uploads u;
	if (uploads_init(&u, 40 << 20, 17 << 20))
		return 2;
	for (unsigned it = 0; it < 30; it++) {
		size_t n = sizes[it % 5], off = ((size_t)it * 1048583u) % (u.dn - n);
		if (it % 6 == 2 && it % 7 != 6)
			indices(u.host, n, 1024, 4096);
		else
			mask(u.host, n, 256 + 128 * (it % 3), it % 3 == 1, it % 7 == 6, it);
		CHECK(cuMemcpyHtoDAsync_v2(u.d + off, u.host, n, u.st));
		uploaded(&u, off, n);
		if (it % 10 == 9 && same(&u, "runs", "after an upload"))
			return 3;
	}
	printf("RUNS OK\n");
	return 0;
}

/* embeddings writes `tokens` rows of `width` bytes picked from a table of `vocab` rows (row v's
 * bytes made from v and the width, once: the table is a static of its own per width, as a
 * model's input table is) into b, then `tail` bytes. */
static unsigned char table4k[272 * 4096], table8k[64 * 8192];
static pthread_once_t tables_once = PTHREAD_ONCE_INIT;

static void tables_init(void)
{
	for (size_t v = 0; v < 272; v++)
		for (size_t k = 0; k < 4096; k++)
			table4k[v * 4096 + k] = (unsigned char)((v * 2654435761u + k * 40503u + 4096) >> 7);
	for (size_t v = 0; v < 64; v++)
		for (size_t k = 0; k < 8192; k++)
			table8k[v * 8192 + k] = (unsigned char)((v * 2654435761u + k * 40503u + 8192) >> 7);
}

static void embeddings(unsigned char *b, size_t tokens, size_t width, size_t vocab, size_t tail, unsigned *seed)
{
	pthread_once(&tables_once, tables_init);
	const unsigned char *table = width == 4096 ? table4k : table8k;
	for (size_t t = 0; t < tokens; t++) {
		*seed = *seed * 1103515245u + 12345u;
		memcpy(b + t * width, table + ((*seed >> 8) % vocab) * width, width);
	}
	for (size_t k = 0; k < tail; k++)
		b[tokens * width + k] = (unsigned char)(*seed + k);
}

struct blocks_thread {
	CUcontext ctx;
	unsigned seed;
	int rc;
};

/* blocks_run: 24 uploads, in turn 2 MiB of 4 KiB rows to the start of the device buffer and
 * 2 MiB + 100 bytes of 8 KiB rows to 4 MiB into it, read back every 6th. */
static int blocks_run(struct blocks_thread *bt)
{
	CHECK(cuCtxSetCurrent(bt->ctx));
	struct uploads u;
	if (uploads_init(&u, 8 << 20, (2 << 20) + 100))
		return 2;
	for (unsigned it = 0; it < 24; it++) {
		size_t off = it % 2 ? 4 << 20 : 0, n;
		if (it % 2) {
			embeddings(u.host, 256, 8192, 64, 100, &bt->seed);
			n = (2 << 20) + 100;
		} else {
			embeddings(u.host, 512, 4096, 272, 0, &bt->seed);
			n = 2 << 20;
		}
		CHECK(cuMemcpyHtoDAsync_v2(u.d + off, u.host, n, u.st));
		uploaded(&u, off, n);
		if (it % 6 == 5 && same(&u, "blocks", "after an upload"))
			return 3;
	}
	return 0;
}

static void *blocks_thread_main(void *p)
{
	struct blocks_thread *bt = p;
	bt->rc = blocks_run(bt);
	return NULL;
}

static int blocks(CUcontext ctx)
{
	struct blocks_thread bt[2] = {{ctx, 1, 0}, {ctx, 2, 0}};
	pthread_t th;
	if (pthread_create(&th, NULL, blocks_thread_main, &bt[1]) != 0)
		return 2;
	blocks_thread_main(&bt[0]);
	pthread_join(th, NULL);
	if (bt[0].rc || bt[1].rc)
		return bt[0].rc ? bt[0].rc : bt[1].rc;
	printf("BLOCKS OK\n");
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
	if (strcmp(argv[1], "runs") == 0)
		return runs();
	if (strcmp(argv[1], "blocks") == 0)
		return blocks(ctx);
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
