package integration

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// preloadSets is the stub-preload matrix: every non-empty subset of the stubs, in every order
// for subsets of one and two, in one order for three and four.
func preloadSets() [][]string {
	var sets [][]string
	for _, a := range stubNames {
		sets = append(sets, []string{a})
	}
	for _, a := range stubNames {
		for _, b := range stubNames {
			if a != b {
				sets = append(sets, []string{a, b})
			}
		}
	}
	for i := range stubNames { // each 3-subset, once
		var s []string
		for j, n := range stubNames {
			if j != i {
				s = append(s, n)
			}
		}
		sets = append(sets, s)
	}
	return append(sets, append([]string(nil), stubNames...))
}

func buildHostprog(t *testing.T) string {
	t.Helper()
	// No CUDA library on the link line: the program finds only what is preloaded.
	return compileC(t, t.TempDir(), "hostprog", []string{filepath.Join("testdata", "hostprog.c")}, "-ldl", "-lpthread")
}

// hostprogOK runs hostprog with the stubs at paths preloaded (in that order) and checks its
// report. stubDir is where it dlopens the stubs not preloaded, in a forked child.
func hostprogOK(t *testing.T, s *server, exe, stubDir string, paths []string, args ...string) *result {
	t.Helper()
	r := runHostprog(t, s, exe, stubDir, paths, args...)
	checkHostprog(t, s, r, paths, args...)
	return r
}

// runHostprog runs hostprog under a 10 s limit (it needs well under one).
func runHostprog(t *testing.T, s *server, exe, stubDir string, paths []string, args ...string) *result {
	t.Helper()
	env := cleanEnv("VGPU_SERVER="+s.unix, "LD_PRELOAD="+strings.Join(paths, ":"))
	return run(t, 10*time.Second, env, exe, append([]string{stubDir}, args...)...)
}

// checkHostprog checks the report of a run of hostprog with paths preloaded.
func checkHostprog(t *testing.T, s *server, r *result, paths []string, args ...string) {
	t.Helper()
	if r.signal != 0 || r.code != 0 || !strings.Contains(r.stdout, "\nPASS\n") {
		t.Fatalf("LD_PRELOAD=%s hostprog %s: want exit 0 and PASS, got %s", strings.Join(paths, ":"), strings.Join(args, " "), r)
	}
	preloaded := map[string]bool{}
	for _, p := range paths {
		preloaded[filepath.Base(p)] = true
	}
	var want []string
	for _, n := range stubNames { // hostprog reports them in this order
		if preloaded[n] {
			want = append(want, n)
		}
	}
	lines := []string{
		"SA_ONSTACK SIGUSR1: set",
		"SA_ONSTACK SIGUSR1 after init: set",
		"SA_ONSTACK SIGUSR2 by signal() after init: set",
		"preloaded: " + strings.Join(want, " "),
		"core files before calls: 0",
		"core files after calls: 1",
		"objects exporting vgpu_call: 1",
		"raise SIGUSR1: 5/5 handled",
		"SIGUSR1 to other threads: 20/20 handled",
		"SIGUSR2 to other threads: 20/20 handled",
		"fork without exec: child exit 0",
		"fork+exec /bin/true: child exit 0",
	}
	for _, n := range stubNames {
		if !preloaded[n] {
			lines = append(lines, n+": not preloaded", "fork child: "+n+" (dlopened) count=")
		} else {
			lines = append(lines, "fork child: "+n+" (preloaded) count=")
		}
	}
	for _, l := range lines {
		if !strings.Contains(r.stdout, l) {
			t.Errorf("LD_PRELOAD=%s: output lacks %q\n%s", strings.Join(paths, ":"), l, r)
		}
	}
	// Every preloaded library answered with one device, and each call succeeded.
	for n := range preloaded {
		re := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(n) + `: (.*)$`)
		m := re.FindStringSubmatch(r.stdout)
		if m == nil {
			t.Errorf("no report line of %s\n%s", n, r)
			continue
		}
		for _, kv := range strings.Fields(m[1]) {
			k, v, _ := strings.Cut(kv, "=")
			if (k == "count" && v != "1") || (k != "count" && k != "version" && v != "0") {
				t.Errorf("%s: %s (want results 0 and count 1)", n, m[1])
				break
			}
		}
	}
	// All the stubs of the process shared one connection: one session (docs/ARCHITECTURE.md, decision 2).
	if n := s.sessionsOf(t, r.pid); n != 1 {
		t.Errorf("LD_PRELOAD=%s: the server saw %d sessions from pid %d, want 1\n%s", strings.Join(paths, ":"), n, r.pid, s.log())
	}
}

// TestPreloadMatrix: a program linked against no CUDA library, with every combination of stubs
// preloaded, finds them, calls each, holds exactly one vgpu core (one Go runtime) afterwards and
// none before, gets SA_ONSTACK added to its signal handlers and has them run on the core's
// threads without a crash, gets the not-initialised error at once in a child forked after
// initialisation, and can fork+exec.
func TestPreloadMatrix(t *testing.T) {
	out := outDir(t)
	exe := buildHostprog(t)
	s := startServer(t, false)
	for _, set := range preloadSets() {
		var paths []string
		for _, n := range set {
			paths = append(paths, filepath.Join(out, n))
		}
		var hung bool
		t.Run(strings.Join(set, "+"), func(t *testing.T) {
			r := runHostprog(t, s, exe, out, paths)
			hung = r.timedOut
			checkHostprog(t, s, r, paths)
		})
		if hung { // the rest would hang as well: keep the package's time bounded
			t.Fatalf("stopping the matrix after a hung run")
		}
	}
	// All those sessions ended with their processes.
	s.waitWorkers(t, 0, 5*time.Second)
	if !s.alive() {
		t.Fatalf("vgpu-server exited: %v", s.waitErr)
	}
}

// TestPreloadForkFirst: a child forked before the process's first CUDA call has no runtime to
// inherit: it initialises vgpu itself and works, while the parent still holds no core.
func TestPreloadForkFirst(t *testing.T) {
	out := outDir(t)
	exe := buildHostprog(t)
	s := startServer(t, false)
	for _, set := range [][]string{{"libcuda.so.1"}, {"libcudart.so.13", "libnvidia-ml.so.1"}, stubNames} {
		var paths []string
		for _, n := range set {
			paths = append(paths, filepath.Join(out, n))
		}
		t.Run(strings.Join(set, "+"), func(t *testing.T) {
			r := hostprogOK(t, s, exe, out, paths, "fork-first")
			for _, l := range []string{"fork-first child: core files 1", "fork-first: child exit 0"} {
				if !strings.Contains(r.stdout, l) {
					t.Errorf("output lacks %q\n%s", l, r)
				}
			}
		})
	}
}

// TestPreloadTwoFolders: stubs preloaded from two different folders, each with a core beside
// it, still share one core: the second stub finds the core already loaded by its SONAME.
func TestPreloadTwoFolders(t *testing.T) {
	out := outDir(t)
	exe := buildHostprog(t)
	s := startServer(t, false)
	a, b := t.TempDir(), t.TempDir()
	for dir, files := range map[string][]string{a: {"libcuda.so.1", "libcudart.so.12", coreName}, b: {"libnvidia-ml.so.1", "libcudart.so.13", coreName}} {
		for _, f := range files {
			copyFile(t, filepath.Join(out, f), filepath.Join(dir, f))
		}
	}
	for _, paths := range [][]string{
		{filepath.Join(a, "libcuda.so.1"), filepath.Join(b, "libnvidia-ml.so.1")},
		{filepath.Join(b, "libcudart.so.13"), filepath.Join(a, "libcudart.so.12"), filepath.Join(b, "libnvidia-ml.so.1"), filepath.Join(a, "libcuda.so.1")},
	} {
		t.Run(fmt.Sprint(len(paths)), func(t *testing.T) { hostprogOK(t, s, exe, out, paths) })
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// buildGohost builds testdata/gohost (a cgo program) with its own go.mod in a temporary folder.
func buildGohost(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		if root := os.Getenv("GOROOT"); root != "" {
			goTool = filepath.Join(root, "bin", "go")
		} else {
			t.Fatalf("no go command to build the Go host: %v", err)
		}
	}
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join("testdata", "gohost", "main.go"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module gohost\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "gohost")
	env := cleanEnv("GOTOOLCHAIN=local", "GOFLAGS=-mod=mod", "GOWORK=off", "CGO_ENABLED=1", "GO111MODULE=on")
	if r := run(t, 120*time.Second, env, goTool, "-C", dir, "build", "-o", exe, "."); r.code != 0 {
		t.Fatalf("go build gohost: %s", r)
	}
	return exe
}

// TestGoHost: a Go program with its own runtime, signal handlers (os/signal and C sigaction),
// goroutines calling into the stubs, garbage collection and exec'd children survives a second Go
// runtime (the core) in its process, with the stubs preloaded and with them only dlopened.
func TestGoHost(t *testing.T) {
	out := outDir(t)
	exe := buildGohost(t)
	s := startServer(t, false)
	for _, c := range []struct {
		mode, preload string
	}{
		{"preload", filepath.Join(out, "libcuda.so.1") + ":" + filepath.Join(out, "libnvidia-ml.so.1")},
		{"dlopen", ""},
	} {
		t.Run(c.mode, func(t *testing.T) {
			env := cleanEnv("VGPU_SERVER=" + s.unix)
			if c.preload != "" {
				env = append(env, "LD_PRELOAD="+c.preload)
			}
			r := run(t, 20*time.Second, env, exe, "-stubs", out, "-mode", c.mode)
			if r.signal != 0 || r.code != 0 || !strings.Contains(r.stdout, "\nPASS\n") {
				t.Fatalf("gohost -mode %s: want exit 0 and PASS, got %s", c.mode, r)
			}
			for _, l := range []string{"C handler SA_ONSTACK: set", "vgpu cores: 1", "cuDeviceGetCount: 1 device(s)"} {
				if !strings.Contains(r.stdout, l) {
					t.Errorf("output lacks %q\n%s", l, r)
				}
			}
		})
	}
}
