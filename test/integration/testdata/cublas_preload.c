/* Linked against no CUDA library: finds the preloaded cuBLAS, driver and runtime stubs with
 * dlsym, calls one function of each (the cuBLAS ones answered in the core, the others through
 * the server) and reports how many vgpu cores the process mapped. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	size_t (*lt_version)(void) = (size_t (*)(void))dlsym(RTLD_DEFAULT, "cublasLtGetVersion");
	size_t (*cudart_version)(void) = (size_t (*)(void))dlsym(RTLD_DEFAULT, "cublasGetCudartVersion");
	int (*cu_init)(unsigned) = (int (*)(unsigned))dlsym(RTLD_DEFAULT, "cuInit");
	int (*cu_count)(int *) = (int (*)(int *))dlsym(RTLD_DEFAULT, "cuDeviceGetCount");
	int (*rt_count)(int *) = (int (*)(int *))dlsym(RTLD_DEFAULT, "cudaGetDeviceCount");
	if (!lt_version || !cudart_version || !cu_init || !cu_count || !rt_count) {
		printf("missing symbols\n");
		return 1;
	}
	int n = -1, m = -1;
	printf("ltversion %zu\n", lt_version());
	printf("cudartversion %zu\n", cudart_version());
	printf("init %d\n", cu_init(0));
	int r1 = cu_count(&n), r2 = rt_count(&m);
	printf("count %d %d %d %d\n", r1, n, r2, m);
	/* distinct mapped files named libvgpucore.so */
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096], seen[8][1024];
	int cores = 0;
	while (f && fgets(line, sizeof line, f)) {
		char *p = strchr(line, '/');
		if (!p || !strstr(p, "/libvgpucore.so"))
			continue;
		p[strcspn(p, "\n")] = 0;
		int dup = 0;
		for (int i = 0; i < cores; i++)
			dup |= strcmp(seen[i], p) == 0;
		if (!dup && cores < 8)
			snprintf(seen[cores++], sizeof seen[0], "%s", p);
	}
	if (f)
		fclose(f);
	printf("cores %d\n", cores);
	return 0;
}
