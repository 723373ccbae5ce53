package main

import (
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
)

// The C stubs give each kind of row its body: hand-written rows none, stub rows one by their
// return type; those returning void or a pointer (nvcc's registration calls, made from
// constructors) never enter the core.
func TestStubBodies(t *testing.T) {
	c := string(stubC(api.LibCudart13))
	for _, want := range []string{
		"VGPU_EXPORT cudaError_t cudaMemAdvise(void) { return (cudaError_t)vgpu_stub_call(",
		"cudaCreateChannelDesc is hand-written in shims/cudart/",
	} {
		if !strings.Contains(c, want) {
			t.Errorf("zz_libcudart13.c lacks %q", want)
		}
	}
	// A void stub (texture registration, CUDA 12 only) logs in C and returns.
	c12 := string(stubC(api.LibCudart12))
	if want := "VGPU_EXPORT void __cudaRegisterTexture(void)\n{\n\tstatic int logged;\n\tvgpu_stub_unsupported(\"__cudaRegisterTexture\", &logged);\n}\n"; !strings.Contains(c12, want) {
		t.Errorf("zz_libcudart12.c lacks %q", want)
	}
	if strings.Contains(c, "vgpu_stub_call(") && regexp.MustCompile(`vgpu_stub_unsupported\("__cudaRegister\w+", &logged\);\n[^}]*vgpu_stub_call`).MatchString(c) {
		t.Error("a registration stub enters the core")
	}
	if strings.Contains(string(stubC(api.LibCuda)), "vgpu_stub_unsupported") {
		t.Error("zz_libcuda.c carries the C logger it does not use")
	}
	for i := range api.Table {
		f := &api.Table[i]
		if !f.Manual {
			continue
		}
		if regexp.MustCompile(`(?m)^VGPU_EXPORT .*\b` + f.Name + `\(`).MatchString(string(stubC(f.Lib()))) {
			t.Errorf("%s is Manual but the generated stub defines it", f.Name)
		}
		if !strings.Contains(string(versionScript(f.Lib())), "    "+f.Name+";\n") {
			t.Errorf("%s is Manual but not in the version script", f.Name)
		}
	}
	// A stub returning a string returns a valid one.
	f := api.Func{Name: "cudaGetErrorString", Libs: []api.Lib{api.LibCudart13}, Serve: api.Stub, Ret: "const char *"}
	var b strings.Builder
	if err := stubTmpl.Execute(&b, map[string]any{"SONAME": "x", "Lib": 3, "Info": api.LibCudart13.Info(), "Hash": 1,
		"Rows": []row{{ID: 7, F: &f}}, "CLog": true}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `return "vgpu: cudaGetErrorString is not supported";`) {
		t.Errorf("a string-returning stub:\n%s", b.String())
	}
}

func TestPrototypesLeaveOutStubs(t *testing.T) {
	p := string(prototypes())
	if strings.Contains(p, " cuArray3DCreate(") {
		t.Error("zz_prototypes.h declares the stub cuArray3DCreate")
	}
	for _, want := range []string{"CUresult cuGetProcAddress_v2(const char *symbol, void **pfn, int cudaVersion, cuuint64_t flags, CUdriverProcAddressQueryResult *symbolStatus);",
		"struct cudaChannelFormatDesc cudaCreateChannelDesc(int x, int y, int z, int w, cudaChannelFormatKind f);"} {
		if !strings.Contains(p, want) {
			t.Errorf("zz_prototypes.h lacks %q", want)
		}
	}
}

// The cuGetProcAddress table is sorted for manual.c's binary search (strcmp order) and has
// every variant.
func TestProcAddrC(t *testing.T) {
	c := string(procAddrC())
	rows := regexp.MustCompile(`(?m)^\t\{"(\w+)", "(\w+)", (\d+), ([01])\},$`).FindAllStringSubmatch(c, -1)
	n := 0
	for _, s := range api.ProcAddr() {
		n += len(s.Versions) + len(s.PerThread)
	}
	if len(rows) != n || !strings.Contains(c, "#define VGPU_PROCADDR_ROWS "+strconv.Itoa(n)+" ") {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	for i := 1; i < len(rows); i++ {
		if rows[i][1] < rows[i-1][1] {
			t.Fatalf("not sorted at %s", rows[i][1])
		}
	}
}
