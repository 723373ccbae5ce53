package doctor

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgpu/vgpu/internal/deploy"
)

// (a) The seed's first crash: a file in LD_PRELOAD that does not exist. The doctor names the path
// and says it is missing; the vgpu entry next to it is fine.
func TestPreloadMissingFile(t *testing.T) {
	out := outDir(t)
	missing := filepath.Join(t.TempDir(), "lib", "libcuda.so.1")
	rep, _ := doctorRun(t, Options{Env: []string{
		preloadOf(missing, filepath.Join(out, "libcuda.so.1")),
		"VGPU_SERVER=" + unreachable(t),
	}, Discover: "-"})
	want(t, rep, Fail, "preload "+missing, "missing", missing+" does not exist")
	want(t, rep, OK, "preload "+filepath.Join(out, "libcuda.so.1"), "vgpu stub libcuda.so.1")
	if !rep.Failed() {
		t.Error("report did not fail")
	}

	// A bare name that no search finds, separated by a space as the loader allows.
	rep, _ = doctorRun(t, Options{Env: []string{"LD_PRELOAD=libvgpu-nonexistent.so.1 " + filepath.Join(out, "libcuda.so.1")}, Discover: "-"})
	want(t, rep, Fail, "preload libvgpu-nonexistent.so.1", "missing")
}

// (b) The seed's second crash: vgpu loaded twice. The same stub from build/out and from a copy of
// the stubs and core elsewhere: one SONAME from two files is a failure. Stubs from two folders
// share one core (shims/common/stub.c opens the core only when none is loaded yet): no "second Go
// runtime"; a warning when the two cores are different builds. Two cores preloaded themselves
// are each loaded: that is a second Go runtime.
func TestShimLoadedTwice(t *testing.T) {
	out := outDir(t)
	copyDir := t.TempDir()
	for _, f := range []string{"libcuda.so.1", "libnvidia-ml.so.1", "libcudart.so.13", "libvgpucore.so"} {
		copyFile(t, filepath.Join(out, f), filepath.Join(copyDir, f))
	}
	rep, _ := doctorRun(t, Options{Env: []string{preloadOf(filepath.Join(out, "libcuda.so.1"), filepath.Join(copyDir, "libcuda.so.1"))}, Discover: "-"})
	want(t, rep, Fail, "libcuda.so.1 is preloaded twice", filepath.Join(out, "libcuda.so.1"), filepath.Join(copyDir, "libcuda.so.1"))
	none(t, rep, Fail, "second Go runtime")

	// Different SONAMEs from two folders with identical cores: one core serves both.
	rep, _ = doctorRun(t, Options{Env: []string{preloadOf(filepath.Join(out, "libcuda.so.1"), filepath.Join(copyDir, "libnvidia-ml.so.1"))}, Discover: "-"})
	want(t, rep, OK, "vgpu libraries from 2 folders", out, copyDir, "one core is loaded")
	none(t, rep, Fail, "preload")
	none(t, rep, Warn, "preload")

	// The same with a core of another build: a warning, not a failure.
	b, _ := os.ReadFile(filepath.Join(copyDir, "libvgpucore.so"))
	os.WriteFile(filepath.Join(copyDir, "libvgpucore.so"), append(b, 0), 0o755)
	rep, _ = doctorRun(t, Options{Env: []string{preloadOf(filepath.Join(out, "libcuda.so.1"), filepath.Join(copyDir, "libnvidia-ml.so.1"))}, Discover: "-"})
	want(t, rep, Warn, "vgpu libraries from 2 folders", "differ")
	none(t, rep, Fail, "preload")

	// Two cores preloaded themselves: both are loaded.
	rep, _ = doctorRun(t, Options{Env: []string{preloadOf(filepath.Join(out, "libvgpucore.so"), filepath.Join(copyDir, "libvgpucore.so"))}, Discover: "-"})
	want(t, rep, Fail, "2 copies of libvgpucore.so are preloaded", "second Go runtime")

	// One file named twice (another spelling of the same path) is harmless: a WARN, no FAIL.
	rep, _ = doctorRun(t, Options{Env: []string{preloadOf(filepath.Join(out, "libcuda.so.1"), out+"/./libcuda.so.1")}, Discover: "-"})
	want(t, rep, Warn, "listed twice")
	none(t, rep, Fail, "preload")

	// All stubs from one folder: fine.
	rep, _ = doctorRun(t, Options{Env: []string{preloadOf(filepath.Join(out, "libcuda.so.1"), filepath.Join(out, "libnvidia-ml.so.1"), filepath.Join(out, "libcudart.so.13"))}, Discover: "-"})
	none(t, rep, Fail, "preload")
}

// A stub copied without its core: every call would fail; the doctor says what to install where.
func TestStubWithoutCore(t *testing.T) {
	out := outDir(t)
	dir := t.TempDir()
	copyFile(t, filepath.Join(out, "libcuda.so.1"), filepath.Join(dir, "libcuda.so.1"))
	rep, _ := doctorRun(t, Options{Env: []string{preloadOf(filepath.Join(dir, "libcuda.so.1"))}, Discover: "-"})
	want(t, rep, Fail, "preload "+filepath.Join(dir, "libcuda.so.1"), "without libvgpucore.so", "install libvgpucore.so in "+dir)
}

// A preloaded library whose own DT_NEEDED does not resolve: the loader would refuse every program.
// Its RUNPATH ($ORIGIN) is honoured: a dependency next to it is found.
func TestPreloadNeededMissing(t *testing.T) {
	dir := t.TempDir()
	dep := cc(t, filepath.Join(dir, "libvgpudep.so"), "int vgpu_test_dep(void) { return 1; }\n", "-shared", "-Wl,-soname,libvgpudep.so")
	lib := cc(t, filepath.Join(dir, "libpre.so"), "int vgpu_test_dep(void);\nint pre(void) { return vgpu_test_dep(); }\n",
		"-shared", "-L"+dir, "-l:libvgpudep.so", "-Wl,-rpath,$ORIGIN", "-Wl,--enable-new-dtags")
	rep, _ := doctorRun(t, Options{Env: []string{preloadOf(lib)}, Discover: "-"})
	none(t, rep, Fail, "needs")
	if err := os.Remove(dep); err != nil {
		t.Fatal(err)
	}
	rep, _ = doctorRun(t, Options{Env: []string{preloadOf(lib)}, Discover: "-"})
	want(t, rep, Fail, "preload "+lib, "needs libvgpudep.so, which is not found", "RUNPATH "+dir)
}

// A file that is not a library.
func TestPreloadNotELF(t *testing.T) {
	p := filepath.Join(t.TempDir(), "libnot.so")
	if err := os.WriteFile(p, []byte("not an ELF file\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, _ := doctorRun(t, Options{Env: []string{preloadOf(p)}, Discover: "-"})
	want(t, rep, Fail, "preload "+p, "not a loadable library")
}

// Entries of /etc/ld.so.preload count too (here a test file standing in for it).
func TestLdSoPreloadFile(t *testing.T) {
	out := outDir(t)
	dir := t.TempDir()
	for _, f := range []string{"libcuda.so.1", "libvgpucore.so"} {
		copyFile(t, filepath.Join(out, f), filepath.Join(dir, f))
	}
	preloadFile := filepath.Join(t.TempDir(), "ld.so.preload")
	if err := os.WriteFile(preloadFile, []byte("# system-wide\n"+filepath.Join(dir, "libcuda.so.1")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rep, _ := doctorRun(t, Options{Env: []string{preloadOf(filepath.Join(out, "libcuda.so.1"))}, PreloadFile: preloadFile, Discover: "-"})
	want(t, rep, Fail, "libcuda.so.1 is preloaded twice")
	want(t, rep, OK, "("+preloadFile+")")
}

// (c) Discovery that finds nothing, from a stand-in vgpu-discover: the doctor says so, with the
// server's backend and CUDA_VISIBLE_DEVICES as hints.
func TestDiscoveryFindsNothing(t *testing.T) {
	addr := startServer(t)
	fake := fakeDiscover(t, "pass 1\nstep 1 cudaGetDeviceCount: ok count=0\ndiscovery: 0 device(s)\n", 1)
	rep, _ := doctorRun(t, Options{Env: []string{"VGPU_SERVER=" + addr, "CUDA_VISIBLE_DEVICES=7"}, Discover: fake})
	r := want(t, rep, Fail, "discovery", "discovery finds no GPU")
	for _, s := range []string{"backend sim", `CUDA_VISIBLE_DEVICES="7"`, "a log line from the stub"} {
		if !strings.Contains(r.Msg, s) {
			t.Errorf("the no-GPU line lacks %q: %s", s, r)
		}
	}
	if !rep.Failed() {
		t.Error("report did not fail")
	}
}

// The doctor stops at the first failing step and names it; later steps are not reported.
func TestDiscoveryStopsAtFirstFailure(t *testing.T) {
	fake := fakeDiscover(t, `pass 1
step 1 cudaGetDeviceCount: ok count=1
step 2 cuDeviceGet: ok ordinal=0 device=0
step 3 dlopen(libnvidia-ml.so.1): FAILED 0 libnvidia-ml.so.1: cannot open shared object file: No such file or directory
step 4 cudaMemGetInfo: FAILED 100 cudaErrorNoDevice
discovery: FAILED at dlopen(libnvidia-ml.so.1)
`, 1)
	rep, text := doctorRun(t, Options{Env: []string{"VGPU_SERVER=" + unreachable(t)}, Discover: fake, Verbose: true})
	want(t, rep, OK, "discovery step 2 cuDeviceGet", "ordinal=0")
	r := want(t, rep, Fail, "discovery step 3 dlopen(libnvidia-ml.so.1)", "cannot open shared object file")
	if !strings.Contains(r.Msg, "server check above failed") {
		t.Errorf("no hint about the failed server check: %s", r)
	}
	if strings.Contains(text, "step 4") {
		t.Errorf("reported steps after the first failure:\n%s", text)
	}
}

// (c, real) vgpu-discover through the real stubs against a sim server: with a CUDA_VISIBLE_DEVICES
// naming no device the doctor says discovery finds no GPU and shows the value; without it,
// everything passes.
func TestDiscoveryRealSim(t *testing.T) {
	out := outDir(t)
	discover := filepath.Join(out, "vgpu-discover")
	if _, err := os.Stat(discover); err != nil {
		t.Skip("build/out/vgpu-discover is not built yet")
	}
	addr := startServer(t)
	stubs := preloadOf(filepath.Join(out, "libcuda.so.1"), filepath.Join(out, "libcudart.so.13"), filepath.Join(out, "libnvidia-ml.so.1"))
	base := []string{stubs, "VGPU_SERVER=" + addr, "PATH=/usr/bin:/bin"}

	// Found in the folder of the preloaded stubs (no --discover).
	rep, _ := doctorRun(t, Options{Env: base})
	want(t, rep, OK, "discovery", "1 device(s) found by "+discover)
	if rep.Failed() {
		t.Error("a healthy environment failed")
	}

	const uuid = "GPU-ffffffff-0000-0000-0000-000000000000"
	rep, _ = doctorRun(t, Options{Env: append(base, "CUDA_VISIBLE_DEVICES="+uuid)})
	want(t, rep, Fail, "discovery", "discovery finds no GPU", `CUDA_VISIBLE_DEVICES="`+uuid+`"`, "backend sim")
}

// Only the driver and NVML preloaded (no LD_LIBRARY_PATH): vgpu-discover still starts, finding
// libcudart.so.13 next to itself (RUNPATH $ORIGIN), and discovery passes.
func TestDiscoveryDriverAndNVMLOnly(t *testing.T) {
	out := outDir(t)
	discover := filepath.Join(out, "vgpu-discover")
	addr := startServer(t)
	rep, _ := doctorRun(t, Options{Env: []string{
		preloadOf(filepath.Join(out, "libcuda.so.1"), filepath.Join(out, "libnvidia-ml.so.1")),
		"VGPU_SERVER=" + addr, "PATH=/usr/bin:/bin",
	}})
	want(t, rep, OK, "discovery", "1 device(s) found by "+discover)
	if rep.Failed() {
		t.Error("a healthy environment failed")
	}
}

// A libcuda.so.1 that is not vgpu's: the advice is a preload (`vgpu enable ollama`, `vgpu run`),
// never LD_LIBRARY_PATH, which loses to Ollama's bundled copies.
func TestAdviceIsPreload(t *testing.T) {
	dir := t.TempDir()
	cc(t, filepath.Join(dir, "libcuda.so.1"), "int cuInit(unsigned f) { return 0; }\n", "-shared", "-Wl,-soname,libcuda.so.1")
	rep, _ := doctorRun(t, Options{Env: []string{"LD_LIBRARY_PATH=" + dir}, Discover: "-"})
	r := want(t, rep, Warn, "library libcuda.so.1", "not vgpu's", "vgpu enable ollama", "vgpu run")
	if strings.Contains(r.Msg, "first on LD_LIBRARY_PATH") {
		t.Errorf("advises LD_LIBRARY_PATH: %s", r)
	}
}

// The installed layout (the vgpu-client package's folder, in a scratch root): complete is ok, a
// missing core or link fails; vgpu-discover is found there; an Ollama drop-in naming a file that
// does not exist fails.
func TestInstalledLayout(t *testing.T) {
	out := outDir(t)
	root := t.TempDir()
	lib := filepath.Join(root, deploy.LibDirs()[0])
	os.MkdirAll(lib, 0o755)
	for _, f := range append(append([]string{deploy.CoreName}, deploy.Stubs...), deploy.Extras...) {
		copyFile(t, filepath.Join(out, f), filepath.Join(lib, f))
	}
	for l, target := range deploy.Links {
		os.Symlink(target, filepath.Join(lib, l))
	}
	addr := startServer(t)
	env := []string{"VGPU_SERVER=" + addr, "PATH=/usr/bin:/bin",
		preloadOf(filepath.Join(lib, "libcuda.so.1"), filepath.Join(lib, "libnvidia-ml.so.1"))}
	rep, _ := doctorRun(t, Options{Env: env, Root: root})
	want(t, rep, OK, "install "+lib, "complete")
	want(t, rep, OK, "discovery", "1 device(s) found by "+filepath.Join(lib, "vgpu-discover"))
	if rep.Failed() {
		t.Error("a complete install failed")
	}

	// Found in the installed folder with nothing preloaded (it finds the stubs next to itself).
	rep, _ = doctorRun(t, Options{Env: []string{"VGPU_SERVER=" + addr, "PATH=/usr/bin:/bin"}, Root: root})
	want(t, rep, OK, "discovery", "1 device(s) found by "+filepath.Join(lib, "vgpu-discover"))

	drop := filepath.Join(root, deploy.OllamaDropIn)
	os.MkdirAll(filepath.Dir(drop), 0o755)
	os.WriteFile(drop, []byte(deploy.OllamaDropInText(deploy.OllamaOptions{LibDir: "/nowhere"})), 0o644)
	os.Remove(filepath.Join(lib, deploy.CoreName))
	os.Remove(filepath.Join(lib, "libcuda.so"))
	rep, _ = doctorRun(t, Options{Env: env, Root: root, Discover: "-"})
	want(t, rep, Fail, "install "+lib, "lacks libvgpucore.so", "libcuda.so -> libcuda.so.1")
	want(t, rep, Fail, "ollama", "/nowhere/libcuda.so.1", "does not exist")
}

// The vgpu libraries reached through LD_LIBRARY_PATH (Ollama's way) and not at all.
func TestLibraryPath(t *testing.T) {
	out := outDir(t)
	rep, _ := doctorRun(t, Options{Env: []string{"LD_LIBRARY_PATH=" + out}, Discover: "-"})
	want(t, rep, OK, "library libcuda.so.1", filepath.Join(out, "libcuda.so.1"), "LD_LIBRARY_PATH", "vgpu's")
	want(t, rep, OK, "library libcudart.so.13", "vgpu's")
}

// (d) A consumer linked against a libcudart.so.13 that has a function vgpu's stub lacks: the
// doctor names the missing symbol with its version, as the loader's RTLD_NOW would fail on it.
// The real loader is asked too, so the emulation is checked against glibc.
func TestConsumerMissingSymbol(t *testing.T) {
	out := outDir(t)
	dir := t.TempDir()
	fakeDir := filepath.Join(dir, "fake")
	os.Mkdir(fakeDir, 0o755)
	mapFile := filepath.Join(dir, "cudart.map")
	os.WriteFile(mapFile, []byte("libcudart.so.13 { global: cudaGetDeviceCount; cudaMadeUpFunction; local: *; };\n"), 0o644)
	cc(t, filepath.Join(fakeDir, "libcudart.so.13"), "int cudaGetDeviceCount(int *n) { *n = 0; return 0; }\nint cudaMadeUpFunction(void) { return 0; }\n",
		"-shared", "-Wl,-soname,libcudart.so.13", "-Wl,--version-script="+mapFile)
	mapCuda := filepath.Join(dir, "cuda.map")
	os.WriteFile(mapCuda, []byte("{ global: cuInit; cuMadeUpDriverCall; local: *; };\n"), 0o644)
	cc(t, filepath.Join(fakeDir, "libcuda.so.1"), "int cuInit(unsigned f) { return 0; }\nint cuMadeUpDriverCall(void) { return 0; }\n",
		"-shared", "-Wl,-soname,libcuda.so.1", "-Wl,--version-script="+mapCuda)

	consumer := cc(t, filepath.Join(dir, "libconsumer.so"), `
int cudaGetDeviceCount(int *);
int cudaMadeUpFunction(void);
int cuInit(unsigned);
int cuMadeUpDriverCall(void);
int consume(void) { int n; cudaGetDeviceCount(&n); cuInit(0); return cudaMadeUpFunction() + cuMadeUpDriverCall() + n; }
`, "-shared", "-L"+fakeDir, "-l:libcudart.so.13", "-l:libcuda.so.1")

	env := []string{"LD_LIBRARY_PATH=" + out}
	rep, _ := doctorRun(t, Options{Env: env, Consumers: []string{consumer}, Discover: "-"})
	want(t, rep, OK, "consumer "+consumer, "libcudart.so.13 -> "+filepath.Join(out, "libcudart.so.13"), "vgpu's")
	r := want(t, rep, Fail, "consumer "+consumer, "libcudart.so.13", "lacks 1 of the 2 symbols", "cudaMadeUpFunction@libcudart.so.13")
	if strings.Contains(r.Msg, "cudaGetDeviceCount") {
		t.Errorf("names a symbol the stub has: %s", r)
	}
	want(t, rep, Fail, "consumer "+consumer, "libcuda.so.1", "cuMadeUpDriverCall")

	// The loader agrees: dlopen(RTLD_NOW) of the consumer fails on that symbol.
	harness := cc(t, filepath.Join(dir, "dlopen"), `
#include <dlfcn.h>
#include <stdio.h>
int main(int argc, char **argv) {
	if (!dlopen(argv[1], RTLD_NOW | RTLD_LOCAL)) { printf("%s\n", dlerror()); return 1; }
	printf("loaded\n");
	return 0;
}
`, "-ldl")
	cmd := exec.Command(harness, consumer)
	cmd.Env = env
	b, _ := cmd.CombinedOutput()
	if !strings.Contains(string(b), "undefined symbol: cudaMadeUpFunction, version libcudart.so.13") &&
		!strings.Contains(string(b), "undefined symbol: cuMadeUpDriverCall") {
		t.Errorf("the real loader did not fail on the missing symbol: %s", b)
	}

	// Preloaded instead of LD_LIBRARY_PATH: the same verdict (preloads are looked at first).
	rep, _ = doctorRun(t, Options{Env: []string{preloadOf(filepath.Join(out, "libcudart.so.13"), filepath.Join(out, "libcuda.so.1"))}, Consumers: []string{consumer}, Discover: "-"})
	want(t, rep, Fail, "consumer "+consumer, "cudaMadeUpFunction@libcudart.so.13")

	// With the fake libraries first on the path the consumer is not vgpu's business: a WARN.
	rep, _ = doctorRun(t, Options{Env: []string{"LD_LIBRARY_PATH=" + fakeDir + ":" + out}, Consumers: []string{consumer}, Discover: "-"})
	want(t, rep, Warn, "consumer "+consumer, "libcudart.so.13 -> "+filepath.Join(fakeDir, "libcudart.so.13"), "not vgpu's")
	none(t, rep, Fail, "consumer")
}

// A consumer that needs only what the stubs export passes, and one whose dependency is nowhere
// fails naming it.
func TestConsumerOK(t *testing.T) {
	out := outDir(t)
	dir := t.TempDir()
	consumer := cc(t, filepath.Join(dir, "libgood.so"), `
int cudaGetDeviceCount(int *);
int cuInit(unsigned);
int consume(void) { int n; cuInit(0); return cudaGetDeviceCount(&n); }
`, "-shared", "-L"+out, "-l:libcudart.so.13", "-l:libcuda.so.1")
	rep, _ := doctorRun(t, Options{Env: []string{"LD_LIBRARY_PATH=" + out}, Consumers: []string{consumer}, Discover: "-"})
	want(t, rep, OK, "consumer "+consumer, "all 1 symbols imported from libcudart.so.13")
	want(t, rep, OK, "consumer "+consumer, "all 1 symbols imported from libcuda.so.1")
	none(t, rep, Fail, "consumer")

	rep, _ = doctorRun(t, Options{Env: nil2empty(), Consumers: []string{consumer}, Discover: "-"})
	want(t, rep, Fail, "consumer "+consumer, "needs libcudart.so.13, which is not found")
}

func nil2empty() []string { return []string{"PATH=/usr/bin:/bin"} }

// (e) No server: the doctor names the address and where it came from.
func TestServerUnreachable(t *testing.T) {
	addr := unreachable(t)
	rep, _ := doctorRun(t, Options{Env: []string{"VGPU_SERVER=" + addr}, Discover: "-"})
	want(t, rep, Fail, "server", "cannot reach vgpu-server at "+addr, "from env VGPU_SERVER")

	conf := filepath.Join(t.TempDir(), "vgpu.conf")
	os.WriteFile(conf, []byte("server = "+addr+"\n"), 0o644)
	rep, _ = doctorRun(t, Options{Env: []string{"VGPU_CONFIG=" + conf}, Discover: "-"})
	want(t, rep, Fail, "server", addr, conf+" (VGPU_CONFIG)")

	rep, _ = doctorRun(t, Options{Env: []string{"VGPU_SERVER=http://nowhere"}, Discover: "-"})
	want(t, rep, Fail, "server", "env VGPU_SERVER", "unknown scheme")
}

// A reachable server: handshake, backend and round trip on one line.
func TestServerReachable(t *testing.T) {
	addr := startServer(t)
	rep, _ := doctorRun(t, Options{Env: []string{"VGPU_SERVER=" + addr}, Discover: "-"})
	want(t, rep, Warn, "server", "at "+addr, "from env VGPU_SERVER", "backend sim", "handshake")
	if strings.HasPrefix(addr, "unix:") {
		want(t, rep, OK, "shared memory", "sealed memfds work here")
	}
}

func TestParseDiscovery(t *testing.T) {
	d := ParseDiscovery(`pass 1
step 1 cudaGetDeviceCount: ok count=1
step 7 compute capability: FAILED 0 not the sm_90 this runner was built for
pass 2 CUDA_VISIBLE_DEVICES=GPU-1
step 1 cudaGetDeviceCount: FAILED 100 cudaErrorNoDevice
discovery: FAILED at cudaGetDeviceCount
discovery: 2 device(s)
`)
	if len(d.Steps) != 3 || d.Devices != 2 || d.Failed != "" {
		t.Fatalf("%+v", d)
	}
	s := d.Steps[1]
	if s.OK || s.N != 7 || s.Call != "compute capability" || s.Code != 0 || s.Name != "not the sm_90 this runner was built for" || s.Pass != 1 {
		t.Errorf("%+v", s)
	}
	s = d.Steps[2]
	if s.Pass != 2 || s.Code != 100 || s.Name != "cudaErrorNoDevice" {
		t.Errorf("%+v", s)
	}
	if s := d.Steps[0]; !s.OK || s.Detail != "count=1" {
		t.Errorf("%+v", s)
	}
	if d := ParseDiscovery("discovery: FAILED at cuInit\n"); d.Failed != "cuInit" || d.Devices != -1 {
		t.Errorf("%+v", d)
	}
}
