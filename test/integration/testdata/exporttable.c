/* The private export tables as a static CUDA runtime uses them (shims/cuda/exporttable.c),
 * against the sim backend: which tables exist, the context-local storage and its destructors on
 * a primary-context reset, the context check, the integrity check's constants and its hash.
 * Prints "name value" lines that exporttable_test.go compares. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vgpu/types.h"
#include "vgpu/zz_prototypes.h"
#include "md2.h"

static const unsigned char uuids[8][16] = {
	{0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a, 0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9}, /* CUDART_INTERFACE */
	{0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74, 0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66}, /* hooks */
	{0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47, 0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc}, /* TLS */
	{0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11, 0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93}, /* CLS */
	{0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43, 0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e}, /* checks */
	{0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b, 0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2}, /* integrity */
	{0xf8, 0xcf, 0xf9, 0x51, 0x21, 0x46, 0x8b, 0x4e, 0xb9, 0xe2, 0xfb, 0x46, 0x9e, 0x7c, 0x0d, 0xd9}, /* optional */
	{0xda, 0x91, 0x51, 0xd3, 0x3a, 0xe6, 0xcc, 0x41, 0xa5, 0xc0, 0x4f, 0x26, 0xd5, 0x33, 0xe3, 0x28}, /* optional */
};

static int dtor_calls;
static void *dtor_value;
static void dtor(CUcontext ctx, void *key, void *value)
{
	dtor_calls++;
	dtor_value = value;
}

typedef CUresult (*primary_fn)(CUcontext *, CUdevice);
typedef CUresult (*put_fn)(CUcontext, void *, void *, void (*)(CUcontext, void *, void *));
typedef CUresult (*del_fn)(CUcontext, void *);
typedef CUresult (*get_fn)(void **, CUcontext, void *);
typedef CUresult (*check_fn)(CUcontext, uint32_t *, const void **);
typedef CUresult (*integrity_fn)(uint32_t, uint64_t, uint64_t *);

int main(void)
{
	const void *t[8];
	for (int i = 0; i < 8; i++) {
		CUuuid id;
		memcpy(id.bytes, uuids[i], 16);
		t[i] = (const void *)1;
		CUresult r = cuGetExportTable(&t[i], &id);
		printf("table%d %d %s\n", i, r, t[i] ? "set" : "null");
	}
	printf("init %d\n", cuInit(0));
	const void *const *cudart = t[0], *const *cls = t[3], *const *checks = t[4], *const *integ = t[5];
	printf("sizes %lu %lu %lu %lu %lu\n", (unsigned long)(uintptr_t)cudart[0], (unsigned long)(uintptr_t)((const void *const *)t[1])[0],
	       (unsigned long)(uintptr_t)((const void *const *)t[2])[0], (unsigned long)(uintptr_t)checks[0], (unsigned long)(uintptr_t)integ[0]);

	CUcontext primary = NULL, again = NULL;
	CUresult r1 = ((primary_fn)cudart[2])(&primary, 0), r2 = ((primary_fn)cudart[2])(&again, 0);
	printf("primary %d %d %s\n", r1, r2, primary && primary == again ? "same" : "different");

	static int key, value, value2;
	void *got = NULL;
	printf("cls-get-missing %d\n", ((get_fn)cls[2])(&got, primary, &key));
	printf("cls-put %d\n", ((put_fn)cls[0])(primary, &key, &value, dtor));
	CUresult r = ((get_fn)cls[2])(&got, primary, &key);
	printf("cls-get %d %s\n", r, got == &value ? "value" : "other");
	printf("cls-del %d\n", ((del_fn)cls[1])(primary, &key));
	r = ((get_fn)cls[2])(&got, primary, &key);
	printf("cls-get-deleted %d dtor %d\n", r, dtor_calls);
	((put_fn)cls[0])(primary, &key, &value2, dtor);
	r = cuDevicePrimaryCtxReset_v2(0);
	printf("reset %d dtor %d %s\n", r, dtor_calls, dtor_value == &value2 ? "value2" : "other");
	printf("cls-get-after-reset %d\n", ((get_fn)cls[2])(&got, primary, &key));

	uint32_t flag = 7;
	const void *detail = &flag;
	r = ((check_fn)checks[2])(primary, &flag, &detail);
	printf("check %d %u %s\n", r, flag, detail ? "set" : "null");

	uint64_t h0[2], h1[2], h2[2], h2b[2], h2c[2];
	((integrity_fn)integ[1])(13000, 1000, h0);
	((integrity_fn)integ[1])(13001, 1000, h1);
	((integrity_fn)integ[1])(13002, 1000, h2);
	((integrity_fn)integ[1])(13002, 1000, h2b);
	((integrity_fn)integ[1])(13002, 1001, h2c);
	printf("integrity0 %016llx%016llx\n", (unsigned long long)h0[0], (unsigned long long)h0[1]);
	printf("integrity1 %016llx%016llx\n", (unsigned long long)h1[0], (unsigned long long)h1[1]);
	printf("integrity2 %s %s\n", memcmp(h2, h2b, 16) == 0 ? "stable" : "unstable", memcmp(h2, h2c, 16) != 0 ? "timed" : "untimed");

	/* MD2 against RFC 1319's test vectors */
	const char *vec[] = {"", "abc", "message digest"};
	for (int i = 0; i < 3; i++) {
		struct md2 m;
		unsigned char d[16];
		md2_init(&m);
		md2_update(&m, vec[i], strlen(vec[i]));
		md2_final(&m, d);
		printf("md2-%d ", i);
		for (int j = 0; j < 16; j++)
			printf("%02x", d[j]);
		printf("\n");
	}
	return 0;
}
