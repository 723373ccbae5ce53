/* A made-up header in the shapes of cublas_api.h, for extract's test. */
#if defined(__cplusplus)
extern "C" {
#endif
CUBLASAPI cublasStatus_t CUBLASWINAPI cublasZeta_v2(cublasHandle_t handle, int n, const double* alpha,
                                                   const double* const Aarray[], double* result);
cublasStatus_t CUBLASWINAPI cublasSetThing(int n, const void* x, void* devicePtr);
CUBLASAPI const char* CUBLASWINAPI cublasName(cublasStatus_t status);
cublasStatus_t notWinapi(int n);
#if defined(__cplusplus)
}
static inline cublasStatus_t cublasZeta(cublasHandle_t handle, int n) { return cublasZeta_v2(handle, n, 0, 0, 0); }
#endif
