package doctor

import (
	"bytes"
	"fmt"
	"github.com/vgpu/vgpu/internal/testout"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// outDir is build/out with the files these tests need.
func outDir(t *testing.T) string {
	return testout.Dir(t, "libvgpucore.so", "libcuda.so.1", "libnvidia-ml.so.1", "libcudart.so.13", "vgpu-server")
}

// shortTempDir is a temporary folder with a path short enough for a unix socket.
func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "vgd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// startServer runs build/out/vgpu-server --backend sim on a fresh unix socket until the test
// ends, and returns its address.
func startServer(t *testing.T) string {
	t.Helper()
	out := outDir(t)
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "s.sock")
	var log bytes.Buffer
	cmd := exec.Command(filepath.Join(out, "vgpu-server"), "--listen", "unix://"+sock, "--backend", "sim")
	cmd.Env = []string{"PATH=/usr/bin:/bin"}
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // the server and its workers
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting vgpu-server: %v", err)
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
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("unix", sock, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return "unix://" + sock
		}
		if time.Now().After(deadline) {
			t.Fatalf("vgpu-server does not accept on %s: %v\n%s", sock, err, log.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// unreachable is a server address nothing listens on.
func unreachable(t *testing.T) string {
	return "unix://" + filepath.Join(shortTempDir(t), "none.sock")
}

// cc compiles C source into out with extra arguments.
func cc(t *testing.T, out, src string, args ...string) string {
	t.Helper()
	dir := t.TempDir()
	file := filepath.Join(dir, "src.c")
	if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	compiler := os.Getenv("CC")
	if compiler == "" {
		compiler = "gcc"
	}
	all := append([]string{"-O1", "-fPIC", "-o", out, file}, args...)
	if b, err := exec.Command(compiler, all...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", compiler, all, err, b)
	}
	return out
}

// doctorRun runs the doctor on env (no ld.so.preload file) and returns the report and its text.
func doctorRun(t *testing.T, o Options) (*Report, string) {
	t.Helper()
	var buf bytes.Buffer
	o.Out = io.MultiWriter(&buf, testWriter{t})
	if o.PreloadFile == "" {
		o.PreloadFile = filepath.Join(t.TempDir(), "no-ld.so.preload")
	}
	if o.ServerTimeout == 0 {
		o.ServerTimeout = 3 * time.Second
	}
	if o.Self == "" {
		o.Self = filepath.Join(t.TempDir(), "vgpu") // not next to any vgpu-discover
	}
	rep := Run(o)
	return rep, buf.String()
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// want finds a result with that status whose subject and message contain every one of parts
// (each part may be in either).
func want(t *testing.T, rep *Report, st Status, parts ...string) Result {
	t.Helper()
	for _, r := range rep.Results {
		if r.Status != st {
			continue
		}
		line := r.Subject + ": " + r.Msg
		ok := true
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			return r
		}
	}
	var all []string
	for _, r := range rep.Results {
		all = append(all, r.String())
	}
	t.Fatalf("no %v line containing %q in:\n%s", st, parts, strings.Join(all, "\n"))
	return Result{}
}

// none fails if a result with that status contains every one of parts.
func none(t *testing.T, rep *Report, st Status, parts ...string) {
	t.Helper()
	for _, r := range rep.Results {
		line := r.Subject + ": " + r.Msg
		ok := r.Status == st
		for _, p := range parts {
			ok = ok && strings.Contains(line, p)
		}
		if ok {
			t.Errorf("unexpected line: %s", r)
		}
	}
}

// copyFile copies src to dst, keeping the mode.
func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(src)
	if err := os.WriteFile(dst, b, fi.Mode().Perm()); err != nil {
		t.Fatal(err)
	}
}

// fakeDiscover writes a script that prints out (vgpu-discover's format) and exits with rc.
func fakeDiscover(t *testing.T, out string, rc int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vgpu-discover")
	script := fmt.Sprintf("#!/bin/sh\ncat <<'EOF'\n%sEOF\necho 'vgpu: libcuda.so.1: a log line from the stub' >&2\nexit %d\n", out, rc)
	if err := os.WriteFile(p, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

func preloadOf(paths ...string) string { return "LD_PRELOAD=" + strings.Join(paths, ":") }
