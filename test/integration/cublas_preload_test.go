package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCublasPreload: the cuBLAS stubs preloaded beside the driver and runtime stubs, in either
// order, share the one core and the one connection of the process (docs/ARCHITECTURE.md, decisions 1 and 2),
// and each answers.
func TestCublasPreload(t *testing.T) {
	out := outDir(t)
	s := startServer(t, false)
	exe := compileC(t, t.TempDir(), "cublas_preload", []string{filepath.Join("testdata", "cublas_preload.c")}, "-ldl")
	for _, set := range [][]string{
		{"libcublas.so.13", "libcublasLt.so.13", "libcuda.so.1", "libcudart.so.13"},
		{"libcudart.so.13", "libcuda.so.1", "libcublasLt.so.13", "libcublas.so.13"},
		{"libcublasLt.so.12", "libcublas.so.12", "libcudart.so.12", "libcuda.so.1"},
	} {
		var paths []string
		for _, n := range set {
			paths = append(paths, filepath.Join(out, n))
		}
		t.Run(strings.Join(set, "+"), func(t *testing.T) {
			r := run(t, 10*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "LD_PRELOAD="+strings.Join(paths, ":")), exe)
			if r.code != 0 {
				t.Fatalf("%s", r)
			}
			checkKeyValues(t, r, map[string]string{"init": "0", "count": "0 1 0 1", "cores": "1"})
			if n := s.sessionsOf(t, r.pid); n != 1 {
				t.Errorf("the server saw %d sessions from pid %d, want 1", n, r.pid)
			}
		})
	}
}
