// Package integration tests the built artefacts of `make build` (build/out/) as a user meets
// them: the stub libraries' ELF interface, vgpu-server as a real process, C programs that link,
// preload or dlopen the stubs, and a Go (cgo) host. Run it with `make test`, which builds first
// and sets VGPU_OUT; every child process runs under a time limit, so no test can hang.
package integration

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/settings"
	"github.com/vgpu/vgpu/internal/testout"
)

// The stub libraries, by file name (= SONAME), and the core.
var stubNames = []string{"libcuda.so.1", "libnvidia-ml.so.1", "libcudart.so.12", "libcudart.so.13"}

const coreName = "libvgpucore.so"

// outDir returns build/out (VGPU_OUT, else ../../build/out) and fails the test unless every
// artefact the tests use is there.
func outDir(t testing.TB) string {
	t.Helper()
	return testout.Dir(t, append([]string{coreName, "vgpu-server", "devicequery"}, stubNames...)...)
}

// repoRoot is the module root (for -I include).
func repoRoot(t testing.TB) string {
	t.Helper()
	abs, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(abs, "include", "vgpu", "zz_prototypes.h")); err != nil {
		t.Fatalf("include/vgpu/zz_prototypes.h not found under %s: %v", abs, err)
	}
	return abs
}

// shortTempDir is a temporary folder with a short path: unix socket paths are limited to 107
// bytes, and t.TempDir() embeds the (long) test name.
func shortTempDir(t testing.TB) string {
	t.Helper()
	d, err := os.MkdirTemp("", "vgpu-it-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(d) })
	return d
}

// cleanEnv is this process's environment without anything that would steer a vgpu client, the
// server or the dynamic loader (every VGPU_* variable internal/settings declares, but those only
// tests read), plus extra ("K=V").
func cleanEnv(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if v := settings.ByName(k); v != nil && !v.TestOnly() {
			continue
		}
		switch k {
		case "LD_PRELOAD", "LD_LIBRARY_PATH", "CUDA_VISIBLE_DEVICES":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}

// result is what a finished child process left behind.
type result struct {
	stdout, stderr string
	code           int            // exit status; -1 when killed by a signal or not started
	signal         syscall.Signal // the signal that ended it, or 0
	timedOut       bool
	pid            int
	elapsed        time.Duration
	err            error
}

func (r *result) String() string {
	s := fmt.Sprintf("exit %d", r.code)
	if r.signal != 0 {
		s = fmt.Sprintf("killed by %v", r.signal)
	}
	if r.timedOut {
		s += " (timed out)"
	}
	return fmt.Sprintf("%s after %v\n--- stdout:\n%s--- stderr:\n%s", s, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

// run runs name with args and env under a time limit and returns how it ended.
func run(t testing.TB, limit time.Duration, env []string, name string, args ...string) *result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = time.Second // a grandchild holding the pipes cannot stall us
	start := time.Now()
	err := cmd.Run()
	r := &result{stdout: stdout.String(), stderr: stderr.String(), code: -1, elapsed: time.Since(start), err: err}
	if ctx.Err() != nil {
		r.timedOut = true
	}
	if cmd.Process != nil {
		r.pid = cmd.Process.Pid
	}
	if ps := cmd.ProcessState; ps != nil {
		ws := ps.Sys().(syscall.WaitStatus)
		if ws.Signaled() {
			r.signal = ws.Signal()
		} else {
			r.code = ws.ExitStatus()
		}
	}
	return r
}

// compileC compiles the C sources into exe inside dir with gcc; flags follow the sources.
func compileC(t testing.TB, dir, exe string, srcs []string, flags ...string) string {
	t.Helper()
	out := filepath.Join(dir, exe)
	args := append([]string{"-O2", "-g", "-Wall", "-Wextra", "-Wno-unused-parameter", "-o", out}, srcs...)
	args = append(args, flags...)
	r := run(t, 60*time.Second, os.Environ(), "gcc", args...)
	if r.code != 0 {
		t.Fatalf("gcc %s: %s", strings.Join(args, " "), r)
	}
	return out
}

// ---- vgpu-server as a real process ----

type server struct {
	pid     int
	unix    string // "unix:///…"
	tcp     string // "tcp://127.0.0.1:PORT", or "" without a TCP listener
	logPath string
	// tcpEnv is what a client of the TCP listener needs (TLS CA and token, or VGPU_INSECURE=1)
	tcpEnv []string
	pki    string // the folder `vgpu-server pki` made (TLS servers)
	cmd    *exec.Cmd

	done    chan struct{} // closed when the server process has exited
	waitErr error
}

// freePort picks a TCP port on 127.0.0.1 that nothing listens on right now.
func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

// serverOpts says how startServerWith starts a server.
type serverOpts struct {
	tcp      bool     // also listen on a free TCP port of 127.0.0.1: TLS (a CA, server certificate and the token "it", made with `vgpu-server pki`)
	insecure bool     // the TCP listener is plain (--insecure)
	args     []string // more flags
	noUnix   bool     // no unix listener
	unixPath string   // the unix socket's path (default: s.sock in a new temporary folder)
	// stderr, if set, receives the server's stdout and stderr instead of the log file
	stderr *os.File
	// uid, if not 0, is the user (and group) the server runs as; its folder is given to it
	uid int
	// env: more of the server's environment ("K=V")
	env []string
}

// startServer starts build/out/vgpu-server --backend sim on a unix socket (and, withTCP, on a
// free TCP port of 127.0.0.1 with TLS), waits until each listener accepts, and kills the server
// and its workers (its process group) when the test ends.
func startServer(t testing.TB, withTCP bool) *server {
	t.Helper()
	return startServerWith(t, serverOpts{tcp: withTCP})
}

// makePKI runs `vgpu-server pki init` (for 127.0.0.1), `pki token it` and `pki client alice`
// in dir/pki and returns that folder.
func makePKI(t testing.TB, dir string) string {
	t.Helper()
	exe := filepath.Join(outDir(t), "vgpu-server")
	pki := filepath.Join(dir, "pki")
	for _, args := range [][]string{
		{"pki", "init", "--dir", pki, "--host", "127.0.0.1", "--host", "localhost"},
		{"pki", "token", "--dir", pki, "it"},
		{"pki", "client", "--dir", pki, "alice"},
	} {
		if r := run(t, 20*time.Second, cleanEnv(), exe, args...); r.code != 0 {
			t.Fatalf("vgpu-server %s: %s", strings.Join(args, " "), r)
		}
	}
	return pki
}

func startServerWith(t testing.TB, o serverOpts) *server {
	t.Helper()
	out := outDir(t)
	dir := shortTempDir(t)
	sock := filepath.Join(dir, "s.sock")
	if o.unixPath != "" {
		sock = o.unixPath
	}
	s := &server{unix: "unix://" + sock, logPath: filepath.Join(dir, "server.log"), done: make(chan struct{})}
	args := []string{"--backend", "sim"}
	if o.noUnix {
		s.unix = ""
	} else {
		args = append(args, "--listen", s.unix)
	}
	if o.tcp {
		s.tcp = fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
		args = append(args, "--listen", s.tcp)
		if o.insecure {
			args = append(args, "--insecure")
			s.tcpEnv = []string{"VGPU_INSECURE=1"}
		} else {
			s.pki = makePKI(t, dir)
			args = append(args, "--tls-cert", filepath.Join(s.pki, "server.crt"), "--tls-key", filepath.Join(s.pki, "server.key"),
				"--tls-client-ca", filepath.Join(s.pki, "ca.crt"), "--tokens-file", filepath.Join(s.pki, "tokens"))
			s.tcpEnv = []string{"VGPU_TLS_CA=" + filepath.Join(s.pki, "ca.crt"), "VGPU_TOKEN_FILE=" + filepath.Join(s.pki, "clients", "it.token")}
		}
	}
	args = append(args, o.args...)
	cmd := exec.Command(filepath.Join(out, "vgpu-server"), args...)
	cmd.Env = cleanEnv(o.env...)
	if o.stderr != nil {
		cmd.Stdout, cmd.Stderr = o.stderr, o.stderr
	} else {
		logf, err := os.Create(s.logPath)
		if err != nil {
			t.Fatal(err)
		}
		defer logf.Close()
		cmd.Stdout, cmd.Stderr = logf, logf
	}
	// Its own process group: the cleanup kills exactly the server and the workers it started.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if o.uid != 0 {
		cmd.SysProcAttr.Credential = &syscall.Credential{Uid: uint32(o.uid), Gid: uint32(o.uid)}
		if err := os.Chown(filepath.Dir(sock), o.uid, o.uid); err != nil {
			t.Fatal(err)
		}
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting vgpu-server: %v", err)
	}
	s.pid, s.cmd = cmd.Process.Pid, cmd
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	t.Cleanup(func() {
		syscall.Kill(-s.pid, syscall.SIGKILL)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			t.Errorf("vgpu-server %d did not exit after SIGKILL", s.pid)
		}
		if t.Failed() {
			t.Logf("vgpu-server log:\n%s", s.log())
		}
	})
	if !o.noUnix {
		s.waitAccepts(t, "unix", sock)
	}
	if o.tcp {
		s.waitAccepts(t, "tcp", strings.TrimPrefix(s.tcp, "tcp://"))
	}
	// Each probe connection got a worker, which ends when it sees the probe hang up.
	s.waitWorkers(t, 0, 5*time.Second)
	return s
}

func (s *server) waitAccepts(t testing.TB, network, addr string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout(network, addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		if !s.alive() {
			t.Fatalf("vgpu-server exited before accepting on %s %s (%v); log:\n%s", network, addr, s.waitErr, s.log())
		}
		if time.Now().After(deadline) {
			t.Fatalf("vgpu-server does not accept on %s %s after 10 s: %v; log:\n%s", network, addr, err, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// alive reports whether the server process is still running.
func (s *server) alive() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

func (s *server) log() string {
	b, _ := os.ReadFile(s.logPath)
	return string(b)
}

// sessionsOf counts the sessions the server logged as connected from client pid (the line
// "session N [IDENTITY]: connected (...); the client claims pid P, ..." of
// internal/server/session.go). A worker may log just after its client exited, so this waits up
// to 2 s for the first one.
func (s *server) sessionsOf(t testing.TB, pid int) int {
	t.Helper()
	re := regexp.MustCompile(fmt.Sprintf(`session \d+ \[[^\]]*\]: connected .*; the client claims pid %d,`, pid))
	deadline := time.Now().Add(2 * time.Second)
	for {
		n := len(re.FindAllString(s.log(), -1))
		if n > 0 || time.Now().After(deadline) {
			return n
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// workers returns the pids of the server's child processes (its workers), zombies included.
func (s *server) workers() []int { return childrenOf(s.pid) }

// waitWorkers waits until the server has exactly n children and returns their pids.
func (s *server) waitWorkers(t testing.TB, n int, limit time.Duration) []int {
	t.Helper()
	deadline := time.Now().Add(limit)
	for {
		w := s.workers()
		if len(w) == n {
			return w
		}
		if time.Now().After(deadline) {
			t.Fatalf("vgpu-server %d has workers %v after %v, want %d; log:\n%s", s.pid, w, limit, n, s.log())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// childrenOf lists the processes whose parent is pid, by scanning /proc/*/stat.
func childrenOf(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var kids []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := procStat(p)
		if err != nil {
			continue
		}
		if st.ppid == pid {
			kids = append(kids, p)
		}
	}
	sort.Ints(kids)
	return kids
}

type stat struct {
	state byte
	ppid  int
}

// procStat reads the state and parent of pid. The command name in parentheses may itself
// contain spaces and parentheses, so fields are counted from the last ')'.
func procStat(pid int) (stat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return stat{}, err
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return stat{}, errors.New("malformed stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 2 {
		return stat{}, errors.New("malformed stat")
	}
	ppid, err := strconv.Atoi(f[1])
	if err != nil {
		return stat{}, err
	}
	return stat{state: f[0][0], ppid: ppid}, nil
}

// ---- a long-running child whose output lines the test waits for ----

type liveProc struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	out  []string // stdout lines so far
	err  bytes.Buffer
	done chan struct{}
	ws   syscall.WaitStatus
}

// startLive starts a child that the test kills (SIGKILL at cleanup at the latest) and whose
// stdout lines it watches.
func startLive(t testing.TB, env []string, name string, args ...string) *liveProc {
	t.Helper()
	p := &liveProc{cmd: exec.Command(name, args...), done: make(chan struct{})}
	p.cmd.Env = env
	p.cmd.Stderr = &lockedWriter{mu: &p.mu, w: &p.err}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			p.mu.Lock()
			p.out = append(p.out, sc.Text())
			p.mu.Unlock()
		}
		p.cmd.Wait()
		if p.cmd.ProcessState != nil {
			p.ws = p.cmd.ProcessState.Sys().(syscall.WaitStatus)
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		p.cmd.Process.Kill()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			t.Errorf("%s (pid %d) did not end after SIGKILL", name, p.cmd.Process.Pid)
		}
	})
	return p
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

func (p *liveProc) pid() int { return p.cmd.Process.Pid }

// kill sends SIGKILL and waits (at most 5 s) until the process has ended.
func (p *liveProc) kill(t testing.TB) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil && !p.exited() {
		t.Fatalf("kill %d: %v", p.pid(), err)
	}
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		t.Fatalf("pid %d did not end within 5 s of SIGKILL", p.pid())
	}
}

func (p *liveProc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

func (p *liveProc) dump() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return fmt.Sprintf("--- stdout:\n%s\n--- stderr:\n%s", strings.Join(p.out, "\n"), p.err.String())
}

// countLines counts the stdout lines so far that start with prefix.
func (p *liveProc) countLines(prefix string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, l := range p.out {
		if strings.HasPrefix(l, prefix) {
			n++
		}
	}
	return n
}

// waitLines waits until at least n stdout lines start with prefix.
func (p *liveProc) waitLines(t testing.TB, prefix string, n int, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for p.countLines(prefix) < n {
		if p.exited() {
			t.Fatalf("pid %d exited (%v) before printing %d lines %q\n%s", p.pid(), p.ws, n, prefix, p.dump())
		}
		if time.Now().After(deadline) {
			t.Fatalf("pid %d printed no %d lines %q within %v\n%s", p.pid(), n, prefix, limit, p.dump())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// line returns the first stdout line starting with prefix.
func (p *liveProc) line(prefix string) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, l := range p.out {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

// checkKeyValues reads a test program's "key value" lines and checks each wanted key.
func checkKeyValues(t *testing.T, r *result, want map[string]string) {
	t.Helper()
	got := map[string]string{}
	for _, l := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		k, v, _ := strings.Cut(l, " ")
		got[k] = v
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("%s: %q, want %q", k, got[k], w)
		}
	}
	if t.Failed() {
		t.Logf("%s", r)
	}
}
