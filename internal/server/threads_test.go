package server

import (
	"encoding/binary"
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

// waitSession starts a session on a simulated device for the tests of waits given away: the
// device, the session, the client's end and the next request id (cuInit done, as request 1).
func waitSession(t *testing.T) (*Sim, *Session, *remoting.Conn, func() uint64) {
	sim := NewSim()
	var sess *Session
	c, _, _ := pipeSessionSetup(t, sim, func(s *Session) { s.logSink = func(string) {}; sess = s })
	hello(t, c, api.TableHash())
	id := uint64(0)
	next := func() uint64 { id++; return id }
	callOn(t, c, 1, next(), "cuInit", 0)
	return sim, sess, c, next
}

// TestWaitsGivenAway: while client threads take turns, each thread's synchronisation goes to a
// waiter and the thread goes on reading (no hand-off of the reading to Serve's goroutine): four
// threads, each with its own context, copying 50 ms of simulated work into its own stream and
// synchronising it, wait at once, and each reply and current context is the thread's own. A
// synchronisation of the per-thread default stream stays on its thread (the reading is handed on).
func TestWaitsGivenAway(t *testing.T) {
	sim, sess, c, next := waitSession(t)
	var ctx, a, st [5]uint64
	for th := uint16(1); th <= 4; th++ {
		ctx[th] = out64(callOn(t, c, th, next(), "cuCtxCreate_v2", 0, 0), 0)
		a[th] = out64(callOn(t, c, th, next(), "cuMemAlloc_v2", 4096), 0)
		st[th] = out64(callOn(t, c, th, next(), "cuStreamCreate", 0), 0)
	}
	sim.mu.Lock()
	sim.work = 50 * time.Millisecond
	sim.mu.Unlock()
	handoffs := sess.threads.handoffs.Load()
	t0 := time.Now()
	for round := range 3 {
		syncs := map[uint64]uint16{}
		for th := uint16(1); th <= 4; th++ {
			sendOn(t, c, th, remoting.FlagAsync, next(), "cuMemcpyDtoDAsync_v2", a[th], a[th], 16, st[th])
			id := next()
			sendOn(t, c, th, 0, id, "cuStreamSynchronize", st[th])
			syncs[id] = th
		}
		for range 4 {
			got, r := reply(t, c)
			if _, ok := syncs[got]; !ok || r.Result != 0 {
				t.Fatalf("round %d: reply to %d (result %d), want one of the synchronisations %v", round, got, r.Result, syncs)
			}
			delete(syncs, got)
		}
		for th := uint16(1); th <= 4; th++ {
			if got := out64(callOn(t, c, th, next(), "cuCtxGetCurrent"), 0); got != ctx[th] {
				t.Fatalf("round %d: thread %d's current context %#x, want %#x", round, th, got, ctx[th])
			}
		}
	}
	if d := time.Since(t0); d > 450*time.Millisecond {
		t.Fatalf("3 rounds of 4 threads' 50 ms synchronisations took %v: they did not wait at once", d)
	}
	if n := sess.threads.handoffs.Load() - handoffs; n > 1 {
		// (the first synchronisation may find thread 1 alone lately: a hand-off)
		t.Fatalf("the reading was handed to Serve's goroutine %d times, want the waits given away", n)
	}
	sess.mu.Lock()
	waiters := len(sess.threads.waiters)
	sess.mu.Unlock()
	if waiters < 2 || waiters > 4 {
		t.Fatalf("%d waiters for 4 threads' waits at once, want 2 to 4", waiters)
	}
	// the per-thread default stream is thread 2's own: its synchronisation waits on thread 2
	handoffs = sess.threads.handoffs.Load()
	if r := callOn(t, c, 2, next(), "cuStreamSynchronize", streamPerThread); r.Result != 0 {
		t.Fatalf("cuStreamSynchronize(CU_STREAM_PER_THREAD) = %d", r.Result)
	}
	if n := sess.threads.handoffs.Load() - handoffs; n != 1 {
		t.Fatalf("a synchronisation of the per-thread stream handed the reading on %d times, want 1 (it waits on its own thread)", n)
	}
}

// TestLoneThreadLongWaitsGivenAway: a client thread calling alone whose synchronisation lasted
// waitInline or longer gives its next one to a waiter and reads on (each next call read by the
// thread itself, not handed to it by Serve's goroutine); once a wait was short, the next stays on
// the thread again.
func TestLoneThreadLongWaitsGivenAway(t *testing.T) {
	sim, sess, c, next := waitSession(t)
	a := out64(callOn(t, c, 1, next(), "cuMemAlloc_v2", 4096), 0)
	st := out64(callOn(t, c, 1, next(), "cuStreamCreate", 0), 0)
	setWork := func(d time.Duration) {
		sim.mu.Lock()
		sim.work = d
		sim.mu.Unlock()
	}
	step := func(what string) {
		t.Helper()
		sendOn(t, c, 1, remoting.FlagAsync, next(), "cuMemcpyDtoDAsync_v2", a, a, 16, st)
		if r := callOn(t, c, 1, next(), "cuStreamSynchronize", st); r.Result != 0 {
			t.Fatalf("%s: cuStreamSynchronize = %d", what, r.Result)
		}
	}
	setWork(5 * time.Millisecond)
	h0 := sess.threads.handoffs.Load()
	for range 5 {
		step("long")
	}
	if n := sess.threads.handoffs.Load() - h0; n != 1 {
		t.Fatalf("5 long synchronisations of a lone thread handed the reading on %d times, want 1 (the first; the others go to a waiter)", n)
	}
	sess.mu.Lock()
	waiters := len(sess.threads.waiters)
	sess.mu.Unlock()
	if waiters != 1 {
		t.Fatalf("%d waiters for a lone thread's waits, want 1", waiters)
	}
	// short waits: the first still goes to the waiter (the last was long), the rest stay
	setWork(0)
	h0 = sess.threads.handoffs.Load()
	for range 10 {
		step("short")
	}
	sess.mu.Lock()
	long := sess.threads.m[1].longWaits
	sess.mu.Unlock()
	// (a short wait can outlast waitInline on a busy machine, or under the race detector)
	if n := sess.threads.handoffs.Load() - h0; long || n > 3 {
		t.Fatalf("short synchronisations: the thread's last wait counted long %v, %d hand-offs (want none, 3 at most)", long, n)
	}
}
