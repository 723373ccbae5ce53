package server

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// The simulated device has no kernels: every cuBLAS call answers CUBLAS_STATUS_NOT_SUPPORTED, and
// the session checks cuBLAS calls as any other (handles, the scalars' length).
func TestSimCublas(t *testing.T) {
	c, done := pipeSession(t)
	if h, _ := hello(t, c, api.TableHash()); h.Type != remoting.FrameWelcome {
		t.Fatalf("got %v", h.Type)
	}
	if r := call(t, c, 1, "cuInit", []uint64{0}); r.Result != 0 {
		t.Fatalf("cuInit = %d", r.Result)
	}
	if r := call(t, c, 2, "cublasCreate_v2", nil); r.Result != 15 || len(r.Bufs) != 0 {
		t.Errorf("cublasCreate_v2 = %d with %d outputs, want CUBLAS_STATUS_NOT_SUPPORTED (15) and none", r.Result, len(r.Bufs))
	}
	if r := call(t, c, 3, "cublasGetProperty", []uint64{0}); r.Result != 15 {
		t.Errorf("cublasGetProperty = %d, want 15", r.Result)
	}
	if r := call(t, c, 4, "cublasLtGetProperty", []uint64{0}); r.Result != 15 {
		t.Errorf("cublasLtGetProperty = %d, want 15", r.Result)
	}
	// A handle the session never created: refused with cuBLAS's code for it (NOT_INITIALIZED),
	// reported, for an async GEMM, by the next synchronising call.
	_, f, _ := api.Lookup("cublasGemmEx")
	scalars := make([]uint64, 0, len(f.Params))
	for _, p := range f.Params {
		if p.Kind != api.InBuf {
			scalars = append(scalars, 0)
		}
	}
	scalars[0] = 0xbad0
	fid := mustID(t, "cublasGemmEx")
	alpha, beta := make([]byte, api.CublasScalarWire), make([]byte, api.CublasScalarWire)
	send(t, c, remoting.FrameCall, remoting.FlagAsync, 5, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: scalars, Bufs: [][]byte{alpha, beta}}))
	if r := call(t, c, 6, "cuCtxSynchronize", nil); r.DeferredFn != uint32(fid) || r.DeferredCode != 1 {
		t.Errorf("deferred = fn %d code %d, want cublasGemmEx's CUBLAS_STATUS_NOT_INITIALIZED", r.DeferredFn, r.DeferredCode)
	}
	// Scalars shorter than the row's 16 bytes are a lying frame: the session ends.
	send(t, c, remoting.FrameCall, remoting.FlagAsync, 7, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: scalars, Bufs: [][]byte{alpha[:2], beta[:2]}}))
	if h, _, err := c.ReadFrame(); err != nil || h.Type != remoting.FrameError {
		t.Fatalf("got %v %v, want an error frame", h.Type, err)
	}
	if err := <-done; err == nil {
		t.Fatal("session survived a lying frame")
	}
}

// The real backend finds libcublas by $VGPU_REAL_LIBCUBLAS, else in the search folders in order,
// else by SONAME; libcublasLt preferably next to it.
func TestFindCublasFile(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	touch := func(dir, name string) {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := findCublasFile("", "libcublas.so.13", "", []string{a, b}); got != "libcublas.so.13" {
		t.Errorf("nothing anywhere: %q, want the plain SONAME", got)
	}
	touch(b, "libcublas.so.13")
	touch(b, "libcublasLt.so.13")
	if got := findCublasFile("", "libcublas.so.13", "", []string{a, b}); got != filepath.Join(b, "libcublas.so.13") {
		t.Errorf("in the second folder: %q", got)
	}
	touch(a, "libcublasLt.so.13")
	if got := findCublasFile("", "libcublasLt.so.13", b, []string{a, b}); got != filepath.Join(b, "libcublasLt.so.13") {
		t.Errorf("libcublasLt next to libcublas: %q", got)
	}
	if got := findCublasFile("", "libcublasLt.so.13", "", []string{a, b}); got != filepath.Join(a, "libcublasLt.so.13") {
		t.Errorf("first folder first: %q", got)
	}
	t.Setenv("VGPU_REAL_LIBCUBLAS", "/opt/x/libcublas.so.13")
	if got := findCublasFile(settings.RealLibCublas.Get(), "libcublas.so.13", b, []string{a, b}); got != "/opt/x/libcublas.so.13" {
		t.Errorf("the environment first: %q", got)
	}
	dirs := cublasSearchDirs()
	if len(dirs) < 2 || dirs[0] != "/usr/local/cuda/lib64" || dirs[1] != "/usr/local/cuda/targets/x86_64-linux/lib" {
		t.Errorf("search folders %v: the toolkit's first", dirs)
	}
}
