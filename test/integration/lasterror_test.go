package integration

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestLastErrorPerThread: the runtime's last error belongs to the thread that made the failing
// call (the core keys its per-thread state by a thread id the C side caches per thread).
func TestLastErrorPerThread(t *testing.T) {
	out := outDir(t)
	s := startServer(t, false)
	prog := compileC(t, t.TempDir(), "lasterror", []string{filepath.Join("testdata", "lasterror.c")},
		"-I"+filepath.Join("..", "..", "include"), "-L"+out, "-l:libcudart.so.13", "-lpthread")
	r := run(t, 10*time.Second, []string{"VGPU_SERVER=" + s.unix, "LD_LIBRARY_PATH=" + out}, prog)
	want := "set 99: 101\nthread B last error: 0\nthread A last error: 101\nthread A again: 0\n"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("want %q\n%s", want, r)
	}
}
