/* A made-up header in the shapes of crt/host_runtime.h, for extract's test. */
#define __cudaRegisterSomething(h) __cudaRegisterVar(h, 0)
extern "C" cudaError_t CUDARTAPI __cudaPopCallConfiguration(dim3 *gridDim, size_t *sharedMem);
extern void** CUDARTAPI __cudaRegisterFatBinary(
  void *fatCubin
);
template <typename T>
static inline T *__cudaAddressOf(T &val) { return (T *)0; }
