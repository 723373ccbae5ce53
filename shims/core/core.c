/* C side of the vgpu core: what must exist before, or without, the Go runtime. */
#include <pthread.h>
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

/* Threads that have ended. A thread that called the core gets a thread-specific value whose
 * destructor records its id here when it exits; the next call of any thread passes the ids to
 * the core (client.ThreadsEnded), which forgets their state and tells the worker to end the
 * threads it ran their calls on. The destructor itself never enters Go: the runtime may have
 * let go of the exiting thread already. Beyond VGPU_ENDED_MAX ids between two calls the rest
 * are dropped (the worker ends an idle thread after a while anyway). */
#define VGPU_ENDED_MAX 4096
int vgpu_ended_pending; /* read by the core without the lock: ids are waiting */
static pthread_mutex_t vgpu_ended_mu = PTHREAD_MUTEX_INITIALIZER;
static int vgpu_ended[VGPU_ENDED_MAX];
static int vgpu_ended_n;
static pthread_key_t vgpu_thread_key;
static pthread_once_t vgpu_key_once = PTHREAD_ONCE_INIT;

static void vgpu_thread_end(void *tid)
{
	pthread_mutex_lock(&vgpu_ended_mu);
	if (vgpu_ended_n < VGPU_ENDED_MAX)
		vgpu_ended[vgpu_ended_n++] = (int)(intptr_t)tid;
	__atomic_store_n(&vgpu_ended_pending, 1, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vgpu_ended_mu);
}

static void vgpu_make_key(void)
{
	pthread_key_create(&vgpu_thread_key, vgpu_thread_end);
}

/* Moves up to n ended thread ids into out and returns how many. */
int vgpu_take_ended(int *out, int n)
{
	pthread_mutex_lock(&vgpu_ended_mu);
	int k = vgpu_ended_n < n ? vgpu_ended_n : n;
	memcpy(out, vgpu_ended + (vgpu_ended_n - k), (size_t)k * sizeof(int));
	vgpu_ended_n -= k;
	if (vgpu_ended_n == 0)
		__atomic_store_n(&vgpu_ended_pending, 0, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&vgpu_ended_mu);
	return k;
}

/* The calling thread's id, asked of the kernel once per thread (the runtime API keeps state per
 * thread; a system call on every launch would cost more than the launch's own bookkeeping). A
 * forked child never gets here with its parent's cache: the stubs do not enter the core in one.
 * The first call of a thread also arms the destructor that reports its end. */
static __thread int vgpu_tid_cache;

int vgpu_tid(void)
{
	if (!vgpu_tid_cache) {
		vgpu_tid_cache = (int)syscall(SYS_gettid);
		pthread_once(&vgpu_key_once, vgpu_make_key);
		pthread_setspecific(vgpu_thread_key, (void *)(intptr_t)vgpu_tid_cache);
	}
	return vgpu_tid_cache;
}
