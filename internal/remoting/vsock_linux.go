package remoting

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Package net cannot wrap AF_VSOCK sockets (net.FileConn refuses the family),
// so a vsock socket is a non-blocking fd in an *os.File, which gives it the
// runtime poller and deadlines, with the rest of net.Conn added here. The code
// takes any stream socket family, so that tests can run it without vsock.

func dialVsock(ctx context.Context, a Addr) (net.Conn, error) {
	return dialFD(ctx, unix.AF_VSOCK, &unix.SockaddrVM{CID: a.CID, Port: a.Port}, a)
}

func listenVsock(a Addr) (net.Listener, error) {
	return listenFD(unix.AF_VSOCK, &unix.SockaddrVM{CID: a.CID, Port: a.Port}, a)
}

func socketFD(domain int) (int, error) {
	fd, err := unix.Socket(domain, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	return fd, os.NewSyscallError("socket", err)
}

// toAddr converts a socket address; only vsock is used outside tests.
func toAddr(sa unix.Sockaddr) Addr {
	switch sa := sa.(type) {
	case *unix.SockaddrVM:
		return Addr{Scheme: "vsock", CID: sa.CID, Port: sa.Port}
	case *unix.SockaddrInet4:
		return Addr{Scheme: "tcp", Host: net.IP(sa.Addr[:]).String(), Port: uint32(sa.Port)}
	case *unix.SockaddrUnix:
		return Addr{Scheme: "unix", Path: sa.Name}
	}
	return Addr{}
}

func localAddr(fd int) Addr {
	sa, _ := unix.Getsockname(fd)
	return toAddr(sa)
}

func dialFD(ctx context.Context, domain int, sa unix.Sockaddr, a Addr) (net.Conn, error) {
	opErr := func(err error) error { return &net.OpError{Op: "dial", Net: a.Scheme, Addr: a, Err: err} }
	if err := ctx.Err(); err != nil {
		return nil, opErr(err)
	}
	fd, err := socketFD(domain)
	if err != nil {
		return nil, opErr(err)
	}
	err = unix.Connect(fd, sa)
	pending := err == unix.EINPROGRESS || err == unix.EALREADY || err == unix.EINTR
	if err != nil && !pending {
		unix.Close(fd)
		return nil, opErr(os.NewSyscallError("connect", err))
	}
	f := os.NewFile(uintptr(fd), a.String())
	if pending {
		if err := waitConnect(ctx, f); err != nil {
			f.Close()
			return nil, opErr(err)
		}
	}
	return &fdConn{f: f, local: localAddr(fd), remote: a}, nil
}

// waitConnect waits for a non-blocking connect on f to finish, or ctx.
func waitConnect(ctx context.Context, f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	if d, ok := ctx.Deadline(); ok {
		f.SetWriteDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { f.SetWriteDeadline(time.Unix(1, 0)) })
	var cerr error
	err = rc.Write(func(fd uintptr) bool {
		soerr, err := unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_ERROR)
		switch e := unix.Errno(soerr); {
		case err != nil:
			cerr = os.NewSyscallError("getsockopt", err)
		case e == unix.EINPROGRESS || e == unix.EALREADY || e == unix.EINTR:
			return false
		case e != 0:
			cerr = os.NewSyscallError("connect", e)
		default:
			if _, err := unix.Getpeername(int(fd)); err == unix.ENOTCONN {
				return false // not writable yet: wait
			} else if err != nil {
				cerr = os.NewSyscallError("getpeername", err)
			}
		}
		return true
	})
	if !stop() || ctx.Err() != nil { // the deadline may have been moved
		return ctx.Err()
	}
	if err != nil {
		return err
	}
	f.SetWriteDeadline(time.Time{})
	return cerr
}

// fdConn is a net.Conn on a socket fd in an *os.File.
type fdConn struct {
	f             *os.File
	local, remote Addr
}

func (c *fdConn) Read(b []byte) (int, error) {
	n, err := c.f.Read(b)
	return n, c.opErr("read", err)
}

func (c *fdConn) Write(b []byte) (int, error) {
	n, err := c.f.Write(b)
	return n, c.opErr("write", err)
}

func (c *fdConn) Close() error                       { return c.opErr("close", c.f.Close()) }
func (c *fdConn) LocalAddr() net.Addr                { return c.local }
func (c *fdConn) RemoteAddr() net.Addr               { return c.remote }
func (c *fdConn) SetDeadline(t time.Time) error      { return c.f.SetDeadline(t) }
func (c *fdConn) SetReadDeadline(t time.Time) error  { return c.f.SetReadDeadline(t) }
func (c *fdConn) SetWriteDeadline(t time.Time) error { return c.f.SetWriteDeadline(t) }

// SyscallConn gives access to the descriptor (the server hands it to a worker).
func (c *fdConn) SyscallConn() (syscall.RawConn, error) { return c.f.SyscallConn() }

// CloseWrite shuts down the sending side.
func (c *fdConn) CloseWrite() error {
	rc, err := c.f.SyscallConn()
	if err == nil {
		cerr := rc.Control(func(fd uintptr) { err = unix.Shutdown(int(fd), unix.SHUT_WR) })
		if cerr != nil {
			err = cerr
		}
	}
	return c.opErr("close", os.NewSyscallError("shutdown", err))
}

// opErr turns an *os.File error into what package net returns.
func (c *fdConn) opErr(op string, err error) error {
	if err == nil || err == io.EOF {
		return err
	}
	if errors.Is(err, os.ErrClosed) {
		err = net.ErrClosed
	} else if pe, ok := err.(*os.PathError); ok {
		err = pe.Err
	}
	return &net.OpError{Op: op, Net: c.remote.Scheme, Source: c.local, Addr: c.remote, Err: err}
}

// fdListener is a net.Listener on a socket fd in an *os.File.
type fdListener struct {
	f      *os.File
	rc     syscall.RawConn
	addr   Addr
	closed atomic.Bool
}

func listenFD(domain int, sa unix.Sockaddr, a Addr) (net.Listener, error) {
	opErr := func(err error) error { return &net.OpError{Op: "listen", Net: a.Scheme, Addr: a, Err: err} }
	fd, err := socketFD(domain)
	if err != nil {
		return nil, opErr(err)
	}
	if err := unix.Bind(fd, sa); err != nil {
		unix.Close(fd)
		return nil, opErr(os.NewSyscallError("bind", err))
	}
	if err := unix.Listen(fd, unix.SOMAXCONN); err != nil {
		unix.Close(fd)
		return nil, opErr(os.NewSyscallError("listen", err))
	}
	l := &fdListener{f: os.NewFile(uintptr(fd), a.String()), addr: localAddr(fd)}
	if l.rc, err = l.f.SyscallConn(); err != nil {
		l.f.Close()
		return nil, opErr(err)
	}
	return l, nil
}

func (l *fdListener) Accept() (net.Conn, error) {
	for {
		var (
			nfd  int
			sa   unix.Sockaddr
			aerr error
		)
		err := l.rc.Read(func(fd uintptr) bool {
			nfd, sa, aerr = unix.Accept4(int(fd), unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
			return aerr != unix.EAGAIN
		})
		if l.closed.Load() {
			if err == nil && aerr == nil {
				unix.Close(nfd)
			}
			err = net.ErrClosed
		}
		if err == nil {
			switch aerr {
			case nil:
				return &fdConn{f: os.NewFile(uintptr(nfd), l.addr.String()), local: localAddr(nfd), remote: toAddr(sa)}, nil
			case unix.EINTR, unix.ECONNABORTED:
				continue
			}
			err = os.NewSyscallError("accept4", aerr)
		}
		return nil, &net.OpError{Op: "accept", Net: l.addr.Scheme, Addr: l.addr, Err: err}
	}
}

func (l *fdListener) Close() error {
	l.closed.Store(true)
	return l.f.Close()
}

func (l *fdListener) Addr() net.Addr { return l.addr }
