/* A made-up header in the shapes of cudaTypedefs.h, for extract's test. */
#ifndef TEST_TYPEDEFS_H
#define TEST_TYPEDEFS_H
#define PFN_cuAlpha PFN_cuAlpha_v3020
typedef CUresult (CUDAAPI *PFN_cuAlpha_v3020)(int x);
typedef CUresult(CUDAAPI *PFN_cuBeta_v12000)(void);
typedef CUresult (CUDAAPI *PFN_cuAlpha_v7000_ptds)(int x);
typedef CUresult (CUDAAPI *PFN_cuUnversioned)(int x);
#ifdef _WIN32
typedef CUresult (CUDAAPI *PFN_cuWindows_v2000)(void *h);
#endif
#if defined(__CUDA_API_VERSION_INTERNAL)
    typedef CUresult (CUDAAPI *PFN_cuAlpha_v2000)(unsigned int x);
#endif
// typedef CUresult (CUDAAPI *PFN_cuCommented_v2000)(void);
#endif
