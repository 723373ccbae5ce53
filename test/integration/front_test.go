package integration

// The server's front door (internal/server/front.go): authentication on every transport, the
// session limits, the config file, signals.

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// rawSess is a client handshake the test does itself: dial, TLS when sec is given, Hello, and the
// server's answer (a Welcome, or the Error it refused with).
type rawSess struct {
	nc      net.Conn
	c       *remoting.Conn
	welcome remoting.Welcome
	refused *remoting.ErrorMsg
	reqID   uint64
}

func testHello() remoting.Hello {
	return remoting.Hello{Version: remoting.ProtocolVersion, TableHash: api.TableHash(), PID: uint32(os.Getpid()),
		UID: uint32(os.Getuid()), Host: "integration", Exe: "front.test"}
}

// rawConnect connects to addr and runs the handshake with hello; an error is a failure other
// than a refusal (which is in refused).
func rawConnect(addr string, sec *remoting.ClientSecurity, hello remoting.Hello) (*rawSess, error) {
	a, err := remoting.ParseAddr(addr)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := remoting.Dial(ctx, a)
	if err != nil {
		return nil, err
	}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	var rw net.Conn = nc
	if sec != nil {
		cfg, err := sec.TLSConfig(a)
		if err != nil {
			nc.Close()
			return nil, err
		}
		tc := tls.Client(nc, cfg)
		if err := tc.Handshake(); err != nil {
			nc.Close()
			return nil, remoting.ExplainTLSError(err, a)
		}
		if err := sec.Authenticate(tc, &hello); err != nil {
			nc.Close()
			return nil, err
		}
		rw = tc
	}
	r := &rawSess{nc: rw, c: remoting.NewConn(rw)}
	p := remoting.AppendHello(nil, &hello)
	if err := r.c.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameHello}, p); err != nil {
		rw.Close()
		return nil, err
	}
	if err := r.c.Flush(); err != nil {
		rw.Close()
		return nil, err
	}
	h, payload, err := r.c.ReadFrame()
	if err != nil {
		rw.Close()
		return nil, fmt.Errorf("reading the answer to Hello: %w", err)
	}
	switch h.Type {
	case remoting.FrameWelcome:
		r.welcome, err = remoting.DecodeWelcome(payload)
	case remoting.FrameError:
		e, derr := remoting.DecodeError(payload)
		r.refused, err = &e, derr
		rw.Close()
	default:
		err = fmt.Errorf("answer to Hello: %v frame", h.Type)
	}
	if err != nil {
		rw.Close()
		return nil, err
	}
	return r, nil
}

// call makes one synchronous call of the function name and returns its result code.
func (r *rawSess) call(name string, scalars ...uint64) (int32, error) {
	fid, _, ok := api.Lookup(name)
	if !ok {
		return 0, fmt.Errorf("no row %s", name)
	}
	r.reqID++
	p := remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: scalars})
	if err := r.c.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameCall, ReqID: r.reqID}, p); err != nil {
		return 0, err
	}
	if err := r.c.Flush(); err != nil {
		return 0, err
	}
	for {
		h, payload, err := r.c.ReadFrame()
		if err != nil {
			return 0, err
		}
		switch h.Type {
		case remoting.FrameReply:
			rep, err := remoting.DecodeReply(payload)
			return rep.Result, err
		case remoting.FrameError:
			e, _ := remoting.DecodeError(payload)
			return 0, &e
		case remoting.FrameOutput:
			continue
		}
		return 0, fmt.Errorf("unexpected %v frame", h.Type)
	}
}

// tokenSec is the TLS client settings for the token "it" of s's PKI.
func tokenSec(s *server) *remoting.ClientSecurity {
	return &remoting.ClientSecurity{CAFile: filepath.Join(s.pki, "ca.crt"), TokenFile: filepath.Join(s.pki, "clients", "it.token")}
}

// mustConnect connects and fails the test unless the server welcomes the session.
func mustConnect(t *testing.T, addr string, sec *remoting.ClientSecurity) *rawSess {
	t.Helper()
	r, err := rawConnect(addr, sec, testHello())
	if err != nil {
		t.Fatalf("connecting to %s: %v", addr, err)
	}
	if r.refused != nil {
		t.Fatalf("%s refused the session: %v", addr, r.refused)
	}
	t.Cleanup(func() { r.nc.Close() })
	return r
}

// mustRefuse connects and returns the server's refusal, failing the test if it welcomed.
func mustRefuse(t *testing.T, addr string, sec *remoting.ClientSecurity, code remoting.ErrorCode, want string) {
	t.Helper()
	r, err := rawConnect(addr, sec, testHello())
	if err != nil {
		t.Fatalf("connecting to %s: %v, want a refusal", addr, err)
	}
	if r.refused == nil {
		r.nc.Close()
		t.Fatalf("%s welcomed the session (%+v), want it refused with %q", addr, r.welcome, want)
	}
	if r.refused.Code != code || !strings.Contains(r.refused.Message, want) {
		t.Fatalf("%s refused with %v %q, want %v containing %q", addr, r.refused.Code, r.refused.Message, code, want)
	}
}

// waitLog waits (up to 5 s) until the server's log matches re.
func (s *server) waitLog(t *testing.T, re string) string {
	t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(5 * time.Second)
	for {
		if m := rx.FindString(s.log()); m != "" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server's log has no line matching %q:\n%s", re, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// cmdline is a process's argument list.
func cmdline(pid int) []string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.Split(strings.TrimRight(string(b), "\x00"), "\x00")
}

// TestTLSClientCertificate: a client with a certificate of the server's CA gets a session over
// TLS; its identity is cert:CN=alice in the server's log.
func TestTLSClientCertificate(t *testing.T) {
	s := startServer(t, true)
	pki := s.pki
	devicequeryOK(t, s.tcp, "VGPU_TLS_CA="+filepath.Join(pki, "ca.crt"),
		"VGPU_TLS_CERT="+filepath.Join(pki, "clients", "alice.crt"), "VGPU_TLS_KEY="+filepath.Join(pki, "clients", "alice.key"))
	s.waitLog(t, `session \d+ \[cert:CN=alice\]: connected`)

	// A certificate from another CA is refused by the TLS handshake, with a sentence saying so.
	other := makePKI(t, shortTempDir(t))
	r := run(t, 20*time.Second, cleanEnv("VGPU_SERVER="+s.tcp, "LD_LIBRARY_PATH="+outDir(t), "VGPU_TLS_CA="+filepath.Join(pki, "ca.crt"),
		"VGPU_TLS_CERT="+filepath.Join(other, "clients", "alice.crt"), "VGPU_TLS_KEY="+filepath.Join(other, "clients", "alice.key")),
		filepath.Join(outDir(t), "devicequery"))
	if r.code == 0 || !strings.Contains(r.stderr, "refused this client's certificate") {
		t.Fatalf("a certificate of another CA: want the session refused with a line saying so, got %s", r)
	}
}

// TestTLSToken: a client proving the token "it" gets a session (token:it), and its worker's
// command line shows the identity; a wrong secret, an unknown name or no token at all are refused
// with a message the client logs.
func TestTLSToken(t *testing.T) {
	s := startServer(t, true)
	devicequeryOK(t, s.tcp, s.tcpEnv...)
	s.waitLog(t, `session \d+ \[token:it\]: connected`)

	live := mustConnect(t, s.tcp, tokenSec(s))
	if rc, err := live.call("cuInit", 0); err != nil || rc != 0 {
		t.Fatalf("cuInit over TLS: %d, %v", rc, err)
	}
	w := s.waitWorkers(t, 1, 5*time.Second)
	if args := strings.Join(cmdline(w[0]), " "); !strings.Contains(args, "--identity token:it") {
		t.Errorf("the worker's command line %q does not show --identity token:it", args)
	}
	live.nc.Close()

	dir := shortTempDir(t)
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	ca := "VGPU_TLS_CA=" + filepath.Join(s.pki, "ca.crt")
	for _, c := range []struct{ name, token, want string }{
		{"wrong secret", write("wrong", "it "+strings.Repeat("ab", 32)+"\n"), `token "it" was not accepted: unknown name or wrong secret`},
		{"unknown name", write("unknown", "nobody "+strings.Repeat("ab", 32)+"\n"), `token "nobody" was not accepted`},
		{"no token", "", "this server requires a client certificate or a token: set VGPU_TOKEN_FILE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			env := []string{"VGPU_SERVER=" + s.tcp, "LD_LIBRARY_PATH=" + outDir(t), ca}
			if c.token != "" {
				env = append(env, "VGPU_TOKEN_FILE="+c.token)
			}
			r := run(t, 20*time.Second, cleanEnv(env...), filepath.Join(outDir(t), "devicequery"))
			if r.code == 0 || !strings.Contains(r.stderr, "refused the session: vgpu server: denied: "+c.want) {
				t.Fatalf("want the session refused with %q in the client's log, got %s", c.want, r)
			}
		})
	}
	// A token file others can read is not used.
	loose := write("loose", "it "+strings.Repeat("ab", 32)+"\n")
	os.Chmod(loose, 0o644)
	r := run(t, 20*time.Second, cleanEnv("VGPU_SERVER="+s.tcp, "LD_LIBRARY_PATH="+outDir(t), ca, "VGPU_TOKEN_FILE="+loose), filepath.Join(outDir(t), "devicequery"))
	if r.code == 0 || !strings.Contains(r.stderr, "is readable by others") {
		t.Fatalf("a token file of mode 0644: want a line saying it is readable by others, got %s", r)
	}
}

// TestPlainTCPNeedsInsecure: a TCP listener without TLS material is refused at start unless
// --insecure; with --insecure, a client speaks plain TCP only when told (VGPU_INSECURE=1), and a
// plain client of a TLS server is told to use TLS.
func TestPlainTCPNeedsInsecure(t *testing.T) {
	out := outDir(t)
	addr := fmt.Sprintf("tcp://127.0.0.1:%d", freePort(t))
	r := run(t, 10*time.Second, cleanEnv(), filepath.Join(out, "vgpu-server"), "--backend", "sim", "--listen", addr)
	if r.code != 1 || !strings.Contains(r.stderr, "needs TLS") || !strings.Contains(r.stderr, "pki init") || !strings.Contains(r.stderr, "--insecure") {
		t.Fatalf("a tcp listener without TLS and without --insecure: want the server to refuse to start, saying what to do; got %s", r)
	}

	s := startServerWith(t, serverOpts{tcp: true, insecure: true})
	s.waitLog(t, `WARNING: insecure is set`)
	// A client that was not told speaks TLS, and is told why that fails.
	rr := run(t, 20*time.Second, cleanEnv("VGPU_SERVER="+s.tcp, "LD_LIBRARY_PATH="+out), filepath.Join(out, "devicequery"))
	if rr.code == 0 || !strings.Contains(rr.stderr, "does not speak TLS") || !strings.Contains(rr.stderr, "VGPU_INSECURE=1") {
		t.Fatalf("a TLS client of an insecure server: want a line saying to set VGPU_INSECURE=1, got %s", rr)
	}
	devicequeryOK(t, s.tcp, "VGPU_INSECURE=1")
	s.waitLog(t, `session \d+ \[insecure:tcp 127\.0\.0\.1\]: connected`)

	// A plain client of a TLS server.
	tlsSrv := startServer(t, true)
	rr = run(t, 20*time.Second, cleanEnv("VGPU_SERVER="+tlsSrv.tcp, "LD_LIBRARY_PATH="+out, "VGPU_INSECURE=1"), filepath.Join(out, "devicequery"))
	if rr.code == 0 || !strings.Contains(rr.stderr, "this server speaks TLS") {
		t.Fatalf("a plain client of a TLS server: want the refusal saying the server speaks TLS, got %s", rr)
	}
}

// TestUnixAllowList: a peer whose uid (SO_PEERCRED) is not in the allow list is refused, with
// its uid in the message; the default list lets root and the server's user in but not others.
func TestUnixAllowList(t *testing.T) {
	s := startServerWith(t, serverOpts{args: []string{"--unix-allow", "uid:4242"}})
	mustRefuse(t, s.unix, nil, remoting.ErrDenied, fmt.Sprintf("uid %d (gid %d) may not use this server: it is not in the allow list (uid:4242", os.Getuid(), os.Getgid()))
	r := run(t, 20*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+outDir(t)), filepath.Join(outDir(t), "devicequery"))
	if r.code == 0 || !strings.Contains(r.stderr, "may not use this server") {
		t.Fatalf("a client not in the allow list: want the refusal in its log, got %s", r)
	}
	s.waitLog(t, `refused: uid \d+ .*may not use this server`)

	// The default allow list, a socket anyone may connect to, a client of another uid.
	if os.Getuid() != 0 {
		t.Skip("running a client as another uid needs root")
	}
	d := startServerWith(t, serverOpts{args: []string{"--socket-mode", "0666"}})
	os.Chmod(filepath.Dir(strings.TrimPrefix(d.unix, "unix://")), 0o755)
	devicequeryOK(t, d.unix) // root
	out := outDir(t)
	cmdEnv := cleanEnv("VGPU_SERVER="+d.unix, "LD_LIBRARY_PATH="+out)
	r = runAs(t, 4242, cmdEnv, filepath.Join(out, "devicequery"))
	if r.code == 0 || !strings.Contains(r.stderr, "uid 4242 (gid 4242) may not use this server") {
		t.Fatalf("uid 4242 with the default allow list: want it refused, got %s", r)
	}
}

// runAs runs name as uid (and gid) under a time limit.
func runAs(t *testing.T, uid int, env []string, name string, args ...string) *result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(uid)}}
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	r := &result{stdout: so.String(), stderr: se.String(), code: -1, err: err}
	if cmd.ProcessState != nil {
		r.code = cmd.ProcessState.ExitCode()
	}
	return r
}

// TestUnixSocketModeGroup: the server creates the socket's missing folder and gives the socket
// its mode and group; without a vgpu group the default is 0600.
func TestUnixSocketModeGroup(t *testing.T) {
	dir := shortTempDir(t)
	for _, c := range []struct {
		name  string
		args  []string
		mode  os.FileMode
		group int
	}{
		{"explicit", []string{"--socket-mode", "0640", "--socket-group", "1"}, 0o640, 1},
		{"default", nil, 0o600, -1},
	} {
		t.Run(c.name, func(t *testing.T) {
			if c.group < 0 {
				if _, err := user.LookupGroup("vgpu"); err == nil {
					t.Skip("this machine has a vgpu group: the default is 0660 with it")
				}
				c.group = os.Getgid()
			}
			sock := filepath.Join(dir, c.name, "run", "vgpu.sock") // the folders do not exist
			startServerWith(t, serverOpts{unixPath: sock, args: c.args})
			fi, err := os.Stat(sock)
			if err != nil {
				t.Fatal(err)
			}
			st := fi.Sys().(*syscall.Stat_t)
			if fi.Mode().Perm() != c.mode || int(st.Gid) != c.group {
				t.Fatalf("socket mode %#o group %d, want %#o group %d", fi.Mode().Perm(), st.Gid, c.mode, c.group)
			}
			devicequeryOK(t, "unix://"+sock)
		})
	}
}

// TestConnectionFlood: 2,000 connections that never complete a handshake (some send nothing,
// some the first bytes of a TLS record) do not keep a legitimate client from its session, which
// it gets within 1 s; the refusals are logged as a few summary lines, not one per connection.
func TestConnectionFlood(t *testing.T) {
	raiseNoFile(t, 8192)
	s := startServerWith(t, serverOpts{tcp: true, args: []string{"--max-pending-handshakes", "512"}})
	tcpAddr := strings.TrimPrefix(s.tcp, "tcp://")
	var conns []net.Conn
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	for i := 0; i < 2000; i++ {
		c, err := net.DialTimeout("tcp", tcpAddr, 5*time.Second)
		if err != nil {
			t.Fatalf("flood connection %d: %v", i, err)
		}
		if i%2 == 1 {
			c.Write([]byte{0x16, 0x03}) // a TLS record, never finished
		}
		conns = append(conns, c)
	}
	// The server has taken them all in (they wait for their handshake, or were closed to make room).
	time.Sleep(500 * time.Millisecond)
	best := time.Hour
	for try := 0; try < 3 && best > time.Second; try++ {
		start := time.Now()
		r := mustConnect(t, s.tcp, tokenSec(s))
		if rc, err := r.call("cuInit", 0); err != nil || rc != 0 {
			t.Fatalf("cuInit during the flood: %d, %v", rc, err)
		}
		best = min(best, time.Since(start))
		r.nc.Close()
	}
	t.Logf("during a flood of 2000 idle connections a client got its session and a reply in %v", best)
	if best > time.Second {
		t.Fatalf("a legitimate client needed %v for its session during the flood, want under 1 s", best)
	}
	devicequeryOK(t, s.tcp, s.tcpEnv...)
	if !s.alive() {
		t.Fatalf("the server died: %v", s.waitErr)
	}
	n := strings.Count(s.log(), "waiting for their handshake")
	if n == 0 || n > 10 {
		t.Fatalf("%d log lines about connections waiting for their handshake, want a few (the first, then summaries)\n%s", n, s.log())
	}
}

// raiseNoFile makes sure this process may open n descriptors.
func raiseNoFile(t *testing.T, n uint64) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Cur >= n {
		return
	}
	lim.Cur = max(lim.Cur, min(n, lim.Max))
	if lim.Max < n {
		lim.Max, lim.Cur = n, n // root may raise the hard limit
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Skipf("cannot raise RLIMIT_NOFILE to %d: %v", n, err)
	}
}

// TestManyClientsAtOnce: 64 clients connecting at the same moment (32 on the unix socket, 32
// over TLS) all get their session and a reply.
func TestManyClientsAtOnce(t *testing.T) {
	s := startServer(t, true)
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	start := make(chan struct{})
	for i := 0; i < 64; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			addr, sec := s.unix, (*remoting.ClientSecurity)(nil)
			if i%2 == 1 {
				addr, sec = s.tcp, tokenSec(s)
			}
			<-start
			r, err := rawConnect(addr, sec, testHello())
			if err == nil && r.refused != nil {
				err = r.refused
			}
			if err == nil {
				var rc int32
				rc, err = r.call("cuInit", 0)
				if err == nil && rc != 0 {
					err = fmt.Errorf("cuInit = %d", rc)
				}
				time.Sleep(200 * time.Millisecond) // overlap with the others
				r.nc.Close()
			}
			if err != nil {
				errs <- fmt.Errorf("client %d (%s): %w", i, addr, err)
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	s.waitWorkers(t, 0, 20*time.Second)
}

// TestSessionLimits: sessions beyond max_sessions_per_identity or max_sessions are refused with
// the reason; the config file's limits reach the worker as its Policy, flags override the file.
func TestSessionLimits(t *testing.T) {
	dir := shortTempDir(t)
	conf := filepath.Join(dir, "server.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`# per identity
max_sessions_per_identity = 3   # overridden by the flag
mem_limit = 16GiB
limit[uid:%d] = mem_limit=8GiB devices=0,GPU-1234
`, os.Getuid())), 0o644)
	s := startServerWith(t, serverOpts{args: []string{"--config", conf, "--max-sessions-per-identity", "1"}})
	mustConnect(t, s.unix, nil)
	w := s.waitWorkers(t, 1, 5*time.Second)
	args := strings.Join(cmdline(w[0]), " ")
	if want := fmt.Sprintf("--identity uid:%d --mem-limit 8589934592 --devices 0,GPU-1234", os.Getuid()); !strings.Contains(args, want) {
		t.Errorf("worker command line %q lacks %q", args, want)
	}
	mustRefuse(t, s.unix, nil, remoting.ErrDenied, fmt.Sprintf("uid:%d already has 1 sessions, its limit", os.Getuid()))

	m := startServerWith(t, serverOpts{tcp: true, args: []string{"--max-sessions", "1"}})
	mustConnect(t, m.unix, nil)
	mustRefuse(t, m.tcp, tokenSec(m), remoting.ErrDenied, "the server has 1 sessions, its limit (max_sessions)")
	// The default mem_limit reaches a worker of another identity.
	d := startServerWith(t, serverOpts{tcp: true, args: []string{"--config", conf}})
	mustConnect(t, d.tcp, tokenSec(d))
	w = d.waitWorkers(t, 1, 5*time.Second)
	if args := strings.Join(cmdline(w[0]), " "); !strings.Contains(args, "--identity token:it --mem-limit 17179869184") || strings.Contains(args, "--devices") {
		t.Errorf("worker command line %q: want token:it with the default mem_limit and no devices", args)
	}
}

// TestPendingHandshakeEvicted: when max_pending_handshakes connections wait for their handshake,
// a new one closes the oldest, which is told why (an Error frame).
func TestPendingHandshakeEvicted(t *testing.T) {
	s := startServerWith(t, serverOpts{args: []string{"--max-pending-handshakes", "2"}})
	sock := strings.TrimPrefix(s.unix, "unix://")
	var idle []net.Conn
	for i := 0; i < 3; i++ {
		c, err := net.DialTimeout("unix", sock, 2*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		idle = append(idle, c)
		time.Sleep(50 * time.Millisecond) // in order
	}
	idle[0].SetDeadline(time.Now().Add(5 * time.Second))
	c := remoting.NewConn(idle[0])
	h, p, err := c.ReadFrame()
	if err != nil || h.Type != remoting.FrameError {
		t.Fatalf("the oldest idle connection: %v %v, want an Error frame", h.Type, err)
	}
	e, _ := remoting.DecodeError(p)
	if e.Code != remoting.ErrDenied || !strings.Contains(e.Message, "waiting for their handshake") {
		t.Fatalf("Error %v %q, want denied: too many waiting for their handshake", e.Code, e.Message)
	}
	devicequeryOK(t, s.unix)
}

// TestHandshakeTimeout: a connection that says nothing is closed after handshake_timeout with an
// Error frame saying so.
func TestHandshakeTimeout(t *testing.T) {
	s := startServerWith(t, serverOpts{args: []string{"--handshake-timeout", "300ms"}})
	c := dialRaw(t, s)
	start := time.Now()
	h, p, err := remoting.NewConn(c).ReadFrame()
	if err != nil || h.Type != remoting.FrameError {
		t.Fatalf("an idle connection: %v %v, want an Error frame", h.Type, err)
	}
	e, _ := remoting.DecodeError(p)
	if !strings.Contains(e.Message, "no hello within 300ms") {
		t.Fatalf("Error %q", e.Message)
	}
	t.Logf("closed after %v", time.Since(start))
}

// TestForgedLogLine: what the client claims (its exe name here) cannot forge a line of the
// server's log: a newline and an escape sequence appear escaped.
func TestForgedLogLine(t *testing.T) {
	s := startServer(t, false)
	h := testHello()
	h.Exe = "x\nvgpu-server: session 999 [uid:0]: FORGED\x1b[31m"
	h.Host = "h\r\n"
	r, err := rawConnect(s.unix, nil, h)
	if err != nil || r.refused != nil {
		t.Fatalf("session: %v %v", err, r.refused)
	}
	defer r.nc.Close()
	s.waitLog(t, `connected .*FORGED`)
	log := s.log()
	for _, line := range strings.Split(log, "\n") {
		if strings.HasPrefix(line, "vgpu-server: session 999") {
			t.Errorf("the client forged a log line: %q", line)
		}
	}
	if strings.Contains(log, "\x1b") {
		t.Errorf("the log holds a raw escape character")
	}
	if !strings.Contains(log, `exe "x\nvgpu-server: session 999 [uid:0]: FORGED\x1b[31m"`) {
		t.Errorf("the claimed exe is not logged quoted:\n%s", log)
	}
}

// TestStrictConfig: an unknown key, a bad value or a repeated key in the config file stop the
// server at start with a line naming the file, the line and the key.
func TestStrictConfig(t *testing.T) {
	out := outDir(t)
	dir := shortTempDir(t)
	for _, c := range []struct{ name, content, want string }{
		{"unknown key", "backend = sim\nmax_sesions = 4\n", `:2: unknown key "max_sesions"`},
		{"bad value", "# x\nhandshake_timeout = soon\n", `:2: key "handshake_timeout": "soon": want a positive duration`},
		{"repeated", "backend = sim\nbackend = real\n", `:2: key "backend" is already set on line 1`},
		{"bad limit", "limit[uid:1] = mem_limit=lots\n", `:1: key "limit[uid:1]": "lots": want a size`},
	} {
		t.Run(c.name, func(t *testing.T) {
			conf := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "_")+".conf")
			os.WriteFile(conf, []byte(c.content), 0o644)
			r := run(t, 10*time.Second, cleanEnv(), filepath.Join(out, "vgpu-server"), "--config", conf, "--listen", "unix://"+filepath.Join(dir, "x.sock"))
			if r.code != 1 || !strings.Contains(r.stderr, conf+c.want) {
				t.Fatalf("want exit 1 and %q, got %s", conf+c.want, r)
			}
		})
	}
	r := run(t, 10*time.Second, cleanEnv(), filepath.Join(out, "vgpu-server"), "--config", filepath.Join(dir, "missing.conf"))
	if r.code != 1 || !strings.Contains(r.stderr, "missing.conf") {
		t.Fatalf("a missing --config file: want exit 1 naming it, got %s", r)
	}
}

// TestStderrClosed: a server whose log reader went away (a closed pipe) neither dies of SIGPIPE
// nor stops serving; its workers live too.
func TestStderrClosed(t *testing.T) {
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	s := startServerWith(t, serverOpts{stderr: pw})
	pw.Close()
	pr.Close() // every later log line is a write to a pipe without a reader
	devicequeryOK(t, s.unix)
	devicequeryOK(t, s.unix)
	if !s.alive() {
		t.Fatalf("the server died once its stderr was closed: %v", s.waitErr)
	}
}

// TestSIGTERMDrain: on SIGTERM the server stops accepting, lets a session go on for the drain
// timeout, then ends it with an ErrShutdown Error frame the client logs, and exits 0; a server
// whose sessions end on their own during the drain exits at once.
func TestSIGTERMDrain(t *testing.T) {
	exe := buildMemloop(t)
	s := startServerWith(t, serverOpts{args: []string{"--drain-timeout", "1s"}})
	c := startMemloop(t, s, exe)
	c.waitLines(t, "ITER", 1, 15*time.Second)
	syscall.Kill(s.pid, syscall.SIGTERM)
	// No new connections once draining (the socket file goes with the listener).
	deadline := time.Now().Add(5 * time.Second)
	for {
		nc, err := net.DialTimeout("unix", strings.TrimPrefix(s.unix, "unix://"), time.Second)
		if err != nil {
			break
		}
		nc.Close()
		if time.Now().After(deadline) {
			t.Fatal("the server still accepts 5 s after SIGTERM")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if n := c.countLines("ITER"); true {
		c.waitLines(t, "ITER", n+1, 5*time.Second) // the session goes on during the drain
	}
	select {
	case <-s.done:
	case <-time.After(15 * time.Second):
		t.Fatal("the server did not exit within 15 s of SIGTERM with a 1 s drain timeout")
	}
	if ws := s.cmd.ProcessState.Sys().(syscall.WaitStatus); ws.Signaled() || ws.ExitStatus() != 0 {
		t.Fatalf("the server ended with %v, want exit status 0\n%s", s.waitErr, s.log())
	}
	select {
	case <-c.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the client did not end after its session was ended")
	}
	if d := c.dump(); !strings.Contains(d, "vgpu server: shutting down: the server is shutting down") {
		t.Fatalf("the client's log does not say the server shut down:\n%s", d)
	}
	if log := s.log(); !strings.Contains(log, "drain timeout (1s) passed: ending sessions") {
		t.Errorf("the server's log does not say it ended the session:\n%s", log)
	}

	// Nothing running: exit 0 at once, well before a long drain timeout.
	q := startServerWith(t, serverOpts{args: []string{"--drain-timeout", "60s"}})
	devicequeryOK(t, q.unix)
	start := time.Now()
	syscall.Kill(q.pid, syscall.SIGTERM)
	select {
	case <-q.done:
	case <-time.After(20 * time.Second):
		t.Fatal("an idle server did not exit within 20 s of SIGTERM")
	}
	if ws := q.cmd.ProcessState.Sys().(syscall.WaitStatus); ws.ExitStatus() != 0 {
		t.Fatalf("an idle server ended with %v, want exit 0", q.waitErr)
	}
	t.Logf("an idle server exited %v after SIGTERM", time.Since(start))
}

// TestVsockAllowList: over the vsock loopback (where the kernel has it), a peer CID not in
// vsock_allow is refused and an allowed one gets a session as cid:N.
func TestVsockAllowList(t *testing.T) {
	port := 20000 + os.Getpid()%10000
	l, err := remoting.Listen(remoting.Addr{Scheme: "vsock", CID: remoting.VsockCIDAny, Port: uint32(port)})
	if err != nil {
		t.Skipf("no vsock here: %v", err)
	}
	l.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	probe, perr := remoting.Listen(remoting.Addr{Scheme: "vsock", CID: remoting.VsockCIDAny, Port: uint32(port)})
	if perr == nil {
		go func() {
			if c, err := probe.Accept(); err == nil {
				c.Close()
			}
		}()
		c, err := remoting.Dial(ctx, remoting.Addr{Scheme: "vsock", CID: remoting.VsockCIDLocal, Port: uint32(port)})
		probe.Close()
		if err != nil {
			t.Skipf("no vsock loopback here: %v", err)
		}
		c.Close()
	}
	listen := fmt.Sprintf("vsock://any:%d", port)
	dial := fmt.Sprintf("vsock://local:%d", port)
	s := startServerWith(t, serverOpts{noUnix: true, args: []string{"--listen", listen}})
	waitVsock(t, s, dial)
	mustRefuse(t, dial, nil, remoting.ErrDenied, "guest CID 1 may not use this server: it is not in vsock_allow")
	syscall.Kill(-s.pid, syscall.SIGKILL)
	<-s.done
	a := startServerWith(t, serverOpts{noUnix: true, args: []string{"--listen", listen, "--vsock-allow", "1"}})
	waitVsock(t, a, dial)
	mustConnect(t, dial, nil)
	a.waitLog(t, `session \d+ \[cid:1\]: connected`)
}

func waitVsock(t *testing.T, s *server, addr string) {
	t.Helper()
	a, _ := remoting.ParseAddr(addr)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := remoting.Dial(ctx, a)
		cancel()
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) || !s.alive() {
			t.Fatalf("the server does not accept on %s: %v\n%s", addr, err, s.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestTLSRelayModes: a TLS session works carried on by its worker (the default) and through
// the server's relay in either mode, through the real client: a program's calls, memory copies
// both ways and its exit; the server's log says which way each session went.
func TestTLSRelayModes(t *testing.T) {
	for _, c := range []struct{ mode, want string }{
		{"worker", "TLS records in the worker (TLS_AES_128_GCM_SHA256)"},
		{"blocking", "TLS through the server's relay (VGPU_TLS_RELAY=blocking)"},
		{"netpoll", "TLS through the server's relay (VGPU_TLS_RELAY=netpoll)"},
	} {
		t.Run(c.mode, func(t *testing.T) {
			s := startServerWith(t, serverOpts{tcp: true, noUnix: true, env: []string{"VGPU_TLS_RELAY=" + c.mode}})
			r := run(t, 30*time.Second, cleanEnv(append([]string{"VGPU_SERVER=" + s.tcp, "LD_LIBRARY_PATH=" + outDir(t)}, s.tcpEnv...)...),
				filepath.Join(outDir(t), "devicequery"))
			if r.code != 0 || !strings.Contains(r.stdout, "memory round trip (1 MiB H2D, memset, D2D, D2H): identical") {
				t.Fatalf("devicequery over TLS, %s: %s\nserver:\n%s", c.mode, r, s.log())
			}
			if !strings.Contains(s.log(), c.want) {
				t.Fatalf("the server's log does not say %q:\n%s", c.want, s.log())
			}
		})
	}
}

// TestRoundTripTLSvsTCP prints the round trip of a small call (cuDeviceGetCount) over plain TCP
// and over TLS (the server relays to the worker); it asserts only that both work.
func TestRoundTripTLSvsTCP(t *testing.T) {
	plain := startServerWith(t, serverOpts{tcp: true, insecure: true, noUnix: true})
	secure := startServerWith(t, serverOpts{tcp: true, noUnix: true})
	const n = 2000
	measure := func(addr string, sec *remoting.ClientSecurity) time.Duration {
		r := mustConnect(t, addr, sec)
		defer r.nc.Close()
		if rc, err := r.call("cuInit", 0); err != nil || rc != 0 {
			t.Fatalf("cuInit: %d %v", rc, err)
		}
		start := time.Now()
		for i := 0; i < n; i++ {
			if _, err := r.call("cuDeviceGetCount"); err != nil {
				t.Fatalf("cuDeviceGetCount: %v", err)
			}
		}
		return time.Since(start) / n
	}
	p := measure(plain.tcp, nil)
	s := measure(secure.tcp, tokenSec(secure))
	t.Logf("round trip of cuDeviceGetCount (%d calls): plain TCP %v, TLS %v (%.2fx)", n, p, s, float64(s)/float64(p))
	fmt.Printf("TestRoundTripTLSvsTCP: plain TCP %v, TLS %v per round trip\n", p, s)
}

// TestSharedMemoryTimeout: a client that announces shared memory for its frame rings and then
// passes none is dropped by its worker after the server's handshake timeout, with an Error
// frame saying so, instead of holding the worker for ever.
func TestSharedMemoryTimeout(t *testing.T) {
	s := startServerWith(t, serverOpts{args: []string{"--handshake-timeout", "300ms"}})
	h := testHello()
	h.RingSize = remoting.MinRing
	r, err := rawConnect(s.unix, nil, h)
	if err != nil || r.refused != nil {
		t.Fatalf("session: %v %v", err, r.refused)
	}
	defer r.nc.Close()
	start := time.Now()
	fh, p, err := r.c.ReadFrame()
	if err != nil || fh.Type != remoting.FrameError {
		t.Fatalf("a client that passes no memory: %v %v, want an Error frame", fh.Type, err)
	}
	e, _ := remoting.DecodeError(p)
	if !strings.Contains(e.Message, "none passed within 300ms") {
		t.Fatalf("Error %q", e.Message)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("dropped after %v", d)
	}
	s.waitLog(t, `none passed within 300ms`)
}

// TestMaxPinnedSharedMemory: the workers page-lock their clients' shared memory within the
// server's max_pinned_shared_memory for all sessions together; a session that would pass it
// keeps its memory pageable, with a line in the log saying so, and its budget comes back when a
// session ends.
func TestMaxPinnedSharedMemory(t *testing.T) {
	s := startServerWith(t, serverOpts{args: []string{"--max-pinned-shared-memory", "100MiB"}})
	h := testHello()
	h.ShmSize = 64 << 20
	a, err := rawConnect(s.unix, nil, h)
	if err != nil || a.refused != nil {
		t.Fatalf("session a: %v %v", err, a.refused)
	}
	b, err := rawConnect(s.unix, nil, h)
	if err != nil || b.refused != nil {
		t.Fatalf("session b: %v %v", err, b.refused)
	}
	s.waitLog(t, `64 MiB of shared memory stay pageable: .* at 64 MiB of max_pinned_shared_memory's 100 MiB`)
	if n := strings.Count(s.log(), "stay pageable"); n != 1 {
		t.Fatalf("%d sessions kept pageable, want 1 (the second):\n%s", n, s.log())
	}
	a.nc.Close()
	b.nc.Close()
	// (their workers, waiting for the memory, end: the server releases a session's budget as
	// it logs its worker's end)
	s.waitLog(t, `(?s)worker \d+ ended.*worker \d+ ended`)
	time.Sleep(100 * time.Millisecond)
	c, err := rawConnect(s.unix, nil, h)
	if err != nil || c.refused != nil {
		t.Fatalf("session c: %v %v", err, c.refused)
	}
	defer c.nc.Close()
	time.Sleep(200 * time.Millisecond)
	if n := strings.Count(s.log(), "stay pageable"); n != 1 {
		t.Fatalf("a session after the others ended was kept pageable:\n%s", s.log())
	}
}
