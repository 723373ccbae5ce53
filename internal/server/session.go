package server

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/bits"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/ranges"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/version"
)

// Version is the server's version, reported in the handshake (internal/version: set by the build).
var Version = version.Version

// maxOut bounds one output buffer a client may ask for (a D2H copy chunk, a name).
const maxOut = remoting.MaxPayload - 4096

// DefaultHandshakeTimeout: a peer that connects and says nothing, or announces shared memory
// and passes none, is dropped after this long (Session.HandshakeTimeout; the server's
// handshake_timeout).
const DefaultHandshakeTimeout = 10 * time.Second

// The defaults of a session's timeouts after the handshake (Session.IdleTimeout, FrameTimeout,
// Keepalive; the worker's --idle-timeout, --frame-timeout and --keepalive).
const (
	// DefaultIdleTimeout: a client that sends no frame for this long is gone or stopped (a live
	// but idle client sends a keepalive every 15 s).
	DefaultIdleTimeout = 10 * time.Minute
	// DefaultFrameTimeout: once a frame's header has come, its payload (at most 80 MiB) must
	// have come within this.
	DefaultFrameTimeout = 30 * time.Second
	// DefaultKeepalive: while a call runs this long or longer, the worker sends a keepalive
	// this often, so a waiting client knows it is alive. A client gives up on a server that
	// sent nothing for three times its own interval (VGPU_KEEPALIVE_S, default 15 s): this
	// must not exceed the clients' interval.
	DefaultKeepalive = 15 * time.Second
)

// Session serves one client connection. It never trusts a frame: counts, lengths, handles and
// device ranges are checked before the backend sees a call. A malformed frame ends the session
// with an Error frame and a log line; a bad argument is answered with the API's error code.
// StreamConn is what a session runs on: a net.Conn, or a remoting.FDConn for blocking I/O
// on the worker's locked thread.
type StreamConn interface {
	io.ReadWriteCloser
	SetDeadline(time.Time) error
	SetReadDeadline(time.Time) error
	SetWriteDeadline(time.Time) error
}

type Session struct {
	ID uint64
	// IdleTimeout ends the session when the client sent no frame (a keepalive counts) for this
	// long while the worker waited for one; 0 never does.
	IdleTimeout time.Duration
	// FrameTimeout ends the session when a frame's payload has not fully come this long after
	// its header; 0 never does.
	FrameTimeout time.Duration
	// Keepalive: while one call runs longer than this, a keepalive frame goes to the client
	// this often; 0 sends none.
	Keepalive time.Duration
	// HandshakeTimeout bounds the handshake: the Hello (where no server process read it) and the
	// shared memory the Hello announced.
	HandshakeTimeout time.Duration
	// ThreadIdle: the thread of a client thread that has run nothing for this long ends
	// (threads.go); the client thread's next call gets a new one, with its current context.
	ThreadIdle time.Duration

	nc      StreamConn
	conn    *remoting.Conn
	be      Backend
	peer    remoting.Hello
	pre     *remoting.Hello // the Hello the server process read and checked; nil: read it here
	policy  Policy          // who the client is (as proved) and what it may use
	pol     *policyState    // what is enforced of it (quota.go); nil: nothing
	handles map[uint64]api.HType
	// the handles the client minted (api.P.Minted) -> the library's own, and back; a minted
	// handle is in handles too, under its type, while the library's is not
	minted  map[uint64]uint64
	mintOf  map[uint64]uint64
	allocs  ranges.Set
	layouts map[uint64][][2]uint64 // parameter layouts of launched functions
	owner   map[uint64]uint64      // function or kernel -> the module or library it came from
	// functions made of kernels for calls that take a CUfunction -> their kernel
	kernelFuncs map[uint64]uint64
	stdout      *stdoutCapture  // the driver's printf output, sent before replies
	page        *workerPage     // the worker's flight record and counters (flight.go); nil in tests
	stats       *workerStats    // VGPU_WORKER_STATS: where the worker's time goes
	logSink     func(string)    // tests: where logf's lines go instead of the log
	failed      map[uint64]bool // (row, code) pairs already logged (logFailure)
	logLimit    logLimiter      // rate limit of the session's log lines

	// Writes to the connection come from the client threads' threads and, while a call runs
	// long, from the keepalive goroutine: all hold wmu around their writes (a thread once per
	// reply). running counts the calls running, busySince is when it last left 0, lastTx when
	// a frame was last written (Unix ns); the keepalive goroutine watches them.
	wmu       sync.Mutex
	running   atomic.Int32
	busySince atomic.Int64
	lastTx    atomic.Int64

	// mu is held by the thread that runs a call (threads.go) over everything below and the
	// session's tables above, except while a waiting call (api.Func.Wait, api.Func.Drains) is in
	// the backend.
	mu      sync.Mutex
	threads threadSet // the client threads' threads; the dispatcher's alone
	thread  uint16    // the client thread whose call runs (Args.Thread)
	wait    *waitSlot // that thread's, for a call that waits (set with thread by runOne)

	// big is reused for the one large output of a call (a device-to-host copy), so its pages
	// are faulted in once, and the backend may pin it for direct DMA.
	big         []byte
	bigPinned   bool
	pinned      pinnedBufs // page-locked copy buffers (pinned.go)
	scratchUsed bool
	frame       frameFacts // how the call being served came
	// inArena holds this call's input values re-laid at 16-byte boundaries (alignedCopy).
	inArena    []byte
	launchArgs Launch // vgpuLaunchKernel's, reused
	runsBuf    []byte // vgpuRunsHtoDAsync's and vgpuBlocksHtoDAsync's expanded bytes without a page-locked buffer, reused
	// blocks is the cache of uploaded blocks vgpuBlocksHtoDAsync fills uploads from (made by
	// its first call; internal.go)
	blocks *remoting.BlockCache

	call remoting.Call // the call being served (its slices reused)
	args Args

	shm       []byte // the client's shared memory, if it passed one
	shmPinned bool   // the shared memory is page-locked
	shmTried  bool   // page-locking it was tried (once)

	deferredFn   uint32
	deferredCode int32

	out []byte
}

// frameFacts is how the call being served came: in a page-locked frame buffer (pinned.go), and
// whether the client waits for its reply.
type frameFacts struct{ pinned, async bool }

// NewSession wraps an accepted connection; its timeouts are the defaults.
func NewSession(id uint64, nc StreamConn, be Backend) *Session {
	return &Session{ID: id, nc: nc, conn: remoting.NewConn(nc), be: be, handles: map[uint64]api.HType{}, owner: map[uint64]uint64{},
		IdleTimeout: DefaultIdleTimeout, FrameTimeout: DefaultFrameTimeout, Keepalive: DefaultKeepalive, ThreadIdle: DefaultThreadIdle,
		HandshakeTimeout: DefaultHandshakeTimeout}
}

// logf logs a line of the session (level INFO), rate-limited (lograte.go); its kind, for the
// summary of what was held back, comes from the format.
func (s *Session) logf(format string, args ...any) {
	s.logLine(slog.LevelInfo, logKind(format), fmt.Sprintf(format, args...))
}

// logKind logs a rate-limited line of the given kind (level INFO).
func (s *Session) logKind(kind, format string, args ...any) {
	s.logLine(slog.LevelInfo, kind, fmt.Sprintf(format, args...))
}

// logCall logs a rate-limited line (level WARN) about a call of row f that got code.
func (s *Session) logCall(kind string, f *api.Func, code int32, format string, args ...any) {
	s.logLine(slog.LevelWarn, kind, fmt.Sprintf(format, args...), slog.String("function", f.Name), slog.Int("code", int(code)))
}

// logLine logs msg unless the session's rate limit holds it back (never with VGPU_LOG=debug);
// attrs are its attributes besides the session's.
func (s *Session) logLine(level slog.Level, kind, msg string, attrs ...any) {
	if !debugLog() {
		now := time.Now()
		if !s.logLimit.allow(kind, now) {
			return
		}
		s.flushLogSummary()
	}
	s.emit(level, msg, attrs...)
}

// logNow logs a line that starts or ends the session: never held back, and after the summary
// of what was.
func (s *Session) logNow(level slog.Level, format string, args ...any) {
	s.flushLogSummary()
	s.emit(level, fmt.Sprintf(format, args...))
}

// flushLogSummary logs what the rate limit held back, if anything.
func (s *Session) flushLogSummary() {
	if sum, n := s.logLimit.summary(time.Now()); sum != "" {
		s.emit(slog.LevelWarn, sum, slog.Int("held_back", n))
	}
}

func (s *Session) emit(level slog.Level, msg string, attrs ...any) {
	if s.logSink != nil {
		s.logSink(msg)
		return
	}
	// The identity was proved (and escaped) by the server; what the client claims about itself
	// appears only in the connect line, quoted.
	logger.Log(context.Background(), level, msg, append(sessionAttrs(s.ID, s.policy.Identity), attrs...)...)
}

// Serve runs the session until the client disconnects (nil), goes silent past a timeout (nil,
// after an Error frame and a log line) or breaks the protocol (an error, already logged and
// reported to the client). Calls run on a locked OS thread per client thread (threads.go): the
// thread that runs a call reads the next frame, and runs it too if it is its own, so a client
// that calls from one thread costs no hand-off between threads. Serve's goroutine reads when
// no thread does (at first, and while the last one waits in the driver) and does what only it
// does (ending threads).
func (s *Session) Serve() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	defer s.be.Close()
	defer s.flushLogSummary()
	if err := s.handshake(); err != nil {
		return err
	}
	if fc, ok := s.nc.(interface{ SetWriteIdle(time.Duration) error }); ok && s.IdleTimeout > 0 {
		// a reply the client does not read for this long ends the session too
		fc.SetWriteIdle(s.IdleTimeout)
	}
	if s.Keepalive > 0 {
		stop := make(chan struct{})
		defer close(stop)
		go s.keepalives(stop)
	}
	s.threads.init()
	defer s.stopThreads()
	var m readerMsg // what to do: read the next frame, or route the one m holds
	for {
		if !m.frame {
			h, payload, _, end, err := s.readCall()
			if end {
				return err
			}
			m = readerMsg{frame: true, h: h, payload: payload}
		}
		tw, j, err := s.route(nil, m.h, m.payload, time.Now())
		if err != nil {
			return err
		}
		if tw == nil {
			m = readerMsg{} // done here (a thread's end)
			continue
		}
		j.sent = s.stats.stamp()
		tw.jobs <- j // the reading goes with the call
		if m = <-s.threads.toServe; m.end {
			return m.err
		}
		s.stats.handedOff(m.sent)
	}
}

// readCall reads the next Call frame (skipping keepalives), for whichever goroutine reads, and
// when it began to wait for it (the zero time when the frame was already in the read buffer,
// or without timeouts or stats). end: the session is
// over, with err (nil for a client that closed or timed out, after a log line and, for a
// timeout, an Error frame).
func (s *Session) readCall() (h remoting.Header, payload []byte, tr time.Time, end bool, err error) {
	for {
		// A frame already in the read buffer (a batch of async calls) is read without a system
		// call, so without a deadline or a reading of the clock (which cost a launch ~13 % of
		// the worker's time); tr stays zero then.
		tr = time.Time{}
		inBuffer := s.conn.ReadBuffered() >= remoting.HeaderSize
		if !inBuffer && (s.stats != nil || s.IdleTimeout > 0) {
			tr = time.Now()
		}
		if !inBuffer && s.IdleTimeout > 0 {
			s.nc.SetReadDeadline(tr.Add(s.IdleTimeout))
		}
		h, err = s.conn.ReadHeader()
		if err == nil && s.page != nil {
			s.page.hdr.rx.Add(remoting.HeaderSize + uint64(h.Length))
		}
		payload = nil
		if err == nil && h.Type == remoting.FrameKeepalive {
			if s.stats != nil && !tr.IsZero() {
				s.stats.wait += time.Since(tr)
			}
			continue
		}
		if err == nil {
			if h.Length > 0 && s.conn.ReadBuffered() < int(h.Length) {
				// the payload comes from the socket: a fresh deadline (an idle one set before
				// the calls read from the buffer ran may have passed)
				if s.FrameTimeout > 0 {
					s.nc.SetReadDeadline(time.Now().Add(s.FrameTimeout))
				} else if s.IdleTimeout > 0 {
					s.nc.SetReadDeadline(time.Now().Add(s.IdleTimeout))
				}
			}
			payload, err = s.conn.ReadPayload(h)
			s.pinPayloads(len(payload))
		}
		if s.stats != nil && !tr.IsZero() {
			s.stats.wait += time.Since(tr)
		}
		if werr := s.threadFailure(); werr != nil {
			// a thread's reply failed after the reading went on (a waiting call's)
			return h, nil, tr, true, werr
		}
		if err != nil {
			if s.stats != nil {
				s.logNow(slog.LevelInfo, "%s", s.stats)
			}
			if errors.Is(err, io.EOF) {
				s.logNow(slog.LevelInfo, "client closed the connection")
				return h, nil, tr, true, nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				if h.Type == 0 {
					s.refuse(remoting.ErrTimeout, "no frame from the client for %v: closing the session (the client is stopped, hung or gone)", s.IdleTimeout)
				} else {
					s.refuse(remoting.ErrTimeout, "a %v frame of %d bytes did not arrive within %v of its header: closing the session", h.Type, h.Length, s.FrameTimeout)
				}
				return h, nil, tr, true, nil
			}
			return h, nil, tr, true, s.protocolError("reading a frame: %v", err)
		}
		if h.Type != remoting.FrameCall {
			return h, nil, tr, true, s.protocolError("unexpected %v frame", h.Type)
		}
		return h, payload, tr, false, nil
	}
}

// serveCall runs one call on the calling thread (a client thread's, threads.go) and answers
// it. s.mu is held; release, if not nil, is called (with s.mu released while the backend runs)
// when the call only waits (api.Func.Wait), so the dispatcher may go on with other threads'
// calls meanwhile.
func (s *Session) serveCall(h remoting.Header, c *remoting.Call, release func()) error {
	s.scratchUsed = false
	s.inArena = s.inArena[:0]
	if s.page != nil {
		s.page.setFlight(c.Fn + 1)
	}
	var t0 time.Time
	if s.stats != nil {
		t0 = time.Now()
	}
	if h.Flags&remoting.FlagAsync != 0 {
		release = nil // an async call runs in order, whatever it is
	}
	beside := false // the call handed the reading on: other calls ran while it waited
	if release != nil && s.stats != nil {
		r := release
		release = func() { beside = true; r() }
	}
	s.frame = frameFacts{pinned: s.conn.InPayloadBuffer(int(h.Length)), async: h.Flags&remoting.FlagAsync != 0}
	result, outs, note, err := s.execIn(c, release)
	s.frame = frameFacts{}
	if s.stats != nil {
		s.stats.add(c.Fn, time.Since(t0), beside)
	}
	if err != nil {
		if s.page != nil {
			s.page.setFlight(0)
		}
		return s.protocolError("%v", err)
	}
	if s.page != nil {
		s.page.setFlight(0)
		r := &s.page.rows[c.Fn] // exec checked c.Fn
		r.calls.Add(1)
		if result != 0 {
			r.errors.Add(1)
		}
	}
	if h.Flags&remoting.FlagAsync != 0 {
		if result != 0 && s.deferredCode == 0 {
			s.deferredFn, s.deferredCode = c.Fn, result
		}
		return nil
	}
	return s.respond(h.ReqID, c, result, outs, note)
}

// respond writes what a synchronous call sends back: the GPU's printf output, large outputs as
// FrameData, the reply. It holds the write lock throughout.
func (s *Session) respond(reqID uint64, c *remoting.Call, result int32, outs [][]byte, note string) error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.stdout != nil && api.Table[c.Fn].Syncs {
		if err := s.sendOutput(s.stdout.take()); err != nil {
			return err
		}
	}
	// Large outputs (device-to-host copies) go first as FrameData, which the client reads
	// straight into the caller's memory; the reply then carries them empty.
	for k, b := range outs {
		if len(b) >= directThreshold {
			if err := s.sendData(reqID, uint32(k), b); err != nil {
				return err
			}
			outs[k] = nil
		}
	}
	r := remoting.Reply{Result: result, DeferredFn: s.deferredFn, DeferredCode: s.deferredCode, Note: note}
	s.deferredFn, s.deferredCode = 0, 0
	r.Bufs = outs
	if err := s.writeReply(reqID, &r); err != nil {
		s.logNow(slog.LevelWarn, "writing a reply: %v", err)
		return err
	}
	return nil
}

// keepalives runs beside Serve until stop closes: while calls run (a long kernel in
// cuCtxSynchronize) and nothing has been written for Keepalive, it sends the client a
// keepalive, and again every Keepalive. It samples every half interval.
func (s *Session) keepalives(stop <-chan struct{}) {
	tick := time.NewTicker(s.Keepalive / 2)
	defer tick.Stop()
	for {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		if s.keepaliveDue() {
			s.sendKeepalive()
		}
	}
}

// keepaliveDue: a call runs and nothing was written for Keepalive.
func (s *Session) keepaliveDue() bool {
	if s.running.Load() == 0 {
		return false
	}
	quiet := max(s.lastTx.Load(), s.busySince.Load())
	return time.Since(time.Unix(0, quiet)) >= s.Keepalive
}

// sendKeepalive writes a keepalive frame under the write lock, if one is still due there (a
// reply written since the check makes it moot: the client would read it after the reply, as if
// another call ran). A failure is left to the serving thread, whose next write meets the same
// (sticky) error.
func (s *Session) sendKeepalive() {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if !s.keepaliveDue() {
		return
	}
	if s.writeFrame(remoting.KeepaliveHeader, nil) == nil {
		s.conn.Flush()
	}
}

// writeFrame queues a frame on the connection (remoting.Conn.WriteFrame) and counts its bytes
// in the flight record.
func (s *Session) writeFrame(h remoting.Header, payload []byte, tail ...[]byte) error {
	err := s.conn.WriteFrame(h, payload, tail...)
	if err == nil {
		s.sent(h)
		s.lastTx.Store(time.Now().UnixNano())
	}
	return err
}

// sent counts a frame of header h as sent (in the flight record, for the server's metrics).
func (s *Session) sent(h remoting.Header) {
	if s.page != nil {
		s.page.hdr.tx.Add(remoting.HeaderSize + uint64(h.Length))
	}
}

// directThreshold: outputs at least this big travel as FrameData.
const directThreshold = 64 << 10

func (s *Session) sendData(reqID uint64, idx uint32, b []byte) error {
	var pre [4]byte
	pre[0], pre[1], pre[2], pre[3] = byte(idx), byte(idx>>8), byte(idx>>16), byte(idx>>24)
	return s.writeFrame(remoting.Header{Length: uint32(4 + len(b)), Type: remoting.FrameData, ReqID: reqID}, pre[:], b)
}

// sendOutput queues the GPU's printf output for the client's stdout, ahead of the reply.
func (s *Session) sendOutput(b []byte) error {
	for len(b) > 0 {
		n := min(len(b), 1<<20)
		if err := s.writeFrame(remoting.Header{Length: uint32(n), Type: remoting.FrameOutput}, b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

func (s *Session) writeReply(reqID uint64, r *remoting.Reply) error {
	var tail []byte
	if k := len(r.Bufs) - 1; k >= 0 && len(r.Bufs[k]) >= 64<<10 {
		tail = r.Bufs[k]
		r.Bufs = r.Bufs[:k]
		s.out = remoting.AppendReplyPrefix(s.out[:0], r, len(tail))
	} else {
		s.out = remoting.AppendReply(s.out[:0], r)
	}
	h := remoting.Header{Length: uint32(len(s.out) + len(tail)), Type: remoting.FrameReply, ReqID: reqID}
	var err error
	if tail != nil {
		err = s.writeFrame(h, s.out, tail)
	} else {
		err = s.writeFrame(h, s.out)
	}
	if err != nil {
		return err
	}
	return s.conn.Flush()
}

func (s *Session) handshake() error {
	if s.pre != nil {
		s.peer = *s.pre
	} else if done, err := s.readHello(); done || err != nil {
		return err
	}
	hello := s.peer
	w := remoting.Welcome{Version: remoting.ProtocolVersion, Backend: s.be.Name(), ServerVersion: Version, Session: s.ID}
	p := remoting.AppendWelcome(nil, &w)
	if err := s.writeFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameWelcome}, p); err != nil {
		return err
	}
	if err := s.conn.Flush(); err != nil {
		return err
	}
	// the shared memory comes right after the Welcome: a client that announced it and sends
	// nothing is dropped as one that says nothing is
	s.nc.SetReadDeadline(time.Now().Add(s.HandshakeTimeout))
	defer s.nc.SetReadDeadline(time.Time{})
	if hello.ShmSize > 0 {
		if err := s.attachShm(hello.ShmSize); err != nil {
			return s.protocolError("shared memory: %v", err)
		}
	}
	if hello.RingSize > 0 {
		if err := s.attachRings(hello.RingSize); err != nil {
			return s.protocolError("shared memory for calls and replies: %v", err)
		}
	}
	s.flushLogSummary()
	via := "the socket"
	if hello.RingSize > 0 {
		via = "shared memory"
	}
	s.emit(slog.LevelInfo, fmt.Sprintf("connected (backend %s, shared memory %d MiB, calls and replies through %s); the client claims %s", s.be.Name(), len(s.shm)>>20, via, claim(&hello)),
		append(claimAttrs(&hello), slog.String("backend", s.be.Name()), slog.Int("shm_mib", len(s.shm)>>20), slog.Uint64("ring_kib", hello.RingSize>>10))...)
	return nil
}

// readHello reads and checks the Hello where no server process did (sessions driven directly).
// done: the peer closed before saying anything.
func (s *Session) readHello() (done bool, err error) {
	s.nc.SetDeadline(time.Now().Add(s.HandshakeTimeout))
	defer s.nc.SetDeadline(time.Time{})
	h, payload, err := s.conn.ReadFrame()
	if errors.Is(err, io.EOF) {
		logger.Debug("closed before its hello (a health check)", slog.Uint64("session", s.ID))
		return true, nil
	}
	if err != nil {
		return false, s.protocolError("no hello: %v", err)
	}
	if h.Type != remoting.FrameHello {
		return false, s.protocolError("expected a hello frame, got %v", h.Type)
	}
	if v := remoting.HelloVersion(payload); v != remoting.ProtocolVersion {
		return false, s.refuse(remoting.ErrVersion, "client speaks protocol %d, this server %d: use a client and server of one release", v, remoting.ProtocolVersion)
	}
	hello, err := remoting.DecodeHello(payload)
	if err != nil {
		return false, s.protocolError("bad hello: %v", err)
	}
	s.peer = hello
	if hello.TableHash != api.TableHash() {
		return false, s.refuse(remoting.ErrVersion, "client API table %#x differs from the server's %#x: use a client and server of one build", hello.TableHash, api.TableHash())
	}
	return false, nil
}

// maxShm bounds the shared memory a client may pass.
const maxShm = 1 << 30

// attachShm receives the client's memfd (on a unix socket, right after the Welcome) and maps
// it: bulk copies then move through it instead of the socket.
func (s *Session) attachShm(size uint64) error {
	fc, err := s.fdConn()
	if err != nil {
		return err
	}
	if size > maxShm || size%4096 != 0 {
		return fmt.Errorf("size %d out of range", size)
	}
	m, err := s.recvShared(fc, size)
	if err != nil {
		return err
	}
	s.shm = m
	return nil
}

// attachRings receives the memfd of the client's frame rings (after the shared memory, if any)
// and moves the session's frames to them (remoting.FDConn.UseRings): the client does so right
// after passing it, so nothing more comes on the socket but wake-ups.
func (s *Session) attachRings(n uint64) error {
	fc, err := s.fdConn()
	if err != nil {
		return err
	}
	if !remoting.ValidRingSize(n) {
		return fmt.Errorf("ring size %d: want a power of two from %d to %d", n, remoting.MinRing, remoting.MaxRing)
	}
	if k := s.conn.ReadBuffered(); k != 0 {
		return fmt.Errorf("%d bytes came on the socket before the rings", k)
	}
	m, err := s.recvShared(fc, remoting.RingsSize(n))
	if err != nil {
		return err
	}
	return fc.UseRings(m, n, false)
}

// fdConn is the session's connection where descriptors can pass on it.
func (s *Session) fdConn() (*remoting.FDConn, error) {
	fc, ok := s.nc.(*remoting.FDConn)
	if !ok {
		return nil, errors.New("this transport cannot pass descriptors")
	}
	return fc, nil
}

// recvShared receives the descriptor of shared memory the client announced, within the
// handshake's timeout, and maps size bytes of it (remoting.MapSealedMemfd).
func (s *Session) recvShared(fc *remoting.FDConn, size uint64) ([]byte, error) {
	fd, err := fc.RecvFD()
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return nil, fmt.Errorf("announced, and none passed within %v of the Welcome (timeout)", s.HandshakeTimeout)
	}
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	return remoting.MapSealedMemfd(fd, size)
}

// refuse answers with an Error frame and ends the session.
func (s *Session) refuse(code remoting.ErrorCode, format string, args ...any) error {
	e := &remoting.ErrorMsg{Code: code, Message: fmt.Sprintf(format, args...)}
	s.logNow(slog.LevelWarn, "closing: %s", e.Message)
	p := remoting.AppendError(nil, e)
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.nc.SetWriteDeadline(time.Now().Add(time.Second))
	if s.writeFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameError}, p) == nil {
		s.conn.Flush()
	}
	return e
}

func (s *Session) protocolError(format string, args ...any) error {
	return s.refuse(remoting.ErrProtocol, format, args...)
}

// callError is a bad argument: the call is answered with code, the session goes on.
type callError struct {
	code int32
	msg  string
}

// exec checks one call against the table and the session's state, runs it and returns the
// result, the output buffers and, for a refused call, why. A non-nil error is a protocol violation.
func (s *Session) exec(c *remoting.Call) (int32, [][]byte, string, error) {
	return s.execIn(c, nil)
}

// execIn is exec, for a thread of the session (s.mu held): a row that only waits (api.Func.Wait)
// or waits before it frees (api.Func.Drains) runs in the backend with s.mu released and
// arguments of its own, and calls release, if not
// nil, so that other threads' calls go on meanwhile: first, or once it has waited waitInline
// when no other client thread called lately (waitThenRelease).
func (s *Session) execIn(c *remoting.Call, release func()) (int32, [][]byte, string, error) {
	if int(c.Fn) >= len(api.Table) {
		return 0, nil, "", fmt.Errorf("unknown function id %d", c.Fn)
	}
	id := api.ID(c.Fn)
	f := &api.Table[id]
	if !f.Served() {
		return 0, nil, "", fmt.Errorf("%s is not a remote function", f.Name)
	}
	a, ce, err := s.checkArgs(f, c)
	if err != nil {
		return 0, nil, "", fmt.Errorf("%s: %w", f.Name, err)
	}
	if ce == nil && s.pol != nil {
		ce = s.policyBefore(id, f, a)
	}
	if ce != nil {
		s.logCall(f.Name+" refused", f, ce.code, "%s refused: %s (returning %d)", f.Name, ce.msg, ce.code)
		return ce.code, nil, ce.msg, nil
	}
	var result int32
	tracked := false // what the call frees was forgotten already (a Drains row)
	if f.Internal && f.Server == "" {
		result = s.internal(id, f, a)
	} else if f.OwnProcess {
		result = s.ownProcess(id, f, a)
	} else if (f.Wait || f.Drains) && release != nil {
		// only scalars: the call's own copy, as the session's Args serve the next call
		w := s.wait // (release is only given by runOne, which sets it)
		own := w.ownArgs(a)
		var freed []freedRange
		if f.Drains {
			freed, tracked = s.forgetFreed(f, own), true
		}
		lazy := s.aloneLately()
		if !lazy {
			release()
		}
		s.mu.Unlock()
		if lazy {
			result = s.waitThenRelease(w, id, f, own, release)
		} else {
			result = s.be.Invoke(id, f, own)
		}
		s.mu.Lock()
		s.thread = own.Thread // other threads' calls ran meanwhile
		if result != 0 {
			for _, r := range freed { // not freed after all
				s.allocs.Add(r.base, r.size)
			}
		}
		a = own
	} else if s.frame.pinned && (id == htodID || rowFacts[id].hostInStream >= 0) {
		result = s.uploadFromFrame(id, f, a) // its DMA reads the frame buffer (pinned.go)
	} else {
		result = s.be.Invoke(id, f, a)
		if k := rowFacts[id].hostOutStream; result == 0 && k >= 0 {
			result = s.syncStream(a.Vals[k])
		}
	}
	if s.pol != nil {
		if result, ce = s.policyAfter(id, f, a, result); ce != nil {
			s.logCall(f.Name+" refused", f, ce.code, "%s refused: %s (returning %d)", f.Name, ce.msg, ce.code)
			return ce.code, nil, ce.msg, nil
		}
	}
	if debugLog() && !f.NoLog {
		s.logLine(slog.LevelDebug, "trace", fmt.Sprintf("%s = %d", f.Name, result), slog.String("function", f.Name), slog.Int("code", int(result)))
	} else if result != 0 {
		s.logFailure(id, f, result)
	}
	var outs [][]byte
	if result == 0 && rowFacts[id].tracks && !tracked {
		s.track(f, a)
	}
	if result == 0 || f.OutsOnError {
		for i := range f.Params {
			p := &f.Params[i]
			switch p.Kind {
			case api.OutVal, api.OutBuf, api.OutHandle, api.OutDevPtr, api.InOutVal:
				if !p.Minted { // (the client has its handle; the library's stays here)
					outs = append(outs, a.Out[i])
				}
			}
		}
	}
	return result, outs, "", nil
}

var kernelGetFunctionID = api.IDcuKernelGetFunction

// kernelFunction is kernel k's function in the current context (cuKernelGetFunction), asked
// once; it is forgotten with the kernel's library.
func (s *Session) kernelFunction(k uint64) (uint64, int32) {
	for fn, parent := range s.kernelFuncs {
		if parent == k {
			return fn, 0
		}
	}
	a, r := s.invokeRow(kernelGetFunctionID, 0, k)
	if r != 0 {
		return 0, r
	}
	fn := le64(a.Out[0])
	if s.kernelFuncs == nil {
		s.kernelFuncs = map[uint64]uint64{}
	}
	s.kernelFuncs[fn] = k
	s.handles[fn] = api.HFunction
	s.owner[fn] = k
	return fn, 0
}

// hostOutStream: for a row that copies into host memory on a stream (cuMemcpyDtoHAsync_v2), the
// index of its stream parameter, else -1. The output may land in page-locked scratch memory,
// where the copy really is asynchronous, and the reply must carry its bytes: the stream is
// synchronised before the reply (the client counts the stream idle after it).
func hostOutStream(f *api.Func) int { return hostStream(f, api.OutBuf) }

// hostInStream: for a row that reads host memory on a stream (cuMemcpyHtoDAsync_v2), the index
// of its stream parameter, else -1. When the input came in a page-locked frame buffer, the DMA
// on that stream must be done before the buffer is read into again (pinned.go).
func hostInStream(f *api.Func) int { return hostStream(f, api.InBuf) }

// hostStream: the index of the stream parameter of a row with a host buffer of kind k, else -1.
func hostStream(f *api.Func, k api.Kind) int {
	buf, stream := false, -1
	for i := range f.Params {
		switch {
		case f.Params[i].Kind == k:
			buf = true
		case f.Params[i].C == "CUstream" || f.Params[i].C == "cudaStream_t":
			stream = i
		}
	}
	if !buf {
		return -1
	}
	return stream
}

var syncStreamID = api.IDcuStreamSynchronize

// rowFacts: what exec needs to know of each row, worked out once rather than per call.
// ownProcess answers an NVML process list (api.Func.OwnProcess): the backend's list is read
// into the worker's own buffer, and the client gets the worker's entry alone, under the pid
// the client gave in its Hello; no other process of the GPU host, nor their number, reaches it.
func (s *Session) ownProcess(id api.ID, f *api.Func, a *Args) int32 {
	const room = 4096
	elem := f.Params[2].Elem
	count := make([]byte, 4)
	binary.LittleEndian.PutUint32(count, room)
	list := make([]byte, room*elem)
	r := s.be.Invoke(id, f, &Args{Vals: a.Vals, In: a.In, Out: [][]byte{a.Out[0], count, list}})
	if r != 0 {
		binary.LittleEndian.PutUint32(a.Out[1], 0)
		return r
	}
	var own []byte
	self := uint32(os.Getpid())
	for i := range min(int(binary.LittleEndian.Uint32(count)), room) {
		if e := list[i*elem : (i+1)*elem]; binary.LittleEndian.Uint32(e) == self {
			own = e
			break
		}
	}
	have := binary.LittleEndian.Uint32(a.Out[1])
	if own == nil {
		binary.LittleEndian.PutUint32(a.Out[1], 0)
		return 0
	}
	binary.LittleEndian.PutUint32(a.Out[1], 1)
	if have < 1 || len(a.Out[2]) < elem {
		return nvmlErrInsufficient
	}
	copy(a.Out[2], own)
	binary.LittleEndian.PutUint32(a.Out[2], s.peer.PID)
	return 0
}

var rowFacts = func() []struct {
	tracks        bool // track() has something to record (created or freed handles and ranges)
	hostOutStream int
	hostInStream  int
	// size and rng: each parameter's Size and Range spec, resolved (checkArgs reads them per call)
	size, rng []spec
} {
	facts := make([]struct {
		tracks        bool
		hostOutStream int
		hostInStream  int
		size, rng     []spec
	}, len(api.Table))
	for id := range api.Table {
		f := &api.Table[id]
		facts[id].hostOutStream = hostOutStream(f)
		facts[id].hostInStream = hostInStream(f)
		facts[id].size, facts[id].rng = make([]spec, len(f.Params)), make([]spec, len(f.Params))
		for i := range f.Params {
			p := &f.Params[i]
			if p.Kind == api.OutHandle || p.Kind == api.OutDevPtr || p.Frees {
				facts[id].tracks = true
			}
			facts[id].size[i], facts[id].rng[i] = specOf(f, p.Size), specOf(f, p.Range)
		}
	}
	return facts
}()

// spec is a Size or Range spec of a row's parameter, resolved once: a byte count, or the
// parameter that holds the count (param < 0: the spec names none), read as its C type says.
type spec struct {
	name  string
	n     uint64
	num   bool
	param int
	cint  uint8 // 1: the parameter is an int (negative counts refused), 2: an unsigned int
}

func specOf(f *api.Func, s string) spec {
	if n, ok := api.SpecNumber(s); ok {
		return spec{name: s, n: n, num: true, param: -1}
	}
	return paramSpec(f, s)
}

// paramSpec is the spec of the count parameter called name.
func paramSpec(f *api.Func, name string) spec {
	sp := spec{name: name, param: f.ParamIndex(name)}
	if sp.param >= 0 {
		switch f.Params[sp.param].C {
		case "int":
			sp.cint = 1
		case "unsigned int":
			sp.cint = 2
		}
	}
	return sp
}

// count is the spec's value for a call's arguments vals: the number, or the parameter's value
// (sizeArg; an error for a spec that is not a number and names no parameter).
func (sp spec) count(vals []uint64) (uint64, error) {
	if sp.num {
		return sp.n, nil
	}
	if sp.param < 0 {
		return 0, fmt.Errorf("no parameter %s", sp.name)
	}
	v := vals[sp.param]
	switch sp.cint {
	case 1:
		if int32(uint32(v)) < 0 {
			return 0, fmt.Errorf("%s = %d is negative", sp.name, int32(uint32(v)))
		}
		v = uint64(uint32(v))
	case 2:
		v = uint64(uint32(v))
	}
	return v, nil
}

// syncStream runs cuStreamSynchronize(stream) on the backend.
func (s *Session) syncStream(stream uint64) int32 {
	_, r := s.invokeRow(syncStreamID, stream)
	return r
}

// invokeRow makes a call of the worker's own on the backend: row id with scalar arguments vals
// (one per parameter), and an 8-byte buffer for each single-value output.
func (s *Session) invokeRow(id api.ID, vals ...uint64) (*Args, int32) {
	f := &api.Table[id]
	a := &Args{Vals: vals, In: make([][]byte, len(vals)), Out: make([][]byte, len(vals)), Thread: s.thread}
	for i := range f.Params {
		if k := f.Params[i].Kind; k == api.OutHandle || k == api.OutVal {
			a.Out[i] = make([]byte, 8)
		}
	}
	return a, s.be.Invoke(id, f, a)
}

// checkArgs maps the wire call onto the function's parameters and checks each one.
func (s *Session) checkArgs(f *api.Func, c *remoting.Call) (*Args, *callError, error) {
	// One Args per session, reused: a call's arguments live until its reply is written.
	n := len(f.Params)
	a := &s.args
	a.Vals, a.In, a.Out = resize(a.Vals, n), resize(a.In, n), resize(a.Out, n)
	a.Thread = s.thread
	facts := &rowFacts[c.Fn]
	si, bi := 0, 0
	for i := range f.Params {
		p := &f.Params[i]
		switch {
		case p.Kind == api.Scalar, p.Kind == api.Handle, p.Kind == api.DevPtr, p.Kind == api.HostPtr, p.Minted:
			if si >= len(c.Scalars) {
				return nil, nil, errors.New("too few scalar arguments")
			}
			a.Vals[i] = c.Scalars[si]
			si++
		case p.Kind == api.InBuf, p.Kind == api.InStr, p.Kind == api.InOutVal:
			if bi >= len(c.Bufs) {
				return nil, nil, errors.New("too few buffer arguments")
			}
			b := c.Bufs[bi]
			bi++
			switch {
			case p.Kind == api.InStr:
				a.In[i] = append(append(make([]byte, 0, len(b)+1), b...), 0)
			case p.Kind == api.InBuf && misaligned(b) && len(b) <= alignedInMax:
				a.In[i] = s.alignedCopy(b)
			default:
				a.In[i] = b
			}
		}
	}
	if si != len(c.Scalars) || bi != len(c.Bufs) {
		return nil, nil, fmt.Errorf("%d scalars and %d buffers, the function takes %d and %d", len(c.Scalars), len(c.Bufs), si, bi)
	}
	// First what the frame itself claims: each buffer is as long as its size parameter says.
	// A frame that lies about that is a protocol violation, whatever its arguments.
	for i := range f.Params {
		p := &f.Params[i]
		if p.Kind != api.InBuf && p.Kind != api.InOutVal {
			continue
		}
		want, err := facts.size[i].count(a.Vals)
		fits := true
		if p.Elem > 1 { // InBuf records, or an InOutVal array (NVML's field values)
			want, fits = mulSize(want, uint64(p.Elem))
		}
		if err != nil || !fits || uint64(len(a.In[i])) != want {
			return nil, nil, fmt.Errorf("%s carries %d bytes, the call says %d", p.Name, len(a.In[i]), want)
		}
	}
	lib := f.Lib().Info()
	for i := range f.Params {
		p := &f.Params[i]
		v := a.Vals[i]
		switch p.Kind {
		case api.HostPtr:
			// Host pointers mean nothing on this machine: the driver would dereference ours.
			if v != 0 {
				return nil, &callError{lib.InvalidValue, fmt.Sprintf("%s must be NULL on the wire", p.Name)}, nil
			}
		case api.Handle:
			if ok, why := s.handleOK(p, v); !ok {
				return nil, &callError{lib.InvalidHandle, why}, nil
			}
			if api.IsMinted(v) { // (handleOK found it, so the create succeeded)
				a.Vals[i] = s.minted[v]
				continue
			}
			// A CUkernel where a CUfunction goes (a static runtime launches and queries what
			// cuLibraryGetKernel gave it): launches take it as it is, other calls the
			// context's function of it.
			if p.H == api.HFunction && !f.Internal && v != 0 && s.handles[v] == api.HKernel {
				fn, r := s.kernelFunction(v)
				if r != 0 {
					return nil, &callError{r, fmt.Sprintf("%s %#x: the kernel has no function in the current context", p.Name, v)}, nil
				}
				a.Vals[i] = fn
			}
		case api.DevPtr:
			if p.Frees {
				if !s.allocs.IsBase(v) {
					return nil, &callError{lib.InvalidValue, fmt.Sprintf("%s %#x is not an allocation of this session", p.Name, v)}, nil
				}
				continue
			}
			if p.Range == "" {
				continue
			}
			cnt, err := facts.rng[i].count(a.Vals)
			if err != nil {
				return nil, &callError{lib.InvalidValue, err.Error()}, nil
			}
			n, fits := mulSize(cnt, uint64(max(p.Elem, 1)))
			if !fits {
				return nil, &callError{lib.InvalidValue, fmt.Sprintf("%s = %d is out of range", p.Range, cnt)}, nil
			}
			// (Find compares offsets and sizes, never an end address that could wrap)
			if _, _, ok := s.allocs.Find(v, n); !ok {
				return nil, &callError{lib.InvalidValue, fmt.Sprintf("%s [%#x, +%d) is not inside an allocation of this session", p.Name, v, n)}, nil
			}
		case api.InOutVal:
			if p.Versioned {
				// NVML would take the struct's size from its version and write that much.
				if ver := uint32(le64(a.In[i][:4])); uint64(ver&0xffffff) != uint64(len(a.In[i])) {
					return nil, &callError{nvmlErrArgumentVersionMismatch, fmt.Sprintf("%s has version %#x, not one of %d bytes", p.Name, ver, len(a.In[i]))}, nil
				}
			}
			a.Out[i] = append([]byte(nil), a.In[i]...)
		case api.OutVal, api.OutBuf:
			want, err := facts.size[i].count(a.Vals)
			fits := true
			if p.Kind == api.OutBuf && p.Elem > 1 {
				want, fits = mulSize(want, uint64(p.Elem)) // a count of records (cuBLASLt's heuristic results)
			}
			if j := facts.size[i].param; err == nil && j >= 0 && f.Params[j].Kind == api.InOutVal {
				// a count the caller passed by pointer (read before outputs are laid out: InOutVal
				// params precede their arrays in every API that uses them), at its full width:
				// the callee reads all of a size_t count
				if len(a.In[j]) != 4 && len(a.In[j]) != 8 {
					return nil, &callError{lib.InvalidValue, p.Size + " is missing"}, nil
				}
				want, fits = mulSize(le64(a.In[j]), uint64(max(p.Elem, 1)))
			}
			if err != nil || !fits || want > maxOut {
				return nil, &callError{lib.InvalidValue, fmt.Sprintf("%s: output of %d bytes is out of range", p.Name, want)}, nil
			}
			if p.Kind == api.OutBuf && want >= directThreshold && !s.scratchUsed {
				a.Out[i] = s.scratch(int(want))
				s.scratchUsed = true
			} else {
				a.Out[i] = make([]byte, want)
			}
		case api.OutHandle, api.OutDevPtr:
			a.Out[i] = make([]byte, 8)
			if p.Minted && (!api.IsMinted(v) || s.handles[v] != api.HNone) {
				return nil, &callError{lib.InvalidValue, fmt.Sprintf("%s %#x is not a handle the client may mint (a new one of the minted range)", p.Name, v)}, nil
			}
		}
	}
	return a, nil, nil
}

// nvmlErrArgumentVersionMismatch is NVML_ERROR_ARGUMENT_VERSION_MISMATCH: a versioned struct
// (api.P.Versioned) of a version this build does not describe.
const nvmlErrArgumentVersionMismatch = 25

// specialStream: the stream handles every session may use, NULL, CU_STREAM_LEGACY (1) and
// CU_STREAM_PER_THREAD (2) (a comparison: checked on every launch).
func specialStream(v uint64) bool { return v <= 2 }

func (s *Session) handleOK(p *api.P, v uint64) (bool, string) {
	if p.H == api.HStream && specialStream(v) {
		return true, ""
	}
	if v == 0 && p.Nullable {
		return true, ""
	}
	if t, ok := s.handles[v]; ok && (t == p.H || p.H == api.HFunction && t == api.HKernel) {
		return true, ""
	}
	return false, fmt.Sprintf("%s %#x is not a %s of this session", p.Name, v, p.H)
}

// track records what a successful call created or released.
func (s *Session) track(f *api.Func, a *Args) {
	// the module, library or kernel a new function or kernel comes from
	parent := uint64(0)
	for i := range f.Params {
		p := &f.Params[i]
		if p.Kind == api.Handle && (p.H == api.HModule || p.H == api.HLibrary || p.H == api.HKernel) {
			parent = a.Vals[i]
		}
	}
	for i := range f.Params {
		p := &f.Params[i]
		switch {
		case p.Minted:
			s.adopt(a.Vals[i], le64(a.Out[i]), p.H)
		case p.Kind == api.OutHandle:
			// (a memory handle may be 0; every other kind of handle is a pointer)
			if h := le64(a.Out[i]); h != 0 || p.H == api.HMem {
				s.handles[h] = p.H
				if parent != 0 {
					s.owner[h] = parent
				}
			}
		case p.Kind == api.OutDevPtr:
			s.allocs.Add(le64(a.Out[i]), outDevSize(f, a, p))
		case p.Kind == api.Handle && p.Frees:
			s.release(s.clientHandle(a.Vals[i], p.H))
		case p.Kind == api.DevPtr && p.Frees:
			s.allocs.Remove(a.Vals[i])
		}
	}
}

// adopt records the handle h the library created for the client's minted handle m (of type
// ht): calls name m from then on, and the library gets h (checkArgs). A library handle that is
// 0 leaves m unknown, so that calls naming it are refused.
func (s *Session) adopt(m, h uint64, ht api.HType) {
	if h == 0 {
		return
	}
	if s.minted == nil {
		s.minted, s.mintOf = map[uint64]uint64{}, map[uint64]uint64{}
	}
	s.handles[m] = ht
	s.minted[m], s.mintOf[h] = h, m
}

// clientHandle is the handle the client knows for the library's handle h of type ht: the
// minted one it stands for (forgotten here, as the call with it freed h), else h.
func (s *Session) clientHandle(h uint64, ht api.HType) uint64 {
	m, ok := s.mintOf[h]
	if !ok || s.handles[m] != ht {
		return h
	}
	delete(s.mintOf, h)
	delete(s.minted, m)
	return m
}

// freedRange is a device range a call frees.
type freedRange struct{ base, size uint64 }

// forgetFreed forgets the device ranges a Drains row's call frees, before the driver frees them
// with s.mu released (execIn), and returns them, to be recorded again if the call fails.
func (s *Session) forgetFreed(f *api.Func, a *Args) []freedRange {
	var freed []freedRange
	for i := range f.Params {
		if p := &f.Params[i]; p.Kind == api.DevPtr && p.Frees {
			if base, size, ok := s.allocs.Find(a.Vals[i], 1); ok && base == a.Vals[i] {
				s.allocs.Remove(base)
				freed = append(freed, freedRange{base, size})
			}
		}
	}
	return freed
}

// release forgets a handle, and with a module or library everything that came from it (its
// functions, kernels and their parameter layouts): the driver may hand the same addresses out
// again, and a stale layout would pack a later launch wrongly.
func (s *Session) release(h uint64) {
	delete(s.handles, h)
	delete(s.layouts, h)
	delete(s.owner, h)
	delete(s.kernelFuncs, h)
	for child, parent := range s.owner {
		if parent == h {
			s.release(child)
		}
	}
}

// mulSize is a*b, and whether it fits 64 bits: every size the session works out from a
// client's numbers is computed with it, so no product wraps to a small one that passes a check.
func mulSize(a, b uint64) (uint64, bool) {
	hi, lo := bits.Mul64(a, b)
	return lo, hi == 0
}

// addSize is a+b, and whether it fits 64 bits.
func addSize(a, b uint64) (uint64, bool) {
	sum, carry := bits.Add64(a, b, 0)
	return sum, carry == 0
}

func le64(b []byte) uint64 {
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}

// sizeArg reads the parameter called name as a byte or element count.
func sizeArg(f *api.Func, vals []uint64, name string) (uint64, error) {
	return paramSpec(f, name).count(vals)
}

// outDevSize is the byte count of a device range a call created (api.Func.CreatedRangeSize,
// from the worker's buffers).
func outDevSize(f *api.Func, a *Args, p *api.P) uint64 {
	return f.CreatedRangeSize(p, func(i int) uint64 {
		n, _ := sizeArg(f, a.Vals, f.Params[i].Name)
		return n
	}, func(i int) uint64 { return le64(a.Out[i]) })
}

// Pinner is a backend that can page-lock host memory (so the GPU copies into it directly).
type Pinner interface {
	Pin(b []byte) bool
}

// scratch returns the session's large output buffer, at least n bytes.
func (s *Session) scratch(n int) []byte {
	if cap(s.big) < n {
		s.big = make([]byte, max(n, 16<<20))
		s.bigPinned = false
	}
	if !s.bigPinned {
		if p, ok := s.be.(Pinner); ok {
			if s.bigPinned = p.Pin(s.big[:cap(s.big)]); s.bigPinned {
				s.pinned.keep = append(s.pinned.keep, s.big) // registered: never freed while the session lives
			}
		}
	}
	b := s.big[:n]
	return b
}

// alignedInMax is the largest input buffer re-laid when it arrives misaligned. Inputs are
// values the callee reads by type (a cuDoubleComplex alpha is loaded with a 16-byte aligned
// instruction: at an odd address in the frame it faulted in cublasZgemv_v2), descriptors and
// parameter blocks; larger inputs are bulk data, which the host libraries copy bytewise.
const alignedInMax = 64 << 10

// alignedCopy copies b to a 16-byte boundary in the session's input arena, valid until the
// next call. The arena grows once to the largest call's inputs and is reused.
func (s *Session) alignedCopy(b []byte) []byte {
	need := len(s.inArena) + len(b) + 2*inAlign
	if need > cap(s.inArena) {
		// a fresh arena: earlier inputs of this call keep pointing into the old one
		s.inArena = make([]byte, 0, max(need, 4096))
	}
	off := len(s.inArena) + alignPad(s.inArena[len(s.inArena):cap(s.inArena)])
	s.inArena = s.inArena[:off+len(b)]
	out := s.inArena[off : off+len(b) : off+len(b)]
	copy(out, b)
	return out
}

// logFailure logs, once per session for each row and code, a host library's failure that goes
// back to the client: the program may stop on it (ggml aborts on any CUDA error), and this line
// is then the only one saying which call failed and how. NVML's answers and CUDA's
// CUDA_ERROR_NOT_READY (a query's "not yet") are routine and not logged.
func (s *Session) logFailure(id api.ID, f *api.Func, code int32) {
	const notReady = 600
	if f.Lib() == api.LibNVML || f.Lib() == api.LibCuda && code == notReady {
		return
	}
	key := uint64(id)<<32 | uint64(uint32(code))
	if s.failed[key] {
		return
	}
	if s.failed == nil {
		s.failed = map[uint64]bool{}
	}
	s.failed[key] = true
	text := ""
	if es, ok := s.be.(ErrorStringer); ok && f.Lib() == api.LibCuda {
		if t, ok := es.ErrorString(api.LibCuda, code); ok {
			text = " (" + t + ")"
		}
	}
	s.logCall(f.Name+" failed", f, code, "%s returned %d%s; said once per session for this call and code", f.Name, code, text)
}

// resize returns s with length n and zeroed elements, reusing its storage.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}
