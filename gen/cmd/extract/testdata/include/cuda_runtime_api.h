/* A made-up header in the shapes of cuda_runtime_api.h, for extract's test. */
#if defined(CUDA_API_PER_THREAD_DEFAULT_STREAM) || defined(__CUDA_API_VERSION_INTERNAL)
    #define __CUDART_API_PTDS(api) api ## _ptds
    #define __CUDART_API_PTSZ(api) api ## _ptsz
#endif
#define cudaGamma cudaGamma_v2
#define cudaDelta __CUDART_API_PTSZ(cudaDelta_v2)
#if defined(__CUDART_API_PER_THREAD_DEFAULT_STREAM)
    #define cudaCopy __CUDART_API_PTDS(cudaCopy)
#endif
#if defined(__cplusplus)
extern "C" {
#endif
extern __host__ cudaError_t CUDARTAPI cudaCopy(void *dst, const void *src, size_t count);
extern __host__ __cudart_builtin__ cudaError_t CUDARTAPI cudaGamma_v2(int *value,
    unsigned int flags __dv(0));
extern __CUDA_DEPRECATED __host__ cudaError_t CUDARTAPI cudaOld(void);
#if defined(__CUDA_API_VERSION_INTERNAL)
extern __host__ cudaError_t CUDARTAPI cudaGamma(int *value);
#endif
static __inline__ __host__ cudaError_t cudaInlineHelper(void) { return cudaSuccess; }
extern __host__ cudaError_t CUDARTAPI notCuda(void);
#if defined(__cplusplus)
}
#endif
