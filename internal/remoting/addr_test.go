package remoting

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseAddr(t *testing.T) {
	long := "/" + strings.Repeat("x", maxUnixPath)
	for _, tc := range []struct {
		in   string
		want Addr
		str  string // String(), if not in
		err  string // substring of the error
	}{
		{in: "unix:///run/vgpu/vgpu.sock", want: Addr{Scheme: "unix", Path: "/run/vgpu/vgpu.sock"}},
		{in: "/run/vgpu/vgpu.sock", want: Addr{Scheme: "unix", Path: "/run/vgpu/vgpu.sock"}, str: "unix:///run/vgpu/vgpu.sock"},
		{in: "unix:/tmp/s", want: Addr{Scheme: "unix", Path: "/tmp/s"}, str: "unix:///tmp/s"},
		{in: "unix:@vgpu", want: Addr{Scheme: "unix", Path: "@vgpu"}},
		{in: "unix://@vgpu", want: Addr{Scheme: "unix", Path: "@vgpu"}, str: "unix:@vgpu"},
		{in: "UNIX:///s", want: Addr{Scheme: "unix", Path: "/s"}, str: "unix:///s"},
		{in: "tcp://127.0.0.1:7000", want: Addr{Scheme: "tcp", Host: "127.0.0.1", Port: 7000}},
		{in: "tcp://gpu-box.example:1", want: Addr{Scheme: "tcp", Host: "gpu-box.example", Port: 1}},
		{in: "tcp://[::1]:65535", want: Addr{Scheme: "tcp", Host: "::1", Port: 65535}},
		{in: "tcp://:0", want: Addr{Scheme: "tcp", Port: 0}},
		{in: "vsock://2:5000", want: Addr{Scheme: "vsock", CID: 2, Port: 5000}},
		{in: "vsock://host:5000", want: Addr{Scheme: "vsock", CID: 2, Port: 5000}, str: "vsock://2:5000"},
		{in: "vsock://local:1", want: Addr{Scheme: "vsock", CID: 1, Port: 1}, str: "vsock://1:1"},
		{in: "vsock://any:4294967295", want: Addr{Scheme: "vsock", CID: VsockCIDAny, Port: VsockPortAny}},
		{in: "vsock://4294967295:9", want: Addr{Scheme: "vsock", CID: VsockCIDAny, Port: 9}, str: "vsock://any:9"},

		{in: "", err: "no scheme"},
		{in: "run/vgpu.sock", err: "no scheme"},
		{in: "http://x:1", err: `unknown scheme "http"`},
		{in: "unix://", err: "missing socket path"},
		{in: "unix:", err: "missing socket path"},
		{in: "unix:@", err: "empty abstract"},
		{in: "unix://run/vgpu.sock", err: "not absolute"},
		{in: "unix:vgpu.sock", err: "not absolute"},
		{in: "unix://" + long, err: "at most 107"},
		{in: "tcp://127.0.0.1", err: "missing port"},
		{in: "tcp://127.0.0.1:", err: "missing port"},
		{in: "tcp:127.0.0.1:80", err: "want tcp://host:port"},
		{in: "tcp://h:http", err: "bad port"},
		{in: "tcp://h:65536", err: "bad port"},
		{in: "tcp://h:-1", err: "bad port"},
		{in: "tcp://h:80/x", err: "bad port"},
		{in: "tcp://u@h:80", err: "bad host"},
		{in: "tcp://::1:80", err: "too many colons"},
		{in: "vsock://2", err: "missing port"},
		{in: "vsock://:5", err: "missing vsock CID"},
		{in: "vsock://guest:5", err: "bad vsock CID"},
		{in: "vsock://4294967296:5", err: "bad vsock CID"},
		{in: "vsock://2:4294967296", err: "bad port"},
	} {
		got, err := ParseAddr(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), fmt.Sprintf("%q", tc.in)) {
				t.Errorf("ParseAddr(%q) = %+v, %v; want error with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseAddr(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			continue
		}
		str := tc.str
		if str == "" {
			str = tc.in
		}
		if got.String() != str {
			t.Errorf("ParseAddr(%q).String() = %q, want %q", tc.in, got.String(), str)
		}
		if back, err := ParseAddr(got.String()); err != nil || back != got {
			t.Errorf("ParseAddr(%q) = %+v, %v; want %+v", got.String(), back, err, got)
		}
	}
}

func TestServerAddress(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	user := write("user.conf", "# vgpu client\n\n  server = unix:///x.sock\nserver = tcp://10.0.0.1:7000  # the GPU box\n")
	noServer := write("none.conf", "# nothing here\n# server = tcp://commented:1\n")
	typo := write("typo.conf", "# vgpu client\n\nsever = tcp://10.0.0.1:7000\n")
	system := write("system.conf", "server=vsock://host:7000\n")
	malformed := write("bad.conf", "server tcp://x:1\n")
	badAddr := write("badaddr.conf", "server = tcp://x\n")
	old := systemConfig
	defer func() { systemConfig = old }()

	for _, tc := range []struct {
		name                 string
		env, config, sysconf string
		want, source, err    string
	}{
		{name: "env wins", env: "unix:@x", config: user, sysconf: system, want: "unix:@x", source: "env VGPU_SERVER"},
		{name: "VGPU_CONFIG", config: user, sysconf: system, want: "tcp://10.0.0.1:7000", source: user + " (VGPU_CONFIG)"},
		{name: "VGPU_CONFIG without server", config: noServer, sysconf: system, want: "vsock://host:7000", source: system},
		{name: "system", sysconf: system, want: "vsock://host:7000", source: system},
		{name: "default", sysconf: filepath.Join(dir, "absent.conf"), want: DefaultServer, source: "default"},
		{name: "VGPU_CONFIG missing", config: filepath.Join(dir, "absent.conf"), sysconf: system, err: "absent.conf"},
		{name: "malformed", config: malformed, err: "bad.conf:1"},
		{name: "unknown key", config: typo, sysconf: system, err: typo + `:3: unknown key "sever"`},
		{name: "unknown key in the system file", sysconf: typo, err: typo + `:3: unknown key "sever"`},
		{name: "bad env address", env: "unix:relative", err: "env VGPU_SERVER"},
		{name: "bad file address", config: badAddr, err: "missing port"},
	} {
		t.Setenv("VGPU_SERVER", tc.env)
		t.Setenv("VGPU_CONFIG", tc.config)
		systemConfig = tc.sysconf
		if systemConfig == "" {
			systemConfig = filepath.Join(dir, "absent.conf")
		}
		addr, source, err := ServerAddress()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: got %q, %q, %v; want error with %q", tc.name, addr, source, err, tc.err)
			}
			continue
		}
		if err != nil || addr != tc.want || source != tc.source {
			t.Errorf("%s: got %q, %q, %v; want %q, %q", tc.name, addr, source, err, tc.want, tc.source)
		}
	}
}

// exchange dials a, sends a Hello, and checks that the server answers with a
// Welcome carrying the pid as session.
func exchange(t *testing.T, l net.Listener, a Addr) {
	t.Helper()
	exchangeWith(t, l, func(ctx context.Context) (net.Conn, error) { return Dial(ctx, a) })
}

func exchangeWith(t *testing.T, l net.Listener, dial func(context.Context) (net.Conn, error)) {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		done <- func() error {
			nc, err := l.Accept()
			if err != nil {
				return err
			}
			defer nc.Close()
			c := NewConn(nc)
			h, p, err := c.ReadFrame()
			if err != nil {
				return err
			}
			hello, err := DecodeHello(p)
			if err != nil || h.Type != FrameHello {
				return fmt.Errorf("server got %v %v", h.Type, err)
			}
			w := AppendWelcome(nil, &Welcome{Version: ProtocolVersion, Backend: "sim", Session: uint64(hello.PID)})
			if err := c.WriteFrame(Header{Length: uint32(len(w)), Type: FrameWelcome, ReqID: h.ReqID}, w); err != nil {
				return err
			}
			return c.Flush()
		}()
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	nc, err := dial(ctx)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	c := NewConn(nc)
	p := AppendHello(nil, &Hello{Version: ProtocolVersion, PID: 4242, Host: "h", Exe: "e"})
	if err := c.WriteFrame(Header{Length: uint32(len(p)), Type: FrameHello, ReqID: 1}, p); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
	h, p, err := c.ReadFrame()
	if err != nil {
		t.Fatalf("client ReadFrame: %v", err)
	}
	w, err := DecodeWelcome(p)
	if err != nil || h.Type != FrameWelcome || h.ReqID != 1 || w.Session != 4242 {
		t.Fatalf("client got %+v %+v %v", h, w, err)
	}
	if err := <-done; err != nil {
		t.Fatalf("server: %v", err)
	}
}

func listen(t *testing.T, s string) (net.Listener, Addr) {
	t.Helper()
	a, err := ParseAddr(s)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Listen(a)
	if err != nil {
		t.Fatalf("Listen(%v): %v", a, err)
	}
	t.Cleanup(func() { l.Close() })
	return l, a
}

func TestListenDialTCP(t *testing.T) {
	l, _ := listen(t, "tcp://127.0.0.1:0")
	a, err := ParseAddr("tcp://" + l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	exchange(t, l, a)
}

func TestListenDialUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	l, a := listen(t, "unix://"+path)
	exchange(t, l, a)

	// A second server on a live socket fails, and leaves the socket alone.
	if l2, err := Listen(a); err == nil {
		l2.Close()
		t.Fatal("Listen on a live socket succeeded")
	}
	if probe, err := l.Accept(); err == nil { // Listen's probe
		probe.Close()
	}
	exchange(t, l, a)
	l.Close()

	// A stale socket file (no one listening) is replaced.
	ul, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ul.SetUnlinkOnClose(false)
	ul.Close()
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("no stale socket: %v", err)
	}
	l, _ = listen(t, "unix://"+path)
	exchange(t, l, a)

	// A file that is not a socket is never removed.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, []byte("x"), 0o644)
	if _, err := Listen(Addr{Scheme: "unix", Path: file}); err == nil || !strings.Contains(err.Error(), "not a socket") {
		t.Fatalf("Listen on a regular file: %v", err)
	}
}

func TestListenDialAbstract(t *testing.T) {
	l, a := listen(t, fmt.Sprintf("unix:@vgpu-test-%d-%d", os.Getpid(), time.Now().UnixNano()))
	exchange(t, l, a)
}

func TestListenDialVsock(t *testing.T) {
	l, err := Listen(Addr{Scheme: "vsock", CID: VsockCIDAny, Port: VsockPortAny})
	if err != nil {
		t.Skipf("no vsock: %v", err)
	}
	defer l.Close()
	la := l.Addr().(Addr)
	if la.Port == VsockPortAny {
		t.Fatalf("listener address %v has no port", la)
	}
	// Dialing needs a loopback transport (vsock_loopback); without one, skip.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	probe, err := Dial(ctx, Addr{Scheme: "vsock", CID: VsockCIDLocal, Port: la.Port})
	cancel()
	if err != nil {
		t.Skipf("vsock listens but cannot dial %d:%d: %v", VsockCIDLocal, la.Port, err)
	}
	probe.Close()
	if nc, err := l.Accept(); err != nil {
		t.Fatal(err)
	} else {
		nc.Close()
	}
	exchange(t, l, Addr{Scheme: "vsock", CID: VsockCIDLocal, Port: la.Port})

	accepted := make(chan error, 1)
	go func() { _, err := l.Accept(); accepted <- err }()
	time.Sleep(50 * time.Millisecond)
	l.Close()
	if err := <-accepted; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

// TestExampleConfig: the packages' commented example client config (packaging/files/vgpu.conf) parses,
// and with each "# key = value" line uncommented it still parses (every key it shows is known).
func TestExampleConfig(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "packaging", "files", "vgpu.conf"))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain.conf")
	os.WriteFile(plain, b, 0o644)
	if _, err := ReadConfigFile(plain); err != nil {
		t.Errorf("the example as shipped: %v", err)
	}
	var lines []string
	shown := 0
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, "# "); ok && strings.Contains(rest, " = ") && !strings.Contains(rest, "#") {
			l = rest
			shown++
		}
		lines = append(lines, l)
	}
	if shown == 0 {
		t.Fatal("the example shows no \"# key = value\" line")
	}
	on := filepath.Join(dir, "on.conf")
	os.WriteFile(on, []byte(strings.Join(lines, "\n")), 0o644)
	if _, err := ReadConfigFile(on); err != nil {
		t.Errorf("the example with its %d keys uncommented: %v", shown, err)
	}
}

// TestServerAddresses: a comma-separated server value is a list of servers, each address checked;
// one address is a list of one.
func TestServerAddresses(t *testing.T) {
	old := systemConfig
	defer func() { systemConfig = old }()
	systemConfig = filepath.Join(t.TempDir(), "absent.conf")
	t.Setenv("VGPU_CONFIG", "")
	for _, tc := range []struct {
		env  string
		want []string
		err  string
	}{
		{env: "unix:@a", want: []string{"unix:@a"}},
		{env: "unix:@a, tcp://10.0.0.2:7070 ,vsock://host:7000", want: []string{"unix:@a", "tcp://10.0.0.2:7070", "vsock://host:7000"}},
		{env: "unix:@a,tcp://x", err: "missing port"},
		{env: "unix:@a,", err: "env VGPU_SERVER"},
		{env: strings.Repeat("unix:@a,", MaxServers) + "unix:@a", err: "at most 16"},
	} {
		t.Setenv("VGPU_SERVER", tc.env)
		got, source, err := ServerAddresses()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, %v; want an error with %q", tc.env, got, err, tc.err)
			}
			if _, _, err := ServerAddress(); err == nil {
				t.Errorf("%q: ServerAddress accepts it", tc.env)
			}
			continue
		}
		if err != nil || source != "env VGPU_SERVER" || strings.Join(got, " ") != strings.Join(tc.want, " ") {
			t.Errorf("%q: %q, %q, %v; want %q", tc.env, got, source, err, tc.want)
		}
	}
}
