package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMissingCore: a stub installed without the core beside it is not a loader failure (rc 127)
// nor a crash: every call returns an error, and one line says what is missing and where.
func TestMissingCore(t *testing.T) {
	out := outDir(t)
	s := startServer(t, false) // a live server: the core's absence is the only fault
	dir := t.TempDir()
	stub := filepath.Join(dir, "libcuda.so.1")
	copyFile(t, filepath.Join(out, "libcuda.so.1"), stub)

	r := run(t, 10*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "LD_PRELOAD="+stub), filepath.Join(out, "devicequery"))
	if r.signal != 0 || r.code != 1 {
		t.Fatalf("devicequery with a stub but no core: want exit status 1, got %s", r)
	}
	if r.elapsed > 3*time.Second {
		t.Errorf("took %v to fail, want < 3 s", r.elapsed)
	}
	for _, want := range []string{"the vgpu core", "is missing", filepath.Join(dir, coreName)} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, r)
		}
	}

	// A file of that name that is no library: an error too, never a crash.
	if err := os.WriteFile(filepath.Join(dir, coreName), []byte("not an ELF file\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r = run(t, 10*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "LD_PRELOAD="+stub), filepath.Join(out, "devicequery"))
	if r.signal != 0 || r.code != 1 {
		t.Fatalf("devicequery with a broken core: want exit status 1, got %s", r)
	}
	if !strings.Contains(r.stderr, "cannot load the vgpu core") {
		t.Errorf("stderr lacks %q:\n%s", "cannot load the vgpu core", r)
	}
}

// TestPreloadMissingFile: LD_PRELOAD naming a file that does not exist besides the real stub:
// the loader warns and ignores it, and the program runs normally.
func TestPreloadMissingFile(t *testing.T) {
	out := outDir(t)
	s := startServer(t, false)
	missing := filepath.Join(t.TempDir(), "libnothere.so")
	env := cleanEnv("VGPU_SERVER="+s.unix, "LD_PRELOAD="+missing+":"+filepath.Join(out, "libcuda.so.1"))
	r := run(t, 10*time.Second, env, filepath.Join(out, "devicequery"))
	if r.signal != 0 || r.code != 0 {
		t.Fatalf("devicequery with LD_PRELOAD=%s:libcuda.so.1: want exit 0, got %s", missing, r)
	}
	if !strings.Contains(r.stdout, "vgpu simulated device") {
		t.Errorf("devicequery did not reach the simulated device:\n%s", r)
	}
	if !strings.Contains(r.stderr, missing) {
		t.Errorf("the loader's warning about %s is missing from stderr:\n%s", missing, r)
	}
}
