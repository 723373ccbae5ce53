/* A made-up header in the shapes of cuda_gl_interop.h, for extract's test. */
extern __host__ cudaError_t CUDARTAPI cudaGLThing(unsigned int buffer);
#ifdef _WIN32
extern __host__ cudaError_t CUDARTAPI cudaWGLThing(int *device, void *h);
#endif
