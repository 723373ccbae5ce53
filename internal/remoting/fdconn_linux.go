package remoting

import (
	"errors"
	"io"
	"net"
	"runtime"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/settings"
)

// FDConn is a connected socket used with blocking system calls on the calling thread: no
// netpoller, no goroutine hand-off, so a call's round trip is the socket's own latency. The
// client's calls run on the C caller's thread and the worker serves on one locked thread, so
// nothing is lost by blocking them.
type FDConn struct {
	fd int
	// spin (SetSpin): how long a read polls before it blocks. A reply to a short call (a launch
	// followed by a synchronise, a small copy) arrives within microseconds; waking a blocked
	// thread costs more than that, so polling briefly halves such a round trip. Atomic: the
	// client changes it (a scheduling flag) while another thread reads.
	spin atomic.Int64
	// Blocked counts the reads whose polling ran out and that blocked (VGPU_STATS: each one is
	// a thread wake-up on the reply's path).
	Blocked uint64
	// ReadIdle, if set, bounds how long one Read waits for its first byte: a peer that sends
	// nothing at all for that long fails the read with a timeout error (net.Error.Timeout).
	ReadIdle time.Duration
	// rdeadline (SetReadDeadline): reads fail with a timeout error once it has passed. Both are
	// checked only where a read would block (poll(2) with the time left), so a read whose bytes
	// are already there costs what it did without them.
	rdeadline time.Time
	pfd       [1]unix.PollFd // the reader's
	// rings, once UseRings was called: the frames travel through shared memory, the socket
	// carries wake-ups (rings_unsafe_linux.go). Wakes counts the wake-ups sent (VGPU_STATS:
	// the writes that made a system call).
	rings *rings
	Wakes uint64
	// the writes' limits (SetWriteDeadline, SetWriteIdle): SO_SNDTIMEO on the socket, and
	// these for a write waiting for room in a ring
	wdeadline time.Time
	widle     time.Duration
}

// NewFDConn takes over a connection: its descriptor is duplicated, set blocking, given large
// socket buffers, and the net.Conn is closed.
func NewFDConn(c net.Conn) (*FDConn, error) {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return nil, errors.New("remoting: connection has no file descriptor")
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	var derr error
	if err := raw.Control(func(f uintptr) { fd, derr = unix.Dup(int(f)) }); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, derr
	}
	c.Close()
	return FDConnOf(fd)
}

// FDConnOf uses descriptor fd (a connected stream socket) as an FDConn.
func FDConnOf(fd int) (*FDConn, error) {
	if err := unix.SetNonblock(fd, false); err != nil {
		return nil, err
	}
	unix.CloseOnExec(fd)
	// Large socket buffers (bulk copies): the forced variants pass the system's cap where
	// allowed (root), else the plain ones up to the cap. Best effort.
	for _, o := range [][2]int{{unix.SO_SNDBUFFORCE, unix.SO_SNDBUF}, {unix.SO_RCVBUFFORCE, unix.SO_RCVBUF}} {
		if unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[0], 8<<20) != nil {
			unix.SetsockoptInt(fd, unix.SOL_SOCKET, o[1], 8<<20)
		}
	}
	c := &FDConn{fd: fd}
	c.SetSpin(DefaultSpin())
	return c, nil
}

func (c *FDConn) Read(b []byte) (int, error) {
	if c.rings != nil {
		return c.ringRead(b)
	}
	if spin := c.Spin(); spin > 0 && len(b) > 0 {
		deadline := time.Now().Add(spin)
		for {
			n, err := recvNow(c.fd, b)
			if err == nil {
				if n == 0 {
					return 0, io.EOF
				}
				return n, nil
			}
			if err != unix.EAGAIN && err != unix.EINTR {
				return 0, err
			}
			if time.Now().After(deadline) {
				break
			}
		}
	}
	c.Blocked++
	if c.ReadIdle > 0 || !c.rdeadline.IsZero() {
		if err := c.waitReadable(); err != nil {
			return 0, err
		}
	}
	for {
		n, err := unix.Read(c.fd, b)
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return 0, errTimeout
		}
		if err != nil {
			return 0, err
		}
		if n == 0 && len(b) > 0 {
			return 0, io.EOF
		}
		return n, nil
	}
}

// waitReadable waits until the socket has bytes (or end of file, or an error) to read, for at
// most ReadIdle and until the read deadline; past either it returns a timeout error. With
// neither set it waits as long as it takes.
func (c *FDConn) waitReadable() error { return c.waitReadableSince(time.Now()) }

// waitReadableSince is waitReadable for a read that began at start.
func (c *FDConn) waitReadableSince(start time.Time) error {
	limited := c.ReadIdle > 0 || !c.rdeadline.IsZero()
	for {
		now := time.Now()
		wait := time.Duration(-1)
		if c.ReadIdle > 0 {
			wait = c.ReadIdle - now.Sub(start)
		}
		if !c.rdeadline.IsZero() {
			if left := c.rdeadline.Sub(now); wait < 0 || left < wait {
				wait = left
			}
		}
		if limited && wait <= 0 {
			return errTimeout
		}
		// round up to whole milliseconds, so a wait never ends just short of its limit (-1:
		// no limit)
		ms := -1
		if limited {
			ms = int((wait + time.Millisecond - 1) / time.Millisecond)
		}
		c.pfd[0] = unix.PollFd{Fd: int32(c.fd), Events: unix.POLLIN}
		n, err := unix.Poll(c.pfd[:], ms)
		if err == unix.EINTR || err == nil && n == 0 {
			continue // interrupted, or woke at the limit: the loop works out what is left
		}
		if err != nil {
			return err
		}
		return nil // readable, hung up or failed: the read says which
	}
}

func (c *FDConn) Write(b []byte) (int, error) {
	if c.rings != nil {
		return c.ringWrite(b)
	}
	done := 0
	for done < len(b) {
		n, err := unix.Write(c.fd, b[done:])
		if err == unix.EINTR {
			continue
		}
		if err == unix.EAGAIN {
			return done, errTimeout
		}
		if err != nil {
			return done, err
		}
		done += n
	}
	return done, nil
}

// Close closes the descriptor.
func (c *FDConn) Close() error { return unix.Close(c.fd) }

// Fd is the socket's descriptor, for system calls FDConn does not make (cmd/vgpu-netem reads
// with recvmsg for the kernel's receive time); it stays the FDConn's.
func (c *FDConn) Fd() int { return c.fd }

// LocalAddr is the socket's own address (net.Conn: crypto/tls runs over an FDConn).
func (c *FDConn) LocalAddr() net.Addr {
	sa, err := unix.Getsockname(c.fd)
	if err != nil {
		return nil
	}
	return netAddr(sa)
}

// RemoteAddr is the peer's address.
func (c *FDConn) RemoteAddr() net.Addr {
	sa, err := unix.Getpeername(c.fd)
	if err != nil {
		return nil
	}
	return netAddr(sa)
}

func netAddr(sa unix.Sockaddr) net.Addr {
	switch a := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]).To16(), Port: a.Port}
	case *unix.SockaddrInet6:
		return &net.TCPAddr{IP: net.IP(a.Addr[:]), Port: a.Port}
	case *unix.SockaddrUnix:
		return &net.UnixAddr{Name: a.Name, Net: "unix"}
	}
	return toAddr(sa)
}

// CloseWrite ends the connection's sending side: the peer reads end-of-file.
func (c *FDConn) CloseWrite() error { return unix.Shutdown(c.fd, unix.SHUT_WR) }

// Shutdown ends the connection both ways without releasing the descriptor: whoever still reads
// or writes it gets end-of-file or an error, never another connection that reused the number.
func (c *FDConn) Shutdown() error { return unix.Shutdown(c.fd, unix.SHUT_RDWR) }

var errTimeout = &timeoutError{}

type timeoutError struct{}

func (*timeoutError) Error() string   { return "remoting: i/o timeout" }
func (*timeoutError) Timeout() bool   { return true }
func (*timeoutError) Temporary() bool { return true }

func timeval(t time.Time) *unix.Timeval {
	if t.IsZero() {
		return &unix.Timeval{}
	}
	d := max(time.Until(t), time.Millisecond)
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return &tv
}

// SetDeadline bounds every later read and write; zero clears it.
func (c *FDConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

// SetReadDeadline makes reads fail with a timeout error once t has passed; zero clears it. It
// makes no system call (the worker sets one before every frame).
func (c *FDConn) SetReadDeadline(t time.Time) error {
	c.rdeadline = t
	return nil
}

// SetWriteDeadline bounds each later write to the time left until t (SO_SNDTIMEO); zero clears it.
func (c *FDConn) SetWriteDeadline(t time.Time) error {
	c.wdeadline, c.widle = t, 0
	return unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, timeval(t))
}

// SetWriteIdle bounds how long one write may wait for room in the socket (SO_SNDTIMEO): a
// peer that reads nothing for d fails the write with a timeout error. 0 clears it; so does
// SetWriteDeadline, which sets the same option.
func (c *FDConn) SetWriteIdle(d time.Duration) error {
	c.wdeadline, c.widle = time.Time{}, d
	tv := unix.NsecToTimeval(d.Nanoseconds())
	return unix.SetsockoptTimeval(c.fd, unix.SOL_SOCKET, unix.SO_SNDTIMEO, &tv)
}

// SetSpin sets how long a read polls before it blocks (0: it blocks at once); safe while
// another thread reads.
func (c *FDConn) SetSpin(d time.Duration) { c.spin.Store(int64(d)) }

// Spin is how long a read polls before it blocks.
func (c *FDConn) Spin() time.Duration { return time.Duration(c.spin.Load()) }

// DefaultSpin is VGPU_SPIN_US microseconds (0 turns polling off). Unset, reads poll for 2 ms
// where the machine has at least SpinCores cores, as CUDA's own synchronisation spins while
// contexts are fewer than cores: a token of a small model is answered in under 2 ms, and a
// thread woken from a blocking read cost llama.cpp's tg128 8 % of native speed on the H100 (a
// 110 MB model: 90.4 % with 50 µs of polling, 98.7 % with 2 ms; docs/archive/gpu-runs-2026-11.md). With
// fewer cores the two polling processes would take the CPU from the work they wait for, so
// reads poll for 50 µs only.
func DefaultSpin() time.Duration {
	if v, ok := settings.SpinUS.Lookup(); ok {
		return time.Duration(v) * time.Microsecond
	}
	if runtime.NumCPU() < SpinCores {
		return 50 * time.Microsecond
	}
	return 2 * time.Millisecond
}

// SpinCores is how many cores a machine needs for the long default polling (a variable so
// tests can have the long default on any machine).
var SpinCores = 4

// SendFD passes descriptor f to the peer (SCM_RIGHTS, with one byte of data).
func (c *FDConn) SendFD(f int) error {
	return unix.Sendmsg(c.fd, []byte{0}, unix.UnixRights(f), nil, 0)
}

// RecvFD receives a descriptor the peer passed with SendFD (within the read deadline and
// ReadIdle, if set).
func (c *FDConn) RecvFD() (int, error) {
	if c.ReadIdle > 0 || !c.rdeadline.IsZero() {
		if err := c.waitReadable(); err != nil {
			return -1, err
		}
	}
	buf := make([]byte, 1)
	oob := make([]byte, unix.CmsgSpace(4))
	n, oobn, _, _, err := unix.Recvmsg(c.fd, buf, oob, unix.MSG_CMSG_CLOEXEC)
	if err != nil {
		return -1, err
	}
	if n != 1 {
		return -1, io.ErrUnexpectedEOF
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil || len(msgs) != 1 {
		return -1, errors.New("remoting: no descriptor passed")
	}
	fds, err := unix.ParseUnixRights(&msgs[0])
	if err != nil || len(fds) != 1 {
		for _, f := range fds {
			unix.Close(f)
		}
		return -1, errors.New("remoting: expected one descriptor")
	}
	return fds[0], nil
}
