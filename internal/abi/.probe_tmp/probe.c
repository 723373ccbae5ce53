/* temporary probe, deleted after use */
#include <stdio.h>
#include <string.h>
#include <cuda.h>
#include <cuda_runtime_api.h>
int main(void) {
  CUdevice d; int v; CUresult r;
  if (cuInit(0) != CUDA_SUCCESS) { printf("cuInit failed\n"); return 1; }
  cuDeviceGet(&d, 0);
  FILE *f = fopen("attrs_cu.txt", "w");
  for (int a = 0; a < 170; a++) { v = -12345; r = cuDeviceGetAttribute(&v, (CUdevice_attribute)a, d); fprintf(f, "%d %d %d\n", a, (int)r, v); }
  fclose(f);
  f = fopen("attrs_rt.txt", "w");
  for (int a = 0; a < 170; a++) { v = -12345; cudaError_t e = cudaDeviceGetAttribute(&v, (enum cudaDeviceAttr)a, 0); fprintf(f, "%d %d %d\n", a, (int)e, v); }
  fclose(f);
  struct cudaDeviceProp p; memset(&p, 0xAB, sizeof p);
  cudaError_t e = cudaGetDeviceProperties(&p, 0);
  f = fopen("props13.bin", "wb"); fwrite(&p, 1, sizeof p, f); fclose(f);
  char name[256]; cuDeviceGetName(name, 256, d);
  size_t tm; cuDeviceTotalMem(&tm, d);
  CUuuid u; cuDeviceGetUuid(&u, d);
  size_t lin = 0; CUresult lr = cuDeviceGetTexture1DLinearMaxWidth(&lin, CU_AD_FORMAT_UNSIGNED_INT8, 1, d);
  f = fopen("misc.txt", "w");
  fprintf(f, "getprops %d sizeof %zu\nname %s\ntotalMem %zu\nlin1d %d %zu\nuuid", (int)e, sizeof p, name, tm, (int)lr, lin);
  for (int i = 0; i < 16; i++) fprintf(f, " %02x", (unsigned char)u.bytes[i]);
  int drv = 0, rt = 0; cuDriverGetVersion(&drv); cudaRuntimeGetVersion(&rt);
  fprintf(f, "\ndriver %d runtime %d\n", drv, rt);
  fclose(f);
  printf("ok %d\n", (int)e);
  return 0;
}
