package api

import (
	"bufio"
	"bytes"
	"fmt"
	"github.com/vgpu/vgpu/internal/testout"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// The data cuGetProcAddress answers from is consistent with the table: every export it names is
// a row of libcuda, versions ascend, and rows that state a Since agree with it.
func TestProcAddrData(t *testing.T) {
	served := map[string]int{} // export -> since
	names := map[string]bool{}
	for _, s := range ProcAddr() {
		if names[s.Name] {
			t.Errorf("%s listed twice", s.Name)
		}
		names[s.Name] = true
		for k, vs := range [][]ProcVersion{s.Versions, s.PerThread} {
			for i, v := range vs {
				if i > 0 && v.Since <= vs[i-1].Since {
					t.Errorf("%s: versions not ascending at %d", s.Name, v.Since)
				}
				if !exported(v.Export, LibCuda) {
					t.Errorf("%s at %d: %s is not a row of libcuda.so.1", s.Name, v.Since, v.Export)
				}
				if !strings.HasPrefix(v.Export, s.Name) {
					t.Errorf("%s at %d: export %s is not a variant of it", s.Name, v.Since, v.Export)
				}
				perThread := strings.HasSuffix(v.Export, "_ptds") || strings.HasSuffix(v.Export, "_ptsz")
				if perThread != (k == 1) {
					t.Errorf("%s at %d: %s is in the wrong list", s.Name, v.Since, v.Export)
				}
				if k == 0 {
					served[v.Export] = v.Since
				}
			}
		}
		if len(s.Versions) == 0 {
			t.Errorf("%s has no legacy version", s.Name)
		}
	}
	for i := range Table {
		f := &Table[i]
		if f.Since == 0 || f.Lib() != LibCuda {
			continue
		}
		if since, ok := served[f.Name]; !ok || since != f.Since {
			t.Errorf("%s: Since %d, but cuGetProcAddress serves it from version %d", f.Name, f.Since, since)
		}
	}
}

type procAnswer struct {
	version int
	result  string // rc/status/export
}

// driver580 parses driver580ProcAddr: name -> flags (1, 2) -> the answers where they change.
func driver580(t *testing.T) map[string][3][]procAnswer {
	m := map[string][3][]procAnswer{}
	for _, line := range strings.Split(strings.TrimSpace(driver580ProcAddr), "\n") {
		head, rest, ok := strings.Cut(line, ": ")
		name, flags, ok2 := strings.Cut(head, " ")
		if !ok || !ok2 {
			t.Fatalf("bad line %q", line)
		}
		var as []procAnswer
		for _, tok := range strings.Fields(rest) {
			v, r, _ := strings.Cut(tok, "=")
			n, err := strconv.Atoi(v)
			if err != nil {
				t.Fatalf("bad line %q", line)
			}
			as = append(as, procAnswer{n, r})
		}
		e := m[name]
		switch flags {
		case "*":
			e[1], e[2] = as, as
		case "1":
			e[1] = as
		case "2":
			e[2] = as
		}
		m[name] = e
	}
	return m
}

func answerAt(as []procAnswer, v int) string {
	r := ""
	for _, a := range as {
		if a.version <= v {
			r = a.result
		}
	}
	return r
}

// ProcLookup over procAddrData answers as driver 580 did, for every name, version and flags.
func TestProcLookupMatchesDriver580(t *testing.T) {
	measured := driver580(t)
	for _, s := range ProcAddr() {
		if _, ok := measured[s.Name]; !ok {
			t.Errorf("%s is not in the measurement", s.Name)
		}
	}
	bad := 0
	for name, byFlags := range measured {
		for flags := 1; flags <= 2; flags++ {
			for v := 1000; v <= 13000; v += 10 {
				export, status := ProcLookup(name, v, uint64(flags))
				got := fmt.Sprintf("0/%d/%s", status, export)
				if export == "" {
					got = fmt.Sprintf("0/%d/NULL", status)
				}
				if want := answerAt(byFlags[flags], v); got != want && bad < 20 {
					bad++
					t.Errorf("cuGetProcAddress(%s, %d, flags %d): %s, driver 580: %s", name, v, flags, got, want)
				}
			}
		}
	}
}

// outDir is build/out with the files these tests need.
func outDir(t *testing.T) string {
	return testout.Dir(t, "libcuda.so.1", "libcudart.so.12", "libcudart.so.13")
}

// The C implementations (shims/cuda/manual.c, shims/cudart/manual.c) in the built stubs: the
// chosen exports, the statuses, per-thread flags, cudaGetDriverEntryPoint* of both cudart
// libraries returning addresses in our libcuda.so.1, cudaCreateChannelDesc, and no call (nor
// the registration stubs) entering the core. Then the
// whole measurement of driver 580, replayed against our cuGetProcAddress_v2.
func TestProcAddrC(t *testing.T) {
	out := outDir(t)
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("no gcc")
	}
	tmp := t.TempDir()
	src := filepath.Join(tmp, "procaddr.c")
	bin := filepath.Join(tmp, "procaddr")
	if err := os.WriteFile(src, []byte(procAddrTestC), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command(gcc, "-O1", "-Wall", "-Werror", "-o", bin, src, "-ldl").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	measured := driver580(t)
	var names bytes.Buffer
	for name := range measured {
		names.WriteString(name + "\n")
	}
	symbols := filepath.Join(tmp, "symbols")
	if err := os.WriteFile(symbols, names.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, filepath.Join(out, "libcuda.so.1"), filepath.Join(out, "libcudart.so.13"),
		filepath.Join(out, "libcudart.so.12"), symbols)
	cmd.Env = append(os.Environ(), "VGPU_SERVER=unix:/nonexistent", "VGPU_LOG=quiet") // nothing may need a server
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if !bytes.HasSuffix(b, []byte("done\n")) {
		t.Errorf("the test program did not finish:\n%s", b)
	}
	bad := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	sweeps := 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "FAIL "):
			t.Error(line[5:])
		case strings.HasPrefix(line, "SWEEP "):
			sweeps++
			f := strings.Fields(line)
			name, flags := f[1], f[2]
			fl, _ := strconv.Atoi(flags)
			got := f[3:]
			var want []string
			for _, a := range measured[name][fl] {
				want = append(want, fmt.Sprintf("%d=%s", a.version, a.result))
			}
			if strings.Join(got, " ") != strings.Join(want, " ") && bad < 20 {
				bad++
				t.Errorf("cuGetProcAddress_v2(%s, flags %s):\n ours:       %s\n driver 580: %s", name, flags, strings.Join(got, " "), strings.Join(want, " "))
			}
		}
	}
	if sweeps != 2*len(measured) {
		t.Errorf("%d sweeps for %d names:\n%s", sweeps, len(measured), b)
	}
}

const procAddrTestC = `
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

typedef int (*gpa2_fn)(const char *, void **, int, unsigned long long, int *);
typedef int (*gpa1_fn)(const char *, void **, int, unsigned long long);
typedef int (*by_version_fn)(const char *, void **, unsigned int, unsigned long long, int *);
typedef int (*entry_point_fn)(const char *, void **, unsigned long long, int *);
struct channel_desc { int x, y, z, w, f; };
typedef struct channel_desc (*create_channel_desc_fn)(int, int, int, int, int);

static void *cuda;
static gpa2_fn gpa2;

#define FAIL(...) do { printf("FAIL "); printf(__VA_ARGS__); printf("\n"); } while (0)

static void *sym(void *h, const char *name)
{
	void *p = dlsym(h, name);
	if (!p)
		FAIL("no export %s", name);
	return p;
}

/* cuGetProcAddress_v2(name, version, flags): want = the export expected, or NULL with status. */
static void expect(const char *name, int version, unsigned long long flags, const char *want, int want_status)
{
	void *p = (void *)1;
	int status = -1;
	int rc = gpa2(name, &p, version, flags, &status);
	void *w = want ? sym(cuda, want) : NULL;
	if (rc != 0 || status != want_status || p != w)
		FAIL("cuGetProcAddress_v2(%s, %d, %llu) = %d, status %d, %p; want 0, status %d, %p (%s)", name, version,
		     flags, rc, status, p, want_status, w, want ? want : "NULL");
}

static void expect_rt(const char *lib, void *rt, const char *fn, const char *name, unsigned int version,
		      unsigned long long flags, const char *want, int want_status)
{
	void *p = (void *)1;
	int status = -1, rc;
	if (strstr(fn, "ByVersion"))
		rc = ((by_version_fn)sym(rt, fn))(name, &p, version, flags, &status);
	else
		rc = ((entry_point_fn)sym(rt, fn))(name, &p, flags, &status);
	void *w = want ? sym(cuda, want) : NULL;
	if (rc != 0 || status != want_status || p != w)
		FAIL("%s %s(%s, %u, %llu) = %d, status %d, %p; want 0, status %d, %p (%s)", lib, fn, name, version, flags,
		     rc, status, p, want_status, w, want ? want : "NULL");
}

static const char *name_of(void *p, char *buf)
{
	Dl_info info;
	if (!p)
		return "NULL";
	if (!dladdr(p, &info) || !info.dli_sname || info.dli_saddr != p) {
		sprintf(buf, "?%p", p);
		return buf;
	}
	return info.dli_sname;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	cuda = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
	if (!cuda) {
		FAIL("%s", dlerror());
		return 0;
	}
	gpa2 = (gpa2_fn)sym(cuda, "cuGetProcAddress_v2");
	gpa1_fn gpa1 = (gpa1_fn)sym(cuda, "cuGetProcAddress");
	if (!gpa2 || !gpa1)
		return 0;

	expect("cuMemAlloc", 2000, 0, "cuMemAlloc", 0);
	expect("cuMemAlloc", 3010, 0, "cuMemAlloc", 0);
	expect("cuMemAlloc", 3020, 0, "cuMemAlloc_v2", 0);
	expect("cuMemAlloc", 13000, 0, "cuMemAlloc_v2", 0);
	expect("cuMemAlloc", 1000, 0, NULL, 2);
	expect("cuMemcpyHtoDAsync", 13000, 0, "cuMemcpyHtoDAsync_v2", 0);
	expect("cuMemcpyHtoDAsync", 13000, 1, "cuMemcpyHtoDAsync_v2", 0);
	expect("cuMemcpyHtoDAsync", 13000, 2, "cuMemcpyHtoDAsync_v2_ptsz", 0);
	expect("cuMemcpyHtoDAsync", 13000, 3, "cuMemcpyHtoDAsync_v2_ptsz", 0);
	expect("cuMemcpyHtoDAsync", 6000, 2, NULL, 2);
	expect("cuMemcpyHtoD", 13000, 2, "cuMemcpyHtoD_v2_ptds", 0);
	expect("cuMemAlloc", 13000, 2, "cuMemAlloc_v2", 0); /* no per-thread variant: the legacy one */
	expect("cuCtxCreate", 11040, 0, "cuCtxCreate_v3", 0);
	expect("cuCtxCreate", 12050, 0, "cuCtxCreate_v4", 0);
	expect("cuCtxCreate", 13000, 0, "cuCtxCreate_v4", 0);
	expect("cuGetProcAddress", 13000, 0, "cuGetProcAddress_v2", 0);
	expect("cuNoSuchFunction", 13000, 0, NULL, 1);
	expect("cuMemAlloc_v2", 13000, 0, NULL, 1);
	{
		void *p = (void *)1;
		int rc = gpa2("cuMemAlloc", &p, 13000, 4, NULL);
		if (rc != 1 || p != (void *)1)
			FAIL("flags 4: %d, %p; want 1 (CUDA_ERROR_INVALID_VALUE), pfn untouched", rc, p);
		rc = gpa2("cuMemAlloc", &p, 13000, 0, NULL);
		if (rc != 0 || p != sym(cuda, "cuMemAlloc_v2"))
			FAIL("NULL status: %d, %p", rc, p);
		p = (void *)1;
		rc = gpa1("cuNoSuchFunction", &p, 13000, 0);
		if (rc != 500 || p != (void *)1)
			FAIL("cuGetProcAddress(unknown) = %d, %p; want 500 (CUDA_ERROR_NOT_FOUND), pfn untouched", rc, p);
		rc = gpa1("cuMemAlloc", &p, 1000, 0);
		if (rc != 500 || p != (void *)1)
			FAIL("cuGetProcAddress(cuMemAlloc, 1000) = %d, %p; want 500", rc, p);
		rc = gpa1("cuMemAlloc", &p, 13000, 0);
		if (rc != 0 || p != sym(cuda, "cuMemAlloc_v2"))
			FAIL("cuGetProcAddress(cuMemAlloc, 13000) = %d, %p", rc, p);
	}

	const char *rtname[2] = {"libcudart.so.13", "libcudart.so.12"};
	for (int i = 0; i < 2; i++) {
		void *rt = dlopen(argv[2 + i], RTLD_NOW | RTLD_LOCAL);
		if (!rt) {
			FAIL("%s", dlerror());
			continue;
		}
		const char *l = rtname[i];
		expect_rt(l, rt, "cudaGetDriverEntryPointByVersion", "cuMemAlloc", 13000, 0, "cuMemAlloc_v2", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPointByVersion", "cuMemAlloc", 2000, 0, "cuMemAlloc", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPointByVersion", "cuMemcpyHtoDAsync", 13000, 1, "cuMemcpyHtoDAsync_v2", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPointByVersion", "cuMemcpyHtoDAsync", 13000, 2, "cuMemcpyHtoDAsync_v2_ptsz", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPointByVersion", "cuCtxCreate", 12050, 0, "cuCtxCreate_v4", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPointByVersion", "cuNoSuchFunction", 13000, 0, NULL, 1);
		expect_rt(l, rt, "cudaGetDriverEntryPointByVersion", "cuMemAlloc", 1000, 0, NULL, 2);
		expect_rt(l, rt, "cudaGetDriverEntryPointByVersion_ptsz", "cuMemcpyHtoDAsync", 13000, 0, "cuMemcpyHtoDAsync_v2_ptsz", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPointByVersion_ptsz", "cuMemcpyHtoDAsync", 13000, 1, "cuMemcpyHtoDAsync_v2", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPoint", "cuMemcpyHtoDAsync", 0, 0, "cuMemcpyHtoDAsync_v2", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPoint_ptsz", "cuMemcpyHtoDAsync", 0, 0, "cuMemcpyHtoDAsync_v2_ptsz", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPoint", "cuCtxCreate", 0, 0, "cuCtxCreate_v4", 0);
		/* the runtime's own version: 13000 (cuCtxGetDevice_v2 is 13.0's) or 12090 */
		expect_rt(l, rt, "cudaGetDriverEntryPoint", "cuCtxGetDevice", 0, 0, i == 0 ? "cuCtxGetDevice_v2" : "cuCtxGetDevice", 0);
		expect_rt(l, rt, "cudaGetDriverEntryPoint", "cuNoSuchFunction", 0, 0, NULL, 1);
		/* nvcc's registration calls, made from constructors: answered without the core */
		void **h = ((void **(*)(void *))sym(rt, "__cudaRegisterFatBinary"))(NULL);
		if (h == NULL)
			FAIL("%s __cudaRegisterFatBinary returned no handle", l);
		((void (*)(void **, const char *, char *, const char *, int, void *, void *, void *, void *, int *))sym(
			rt, "__cudaRegisterFunction"))(h, (const char *)&expect_rt, (char *)"k", "k", -1, 0, 0, 0, 0, 0);
		struct channel_desc d = ((create_channel_desc_fn)sym(rt, "cudaCreateChannelDesc"))(8, 16, 24, 32, 2);
		if (d.x != 8 || d.y != 16 || d.z != 24 || d.w != 32 || d.f != 2)
			FAIL("%s cudaCreateChannelDesc(8, 16, 24, 32, 2) = {%d, %d, %d, %d, %d}", l, d.x, d.y, d.z, d.w, d.f);
	}

	/* replay of the measurement (procaddr_driver580_test.go) */
	FILE *f = fopen(argv[4], "r");
	char name[256], buf[300];
	while (f && fscanf(f, "%255s", name) == 1)
		for (int flags = 1; flags <= 2; flags++) {
			char last[400] = "", cur[400];
			printf("SWEEP %s %d", name, flags);
			for (int v = 1000; v <= 13000; v += 10) {
				void *p = NULL;
				int status = -1;
				int rc = gpa2(name, &p, v, flags, &status);
				snprintf(cur, sizeof cur, "%d/%d/%s", rc, status, name_of(p, buf));
				if (strcmp(cur, last)) {
					printf(" %d=%s", v, cur);
					strcpy(last, cur);
				}
			}
			printf("\n");
		}

	if (dlopen("libvgpucore.so", RTLD_NOW | RTLD_NOLOAD))
		FAIL("the vgpu core was loaded: a driver entry point lookup or a registration stub entered Go");
	printf("done\n");
	return 0;
}
`
