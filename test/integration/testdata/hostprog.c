/* A host program that links against no CUDA library and finds whatever vgpu stubs were
 * preloaded (LD_PRELOAD) by dlsym(RTLD_DEFAULT). It checks what docs/ARCHITECTURE.md (decisions 1, 3 and 4) promise
 * such a program:
 *   (a) a signal handler it installs without SA_ONSTACK gets SA_ONSTACK (the stubs interpose
 *       sigaction and signal), before and after the core was loaded;
 *   (b) each preloaded stub answers (cuInit + cuDeviceGetCount, nvmlInit_v2 +
 *       nvmlDeviceGetCount_v2, cudaGetDeviceCount of libcudart.so.12 and .13 by symbol version),
 *       and the process then holds exactly one vgpu core (one Go runtime), none before;
 *   (c) its handler runs, also when the signal lands on a thread of the Go runtime (the main
 *       thread blocks it while another thread keeps calling into the core);
 *   (d) a child forked after initialisation gets the not-initialised error from every stub,
 *       preloaded or dlopened in the child, at once (without entering Go);
 *   (e) fork + exec of /bin/true works;
 *   (f) it prints PASS and exits 0, else FAIL lines and exit 1.
 * Usage: hostprog <folder of the stubs> [fork-first]
 * fork-first: before any API call, fork a child that initialises CUDA itself and must succeed
 * (a child forked before the first call has no runtime to inherit). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <link.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

typedef int (*fn_init)(unsigned int);
typedef int (*fn_intp)(int *);
typedef int (*fn_uintp)(unsigned int *);
typedef int (*fn_void)(void);

static int failures;
#define FAIL(...)                               \
	do {                                    \
		printf("FAIL: " __VA_ARGS__);   \
		printf("\n");                   \
		failures++;                     \
	} while (0)

enum { CUDA, NVML, RT12, RT13, NLIBS };
static const char *sonames[NLIBS] = {"libcuda.so.1", "libnvidia-ml.so.1", "libcudart.so.12", "libcudart.so.13"};
static const int not_init[NLIBS] = {3, 1, 3, 3}; /* CUDA_ERROR_NOT_INITIALIZED, NVML_ERROR_UNINITIALIZED, cudaErrorInitializationError */

/* The functions of one library, found in the process or in a handle. */
struct lib {
	int preloaded;
	fn_init cu_init;
	fn_intp cu_count;
	fn_void nvml_init;
	fn_uintp nvml_count;
	fn_intp rt_count;
	fn_intp rt_runtime_version;
};

static void *sym(void *h, int lib, const char *name)
{
	if (lib == RT12 || lib == RT13)
		return dlvsym(h, name, sonames[lib]); /* each cudart by its version node */
	return dlsym(h, name);
}

static void find(void *h, int lib, struct lib *l)
{
	memset(l, 0, sizeof *l);
	switch (lib) {
	case CUDA:
		l->cu_init = (fn_init)sym(h, lib, "cuInit");
		l->cu_count = (fn_intp)sym(h, lib, "cuDeviceGetCount");
		l->preloaded = l->cu_init && l->cu_count;
		break;
	case NVML:
		l->nvml_init = (fn_void)sym(h, lib, "nvmlInit_v2");
		l->nvml_count = (fn_uintp)sym(h, lib, "nvmlDeviceGetCount_v2");
		l->preloaded = l->nvml_init && l->nvml_count;
		break;
	default:
		l->rt_count = (fn_intp)sym(h, lib, "cudaGetDeviceCount");
		l->rt_runtime_version = (fn_intp)sym(h, lib, "cudaRuntimeGetVersion");
		l->preloaded = l->rt_count && l->rt_runtime_version;
	}
}

static struct lib libs[NLIBS];

/* Calls the library's init (where it has one) and its device count; returns the count's result. */
static int count_devices(int lib, struct lib *l, int *count, int verbose)
{
	int r = 0;
	*count = -1;
	switch (lib) {
	case CUDA:
		r = l->cu_init(0);
		if (verbose)
			printf("%s: cuInit=%d", sonames[lib], r);
		if (r == 0)
			r = l->cu_count(count);
		if (verbose)
			printf(" cuDeviceGetCount=%d count=%d\n", r, *count);
		break;
	case NVML: {
		unsigned int n = 0;
		r = l->nvml_init();
		if (verbose)
			printf("%s: nvmlInit_v2=%d", sonames[lib], r);
		if (r == 0) {
			r = l->nvml_count(&n);
			*count = (int)n;
		}
		if (verbose)
			printf(" nvmlDeviceGetCount_v2=%d count=%d\n", r, *count);
		break;
	}
	default: {
		int v = 0;
		r = l->rt_count(count);
		if (verbose)
			printf("%s: cudaGetDeviceCount=%d count=%d", sonames[lib], r, *count);
		if (r == 0) {
			r = l->rt_runtime_version(&v);
			if (verbose)
				printf(" cudaRuntimeGetVersion=%d version=%d", r, v);
		}
		if (verbose)
			printf("\n");
	}
	}
	return r;
}

/* Only the count, without init: what a forked child calls. */
static int count_only(int lib, struct lib *l)
{
	int n = -1;
	unsigned int u = 0;
	switch (lib) {
	case CUDA:
		return l->cu_count(&n);
	case NVML:
		return l->nvml_count(&u);
	default:
		return l->rt_count(&n);
	}
}

/* ---- how many vgpu cores (Go runtimes) the process holds ---- */

/* Distinct files named libvgpucore.so mapped into the process. */
static int core_files(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4096], seen[8][1024];
	int n = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		char *p = strchr(line, '/');
		if (!p || !strstr(p, "/libvgpucore.so"))
			continue;
		p[strcspn(p, "\n")] = 0;
		int dup = 0;
		for (int i = 0; i < n; i++)
			dup |= strcmp(seen[i], p) == 0;
		if (!dup && n < 8)
			snprintf(seen[n++], sizeof seen[0], "%s", p);
	}
	fclose(f);
	return n;
}

static char objnames[512][512];
static int nobj;

static int collect(struct dl_phdr_info *info, size_t size, void *data)
{
	if (info->dlpi_name && info->dlpi_name[0] && nobj < 512)
		snprintf(objnames[nobj++], sizeof objnames[0], "%s", info->dlpi_name);
	return 0;
}

/* Loaded objects that themselves define vgpu_call. */
static int vgpu_call_objects(void)
{
	int n = 0;
	nobj = 0;
	dl_iterate_phdr(collect, NULL);
	for (int i = 0; i < nobj; i++) {
		void *h = dlopen(objnames[i], RTLD_LAZY | RTLD_NOLOAD);
		if (!h)
			continue;
		void *s = dlsym(h, "vgpu_call");
		Dl_info di;
		if (s && dladdr(s, &di) && di.dli_fname && strcmp(di.dli_fname, objnames[i]) == 0)
			n++;
		dlclose(h);
	}
	return n;
}

/* ---- signals ---- */

static int usr1, usr2;
static void on_usr1(int sig) { __atomic_add_fetch(&usr1, 1, __ATOMIC_SEQ_CST); }
static void on_usr2(int sig) { __atomic_add_fetch(&usr2, 1, __ATOMIC_SEQ_CST); }

static int onstack(int sig)
{
	struct sigaction old;
	if (sigaction(sig, NULL, &old) != 0)
		return -1;
	return (old.sa_flags & SA_ONSTACK) != 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Waits for pid up to ms milliseconds; kills it when it is late. Returns the wait status, or -1. */
static int wait_for(pid_t pid, int ms, const char *what)
{
	int st;
	for (int waited = 0;; waited += 5) {
		pid_t r = waitpid(pid, &st, WNOHANG);
		if (r == pid)
			return st;
		if (r < 0 && errno != EINTR) {
			FAIL("%s: waitpid: %s", what, strerror(errno));
			return -1;
		}
		if (waited >= ms) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			FAIL("%s: child %d still running after %d ms (hung), killed", what, (int)pid, ms);
			return -1;
		}
		sleep_ms(5);
	}
}

static void report_child(int st, const char *what)
{
	if (st == -1)
		return;
	if (WIFSIGNALED(st))
		FAIL("%s: child killed by signal %d", what, WTERMSIG(st));
	else if (WEXITSTATUS(st) != 0)
		FAIL("%s: child exit status %d", what, WEXITSTATUS(st));
	else
		printf("%s: child exit 0\n", what);
}

/* A thread that keeps calling into the core (so runs Go code) while signals arrive; it and the
 * core's own threads are the only ones that do not block them. */
static volatile int stop_busy;
static void *busy(void *arg)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	sigaddset(&s, SIGUSR2);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL); /* the main thread blocks them */
	while (!stop_busy) {
		for (int i = 0; i < NLIBS; i++) {
			int n;
			if (libs[i].preloaded && count_devices(i, &libs[i], &n, 0) != 0) {
				printf("FAIL: busy thread: %s call failed\n", sonames[i]);
				__atomic_add_fetch(&failures, 1, __ATOMIC_SEQ_CST);
				return NULL;
			}
		}
	}
	return NULL;
}

/* Sends n signals sig to the process and waits for each to be handled (counter *c). */
static void send_and_wait(int sig, int *c, int n, const char *what)
{
	for (int i = 0; i < n; i++) {
		int before = __atomic_load_n(c, __ATOMIC_SEQ_CST);
		kill(getpid(), sig);
		int waited = 0;
		while (__atomic_load_n(c, __ATOMIC_SEQ_CST) == before && waited < 3000) {
			sleep_ms(1);
			waited++;
		}
		if (__atomic_load_n(c, __ATOMIC_SEQ_CST) == before) {
			FAIL("%s: signal %d #%d not handled within 3 s", what, sig, i);
			return;
		}
	}
	printf("%s: %d/%d handled\n", what, n, n);
}

int main(int argc, char **argv)
{
	alarm(12); /* never outlive the test (which allows 10 s) */
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc < 2) {
		fprintf(stderr, "usage: hostprog <stub folder> [fork-first]\n");
		return 2;
	}
	const char *dir = argv[1];
	int fork_first = argc > 2 && strcmp(argv[2], "fork-first") == 0;

	/* (a) a handler without SA_ONSTACK, installed before any vgpu call */
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = 0;
	if (sigaction(SIGUSR1, &sa, NULL) != 0)
		FAIL("sigaction(SIGUSR1): %s", strerror(errno));
	printf("SA_ONSTACK SIGUSR1: %s\n", onstack(SIGUSR1) == 1 ? "set" : "unset");

	int any = 0;
	printf("preloaded:");
	for (int i = 0; i < NLIBS; i++) {
		find(RTLD_DEFAULT, i, &libs[i]);
		any |= libs[i].preloaded;
		if (libs[i].preloaded)
			printf(" %s", sonames[i]);
	}
	printf("\n");
	int before = core_files();
	printf("core files before calls: %d\n", before);
	if (before != 0)
		FAIL("a vgpu core is loaded before any API call (%d)", before);

	if (fork_first) {
		fflush(NULL);
		pid_t pid = fork();
		if (pid == 0) {
			int bad = 0;
			for (int i = 0; i < NLIBS; i++) {
				int n;
				if (!libs[i].preloaded)
					continue;
				int r = count_devices(i, &libs[i], &n, 1);
				if (r != 0 || n < 1)
					bad = 1;
			}
			int c = core_files();
			printf("fork-first child: core files %d\n", c);
			if (any && c != 1)
				bad = 1;
			fflush(NULL);
			_exit(bad ? 10 : 0);
		}
		report_child(wait_for(pid, 10000, "fork-first"), "fork-first");
		if (core_files() != 0)
			FAIL("the parent holds a core after its child initialised CUDA");
	}

	/* (b) every preloaded library answers */
	for (int i = 0; i < NLIBS; i++) {
		int n;
		if (!libs[i].preloaded) {
			printf("%s: not preloaded\n", sonames[i]);
			continue;
		}
		int r = count_devices(i, &libs[i], &n, 1);
		if (r != 0 || n < 1)
			FAIL("%s: result %d, count %d", sonames[i], r, n);
	}
	/* A consumer that asks for the name without a version gets one of the cudart stubs too. */
	fn_intp rt = (fn_intp)dlsym(RTLD_DEFAULT, "cudaGetDeviceCount");
	if ((rt != NULL) != (libs[RT12].preloaded || libs[RT13].preloaded))
		FAIL("dlsym(RTLD_DEFAULT, cudaGetDeviceCount) = %p, but cudart preloaded: 12 %d, 13 %d", (void *)rt,
		     libs[RT12].preloaded, libs[RT13].preloaded);
	if (rt) {
		int n = -1, r = rt(&n);
		printf("cudaGetDeviceCount (unversioned dlsym): %d count=%d\n", r, n);
		if (r != 0 || n < 1)
			FAIL("unversioned cudaGetDeviceCount: result %d, count %d", r, n);
	}

	int files = core_files(), objs = vgpu_call_objects();
	printf("core files after calls: %d\n", files);
	printf("objects exporting vgpu_call: %d\n", objs);
	if (any && (files != 1 || objs != 1))
		FAIL("want exactly one vgpu core after API calls, have %d files, %d objects exporting vgpu_call", files, objs);

	/* (a, continued) handlers installed after the core was loaded, by sigaction and by signal() */
	if (signal(SIGUSR2, on_usr2) == SIG_ERR)
		FAIL("signal(SIGUSR2): %s", strerror(errno));
	printf("SA_ONSTACK SIGUSR2 by signal() after init: %s\n", onstack(SIGUSR2) == 1 ? "set" : "unset");
	printf("SA_ONSTACK SIGUSR1 after init: %s\n", onstack(SIGUSR1) == 1 ? "set" : "unset");

	/* (c) the handlers run: raised on this thread, then delivered to other threads (those of
	 * the Go runtime and a thread calling into it) while this one blocks the signals. */
	for (int i = 0; i < 5; i++)
		raise(SIGUSR1);
	if (__atomic_load_n(&usr1, __ATOMIC_SEQ_CST) != 5)
		FAIL("raise(SIGUSR1) x5: handler ran %d times", usr1);
	else
		printf("raise SIGUSR1: 5/5 handled\n");
	sigset_t block, saved;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &block, &saved);
	pthread_t th;
	int have_busy = any && pthread_create(&th, NULL, busy, NULL) == 0;
	if (have_busy) {
		send_and_wait(SIGUSR1, &usr1, 20, "SIGUSR1 to other threads");
		send_and_wait(SIGUSR2, &usr2, 20, "SIGUSR2 to other threads");
	}
	stop_busy = 1;
	if (have_busy)
		pthread_join(th, NULL);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);

	/* (d) a child forked after initialisation: every stub says not initialised, at once */
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int bad = 0;
		for (int i = 0; i < NLIBS; i++) {
			struct lib l = libs[i];
			const char *how = "preloaded";
			if (!l.preloaded) {
				char path[4096];
				snprintf(path, sizeof path, "%s/%s", dir, sonames[i]);
				void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
				if (!h) {
					printf("fork child: dlopen %s: %s\n", path, dlerror());
					bad = 1;
					continue;
				}
				find(h, i, &l);
				how = "dlopened";
				if (!l.preloaded) {
					printf("fork child: %s lacks its functions\n", path);
					bad = 1;
					continue;
				}
			}
			int r = count_only(i, &l);
			printf("fork child: %s (%s) count=%d\n", sonames[i], how, r);
			if (r != not_init[i])
				bad = 1;
		}
		fflush(NULL);
		_exit(bad ? 10 : 0);
	}
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	else
		report_child(wait_for(pid, 5000, "fork without exec"), "fork without exec");

	/* (e) fork + exec */
	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		execl("/bin/true", "true", (char *)NULL);
		_exit(127);
	}
	if (pid < 0)
		FAIL("fork: %s", strerror(errno));
	else
		report_child(wait_for(pid, 5000, "fork+exec /bin/true"), "fork+exec /bin/true");

	/* (f) */
	if (failures) {
		printf("FAILED (%d)\n", failures);
		return 1;
	}
	printf("PASS\n");
	return 0;
}
