package server

import (
	"encoding/binary"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// sendOn writes a call of client thread th (flags: remoting.FlagAsync or 0).
func sendOn(t *testing.T, c *remoting.Conn, th uint16, flags uint8, id uint64, name string, scalars ...uint64) {
	t.Helper()
	fid, _, ok := api.Lookup(name)
	if !ok {
		t.Fatalf("no row %s", name)
	}
	p := remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: scalars})
	if err := c.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameCall, Flags: flags, Thread: th, ReqID: id}, p); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

// reply reads the next reply (skipping keepalives) and returns its request id and result.
func reply(t *testing.T, c *remoting.Conn) (uint64, remoting.Reply) {
	t.Helper()
	for {
		h, p, err := c.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		if h.Type == remoting.FrameKeepalive {
			continue
		}
		if h.Type != remoting.FrameReply {
			t.Fatalf("got a %v frame, want a reply", h.Type)
		}
		return h.ReqID, ownReply(t, p)
	}
}

// callOn makes a synchronous call of client thread th and returns its reply.
func callOn(t *testing.T, c *remoting.Conn, th uint16, id uint64, name string, scalars ...uint64) remoting.Reply {
	t.Helper()
	sendOn(t, c, th, 0, id, name, scalars...)
	got, r := reply(t, c)
	if got != id {
		t.Fatalf("%s: reply to %d, want %d", name, got, id)
	}
	return r
}

// answeredBeside sends a cuDriverGetVersion of client thread 2 as request id while thread 1's
// call (what, sent at t0) is in the driver, and checks it is answered first, within 150 ms.
func answeredBeside(t *testing.T, c *remoting.Conn, t0 time.Time, id uint64, what string) {
	t.Helper()
	sendOn(t, c, 2, 0, id, "cuDriverGetVersion")
	if got, r := reply(t, c); got != id || r.Result != 0 {
		t.Fatalf("first reply: request %d (result %d), want thread 2's %d", got, r.Result, id)
	}
	if d := time.Since(t0); d > 150*time.Millisecond {
		t.Fatalf("thread 2's call waited %v behind thread 1's %s", d, what)
	}
}

func out64(r remoting.Reply, k int) uint64 { return binary.LittleEndian.Uint64(r.Bufs[k]) }

// TestWaitRunsBesideOtherThreads: while client thread 1 waits in cuStreamSynchronize for a
// stream with 300 ms of simulated work, thread 2's calls are answered at once; thread 1's reply
// comes after them, when the work is over. A call of thread 2 that does not wait runs in order
// (an async copy on thread 2's stream), and thread 2's own synchronisation then waits for it.
func TestWaitRunsBesideOtherThreads(t *testing.T) {
	sim := NewSim()
	sim.work = 300 * time.Millisecond
	c, _, _ := pipeSessionSetup(t, sim, func(s *Session) { s.logSink = func(string) {} })
	hello(t, c, api.TableHash())
	callOn(t, c, 1, 1, "cuInit", 0)
	a := out64(callOn(t, c, 1, 2, "cuMemAlloc_v2", 4096), 0)
	b := out64(callOn(t, c, 1, 3, "cuMemAlloc_v2", 4096), 0)
	s1 := out64(callOn(t, c, 1, 4, "cuStreamCreate", 0), 0)
	s2 := out64(callOn(t, c, 2, 5, "cuStreamCreate", 0), 0)
	sendOn(t, c, 1, remoting.FlagAsync, 6, "cuMemcpyDtoDAsync_v2", b, a, 4096, s1)
	t0 := time.Now()
	sendOn(t, c, 1, 0, 7, "cuStreamSynchronize", s1)
	answeredBeside(t, c, t0, 8, "synchronisation")
	// thread 2's own work and synchronisation, while thread 1 still waits
	t2 := time.Now()
	sendOn(t, c, 2, remoting.FlagAsync, 9, "cuMemcpyDtoDAsync_v2", a, b, 4096, s2)
	sendOn(t, c, 2, 0, 10, "cuStreamQuery", s2)
	if id, r := reply(t, c); id != 10 || r.Result != cuErrNotReady {
		t.Fatalf("thread 2's query: request %d result %d, want 10 not ready", id, r.Result)
	}
	if id, r := reply(t, c); id != 7 || r.Result != 0 {
		t.Fatalf("request %d result %d, want thread 1's synchronisation", id, r.Result)
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Fatalf("thread 1's synchronisation returned after %v, before its stream's 300 ms of work", d)
	}
	if r := callOn(t, c, 2, 11, "cuStreamSynchronize", s2); r.Result != 0 {
		t.Fatalf("thread 2's synchronisation = %d", r.Result)
	}
	if d := time.Since(t2); d < 300*time.Millisecond {
		t.Fatalf("thread 2's synchronisation returned %v after its copy, before the copy's 300 ms", d)
	}
}

// TestCurrentContextPerClientThread: each client thread has its own current context in the
// worker; a thread the client ended starts again without one; one that idled out gets its
// context back on its next call.
func TestCurrentContextPerClientThread(t *testing.T) {
	var sess *Session
	c, _, _ := pipeSessionSetup(t, NewSim(), func(s *Session) {
		s.logSink = func(string) {}
		s.ThreadIdle = 100 * time.Millisecond
		sess = s
	})
	hello(t, c, api.TableHash())
	callOn(t, c, 1, 1, "cuInit", 0)
	ctxA := out64(callOn(t, c, 1, 2, "cuCtxCreate_v2", 0, 0), 0)
	if got := out64(callOn(t, c, 2, 3, "cuCtxGetCurrent"), 0); got != 0 {
		t.Fatalf("a new client thread's current context is %#x, want none", got)
	}
	ctxB := out64(callOn(t, c, 2, 4, "cuCtxCreate_v2", 0, 0), 0)
	if got := out64(callOn(t, c, 1, 5, "cuCtxGetCurrent"), 0); got != ctxA || ctxA == ctxB {
		t.Fatalf("thread 1's current context is %#x, want its own %#x (thread 2's is %#x)", got, ctxA, ctxB)
	}
	// thread 1 ends; its number, used again, is a new thread
	sendOn(t, c, 1, remoting.FlagAsync, 6, "vgpuThreadEnd")
	if got := out64(callOn(t, c, 1, 7, "cuCtxGetCurrent"), 0); got != 0 {
		t.Fatalf("after the thread's end its number's current context is %#x, want none", got)
	}
	// thread 2 idles out: its OS thread ends, and its next call finds its context again
	time.Sleep(250 * time.Millisecond)
	callOn(t, c, 3, 8, "cuDriverGetVersion") // a frame: the dispatcher ends idle threads
	started := func() int {
		// (read by the test while the dispatcher waits for the next frame)
		sess.mu.Lock()
		defer sess.mu.Unlock()
		return sess.threads.started
	}
	before := started()
	if got := out64(callOn(t, c, 2, 9, "cuCtxGetCurrent"), 0); got != ctxB {
		t.Fatalf("thread 2's current context after idling out is %#x, want %#x", got, ctxB)
	}
	if after := started(); after != before+1 {
		t.Fatalf("threads started %d -> %d: thread 2 did not idle out", before, after)
	}
}

// TestLoneThreadWaitKeepsReading: the synchronisations of a client thread that calls alone keep
// the reading when they end within waitInline (no hand-off to Serve's goroutine and back, where
// every one handed it on before); a long
// one hands it on after waitInline, so a thread that starts calling meanwhile is answered before
// the wait ends.
func TestLoneThreadWaitKeepsReading(t *testing.T) {
	sim := NewSim()
	var sess *Session
	c, _, _ := pipeSessionSetup(t, sim, func(s *Session) { s.logSink = func(string) {}; sess = s })
	hello(t, c, api.TableHash())
	callOn(t, c, 1, 1, "cuInit", 0)
	a := out64(callOn(t, c, 1, 2, "cuMemAlloc_v2", 4096), 0)
	b := out64(callOn(t, c, 1, 3, "cuMemAlloc_v2", 4096), 0)
	s1 := out64(callOn(t, c, 1, 4, "cuStreamCreate", 0), 0)
	id := uint64(5)
	for range 20 {
		sendOn(t, c, 1, remoting.FlagAsync, id, "cuMemcpyDtoDAsync_v2", b, a, 4096, s1)
		if r := callOn(t, c, 1, id+1, "cuStreamSynchronize", s1); r.Result != 0 {
			t.Fatalf("cuStreamSynchronize = %d", r.Result)
		}
		id += 2
	}
	// (a wait can outlast waitInline on a busy machine, or under the race detector)
	if n := sess.threads.handoffs.Load(); n > 4 {
		t.Fatalf("20 short synchronisations of a lone thread handed the reading on %d times, want none (4 at most)", n)
	}
	before := sess.threads.handoffs.Load()
	sim.mu.Lock()
	sim.work = 300 * time.Millisecond
	sim.mu.Unlock()
	sendOn(t, c, 1, remoting.FlagAsync, id, "cuMemcpyDtoDAsync_v2", b, a, 4096, s1)
	t0 := time.Now()
	sendOn(t, c, 1, 0, id+1, "cuStreamSynchronize", s1)
	time.Sleep(10 * time.Millisecond) // thread 1 waits alone, then thread 2 calls
	sendOn(t, c, 2, 0, id+2, "cuDriverGetVersion")
	if got, r := reply(t, c); got != id+2 || r.Result != 0 {
		t.Fatalf("first reply: request %d (result %d), want thread 2's %d", got, r.Result, id+2)
	}
	if d := time.Since(t0); d > 150*time.Millisecond {
		t.Fatalf("thread 2's call waited %v behind thread 1's synchronisation", d)
	}
	if got, r := reply(t, c); got != id+1 || r.Result != 0 {
		t.Fatalf("request %d result %d, want thread 1's synchronisation", got, r.Result)
	}
	if n := sess.threads.handoffs.Load() - before; n != 1 {
		t.Fatalf("the long synchronisation handed the reading on %d times, want 1", n)
	}
}

// TestThreadsBounded: a client that calls from more client threads than maxThreads does not
// make the worker run more OS threads than that: the thread idle the longest ends first, and
// every call is answered.
func TestThreadsBounded(t *testing.T) {
	var sess *Session
	c, _, _ := pipeSessionSetup(t, NewSim(), func(s *Session) { s.logSink = func(string) {}; sess = s })
	hello(t, c, api.TableHash())
	most := 0
	for th := 1; th <= maxThreads+44; th++ {
		if r := callOn(t, c, uint16(th), uint64(th), "cuDriverGetVersion"); r.Result != 0 {
			t.Fatalf("thread %d: cuDriverGetVersion = %d", th, r.Result)
		}
		sess.mu.Lock()
		most = max(most, sess.threads.live)
		sess.mu.Unlock()
	}
	if most > maxThreads {
		t.Fatalf("the worker ran %d threads at once for %d client threads, want at most %d", most, maxThreads+44, maxThreads)
	}
	if most < maxThreads {
		t.Fatalf("the worker ran at most %d threads for %d client threads: threads were not kept", most, maxThreads+44)
	}
}

// slowFree is the simulated device whose cuMemFree_v2 takes a while, as the real one does while
// it waits for the device's work (freeing synchronises the device); fail makes it fail instead
// of freeing.
type slowFree struct {
	*Sim
	d    time.Duration
	fail bool
}

func (b *slowFree) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	if id == api.IDcuMemFree_v2 {
		time.Sleep(b.d)
		if b.fail {
			return 999 // CUDA_ERROR_UNKNOWN
		}
	}
	return b.Sim.Invoke(id, f, a)
}

// TestFreeRunsBesideOtherThreads: while client thread 1's cuMemFree_v2 waits in the driver,
// thread 2's calls are answered, and the range being freed is already refused to them; a free
// the driver fails leaves the range usable.
func TestFreeRunsBesideOtherThreads(t *testing.T) {
	be := &slowFree{Sim: NewSim(), d: 300 * time.Millisecond}
	c, _, _ := pipeSessionSetup(t, be, func(s *Session) { s.logSink = func(string) {} })
	hello(t, c, api.TableHash())
	callOn(t, c, 1, 1, "cuInit", 0)
	a := out64(callOn(t, c, 1, 2, "cuMemAlloc_v2", 4096), 0)
	b := out64(callOn(t, c, 1, 3, "cuMemAlloc_v2", 4096), 0)
	callOn(t, c, 2, 4, "cuDriverGetVersion")
	t0 := time.Now()
	sendOn(t, c, 1, 0, 5, "cuMemFree_v2", a)
	answeredBeside(t, c, t0, 6, "free")
	sendOn(t, c, 2, 0, 7, "cuMemsetD8_v2", a, 0, 4096)
	if id, r := reply(t, c); id != 7 || r.Result != cuErrInvalidValue {
		t.Fatalf("a memset of the range being freed: request %d result %d, want 7 refused (%d)", id, r.Result, cuErrInvalidValue)
	}
	if id, r := reply(t, c); id != 5 || r.Result != 0 {
		t.Fatalf("request %d result %d, want thread 1's free", id, r.Result)
	}
	if d := time.Since(t0); d < 300*time.Millisecond {
		t.Fatalf("the free returned after %v, before its 300 ms", d)
	}
	be.fail = true
	if r := callOn(t, c, 1, 8, "cuMemFree_v2", b); r.Result != 999 {
		t.Fatalf("a failing free = %d, want 999", r.Result)
	}
	if r := callOn(t, c, 2, 9, "cuMemsetD8_v2", b, 0, 4096); r.Result != 0 {
		t.Fatalf("a memset of a range whose free failed = %d, want 0", r.Result)
	}
}

// waitsOnly is a backend whose calls return at once, or after d for cuStreamSynchronize.
type waitsOnly struct{ d time.Duration }

func (waitsOnly) Name() string { return "test" }
func (waitsOnly) Close()       {}
func (b waitsOnly) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	if id == api.IDcuStreamSynchronize && b.d > 0 {
		time.Sleep(b.d)
	}
	return 0
}

// A client thread's waiting calls reuse its thread's slot (threads.go, waitSlot): once the slot
// has served a wait, a synchronisation that returns at once allocates nothing; one that takes far
// longer than waitInline hands the reading on exactly once, and the slot serves the waits after
// it, a long one handing the reading on once again. (A short wait may hand it on too on a busy
// machine, so only the long ones are counted.)
func TestWaitSlotReused(t *testing.T) {
	id := api.IDcuStreamSynchronize
	f := &api.Table[id]
	a := &Args{Vals: []uint64{7}, In: make([][]byte, 1), Out: make([][]byte, 1), Thread: 3}
	s := &Session{be: waitsOnly{}}
	w := &waitSlot{}
	var released atomic.Int32
	release := func() { released.Add(1) }
	wait := func() {
		if r := s.waitThenRelease(w, id, f, w.ownArgs(a), release); r != 0 {
			t.Fatalf("waitThenRelease = %d", r)
		}
	}
	wait()
	if n := testing.AllocsPerRun(200, wait); n != 0 {
		t.Errorf("a short wait allocates %v times, want 0", n)
	}
	if o := w.ownArgs(a); o.Vals[0] != 7 || o.Thread != 3 || len(o.In) != 1 || o.In[0] != nil {
		t.Errorf("own args %+v, want a's scalars and empty buffers", o)
	}
	for round := 1; round <= 2; round++ {
		s.be = waitsOnly{d: 200 * time.Millisecond}
		before := released.Load()
		wait()
		if n := released.Load() - before; n != 1 {
			t.Errorf("long wait %d released the reading %d times, want 1", round, n)
		}
		s.be = waitsOnly{}
		wait()
	}
}
