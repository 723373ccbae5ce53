package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vgpu/vgpu/internal/deploy"
	"github.com/vgpu/vgpu/internal/testout"
	"github.com/vgpu/vgpu/internal/version"
)

// scratchRoot is a system tree with the vgpu-client folder (the .deb's) holding the core, and,
// with group, a group vgpu in /etc/group.
func scratchRoot(t *testing.T, group bool) (root, lib string) {
	t.Helper()
	root = t.TempDir()
	lib = deploy.LibDirs()[0]
	os.MkdirAll(filepath.Join(root, lib), 0o755)
	os.WriteFile(filepath.Join(root, lib, deploy.CoreName), []byte("core"), 0o644)
	os.MkdirAll(filepath.Join(root, "etc"), 0o755)
	groups := "root:x:0:\n"
	if group {
		groups += "vgpu:x:987:\n"
	}
	os.WriteFile(filepath.Join(root, "etc", "group"), []byte(groups), 0o644)
	return root, lib
}

// unitFile is a unit file or drop-in as systemd reads it: sections of key=value lines. It fails
// the test on anything systemd would not read as the writer meant: a line outside a section, a
// line without '=', a key not in allowed, an Environment= value that is not one quoted
// "NAME=value" assignment, a trailing backslash.
func unitFile(t *testing.T, text string, allowed map[string][]string) map[string][]string {
	t.Helper()
	got := map[string][]string{}
	section := ""
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasSuffix(line, "\\") {
			t.Errorf("line %d continues (\\): %q", i+1, line)
		}
		if line[0] == '[' {
			if !strings.HasSuffix(line, "]") {
				t.Errorf("line %d: bad section header %q", i+1, line)
			}
			section = line[1 : len(line)-1]
			if _, ok := allowed[section]; !ok {
				t.Errorf("line %d: unexpected section [%s]", i+1, section)
			}
			continue
		}
		if section == "" {
			t.Errorf("line %d outside a section: %q", i+1, line)
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf("line %d: no '=': %q", i+1, line)
			continue
		}
		k, v = strings.TrimSpace(k), strings.TrimSpace(v)
		known := false
		for _, a := range allowed[section] {
			known = known || a == k
		}
		if !known {
			t.Errorf("line %d: key %s not expected in [%s]", i+1, k, section)
		}
		if k == "Environment" {
			if !regexp.MustCompile(`^"[A-Z_][A-Z0-9_]*=[^"\\ ]*"$`).MatchString(v) {
				t.Errorf("line %d: Environment=%s is not one quoted NAME=value", i+1, v)
			}
			v = strings.Trim(v, `"`)
		}
		got[section+"."+k] = append(got[section+"."+k], v)
	}
	return got
}

// systemdVerify runs `systemd-analyze verify --root=root unit` where systemd-analyze exists and
// fails the test on any complaint about a file under root; a copy of the file at bogus with an
// unknown key must draw a complaint (so that the clean result means the file was read).
func systemdVerify(t *testing.T, root, unit, file string) {
	t.Helper()
	sa, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Logf("systemd-analyze not found: only the own unit-file parser checked %s", file)
		return
	}
	verify := func() string {
		b, _ := exec.Command(sa, "verify", "--root="+root, unit).CombinedOutput()
		return string(b)
	}
	out := verify()
	for _, line := range strings.Split(out, "\n") {
		// A scratch root has no systemd units of its own.
		if line == "" || strings.Contains(line, "sysinit.target not found") {
			continue
		}
		t.Errorf("systemd-analyze verify %s: %s", unit, line)
	}
	orig, _ := os.ReadFile(file)
	os.WriteFile(file, append(orig, []byte("VgpuBogusKey=1\n")...), 0o644)
	defer os.WriteFile(file, orig, 0o644)
	if out := verify(); !strings.Contains(out, "VgpuBogusKey") {
		t.Errorf("systemd-analyze verify did not read %s (no complaint about a bogus key):\n%s", file, out)
	}
}

// `vgpu enable ollama` writes a drop-in that systemd parses, with the five libraries of the
// installed folder in the preload order of README.md and test/gpu/llama_checks.sh, the server
// from --server, and the group; `vgpu disable ollama` removes only that file.
func TestEnableOllama(t *testing.T) {
	root, lib := scratchRoot(t, true)
	unitDir := filepath.Join(root, "etc/systemd/system")
	os.MkdirAll(filepath.Join(unitDir, "ollama.service.d"), 0o755)
	os.MkdirAll(filepath.Join(root, "usr/bin"), 0o755)
	os.WriteFile(filepath.Join(root, "usr/bin/ollama"), []byte("#!/bin/sh\n"), 0o755)
	os.WriteFile(filepath.Join(unitDir, "ollama.service"), []byte("[Unit]\nDescription=Ollama\n[Service]\nExecStart=/usr/bin/ollama serve\nUser=ollama\n"), 0o644)
	theirs := filepath.Join(unitDir, "ollama.service.d", "override.conf")
	os.WriteFile(theirs, []byte("[Service]\nEnvironment=\"OLLAMA_HOST=0.0.0.0\"\n"), 0o644)

	stdout, _, rc := cli(t, nil, "enable", "ollama", "--root", root, "--server", "tcp://gpu-host:7070")
	if rc != 0 || !strings.Contains(stdout, "systemctl daemon-reload && systemctl restart ollama") {
		t.Fatalf("rc %d: %s", rc, stdout)
	}
	path := filepath.Join(root, deploy.OllamaDropIn)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := unitFile(t, string(b), map[string][]string{"Service": {"Environment", "SupplementaryGroups"}})
	want := []string{
		"LD_PRELOAD=" + lib + "/libcudart.so.13:" + lib + "/libcublas.so.13:" + lib + "/libcublasLt.so.13:" + lib + "/libcuda.so.1:" + lib + "/libnvidia-ml.so.1",
		"VGPU_SERVER=tcp://gpu-host:7070",
	}
	if fmt.Sprint(got["Service.Environment"]) != fmt.Sprint(want) {
		t.Errorf("Environment = %q, want %q", got["Service.Environment"], want)
	}
	if fmt.Sprint(got["Service.SupplementaryGroups"]) != "[vgpu]" {
		t.Errorf("SupplementaryGroups = %q", got["Service.SupplementaryGroups"])
	}
	systemdVerify(t, root, "ollama.service", path)

	// No --server: the address is the client config's at run time; no group here: none set, and
	// a warning (the server's socket needs it).
	root2, _ := scratchRoot(t, false)
	_, stderr, rc := cli(t, nil, "enable", "--root", root2, "ollama")
	b, _ = os.ReadFile(filepath.Join(root2, deploy.OllamaDropIn))
	got = unitFile(t, string(b), map[string][]string{"Service": {"Environment", "SupplementaryGroups"}})
	if rc != 0 || len(got["Service.Environment"]) != 1 || got["Service.SupplementaryGroups"] != nil || !strings.Contains(stderr, "group vgpu does not exist") {
		t.Errorf("rc %d, %q, stderr %q", rc, got, stderr)
	}

	// disable removes our file and nothing else; a second disable finds nothing.
	if _, _, rc := cli(t, nil, "disable", "ollama", "--root", root); rc != 0 {
		t.Fatalf("disable: rc %d", rc)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("%s still there: %v", path, err)
	}
	if _, err := os.Stat(theirs); err != nil {
		t.Errorf("disable touched the operator's drop-in: %v", err)
	}
	if stdout, _, rc := cli(t, nil, "disable", "ollama", "--root", root); rc != 0 || !strings.Contains(stdout, "nothing to remove") {
		t.Errorf("second disable: rc %d %q", rc, stdout)
	}
	// A file of that name that we did not write is left alone.
	os.WriteFile(path, []byte("[Service]\n"), 0o644)
	if _, stderr, rc := cli(t, nil, "disable", "ollama", "--root", root); rc != 1 || !strings.Contains(stderr, "not written by vgpu") {
		t.Errorf("disable of a foreign file: rc %d %q", rc, stderr)
	}
	if _, err := os.Stat(path); err != nil {
		t.Errorf("the foreign file was removed")
	}

	// Without an installed folder: an error naming where it looked.
	if _, stderr, rc := cli(t, nil, "enable", "ollama", "--root", t.TempDir()); rc != 1 || !strings.Contains(stderr, "no vgpu client folder") {
		t.Errorf("no install: rc %d %q", rc, stderr)
	}
}

// `vgpu enable system` writes the ld.so.conf.d entry on a GPU-less root, and warns and writes
// nothing where an NVIDIA driver is (a /dev/nvidia0, or a libcuda.so.1 not ours); disable removes it.
func TestEnableSystem(t *testing.T) {
	root, lib := scratchRoot(t, false)
	conf := filepath.Join(root, deploy.LdSoConf)
	stdout, _, rc := cli(t, nil, "enable", "system", "--root", root)
	b, err := os.ReadFile(conf)
	if rc != 0 || err != nil || !strings.Contains(stdout, "ldconfig") {
		t.Fatalf("rc %d, %v: %s", rc, err, stdout)
	}
	var dirs []string
	for _, l := range strings.Split(string(b), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			dirs = append(dirs, l)
		}
	}
	if fmt.Sprint(dirs) != "["+lib+"]" {
		t.Errorf("%s lists %q, want only %s", conf, dirs, lib)
	}
	if _, _, rc := cli(t, nil, "disable", "system", "--root", root); rc != 0 {
		t.Errorf("disable: rc %d", rc)
	}
	if _, err := os.Stat(conf); !os.IsNotExist(err) {
		t.Errorf("%s still there", conf)
	}

	for name, setup := range map[string]func(root string){
		"/dev/nvidia0": func(root string) {
			os.MkdirAll(filepath.Join(root, "dev"), 0o755)
			os.WriteFile(filepath.Join(root, "dev", "nvidia0"), nil, 0o644)
		},
		"a driver's libcuda.so.1": func(root string) {
			os.MkdirAll(filepath.Join(root, "usr/lib64"), 0o755)
			os.WriteFile(filepath.Join(root, "usr/lib64/libcuda.so.1"), []byte("NVIDIA"), 0o644)
		},
	} {
		root, _ := scratchRoot(t, false)
		setup(root)
		_, stderr, rc := cli(t, nil, "enable", "system", "--root", root)
		if rc != 0 || !strings.Contains(stderr, "has an NVIDIA driver") {
			t.Errorf("%s: rc %d, %q", name, rc, stderr)
		}
		if _, err := os.Stat(filepath.Join(root, deploy.LdSoConf)); !os.IsNotExist(err) {
			t.Errorf("%s: the entry was written", name)
		}
	}
}

// `vgpu run -- PROGRAM` runs it with the folder's libraries preloaded (in order, before what was
// preloaded already) and exits with its status; devicequery through it reaches a sim server.
func TestRun(t *testing.T) {
	out := testout.Dir(t, "devicequery", "libcudart.so.13", "libcublas.so.13", "libcublasLt.so.13", "libcuda.so.1", "libnvidia-ml.so.1", "libvgpucore.so")
	addr := startServer(t)
	stdout, _, rc := cli(t, nil, "run", "--lib", out, "--server", addr, "--", filepath.Join(out, "devicequery"))
	if rc != 0 || !strings.Contains(stdout, "vgpu simulated device") {
		t.Errorf("vgpu run -- devicequery: rc %d\n%s", rc, stdout)
	}
	stdout, _, rc = cli(t, []string{"LD_PRELOAD=/nonexistent-for-test.so"}, "run", "--lib", out, "--", "sh", "-c", `echo "$LD_PRELOAD"; exit 7`)
	if want := deploy.PreloadList(out) + ":/nonexistent-for-test.so\n"; rc != 7 || !strings.HasSuffix(stdout, want) {
		t.Errorf("rc %d (want 7), LD_PRELOAD %q, want %q", rc, stdout, want)
	}
	if _, stderr, rc := cli(t, nil, "run", "--lib", out, "--", "no-such-program-vgpu"); rc != 127 || !strings.Contains(stderr, "no-such-program-vgpu") {
		t.Errorf("missing program: rc %d %q", rc, stderr)
	}
}

// `vgpu cdi generate` for a unix socket mounts the client folder, the config and the socket's
// folder, preloads from the container's /opt/vgpu and adds the vgpu group; for tcp it sets the
// address alone. (packaging/ validates the spec with the CDI project's library.)
func TestCDIGenerate(t *testing.T) {
	root, lib := scratchRoot(t, true)
	os.MkdirAll(filepath.Join(root, "etc/vgpu"), 0o755)
	os.WriteFile(filepath.Join(root, deploy.ConfigFile), []byte("server = unix:///run/vgpu/vgpu.sock\n"), 0o644)
	stdout, _, rc := cli(t, nil, "cdi", "generate", "--root", root)
	if rc != 0 {
		t.Fatalf("rc %d", rc)
	}
	var spec struct {
		Kind    string
		Devices []struct {
			Name           string
			ContainerEdits struct {
				Env            []string
				Mounts         []struct{ HostPath, ContainerPath string }
				AdditionalGIDs []uint32 `json:"additionalGids"`
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &spec); err != nil {
		t.Fatal(err)
	}
	if spec.Kind != "vgpu.dev/gpu" || len(spec.Devices) != 1 || spec.Devices[0].Name != "all" {
		t.Fatalf("spec: %+v", spec)
	}
	e := spec.Devices[0].ContainerEdits
	if fmt.Sprint(e.Env) != fmt.Sprint([]string{"LD_PRELOAD=" + deploy.PreloadList("/opt/vgpu"), "VGPU_SERVER=unix:///run/vgpu/vgpu.sock"}) {
		t.Errorf("env %q", e.Env)
	}
	mounts := fmt.Sprint(e.Mounts)
	for _, m := range []string{"{" + lib + " /opt/vgpu}", "{/etc/vgpu/vgpu.conf /etc/vgpu/vgpu.conf}", "{/run/vgpu /run/vgpu}"} {
		if !strings.Contains(mounts, m) {
			t.Errorf("mounts %s lack %s", mounts, m)
		}
	}
	if fmt.Sprint(e.AdditionalGIDs) != "[987]" {
		t.Errorf("additionalGids %v, want [987]", e.AdditionalGIDs)
	}

	stdout, _, rc = cli(t, nil, "cdi", "generate", "--root", root, "--server", "tcp://gpu-host:7070")
	if rc != 0 || strings.Contains(stdout, `"/run/vgpu"`) || strings.Contains(stdout, "additionalGids") || !strings.Contains(stdout, "VGPU_SERVER=tcp://gpu-host:7070") {
		t.Errorf("tcp spec: rc %d\n%s", rc, stdout)
	}
}

// `vgpu --version` and `vgpu version` print the build's version; the built vgpu, vgpu-server
// (--version) and the server's handshake (vgpu ping) carry one and the same version, set by the
// Makefile (not "dev").
func TestVersion(t *testing.T) {
	for _, arg := range []string{"--version", "version"} {
		stdout, _, rc := cli(t, nil, arg)
		if rc != 0 || !strings.HasPrefix(stdout, "vgpu "+version.Version+", protocol ") {
			t.Errorf("vgpu %s: rc %d %q", arg, rc, stdout)
		}
	}
	out := testout.Dir(t, "vgpu", "vgpu-server")
	field := func(args ...string) string {
		b, err := exec.Command(args[0], args[1:]...).Output()
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		f := strings.Fields(string(b))
		if len(f) < 2 {
			t.Fatalf("%v: %q", args, b)
		}
		return strings.TrimSuffix(f[1], ",")
	}
	cliV := field(filepath.Join(out, "vgpu"), "--version")
	serverV := field(filepath.Join(out, "vgpu-server"), "--version")
	if cliV == "dev" || cliV != serverV {
		t.Errorf("built vgpu says %q, vgpu-server %q: want one version from the Makefile", cliV, serverV)
	}
	addr := startServer(t)
	cmd := exec.Command(filepath.Join(out, "vgpu"), "ping")
	cmd.Env = []string{"VGPU_SERVER=" + addr}
	b, err := cmd.Output()
	if err != nil || !strings.HasPrefix(string(b), "vgpu-server "+serverV+" at ") {
		t.Errorf("vgpu ping: %v %q, want the server's version %s", err, b, serverV)
	}
}
