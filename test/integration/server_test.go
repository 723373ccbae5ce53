package integration

import (
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// devicequeryOK runs build/out/devicequery (linked against libcuda.so.1, found through
// LD_LIBRARY_PATH) against addr, with env added to its environment, and checks its report.
func devicequeryOK(t *testing.T, addr string, env ...string) *result {
	t.Helper()
	out := outDir(t)
	r := run(t, 20*time.Second, cleanEnv(append([]string{"VGPU_SERVER=" + addr, "LD_LIBRARY_PATH=" + out}, env...)...), filepath.Join(out, "devicequery"))
	if r.code != 0 {
		t.Fatalf("devicequery against %s: %s", addr, r)
	}
	for _, want := range []string{
		"vgpu simulated device",
		"memory round trip (1 MiB H2D, memset, D2D, D2H): identical",
		"copy past the allocation: refused",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("devicequery against %s: output lacks %q\n%s", addr, want, r)
		}
	}
	return r
}

// TestDeviceQuery: an unmodified CUDA program linked against libcuda.so.1 runs a device query and
// a memory round trip against the simulated device, over a unix socket and over TCP (TLS with a
// token).
func TestDeviceQuery(t *testing.T) {
	s := startServer(t, true)
	t.Run("unix", func(t *testing.T) { devicequeryOK(t, s.unix) })
	t.Run("tcp", func(t *testing.T) { devicequeryOK(t, s.tcp, s.tcpEnv...) })
	if !s.alive() {
		t.Fatalf("vgpu-server exited: %v", s.waitErr)
	}
}

// TestNoServer: a client whose server is not there fails its first call with an error, at
// once and with a line saying why: no hang, no crash.
func TestNoServer(t *testing.T) {
	out := outDir(t)
	dir := shortTempDir(t)

	// A socket file that nobody listens on any more (connect: connection refused).
	stale := filepath.Join(dir, "stale.sock")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: stale, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()

	for _, c := range []struct{ name, addr string }{
		{"missing socket", "unix://" + filepath.Join(dir, "nobody.sock")},
		{"stale socket", "unix://" + stale},
		{"closed tcp port", "tcp://127.0.0.1:" + strconv.Itoa(freePort(t))},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, 10*time.Second, cleanEnv("VGPU_SERVER="+c.addr, "LD_LIBRARY_PATH="+out), filepath.Join(out, "devicequery"))
			if r.signal != 0 || r.code != 1 {
				t.Fatalf("devicequery without a server: want exit status 1, got %s", r)
			}
			if r.elapsed > 3*time.Second {
				t.Errorf("devicequery took %v to give up, want < 3 s", r.elapsed)
			}
			found := false
			for _, line := range strings.Split(r.stderr, "\n") {
				if strings.Contains(line, "cannot reach vgpu-server") {
					found = true
					if !strings.Contains(line, c.addr) {
						t.Errorf("the error line does not name the address %s: %q", c.addr, line)
					}
				}
			}
			if !found {
				t.Errorf("stderr has no line containing %q:\n%s", "cannot reach vgpu-server", r)
			}
		})
	}
}

// dialRaw opens a plain connection to the server's unix socket, with a deadline.
func dialRaw(t *testing.T, s *server) net.Conn {
	t.Helper()
	c, err := net.DialTimeout("unix", strings.TrimPrefix(s.unix, "unix://"), 2*time.Second)
	if err != nil {
		t.Fatalf("dial %s: %v", s.unix, err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(5 * time.Second))
	return c
}

// expectClosed reads what the server still sends and checks that it then closes the connection;
// it returns the bytes read.
func expectClosed(t *testing.T, c net.Conn) []byte {
	t.Helper()
	b, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("the server did not close the connection within 5 s (read %d bytes)", len(b))
	}
	return b
}

// serverSurvives checks that the server process lives on and still serves a full device query.
func serverSurvives(t *testing.T, s *server) {
	t.Helper()
	if !s.alive() {
		t.Fatalf("vgpu-server exited: %v\n%s", s.waitErr, s.log())
	}
	devicequeryOK(t, s.unix)
	if !s.alive() {
		t.Fatalf("vgpu-server exited: %v\n%s", s.waitErr, s.log())
	}
}

// TestMalformedHeader: 16 bytes of garbage instead of a frame header end that connection only.
func TestMalformedHeader(t *testing.T) {
	s := startServer(t, false)
	for _, garbage := range [][]byte{
		// length 0xffffffff (> MaxPayload), type 0x99, reserved 0xffff
		{0xff, 0xff, 0xff, 0xff, 0x99, 0xff, 0xff, 0xff, 1, 2, 3, 4, 5, 6, 7, 8},
		// a plausible length, an unknown type
		{16, 0, 0, 0, 0x42, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		// a Hello header with unknown flags and a nonzero reserved field
		{4, 0, 0, 0, byte(remoting.FrameHello), 0x80, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0},
	} {
		c := dialRaw(t, s)
		if _, err := c.Write(garbage); err != nil {
			t.Fatalf("write: %v", err)
		}
		b := expectClosed(t, c)
		if len(b) > 0 {
			// Whatever comes back must be an Error frame.
			h, err := remoting.ParseHeader(b)
			if err != nil || h.Type != remoting.FrameError {
				t.Errorf("after a garbage header the server sent %d bytes that are not an Error frame (%v): %x", len(b), err, b)
			}
		}
		c.Close()
	}
	serverSurvives(t, s)
	// The workers of the broken connections are gone.
	s.waitWorkers(t, 0, 5*time.Second)
}

// TestGarbageCall: after a valid handshake, a Call frame whose payload is garbage is answered
// with an Error frame (a protocol error), then the connection is closed; the server lives on.
func TestGarbageCall(t *testing.T) {
	s := startServer(t, false)
	payloads := map[string][]byte{
		"truncated":          {0xff, 0xff},
		"huge counts":        {0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		"unknown function":   remoting.AppendCall(nil, &remoting.Call{Fn: 0xfffffff0}),
		"wrong arg count":    remoting.AppendCall(nil, &remoting.Call{Fn: 0, Scalars: make([]uint64, 40)}),
		"non-minimal varint": {0, 0, 0, 0, 0x80, 0x00, 0x00},
		"trailing bytes":     append(remoting.AppendCall(nil, &remoting.Call{Fn: 0, Scalars: []uint64{0}}), 0xde, 0xad),
	}
	for name, p := range payloads {
		t.Run(name, func(t *testing.T) {
			nc := dialRaw(t, s)
			c := remoting.NewConn(nc)
			hello := remoting.AppendHello(nil, &remoting.Hello{
				Version: remoting.ProtocolVersion, TableHash: api.TableHash(),
				PID: uint32(os.Getpid()), UID: uint32(os.Getuid()), Host: "integration", Exe: "integration.test",
			})
			if err := c.WriteFrame(remoting.Header{Length: uint32(len(hello)), Type: remoting.FrameHello}, hello); err != nil {
				t.Fatal(err)
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			h, payload, err := c.ReadFrame()
			if err != nil {
				t.Fatalf("reading the answer to Hello: %v", err)
			}
			if h.Type != remoting.FrameWelcome {
				msg := ""
				if h.Type == remoting.FrameError {
					e, _ := remoting.DecodeError(payload)
					msg = e.Message
				}
				t.Fatalf("answer to a valid Hello is %v, want Welcome %s", h.Type, msg)
			}
			if w, err := remoting.DecodeWelcome(payload); err != nil || w.Backend != "sim" {
				t.Fatalf("Welcome %+v, %v; want backend sim", w, err)
			}

			if err := c.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameCall, ReqID: 1}, p); err != nil {
				t.Fatal(err)
			}
			if err := c.Flush(); err != nil {
				t.Fatal(err)
			}
			h, payload, err = c.ReadFrame()
			if err != nil {
				t.Fatalf("after a garbage Call: %v, want an Error frame", err)
			}
			if h.Type != remoting.FrameError {
				t.Fatalf("after a garbage Call the server sent %v, want Error", h.Type)
			}
			e, err := remoting.DecodeError(payload)
			if err != nil {
				t.Fatalf("the Error frame does not decode: %v", err)
			}
			if e.Code != remoting.ErrProtocol {
				t.Errorf("Error code %v (%q), want %v", e.Code, e.Message, remoting.ErrProtocol)
			}
			if _, _, err := c.ReadFrame(); !errors.Is(err, io.EOF) {
				t.Errorf("after the Error frame: %v, want the connection closed (EOF)", err)
			}
		})
	}
	serverSurvives(t, s)
	s.waitWorkers(t, 0, 5*time.Second)
}
