package main

import (
	"bytes"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	oci "github.com/opencontainers/runtime-spec/specs-go"
	"tags.cncf.io/container-device-interface/pkg/cdi"

	"github.com/vgpu/vgpu/internal/deploy"
)

// outDir is build/out ($VGPU_OUT, which make test sets).
func outDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("VGPU_OUT")
	if dir == "" {
		dir = filepath.Join("..", "build", "out")
	}
	dir, _ = filepath.Abs(dir)
	for _, f := range []string{"libvgpucore.so", "vgpu", "vgpu-server", "vgpu-discover", "devicequery", "libvgpu-exec.so"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%v: run make build first", err)
		}
	}
	return dir
}

// testVersion is the Makefile's VERSION (make test passes it), else a tagged-looking one.
func testVersion() string {
	if v := os.Getenv("VGPU_VERSION"); v != "" {
		return v
	}
	return "v1.2.3-4-gabcdef0"
}

var (
	buildOnce sync.Once
	built     map[string]string // "vgpu-client.deb" -> path
	buildErr  error
	buildDir  string
)

// packages builds every package once per test run.
func packages(t *testing.T) map[string]string {
	t.Helper()
	out := outDir(t)
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "vgpu-pkg-")
		if buildErr != nil {
			return
		}
		here, _ := os.Getwd()
		var paths []string
		paths, buildErr = Build(Options{Out: out, Files: here, Dest: buildDir, Version: testVersion(), Arch: runtime.GOARCH})
		built = map[string]string{}
		for _, p := range paths {
			base := filepath.Base(p)
			name := "vgpu-client"
			if strings.HasPrefix(base, "vgpu-server") {
				name = "vgpu-server"
			}
			built[name+filepath.Ext(p)] = p
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return built
}

func TestMain(m *testing.M) {
	rc := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(rc)
}

func TestPkgVersion(t *testing.T) {
	for _, c := range []struct{ in, v, pre, meta string }{
		{"v1.2.3", "1.2.3", "", ""},
		{"v1.2.3-4-gabcdef0", "1.2.3", "", "4.gabcdef0"},
		{"v1.2.3-4-gabcdef0-dirty", "1.2.3", "", "4.gabcdef0.dirty"},
		{"v1.2.3-rc1", "1.2.3", "rc1", ""},
		{"v1.2.3-rc1-2-g0123abc", "1.2.3", "rc1", "2.g0123abc"},
		{"6511508", "0.0.0", "g6511508", ""},
		{"6511508-dirty", "0.0.0", "g6511508.dirty", ""},
		{"dev", "0.0.0", "dev", ""},
		{"", "0.0.0", "dev", ""},
	} {
		v, pre, meta := PkgVersion(c.in)
		if v != c.v || pre != c.pre || meta != c.meta {
			t.Errorf("PkgVersion(%q) = %q, %q, %q; want %q, %q, %q", c.in, v, pre, meta, c.v, c.pre, c.meta)
		}
	}
}

// wantFiles is every file (not folder) of a package of a format, with its mode; "->" marks a
// symlink's target; "conf" a conffile.
func wantFiles(name, format string) map[string]string {
	lib := LibDir(format, runtime.GOARCH)
	w := map[string]string{}
	if format == "deb" {
		w["/usr/share/doc/"+name+"/copyright"] = "0644"
	} else {
		w["/usr/share/licenses/"+name+"/LICENSE"] = "0644"
	}
	switch name {
	case "vgpu-client":
		for _, f := range append([]string{"libvgpucore.so", "libvgpu-exec.so"}, deploy.Stubs...) {
			w[lib+"/"+f] = "0644"
		}
		w[lib+"/vgpu-discover"] = "0755"
		for l, target := range deploy.Links {
			w[lib+"/"+l] = "-> " + target
		}
		w["/usr/bin/vgpu"] = "0755"
		w["/etc/vgpu/vgpu.conf"] = "0644 conf"
	case "vgpu-server":
		w["/usr/bin/vgpu-server"] = "0755"
		w["/usr/lib/systemd/system/vgpu-server.service"] = "0644"
		w["/usr/lib/sysusers.d/vgpu.conf"] = "0644"
		w["/etc/vgpu/server.conf"] = "0644 conf"
	}
	return w
}

func describe(e *entry) string {
	if e.Mode&fs.ModeSymlink != 0 {
		return "-> " + e.Link
	}
	s := fmt.Sprintf("%04o", e.Mode.Perm())
	if e.Config {
		s += " conf"
	}
	return s
}

// readPkg reads a built package with the Go readers.
func readPkg(t *testing.T, path string) *pkgContents {
	t.Helper()
	read := readDeb
	if strings.HasSuffix(path, ".rpm") {
		read = readRPM
	}
	pc, err := read(path)
	if err != nil {
		t.Fatal(err)
	}
	return pc
}

// TestPackageContents: each package holds exactly the expected files with their modes, the
// conffiles, and (the server) its maintainer scripts, which sh accepts.
func TestPackageContents(t *testing.T) {
	pkgs := packages(t)
	for _, format := range Formats {
		for _, name := range []string{"vgpu-client", "vgpu-server"} {
			t.Run(name+"."+format, func(t *testing.T) {
				path := pkgs[name+"."+format]
				v, pre, _ := PkgVersion(testVersion())
				if !strings.Contains(filepath.Base(path), v+"~"+pre) && !strings.Contains(filepath.Base(path), v) {
					t.Errorf("%s does not carry the version %s", path, testVersion())
				}
				pc := readPkg(t, path)
				got := map[string]string{}
				for p, e := range pc.Files {
					if !e.Mode.IsDir() {
						got[p] = describe(e)
					}
				}
				want := wantFiles(name, format)
				for p, w := range want {
					if got[p] != w {
						t.Errorf("%s: %q, want %q", p, got[p], w)
					}
				}
				for p, g := range got {
					if _, ok := want[p]; !ok {
						t.Errorf("unexpected file %s (%s)", p, g)
					}
				}
				wantScripts := []string{}
				if name == "vgpu-server" {
					wantScripts = []string{"postinst", "postrm", "prerm"}
				}
				gotScripts := keys(pc.Scripts)
				slices.Sort(gotScripts)
				if fmt.Sprint(gotScripts) != fmt.Sprint(wantScripts) {
					t.Errorf("scripts %v, want %v", gotScripts, wantScripts)
				}
				for s, text := range pc.Scripts {
					if b, err := exec.Command("sh", "-n", "-c", text).CombinedOutput(); err != nil {
						t.Errorf("%s: sh -n: %v %s", s, err, b)
					}
				}
				if s := pc.Scripts["postinst"]; name == "vgpu-server" && !(strings.Contains(s, "systemd-sysusers") && strings.Contains(s, "groupadd --system vgpu") && strings.Contains(s, "useradd --system")) {
					t.Errorf("postinst does not create the user and group vgpu:\n%s", s)
				}
			})
		}
	}
}

// install unpacks a package into root: with dpkg-deb / rpm2cpio+cpio where present (as an
// administrator would see it), else with the Go readers.
func install(t *testing.T, path, root string) {
	t.Helper()
	if strings.HasSuffix(path, ".deb") {
		if tool, err := exec.LookPath("dpkg-deb"); err == nil {
			if b, err := exec.Command(tool, "-x", path, root).CombinedOutput(); err != nil {
				t.Fatalf("dpkg-deb -x %s: %v %s", path, err, b)
			}
			return
		}
		t.Logf("dpkg-deb not found: unpacking %s with the Go reader", filepath.Base(path))
	} else {
		r2c, err1 := exec.LookPath("rpm2cpio")
		cpio, err2 := exec.LookPath("cpio")
		if err1 == nil && err2 == nil {
			cmd := exec.Command("sh", "-c", `"$0" "$1" | (cd "$2" && "$3" -idm --quiet)`, r2c, path, root, cpio)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("rpm2cpio %s | cpio: %v %s", path, err, b)
			}
			return
		}
		t.Logf("rpm2cpio or cpio not found: unpacking %s with the Go reader", filepath.Base(path))
	}
	if err := extract(readPkg(t, path), root); err != nil {
		t.Fatal(err)
	}
}

// execStart is the unit's ExecStart command line, split on spaces.
func execStart(t *testing.T, unit string) []string {
	t.Helper()
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "ExecStart="); ok {
			if args != nil {
				t.Fatalf("%s: two ExecStart lines", unit)
			}
			args = strings.Fields(v)
		}
	}
	if len(args) == 0 {
		t.Fatalf("%s: no ExecStart", unit)
	}
	return args
}

// TestInstalled: both packages of each format installed into a scratch root. vgpu-server runs
// from the unit's own ExecStart line (paths moved into the root); devicequery runs with the
// installed stubs preloaded, directly and through the installed `vgpu run`; the installed `vgpu
// doctor` passes with only libcuda and libnvidia-ml preloaded; the versions agree; and
// systemd-analyze verifies the installed unit where it exists.
func TestInstalled(t *testing.T) {
	pkgs := packages(t)
	out := outDir(t)
	for _, format := range Formats {
		t.Run(format, func(t *testing.T) {
			root, err := os.MkdirTemp("", "vp") // short: the socket path must fit 107 bytes
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(root) })
			install(t, pkgs["vgpu-client."+format], root)
			install(t, pkgs["vgpu-server."+format], root)
			lib := filepath.Join(root, LibDir(format, runtime.GOARCH))
			unit := filepath.Join(root, UnitPath)

			// The server, as systemd would start it (RuntimeDirectory=vgpu is /run/vgpu).
			args := execStart(t, unit)
			sock := filepath.Join(root, "run/vgpu/vgpu.sock")
			for i, a := range args {
				a = strings.Replace(a, "unix:///run/vgpu/", "unix://"+root+"/run/vgpu/", 1)
				if strings.HasPrefix(a, "/") {
					a = filepath.Join(root, a)
				}
				args[i] = a
			}
			// The unit names the config file; its listen line is the packaged socket, moved into
			// the root for this test.
			conf := filepath.Join(root, "etc/vgpu/server.conf")
			if !slices.Contains(args, conf) {
				t.Fatalf("ExecStart %q does not read /etc/vgpu/server.conf", args)
			}
			b, err := os.ReadFile(conf)
			if err != nil {
				t.Fatal(err)
			}
			const listen = "\nlisten = unix:///run/vgpu/vgpu.sock\n"
			if !strings.Contains(string(b), listen) {
				t.Fatalf("%s does not listen on /run/vgpu/vgpu.sock:\n%s", conf, b)
			}
			b = []byte(strings.Replace(string(b), listen, "\nlisten = unix://"+sock+"\n", 1))
			if err := os.WriteFile(conf, b, 0o644); err != nil {
				t.Fatal(err)
			}
			os.MkdirAll(filepath.Dir(sock), 0o750)
			startServer(t, args, sock)
			addr := "unix://" + sock

			env := []string{"PATH=/usr/bin:/bin", "VGPU_SERVER=" + addr, "VGPU_CONFIG=" + filepath.Join(root, deploy.ConfigFile)}
			dq := filepath.Join(out, "devicequery")
			r := runCmd(t, append(env, "LD_PRELOAD="+deploy.PreloadList(lib)), dq)
			if r.err != nil || !strings.Contains(r.stdout, "memory round trip (1 MiB H2D, memset, D2D, D2H): identical") {
				t.Errorf("devicequery with the installed stubs preloaded: %v\n%s%s", r.err, r.stdout, r.stderr)
			}
			vgpu := filepath.Join(root, "usr/bin/vgpu")
			r = runCmd(t, env, vgpu, "run", "--lib", lib, "--", dq)
			if r.err != nil || !strings.Contains(r.stdout, "identical") {
				t.Errorf("installed vgpu run -- devicequery: %v\n%s%s", r.err, r.stdout, r.stderr)
			}
			r = runCmd(t, append(env, "LD_PRELOAD="+filepath.Join(lib, "libcuda.so.1")+":"+filepath.Join(lib, "libnvidia-ml.so.1")), vgpu, "doctor")
			if r.err != nil || !strings.Contains(r.stdout, "1 device(s) found by "+filepath.Join(lib, "vgpu-discover")) {
				t.Errorf("installed vgpu doctor with libcuda and libnvidia-ml preloaded: %v\n%s%s", r.err, r.stdout, r.stderr)
			}

			cliV := runCmd(t, env, vgpu, "--version").stdout
			srvV := runCmd(t, env, filepath.Join(root, "usr/bin/vgpu-server"), "--version").stdout
			if v := os.Getenv("VGPU_VERSION"); v != "" && (!strings.HasPrefix(cliV, "vgpu "+v+",") || !strings.HasPrefix(srvV, "vgpu-server "+v+",")) {
				t.Errorf("installed versions %q, %q; want %s", cliV, srvV, v)
			}

			verifyUnit(t, root)
		})
	}
}

// verifyUnit runs systemd-analyze verify on the installed unit (skipped, with the reason, where
// it is missing); the only complaint allowed is the scratch root's lack of systemd's own units.
func verifyUnit(t *testing.T, root string) {
	t.Helper()
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze not found: the unit is not verified")
		return
	}
	b, _ := exec.Command(sa, "verify", "--root="+root, "vgpu-server.service").CombinedOutput()
	for _, line := range strings.Split(string(b), "\n") {
		if line != "" && !strings.Contains(line, "sysinit.target not found") {
			t.Errorf("systemd-analyze verify vgpu-server.service: %s", line)
		}
	}
}

type cmdResult struct {
	stdout, stderr string
	err            error
}

func runCmd(t *testing.T, env []string, name string, args ...string) cmdResult {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = env
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	cmd.WaitDelay = time.Second
	done := make(chan error, 1)
	if err := cmd.Start(); err != nil {
		return cmdResult{err: err}
	}
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return cmdResult{o.String(), e.String(), err}
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-done
		return cmdResult{o.String(), e.String(), fmt.Errorf("%s: no exit in 60 s", name)}
	}
}

// startServer starts args (a vgpu-server command line) in its own process group until the test
// ends and waits for its socket.
func startServer(t *testing.T, args []string, sock string) {
	t.Helper()
	var log bytes.Buffer
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %v: %v", args, err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		if t.Failed() {
			t.Logf("vgpu-server log:\n%s", log.String())
		}
	})
	for deadline := time.Now().Add(15 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%v does not accept on %s:\n%s", args, sock, log.String())
		}
	}
}

// TestCDISpec: the spec `vgpu cdi generate` writes for an installed client (unix socket, group
// vgpu; and tcp) is valid by the CDI project's own library, and applied to an OCI spec it gives
// the container the preload, the address and the mounts.
func TestCDISpec(t *testing.T) {
	pkgs := packages(t)
	root := t.TempDir()
	install(t, pkgs["vgpu-client.deb"], root)
	os.WriteFile(filepath.Join(root, "etc/group"), []byte("vgpu:x:990:ollama\n"), 0o644)
	vgpu := filepath.Join(root, "usr/bin/vgpu")
	for _, server := range []string{"", "tcp://gpu-host:7070"} {
		spec := filepath.Join(t.TempDir(), "vgpu.json")
		args := []string{"cdi", "generate", "--root", root, "--output", spec}
		if server != "" {
			args = append(args, "--server", server)
		}
		if r := runCmd(t, nil, vgpu, args...); r.err != nil {
			t.Fatalf("vgpu %v: %v %s", args, r.err, r.stderr)
		}
		s, err := cdi.ReadSpec(spec, 0)
		if err != nil {
			b, _ := os.ReadFile(spec)
			t.Fatalf("the CDI library refuses the spec: %v\n%s", err, b)
		}
		if s.GetVendor() != "vgpu.dev" || s.GetClass() != "gpu" {
			t.Errorf("kind %s/%s", s.GetVendor(), s.GetClass())
		}
		dev := s.GetDevice("all")
		if dev == nil {
			t.Fatal("no device all")
		}
		o := &oci.Spec{Process: &oci.Process{}}
		if err := dev.ApplyEdits(o); err != nil {
			t.Fatal(err)
		}
		env := strings.Join(o.Process.Env, " ")
		if !strings.Contains(env, "LD_PRELOAD="+deploy.PreloadList("/opt/vgpu")) {
			t.Errorf("env %s", env)
		}
		var mounts []string
		for _, m := range o.Mounts {
			mounts = append(mounts, m.Source+":"+m.Destination)
		}
		lib := LibDir("deb", runtime.GOARCH)
		if !slices.Contains(mounts, lib+":/opt/vgpu") || !slices.Contains(mounts, "/etc/vgpu/vgpu.conf:/etc/vgpu/vgpu.conf") {
			t.Errorf("mounts %v", mounts)
		}
		if server == "" {
			if !strings.Contains(env, "VGPU_SERVER=unix:///run/vgpu/vgpu.sock") || !slices.Contains(mounts, "/run/vgpu:/run/vgpu") || !slices.Contains(o.Process.User.AdditionalGids, 990) {
				t.Errorf("unix: env %s, mounts %v, gids %v", env, mounts, o.Process.User.AdditionalGids)
			}
		} else if !strings.Contains(env, "VGPU_SERVER="+server) || slices.Contains(mounts, "/run/vgpu:/run/vgpu") {
			t.Errorf("tcp: env %s, mounts %v", env, mounts)
		}
	}
}

// TestDockerfile: packaging/Dockerfile.server cannot be built here (no Docker engine); every
// COPY source it takes from the build context (the repository root) exists, and the image runs
// vgpu-server.
func TestDockerfile(t *testing.T) {
	b, err := os.ReadFile("Dockerfile.server")
	if err != nil {
		t.Fatal(err)
	}
	copies := 0
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 3 || (f[0] != "COPY" && f[0] != "ADD") {
			continue
		}
		if strings.HasPrefix(f[1], "--from=") {
			continue
		}
		var srcs []string
		for _, a := range f[1 : len(f)-1] {
			if !strings.HasPrefix(a, "--") {
				srcs = append(srcs, a)
			}
		}
		for _, s := range srcs {
			copies++
			if _, err := os.Stat(filepath.Join("..", s)); err != nil {
				t.Errorf("COPY source %s: %v", s, err)
			}
		}
	}
	if copies == 0 {
		t.Error("no COPY from the build context")
	}
	if !strings.Contains(string(b), `ENTRYPOINT ["/usr/bin/vgpu-server"`) {
		t.Error("the image does not run /usr/bin/vgpu-server")
	}
}
