/* Ollama's / ggml-cuda's GPU discovery sequence (docs/ARCHITECTURE.md, "How consumers find a GPU"),
 * step by step, through the CUDA runtime (libcudart.so.13), the driver (libcuda.so.1) and NVML
 * (dlopen("libnvidia-ml.so.1"), as ggml does). Pass 1 enumerates; pass 2 re-runs itself once per
 * device with GGML_CUDA_INIT=1 CUDA_VISIBLE_DEVICES=GPU-<uuid>, as Ollama's runners do.
 *
 * Output: one line per step, `step <n> <call>: ok[ k=v...]` or `step <n> <call>: FAILED <code> <name>`,
 * then `discovery: <N> device(s)` or `discovery: FAILED at <call>`. Free memory is printed on
 * separate `free:` lines so that runs can be compared without it. Exit 0 iff >= 1 device. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vgpu/zz_prototypes.h"

/* Offsets in the CUDA 13.0 struct cudaDeviceProp (1008 bytes; ABI facts). */
enum { P_NAME = 0, P_UUID = 256, P_TOTALMEM = 288, P_SMEM = 296, P_WARP = 308, P_MAJOR = 360, P_MINOR = 364,
       P_SMS = 384, P_PCIBUS = 568, P_PCIDEV = 572, P_PCIDOM = 576, P_SMEMOPTIN = 672, PROP_SIZE = 1008 };
#define FIELD(p, off, type) (*(type *)((p) + (off)))

static int step_no;
static const char *failed_at;

static int report(const char *call, int rc, const char *lib)
{
	step_no++;
	if (rc == 0)
		return 0;
	const char *name = "?";
	if (!strcmp(lib, "cuda"))
		cuGetErrorName(rc, &name);
	else if (!strcmp(lib, "cudart"))
		name = cudaGetErrorName(rc);
	printf("step %d %s: FAILED %d %s\n", step_no, call, rc, name);
	if (!failed_at)
		failed_at = call;
	return rc;
}
#define OK(call, fmt, ...) printf("step %d %s: ok" fmt "\n", step_no, call, ##__VA_ARGS__)

static void uuid_str(const unsigned char *u, char *out)
{
	sprintf(out, "GPU-%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1], u[2], u[3],
		u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
}

typedef int (*nvml_init_t)(void);
typedef int (*nvml_by_uuid_t)(const char *, void **);
typedef int (*nvml_mem_t)(void *, unsigned long long *);
typedef int (*nvml_name_t)(void *, char *, unsigned int);

/* ggml's memory query: NVML by UUID (init and shut down around every query), else cudaMemGetInfo. */
static void memory_query(int dev, const char *uuid)
{
	int cur = -1;
	if (report("cudaGetDevice", cudaGetDevice(&cur), "cudart") == 0)
		OK("cudaGetDevice", " device=%d", cur);
	if (report("cudaSetDevice", cudaSetDevice(dev), "cudart") == 0)
		OK("cudaSetDevice", " device=%d", dev);
	void *nvml = dlopen("libnvidia-ml.so.1", RTLD_NOW | RTLD_LOCAL);
	step_no++;
	if (!nvml) {
		printf("step %d dlopen(libnvidia-ml.so.1): FAILED 0 %s\n", step_no, dlerror());
	} else {
		OK("dlopen(libnvidia-ml.so.1)", "");
		nvml_init_t init = (nvml_init_t)dlsym(nvml, "nvmlInit_v2"), shutdown = (nvml_init_t)dlsym(nvml, "nvmlShutdown");
		nvml_by_uuid_t by_uuid = (nvml_by_uuid_t)dlsym(nvml, "nvmlDeviceGetHandleByUUID");
		nvml_mem_t mem = (nvml_mem_t)dlsym(nvml, "nvmlDeviceGetMemoryInfo");
		nvml_name_t name = (nvml_name_t)dlsym(nvml, "nvmlDeviceGetName");
		if (!init || !shutdown || !by_uuid || !mem || !name) {
			printf("step %d dlsym(nvml): FAILED 0 libnvidia-ml.so.1 lacks a discovery entry point\n", ++step_no);
			dlclose(nvml);
			return;
		}
		void *h = NULL;
		unsigned long long m[3] = {0};
		char nm[96] = "";
		int r;
		if (report("nvmlInit_v2", r = init(), "nvml") == 0)
			OK("nvmlInit_v2", "");
		if (r == 0 && report("nvmlDeviceGetHandleByUUID", r = by_uuid(uuid, &h), "nvml") == 0)
			OK("nvmlDeviceGetHandleByUUID", "");
		if (r == 0 && report("nvmlDeviceGetMemoryInfo", r = mem(h, m), "nvml") == 0) {
			OK("nvmlDeviceGetMemoryInfo", " total=%llu", m[0]);
			printf("free: nvml %llu\n", m[1]);
		}
		if (r == 0 && report("nvmlDeviceGetName", r = name(h, nm, sizeof nm), "nvml") == 0)
			OK("nvmlDeviceGetName", " name=\"%s\"", nm);
		if (report("nvmlShutdown", shutdown(), "nvml") == 0)
			OK("nvmlShutdown", "");
		dlclose(nvml);
	}
	size_t free_b = 0, total_b = 0;
	if (report("cudaMemGetInfo", cudaMemGetInfo(&free_b, &total_b), "cudart") == 0) {
		OK("cudaMemGetInfo", " total=%zu", total_b);
		printf("free: cuda %zu\n", free_b);
	}
}

int main(int argc, char **argv)
{
	int pass2 = getenv("GGML_CUDA_INIT") != NULL;
	const char *self = argv[0];
	(void)argc;
	printf("pass %d%s%s\n", pass2 ? 2 : 1, pass2 ? " CUDA_VISIBLE_DEVICES=" : "", pass2 ? getenv("CUDA_VISIBLE_DEVICES") : "");
	int count = 0;
	if (report("cudaGetDeviceCount", cudaGetDeviceCount(&count), "cudart") != 0) {
		printf("discovery: FAILED at cudaGetDeviceCount\n");
		return 1;
	}
	OK("cudaGetDeviceCount", " count=%d", count);
	char uuids[16][48];
	int found = 0;
	for (int i = 0; i < count && i < 16; i++) {
		CUdevice dev;
		int vmm = 0, drv = 0;
		size_t gran = 0;
		if (report("cuDeviceGet", cuDeviceGet(&dev, i), "cuda"))
			continue;
		OK("cuDeviceGet", " ordinal=%d device=%d", i, dev);
		if (report("cuDeviceGetAttribute(VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED)", cuDeviceGetAttribute(&vmm, 102, dev), "cuda") == 0)
			OK("cuDeviceGetAttribute(VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED)", " value=%d", vmm);
		struct { int type, handle_types, loc_type, loc_id; void *w; unsigned char c, r; unsigned short u; unsigned char res[4]; } prop = {1, 0, 1, dev, 0, 0, 0, 0, {0}};
		if (vmm && report("cuMemGetAllocationGranularity", cuMemGetAllocationGranularity(&gran, (const CUmemAllocationProp *)&prop, 0), "cuda") == 0)
			OK("cuMemGetAllocationGranularity", " granularity=%zu", gran);
		unsigned char p[PROP_SIZE + 64];
		memset(p, 0xee, sizeof p);
		if (report("cudaGetDeviceProperties", cudaGetDeviceProperties((struct cudaDeviceProp *)p, i), "cudart"))
			continue;
		uuid_str(p + P_UUID, uuids[i]);
		OK("cudaGetDeviceProperties", " name=\"%.256s\" uuid=%s totalGlobalMem=%zu multiProcessorCount=%d sharedMemPerBlock=%zu "
		   "sharedMemPerBlockOptin=%zu warpSize=%d compute=%d.%d pci=%04x:%02x:%02x tail_untouched=%d",
		   (char *)p + P_NAME, uuids[i], FIELD(p, P_TOTALMEM, size_t), FIELD(p, P_SMS, int), FIELD(p, P_SMEM, size_t),
		   FIELD(p, P_SMEMOPTIN, size_t), FIELD(p, P_WARP, int), FIELD(p, P_MAJOR, int), FIELD(p, P_MINOR, int),
		   FIELD(p, P_PCIDOM, int), FIELD(p, P_PCIBUS, int), FIELD(p, P_PCIDEV, int), p[PROP_SIZE] == 0xee);
		if (report("cudaDriverGetVersion", cudaDriverGetVersion(&drv), "cudart") == 0)
			OK("cudaDriverGetVersion", " version=%d", drv);
		if (pass2 && !(FIELD(p, P_MAJOR, int) == 9 && FIELD(p, P_MINOR, int) == 0)) {
			printf("step %d compute capability: FAILED 0 not the sm_90 this runner was built for\n", ++step_no);
			failed_at = "compute capability";
			continue;
		}
		memory_query(i, uuids[i]);
		found++;
	}
	if (!pass2) {
		/* Pass 2: one runner per device, selected by UUID. */
		for (int i = 0; i < found; i++) {
			fflush(stdout);
			pid_t pid = fork();
			if (pid == 0) {
				setenv("GGML_CUDA_INIT", "1", 1);
				setenv("CUDA_VISIBLE_DEVICES", uuids[i], 1);
				execl("/proc/self/exe", self, (char *)NULL);
				_exit(127);
			}
			int st = 0;
			waitpid(pid, &st, 0);
			if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
				printf("discovery: pass 2 for %s failed (status %d)\n", uuids[i], st);
				failed_at = "pass 2";
			}
		}
	}
	if (failed_at) {
		printf("discovery: FAILED at %s\n", failed_at);
		return 1;
	}
	printf("discovery: %d device(s)\n", found);
	return found > 0 ? 0 : 1;
}
