/* cudaGetLastError is per thread: an error on one thread is not another thread's, and reading it clears it. */
#include <stdio.h>
#include <pthread.h>
#include "vgpu/zz_prototypes.h"
static void *other(void *p) { (void)p; printf("thread B last error: %d\n", cudaGetLastError()); return 0; }
int main(void) {
	int n; cudaGetDeviceCount(&n);
	printf("set 99: %d\n", cudaSetDevice(99));
	pthread_t t; pthread_create(&t, 0, other, 0); pthread_join(t, 0);
	printf("thread A last error: %d\n", cudaGetLastError());
	printf("thread A again: %d\n", cudaGetLastError());
	return 0;
}
