package main

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"runtime"
	"slices"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/remoting"
)

// relay forwards each accepted TCP connection to target, both ways, holding every byte for
// delay (one way) before it goes on: a timestamped queue per direction, bytes released when due,
// so the order and the rate are kept and only the time changes. With a rate, each direction is
// also a link of that many bytes a second: a read's bytes are due once the link has carried
// them, after the bytes before them (their transmission time), and delay after that.
type relay struct {
	target string        // host:port
	delay  time.Duration // one way: a round trip costs twice this
	rate   float64       // bytes a second each way (0: no limit)
	spin   time.Duration // the last part of a wait is spent polling the clock, not asleep
	limit  int           // bytes queued per direction before the reading side stops reading
	log    io.Writer     // a line per finished connection (nil: none)
}

// readSize is the most one read takes from a socket.
const readSize = 256 << 10

// bufPool holds read buffers the writer has written out, for the reader's next long read.
var bufPool = sync.Pool{New: func() any { return make([]byte, readSize) }}

// chunk is what one read returned, and when it is due on the other side.
type chunk struct {
	b   []byte
	due time.Time
	eof bool // the reading side ended (EOF or an error): the writer half-closes
}

// serve accepts connections until the listener closes.
func (r *relay) serve(ln net.Listener) error {
	for {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		go r.handle(c)
	}
}

// handle relays one connection: a dial to the target, then a pipe each way.
func (r *relay) handle(nc net.Conn) {
	peer := nc.RemoteAddr()
	a, err := remoting.NewFDConn(nc)
	if err != nil {
		r.logf("relay: %s: %v", peer, err)
		nc.Close()
		return
	}
	defer a.Close()
	tc, err := net.DialTimeout("tcp", r.target, 5*time.Second)
	if err != nil {
		r.logf("relay: %s: cannot reach %s: %v", peer, r.target, err)
		return
	}
	b, err := remoting.NewFDConn(tc)
	if err != nil {
		r.logf("relay: %s: %v", peer, err)
		tc.Close()
		return
	}
	defer b.Close()
	// reads block at once: the relay's threads take no CPU while idle
	a.SetSpin(0)
	b.SetSpin(0)
	var up, down dirStats
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); r.pipe(b, a, &up) }()
	go func() { defer wg.Done(); r.pipe(a, b, &down) }()
	wg.Wait()
	r.logf("relay: %s closed; to the server: %s; to the client: %s", peer, up.String(), down.String())
}

func (r *relay) logf(format string, args ...any) {
	if r.log != nil {
		fmt.Fprintf(r.log, format+"\n", args...)
	}
}

// pipe is one direction: a reader thread and a writer thread, each a goroutine locked to its
// thread making blocking system calls (no netpoller, no scheduler hand-off on the bytes' path),
// and between them a queue of chunks in arrival order. The writer sleeps on an eventfd while the
// queue is empty, then until the first chunk is due, and writes every chunk due by then in one
// writev. A short chunk that is due when read (no delay, or a reader that woke after the delay
// had passed) and finds the queue empty and the writer idle is written by the reader itself.
type pipe struct {
	r        *relay
	dst, src *remoting.FDConn
	st       *dirStats

	mu      sync.Mutex
	q       []chunk
	bytes   int
	holding bool // the writer holds chunks it took from the queue and has not written yet
	closed  bool // the writer failed: the reader stops
	// a side blocked reading its eventfd, woken by the other: the writer on an empty queue, the
	// reader on a full one
	writerWaits, readerWaits bool
	wakeWriter, wakeReader   int // eventfds
}

func (r *relay) pipe(dst, src *remoting.FDConn, st *dirStats) {
	p := &pipe{r: r, dst: dst, src: src, st: st}
	var err error
	if p.wakeWriter, err = unix.Eventfd(0, unix.EFD_CLOEXEC); err != nil {
		r.logf("relay: %v", err)
		return
	}
	defer unix.Close(p.wakeWriter)
	if p.wakeReader, err = unix.Eventfd(0, unix.EFD_CLOEXEC); err != nil {
		r.logf("relay: %v", err)
		return
	}
	defer unix.Close(p.wakeReader)
	done := make(chan struct{})
	go func() { defer close(done); p.read() }()
	p.write()
	<-done
}

func wake(efd int) {
	one := [8]byte{1}
	unix.Write(efd, one[:])
}

func sleepOn(efd int) {
	var b [8]byte
	for {
		if _, err := unix.Read(efd, b[:]); err != unix.EINTR {
			return
		}
	}
}

// read reads src until it ends, queueing what it reads with its due time: the delay after the
// kernel received it (SO_TIMESTAMPNS, the time of the read's last packet), so that the time this
// thread took to wake is not added to the delay.
func (p *pipe) read() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	fd := p.src.Fd()
	stamped := p.r.delay > 0 && unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_TIMESTAMPNS, 1) == nil
	buf := bufPool.Get().([]byte)
	oob := make([]byte, unix.CmsgSpace(16))
	var linkFree time.Time // with a rate: when the link has carried what was read so far
	for {
		var n int
		var err error
		var arrived time.Time
		if stamped {
			n, arrived, err = recvStamped(fd, buf, oob)
		} else {
			n, err = p.src.Read(buf)
		}
		now := time.Now()
		due := now.Add(p.r.delay)
		if !arrived.IsZero() {
			// the packet's age, on the wall clock the kernel stamps with: within [0, delay]
			age := min(max(now.Sub(arrived), 0), p.r.delay)
			due = now.Add(p.r.delay - age)
		}
		if p.r.rate > 0 && n > 0 {
			// the bytes leave once the link is free and has carried them
			start := due.Add(-p.r.delay)
			if linkFree.After(start) {
				start = linkFree
			}
			linkFree = start.Add(time.Duration(float64(n) / p.r.rate * 1e9))
			due = linkFree.Add(p.r.delay)
		}
		c := chunk{due: due, eof: err != nil || n == 0}
		if n > 0 {
			// a short read is copied out (the queue holds no more than it carries), a long one
			// handed over with its buffer
			if n < readSize/4 {
				c.b = slices.Clone(buf[:n])
			} else {
				c.b, buf = buf[:n], bufPool.Get().([]byte)
			}
		}
		if !p.push(c, now) || c.eof {
			return
		}
	}
}

// recvStamped reads into b (blocking) and returns the kernel's receive time of the data (zero
// if none came with it). 0 bytes and no error: the end of the stream.
func recvStamped(fd int, b, oob []byte) (int, time.Time, error) {
	for {
		n, oobn, _, _, err := unix.Recvmsg(fd, b, oob, 0)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n == 0 {
			return 0, time.Time{}, err
		}
		var t time.Time
		if msgs, err := unix.ParseSocketControlMessage(oob[:oobn]); err == nil {
			for _, m := range msgs {
				if m.Header.Level == unix.SOL_SOCKET && m.Header.Type == unix.SO_TIMESTAMPNS && len(m.Data) >= 16 {
					t = time.Unix(int64(binary.NativeEndian.Uint64(m.Data)), int64(binary.NativeEndian.Uint64(m.Data[8:])))
				}
			}
		}
		return n, t, nil
	}
}

// push queues c (or, when c is short and due and nothing is queued or being written, writes it
// at once: a small message then costs no hand-off, while a stream's long reads still go to the
// writer, so that reading and writing overlap); false when the pipe is closed.
func (p *pipe) push(c chunk, now time.Time) bool {
	p.mu.Lock()
	for p.bytes >= p.r.limit && !p.closed {
		p.readerWaits = true
		p.mu.Unlock()
		sleepOn(p.wakeReader)
		p.mu.Lock()
	}
	if p.closed {
		p.mu.Unlock()
		return false
	}
	if len(p.q) == 0 && !p.holding && !c.eof && !c.due.After(now) && len(c.b) < readSize/4 {
		// nothing ahead of it: the writer stays asleep and the bytes go out from here
		p.mu.Unlock()
		p.st.late(0)
		p.st.add(len(c.b))
		if _, err := p.dst.Write(c.b); err != nil {
			p.fail()
			return false
		}
		return true
	}
	p.q = append(p.q, c)
	p.bytes += len(c.b)
	w := p.writerWaits
	p.writerWaits = false
	p.mu.Unlock()
	if w {
		wake(p.wakeWriter)
	}
	return true
}

// fail closes the pipe after a failed write: the reader stops (its socket is shut down, which
// also ends the other direction).
func (p *pipe) fail() {
	p.mu.Lock()
	p.closed = true
	w := p.readerWaits
	p.readerWaits = false
	p.mu.Unlock()
	if w {
		wake(p.wakeReader)
	}
	p.src.Shutdown()
}

// write writes the queued chunks to dst, each when it is due, until the end of the stream.
func (p *pipe) write() {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	unix.Prctl(unix.PR_SET_TIMERSLACK, 1, 0, 0, 0) // nanosleep wakes when asked, not up to 50 µs late
	var batch []chunk
	var bufs [][]byte
	for {
		p.mu.Lock()
		for len(p.q) == 0 {
			p.writerWaits = true
			p.mu.Unlock()
			sleepOn(p.wakeWriter)
			p.mu.Lock()
		}
		due := p.q[0].due
		p.holding = true
		p.mu.Unlock()
		p.r.waitUntil(due)
		now := time.Now()
		p.mu.Lock()
		n := 0
		for n < len(p.q) && !p.q[n].due.After(now) && (n == 0 || !p.q[n-1].eof) {
			n++
		}
		batch = append(batch[:0], p.q[:n]...)
		clear(p.q[:n])
		p.q = p.q[n:]
		for _, c := range batch {
			p.bytes -= len(c.b)
		}
		w := p.readerWaits && p.bytes < p.r.limit
		if w {
			p.readerWaits = false
		}
		p.mu.Unlock()
		if w {
			wake(p.wakeReader)
		}
		p.st.late(now.Sub(due))
		bufs = bufs[:0]
		eof := false
		for _, c := range batch {
			if c.eof {
				eof = true
				break
			}
			bufs = append(bufs, c.b)
			p.st.add(len(c.b))
		}
		if len(bufs) > 0 {
			if err := writev(p.dst.Fd(), bufs); err != nil {
				p.fail()
				return
			}
			for _, c := range batch {
				if cap(c.b) == readSize {
					bufPool.Put(c.b[:readSize])
				}
			}
		}
		p.mu.Lock()
		p.holding = false
		p.mu.Unlock()
		if eof {
			p.dst.CloseWrite() // the peer sees the end where the source ended
			return
		}
	}
}

// writev writes every byte of bufs (blocking), as few system calls as it takes.
func writev(fd int, bufs [][]byte) error {
	for len(bufs) > 0 {
		n, err := unix.Writev(fd, bufs[:min(len(bufs), 1024)]) // IOV_MAX
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		for n > 0 {
			if n < len(bufs[0]) {
				bufs[0] = bufs[0][n:]
				break
			}
			n -= len(bufs[0])
			bufs = bufs[1:]
		}
		for len(bufs) > 0 && len(bufs[0]) == 0 {
			bufs = bufs[1:]
		}
	}
	return nil
}

// waitUntil returns at t: asleep (nanosleep on this thread) until spin before t, then polling
// the clock.
func (r *relay) waitUntil(t time.Time) {
	for {
		d := time.Until(t)
		if d <= 0 {
			return
		}
		if d > r.spin {
			ts := unix.NsecToTimespec(int64(d - r.spin))
			unix.Nanosleep(&ts, nil)
			continue
		}
		for time.Now().Before(t) {
		}
		return
	}
}

// dirStats is what one direction carried and how late its writes were against their due time.
type dirStats struct {
	mu            sync.Mutex // the reader and the writer both write
	bytes, writes uint64
	lateness      []time.Duration // the first maxSamples
	over          uint64          // writes beyond maxSamples
}

const maxSamples = 1 << 20

func (s *dirStats) add(n int) {
	s.mu.Lock()
	s.bytes += uint64(n)
	s.mu.Unlock()
}

func (s *dirStats) late(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.writes++
	if len(s.lateness) < maxSamples {
		s.lateness = append(s.lateness, d)
	} else {
		s.over++
	}
}

func (s *dirStats) String() string {
	if len(s.lateness) == 0 {
		return "nothing"
	}
	l := slices.Clone(s.lateness)
	slices.Sort(l)
	q := func(f float64) time.Duration { return l[int(f*float64(len(l)-1))] }
	more := ""
	if s.over > 0 {
		more = fmt.Sprintf(" (of the first %d writes)", len(l))
	}
	return fmt.Sprintf("%d bytes in %d writes, late by median %v, p90 %v, p99 %v, max %v%s",
		s.bytes, s.writes, q(0.5), q(0.9), q(0.99), l[len(l)-1], more)
}
