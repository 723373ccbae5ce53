package integration

import (
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// TestStoppedWorkerFailsTheCall: a client waiting for a worker that was stopped (SIGSTOP) gets
// its call failed after three keepalive intervals, with a line that says the server is stalled,
// instead of waiting forever.
func TestStoppedWorkerFailsTheCall(t *testing.T) {
	exe := buildMemloop(t)
	s := startServer(t, false)
	out := outDir(t)
	c := startLive(t, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+out, "VGPU_KEEPALIVE_S=0.5"), exe, "loop")
	c.waitLines(t, "ITER", 1, 15*time.Second)
	w := s.waitWorkers(t, 1, 5*time.Second)
	if err := syscall.Kill(w[0], syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(w[0], syscall.SIGCONT)
	stopped := time.Now()
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		t.Fatalf("the client still runs 15 s after its worker stopped\n%s", c.dump())
	}
	t.Logf("client ended %v after its worker stopped", time.Since(stopped).Round(time.Millisecond))
	d := c.dump()
	if c.ws.ExitStatus() != 2 || !strings.Contains(d, "sent nothing for 1.5s: the server or its worker is stalled") || !strings.Contains(d, "failed: 100") {
		t.Fatalf("client ended %v; want exit 2 after a call failed with 100 and a line saying the server stalled\n%s", c.ws, d)
	}
	if n := strings.Count(d, "stalled"); n != 1 {
		t.Fatalf("%d lines about the stall\n%s", n, d)
	}
}

// TestStoppedClientEndsSession: a stopped client sends no keepalives; its worker ends the
// session at the idle timeout with one line, and exits.
func TestStoppedClientEndsSession(t *testing.T) {
	exe := buildMemloop(t)
	h := startServerWith(t, serverOpts{args: []string{"--idle-timeout", "2s"}})
	out := outDir(t)
	c := startLive(t, cleanEnv("VGPU_SERVER="+h.unix, "LD_LIBRARY_PATH="+out, "VGPU_KEEPALIVE_S=0.5"), exe, "idle", "15")
	c.waitLines(t, "IDLE", 1, 15*time.Second)
	if err := syscall.Kill(c.pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(c.pid(), syscall.SIGCONT)
	h.waitWorkers(t, 1, 5*time.Second)
	stopped := time.Now()
	h.waitWorkers(t, 0, 15*time.Second)
	d := time.Since(stopped)
	t.Logf("worker ended %v after its client stopped", d.Round(time.Millisecond))
	if d < time.Second {
		t.Fatalf("the worker ended %v after the client stopped, before the 2 s idle timeout", d)
	}
	if n := strings.Count(h.log(), "closing: no frame from the client for 2s"); n != 1 {
		t.Fatalf("%d closing lines\n%s", n, h.log())
	}
}

// TestIdleClientStaysConnected: a client that makes no call for three times the worker's idle
// timeout keeps its session through keepalives, and its next call works; without keepalives
// (VGPU_KEEPALIVE_S=0) the same client loses the session.
func TestIdleClientStaysConnected(t *testing.T) {
	exe := buildMemloop(t)
	out := outDir(t)
	for _, tc := range []struct {
		keepalive string
		code      int
		awake     string
	}{{"0.25", 0, "AWAKE 0"}, {"0", 1, "AWAKE 100"}} {
		t.Run("keepalive="+tc.keepalive, func(t *testing.T) {
			t.Parallel()
			h := startServerWith(t, serverOpts{args: []string{"--idle-timeout", "1s"}})
			r := run(t, 20*time.Second, cleanEnv("VGPU_SERVER="+h.unix, "LD_LIBRARY_PATH="+out, "VGPU_KEEPALIVE_S="+tc.keepalive), exe, "idle", "3")
			if r.code != tc.code || !strings.Contains(r.stdout, tc.awake) {
				t.Fatalf("memloop idle 3 with keepalives every %s s: %s\nserver:\n%s", tc.keepalive, r, h.log())
			}
		})
	}
}

// TestDribblingPeerDropped: a peer that sends a frame's header and then its payload a byte at a
// time is dropped at the frame timeout, though it never goes quiet for the idle timeout.
func TestDribblingPeerDropped(t *testing.T) {
	h := startServerWith(t, serverOpts{args: []string{"--frame-timeout", "1s", "--idle-timeout", "1m"}})
	nc, err := net.Dial("unix", strings.TrimPrefix(h.unix, "unix://"))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(15 * time.Second))
	c := remoting.NewConn(nc)
	hello := remoting.AppendHello(nil, &remoting.Hello{Version: remoting.ProtocolVersion, TableHash: api.TableHash(), PID: uint32(os.Getpid()), Exe: "dribbler"})
	c.WriteFrame(remoting.Header{Length: uint32(len(hello)), Type: remoting.FrameHello}, hello)
	c.Flush()
	if fh, _, err := c.ReadFrame(); err != nil || fh.Type != remoting.FrameWelcome {
		t.Fatalf("answer to the hello: %v %v", fh.Type, err)
	}
	nc.Write(remoting.AppendHeader(nil, remoting.Header{Length: 80 << 20, Type: remoting.FrameCall, ReqID: 1}))
	start := time.Now()
	go func() {
		for range 200 {
			time.Sleep(50 * time.Millisecond)
			if _, err := nc.Write([]byte{0}); err != nil {
				return
			}
		}
	}()
	fh, p, err := c.ReadFrame()
	if err != nil || fh.Type != remoting.FrameError {
		t.Fatalf("after a dribbled frame: %v %v, want an Error frame\n%s", fh.Type, err, h.log())
	}
	e, _ := remoting.DecodeError(p)
	if e.Code != remoting.ErrTimeout || !strings.Contains(e.Message, "did not arrive within 1s") {
		t.Fatalf("Error frame %v %q", e.Code, e.Message)
	}
	if d := time.Since(start); d < 900*time.Millisecond || d > 10*time.Second {
		t.Fatalf("dropped after %v, want about 1 s", d)
	}
	h.waitWorkers(t, 0, 5*time.Second)
}
