/* Kernel registration and launches of libcudart.so.12 / .13, hand-written because nvcc's
 * generated code passes dim3 by value and calls the registration entry points from static
 * constructors (rows with Manual: true in internal/api/table_launch.go).
 *
 * Registration is pure C: a program registers its fat binaries, kernels and variables while
 * libraries load (thousands, for PyTorch), and none of that may start the Go runtime inside the
 * loader lock. The registry below only remembers them. A launch or symbol access looks the
 * host-side address up here and hands the core the fat binary (address and size) and the device
 * name; the core uploads each fat binary once, when a function in it is first used. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "vgpu/stub.h"
#include "vgpu/types.h"
#include "vgpu/zz_ids.h"

typedef struct { unsigned int x, y, z; } vgpu_dim3;

/* ---- the registry ---- */

struct fatbin {
	const void *data; /* the fat binary (fatBinaryHeader) */
	uint64_t size;    /* headerSize + fatSize */
};

struct entry {
	const void *host; /* the host stub function or the host shadow of a variable; 0 = free slot */
	const char *name; /* the device-side name */
	uint32_t fatbin;  /* index into fatbins */
	uint64_t size;    /* variables: bytes */
};

static pthread_mutex_t reg_mu = PTHREAD_MUTEX_INITIALIZER;
static struct fatbin *fatbins;
static uint32_t nfatbins, capfatbins;
static struct entry *table; /* open addressing by host address; functions and variables */
static uint32_t nentries, capentries;

static uint32_t slot_of(const void *host, uint32_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)host * 0x9E3779B97F4A7C15ull;
	return (uint32_t)(h >> 32) & (cap - 1);
}

static void put(struct entry *tab, uint32_t cap, struct entry e)
{
	uint32_t i = slot_of(e.host, cap);
	while (tab[i].host && tab[i].host != e.host)
		i = (i + 1) & (cap - 1);
	tab[i] = e;
}

static int add_entry(struct entry e)
{
	if (2 * (nentries + 1) > capentries) {
		uint32_t cap = capentries ? 2 * capentries : 1024;
		struct entry *t = calloc(cap, sizeof *t);
		if (!t)
			return -1;
		for (uint32_t i = 0; i < capentries; i++)
			if (table[i].host)
				put(t, cap, table[i]);
		free(table);
		table = t;
		capentries = cap;
	}
	put(table, capentries, e);
	nentries++;
	return 0;
}

static int lookup(const void *host, struct entry *out)
{
	int found = 0;
	pthread_mutex_lock(&reg_mu);
	if (capentries) {
		uint32_t i = slot_of(host, capentries);
		while (table[i].host) {
			if (table[i].host == host) {
				*out = table[i];
				found = 1;
				break;
			}
			i = (i + 1) & (capentries - 1);
		}
	}
	pthread_mutex_unlock(&reg_mu);
	return found;
}

/* The registration handle is the fat binary's index + 1, disguised as a pointer: nvcc's code
 * only stores it and passes it back. */
static uint32_t handle_index(void **h) { return (uint32_t)((uintptr_t)h >> 4) - 1; }

VGPU_EXPORT void **__cudaRegisterFatBinary(void *fatCubin)
{
	/* __fatBinC_Wrapper_t: int magic, int version, const unsigned long long *data, void *filename_or_fatbins.
	 * data points at a fatBinaryHeader: u32 magic, u16 version, u16 headerSize, u64 fatSize. */
	const unsigned char *wrapper = fatCubin;
	const unsigned char *data = wrapper ? *(const unsigned char *const *)(wrapper + 8) : NULL;
	uint64_t size = 0;
	if (data && *(const uint32_t *)data == 0xBA55ED50u)
		size = *(const uint16_t *)(data + 6) + *(const uint64_t *)(data + 8);
	pthread_mutex_lock(&reg_mu);
	if (nfatbins == capfatbins) {
		uint32_t cap = capfatbins ? 2 * capfatbins : 64;
		struct fatbin *f = realloc(fatbins, cap * sizeof *f);
		if (!f) {
			pthread_mutex_unlock(&reg_mu);
			return NULL;
		}
		fatbins = f;
		capfatbins = cap;
	}
	fatbins[nfatbins] = (struct fatbin){data, size};
	uint32_t idx = ++nfatbins;
	pthread_mutex_unlock(&reg_mu);
	return (void **)(uintptr_t)((uintptr_t)idx << 4);
}

VGPU_EXPORT void __cudaRegisterFatBinaryEnd(void **fatCubinHandle) { (void)fatCubinHandle; }

/* At exit: the worker unloads everything when the process disconnects. */
VGPU_EXPORT void __cudaUnregisterFatBinary(void **fatCubinHandle) { (void)fatCubinHandle; }

VGPU_EXPORT void __cudaRegisterFunction(void **fatCubinHandle, const char *hostFun, char *deviceFun, const char *deviceName,
					int thread_limit, void *tid, void *bid, void *bDim, void *gDim, int *wSize)
{
	pthread_mutex_lock(&reg_mu);
	add_entry((struct entry){hostFun, deviceName, handle_index(fatCubinHandle), 0});
	pthread_mutex_unlock(&reg_mu);
}

VGPU_EXPORT void __cudaRegisterVar(void **fatCubinHandle, char *hostVar, char *deviceAddress, const char *deviceName, int ext,
				   size_t size, int constant, int global)
{
	pthread_mutex_lock(&reg_mu);
	add_entry((struct entry){hostVar, deviceName, handle_index(fatCubinHandle), size});
	pthread_mutex_unlock(&reg_mu);
}

VGPU_EXPORT void __cudaRegisterManagedVar(void **fatCubinHandle, void **hostVarPtrAddress, char *deviceAddress,
					  const char *deviceName, int ext, size_t size, int constant, int global)
{
	/* Managed memory is not supported yet; the variable stays unknown, and its use fails. */
}

VGPU_EXPORT char __cudaInitModule(void **fatCubinHandle) { return 1; }

/* The kernel handle of a host stub is the stub's own address: launches look it up again. */
VGPU_EXPORT cudaError_t __cudaGetKernel(void **kernel, const void *hostFun)
{
	if (!kernel)
		return 1;
	*kernel = (void *)hostFun;
	return 0;
}

/* ---- the <<<>>> configuration stack, per thread ---- */

struct config {
	vgpu_dim3 grid, block;
	size_t shmem;
	void *stream;
};
static __thread struct config config_stack[16];
static __thread int config_depth;

VGPU_EXPORT unsigned __cudaPushCallConfiguration(vgpu_dim3 gridDim, vgpu_dim3 blockDim, size_t sharedMem, void *stream)
{
	if (config_depth == 16)
		return 1;
	config_stack[config_depth++] = (struct config){gridDim, blockDim, sharedMem, stream};
	return 0;
}

VGPU_EXPORT cudaError_t __cudaPopCallConfiguration(vgpu_dim3 *gridDim, vgpu_dim3 *blockDim, size_t *sharedMem, void *stream)
{
	if (config_depth == 0)
		return 1;
	struct config c = config_stack[--config_depth];
	*gridDim = c.grid;
	*blockDim = c.block;
	*sharedMem = c.shmem;
	*(void **)stream = c.stream;
	return 0;
}

/* ---- into the core ---- */

/* What the core needs to find a host-side symbol on the device: its fat binary and name. An
 * address the registry does not know (a cudaKernel_t of a library, say) goes as is, fatbin 0. */
struct where {
	uint64_t data, size, name, extra;
};

static struct where resolve(const void *host)
{
	struct entry e;
	struct where w = {0, 0, 0, 0};
	if (lookup(host, &e)) {
		pthread_mutex_lock(&reg_mu);
		if (e.fatbin < nfatbins) {
			w.data = (uint64_t)(uintptr_t)fatbins[e.fatbin].data;
			w.size = fatbins[e.fatbin].size;
		}
		pthread_mutex_unlock(&reg_mu);
		w.name = (uint64_t)(uintptr_t)e.name;
		w.extra = e.size;
	}
	return w;
}

#define LAUNCH_COOPERATIVE 1
#define LAUNCH_PTSZ 2

static cudaError_t launch(uint32_t id, const void *func, vgpu_dim3 g, vgpu_dim3 b, void **args, size_t shmem, void *stream,
			  uint64_t flags)
{
	struct where w = resolve(func);
	uint64_t a[14] = {(uint64_t)(uintptr_t)func, w.data, w.size, w.name, g.x, g.y, g.z, b.x, b.y, b.z,
			  (uint64_t)(uintptr_t)args, shmem, (uint64_t)(uintptr_t)stream, flags};
	return (cudaError_t)vgpu_stub_call(id, a);
}

VGPU_EXPORT cudaError_t cudaLaunchKernel(const void *func, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void **args, size_t sharedMem, void *stream)
{
	return launch(VGPU_ID_cudaLaunchKernel, func, gridDim, blockDim, args, sharedMem, stream, 0);
}

VGPU_EXPORT cudaError_t cudaLaunchKernel_ptsz(const void *func, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void **args, size_t sharedMem,
					      void *stream)
{
	return launch(VGPU_ID_cudaLaunchKernel_ptsz, func, gridDim, blockDim, args, sharedMem, stream, LAUNCH_PTSZ);
}

VGPU_EXPORT cudaError_t __cudaLaunchKernel(const void *kernel, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void **args, size_t sharedMem,
					   void *stream)
{
	return launch(VGPU_ID___cudaLaunchKernel, kernel, gridDim, blockDim, args, sharedMem, stream, 0);
}

VGPU_EXPORT cudaError_t __cudaLaunchKernel_ptsz(const void *kernel, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void **args,
						size_t sharedMem, void *stream)
{
	return launch(VGPU_ID___cudaLaunchKernel_ptsz, kernel, gridDim, blockDim, args, sharedMem, stream, LAUNCH_PTSZ);
}

VGPU_EXPORT cudaError_t cudaLaunchCooperativeKernel(const void *func, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void **args,
						    size_t sharedMem, void *stream)
{
	return launch(VGPU_ID_cudaLaunchCooperativeKernel, func, gridDim, blockDim, args, sharedMem, stream, LAUNCH_COOPERATIVE);
}

VGPU_EXPORT cudaError_t cudaLaunchCooperativeKernel_ptsz(const void *func, vgpu_dim3 gridDim, vgpu_dim3 blockDim, void **args,
							 size_t sharedMem, void *stream)
{
	return launch(VGPU_ID_cudaLaunchCooperativeKernel_ptsz, func, gridDim, blockDim, args, sharedMem, stream,
		      LAUNCH_COOPERATIVE | LAUNCH_PTSZ);
}

/* The rest take a host-side symbol and otherwise plain arguments: resolve, then forward
 * (func, fatbin, size, name, args...). */
#define FORWARD(id, sym, ...)                                                                  \
	do {                                                                                   \
		struct where w = resolve(sym);                                                 \
		uint64_t a[] = {(uint64_t)(uintptr_t)(sym), w.data, w.size, w.name, __VA_ARGS__}; \
		return (cudaError_t)vgpu_stub_call(id, a);                                     \
	} while (0)
#define U(x) (uint64_t)(uintptr_t)(x)

VGPU_EXPORT cudaError_t cudaLaunchKernelExC(const void *config, const void *func, void **args)
{
	FORWARD(VGPU_ID_cudaLaunchKernelExC, func, U(config), U(args), 0);
}

VGPU_EXPORT cudaError_t cudaLaunchKernelExC_ptsz(const void *config, const void *func, void **args)
{
	FORWARD(VGPU_ID_cudaLaunchKernelExC_ptsz, func, U(config), U(args), LAUNCH_PTSZ);
}

VGPU_EXPORT cudaError_t cudaFuncGetAttributes(void *attr, const void *func)
{
	FORWARD(VGPU_ID_cudaFuncGetAttributes, func, U(attr));
}

VGPU_EXPORT cudaError_t cudaGetFuncBySymbol(void **functionPtr, const void *symbolPtr)
{
	FORWARD(VGPU_ID_cudaGetFuncBySymbol, symbolPtr, U(functionPtr));
}

VGPU_EXPORT cudaError_t cudaFuncSetAttribute(const void *func, int attr, int value)
{
	FORWARD(VGPU_ID_cudaFuncSetAttribute, func, (uint64_t)attr, (uint64_t)value);
}

VGPU_EXPORT cudaError_t cudaFuncSetCacheConfig(const void *func, int cacheConfig)
{
	FORWARD(VGPU_ID_cudaFuncSetCacheConfig, func, (uint64_t)cacheConfig);
}

VGPU_EXPORT cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int *numBlocks, const void *func, int blockSize,
								      size_t dynamicSMemSize)
{
	FORWARD(VGPU_ID_cudaOccupancyMaxActiveBlocksPerMultiprocessor, func, U(numBlocks), (uint64_t)blockSize, dynamicSMemSize, 0);
}

VGPU_EXPORT cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags(int *numBlocks, const void *func, int blockSize,
									       size_t dynamicSMemSize, unsigned int flags)
{
	FORWARD(VGPU_ID_cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags, func, U(numBlocks), (uint64_t)blockSize,
		dynamicSMemSize, flags);
}

/* Variables: (symbol, fatbin, size, name, varsize, args...) */
#define FORWARD_VAR(id, sym, ...)                                                                       \
	do {                                                                                            \
		struct where w = resolve(sym);                                                          \
		uint64_t a[] = {(uint64_t)(uintptr_t)(sym), w.data, w.size, w.name, w.extra, __VA_ARGS__}; \
		return (cudaError_t)vgpu_stub_call(id, a);                                              \
	} while (0)

VGPU_EXPORT cudaError_t cudaMemcpyToSymbol(const void *symbol, const void *src, size_t count, size_t offset, int kind)
{
	FORWARD_VAR(VGPU_ID_cudaMemcpyToSymbol, symbol, U(src), count, offset, (uint64_t)kind, 0, 0);
}

VGPU_EXPORT cudaError_t cudaMemcpyToSymbolAsync(const void *symbol, const void *src, size_t count, size_t offset, int kind,
						void *stream)
{
	FORWARD_VAR(VGPU_ID_cudaMemcpyToSymbolAsync, symbol, U(src), count, offset, (uint64_t)kind, U(stream), 1);
}

VGPU_EXPORT cudaError_t cudaMemcpyFromSymbol(void *dst, const void *symbol, size_t count, size_t offset, int kind)
{
	FORWARD_VAR(VGPU_ID_cudaMemcpyFromSymbol, symbol, U(dst), count, offset, (uint64_t)kind, 0, 0);
}

VGPU_EXPORT cudaError_t cudaMemcpyFromSymbolAsync(void *dst, const void *symbol, size_t count, size_t offset, int kind,
						  void *stream)
{
	FORWARD_VAR(VGPU_ID_cudaMemcpyFromSymbolAsync, symbol, U(dst), count, offset, (uint64_t)kind, U(stream), 1);
}

VGPU_EXPORT cudaError_t cudaGetSymbolAddress(void **devPtr, const void *symbol)
{
	FORWARD_VAR(VGPU_ID_cudaGetSymbolAddress, symbol, U(devPtr));
}

VGPU_EXPORT cudaError_t cudaGetSymbolSize(size_t *size, const void *symbol)
{
	FORWARD_VAR(VGPU_ID_cudaGetSymbolSize, symbol, U(size));
}
