/* libvgpu-exec.so: keeps vgpu's environment across exec when a parent drops it.
 *
 * Programs that clean their children's environment (sandboxes, supervisors, "env -i"-style
 * launchers) silently take a child off vgpu: without LD_PRELOAD it loads nothing of ours, without
 * VGPU_SERVER it dials the wrong server. Preloaded next to the stubs, this library records at load
 * the LD_PRELOAD entries that are vgpu's and every VGPU_* variable, and each exec or spawn whose
 * environment lacks them gets them back: our preload entries are prepended to the child's
 * LD_PRELOAD (its own entries stay, after ours), missing VGPU_* variables are added, and a value
 * the caller set itself is never overwritten.
 *
 * Pure C with no dependency on the vgpu core: it never starts a Go runtime. VGPU_EXEC_KEEP=0 in
 * the environment at load, in the process environment at the call, or in the envp passed turns it
 * off.
 *
 * Which entries are vgpu's: a path whose folder holds libvgpucore.so (a stub or the core), or this
 * library itself. A bare name without '/' (searched by the loader) counts only when it names this
 * library. An entry of ours counts as present in the child's LD_PRELOAD when an entry with the
 * same file name is there (the child may have chosen another vgpu folder deliberately; adding
 * ours too would load vgpu twice).
 *
 * Async-signal safety: exec is commonly called in a child after fork or vfork, where malloc,
 * stdio and the loader's locks may be held by a thread that no longer exists. So everything is
 * prepared in the constructor (copies of the strings, the real functions resolved with
 * dlsym(RTLD_NEXT)), and an interposed call only reads that data, scans the environment and
 * writes the new envp into a buffer on its own stack (ARENA_STACK bytes). A larger environment
 * falls back to an anonymous mmap, a plain system call (not on POSIX's list of async-signal-safe
 * functions, but lock-free in glibc); if that fails too the call goes ahead unchanged. execl,
 * execle and execlp put their argument vector on the stack. Limits: at most MAX_OURS of our
 * preload entries and MAX_VARS VGPU_* variables are carried (more are dropped at load, with a
 * line on stderr). A call that happens before the constructor ran (another library's
 * constructor exec'ing) resolves the real function then and carries nothing. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define CORE_NAME "libvgpucore.so"
#define MAX_OURS 16
#define MAX_VARS 64
#define ARENA_STACK 16384

extern char **environ;

/* ---- prepared at load, read-only afterwards ---- */
static int keep_off;                 /* VGPU_EXEC_KEEP=0 at load */
static const char *ours[MAX_OURS];   /* our LD_PRELOAD entries, made absolute */
static const char *ours_base[MAX_OURS];
static int n_ours;
static size_t ours_len;              /* bytes of the entries plus one separator each */
static const char *vars[MAX_VARS];   /* "VGPU_NAME=value" */
static size_t vars_name_len[MAX_VARS]; /* length of "VGPU_NAME=" */
static int n_vars;

typedef int (*execve_fn)(const char *, char *const[], char *const[]);
typedef int (*execvpe_fn)(const char *, char *const[], char *const[]);
typedef int (*fexecve_fn)(int, char *const[], char *const[]);
typedef int (*execveat_fn)(int, const char *, char *const[], char *const[], int);
typedef int (*spawn_fn)(pid_t *, const char *, const posix_spawn_file_actions_t *,
			const posix_spawnattr_t *, char *const[], char *const[]);

static execve_fn real_execve;
static execvpe_fn real_execvpe;
static fexecve_fn real_fexecve;
static execveat_fn real_execveat;
static spawn_fn real_posix_spawn, real_posix_spawnp;

static void resolve(void)
{
	/* Reading and writing these pointers is idempotent: two threads resolving at once store
	 * the same values. */
	if (!real_execve)
		real_execve = (execve_fn)dlsym(RTLD_NEXT, "execve");
	if (!real_execvpe)
		real_execvpe = (execvpe_fn)dlsym(RTLD_NEXT, "execvpe");
	if (!real_fexecve)
		real_fexecve = (fexecve_fn)dlsym(RTLD_NEXT, "fexecve");
	if (!real_execveat)
		real_execveat = (execveat_fn)dlsym(RTLD_NEXT, "execveat");
	if (!real_posix_spawn)
		real_posix_spawn = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawn");
	if (!real_posix_spawnp)
		real_posix_spawnp = (spawn_fn)dlsym(RTLD_NEXT, "posix_spawnp");
}

static void load_log(const char *msg, const char *what)
{
	char line[512];
	int n = snprintf(line, sizeof line, "vgpu: libvgpu-exec.so: %s%s\n", msg, what ? what : "");
	if (n > 0) {
		ssize_t w = write(2, line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
		(void)w;
	}
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Is the LD_PRELOAD entry e (length n) one of vgpu's? self is this library's path. */
static int is_ours(const char *e, size_t n, const struct stat *self)
{
	char path[PATH_MAX];
	struct stat st;
	if (n == 0 || n >= sizeof path)
		return 0;
	memcpy(path, e, n);
	path[n] = 0;
	if (self && stat(path, &st) == 0 && st.st_dev == self->st_dev && st.st_ino == self->st_ino)
		return 1;
	char *slash = strrchr(path, '/');
	if (!slash)
		return 0;
	size_t dir = (size_t)(slash - path) + 1;
	if (dir + sizeof CORE_NAME > sizeof path)
		return 0;
	memcpy(path + dir, CORE_NAME, sizeof CORE_NAME);
	return access(path, F_OK) == 0;
}

/* The entry made absolute against the current folder (symlinks are kept: a stub finds the core
 * in the folder it was loaded from). */
static char *absolute(const char *e, size_t n)
{
	char cwd[PATH_MAX];
	size_t c = 0;
	while (n > 2 && e[0] == '.' && e[1] == '/') {
		e += 2;
		n -= 2;
	}
	if (e[0] != '/') {
		if (!getcwd(cwd, sizeof cwd))
			return NULL;
		c = strlen(cwd);
	}
	char *p = malloc(c + 1 + n + 1);
	if (!p)
		return NULL;
	size_t k = 0;
	if (c) {
		memcpy(p, cwd, c);
		p[c] = '/';
		k = c + 1;
	}
	memcpy(p + k, e, n);
	p[k + n] = 0;
	return p;
}

static int is_sep(char c) { return c == ':' || c == ' '; }

__attribute__((constructor)) static void exec_init(void)
{
	resolve();
	const char *keep = getenv("VGPU_EXEC_KEEP");
	if (keep && strcmp(keep, "0") == 0) {
		keep_off = 1;
		return;
	}
	struct stat self_st, *self = NULL;
	Dl_info info = {0};
	if (dladdr((void *)&exec_init, &info) && info.dli_fname && stat(info.dli_fname, &self_st) == 0)
		self = &self_st;
	const char *self_base = info.dli_fname ? base_name(info.dli_fname) : "libvgpu-exec.so";

	const char *pre = getenv("LD_PRELOAD");
	for (const char *p = pre ? pre : ""; *p;) {
		while (is_sep(*p))
			p++;
		const char *e = p;
		while (*p && !is_sep(*p))
			p++;
		size_t n = (size_t)(p - e);
		if (n == 0)
			continue;
		int bare = memchr(e, '/', n) == NULL;
		int mine = bare ? (strlen(self_base) == n && memcmp(e, self_base, n) == 0) : is_ours(e, n, self);
		if (!mine)
			continue;
		if (n_ours == MAX_OURS) {
			load_log("too many vgpu entries in LD_PRELOAD; not carrying the rest", NULL);
			break;
		}
		char *a = bare ? strndup(e, n) : absolute(e, n);
		if (!a)
			continue;
		int dup = 0;
		for (int i = 0; i < n_ours; i++)
			dup |= strcmp(base_name(ours[i]), base_name(a)) == 0;
		if (dup) {
			free(a);
			continue;
		}
		ours[n_ours] = a;
		ours_base[n_ours] = base_name(a);
		ours_len += strlen(a) + 1;
		n_ours++;
	}

	for (char **ep = environ; ep && *ep; ep++) {
		if (strncmp(*ep, "VGPU_", 5) != 0)
			continue;
		const char *eq = strchr(*ep, '=');
		if (!eq)
			continue;
		if (n_vars == MAX_VARS) {
			load_log("too many VGPU_* variables; not carrying ", *ep);
			continue;
		}
		char *v = strdup(*ep);
		if (!v)
			continue;
		vars[n_vars] = v;
		vars_name_len[n_vars] = (size_t)(eq - *ep) + 1;
		n_vars++;
	}
}

/* ---- used at exec time: no malloc, no stdio, no locks ---- */

/* Memory for one new environment: a stack buffer, or an anonymous mapping when that is too small. */
struct arena {
	char *buf;
	size_t cap, used;
	void *map;
	size_t map_len;
};

static void *arena_alloc(struct arena *a, size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (a->used + n > a->cap)
		return NULL;
	void *p = a->buf + a->used;
	a->used += n;
	return p;
}

static void arena_release(struct arena *a)
{
	if (a->map) {
		int e = errno;
		munmap(a->map, a->map_len);
		errno = e;
		a->map = NULL;
	}
}

static int off_in(char *const *env)
{
	for (; env && *env; env++)
		if (strcmp(*env, "VGPU_EXEC_KEEP=0") == 0)
			return 1;
	return 0;
}

/* Is an entry named base (the file name) in the LD_PRELOAD value list? */
static int preload_has(const char *list, const char *base)
{
	size_t bn = strlen(base);
	for (const char *p = list; *p;) {
		while (is_sep(*p))
			p++;
		const char *e = p;
		while (*p && !is_sep(*p))
			p++;
		if (p == e)
			continue;
		const char *b = e;
		for (const char *q = e; q < p; q++)
			if (*q == '/')
				b = q + 1;
		if ((size_t)(p - b) == bn && memcmp(b, base, bn) == 0)
			return 1;
	}
	return 0;
}

/* Returns envp, or a new environment with vgpu's entries added (built in a). */
static char *const *fix_env(char *const *envp, struct arena *a)
{
	if (keep_off || (n_ours == 0 && n_vars == 0) || off_in(environ) || off_in(envp))
		return envp;
	static char *const empty[] = {NULL};
	if (!envp)
		envp = empty;

	size_t n_env = 0;
	const char *old_pre = NULL; /* the value of the child's LD_PRELOAD */
	for (char *const *ep = envp; *ep; ep++, n_env++)
		if (strncmp(*ep, "LD_PRELOAD=", 11) == 0)
			old_pre = *ep + 11; /* the loader uses the last one */

	int missing_pre = 0;
	for (int i = 0; i < n_ours; i++)
		if (!old_pre || !preload_has(old_pre, ours_base[i]))
			missing_pre++;
	int missing_vars = 0;
	uint64_t add_var = 0; /* bit i: vars[i] is missing */
	for (int i = 0; i < n_vars; i++) {
		int found = 0;
		for (char *const *ep = envp; *ep && !found; ep++)
			found = strncmp(*ep, vars[i], vars_name_len[i]) == 0;
		if (!found) {
			add_var |= (uint64_t)1 << i;
			missing_vars++;
		}
	}
	if (missing_pre == 0 && missing_vars == 0)
		return envp;

	size_t pre_len = 0;
	if (missing_pre)
		pre_len = 11 + ours_len + (old_pre ? strlen(old_pre) : 0) + 2;
	size_t need = (n_env + (size_t)missing_vars + 2) * sizeof(char *) + pre_len + 64;
	if (need > a->cap) {
		void *m = mmap(NULL, need, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED)
			return envp; /* go ahead unchanged rather than fail the exec */
		a->map = m;
		a->map_len = need;
		a->buf = m;
		a->cap = need;
		a->used = 0;
	}
	char **out = arena_alloc(a, (n_env + (size_t)missing_vars + 2) * sizeof(char *));
	char *pre = NULL;
	if (missing_pre) {
		pre = arena_alloc(a, pre_len);
		char *w = pre;
		memcpy(w, "LD_PRELOAD=", 11);
		w += 11;
		for (int i = 0; i < n_ours; i++) {
			if (old_pre && preload_has(old_pre, ours_base[i]))
				continue;
			if (w != pre + 11)
				*w++ = ':';
			size_t l = strlen(ours[i]);
			memcpy(w, ours[i], l);
			w += l;
		}
		if (old_pre && *old_pre) {
			*w++ = ':';
			size_t l = strlen(old_pre);
			memcpy(w, old_pre, l);
			w += l;
		}
		*w = 0;
	}
	if (!out || (missing_pre && !pre)) {
		arena_release(a);
		return envp;
	}
	size_t k = 0;
	int pre_done = 0;
	for (char *const *ep = envp; *ep; ep++) {
		if (pre && strncmp(*ep, "LD_PRELOAD=", 11) == 0) {
			if (*ep + 11 != old_pre)
				continue; /* an earlier duplicate: the loader only reads the last one */
			out[k++] = pre;
			pre_done = 1;
			continue;
		}
		out[k++] = *ep;
	}
	if (pre && !pre_done)
		out[k++] = pre;
	for (int i = 0; i < n_vars; i++)
		if (add_var & ((uint64_t)1 << i))
			out[k++] = (char *)vars[i];
	out[k] = NULL;
	return out;
}

#define ARENA(name)                                                       \
	char name##_buf[ARENA_STACK] __attribute__((aligned(16)));        \
	struct arena name = {name##_buf, sizeof name##_buf, 0, NULL, 0}

static int do_execve(const char *path, char *const argv[], char *const envp[])
{
	if (!real_execve)
		resolve();
	if (!real_execve) {
		errno = ENOSYS;
		return -1;
	}
	ARENA(a);
	int r = real_execve(path, argv, fix_env(envp, &a));
	arena_release(&a);
	return r;
}

static int do_execvpe(const char *file, char *const argv[], char *const envp[])
{
	if (!real_execvpe)
		resolve();
	if (!real_execvpe) {
		errno = ENOSYS;
		return -1;
	}
	ARENA(a);
	int r = real_execvpe(file, argv, fix_env(envp, &a));
	arena_release(&a);
	return r;
}

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	return do_execve(path, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	return do_execve(path, argv, environ);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	return do_execvpe(file, argv, environ);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	return do_execvpe(file, argv, envp);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	if (!real_fexecve)
		resolve();
	if (!real_fexecve) {
		errno = ENOSYS;
		return -1;
	}
	ARENA(a);
	int r = real_fexecve(fd, argv, fix_env(envp, &a));
	arena_release(&a);
	return r;
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	if (!real_execveat)
		resolve();
	if (!real_execveat) {
		errno = ENOSYS;
		return -1;
	}
	ARENA(a);
	int r = real_execveat(dirfd, path, argv, fix_env(envp, &a), flags);
	arena_release(&a);
	return r;
}

/* The variadic execs: count the arguments, then put argv on the stack. arg0 may itself be the
 * terminating NULL. */
static size_t count_args(const char *arg, va_list ap)
{
	size_t n = 0;
	if (arg)
		for (n = 1; va_arg(ap, const char *); n++)
			;
	return n;
}

/* Fills argv[0..n] (argv has n+1 slots) and leaves ap after the terminating NULL. */
static void fill_args(char **argv, size_t n, const char *arg, va_list *ap)
{
	if (arg) {
		argv[0] = (char *)arg;
		for (size_t i = 1; i < n; i++)
			argv[i] = va_arg(*ap, char *);
		(void)va_arg(*ap, char *); /* the terminating NULL */
	}
	argv[n] = NULL;
}

#define MAX_ARGS (1 << 20)

/* Declares argv (on the caller's stack) holding arg and the variadic arguments up to their NULL,
 * and leaves ap open after that NULL (execle reads its envp there); the caller ends ap. */
#define ARGV_FROM_VARARGS(argv, arg, ap)              \
	va_start(ap, arg);                            \
	size_t argc_ = count_args(arg, ap);           \
	va_end(ap);                                   \
	if (argc_ > MAX_ARGS) {                       \
		errno = E2BIG;                        \
		return -1;                            \
	}                                             \
	char *argv[argc_ + 1];                        \
	va_start(ap, arg);                            \
	fill_args(argv, argc_, arg, &ap)

EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;
	ARGV_FROM_VARARGS(argv, arg, ap);
	va_end(ap);
	return do_execve(path, argv, environ);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;
	ARGV_FROM_VARARGS(argv, arg, ap);
	va_end(ap);
	return do_execvpe(file, argv, environ);
}

/* execle(path, arg0, ..., NULL, envp): envp follows the terminating NULL. */
EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	ARGV_FROM_VARARGS(argv, arg, ap);
	char *const *envp = va_arg(ap, char *const *);
	va_end(ap);
	return do_execve(path, argv, envp);
}

static int spawn(spawn_fn fn, pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		 const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (!fn)
		return ENOSYS;
	ARENA(a);
	int r = fn(pid, path, fa, attr, argv, fix_env(envp, &a));
	arena_release(&a);
	return r;
}

EXPORT int posix_spawn(pid_t *pid, const char *path, const posix_spawn_file_actions_t *fa,
		       const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (!real_posix_spawn)
		resolve();
	return spawn(real_posix_spawn, pid, path, fa, attr, argv, envp);
}

EXPORT int posix_spawnp(pid_t *pid, const char *file, const posix_spawn_file_actions_t *fa,
			const posix_spawnattr_t *attr, char *const argv[], char *const envp[])
{
	if (!real_posix_spawnp)
		resolve();
	return spawn(real_posix_spawnp, pid, file, fa, attr, argv, envp);
}
