package exec_test

import (
	"fmt"
	"github.com/vgpu/vgpu/internal/testout"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// outDir is build/out with the files these tests need.
func outDir(t *testing.T) string {
	return testout.Dir(t, "libvgpu-exec.so", "libcuda.so.1", "libvgpucore.so")
}

// gcc compiles testdata/<name>.c into dir, with extra flags.
func gcc(t *testing.T, dir, name string, flags ...string) string {
	t.Helper()
	out := filepath.Join(dir, name)
	cc := os.Getenv("CC")
	if cc == "" {
		cc = "gcc"
	}
	args := append([]string{"-O1", "-Wall", "-o", out, filepath.Join("testdata", name+".c")}, flags...)
	if b, err := exec.Command(cc, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", cc, args, err, b)
	}
	return out
}

type fixture struct {
	out, parent, child, foreign string
	preload                     []string // the parent's vgpu preload entries
}

func setup(t *testing.T) *fixture {
	t.Helper()
	out := outDir(t)
	dir := t.TempDir()
	f := &fixture{out: out, parent: gcc(t, dir, "parent"), child: gcc(t, dir, "child")}
	// A foreign preload library the child's own environment names.
	src := filepath.Join(dir, "foreign.c")
	if err := os.WriteFile(src, []byte("int vgpu_exec_test_foreign;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f.foreign = filepath.Join(dir, "libforeign.so")
	if b, err := exec.Command("gcc", "-shared", "-fPIC", "-o", f.foreign, src).CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, b)
	}
	f.preload = []string{filepath.Join(out, "libvgpu-exec.so"), filepath.Join(out, "libcuda.so.1")}
	return f
}

// run starts the parent preloaded with the exec shim and a vgpu stub, with the VGPU_* variables
// of parentEnv, and returns the child's environment.
func (f *fixture) run(t *testing.T, mode string, parentEnv, childEnv []string) map[string]string {
	t.Helper()
	cmd := exec.Command(f.parent, append([]string{mode, f.child}, childEnv...)...)
	cmd.Env = append([]string{"LD_PRELOAD=" + strings.Join(f.preload, ":"), "PATH=/usr/bin:/bin"}, parentEnv...)
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s: %v\n%s", mode, err, b)
	}
	env := map[string]string{}
	sawArgs := false
	for _, line := range strings.Split(string(b), "\n") {
		if line == "argc=2" {
			sawArgs = true
		}
		if kv, ok := strings.CutPrefix(line, "env "); ok {
			k, v, _ := strings.Cut(kv, "=")
			if _, dup := env[k]; dup {
				t.Errorf("%s: the child has %s twice", mode, k)
			}
			env[k] = v
		}
	}
	if !sawArgs {
		t.Fatalf("%s: the child did not run with its 2 arguments:\n%s", mode, b)
	}
	return env
}

const server = "unix:///tmp/vgpu-exec-test.sock"

var parentVars = []string{"VGPU_SERVER=" + server, "VGPU_LOG=quiet"}

// Every exec and spawn function, from a parent that hands its child an empty environment: vgpu's
// preload entries and VGPU_* variables survive, exactly once each.
func TestKeepsEnvironmentAcrossExec(t *testing.T) {
	f := setup(t)
	for _, mode := range []string{"execve", "execle", "posix_spawn", "posix_spawnp", "execv", "execvp",
		"execvpe", "execl", "execlp", "fexecve", "vfork", "fork"} {
		t.Run(mode, func(t *testing.T) {
			env := f.run(t, mode, parentVars, nil)
			if got, want := env["LD_PRELOAD"], strings.Join(f.preload, ":"); got != want {
				t.Errorf("child LD_PRELOAD = %q, want %q", got, want)
			}
			if got := env["VGPU_SERVER"]; got != server {
				t.Errorf("child VGPU_SERVER = %q, want %q", got, server)
			}
			if got := env["VGPU_LOG"]; got != "quiet" {
				t.Errorf("child VGPU_LOG = %q, want quiet", got)
			}
		})
	}
}

// With VGPU_EXEC_KEEP=0 the shim stands aside: the empty environment stays empty.
func TestKeepOff(t *testing.T) {
	f := setup(t)
	for _, mode := range []string{"execve", "execle", "posix_spawn"} {
		t.Run(mode, func(t *testing.T) {
			env := f.run(t, mode, append([]string{"VGPU_EXEC_KEEP=0"}, parentVars...), nil)
			if v, ok := env["LD_PRELOAD"]; ok {
				t.Errorf("child LD_PRELOAD = %q, want none", v)
			}
			if v, ok := env["VGPU_SERVER"]; ok {
				t.Errorf("child VGPU_SERVER = %q, want none", v)
			}
		})
	}
	// Turned off by the child's own environment only.
	env := f.run(t, "execve", parentVars, []string{"VGPU_EXEC_KEEP=0"})
	if v, ok := env["LD_PRELOAD"]; ok {
		t.Errorf("VGPU_EXEC_KEEP=0 in envp: child LD_PRELOAD = %q, want none", v)
	}
}

// The child's own LD_PRELOAD entries stay, after ours; its own VGPU_* values are not overwritten;
// nothing is added twice, also when the child names our library by another path.
func TestMergesWithChildEnvironment(t *testing.T) {
	f := setup(t)
	ours := strings.Join(f.preload, ":")
	env := f.run(t, "execve", parentVars, []string{"LD_PRELOAD=" + f.foreign, "VGPU_SERVER=tcp://10.0.0.1:7000", "OTHER=1"})
	if got, want := env["LD_PRELOAD"], ours+":"+f.foreign; got != want {
		t.Errorf("LD_PRELOAD = %q, want %q", got, want)
	}
	if got := env["VGPU_SERVER"]; got != "tcp://10.0.0.1:7000" {
		t.Errorf("VGPU_SERVER = %q: the child's own value was overwritten", got)
	}
	if env["OTHER"] != "1" || env["VGPU_LOG"] != "quiet" {
		t.Errorf("env = %v", env)
	}

	// Already complete: unchanged.
	full := []string{"LD_PRELOAD=" + ours, "VGPU_SERVER=" + server, "VGPU_LOG=quiet"}
	env = f.run(t, "posix_spawn", parentVars, full)
	if got := env["LD_PRELOAD"]; got != ours {
		t.Errorf("complete environment: LD_PRELOAD = %q, want %q", got, ours)
	}

	// The stub named through a symlink in another folder (same file name): not added again;
	// only the missing exec shim is prepended.
	alt := filepath.Join(t.TempDir(), "libcuda.so.1")
	if err := os.Symlink(filepath.Join(f.out, "libcuda.so.1"), alt); err != nil {
		t.Fatal(err)
	}
	env = f.run(t, "execve", parentVars, []string{"LD_PRELOAD=" + alt})
	if got, want := env["LD_PRELOAD"], f.preload[0]+":"+alt; got != want {
		t.Errorf("LD_PRELOAD = %q, want %q", got, want)
	}
}

// Relative preload entries are carried as absolute paths (the child may run elsewhere), and a
// foreign entry of the parent is not carried.
func TestRelativeAndForeignEntries(t *testing.T) {
	f := setup(t)
	cmd := exec.Command(f.parent, "execve", f.child)
	cmd.Dir = f.out
	cmd.Env = []string{"LD_PRELOAD=./libvgpu-exec.so " + f.foreign + ":libcuda.so.1:./libnvidia-ml.so.1", "VGPU_SERVER=" + server}
	b, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	// libcuda.so.1 as a bare name is searched by the loader, not ours to judge: not carried.
	want := "env LD_PRELOAD=" + filepath.Join(f.out, "libvgpu-exec.so") + ":" + filepath.Join(f.out, "libnvidia-ml.so.1")
	if !strings.Contains(string(b), want+"\n") {
		t.Errorf("want %q in\n%s", want, b)
	}
}

// An environment far larger than the shim's stack buffer still works (the mmap path).
func TestLargeEnvironment(t *testing.T) {
	f := setup(t)
	var big []string
	for i := range 3000 {
		big = append(big, fmt.Sprintf("FILLER_%04d=%s", i, strings.Repeat("x", 40)))
	}
	for _, mode := range []string{"execve", "posix_spawn"} {
		env := f.run(t, mode, parentVars, big)
		if env["VGPU_SERVER"] != server || env["LD_PRELOAD"] != strings.Join(f.preload, ":") || env["FILLER_2999"] == "" {
			keys := slices.Sorted(func(yield func(string) bool) {
				for k := range env {
					if !strings.HasPrefix(k, "FILLER_") && !yield(k) {
						return
					}
				}
			})
			t.Errorf("%s: large environment: VGPU_SERVER=%q LD_PRELOAD=%q, keys %v", mode, env["VGPU_SERVER"], env["LD_PRELOAD"], keys)
		}
	}
}
