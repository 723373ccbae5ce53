package remoting

import (
	"errors"
	"fmt"
	"io"
	"math/bits"
	"sync/atomic"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Frame rings: on a unix socket, a session's frames can travel through shared memory instead of
// the socket. The client creates a memfd of RingsSize(n) bytes and passes it after the
// Welcome (Hello.RingSize = n); from then on both sides read and write their FDConn through two
// byte rings of n bytes in it, one each way, and the socket carries only wake-ups: one byte,
// sent when the peer stopped polling the ring and sleeps on the socket. A round trip whose reply
// comes while the caller polls (most of them) so makes no system call on either side, where
// the socket costs four (the call's write and read, the reply's write and read).
//
// The rings hold a byte stream, the same one the socket carried: frames are written and read
// with remoting.Conn on top as before, and nothing above FDConn knows which carries them.
//
// Layout: a page of control words, then ring 0 (client to worker), then ring 1 (worker to
// client). Each ring's words (ringCtl) keep the producer's and the consumer's on separate cache
// lines. Positions count bytes since the start and only grow; a peer's position is checked on
// every read of it (a consumer's never behind, nor a producer's ahead, by more than the ring),
// and bytes are copied out of the ring before anything looks at them, so a peer that scribbles
// on the shared memory breaks only its own session.

// RingHeader is the bytes of control words before the rings.
const RingHeader = 4096

// MinRing and MaxRing bound a ring's size (a power of two).
const (
	MinRing = 64 << 10
	MaxRing = 16 << 20
)

// RingsSize is the shared memory a session's two rings of n bytes take.
func RingsSize(n uint64) uint64 { return RingHeader + 2*n }

// ValidRingSize says whether n can be a ring's size.
func ValidRingSize(n uint64) bool {
	return n >= MinRing && n <= MaxRing && bits.OnesCount64(n) == 1
}

// ringCtl is one ring's control words, at offset 0 (ring 0) or 1024 (ring 1) of the memory.
type ringCtl struct {
	tail    uint64 // bytes written: the producer's
	waiting uint32 // the producer waits for room (futex on space)
	_       [52]byte
	head    uint64 // bytes read: the consumer's
	asleep  uint32 // the consumer sleeps on the socket: a write sends a wake-up byte
	_       [52]byte
	space   uint32 // bumped by the consumer when it frees room for a waiting producer (futex word)
}

// ring is one direction, as one side sees it.
type ring struct {
	ctl  *ringCtl
	data []byte
	size uint64
	pos  uint64 // this side's own position (tail when producing, head when consuming)
}

func newRing(mem []byte, k int, n uint64) *ring {
	return &ring{ctl: (*ringCtl)(unsafe.Pointer(&mem[k*1024])), data: mem[RingHeader+uint64(k)*n : RingHeader+uint64(k+1)*n], size: n}
}

var errRingPosition = errors.New("remoting: the peer's position in the shared memory's ring is out of range")

// take copies what the ring holds, up to len(b), into b and frees it; 0 when it is empty.
func (r *ring) take(b []byte) (int, error) {
	avail := atomic.LoadUint64(&r.ctl.tail) - r.pos
	if avail == 0 {
		return 0, nil
	}
	if avail > r.size {
		return 0, errRingPosition
	}
	n := min(uint64(len(b)), avail)
	off := r.pos & (r.size - 1)
	k := copy(b[:n], r.data[off:])
	copy(b[k:n], r.data)
	r.pos += n
	atomic.StoreUint64(&r.ctl.head, r.pos)
	if atomic.LoadUint32(&r.ctl.waiting) != 0 {
		atomic.AddUint32(&r.ctl.space, 1)
		futex(&r.ctl.space, futexWakeShared, 1, nil)
	}
	return int(n), nil
}

// put copies as much of b as the ring has room for into it and publishes it; 0 when it is full.
func (r *ring) put(b []byte) (int, error) {
	used := r.pos - atomic.LoadUint64(&r.ctl.head)
	if used > r.size {
		return 0, errRingPosition
	}
	n := min(uint64(len(b)), r.size-used)
	if n == 0 {
		return 0, nil
	}
	off := r.pos & (r.size - 1)
	k := copy(r.data[off:], b[:n])
	copy(r.data, b[k:n])
	r.pos += n
	atomic.StoreUint64(&r.ctl.tail, r.pos)
	return int(n), nil
}

// rings is an FDConn's pair of rings.
type rings struct {
	rx, tx  *ring
	scratch [64]byte // wake-up bytes drained
}

// UseRings moves c's frames to the rings in mem (RingsSize(n) bytes, n a valid ring size): the
// client's side (client) writes ring 0 and reads ring 1, the worker's the other way. Both
// sides call it at the same point of the stream (right after the memory was passed), with
// nothing sent after it on the socket. mem stays mapped for the life of the process: a thread
// may still be reading the ring when another closes the connection.
func (c *FDConn) UseRings(mem []byte, n uint64, client bool) error {
	if !ValidRingSize(n) || uint64(len(mem)) < RingsSize(n) {
		return fmt.Errorf("remoting: rings of %d bytes in %d bytes of shared memory", n, len(mem))
	}
	r := &rings{rx: newRing(mem, 1, n), tx: newRing(mem, 0, n)}
	if !client {
		r.rx, r.tx = r.tx, r.rx
	}
	// a worker starts from where the client says it is (both are at zero on a fresh memory)
	r.rx.pos = atomic.LoadUint64(&r.rx.ctl.head)
	r.tx.pos = atomic.LoadUint64(&r.tx.ctl.tail)
	c.rings = r
	return nil
}

// Rings says whether c's frames travel through shared memory (UseRings).
func (c *FDConn) Rings() bool { return c.rings != nil }

// ringRead is Read through the rings: it polls the ring for Spin(), then sleeps on the socket
// until the peer's wake-up byte (or the end of the connection, or a limit) comes.
func (c *FDConn) ringRead(b []byte) (int, error) {
	r := c.rings.rx
	if len(b) == 0 {
		return 0, nil
	}
	if n, err := r.take(b); n > 0 || err != nil {
		return n, err
	}
	if spinFor(c.Spin(), func() bool { return atomic.LoadUint64(&r.ctl.tail) != r.pos }) {
		return r.take(b)
	}
	start := time.Now()
	for {
		atomic.StoreUint32(&r.ctl.asleep, 1)
		if n, err := r.take(b); n > 0 || err != nil {
			atomic.StoreUint32(&r.ctl.asleep, 0)
			return n, err
		}
		c.Blocked++
		werr := c.waitReadableSince(start) // a wake-up byte, the end of the connection, or a limit
		eof, derr := c.drainWakes()
		atomic.StoreUint32(&r.ctl.asleep, 0)
		if n, err := r.take(b); n > 0 || err != nil {
			return n, err
		}
		switch {
		case eof:
			return 0, io.EOF
		case derr != nil:
			return 0, derr
		case werr != nil:
			return 0, werr
		}
	}
}

// spinFor polls ready for d at most (0: not at all) and says whether it became true. The clock
// is first read after 64 looks: what comes at once (most replies do) costs no reading of it.
func spinFor(d time.Duration, ready func() bool) bool {
	if d <= 0 {
		return false
	}
	var deadline time.Time
	for i := 0; ; i++ {
		if ready() {
			return true
		}
		if i&63 == 63 {
			now := time.Now()
			if deadline.IsZero() {
				deadline = now.Add(d)
			} else if now.After(deadline) {
				return false
			}
		}
	}
}

// drainWakes reads the wake-up bytes the socket holds, without blocking; eof: the peer closed.
func (c *FDConn) drainWakes() (eof bool, err error) {
	for {
		n, err := recvNow(c.fd, c.rings.scratch[:])
		switch {
		case err == unix.EAGAIN:
			return false, nil
		case err == unix.EINTR:
			continue
		case err != nil:
			return false, err
		case n == 0:
			return true, nil
		}
	}
}

// ringWrite is Write through the rings: it copies b into the ring as room allows, waking the
// reader when it sleeps.
func (c *FDConn) ringWrite(b []byte) (int, error) {
	r := c.rings.tx
	done := 0
	var start time.Time
	for done < len(b) {
		n, err := r.put(b[done:])
		if err != nil {
			return done, err
		}
		if n > 0 {
			done += n
			if atomic.LoadUint32(&r.ctl.asleep) != 0 {
				if err := c.sendWake(); err != nil {
					return done, err
				}
			}
			continue
		}
		if start.IsZero() {
			start = time.Now()
		}
		if err := c.waitRoom(r, start); err != nil {
			return done, err
		}
	}
	return done, nil
}

var wakeByte = [1]byte{1}

// sendWake sends the reader its wake-up byte. A full socket already holds wake-ups it has not
// read, so that is no failure.
func (c *FDConn) sendWake() error {
	c.Wakes++
	for {
		_, _, e := unix.Syscall6(unix.SYS_SENDTO, uintptr(c.fd), uintptr(unsafe.Pointer(&wakeByte[0])), 1, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL, 0, 0)
		switch e {
		case 0, unix.EAGAIN:
			return nil
		case unix.EINTR:
		default:
			return e
		}
	}
}

// ringSlice is how long a writer waiting for room sleeps before it looks at the connection
// and its limits again.
const ringSlice = 10 * time.Millisecond

// waitRoom waits until the reader frees room in ring r: polling for Spin(), then sleeping on the
// ring's futex in slices, failing once the peer has closed or the write's limits (the deadline,
// or the write idle time since start) have passed.
func (c *FDConn) waitRoom(r *ring, start time.Time) error {
	full := func() bool { return r.pos-atomic.LoadUint64(&r.ctl.head) >= r.size }
	if spinFor(c.Spin(), func() bool { return !full() }) {
		return nil
	}
	for {
		seq := atomic.LoadUint32(&r.ctl.space)
		atomic.StoreUint32(&r.ctl.waiting, 1)
		if !full() {
			atomic.StoreUint32(&r.ctl.waiting, 0)
			return nil
		}
		ts := unix.NsecToTimespec(int64(ringSlice))
		futex(&r.ctl.space, futexWaitShared, seq, &ts)
		atomic.StoreUint32(&r.ctl.waiting, 0)
		if !full() {
			return nil
		}
		pfd := [1]unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLRDHUP}} // (c.pfd is the reader's)
		if n, _ := unix.Poll(pfd[:], 0); n > 0 && pfd[0].Revents&(unix.POLLHUP|unix.POLLRDHUP|unix.POLLERR) != 0 {
			return unix.EPIPE
		}
		now := time.Now()
		if w := c.wdeadline; !w.IsZero() && now.After(w) || c.widle > 0 && now.Sub(start) > c.widle {
			return errTimeout
		}
	}
}
