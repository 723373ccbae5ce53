/* A cuBLAS program linked against vgpu's libcublas.so.13 and libcublasLt.so.13, run against the
 * simulated device (which has no kernels): what the stubs answer there. Prints one "key value"
 * line per check. */
#include <stdint.h>
#include <stdio.h>

#include "vgpu/zz_prototypes.h"

/* A Stub row: exported without a parameter list (the real one is a BLAS call). */
cublasStatus_t cublasSsyrk_v2();

int main(void)
{
	cublasHandle_t h = 0;
	cublasStatus_t s = cublasCreate_v2(&h);
	printf("create %d\n", (int)s);
	printf("name %s\n", cublasGetStatusName(s));
	printf("string %s\n", cublasGetStatusString(s));
	printf("ltname %s\n", cublasLtGetStatusName(7));
	printf("ltversion %zu\n", cublasLtGetVersion());
	printf("cudart %zu\n", cublasGetCudartVersion());

	/* Calls on a handle that cublasCreate_v2 never returned are refused at once, async or not. */
	float one = 1.0f;
	printf("sgemm %d\n", (int)cublasSgemm_v2(h, 0, 0, 1, 1, 1, &one, 0, 1, 0, 1, &one, 0, 1));
	printf("gemmex %d\n", (int)cublasGemmEx(h, 0, 0, 1, 1, 1, &one, 0, 0, 1, 0, 0, 1, &one, 0, 0, 1, 68, -1));
	printf("setstream %d\n", (int)cublasSetStream_v2(h, 0));
	printf("destroy %d\n", (int)cublasDestroy_v2(h));
	printf("stub %d\n", (int)cublasSsyrk_v2());

	/* A cuBLASLt descriptor's handle is minted by the client: the create returns at once, the
	 * worker's create (not supported by the simulated device) fails, and the next cuBLAS call
	 * that waits for the worker returns its code, whatever its own; the minted handle is refused
	 * from then on. A failure no cuBLAS call reported comes back from the next synchronising
	 * CUDA call as cudaErrorUnknown (a cuBLAS status is no cudaError_t). cublasLtGetProperty
	 * waits for the worker, which answers it with NOT_SUPPORTED (15). */
	cublasLtMatmulDesc_t d = 0;
	int scale = 0, v = 0;
	printf("ltcreate %d\n", (int)cublasLtMatmulDescCreate(&d, 68, 0));
	printf("ltminted %d\n", (int)((unsigned long long)(uintptr_t)d >> 63));
	printf("ltprop %d\n", (int)cublasLtGetProperty(0, &v));
	printf("ltsync %d\n", (int)cudaDeviceSynchronize());
	printf("ltset %d\n", (int)cublasLtMatmulDescSetAttribute(d, 1, &scale, sizeof scale));
	printf("ltdestroy %d\n", (int)cublasLtMatmulDescDestroy(d));
	printf("ltsync2 %d\n", (int)cudaDeviceSynchronize());
	printf("ltsync3 %d\n", (int)cudaDeviceSynchronize());
	printf("ltprop2 %d\n", (int)cublasLtGetProperty(0, &v));
	return 0;
}
