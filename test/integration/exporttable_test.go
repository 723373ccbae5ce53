package integration

import (
	"path/filepath"
	"testing"
	"time"
)

// TestExportTables: the private driver tables a statically linked CUDA runtime asks for
// (shims/cuda/exporttable.c), through the real libcuda.so.1 stub and a sim server. The six the
// runtime needs are served, the two optional ones refused with CUDA_ERROR_NOT_FOUND; the
// context-local storage keeps values per key and runs their destructors when the primary
// context is reset, not when a key is deleted; the integrity check answers the driver's
// constants for versions ending in 0 and 1 and a hash that follows the time otherwise; MD2
// matches RFC 1319. (That the hash is the one the runtime accepts is shown on the GPU machine:
// test/gpu/run.sh, static-cudart and CuPy.)
func TestExportTables(t *testing.T) {
	out := outDir(t)
	s := startServer(t, false)
	root := repoRoot(t)
	exe := compileC(t, t.TempDir(), "exporttable", []string{filepath.Join("testdata", "exporttable.c"), filepath.Join(root, "shims", "cuda", "md2.c")},
		"-I"+filepath.Join(root, "include"), "-I"+filepath.Join(root, "shims", "cuda"), "-L"+out, "-l:libcuda.so.1", "-Wl,-rpath,"+out)
	r := run(t, 10*time.Second, cleanEnv("VGPU_SERVER="+s.unix), exe)
	if r.code != 0 {
		t.Fatalf("exporttable: %s", r)
	}
	checkKeyValues(t, r, map[string]string{
		"table0": "0 set", "table1": "0 set", "table2": "0 set", "table3": "0 set", "table4": "0 set", "table5": "0 set",
		"table6": "500 null", "table7": "500 null",
		"init":                "0",
		"sizes":               "104 56 24 120 24",
		"primary":             "0 0 same",
		"cls-get-missing":     "400",
		"cls-put":             "0",
		"cls-get":             "0 value",
		"cls-del":             "0",
		"cls-get-deleted":     "400 dtor 0",
		"reset":               "0 dtor 1 value2",
		"cls-get-after-reset": "400",
		"check":               "0 0 null",
		"integrity0":          "3341181c03cb675c8ed383aa1f4cd1e8",
		"integrity1":          "1841181c03cb675c8ed383aa1f4cd1e8",
		"integrity2":          "stable timed",
		"md2-0":               "8350e5a3e24c153df2275c9f80692773",
		"md2-1":               "da853b0d3f88d99b30283a69e6ded6bb",
		"md2-2":               "ab4f496bfb2a530b219ff33031fe06b0",
	})
}
