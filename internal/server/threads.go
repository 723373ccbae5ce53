package server

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// Client threads (decision 14). Every call names the client thread that made it (the frame
// header's Thread). Each client thread's calls run on a thread of its own: a goroutine locked
// to an OS thread, made on first use, so each client thread has its own current context, as
// natively. Frames are read in order by one goroutine at a time, the reader: the thread that
// ran the last call reads the next frame; its own call it runs at once, another thread's it
// hands to that thread, and the reading with it. So calls run in the order the client sent
// them, and CUDA's ordering across threads (the legacy stream, events, a mutex handed from one
// thread to another) holds as it did with one thread; a client calling from one thread costs
// no hand-off. A synchronous call of a row that only waits (api.Func.Wait: stream, event and
// context synchronisation) or waits before it frees (api.Func.Drains: cuMemFree_v2, which
// synchronises the device) hands the reading to Serve's goroutine as it enters the backend (or,
// for a thread that calls alone, once it has waited waitInline): it waits on its own thread
// while later calls of other threads run, and answers when done. So eight client threads that
// each synchronise their own stream wait at once.
//
// A thread ends when the client says its thread ended (the row vgpuThreadEnd), when it has run
// nothing for ThreadIdle (its current context is kept and made current again on the thread
// made for its next call), or when the session ends; Serve's goroutine ends them (a thread that
// reads passes such frames to it). At most maxThreads live at once: beyond that the one idle
// the longest ends (its context kept) before a new one starts.

// DefaultThreadIdle: a client thread's thread that has run nothing for this long ends
// (Session.ThreadIdle; checked when frames come, at most once a second).
const DefaultThreadIdle = 30 * time.Second

// maxThreads bounds the threads of one session: a client cannot make the worker start more.
const maxThreads = 256

// threadWorker is the thread of one client thread.
type threadWorker struct {
	id   uint16
	jobs chan job
	call remoting.Call // the Call decoded for the thread's calls, reused
	// end: the client thread ended (forget its context) rather than idled
	end     bool
	exited  chan struct{}
	lastUse time.Time // when the dispatcher last handed it a call
	busy    bool      // a call handed to it has not finished (s.mu)
	// release hands the reading to Serve's goroutine during a call (runOne), and released says
	// it did: made once per thread, so a call allocates no closure
	release  func()
	released bool
	wait     waitSlot // what its waiting calls reuse
}

// waitSlot is what a client thread's waiting calls (api.Func.Wait, api.Func.Drains) reuse from
// one to the next, so that a synchronisation allocates nothing: the call's own Args (the
// session's serve the calls that run meanwhile) and the timer that hands the reading on
// (waitThenRelease). A client thread has one call at a time, so its thread's slot serves one
// wait at a time.
type waitSlot struct {
	own     Args
	state   atomic.Int32  // 0 waiting, 1 returned, 2 released
	fired   chan struct{} // the timer's function has finished (one value a firing)
	timer   *time.Timer
	release func()
}

// ownArgs is a copy of a's scalars in the slot's Args, with empty buffers.
func (w *waitSlot) ownArgs(a *Args) *Args {
	o := &w.own
	n := len(a.Vals)
	vals := o.Vals
	o.Vals = append(vals[:0], a.Vals...)
	o.In, o.Out = resized(o.In, n), resized(o.Out, n)
	o.Thread = a.Thread
	return o
}

// resized is b with n nil entries, reusing its array.
func resized(b [][]byte, n int) [][]byte {
	if cap(b) < n {
		return make([][]byte, n)
	}
	b = b[:n]
	clear(b)
	return b
}

// fire is the timer's function: the call still waits, so the reading goes on (release).
func (w *waitSlot) fire() {
	if w.state.CompareAndSwap(0, 2) {
		w.release()
	}
	w.fired <- struct{}{}
}

// threadSet is the session's threads and what it keeps of ended ones. The fields without a
// note belong to the goroutine that reads (one at a time; the reading is handed over through
// channels).
type threadSet struct {
	m         map[uint16]*threadWorker
	saved     map[uint16]uint64 // contexts current on threads that idled out, by client thread (s.mu)
	toServe   chan readerMsg    // the reading back to Serve's goroutine, with what it must do
	lastSweep time.Time
	failure   error        // a reply that failed after the reading went on (s.mu)
	failed    atomic.Bool  // failure is set
	handoffs  atomic.Int64 // waits that handed the reading to Serve's goroutine (tests)
	// lastNow is the time of the last frame the reader waited for; frames read from the buffer
	// behind it (a batch, read in microseconds) take that time, reading the clock once in
	// clockEvery frames at most (clock)
	lastNow time.Time
	stale   int
	started int // threads started (s.mu; tests)
	live    int // threads running (s.mu; tests)
}

// readerMsg hands the reading to Serve's goroutine: with a frame to route (one only it may),
// with the session's end, or bare (read on).
type readerMsg struct {
	frame   bool
	h       remoting.Header
	payload []byte
	end     bool
	err     error
	sent    time.Time // for the worker's stats (zero without them)
}

// clockEvery bounds how many frames read from the buffer share one reading of the clock.
const clockEvery = 64

// clock is the time a frame was read for the thread table (last use, idle sweeps): tr, when the
// reader waited for the frame, else the time of the last frame it waited for.
func (ts *threadSet) clock(tr time.Time) time.Time {
	if tr.IsZero() {
		if ts.stale++; ts.stale < clockEvery && !ts.lastNow.IsZero() {
			return ts.lastNow
		}
		tr = time.Now()
	}
	ts.lastNow, ts.stale = tr, 0
	return tr
}

func (ts *threadSet) init() {
	ts.m, ts.saved, ts.toServe = map[uint16]*threadWorker{}, map[uint16]uint64{}, make(chan readerMsg, 1)
}

var (
	threadEndID     = api.IDvgpuThreadEnd
	ctxSetCurrentID = api.IDcuCtxSetCurrent
)

// ThreadEnder is a backend that keeps state per client thread (the simulated driver's current
// context): it forgets a thread's when the client thread ends.
type ThreadEnder interface {
	ThreadEnded(thread uint16)
}

// route finds the thread of the call in payload (making it if need be), decodes the call for
// it and returns it with the job to run; nil without error when the frame was a thread's end,
// done here. self is the reading thread (nil: Serve's goroutine); a thread that reads gets
// nil and no job for a frame only Serve's goroutine may route (passOn).
func (s *Session) route(self *threadWorker, h remoting.Header, payload []byte, now time.Time) (*threadWorker, job, error) {
	ts := &s.threads
	if self == nil && s.ThreadIdle > 0 && now.Sub(ts.lastSweep) > min(time.Second, s.ThreadIdle) {
		ts.lastSweep = now
		s.sweepThreads(now)
	}
	tw := ts.m[h.Thread]
	if h.Flags&remoting.FlagAsync != 0 && remoting.CallFn(payload) == uint32(threadEndID) {
		if err := remoting.DecodeCallInto(payload, &remoting.Call{}); err != nil {
			return nil, job{}, s.protocolError("bad call: %v", err)
		}
		if tw != nil {
			s.endThread(tw, true)
			return nil, job{}, nil
		}
		s.mu.Lock()
		delete(ts.saved, h.Thread)
		if te, ok := s.be.(ThreadEnder); ok {
			te.ThreadEnded(h.Thread)
		}
		s.mu.Unlock()
		return nil, job{}, nil
	}
	if tw == nil {
		if len(ts.m) >= maxThreads {
			s.evictThread()
		}
		tw = s.startThread(h.Thread)
	}
	// The thread is idle here unless the client sent a call of a thread that still waits (a
	// client never does: its thread waits for the reply). Such a call gets a Call of its own,
	// and the thread takes it once its wait is over (the jobs channel holds one).
	c := &tw.call
	if tw != self {
		s.mu.Lock()
		if tw.busy {
			c = &remoting.Call{}
		}
		tw.busy = true
		s.mu.Unlock()
	} else {
		tw.busy = true // (its own: it is not waiting, and only it reads busy now)
	}
	if err := remoting.DecodeCallInto(payload, c); err != nil {
		return nil, job{}, s.protocolError("bad call: %v", err)
	}
	tw.lastUse = now
	if s.running.Add(1) == 1 {
		s.busySince.Store(now.UnixNano())
	}
	return tw, job{h: h, c: c}, nil
}

// passOn: a frame that a reading thread leaves to Serve's goroutine: a thread's end, a new
// thread beyond maxThreads, or a frame when idle threads are due to be ended.
func (s *Session) passOn(h remoting.Header, payload []byte, now time.Time) bool {
	ts := &s.threads
	if h.Flags&remoting.FlagAsync != 0 && remoting.CallFn(payload) == uint32(threadEndID) {
		return true
	}
	if _, ok := ts.m[h.Thread]; !ok && len(ts.m) >= maxThreads {
		return true
	}
	return s.ThreadIdle > 0 && now.Sub(ts.lastSweep) > min(time.Second, s.ThreadIdle)
}

// job is a call handed to a thread: its header and its decoded body, whose buffers alias the
// dispatcher's frame buffer (valid until the thread releases the dispatcher).
type job struct {
	h    remoting.Header
	c    *remoting.Call
	sent time.Time // when it was handed over, for the worker's stats (zero without them)
}

func (tw *threadWorker) isBusy(s *Session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return tw.busy
}

// startThread starts the thread of client thread id; a context it had when it idled out is made
// current on it again.
func (s *Session) startThread(id uint16) *threadWorker {
	tw := &threadWorker{id: id, jobs: make(chan job, 1), exited: make(chan struct{})}
	tw.release = func() {
		tw.released = true
		s.threads.handoffs.Add(1)
		s.threads.toServe <- readerMsg{sent: s.stats.stamp()}
	}
	s.threads.m[id] = tw
	s.mu.Lock()
	s.threads.started++
	s.threads.live++
	s.mu.Unlock()
	go s.threadLoop(tw)
	return tw
}

// threadLoop runs the calls of one client thread on a locked OS thread until jobs closes.
// Holding the reading after a call, it reads the next frame: its own call it runs, another
// thread's it hands over (with the reading), and what only Serve's goroutine does goes there.
// The goroutine ends locked, so its OS thread ends with it: no later goroutine runs on a
// thread that has a client thread's context current.
func (s *Session) threadLoop(tw *threadWorker) {
	runtime.LockOSThread()
	defer close(tw.exited)
	s.mu.Lock()
	if ctx, ok := s.threads.saved[tw.id]; ok {
		delete(s.threads.saved, tw.id)
		s.thread = tw.id
		s.invokeRow(ctxSetCurrentID, ctx)
	}
	s.mu.Unlock()
	for j := range tw.jobs {
		s.stats.handedOff(j.sent)
		for s.runOne(tw, j) {
			h, payload, now, end, err := s.readCall()
			if end {
				s.threads.toServe <- readerMsg{end: true, err: err}
				break
			}
			now = s.threads.clock(now)
			if s.passOn(h, payload, now) {
				s.threads.toServe <- readerMsg{frame: true, h: h, payload: payload, sent: s.stats.stamp()}
				break
			}
			next, nj, err := s.route(tw, h, payload, now)
			if err != nil {
				s.threads.toServe <- readerMsg{end: true, err: err}
				break
			}
			if next != tw {
				nj.sent = s.stats.stamp()
				next.jobs <- nj
				break
			}
			j = nj
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if tw.end {
		if te, ok := s.be.(ThreadEnder); ok {
			te.ThreadEnded(tw.id)
		}
		return
	}
	// idled out: keep the current context for the client thread's next call
	s.thread = tw.id
	if a, r := s.invokeRow(ctxGetCurrentID, 0); r == 0 {
		if ctx := le64(cuCtxGetCurrentArgs{a}.pctx()); ctx != 0 {
			s.threads.saved[tw.id] = ctx
		}
	}
}

// runOne runs one call on tw and reports whether tw still holds the reading: it does after a
// call, unless the call waited in the backend (it handed the reading to Serve's goroutine as it
// began to wait) or failed the protocol (the session ends: Serve's goroutine is told).
func (s *Session) runOne(tw *threadWorker, j job) bool {
	tw.released = false
	s.mu.Lock()
	s.thread, s.wait = tw.id, &tw.wait
	err := s.serveCall(j.h, j.c, tw.release)
	s.wait = nil
	released := tw.released
	tw.busy = false
	if err != nil && released && s.threads.failure == nil {
		s.threads.failure = err
		s.threads.failed.Store(true)
	}
	s.mu.Unlock()
	if s.running.Add(-1) < 0 {
		s.running.Store(0)
	}
	switch {
	case !released && err != nil:
		s.threads.toServe <- readerMsg{end: true, err: err}
		return false
	case released && err != nil:
		// the reader is reading: stop it (a blocked read wakes on shutdown, not on close)
		if sh, ok := s.nc.(interface{ Shutdown() error }); ok {
			sh.Shutdown()
		} else {
			s.nc.Close()
		}
	}
	return !released
}

// Waits of a client thread that calls alone (no other thread called within lateWindow) keep the
// reading for up to waitInline: a short synchronisation (a small kernel's) then costs no
// hand-off of the reading to Serve's goroutine and of the next call back to this thread (two
// wake-ups of other OS threads, ~16 µs of launch + synchronise on the H100); a longer one hands
// it on then, so a thread that starts calling meanwhile waits waitInline at most. With other
// threads active, a wait hands the reading on at once.
const (
	waitInline = 50 * time.Microsecond
	lateWindow = 10 * time.Millisecond
)

// aloneLately reports whether no client thread but the one whose call runs (s.thread) was
// handed a call within lateWindow. Only the goroutine that holds the reading calls it (the
// thread table is its to read): a waiting call's thread, before it lets the reading go.
func (s *Session) aloneLately() bool {
	now := time.Now()
	for id, o := range s.threads.m {
		if id != s.thread && now.Sub(o.lastUse) < lateWindow {
			return false
		}
	}
	return true
}

// waitThenRelease runs a waiting row in the backend; if it is still waiting after waitInline,
// w's timer calls release (the reading goes to Serve's goroutine, so other threads' calls run).
// Either the call returns first and the reading stays here, or release has run completely by
// the time this returns: runOne reads what it set.
func (s *Session) waitThenRelease(w *waitSlot, id api.ID, f *api.Func, a *Args, release func()) int32 {
	w.state.Store(0)
	w.release = release
	if w.timer == nil {
		w.fired = make(chan struct{}, 1)
		w.timer = time.AfterFunc(waitInline, w.fire)
	} else {
		w.timer.Reset(waitInline)
	}
	r := s.be.Invoke(id, f, a)
	if !w.state.CompareAndSwap(0, 1) {
		<-w.fired
	} else if !w.timer.Stop() {
		<-w.fired // the timer fired and found the call returned
	}
	return r
}

// threadFailure is the error of a waiting call's reply that failed, if any.
func (s *Session) threadFailure() error {
	if !s.threads.failed.Load() {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.threads.failure
}

// endThread ends tw and waits for it (after the call it runs, if any). end: the client thread
// ended, so its context is forgotten; else it is kept for the client thread's next call.
func (s *Session) endThread(tw *threadWorker, end bool) {
	tw.end = end
	close(tw.jobs)
	<-tw.exited
	delete(s.threads.m, tw.id)
	s.mu.Lock()
	s.threads.live--
	s.mu.Unlock()
	if end {
		s.mu.Lock()
		delete(s.threads.saved, tw.id)
		s.mu.Unlock()
	}
}

// sweepThreads ends the threads that have run nothing for s.ThreadIdle.
func (s *Session) sweepThreads(now time.Time) {
	for _, tw := range s.threads.m {
		if now.Sub(tw.lastUse) >= s.ThreadIdle && !tw.isBusy(s) {
			s.endThread(tw, false)
		}
	}
}

// evictThread ends the thread idle the longest (a busy one, if all are: after its call).
func (s *Session) evictThread() {
	var oldest *threadWorker
	for _, tw := range s.threads.m {
		if oldest == nil || tw.lastUse.Before(oldest.lastUse) {
			oldest = tw
		}
	}
	if oldest != nil {
		s.endThread(oldest, false)
	}
}

// stopThreads ends every thread when the session ends.
func (s *Session) stopThreads() {
	for _, tw := range s.threads.m {
		s.endThread(tw, true)
	}
}
