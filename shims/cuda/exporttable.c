/* The driver's private export tables (cuGetExportTable), as a statically linked CUDA runtime
 * uses them: nvcc's default -cudart static, CuPy's wheels, cuda.bindings. Such a runtime asks
 * for eight tables by UUID right after cuDriverGetVersion and refuses to start without six of
 * them. Each table is an array of words: the table's size in bytes, then function pointers
 * (the context-local-storage table has no size word and ends with NULL).
 *
 * Everything is answered here, in the calling process: the tables hold this library's functions,
 * and one of them (the integrity check) hashes their very addresses, so the server's tables
 * could never serve. Module loading and launches do not go through these tables: the runtime
 * uses the public cuLibraryLoadData / cuLibraryGetKernel / cuLaunchKernel for them.
 *
 * What each slot does was established by the ZLUDA project's and others' reverse engineering and
 * checked on the GPU machine against driver 580 (notes in docs/ARCHITECTURE.md); slots nobody has
 * seen called answer CUDA_ERROR_NOT_SUPPORTED with a log line. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vgpu/types.h"
#include "vgpu/stub.h"
#include "vgpu/zz_ids.h"
#include "vgpu/zz_prototypes.h"

#include "md2.h"

#define CUDA_SUCCESS 0
#define CUDA_ERROR_INVALID_VALUE 1
#define CUDA_ERROR_INVALID_CONTEXT 201
#define CUDA_ERROR_INVALID_HANDLE 400
#define CUDA_ERROR_NOT_FOUND 500
#define CUDA_ERROR_NOT_SUPPORTED 801
#define CU_DEVICE_ATTRIBUTE_PCI_BUS_ID 33
#define CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID 34
#define CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID 50

static void say(const char *msg)
{
	ssize_t w = write(2, msg, strlen(msg));
	(void)w;
}

/* A slot whose meaning is unknown: nobody has seen the runtime call it. */
static CUresult et_unknown(void)
{
	static int logged;
	if (!__atomic_exchange_n(&logged, 1, __ATOMIC_RELAXED))
		say("vgpu: the CUDA runtime called a private driver function vgpu does not know (returning CUDA_ERROR_NOT_SUPPORTED)\n");
	return CUDA_ERROR_NOT_SUPPORTED;
}

static void et_nop(void) {}

/* ---- CUDART_INTERFACE ---- */

#define MAX_DEVICES 64
static CUcontext primary[MAX_DEVICES];
static pthread_mutex_t primary_mu = PTHREAD_MUTEX_INITIALIZER;

/* [2]: the device's primary context, retained once and remembered. */
static CUresult cudart_primary_context(CUcontext *out, CUdevice dev)
{
	if (!out || dev < 0 || dev >= MAX_DEVICES)
		return CUDA_ERROR_INVALID_VALUE;
	pthread_mutex_lock(&primary_mu);
	CUresult r = CUDA_SUCCESS;
	if (!primary[dev])
		r = cuDevicePrimaryCtxRetain(&primary[dev], dev);
	if (r == CUDA_SUCCESS)
		*out = primary[dev];
	pthread_mutex_unlock(&primary_mu);
	return r;
}

/* [1], [6], [8]: a module from a fat binary (or its wrapper), through the public call. */
static CUresult cudart_module(CUmodule *out, const void *fatbin)
{
	return cuModuleLoadData(out, fatbin);
}

static CUresult cudart_module_ext1(CUmodule *out, const void *fatbin, void *a3, void *a4, unsigned a5)
{
	if (a3 || a4 || a5)
		return et_unknown();
	return cuModuleLoadData(out, fatbin);
}

static CUresult cudart_module_ext2(const void *fatbin, CUmodule *out, void *a3, void *a4, unsigned a5)
{
	if (a3 || a4 || a5)
		return et_unknown();
	return cuModuleLoadData(out, fatbin);
}

/* [12]: loads the JIT compilers; nothing to load here. */
static CUresult cudart_load_compilers(void) { return CUDA_SUCCESS; }

static const void *const cudart_interface[13] = {
	(void *)(13 * sizeof(void *)), (void *)cudart_module, (void *)cudart_primary_context, (void *)et_unknown,
	(void *)et_unknown, (void *)et_unknown, (void *)cudart_module_ext1, (void *)et_nop, (void *)cudart_module_ext2,
	(void *)et_unknown, NULL, (void *)et_unknown, (void *)cudart_load_compilers,
};

/* ---- TOOLS_RUNTIME_CALLBACK_HOOKS: two zeroed buffers the runtime may write to ---- */

static uint32_t hook_buf1[1024];
static uint32_t hook_buf2[14];

static void hooks_buffer1(void **p, size_t *n)
{
	if (p)
		*p = hook_buf1;
	if (n)
		*n = 1024;
}

static void hooks_buffer2(void **p, size_t *n)
{
	if (p)
		*p = hook_buf2;
	if (n)
		*n = 14;
}

static const void *const tools_hooks[7] = {
	(void *)(7 * sizeof(void *)), (void *)et_nop, (void *)hooks_buffer1, (void *)et_nop,
	(void *)et_nop, (void *)et_nop, (void *)hooks_buffer2,
};

/* ---- TOOLS_TLS ---- */

static CUresult tls_current_context(CUcontext *out) { return cuCtxGetCurrent(out); }

static const void *const tools_tls[3] = {(void *)(3 * sizeof(void *)), (void *)et_nop, (void *)tls_current_context};

/* ---- CONTEXT_LOCAL_STORAGE: values per (context, key), destructors when the context goes ---- */

typedef void (*cls_dtor)(CUcontext ctx, void *key, void *value);
struct cls_entry {
	CUcontext ctx;
	void *key, *value;
	cls_dtor dtor;
};
static struct cls_entry *cls;
static size_t cls_n, cls_cap;
static pthread_mutex_t cls_mu = PTHREAD_MUTEX_INITIALIZER;

static CUresult cls_context(CUcontext *ctx)
{
	if (*ctx)
		return CUDA_SUCCESS;
	if (cuCtxGetCurrent(ctx) != CUDA_SUCCESS || !*ctx)
		return CUDA_ERROR_INVALID_CONTEXT;
	return CUDA_SUCCESS;
}

static struct cls_entry *cls_find(CUcontext ctx, void *key)
{
	for (size_t i = 0; i < cls_n; i++)
		if (cls[i].ctx == ctx && cls[i].key == key)
			return &cls[i];
	return NULL;
}

static CUresult cls_put(CUcontext ctx, void *key, void *value, cls_dtor dtor)
{
	CUresult r = cls_context(&ctx);
	if (r != CUDA_SUCCESS)
		return r;
	pthread_mutex_lock(&cls_mu);
	struct cls_entry *e = cls_find(ctx, key);
	if (!e) {
		if (cls_n == cls_cap) {
			size_t cap = cls_cap ? 2 * cls_cap : 16;
			struct cls_entry *n = realloc(cls, cap * sizeof *n);
			if (!n) {
				pthread_mutex_unlock(&cls_mu);
				return CUDA_ERROR_INVALID_VALUE;
			}
			cls = n;
			cls_cap = cap;
		}
		e = &cls[cls_n++];
	}
	*e = (struct cls_entry){ctx, key, value, dtor};
	pthread_mutex_unlock(&cls_mu);
	return CUDA_SUCCESS;
}

/* Finds (ctx, key); with value, reads it; with del, removes it. */
static CUresult cls_lookup(CUcontext ctx, void *key, void **value, int del)
{
	CUresult r = cls_context(&ctx);
	if (r != CUDA_SUCCESS)
		return r;
	pthread_mutex_lock(&cls_mu);
	struct cls_entry *e = cls_find(ctx, key);
	if (e && value)
		*value = e->value;
	if (e && del)
		*e = cls[--cls_n];
	pthread_mutex_unlock(&cls_mu);
	return e ? CUDA_SUCCESS : CUDA_ERROR_INVALID_HANDLE;
}

/* Deleting a key runs no destructor (they run when the context goes). */
static CUresult cls_delete(CUcontext ctx, void *key) { return cls_lookup(ctx, key, NULL, 1); }

static CUresult cls_get(void **value, CUcontext ctx, void *key)
{
	if (!value)
		return CUDA_ERROR_INVALID_VALUE;
	return cls_lookup(ctx, key, value, 0);
}

/* The context goes (destroyed, or a primary context reset): each of its values' destructors
 * runs once, outside the lock (a destructor may call back into the table). */
static void cls_release(CUcontext ctx)
{
	for (;;) {
		pthread_mutex_lock(&cls_mu);
		struct cls_entry e;
		int found = 0;
		for (size_t i = 0; i < cls_n && !found; i++)
			if (cls[i].ctx == ctx) {
				e = cls[i];
				cls[i] = cls[--cls_n];
				found = 1;
			}
		pthread_mutex_unlock(&cls_mu);
		if (!found)
			return;
		if (e.dtor)
			e.dtor(e.ctx, e.key, e.value);
	}
}

static const void *const context_local_storage[4] = {(void *)cls_put, (void *)cls_delete, (void *)cls_get, NULL};

/* ---- CONTEXT_CHECKS ---- */

/* [2]: whether ctx wraps another one (only interop contexts do). */
static CUresult checks_context(CUcontext ctx, uint32_t *flag, const void **detail)
{
	(void)ctx;
	if (flag)
		*flag = 0;
	if (detail)
		*detail = NULL;
	return CUDA_SUCCESS;
}

static uint32_t checks_zero(void) { return 0; }

static const void *const context_checks[15] = {
	(void *)(15 * sizeof(void *)), (void *)et_unknown, (void *)checks_context, (void *)checks_zero,
	(void *)et_unknown, (void *)et_unknown, (void *)et_unknown, (void *)et_unknown, (void *)et_unknown,
	(void *)et_unknown, (void *)et_unknown, (void *)et_unknown, (void *)et_unknown, (void *)et_unknown,
	(void *)et_unknown,
};

/* ---- INTEGRITY_CHECK: an HMAC-MD2 the runtime recomputes from what the driver told it ---- */

static const unsigned char integrity_key[16] = {0x14, 0x6a, 0xdd, 0xae, 0x53, 0xa9, 0xa7, 0x52,
						0xaa, 0x08, 0x41, 0x36, 0x0b, 0xf5, 0x5a, 0x9f};

static CUresult integrity_check(uint32_t version, uint64_t unix_seconds, uint64_t out[2]);
static const void *const integrity_table[3] = {(void *)(3 * sizeof(void *)), (void *)integrity_check, (void *)et_unknown};

#pragma pack(push, 1)
struct integrity_process {
	uint32_t driver_version, version, pid, thread;
	const void *cudart_table, *integrity_table, *integrity_fn;
	uint64_t unix_seconds;
};
struct integrity_device {
	CUuuid uuid;
	int32_t pci_domain, pci_bus, pci_device;
};
#pragma pack(pop)

/* [1]: the runtime asks three times with its version + 0, 1, 2. For the first two the driver
 * answers constants; otherwise an HMAC-MD2 of the process (driver version, pid, thread, these
 * tables' addresses, the time it passes) and of every device (UUID, PCI location), all as this
 * library reports them, which is what the runtime recomputes and compares. */
static CUresult integrity_check(uint32_t version, uint64_t unix_seconds, uint64_t out[2])
{
	if (!out)
		return CUDA_ERROR_INVALID_VALUE;
	switch (version % 10) {
	case 0:
		out[0] = 0x3341181C03CB675CULL, out[1] = 0x8ED383AA1F4CD1E8ULL;
		return CUDA_SUCCESS;
	case 1:
		out[0] = 0x1841181C03CB675CULL, out[1] = 0x8ED383AA1F4CD1E8ULL;
		return CUDA_SUCCESS;
	}
	int driver = 0, count = 0;
	CUresult r = cuDriverGetVersion(&driver);
	if (r == CUDA_SUCCESS)
		r = cuDeviceGetCount(&count);
	if (r != CUDA_SUCCESS)
		return r;
	struct integrity_process p = {
		(uint32_t)driver, version, (uint32_t)getpid(), (uint32_t)(uintptr_t)pthread_self(),
		cudart_interface, integrity_table, (const void *)integrity_check, unix_seconds,
	};
	unsigned char k[16], inner[16];
	struct md2 m;
	for (int i = 0; i < 16; i++)
		k[i] = integrity_key[i] ^ 0x36;
	md2_init(&m);
	md2_update(&m, k, 16);
	md2_update(&m, &p, sizeof p);
	for (int dev = 0; dev < count; dev++) {
		struct integrity_device d;
		memset(&d, 0, sizeof d);
		if ((r = cuDeviceGetUuid(&d.uuid, dev)) != CUDA_SUCCESS ||
		    (r = cuDeviceGetAttribute(&d.pci_domain, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, dev)) != CUDA_SUCCESS ||
		    (r = cuDeviceGetAttribute(&d.pci_bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, dev)) != CUDA_SUCCESS ||
		    (r = cuDeviceGetAttribute(&d.pci_device, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, dev)) != CUDA_SUCCESS)
			return r;
		md2_update(&m, &d, sizeof d);
	}
	md2_final(&m, inner);
	for (int i = 0; i < 16; i++)
		k[i] = integrity_key[i] ^ 0x5c;
	md2_init(&m);
	md2_update(&m, k, 16);
	md2_update(&m, inner, 16);
	unsigned char h[16];
	md2_final(&m, h);
	memcpy(out, h, 16);
	return CUDA_SUCCESS;
}

/* ---- the lookup ---- */

static const struct {
	unsigned char uuid[16];
	const void *table;
} tables[] = {
	{{0x6b, 0xd5, 0xfb, 0x6c, 0x5b, 0xf4, 0xe7, 0x4a, 0x89, 0x87, 0xd9, 0x39, 0x12, 0xfd, 0x9d, 0xf9}, cudart_interface},
	{{0xa0, 0x94, 0x79, 0x8c, 0x2e, 0x74, 0x2e, 0x74, 0x93, 0xf2, 0x08, 0x00, 0x20, 0x0c, 0x0a, 0x66}, tools_hooks},
	{{0x42, 0xd8, 0x5a, 0x81, 0x23, 0xf6, 0xcb, 0x47, 0x82, 0x98, 0xf6, 0xe7, 0x8a, 0x3a, 0xec, 0xdc}, tools_tls},
	{{0xc6, 0x93, 0x33, 0x6e, 0x11, 0x21, 0xdf, 0x11, 0xa8, 0xc3, 0x68, 0xf3, 0x55, 0xd8, 0x95, 0x93}, context_local_storage},
	{{0x26, 0x3e, 0x88, 0x60, 0x7c, 0xd2, 0x61, 0x43, 0x92, 0xf6, 0xbb, 0xd5, 0x00, 0x6d, 0xfa, 0x7e}, context_checks},
	{{0xd4, 0x08, 0x20, 0x55, 0xbd, 0xe6, 0x70, 0x4b, 0x8d, 0x34, 0xba, 0x12, 0x3c, 0x66, 0xe1, 0xf2}, integrity_table},
};

/* Tables vgpu does not serve are refused with CUDA_ERROR_NOT_FOUND, which the runtime accepts
 * for the optional ones it asks for. */
VGPU_EXPORT CUresult cuGetExportTable(const void **ppExportTable, const CUuuid *pExportTableId)
{
	if (!ppExportTable || !pExportTableId)
		return CUDA_ERROR_INVALID_VALUE;
	for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++)
		if (memcmp(tables[i].uuid, pExportTableId->bytes, 16) == 0) {
			*ppExportTable = tables[i].table;
			return CUDA_SUCCESS;
		}
	*ppExportTable = NULL;
	return CUDA_ERROR_NOT_FOUND;
}

/* ---- context ends: the storage's destructors first ---- */

VGPU_EXPORT CUresult cuDevicePrimaryCtxReset_v2(CUdevice dev)
{
	CUcontext ctx = NULL;
	if (dev >= 0 && dev < MAX_DEVICES) {
		pthread_mutex_lock(&primary_mu);
		ctx = primary[dev];
		pthread_mutex_unlock(&primary_mu);
	}
	if (ctx)
		cls_release(ctx);
	uint64_t a[1] = {(uint64_t)(int64_t)dev};
	return (CUresult)vgpu_stub_call(VGPU_ID_cuDevicePrimaryCtxReset_v2, a);
}

VGPU_EXPORT CUresult cuCtxDestroy_v2(CUcontext ctx)
{
	if (ctx)
		cls_release(ctx);
	uint64_t a[1] = {(uint64_t)(uintptr_t)ctx};
	return (CUresult)vgpu_stub_call(VGPU_ID_cuCtxDestroy_v2, a);
}
