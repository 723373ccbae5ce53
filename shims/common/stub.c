/* The hand-written half of every vgpu stub library (libcuda.so.1, libnvidia-ml.so.1,
 * libcudart.so.12/.13): find and load the one vgpu core, refuse to enter it from a forked child,
 * and add SA_ONSTACK to signal handlers the host program installs.
 *
 * The core (libvgpucore.so, the only Go runtime a client process gets) is loaded lazily, on the
 * first API call, from the stub's own folder. A process that never calls CUDA, or forks before its
 * first call, never has a Go runtime to inherit; a missing core is an API error plus one log line,
 * not a loader failure. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "vgpu/stub.h"

static vgpu_call_fn core_call;
static volatile int forked; /* this process is a child forked after the core was loaded */
static pthread_once_t load_once = PTHREAD_ONCE_INIT;

static void stub_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void stub_log(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n = snprintf(line, sizeof line, "vgpu: %s: ", vgpu_stub_self.soname);
	va_start(ap, fmt);
	if (n > 0 && n < (int)sizeof line)
		vsnprintf(line + n, sizeof line - n, fmt, ap);
	va_end(ap);
	size_t len = strnlen(line, sizeof line - 2);
	line[len++] = '\n';
	ssize_t w = write(2, line, len); /* one write: lines of several threads do not interleave */
	(void)w;
}

static void on_fork_child(void)
{
	if (core_call)
		forked = 1;
}

__attribute__((constructor)) static void stub_init(void)
{
	pthread_atfork(NULL, NULL, on_fork_child);
}

/* Finds the core: the copy already in the process (whoever loaded it), else the one next to this
 * stub. Never by a bare name through the search path, so an unrelated copy cannot be picked up. */
static void *open_core(void)
{
	void *h = dlopen(VGPU_CORE_SONAME, RTLD_NOW | RTLD_NOLOAD);
	if (h)
		return h;
	Dl_info info;
	if (!dladdr((void *)&open_core, &info) || !info.dli_fname) {
		stub_log("cannot find its own path (dladdr failed), so cannot find %s next to it", VGPU_CORE_SONAME);
		return NULL;
	}
	char path[PATH_MAX];
	const char *slash = strrchr(info.dli_fname, '/');
	int dirlen = slash ? (int)(slash - info.dli_fname) : 1;
	const char *dir = slash ? info.dli_fname : ".";
	if (snprintf(path, sizeof path, "%.*s/%s", dirlen, dir, VGPU_CORE_SONAME) >= (int)sizeof path) {
		stub_log("path of %s too long", VGPU_CORE_SONAME);
		return NULL;
	}
	if (access(path, R_OK) != 0) {
		stub_log("the vgpu core %s is missing (%s): install it next to %s; every call fails with error %d",
			 path, strerror(errno), info.dli_fname, vgpu_stub_self.not_initialized);
		return NULL;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
	if (!h)
		stub_log("cannot load the vgpu core %s: %s; every call fails with error %d", path, dlerror(),
			 vgpu_stub_self.not_initialized);
	return h;
}

static void load_core(void)
{
	void *h = open_core();
	if (!h)
		return;
	const pid_t *core_pid = dlsym(h, "vgpu_core_pid");
	if (core_pid && *core_pid != getpid()) {
		/* The core came with fork from our parent: its Go runtime's threads are gone. */
		forked = 1;
		return;
	}
	vgpu_attach_fn attach = (vgpu_attach_fn)dlsym(h, "vgpu_attach");
	vgpu_call_fn call = (vgpu_call_fn)dlsym(h, "vgpu_call");
	if (!attach || !call) {
		stub_log("%s does not export vgpu_attach/vgpu_call: not a vgpu core of this version", VGPU_CORE_SONAME);
		return;
	}
	if (attach(vgpu_stub_self.table_hash, vgpu_stub_self.soname) != 0)
		return; /* the core logged why */
	core_call = call;
}

int vgpu_stub_ready(void)
{
	if (!core_call && !forked)
		pthread_once(&load_once, load_core);
	if (forked) {
		static int logged;
		if (!__atomic_exchange_n(&logged, 1, __ATOMIC_RELAXED))
			stub_log("process %d was forked after its parent initialised vgpu; as with a local GPU, "
				 "CUDA cannot be used in the child (error %d); initialise it after fork or exec",
				 (int)getpid(), vgpu_stub_self.not_initialized);
		return 0;
	}
	return core_call != NULL;
}

int64_t vgpu_stub_call(uint32_t id, uint64_t *args)
{
	if (__builtin_expect(core_call == NULL || forked, 0)) {
		if (!vgpu_stub_ready())
			return vgpu_stub_self.not_initialized;
	}
	/* The calling library rides in the top byte: one row can serve libcudart.so.12 and .13. */
	return core_call(id | ((uint32_t)vgpu_stub_self.lib << 24), args);
}

/* ---- signal interposers ----
 * A handler that runs on a Go thread's small stack without SA_ONSTACK crashes the Go runtime
 * ("traceback did not unwind completely"), so every handler the program installs gets it. */
typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static sigaction_fn next_sigaction(void)
{
	static sigaction_fn next;
	if (!next)
		next = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
	return next;
}

VGPU_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
	sigaction_fn next = next_sigaction();
	if (!next) {
		errno = ENOSYS;
		return -1;
	}
	if (act && !(act->sa_flags & SA_ONSTACK) && act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN) {
		struct sigaction copy = *act;
		copy.sa_flags |= SA_ONSTACK;
		return next(sig, &copy, old);
	}
	return next(sig, act, old);
}

/* signal() with glibc's BSD semantics (restart, block the signal in its handler) plus SA_ONSTACK. */
VGPU_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = handler;
	sigemptyset(&act.sa_mask);
	sigaddset(&act.sa_mask, sig);
	act.sa_flags = SA_RESTART;
	if (sigaction(sig, &act, &old) < 0)
		return SIG_ERR;
	return old.sa_handler;
}

VGPU_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler)
{
	return signal(sig, handler);
}
