package client

import (
	"errors"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/server"
)

// TestShmIsSealed: the client's shared memory is sealed (shrink, grow, seal), so the worker
// can map it without fearing SIGBUS: it cannot be shrunk.
func TestShmIsSealed(t *testing.T) {
	fd, m, err := newShm(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	defer unix.Munmap(m)
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL; seals&want != want {
		t.Fatalf("seals %#x, want %#x", seals, want)
	}
	if err := unix.Ftruncate(fd, 4096); !errors.Is(err, unix.EPERM) {
		t.Fatalf("shrinking the shared memory: %v, want EPERM", err)
	}
	var st unix.Stat_t
	if unix.Fstat(fd, &st); st.Size != 1<<20 {
		t.Fatalf("size %d after the attempt", st.Size)
	}
}

// slowSync is the simulated device with a cuCtxSynchronize that takes d (a long kernel).
type slowSync struct {
	*server.Sim
	d time.Duration
}

func (b *slowSync) Invoke(id api.ID, f *api.Func, a *server.Args) int32 {
	if f.Name == "cuCtxSynchronize" {
		time.Sleep(b.d)
	}
	return b.Sim.Invoke(id, f, a)
}

// TestLongCallWithKeepalives: a call that runs for several of the client's stall timeouts
// succeeds, because the worker sends keepalives meanwhile; the session stays usable.
func TestLongCallWithKeepalives(t *testing.T) {
	k := 100 * time.Millisecond // the client gives up after 300 ms of silence
	connectServerWith(t, &slowSync{Sim: server.NewSim(), d: 1200 * time.Millisecond}, func(s *server.Session) { s.Keepalive = k }, k)
	if r := remoteByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	start := time.Now()
	if r := remoteByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Fatalf("a 1.2 s cuCtxSynchronize = %d (%v)", r, sess.broken)
	}
	if d := time.Since(start); d < time.Second {
		t.Fatalf("the long call returned after %v", d)
	}
	if r := remoteByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit after the long call = %d", r)
	}
}

// TestIdleClientKeepsSession: a client idle for several times the worker's idle timeout keeps
// its session with keepalives; its next call works.
func TestIdleClientKeepsSession(t *testing.T) {
	connectServerWith(t, server.NewSim(), func(s *server.Session) { s.IdleTimeout = 400 * time.Millisecond }, 100*time.Millisecond)
	if r := remoteByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	time.Sleep(1500 * time.Millisecond)
	if r := remoteByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit after 1.5 s idle = %d (%v)", r, sess.broken)
	}
}

// TestStalledServer: a server that takes a call and then sends nothing at all fails the call
// with the unreachable code after three keepalive intervals, and the session is broken with a
// reason that says so; later calls fail at once.
func TestStalledServer(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv, _ := remoting.FDConnOf(fds[1])
	defer srv.Close()
	go func() { // answers the hello, then reads and never replies
		c := remoting.NewConn(srv)
		if _, _, err := c.ReadFrame(); err != nil {
			return
		}
		p := remoting.AppendWelcome(nil, &remoting.Welcome{Version: remoting.ProtocolVersion, Backend: "sim"})
		c.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameWelcome}, p)
		c.Flush()
		for {
			if _, _, err := c.ReadFrame(); err != nil {
				return
			}
		}
	}()
	cc, _ := remoting.FDConnOf(fds[0])
	s := newSession(cc, remoting.NewConn(cc), "unix:///stalled")
	if err := s.handshake(nil, remoting.ClientSecurity{}); err != nil {
		t.Fatal(err)
	}
	s.startKeepalive(cc, 100*time.Millisecond)
	sessMu.Lock()
	sess = s
	sessMu.Unlock()
	defer func() {
		sessMu.Lock()
		sess = nil
		sessMu.Unlock()
	}()
	start := time.Now()
	if r := remoteByName(api.LibCuda, "cuInit", 0); r != int64(api.LibCuda.Info().Unreachable) {
		t.Fatalf("a call to a stalled server = %d, want %d", r, api.LibCuda.Info().Unreachable)
	}
	if d := time.Since(start); d < 250*time.Millisecond || d > 10*time.Second {
		t.Fatalf("the call failed after %v, want about 300 ms", d)
	}
	s.mu.Lock()
	broken := s.broken
	s.mu.Unlock()
	if broken == nil || !strings.Contains(broken.Error(), "vgpu-server at unix:///stalled sent nothing for 300ms: the server or its worker is stalled") {
		t.Fatalf("broken = %v", broken)
	}
	start = time.Now()
	if r := remoteByName(api.LibCuda, "cuInit", 0); r != int64(api.LibCuda.Info().Unreachable) || time.Since(start) > time.Second {
		t.Fatalf("the next call = %d after %v", r, time.Since(start))
	}
}
