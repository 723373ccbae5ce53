package server

import (
	"errors"
	"runtime"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// Waits given away (decision 14). A thread whose synchronous call waits (api.Func.Wait,
// api.Func.Drains) gives the wait to a waiter, a thread of the session that makes the same
// context current, waits, and answers, and goes on reading itself, when other client threads
// called lately or when its own last wait lasted waitInline or longer: the waiter's wake-up is
// then on no frame's path. Handing the reading to Serve's goroutine instead puts two wake-ups of
// other OS threads before the next call runs (Serve's, then the call's thread's): on the H100
// the 8-thread test's worker handed the reading on 1,589 times at 31 µs each (2026-12-07 03:31),
// where its rounds of 8 threads at once lagged native by 8–10 ms; and a thread calling alone
// whose synchronisations are long got each next call from Serve's goroutine through a wake-up. A
// short wait of a thread calling alone stays on the thread (waitThenRelease), where a waiter's
// wake-up would come before its answer; so does a wait on the calling thread's per-thread
// default stream, which no other thread has.

// errWaitedAway: the call's wait went to a waiter, which answers it (serveCall).
var errWaitedAway = errors.New("the wait went to a waiter")

// pendingWait is a wait execIn left for a waiter: the row, its own arguments, the ranges a free
// forgot (recorded again if it fails), and the context current on the calling thread.
type pendingWait struct {
	id      api.ID
	f       *api.Func
	a       *Args
	freed   []freedRange
	tracked bool
	ctx     uint64
}

// awayCall is a wait on its way to a waiter, with what answering it takes.
type awayCall struct {
	h       remoting.Header
	fn      uint32
	t0      time.Time
	tw      *threadWorker // the thread whose call it is (busy until answered)
	pending pendingWait
}

// waiter is a thread (a goroutine locked to an OS thread) that runs waits given to it.
type waiter struct {
	jobs   chan awayCall
	ctx    uint64 // the context current on it
	ctxSet bool
}

// streamPerThread is CU_STREAM_PER_THREAD, the calling thread's default stream.
const streamPerThread = 0x2

// canWaitAway reports whether wait f with arguments a may run on a waiter: it names no
// per-thread default stream, and a waiter is idle or may be made. s.mu is held.
func (s *Session) canWaitAway(f *api.Func, a *Args) bool {
	for i := range f.Params {
		if p := &f.Params[i]; p.Kind == api.Handle && p.H == api.HStream && (a.Vals[i] == streamPerThread || f.PTSZ && a.Vals[i] == 0) {
			return false
		}
	}
	return len(s.threads.idle) > 0 || len(s.threads.waiters) < maxThreads
}

// currentContext is the context current on the calling thread (s.thread's), for a waiter.
func (s *Session) currentContext() (uint64, bool) {
	a, r := s.invokeRow(ctxGetCurrentID, 0)
	if r != 0 {
		return 0, false
	}
	return le64(cuCtxGetCurrentArgs{a}.pctx()), true
}

// startWaitAway gives ac to an idle waiter, or to a new one. s.mu is held.
func (s *Session) startWaitAway(ac awayCall) {
	ts := &s.threads
	var w *waiter
	if n := len(ts.idle); n > 0 {
		w, ts.idle = ts.idle[n-1], ts.idle[:n-1]
	} else {
		w = &waiter{jobs: make(chan awayCall, 1)}
		ts.waiters = append(ts.waiters, w)
		go s.waiterLoop(w)
	}
	ts.waits.Add(1)
	w.jobs <- ac
}

// waiterLoop runs the waits given to w until its channel closes. It ends locked, so its OS
// thread, which has a context current, ends with it.
func (s *Session) waiterLoop(w *waiter) {
	runtime.LockOSThread()
	for ac := range w.jobs {
		s.runAway(w, ac)
		s.threads.waits.Done()
	}
}

// runAway runs a wait on waiter w with the calling thread's context current, then answers it
// as serveCall would have.
func (s *Session) runAway(w *waiter, ac awayCall) {
	p := &ac.pending
	if !w.ctxSet || w.ctx != p.ctx {
		s.be.Invoke(ctxSetCurrentID, &api.Table[ctxSetCurrentID], &Args{Vals: []uint64{p.ctx}, In: make([][]byte, 1), Out: make([][]byte, 1), Thread: p.a.Thread})
		w.ctx, w.ctxSet = p.ctx, true
	}
	t0 := time.Now()
	result := s.be.Invoke(p.id, p.f, p.a)
	long := time.Since(t0) >= waitInline
	s.mu.Lock()
	ac.tw.longWaits = long
	s.thread = p.a.Thread
	if result != 0 {
		for _, r := range p.freed { // not freed after all
			s.allocs.Add(r.base, r.size)
		}
	}
	r, outs, note, err := s.execTail(p.id, p.f, p.a, result, p.tracked)
	ac.tw.busy = false // (before the answer, after which the client thread calls again)
	err = s.answer(ac.h, ac.fn, r, outs, note, err, ac.t0, true)
	if err != nil && s.threads.failure == nil {
		s.threads.failure = err
		s.threads.failed.Store(true)
	}
	s.threads.idle = append(s.threads.idle, w)
	s.mu.Unlock()
	if s.running.Add(-1) < 0 {
		s.running.Store(0)
	}
	if err != nil {
		// the reader is reading: stop it (a blocked read wakes on shutdown, not on close)
		if sh, ok := s.nc.(interface{ Shutdown() error }); ok {
			sh.Shutdown()
		} else {
			s.nc.Close()
		}
	}
}

// trimWaiters ends idle waiters while there are more waiters than threads (whose waits they
// run, one each at most). s.mu is held.
func (s *Session) trimWaiters() {
	ts := &s.threads
	for len(ts.waiters) > ts.live && len(ts.idle) > 0 {
		w := ts.idle[len(ts.idle)-1]
		ts.idle = ts.idle[:len(ts.idle)-1]
		for i, o := range ts.waiters {
			if o == w {
				ts.waiters = append(ts.waiters[:i], ts.waiters[i+1:]...)
				break
			}
		}
		close(w.jobs)
	}
}

// stopWaiters waits for the waits running and ends the waiters (the session's end).
func (s *Session) stopWaiters() {
	s.threads.waits.Wait()
	s.mu.Lock()
	ws := s.threads.waiters
	s.threads.waiters, s.threads.idle = nil, nil
	s.mu.Unlock()
	for _, w := range ws {
		close(w.jobs)
	}
}
