/* The hand-written exports of libcudart.so.12 and libcudart.so.13 (the rows with Manual: true in
 * internal/api/exports_manual.go). Built into each of the two libraries; the Makefile defines
 * VGPU_STUB_<stem> (VGPU_STUB_libcudart12 or VGPU_STUB_libcudart13).
 *
 * cudaGetDriverEntryPoint* return addresses inside our libcuda.so.1: they load it from this
 * library's own folder by absolute path (never by its SONAME, docs/ARCHITECTURE.md, decision 5), and ask its
 * cuGetProcAddress_v2 (shims/cuda/manual.c), so they never enter the core either.
 * cudaCreateChannelDesc returns a struct by value, which a generated stub cannot. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "vgpu/types.h"
#include "vgpu/stub.h"
#include "vgpu/zz_prototypes.h"

/* The runtime version cudaGetDriverEntryPoint asks the driver for (the real cudart uses its own
 * CUDART_VERSION): the 12.x one is 12.9, the newest, whose headers libcudart.so.12's exports
 * follow (internal/api/exports_cudart12.go). */
#if defined(VGPU_STUB_libcudart12)
#define VGPU_RUNTIME_VERSION 12090
#elif defined(VGPU_STUB_libcudart13)
#define VGPU_RUNTIME_VERSION 13000
#else
#error "shims/cudart/manual.c is built into libcudart.so.12 or .13 (make defines VGPU_STUB_libcudart12/13)"
#endif

#define cudaSuccess 0
#define cudaErrorInvalidValue 1
#define cudaErrorInsufficientDriver 35
#define cudaErrorUnknown 999
#define cudaEnableLegacyStream 0x1
#define cudaEnablePerThreadDefaultStream 0x2

typedef CUresult (*get_proc_address_fn)(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags,
					CUdriverProcAddressQueryResult *symbolStatus);
static get_proc_address_fn get_proc_address;
static pthread_once_t driver_once = PTHREAD_ONCE_INIT;

static void log_line(const char *what, const char *detail)
{
	char line[PATH_MAX + 256];
	int n = snprintf(line, sizeof line, "vgpu: %s: %s%s\n", vgpu_stub_self.soname, what, detail);
	if (n > (int)sizeof line - 1)
		n = (int)sizeof line - 1;
	if (n > 0) {
		ssize_t w = write(2, line, (size_t)n);
		(void)w;
	}
}

static void open_driver(void)
{
	Dl_info info;
	char path[PATH_MAX];
	if (!dladdr((void *)&open_driver, &info) || !info.dli_fname) {
		log_line("cannot find its own path, so cannot find libcuda.so.1 next to it", "");
		return;
	}
	const char *slash = strrchr(info.dli_fname, '/');
	if (snprintf(path, sizeof path, "%.*s/libcuda.so.1", slash ? (int)(slash - info.dli_fname) : 1,
		     slash ? info.dli_fname : ".") >= (int)sizeof path) {
		log_line("path of libcuda.so.1 too long: ", info.dli_fname);
		return;
	}
	void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h) {
		log_line("cudaGetDriverEntryPoint cannot load the vgpu libcuda.so.1 next to it: ", dlerror());
		return;
	}
	get_proc_address = (get_proc_address_fn)dlsym(h, "cuGetProcAddress_v2");
	if (!get_proc_address)
		log_line("not a vgpu libcuda.so.1 (no cuGetProcAddress_v2): ", path);
}

static cudaError_t entry_point(const char *symbol, void **funcPtr, unsigned int cudaVersion, unsigned long long flags,
			       cudaDriverEntryPointQueryResult *driverStatus)
{
	if (!symbol || !funcPtr)
		return cudaErrorInvalidValue;
	pthread_once(&driver_once, open_driver);
	if (!get_proc_address)
		return cudaErrorInsufficientDriver;
	CUdriverProcAddressQueryResult status = 0;
	CUresult r = get_proc_address(symbol, funcPtr, (int)cudaVersion, flags, &status);
	if (r != 0)
		return r == 1 ? cudaErrorInvalidValue : cudaErrorUnknown;
	if (driverStatus)
		*driverStatus = status;
	return cudaSuccess;
}

/* The _ptsz variants are what code built for the per-thread default stream calls: "default"
 * flags mean the per-thread stream there. */
static unsigned long long per_thread_default(unsigned long long flags)
{
	if ((flags & (cudaEnableLegacyStream | cudaEnablePerThreadDefaultStream)) == 0)
		flags |= cudaEnablePerThreadDefaultStream;
	return flags;
}

VGPU_EXPORT cudaError_t cudaGetDriverEntryPoint(const char *symbol, void **funcPtr, unsigned long long flags,
						cudaDriverEntryPointQueryResult *driverStatus)
{
	return entry_point(symbol, funcPtr, VGPU_RUNTIME_VERSION, flags, driverStatus);
}

VGPU_EXPORT cudaError_t cudaGetDriverEntryPoint_ptsz(const char *symbol, void **funcPtr, unsigned long long flags,
						     cudaDriverEntryPointQueryResult *driverStatus)
{
	return entry_point(symbol, funcPtr, VGPU_RUNTIME_VERSION, per_thread_default(flags), driverStatus);
}

VGPU_EXPORT cudaError_t cudaGetDriverEntryPointByVersion(const char *symbol, void **funcPtr, unsigned int cudaVersion,
							 unsigned long long flags,
							 cudaDriverEntryPointQueryResult *driverStatus)
{
	return entry_point(symbol, funcPtr, cudaVersion, flags, driverStatus);
}

VGPU_EXPORT cudaError_t cudaGetDriverEntryPointByVersion_ptsz(const char *symbol, void **funcPtr,
							      unsigned int cudaVersion, unsigned long long flags,
							      cudaDriverEntryPointQueryResult *driverStatus)
{
	return entry_point(symbol, funcPtr, cudaVersion, per_thread_default(flags), driverStatus);
}

VGPU_EXPORT struct cudaChannelFormatDesc cudaCreateChannelDesc(int x, int y, int z, int w, cudaChannelFormatKind f)
{
	struct cudaChannelFormatDesc d = {x, y, z, w, f};
	return d;
}
