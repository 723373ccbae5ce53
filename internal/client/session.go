// Package client is the logic of the vgpu core (libvgpucore.so): it receives every call of every
// stub library, answers what it can locally, and carries the rest over the process's one
// connection to vgpu-server. It has no cgo; shims/core only converts between C and Go.
package client

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
	"github.com/vgpu/vgpu/internal/version"
	"github.com/vgpu/vgpu/internal/vlog"
)

// Version is the core's version, reported in the handshake (internal/version: set by the build).
var Version = version.Version

// WriteStdout writes the GPU's printf output where the program's own printf goes (shims/core
// sets it to write through C's stdout, so the two stay in order).
var WriteStdout = func(b []byte) { os.Stdout.Write(b) }

// session is the process's one connection to the server. Any thread may write calls (under mu);
// the replies of synchronous calls, one outstanding per calling thread, are read by whichever
// waiting thread holds the read side (reading) and handed to their threads by request id
// (decision 14).
type session struct {
	mu      sync.Mutex
	nc      io.Closer
	conn    *remoting.Conn
	addr    string
	welcome remoting.Welcome
	reqID   uint64
	broken  error // set once the connection failed; every later call fails fast

	// deferred holds, per code space, the first failure of an async call, reported by a later
	// call answering in the same codes (finishSync).
	deferred [numSpaces]asyncFailure

	flushArmed bool
	lastSend   time.Time // when queued async calls were last written
	lastWrite  time.Time // when anything was last written (keepalives)
	keepalive  time.Duration
	stop       chan struct{} // closed when the session breaks: the keepalive goroutine ends
	serverIdle bool          // every call sent so far has been answered
	// the calls written since the last reply (the worker runs them in order): if the connection
	// drops, one of them was running when the worker ended
	unansweredN                     int
	unansweredFirst, unansweredLast uint32
	buf                             []byte

	// waiters are the synchronous calls written and not answered, by request id; reading is
	// set while a thread reads replies for all of them. parked are the waiters whose threads
	// sleep in await: each is woken alone (waiter.wake, under mu) when its reply was handed
	// over, one of them when the reader left, all when the session broke.
	waiters map[uint64]*waiter
	reading bool
	parked  []*waiter

	// threads: the number each calling thread's calls carry (remoting.Header.Thread), by OS
	// thread id; free holds the numbers of ended threads for reuse.
	threads    map[int]uint16
	free       []uint16
	nextThread uint16

	// ringSize: the frames travel through shared memory, in rings of this size (0: through the
	// socket); every call is then written at once (sendAsyncLocked)
	ringSize uint64

	shmMu    sync.Mutex   // one bulk copy or ring upload at a time (the shared memory's halves and ring)
	shm      []byte       // shared with the worker (unix sockets): bulk copies go through it
	pool     *pool        // the pool of pinned allocations after shm in its memfd (pool.go; nil: none)
	blocks   blockUploads // uploads as cached blocks (runs.go; sockets without shared memory)
	ringUsed uint64       // bytes of the shared memory's ring holding uploads not yet fenced (shmMu)
	st       stats        // VGPU_STATS counters
	// primary contexts' states by device, while active (primary.go); primaryGen counts
	// the times they were forgotten
	primary    map[uint64]primaryState
	primaryGen uint64
}

// replyTarget is where a synchronous call's reply goes (call.go's pendingCall): direct gives
// the caller's memory for FrameData output idx (nil: none pending), fill sees the reply while
// its payload is valid (outputs alias the connection's read buffer).
type replyTarget interface {
	direct(idx uint32) []byte
	fill(*remoting.Reply) error
}

// waiter is a synchronous call waiting for its reply.
type waiter struct {
	to     replyTarget // where its outputs go (nil: none expected)
	req    uint64      // the request it waits for: a waiter is reused (waiterPool) once its await returns
	done   bool
	result int32
	parked bool              // its thread sleeps in await, on wake (s.mu)
	wake   remoting.WakeFlag // its thread's wake-up (through the kernel): s.mu is held to set it
	wokeAt time.Time         // when it was woken (s.mu; VGPU_STATS)
}

// waiterPool keeps waiters between calls: a synchronous call allocates none.
var waiterPool = sync.Pool{New: func() any { return &waiter{} }}

// wakeOne wakes w's thread if it sleeps in await; s.mu is held.
func (w *waiter) wakeOne() {
	if w.parked && w.wake.Set() { // (false: woken already)
		w.wokeAt = time.Now()
	}
}

// wakeReader wakes one sleeping thread whose reply has not come, to read the replies now
// that nobody does; s.mu is held.
func (s *session) wakeReader() {
	for _, w := range s.parked {
		if !w.done {
			w.wakeOne()
			return
		}
	}
}

// wakeAll wakes every sleeping thread (the session broke); s.mu is held.
func (s *session) wakeAll() {
	for _, w := range s.parked {
		w.wakeOne()
	}
}

// park sleeps until w is woken; s.mu is held, released while asleep.
func (s *session) park(w *waiter) {
	w.parked = true
	w.wake.Reset()
	s.parked = append(s.parked, w)
	s.mu.Unlock()
	w.wake.Wait()
	s.mu.Lock()
	if !w.wokeAt.IsZero() {
		// woken for its reply, or to read the replies on (VGPU_STATS)
		if d := time.Since(w.wokeAt); w.done {
			s.st.wokenForReply++
			s.st.wokenForReplyNs += uint64(d)
		} else {
			s.st.wokenToRead++
			s.st.wokenToReadNs += uint64(d)
		}
		w.wokeAt = time.Time{}
	}
	w.parked = false
	for i, o := range s.parked {
		if o == w {
			s.parked = append(s.parked[:i], s.parked[i+1:]...)
			break
		}
	}
}

// newSession makes a session on conn (nc: the connection to close).
func newSession(nc io.Closer, conn *remoting.Conn, addr string) *session {
	return &session{nc: nc, conn: conn, addr: addr, waiters: map[uint64]*waiter{}, threads: map[int]uint16{}}
}

var (
	sessMu      sync.Mutex
	sess        *session
	lastDialErr error
	lastDial    time.Time
)

// dialTimeout bounds connecting and the handshake: a dead server is an error, never a hang.
const dialTimeout = 5 * time.Second

// getSession returns the connected session, connecting on first use. A failed attempt is retried
// at most once a second; its reason is logged once.
func getSession() (*session, error) {
	sessMu.Lock()
	defer sessMu.Unlock()
	if sess != nil {
		return sess, nil
	}
	if lastDialErr != nil && time.Since(lastDial) < time.Second {
		return nil, lastDialErr
	}
	lastDial = time.Now()
	s, err := dial()
	if err != nil {
		lastDialErr = err
		vlog.Once("dial:"+err.Error(), "%v", err)
		return nil, err
	}
	lastDialErr = nil
	sess = s
	s.applySched()
	return s, nil
}

// dial connects to the first (with one address, the only) server of the address list.
func dial() (*session, error) {
	addrs, source, err := remoting.ServerAddresses()
	if err != nil {
		return nil, fmt.Errorf("no vgpu server address: %w", err)
	}
	return dialAddr(addrs[0], source)
}

// dialAddr connects to the server at addr (source: where the address came from) and makes the
// session.
func dialAddr(addr, source string) (*session, error) {
	a, err := remoting.ParseAddr(addr)
	if err != nil {
		return nil, fmt.Errorf("bad vgpu server address %q (from %s): %w", addr, source, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	nc, err := remoting.Dial(ctx, a)
	if err != nil {
		return nil, fmt.Errorf("cannot reach vgpu-server at %s (address from %s; set VGPU_SERVER to change it): %w", addr, source, err)
	}
	// A tcp:// server is reached over TLS unless the client was told otherwise (VGPU_INSECURE=1).
	var sec remoting.ClientSecurity
	useTLS := false
	if a.Scheme == "tcp" {
		if sec, err = remoting.LoadClientSecurity(); err != nil {
			nc.Close()
			return nil, fmt.Errorf("vgpu client security settings: %w", err)
		}
		useTLS = !sec.Insecure
	}
	// From here on, the connection uses blocking system calls on the caller's own thread (TLS
	// included: crypto/tls runs over the FDConn).
	fc, err := remoting.NewFDConn(nc)
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("vgpu-server at %s: %w", addr, err)
	}
	fc.SetDeadline(time.Now().Add(dialTimeout))
	s := newSession(fc, remoting.NewConn(fc), addr)
	var tc *tls.Conn
	var capt *remoting.TLSCapture
	if useTLS {
		cfg, err := sec.TLSConfig(a)
		if err != nil {
			fc.Close()
			return nil, fmt.Errorf("vgpu-server at %s: %w", addr, err)
		}
		capt = &remoting.TLSCapture{Conn: fc}
		cfg.KeyLogWriter = capt.KeyLog()
		tc = tls.Client(capt, cfg)
		if err := tc.Handshake(); err != nil {
			fc.Close()
			return nil, remoting.ExplainTLSError(err, a)
		}
		capt.HandshakeDone()
		s.conn = remoting.NewConn(tc)
	}
	// shared memory only where descriptors pass: on a unix socket
	sh := s.makeShared(0, 0, 0)
	if a.Scheme == "unix" {
		sh = s.makeShared(shmSize, pinnedSize, ringSize)
	}
	defer sh.close()
	if err := s.handshake(tc, sec); err != nil {
		fc.Close()
		if tc != nil {
			var re *remoting.ErrorMsg
			if !errors.As(err, &re) {
				err = remoting.ExplainTLSError(err, a)
			}
		}
		return nil, fmt.Errorf("vgpu-server at %s refused the session: %w", addr, err)
	}
	if tc != nil {
		// After the Welcome, the session's records are read and written by a RecordConn on the
		// caller's thread: large reads and one system call per 64 KiB written, where
		// crypto/tls makes one a record (a session it cannot take stays with crypto/tls).
		if err := s.takeRecords(capt, tc, fc); err != nil {
			vlog.Debugf("TLS records stay with crypto/tls: %v", err)
		}
	}
	fc.SetDeadline(time.Time{})
	if err := s.passShared(fc, sh); err != nil {
		fc.Close()
		return nil, fmt.Errorf("vgpu-server at %s: %w", addr, err)
	}
	s.startKeepalive(fc, keepaliveInterval)
	vlog.Debugf("connected to %s (backend %s, server %s, session %d)", addr, s.welcome.Backend, s.welcome.ServerVersion, s.welcome.Session)
	return s, nil
}

// shared is the shared memory a session on a unix socket passes its worker after the Welcome:
// for bulk copies (shm.go) and for the frames' rings (remoting.FDConn.UseRings); -1 where none.
type shared struct {
	shmFD, ringFD int
	ringMem       []byte
}

// makeShared creates the shared memory, of shm bytes for bulk copies followed by pinned bytes
// for the program's pinned allocations (pool.go), and rings of ring bytes (0: none), and notes
// it in the session (announced in the Hello); a failure only leaves that part out.
func (s *session) makeShared(shm, pinned int, ring uint64) shared {
	sh := shared{shmFD: -1, ringFD: -1}
	if shm > 0 {
		if fd, m, err := newShm(shm + pinned); err == nil {
			sh.shmFD, s.shm = fd, m[:shm:shm]
			if pinned > 0 {
				s.pool = newPool(m[shm:], uint64(shm))
			}
		} else {
			vlog.Once("shm", "no shared memory with the server (memfd: %v): bulk copies go through the socket, slower", err)
		}
	}
	if ring > 0 {
		if fd, m, err := remoting.NewSealedMemfd("vgpu-frames", int(remoting.RingsSize(ring))); err == nil {
			sh.ringFD, sh.ringMem, s.ringSize = fd, m, ring
		} else {
			vlog.Once("rings", "no shared memory for calls and replies (memfd: %v): they go through the socket, slower", err)
		}
	}
	return sh
}

// sharedSize is the shared memory's whole size: the bulk copies' part and the pool.
func (s *session) sharedSize() uint64 {
	n := uint64(len(s.shm))
	if s.pool != nil {
		n += uint64(len(s.pool.mem))
	}
	return n
}

// passShared passes the shared memory after the Welcome and, with rings, moves the session's
// frames to them: the worker does so at the same point of the stream, once it has the memory.
func (s *session) passShared(fc *remoting.FDConn, sh shared) error {
	for _, fd := range []int{sh.shmFD, sh.ringFD} {
		if fd < 0 {
			continue
		}
		if err := fc.SendFD(fd); err != nil {
			return fmt.Errorf("passing shared memory: %w", err)
		}
	}
	if sh.ringFD >= 0 {
		return fc.UseRings(sh.ringMem, s.ringSize, true)
	}
	return nil
}

// close closes the descriptors (the mappings stay).
func (sh shared) close() {
	for _, fd := range []int{sh.shmFD, sh.ringFD} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// takeRecords moves the session from tc to a RecordConn over fc carrying it on.
func (s *session) takeRecords(capt *remoting.TLSCapture, tc *tls.Conn, fc *remoting.FDConn) error {
	defer capt.Stop()
	if n := s.conn.ReadBuffered(); n != 0 {
		return fmt.Errorf("%d bytes read past the Welcome", n)
	}
	st, err := capt.Handoff(tc, true)
	if err != nil {
		return err
	}
	rc, err := remoting.NewRecordConn(fc, st)
	if err != nil {
		return err
	}
	s.conn = remoting.NewConn(rc)
	return nil
}

// keepaliveInterval is VGPU_KEEPALIVE_S seconds (default 15; 0 turns keepalives and the
// stall timeout off). A session that has written nothing for this long sends a keepalive, so
// the worker never takes an idle but live program for a stopped one; and a call whose server
// sends nothing at all (no reply, no keepalive: the worker sends one this often while a call
// runs long) for three times this fails as a lost connection.
var keepaliveInterval = settings.KeepaliveS.Get()

// startKeepalive sets the stall timeout of fc's reads and writes to three keepalive intervals
// and starts the goroutine that sends keepalives when the session has written nothing for one.
func (s *session) startKeepalive(fc *remoting.FDConn, k time.Duration) {
	s.lastWrite = time.Now()
	if k <= 0 {
		return
	}
	s.keepalive = k
	fc.ReadIdle = 3 * k
	fc.SetWriteIdle(3 * k)
	s.stop = make(chan struct{})
	go s.keepalives()
}

// keepalives checks twice an interval whether the session has written anything for one, and
// if so sends a keepalive. It never waits for the session's lock: while another thread holds
// it, that thread is talking to the server (or waiting for a reply the worker is busy with).
func (s *session) keepalives() {
	tick := time.NewTicker(s.keepalive / 2)
	defer tick.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-tick.C:
		}
		if !s.mu.TryLock() {
			continue
		}
		if s.broken == nil && time.Since(s.lastWrite) >= s.keepalive {
			if err := s.conn.WriteFrame(remoting.KeepaliveHeader, nil); err != nil {
				s.fail(err)
			} else if err := s.flush(); err != nil {
				s.fail(err)
			}
		}
		s.mu.Unlock()
	}
}

func (s *session) handshake(tc *tls.Conn, sec remoting.ClientSecurity) error {

	host, _ := os.Hostname()
	exe, _ := os.Executable()
	hello := remoting.Hello{
		Version:   remoting.ProtocolVersion,
		TableHash: api.TableHash(),
		PID:       uint32(os.Getpid()),
		UID:       uint32(os.Getuid()),
		Host:      host,
		Exe:       filepath.Base(exe),
		ShmSize:   s.sharedSize(),
		RingSize:  s.ringSize,
	}
	if tc != nil {
		if err := sec.Authenticate(tc, &hello); err != nil {
			return err
		}
	}
	p := remoting.AppendHello(nil, &hello)
	if err := s.conn.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameHello}, p); err != nil {
		return err
	}
	if err := s.conn.Flush(); err != nil {
		return err
	}
	h, payload, err := s.conn.ReadFrame()
	if err != nil {
		return err
	}
	switch h.Type {
	case remoting.FrameWelcome:
		w, err := remoting.DecodeWelcome(payload)
		if err != nil {
			return err
		}
		s.welcome = w
		return nil
	case remoting.FrameError:
		e, err := remoting.DecodeError(payload)
		if err != nil {
			return err
		}
		return &e
	}
	return fmt.Errorf("unexpected %v frame in the handshake", h.Type)
}

// unansweredNote names the calls the worker had not answered when the connection dropped: a
// worker that crashed in a host library did so in one of them (its stack is in the server's log).
func (s *session) unansweredNote() string {
	if s.unansweredN == 0 {
		return ""
	}
	name := func(fn uint32) string {
		if int(fn) < len(api.Table) {
			return api.Table[fn].Name
		}
		return fmt.Sprintf("call %d", fn)
	}
	if s.unansweredN == 1 {
		return fmt.Sprintf(" while %s was unanswered (if the worker crashed, it was in that call: the server's log has its stack)", name(s.unansweredLast))
	}
	return fmt.Sprintf(" while %d calls were unanswered, %s first and %s last (if the worker crashed, it was in one of them: the server's log has its stack)", s.unansweredN, name(s.unansweredFirst), name(s.unansweredLast))
}

// fail marks the session broken: the server is gone, stalled or spoke nonsense. Every later
// call returns the library's unreachable code at once.
func (s *session) fail(err error) error {
	if s.broken == nil {
		var em *remoting.ErrorMsg
		if !errors.As(err, &em) && !s.reading {
			if e := s.pendingError(); e != nil {
				err = e // why the server ended the session (it shut down, for one)
			}
		}
		s.broken = err
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			// nothing came (or nothing could be written) for three keepalive intervals: a live
			// worker sends a keepalive every interval while a call runs
			s.broken = fmt.Errorf("vgpu-server at %s sent nothing for %v: the server or its worker is stalled", s.addr, 3*s.keepalive)
			vlog.Errorf("%v%s; CUDA calls fail from now on", s.broken, s.unansweredNote())
		} else {
			vlog.Errorf("lost the vgpu-server connection (%s): %v%s; CUDA calls fail from now on", s.addr, err, s.unansweredNote())
		}
		if s.stop != nil {
			close(s.stop)
		}
		if sh, ok := s.nc.(interface{ Shutdown() error }); ok {
			sh.Shutdown() // wakes a thread blocked reading (a close alone does not)
		}
		s.nc.Close()
		s.wakeAll()
	}
	return s.broken
}

// pendingError looks, briefly, for an Error frame the server sent before the connection failed:
// a write fails (EPIPE) when the server ended the session, but its reason may be waiting to be
// read. s.mu is held and no thread reads.
func (s *session) pendingError() *remoting.ErrorMsg {
	type readDeadliner interface{ SetReadDeadline(time.Time) error }
	rd, ok := s.nc.(readDeadliner)
	if !ok || rd.SetReadDeadline(time.Now().Add(200*time.Millisecond)) != nil {
		return nil
	}
	for range 64 {
		h, p, err := s.conn.ReadFrame()
		if err != nil {
			return nil
		}
		if h.Type == remoting.FrameError {
			if e, err := remoting.DecodeError(p); err == nil {
				return &e
			}
			return nil
		}
	}
	return nil
}

// roundTrip sends a synchronous call of OS thread tid and waits for its reply, which goes to to
// (nil: a call without outputs).
func (s *session) roundTrip(c *remoting.Call, tail []byte, tid int, to replyTarget) (int32, error) {
	s.mu.Lock()
	req, w, err := s.sendWaiting(c, tail, tid, to)
	if err != nil {
		s.mu.Unlock()
		return 0, err
	}
	return s.await(req, w)
}

// sendWaiting writes and flushes a synchronous call of OS thread tid and registers its waiter;
// s.mu is held.
func (s *session) sendWaiting(c *remoting.Call, tail []byte, tid int, to replyTarget) (uint64, *waiter, error) {
	if s.broken != nil {
		return 0, nil, s.broken
	}
	if err := s.writeCall(c, tail, 0, s.threadNumber(tid)); err != nil {
		return 0, nil, s.fail(err)
	}
	w := waiterPool.Get().(*waiter)
	w.to, w.req = to, s.reqID
	s.waiters[s.reqID] = w
	s.st.mostAwaited = max(s.st.mostAwaited, uint64(len(s.waiters)))
	if err := s.flush(); err != nil {
		return 0, nil, s.fail(err)
	}
	return s.reqID, w, nil
}

// flush writes the queued frames: one write, counted and timed for VGPU_STATS; s.mu is held.
func (s *session) flush() error {
	t0 := time.Now()
	s.st.writes++
	s.lastWrite = t0
	err := s.conn.Flush()
	s.st.writeNs += uint64(time.Since(t0))
	return err
}

// await waits for the reply to request req (waiter w); s.mu is held, and released on return.
// The first thread to wait reads the connection and hands other threads their replies; a
// thread whose reply came to another waits to be woken (alone: no other thread wakes for it),
// and takes over the reading when the reader leaves before its reply came. w goes back to
// waiterPool.
func (s *session) await(req uint64, w *waiter) (int32, error) {
	t0 := time.Now()
	defer func() {
		s.st.waitNs += uint64(time.Since(t0))
		*w = waiter{} // (under mu: a reader may still hold w, and reads it under mu)
		s.mu.Unlock()
		waiterPool.Put(w)
	}()
	for !w.done && s.reading && s.broken == nil {
		s.park(w)
	}
	if !w.done && s.broken == nil {
		s.reading = true
		s.mu.Unlock()
		in, err := s.readReplies(w)
		s.mu.Lock()
		s.reading = false
		s.st.bytesIn += in
		if err != nil {
			s.fail(err)
		}
		s.wakeReader() // another waiter reads now
	}
	if w.done {
		return w.result, nil
	}
	delete(s.waiters, req)
	return 0, s.broken
}

// readReplies reads frames until w's reply has come, handing each reply (and the FrameData
// before it) to its waiter; it returns the bytes read. s.mu is not held: it is taken only to
// find a waiter and to mark one done. On the way it writes the GPU's printf output
// (FrameOutput). A failure breaks the session (the caller calls fail).
func (s *session) readReplies(w *waiter) (uint64, error) {
	var in uint64
	for {
		h, err := s.conn.ReadHeader()
		if err != nil {
			return in, err
		}
		in += 16 + uint64(h.Length)
		if h.Type == remoting.FrameKeepalive {
			continue // the worker is alive, busy with a long call
		}
		if h.Type == remoting.FrameData {
			// An output's bytes, straight into the caller's memory.
			s.mu.Lock()
			var to replyTarget
			if dw := s.waiters[h.ReqID]; dw != nil {
				to = dw.to // (read under mu: a waiter is reused once its await returns)
			}
			s.mu.Unlock()
			var idx [4]byte
			if to == nil || h.Length < 4 || s.conn.ReadBody(idx[:]) != nil {
				return in, errors.New("unexpected or short data frame")
			}
			dst := to.direct(uint32(idx[0]) | uint32(idx[1])<<8 | uint32(idx[2])<<16 | uint32(idx[3])<<24)
			if dst == nil || len(dst) != int(h.Length)-4 {
				return in, errors.New("data frame for no pending output")
			}
			if err := s.conn.ReadBody(dst); err != nil {
				return in, err
			}
			continue
		}
		payload, err := s.conn.ReadPayload(h)
		if err != nil {
			return in, err
		}
		switch h.Type {
		case remoting.FrameReply:
			s.mu.Lock()
			dw := s.waiters[h.ReqID]
			delete(s.waiters, h.ReqID)
			var to replyTarget
			if dw != nil {
				to = dw.to // (read under mu: a waiter is reused once its await returns)
			}
			s.mu.Unlock()
			if dw == nil {
				return in, fmt.Errorf("reply to request %d, which no call waits for", h.ReqID)
			}
			r, err := remoting.DecodeReply(payload)
			if err != nil {
				return in, err
			}
			if to != nil {
				if err := to.fill(&r); err != nil {
					return in, err
				}
			}
			s.mu.Lock()
			if r.DeferredCode != 0 {
				s.noteDeferred(r.DeferredFn, r.DeferredCode)
			}
			if dw.req != h.ReqID {
				// its thread gave up (the session broke meanwhile) and the waiter serves
				// another call now
				s.mu.Unlock()
				continue
			}
			dw.result, dw.done = r.Result, true
			if h.ReqID == s.reqID {
				s.serverIdle = true
				s.unansweredN = 0
			}
			if dw != w {
				dw.wakeOne()
			}
			s.mu.Unlock()
			if dw == w {
				return in, nil
			}
		case remoting.FrameOutput:
			WriteStdout(payload) // the GPU's printf, through the program's own stdout
		case remoting.FrameError:
			e, err := remoting.DecodeError(payload)
			if err != nil {
				return in, err
			}
			return in, &e
		default:
			return in, fmt.Errorf("unexpected %v frame", h.Type)
		}
	}
}

// threadNumber is the number the calls of OS thread tid carry (given on its first call); s.mu
// is held.
func (s *session) threadNumber(tid int) uint16 {
	if n, ok := s.threads[tid]; ok {
		return n
	}
	var n uint16
	switch {
	case len(s.free) > 0:
		n = s.free[len(s.free)-1]
		s.free = s.free[:len(s.free)-1]
	case s.nextThread < maxThreadNumber:
		s.nextThread++
		n = s.nextThread
	default:
		// more live threads than numbers: the rest share 0 (one thread in the worker)
		vlog.Once("threads", "more than %d threads call CUDA at once: the others share one thread in the worker", maxThreadNumber)
		return 0
	}
	s.threads[tid] = n
	return n
}

// maxThreadNumber is the most thread numbers a session gives out at once.
const maxThreadNumber = 65535

// threadEnded tells the worker that OS thread tid has ended (it frees the thread it ran tid's
// calls on) and frees its number.
func (s *session) threadEnded(tid int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n, ok := s.threads[tid]
	if !ok {
		return
	}
	delete(s.threads, tid)
	if s.broken != nil {
		return
	}
	if err := s.writeCall(&remoting.Call{Fn: uint32(threadEndID)}, nil, remoting.FlagAsync, n); err != nil {
		s.fail(err)
		return
	}
	s.free = append(s.free, n) // (the worker sees the end before any later call with n)
	s.armFlush()
}

const threadEndID = api.IDvgpuThreadEnd

// flushDelay bounds how long queued async calls wait for a synchronising call before they are
// written anyway, so the GPU never idles behind a client that is busy on the CPU.
const flushDelay = 200 * time.Microsecond

// idleGap: an async call this long after the last write is sent at once.
const idleGap = 100 * time.Microsecond

// maxQueued is how many bytes of async calls are queued before they are written.
const maxQueued = 256 << 10

// sendAsync queues an async call of OS thread tid without waiting for anything.
func (s *session) sendAsync(c *remoting.Call, tail []byte, tid int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return s.broken
	}
	return s.sendAsyncLocked(c, tail, tid)
}

// sendAsyncLocked is sendAsync with s.mu held and the session not broken.
func (s *session) sendAsyncLocked(c *remoting.Call, tail []byte, tid int) error {
	wasEmpty := s.conn.Buffered() == 0
	if err := s.writeCall(c, tail, remoting.FlagAsync, s.threadNumber(tid)); err != nil {
		return s.fail(err)
	}
	// The first call after an idle spell goes out at once, so the GPU starts on it while the
	// program prepares the next; a burst that follows is batched. Through the rings every call
	// goes at once: writing one is a copy into shared memory, not a system call.
	now := time.Now()
	idle := wasEmpty && (s.serverIdle || now.Sub(s.lastSend) > idleGap)
	if idle || s.ringSize > 0 || s.conn.Buffered() >= maxQueued {
		s.lastSend, s.serverIdle = now, false
		if err := s.flush(); err != nil {
			return s.fail(err)
		}
		return nil
	}
	s.armFlush()
	return nil
}

// armFlush makes sure queued calls are written within flushDelay; s.mu is held.
func (s *session) armFlush() {
	if !s.flushArmed && s.conn.Buffered() > 0 {
		s.flushArmed = true
		time.AfterFunc(flushDelay, s.timedFlush)
	}
}

// flushQueued writes the queued async calls now.
func (s *session) flushQueued() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil || s.conn.Buffered() == 0 {
		return
	}
	s.lastSend, s.serverIdle = time.Now(), false
	if err := s.flush(); err != nil {
		s.fail(err)
	}
}

func (s *session) timedFlush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushArmed = false
	if s.broken == nil && s.conn.Buffered() > 0 {
		if err := s.flush(); err != nil {
			s.fail(err)
		}
	}
}

// writeCall queues call c (with its last input buffer tail) for client thread number thread.
func (s *session) writeCall(c *remoting.Call, tail []byte, flags uint8, thread uint16) error {
	s.reqID++
	if tail != nil {
		s.buf = remoting.AppendCallPrefix(s.buf[:0], c, len(tail))
	} else {
		s.buf = remoting.AppendCall(s.buf[:0], c)
	}
	n := len(s.buf) + len(tail)
	if n > remoting.MaxPayload {
		return errors.New("call larger than the protocol's frame limit")
	}
	s.st.call(c.Fn, flags&remoting.FlagAsync != 0, n)
	if s.unansweredN == 0 {
		s.unansweredFirst = c.Fn
	}
	s.unansweredN++
	s.unansweredLast = c.Fn
	h := remoting.Header{Length: uint32(n), Type: remoting.FrameCall, Flags: flags, Thread: thread, ReqID: s.reqID}
	if tail != nil {
		return s.conn.WriteFrame(h, s.buf, tail)
	}
	return s.conn.WriteFrame(h, s.buf)
}

// asyncFailure is an async call's failure: its row and its result.
type asyncFailure struct {
	fn   uint32
	code int32
}

// codeSpace is the result codes a library answers in. An async call's failure is reported by a
// later call answering in its codes: CUresult and cudaError_t share theirs for what an async
// call fails with, cublasStatus_t is its own.
type codeSpace uint8

const (
	spaceCUDA codeSpace = iota
	spaceCublas
	numSpaces
)

// spaceOf is the code space lib answers in (NVML has no async calls: counted with CUDA).
func spaceOf(lib api.Lib) codeSpace {
	if lib.ResultType() == "cublasStatus_t" {
		return spaceCublas
	}
	return spaceCUDA
}

// rowSpace is the code space row fn answers in.
func rowSpace(fn uint32) codeSpace {
	if int(fn) < len(api.Table) && len(api.Table[fn].Libs) > 0 {
		return spaceOf(api.Table[fn].Libs[0])
	}
	return spaceCUDA
}

// noteDeferred keeps the async failure of row fn unless one of its code space waits already;
// s.mu held.
func (s *session) noteDeferred(fn uint32, code int32) {
	if d := &s.deferred[rowSpace(fn)]; d.code == 0 {
		*d = asyncFailure{fn, code}
	}
}

// takeDeferred returns and clears the first unreported async failure in code space sp.
func (s *session) takeDeferred(sp codeSpace) (uint32, int32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.deferred[sp]
	s.deferred[sp] = asyncFailure{}
	return d.fn, d.code
}

// deferredPending reports whether an async failure waits to be reported, in any code space.
func (s *session) deferredPending() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deferred != [numSpaces]asyncFailure{}
}

// forgetDeferredOf drops the unreported async failure if row fn made it: a synchronous row's
// pieces sent without waiting are the only async calls of such a row.
func (s *session) forgetDeferredOf(fn uint32) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := &s.deferred[rowSpace(fn)]; d.code != 0 && d.fn == fn {
		*d = asyncFailure{}
	}
}
