/* The hand-written exports of libcuda.so.1 (the rows with Manual: true in
 * internal/api/exports_manual.go): cuGetProcAddress and cuGetProcAddress_v2.
 *
 * Real libcudart resolves every driver entry point it uses (about 450) through cuGetProcAddress
 * and never calls the named exports, so this is how most calls of a CUDA program reach vgpu. It
 * answers in C, without entering the core (a forked child, a process without a server, the
 * loader's first calls all get an answer), from the table generated from
 * internal/api/procaddr_data.go, with the address of this library's own export of the chosen
 * name. Semantics as cuda.h documents them and as driver 580 answers (measured; see
 * internal/api/procaddr_driver580_test.go):
 *  - the highest ABI variant whose version is <= cudaVersion: cuMemAlloc at 2000 is cuMemAlloc,
 *    from 3020 on cuMemAlloc_v2;
 *  - with CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM in flags, a name with per-thread
 *    variants is served by them only (cuMemcpyHtoDAsync -> cuMemcpyHtoDAsync_v2_ptsz, and
 *    VERSION_NOT_SUFFICIENT below 7000); flags 0 is the legacy stream; other bits are invalid;
 *  - cuGetProcAddress_v2 returns CUDA_SUCCESS with *pfn NULL and the status
 *    CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND for an unknown name and
 *    CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT for one newer than cudaVersion; the 4-argument
 *    cuGetProcAddress (CUDA 11.3) returns CUDA_ERROR_NOT_FOUND for both and leaves *pfn alone.
 * Unlike the real driver, a cudaVersion newer than the driver's is not refused
 * (CUDA_ERROR_INVALID_VALUE there): the driver that counts is the server's, which this code does
 * not ask. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <unistd.h>

#include "vgpu/types.h"
#include "vgpu/stub.h"
#include "vgpu/zz_prototypes.h"

#include "zz_procaddr.c"

#define CUDA_SUCCESS 0
#define CUDA_ERROR_INVALID_VALUE 1
#define CUDA_ERROR_NOT_FOUND 500
#define CU_GET_PROC_ADDRESS_LEGACY_STREAM 1
#define CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM 2
#define CU_GET_PROC_ADDRESS_SUCCESS 0
#define CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND 1
#define CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT 2

/* This library's own handle: dlsym on it finds our exports whatever else the process has loaded
 * (never dlopen "libcuda.so.1" by name: that may be another library). */
static void *self;
static pthread_once_t self_once = PTHREAD_ONCE_INIT;

static void open_self(void)
{
	Dl_info info;
	if (dladdr((void *)&open_self, &info) && info.dli_fname)
		self = dlopen(info.dli_fname, RTLD_NOW | RTLD_NOLOAD);
	if (!self) {
		static const char msg[] = "vgpu: libcuda.so.1: cuGetProcAddress cannot find its own library; it resolves nothing\n";
		ssize_t w = write(2, msg, sizeof msg - 1);
		(void)w;
	}
}

/* The rows of symbol: [*first, *end), or 0 when it has none. */
static int rows_of(const char *symbol, int *first, int *end)
{
	int lo = 0, hi = VGPU_PROCADDR_ROWS;
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (strcmp(vgpu_procaddr_table[mid].symbol, symbol) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == VGPU_PROCADDR_ROWS || strcmp(vgpu_procaddr_table[lo].symbol, symbol) != 0)
		return 0;
	*first = lo;
	for (*end = lo; *end < VGPU_PROCADDR_ROWS && strcmp(vgpu_procaddr_table[*end].symbol, symbol) == 0; ++*end)
		;
	return 1;
}

/* A CU_GET_PROC_ADDRESS_* status; *pfn is set on success only. */
static int lookup(const char *symbol, int version, int per_thread, void **pfn)
{
	int first, end, i, has_per_thread = 0;
	if (!rows_of(symbol, &first, &end))
		return CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
	for (i = first; i < end; i++)
		has_per_thread |= vgpu_procaddr_table[i].per_thread;
	per_thread = per_thread && has_per_thread;
	const char *target = NULL;
	for (i = first; i < end; i++) /* ascending versions: the last one <= version wins */
		if (vgpu_procaddr_table[i].per_thread == per_thread && vgpu_procaddr_table[i].since <= version)
			target = vgpu_procaddr_table[i].target;
	if (!target)
		return CU_GET_PROC_ADDRESS_VERSION_NOT_SUFFICIENT;
	pthread_once(&self_once, open_self);
	void *p = self ? dlsym(self, target) : NULL;
	if (!p) /* every target is an export of ours (internal/api tests check it) */
		return CU_GET_PROC_ADDRESS_SYMBOL_NOT_FOUND;
	*pfn = p;
	return CU_GET_PROC_ADDRESS_SUCCESS;
}

static int valid_flags(cuuint64_t flags)
{
	return (flags & ~(cuuint64_t)(CU_GET_PROC_ADDRESS_LEGACY_STREAM | CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM)) == 0;
}

VGPU_EXPORT CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags,
					 CUdriverProcAddressQueryResult *symbolStatus)
{
	if (!symbol || !pfn || !valid_flags(flags))
		return CUDA_ERROR_INVALID_VALUE;
	void *p = NULL;
	int status = lookup(symbol, cudaVersion, (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0, &p);
	*pfn = p;
	if (symbolStatus)
		*symbolStatus = status;
	return CUDA_SUCCESS;
}

VGPU_EXPORT CUresult cuGetProcAddress(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags)
{
	if (!symbol || !pfn || !valid_flags(flags))
		return CUDA_ERROR_INVALID_VALUE;
	void *p = NULL;
	if (lookup(symbol, cudaVersion, (flags & CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM) != 0, &p) !=
	    CU_GET_PROC_ADDRESS_SUCCESS)
		return CUDA_ERROR_NOT_FOUND;
	*pfn = p;
	return CUDA_SUCCESS;
}
