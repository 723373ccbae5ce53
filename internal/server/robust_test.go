package server

import (
	"encoding/binary"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// lines collects a session's log lines (logSink) from its serving goroutine.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (c *lines) add(s string) { c.mu.Lock(); c.l = append(c.l, s); c.mu.Unlock() }

func (c *lines) all() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]string(nil), c.l...)
}

func expectError(t *testing.T, c *remoting.Conn, code remoting.ErrorCode, want string) {
	t.Helper()
	for {
		h, p, err := c.ReadFrame()
		if err != nil {
			t.Fatalf("reading the Error frame: %v", err)
		}
		if h.Type == remoting.FrameKeepalive {
			continue
		}
		if h.Type != remoting.FrameError {
			t.Fatalf("got a %v frame, want Error", h.Type)
		}
		e, err := remoting.DecodeError(p)
		if err != nil || e.Code != code || !strings.Contains(e.Message, want) {
			t.Fatalf("Error frame %v %q (%v), want %v saying %q", e.Code, e.Message, err, code, want)
		}
		return
	}
}

// TestLogRateLimit: 10,000 refused calls log a burst, then a line a second, and one summary of
// the rest (by kind) when logging resumes or the session ends; every refusal is accounted for.
func TestLogRateLimit(t *testing.T) {
	var log lines
	c, cli, done := pipeSessionSetup(t, NewSim(), func(s *Session) { s.logSink = log.add })
	cli.SetDeadline(time.Now().Add(60 * time.Second))
	hello(t, c, api.TableHash())
	call(t, c, 1, "cuInit", []uint64{0})
	start := time.Now()
	const n = 10000
	for i := range n {
		if r := call(t, c, uint64(2+i), "cuMemcpyDtoH_v2", []uint64{0xdead0000, 8}); r.Result != 1 {
			t.Fatalf("call %d = %d, want 1", i, r.Result)
		}
	}
	elapsed := time.Since(start)
	cli.Close()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got := log.all()
	refused, held := 0, 0
	sumRe := regexp.MustCompile(`^(\d+) log lines held back over .*cuMemcpyDtoH_v2 refused ×(\d+)`)
	summaries := 0
	for _, l := range got {
		if strings.HasPrefix(l, "cuMemcpyDtoH_v2 refused:") {
			refused++
		}
		if m := sumRe.FindStringSubmatch(l); m != nil {
			k, _ := strconv.Atoi(m[1])
			k2, _ := strconv.Atoi(m[2])
			if k != k2 {
				t.Errorf("summary %q: %d lines, %d of the one kind", l, k, k2)
			}
			held += k
			summaries++
		}
	}
	limit := logBurst + int(elapsed.Seconds()*logRate) + 2
	if refused > limit || summaries == 0 || summaries > refused-logBurst+1 {
		t.Fatalf("%d refusal lines (limit %d in %v), %d summaries:\n%s", refused, limit, elapsed, summaries, strings.Join(got[:min(len(got), 40)], "\n"))
	}
	if refused+held != n {
		t.Fatalf("%d lines logged + %d held back, want %d", refused, held, n)
	}
	if last := got[len(got)-1]; last != "client closed the connection" {
		t.Fatalf("last line %q", last)
	}
	t.Logf("%d calls in %v: %d lines logged, %d summaries", n, elapsed.Round(time.Millisecond), len(got), summaries)
}

// TestLogLimiterResumes: after the burst, a line a second; the first line logged after a pause
// comes after the summary of what was held back.
func TestLogLimiterResumes(t *testing.T) {
	var l logLimiter
	t0 := time.Unix(1000, 0)
	for i := range logBurst {
		if !l.allow("a", t0) {
			t.Fatalf("line %d of the burst held back", i)
		}
	}
	for _, k := range []string{"a", "b", "b"} {
		if l.allow(k, t0.Add(100*time.Millisecond)) {
			t.Fatalf("line past the burst allowed")
		}
	}
	if !l.allow("a", t0.Add(2*time.Second)) {
		t.Fatal("no line allowed after 2 s")
	}
	if s, n := l.summary(t0.Add(2 * time.Second)); n != 3 || s != "3 log lines held back over 1.9s (at most 20 at once, then 1 a second): b ×2, a ×1" {
		t.Fatalf("summary %q", s)
	}
	if s, _ := l.summary(t0.Add(3 * time.Second)); s != "" {
		t.Fatalf("second summary %q", s)
	}
}

// TestIdleTimeout: a client that sends nothing after its hello is sent an Error frame (timed
// out) and the session ends with one line; keepalives keep an idle client's session open.
func TestIdleTimeout(t *testing.T) {
	var log lines
	c, _, done := pipeSessionSetup(t, NewSim(), func(s *Session) {
		s.logSink = log.add
		s.IdleTimeout = 300 * time.Millisecond
	})
	hello(t, c, api.TableHash())
	// 1 s of keepalives, then a call: the session is still there
	for range 10 {
		time.Sleep(100 * time.Millisecond)
		send(t, c, remoting.FrameKeepalive, 0, 0, nil)
	}
	if r := call(t, c, 1, "cuInit", []uint64{0}); r.Result != 0 {
		t.Fatalf("cuInit after keepalives = %d", r.Result)
	}
	start := time.Now()
	expectError(t, c, remoting.ErrTimeout, "no frame from the client for 300ms")
	if d := time.Since(start); d < 250*time.Millisecond {
		t.Fatalf("closed after %v", d)
	}
	if err := <-done; err != nil {
		t.Fatalf("Serve = %v, want nil", err)
	}
	closing := 0
	for _, l := range log.all() {
		if strings.HasPrefix(l, "closing: no frame from the client") {
			closing++
		}
	}
	if closing != 1 {
		t.Fatalf("%d closing lines: %q", closing, log.all())
	}
}

// TestFrameTimeout: a header followed by a trickle of its payload is cut off at the frame
// timeout, though bytes keep coming well within the idle timeout.
func TestFrameTimeout(t *testing.T) {
	c, cli, done := pipeSessionSetup(t, NewSim(), func(s *Session) {
		s.logSink = func(string) {}
		s.FrameTimeout = 400 * time.Millisecond
	})
	hello(t, c, api.TableHash())
	cli.Write(remoting.AppendHeader(nil, remoting.Header{Length: 1000, Type: remoting.FrameCall, ReqID: 1}))
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
				if _, err := cli.Write([]byte{0}); err != nil {
					return
				}
			}
		}
	}()
	defer close(stop)
	expectError(t, c, remoting.ErrTimeout, "a Call frame of 1000 bytes did not arrive within 400ms")
	if err := <-done; err != nil {
		t.Fatalf("Serve = %v", err)
	}
}

// slowSync is the simulated device with a cuCtxSynchronize that takes a while (a long kernel).
type slowSync struct {
	*Sim
	d time.Duration
}

func (b *slowSync) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	if f.Name == "cuCtxSynchronize" {
		time.Sleep(b.d)
	}
	return b.Sim.Invoke(id, f, a)
}

// TestKeepaliveDuringLongCall: while a call runs for several keepalive intervals the worker
// sends keepalives, then the reply; short calls get none.
func TestKeepaliveDuringLongCall(t *testing.T) {
	c, _, _ := pipeSessionSetup(t, &slowSync{Sim: NewSim(), d: 1200 * time.Millisecond}, func(s *Session) {
		s.logSink = func(string) {}
		s.Keepalive = 200 * time.Millisecond
	})
	hello(t, c, api.TableHash())
	call(t, c, 1, "cuInit", []uint64{0})
	fid, _, _ := api.Lookup("cuCtxSynchronize")
	send(t, c, remoting.FrameCall, 0, 2, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid)}))
	keepalives := 0
	for {
		h, _, err := c.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if h.Type == remoting.FrameKeepalive {
			keepalives++
			continue
		}
		if h.Type != remoting.FrameReply || h.ReqID != 2 {
			t.Fatalf("got %v for %d", h.Type, h.ReqID)
		}
		break
	}
	// 1.2 s at one every 200 ms, the first after 200 to 300 ms
	if keepalives < 2 || keepalives > 6 {
		t.Fatalf("%d keepalives during a 1.2 s call with a 200 ms interval", keepalives)
	}
	// a short call right after: a reply and nothing else
	if r := call(t, c, 3, "cuDriverGetVersion", nil); r.Result != 0 {
		t.Fatalf("cuDriverGetVersion = %d", r.Result)
	}
}

// TestMemcpy2DWrapRefused: h=3 rows, pitch 2^63, width 16 spans (h-1)*pitch+w bytes, which
// wraps to 16 in 64 bits; the copy is refused (CUDA_ERROR_INVALID_VALUE, a log line), and the
// backend never sees it.
func TestMemcpy2DWrapRefused(t *testing.T) {
	s := fuzzSession(t)
	var log []string
	s.logSink = func(l string) { log = append(log, l) }
	c := fuzzCall("vgpuMemcpy2D", []uint64{48, 0, 0}, memcpy2DDesc(1, 2, 0, 16, fuzzBufA, 1<<63, 16, 3), make([]byte, 48))
	r, _, _, err := s.exec(&c) // the guard backend panics if the copy reaches it
	if err != nil || r != 1 {
		t.Fatalf("vgpuMemcpy2D = %d, %v; want 1", r, err)
	}
	if len(log) == 0 || !strings.Contains(log[0], "overflow the address space") {
		t.Fatalf("log %q", log)
	}
	// the same copy with a pitch that fits is served
	c = fuzzCall("vgpuMemcpy2D", []uint64{48, 0, 0}, memcpy2DDesc(1, 2, 0, 16, fuzzBufA, 64, 16, 3), make([]byte, 48))
	if r, _, _, err := s.exec(&c); err != nil || r != 0 {
		t.Fatalf("in-range vgpuMemcpy2D = %d, %v", r, err)
	}
}

// TestWrappingCountsRefused: counts whose byte size wraps 64 bits are refused, not shrunk.
func TestWrappingCountsRefused(t *testing.T) {
	s := fuzzSession(t)
	s.logSink = func(string) {}
	// cuMemSetAccess: 12-byte descriptors, count 2^62+1 (x12 wraps to 12)
	c := fuzzCall("cuMemSetAccess", []uint64{fuzzBufA, 16, 1<<62 + 1}, make([]byte, 12))
	if _, _, _, err := s.exec(&c); err == nil || !strings.Contains(err.Error(), "carries 12 bytes") {
		t.Fatalf("cuMemSetAccess with a wrapping count: %v, want a protocol error", err)
	}
	// cuGraphGetNodes: numNodes is a size_t of 2^32+1 (its low half alone would say 1)
	c = fuzzCall("cuGraphGetNodes", []uint64{fuzzHandle(api.HGraph)}, binary.LittleEndian.AppendUint64(nil, 1<<32+1))
	if r, _, _, err := s.exec(&c); err != nil || r != 1 {
		t.Fatalf("cuGraphGetNodes with 2^32+1 nodes = %d, %v; want 1", r, err)
	}
}

// shmPair is a session on a unix socketpair (descriptors pass over it) and the client's end.
func shmPair(t *testing.T, log *lines) (*remoting.FDConn, *remoting.Conn, chan error) {
	t.Helper()
	return helloPair(t, log, remoting.Hello{ShmSize: 1 << 20})
}

// helloPair is shmPair for a client saying hello (its version, table, pid and name filled in).
func helloPair(t *testing.T, log *lines, hello remoting.Hello, setup ...func(*Session)) (*remoting.FDConn, *remoting.Conn, chan error) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := remoting.FDConnOf(fds[1])
	if err != nil {
		t.Fatal(err)
	}
	cc, err := remoting.FDConnOf(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	cc.ReadIdle = 5 * time.Second
	sess := NewSession(1, sc, NewSim())
	sess.logSink = log.add
	for _, f := range setup {
		f(sess)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Serve(); sc.Close() }()
	t.Cleanup(func() { cc.Close(); sc.Shutdown(); <-done })
	c := remoting.NewConn(cc)
	hello.Version, hello.TableHash, hello.PID, hello.Exe = remoting.ProtocolVersion, api.TableHash(), 1, "test"
	send(t, c, remoting.FrameHello, 0, 0, remoting.AppendHello(nil, &hello))
	if h, _, err := c.ReadFrame(); err != nil || h.Type != remoting.FrameWelcome {
		t.Fatalf("answer to the hello: %v %v", h.Type, err)
	}
	return cc, c, done
}

func memfd(t *testing.T, flags int, seals int) int {
	t.Helper()
	fd, err := unix.MemfdCreate("test-shm", unix.MFD_CLOEXEC|flags)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	if err := unix.Ftruncate(fd, 1<<20); err != nil {
		t.Fatal(err)
	}
	if seals != 0 {
		if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, seals); err != nil {
			t.Fatal(err)
		}
	}
	return fd
}

// TestShmMustBeSealed: a memfd that could shrink under the worker's mapping (which would kill
// the worker with SIGBUS) is refused with an Error frame saying so; a sealed one is mapped.
func TestShmMustBeSealed(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags int
		seals int
		want  string // in the Error frame; "" = accepted
	}{
		{"unsealed", 0, 0, "not sealed against shrinking"},
		{"sealable but unsealed", unix.MFD_ALLOW_SEALING, 0, "not sealed against shrinking"},
		{"sealed against growing only", unix.MFD_ALLOW_SEALING, unix.F_SEAL_GROW, "not sealed against shrinking"},
		{"sealed", unix.MFD_ALLOW_SEALING, unix.F_SEAL_SHRINK | unix.F_SEAL_GROW | unix.F_SEAL_SEAL, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log lines
			cc, c, done := shmPair(t, &log)
			if err := cc.SendFD(memfd(t, tc.flags, tc.seals)); err != nil {
				t.Fatal(err)
			}
			if tc.want != "" {
				expectError(t, c, remoting.ErrProtocol, tc.want)
				if err := <-done; err == nil {
					t.Fatal("the session went on")
				}
				done <- nil
				return
			}
			if r := call(t, c, 1, "cuInit", []uint64{0}); r.Result != 0 {
				t.Fatalf("cuInit = %d", r.Result)
			}
			if l := log.all(); !strings.Contains(fmt.Sprint(l), "shared memory 1 MiB") {
				t.Fatalf("log %q", l)
			}
		})
	}
	// a descriptor that is no memfd at all
	var log lines
	cc, c, _ := shmPair(t, &log)
	if err := cc.SendFD(0); err != nil { // this process's stdin
		t.Fatal(err)
	}
	expectError(t, c, remoting.ErrProtocol, "not a memfd")
}

// TestRings: a client that passes its frame rings (Hello.RingSize, a sealed memfd after the
// Welcome) is served through them; rings of a bad size or in an unsealed memfd are refused
// with an Error frame saying why; and a client that then scribbles on a ring's positions ends
// its own session with a protocol error, one log line, and nothing read out of range.
func TestRings(t *testing.T) {
	const n = remoting.MinRing
	ringsFor := func(t *testing.T, cc *remoting.FDConn) []byte {
		fd, mem, err := remoting.NewSealedMemfd("test-rings", int(remoting.RingsSize(n)))
		if err != nil {
			t.Fatal(err)
		}
		defer unix.Close(fd)
		if err := cc.SendFD(fd); err != nil {
			t.Fatal(err)
		}
		if err := cc.UseRings(mem, n, true); err != nil {
			t.Fatal(err)
		}
		return mem
	}
	var log lines
	cc, c, _ := helloPair(t, &log, remoting.Hello{RingSize: n})
	mem := ringsFor(t, cc)
	for i := range 100 {
		if r := call(t, c, uint64(i+1), "cuInit", []uint64{0}); r.Result != 0 {
			t.Fatalf("cuInit = %d", r.Result)
		}
	}
	if l := log.all(); !strings.Contains(fmt.Sprint(l), "calls and replies through shared memory") {
		t.Fatalf("log %q", l)
	}
	// ring 0's producer position (the client's), far past what the ring holds
	binary.LittleEndian.PutUint64(mem[0:], 1<<40)
	unix.Write(cc.Fd(), []byte{1}) // a wake-up, should the worker sleep
	expectError(t, c, remoting.ErrProtocol, "position")
	if l := log.all(); !strings.Contains(fmt.Sprint(l), "out of range") {
		t.Fatalf("log %q", l)
	}

	for _, tc := range []struct {
		name  string
		ring  uint64
		seals int
		want  string
	}{
		{"no power of two", 100000, unix.F_SEAL_SHRINK, "ring size 100000"},
		{"unsealed", n, 0, "not sealed against shrinking"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var log lines
			cc, c, done := helloPair(t, &log, remoting.Hello{RingSize: tc.ring})
			if tc.ring == n {
				if err := cc.SendFD(memfd(t, unix.MFD_ALLOW_SEALING, tc.seals)); err != nil {
					t.Fatal(err)
				}
			}
			expectError(t, c, remoting.ErrProtocol, tc.want)
			if err := <-done; err == nil {
				t.Fatal("the session went on")
			}
			done <- nil
		})
	}
}

// TestSharedMemoryNeverPassed: a client that announces shared memory (for copies or for its
// rings) and then passes nothing is dropped after the handshake's timeout with an Error frame
// saying so, rather than holding its worker for ever.
func TestSharedMemoryNeverPassed(t *testing.T) {
	for _, hello := range []remoting.Hello{{ShmSize: 1 << 20}, {RingSize: remoting.MinRing}} {
		var log lines
		_, c, done := helloPair(t, &log, hello, func(s *Session) { s.HandshakeTimeout = 200 * time.Millisecond })
		start := time.Now()
		expectError(t, c, remoting.ErrProtocol, "timeout")
		if err := <-done; err == nil {
			t.Fatal("the session went on")
		}
		done <- nil
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("dropped after %v", d)
		}
	}
}
