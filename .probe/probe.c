#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef int (*gpa2_t)(const char *, void **, int, unsigned long long, int *);
typedef int (*gpa1_t)(const char *, void **, int, unsigned long long);
typedef int (*init_t)(unsigned);
typedef int (*rtbv_t)(const char *, void **, unsigned, unsigned long long, int *);
typedef int (*rt_t)(const char *, void **, unsigned long long, int *);

static const char *nm(void *p, char *buf)
{
	Dl_info i;
	if (!p)
		return "NULL";
	if (!dladdr(p, &i) || !i.dli_sname) {
		sprintf(buf, "?%p", p);
		return buf;
	}
	if (i.dli_saddr == p)
		return i.dli_sname;
	sprintf(buf, "%s+%ld", i.dli_sname, (long)((char *)p - (char *)i.dli_saddr));
	return buf;
}

static gpa2_t gpa2;

static void one(const char *s, int v, unsigned long long fl)
{
	void *p = (void *)1;
	int st = -1;
	char b[256];
	int rc = gpa2(s, &p, v, fl, &st);
	printf("  %s v=%d fl=%llu rc=%d st=%d p=%s\n", s, v, fl, rc, st, nm(p, b));
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	void *h = dlopen("libcuda.so.1", RTLD_NOW);
	{ Dl_info di; if (h && dladdr(dlsym(h, "cuInit"), &di)) printf("libcuda at %s\n", di.dli_fname); }
	if (!h) {
		printf("dlopen: %s\n", dlerror());
		return 1;
	}
	gpa2 = (gpa2_t)dlsym(h, "cuGetProcAddress_v2");
	gpa1_t gpa1 = (gpa1_t)dlsym(h, "cuGetProcAddress");
	init_t init = (init_t)dlsym(h, "cuInit");
	char b[256];
	printf("specials before cuInit:\n");
	one("cuMemAlloc", 13000, 0);
	one("cuNoSuchFunction", 13000, 0);
	one("cuMemAlloc", 1000, 0);
	one("cuMemAlloc", 0, 0);
	one("cuMemAlloc", 99999, 0);
	one("cuMemAlloc", 13010, 0);
	one("cuMemAlloc", 13020, 0);
	one("cuMemAlloc", 2000, 0);
	one("cuMemAlloc_v2", 13000, 0);
	one("cuMemcpyHtoDAsync", 13000, 0);
	one("cuMemcpyHtoDAsync", 13000, 1);
	one("cuMemcpyHtoDAsync", 13000, 2);
	one("cuMemcpyHtoDAsync", 13000, 3);
	one("cuMemcpyHtoDAsync", 13000, 4);
	one("cuMemcpyHtoDAsync", 6000, 2);
	one("cuCtxCreate", 12050, 0);
	one("cuCtxCreate", 13000, 0);
	one("cuDeviceGetUuid", 9000, 0);
	one("cuGLGetDevices", 13000, 0);
	one("cudbgApiInit", 13000, 0);
	{
		void *p = (void *)1;
		int rc = gpa1("cuNoSuchFunction", &p, 13000, 0);
		printf("  v1 unknown rc=%d p=%s\n", rc, nm(p, b));
		p = (void *)1;
		rc = gpa1("cuMemAlloc", &p, 1000, 0);
		printf("  v1 low rc=%d p=%s\n", rc, nm(p, b));
		p = (void *)1;
		rc = gpa1("cuMemAlloc", &p, 13000, 0);
		printf("  v1 ok rc=%d p=%s\n", rc, nm(p, b));
		p = (void *)1;
		rc = gpa2("cuMemAlloc", &p, 13000, 0, NULL);
		printf("  NULL status rc=%d p=%s\n", rc, nm(p, b));
	}
	printf("cuInit=%d\n", init(0));
	printf("specials after cuInit:\n");
	one("cuMemAlloc", 13000, 0);
	one("cuNoSuchFunction", 13000, 0);
	one("cuMemAlloc", 1000, 0);
	one("cuMemAlloc", 99999, 0);

	/* sweep */
	FILE *f = fopen(argv[1], "r");
	char base[256];
	while (fscanf(f, "%255s", base) == 1) {
		for (unsigned long long fl = 1; fl <= 2; fl++) {
			printf("%s fl=%llu:", base, fl);
			char last[300] = "";
			for (int v = 1000; v <= 13100; v += 10) {
				void *p = NULL;
				int st = -1;
				int rc = gpa2(base, &p, v, fl, &st);
				char cur[300];
				snprintf(cur, sizeof cur, "%d/%d/%s", rc, st, nm(p, b));
				if (strcmp(cur, last)) {
					printf(" %d=%s", v, cur);
					strcpy(last, cur);
				}
			}
			printf("\n");
		}
	}

	/* runtime */
	void *rt = dlopen(argc > 2 ? argv[2] : "libcudart.so.13", RTLD_NOW);
	if (!rt) {
		printf("cudart: %s\n", dlerror());
		return 0;
	}
	rtbv_t bv = (rtbv_t)dlsym(rt, "cudaGetDriverEntryPointByVersion");
	rt_t ep = (rt_t)dlsym(rt, "cudaGetDriverEntryPoint");
	struct {
		const char *s;
		unsigned v;
		unsigned long long fl;
	} q[] = {{"cuMemAlloc", 13000, 0}, {"cuMemAlloc", 2000, 0}, {"cuMemAlloc", 1000, 0}, {"cuNoSuchFunction", 13000, 0},
		 {"cuMemcpyHtoDAsync", 13000, 1}, {"cuMemcpyHtoDAsync", 13000, 2}, {"cuMemcpyHtoDAsync", 13000, 0},
		 {"cuCtxCreate", 12050, 0}, {"cuCtxCreate", 13000, 0}, {"cuMemAlloc", 99999, 0}, {"cuMemAlloc", 0, 0}};
	for (unsigned i = 0; i < sizeof q / sizeof q[0]; i++) {
		void *p = (void *)1;
		int st = -1;
		int rc = bv(q[i].s, &p, q[i].v, q[i].fl, &st);
		printf("rt ByVersion %s v=%u fl=%llu rc=%d st=%d p=%s\n", q[i].s, q[i].v, q[i].fl, rc, st, nm(p, b));
	}
	const char *e[] = {"cuMemAlloc", "cuCtxCreate", "cuNoSuchFunction", "cuMemcpyHtoDAsync", "cuGraphInstantiate"};
	for (unsigned i = 0; i < 5; i++)
		for (unsigned long long fl = 0; fl < 3; fl++) {
			void *p = (void *)1;
			int st = -1;
			int rc = ep(e[i], &p, fl, &st);
			printf("rt EntryPoint %s fl=%llu rc=%d st=%d p=%s\n", e[i], fl, rc, st, nm(p, b));
		}
	return 0;
}
