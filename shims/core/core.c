/* C side of the vgpu core: what must exist before, or without, the Go runtime. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The pid of the process that loaded the core. A stub that finds the core already loaded in a
 * forked child sees another pid and does not enter Go: the runtime's threads did not survive fork. */
__attribute__((visibility("default"))) pid_t vgpu_core_pid;

extern void vgpu_stats(void);

__attribute__((constructor)) static void vgpu_core_init(void)
{
	vgpu_core_pid = getpid();
	/* VGPU_STATS=1: what crossed the connection, printed at exit (performance work) */
	if (getenv("VGPU_STATS"))
		atexit(vgpu_stats);
}

/* A C copy of a Go string that lives as long as the process (returned by cuGetErrorName & co). */
uint64_t vgpu_cstring(const char *s, size_t n)
{
	char *p = malloc(n + 1);
	if (!p)
		return 0;
	if (n)
		memcpy(p, s, n);
	p[n] = 0;
	return (uint64_t)(uintptr_t)p;
}

/* Calls a host function of the program (a stream callback or host function) with three
 * word-sized arguments; callees that take fewer ignore the rest. */
void vgpu_call_host(uint64_t fn, uint64_t a, uint64_t b, uint64_t c)
{
	((void (*)(uint64_t, uint64_t, uint64_t))(uintptr_t)fn)(a, b, c);
}

/* The GPU's printf output, through the program's stdout stream as the driver would write it. */
void vgpu_write_stdout(const char *p, size_t n)
{
	fwrite(p, 1, n, stdout);
}

/* The calling thread's id, asked of the kernel once per thread (the runtime API keeps state per
 * thread; a system call on every launch would cost more than the launch's own bookkeeping). A
 * forked child never gets here with its parent's cache: the stubs do not enter the core in one. */
static __thread int vgpu_tid_cache;

int vgpu_tid(void)
{
	if (!vgpu_tid_cache)
		vgpu_tid_cache = (int)syscall(SYS_gettid);
	return vgpu_tid_cache;
}
