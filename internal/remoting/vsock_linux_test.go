package remoting

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The vsock code runs on any stream socket family; these tests run it on
// AF_INET and AF_UNIX, which every machine has.

func TestFDSocketsInet(t *testing.T) {
	l, err := listenFD(unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}}, Addr{Scheme: "tcp", Host: "127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	la := l.Addr().(Addr)
	if la.Port == 0 {
		t.Fatalf("listener address %v", la)
	}
	dial := func(ctx context.Context) (net.Conn, error) {
		return dialFD(ctx, unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{127, 0, 0, 1}, Port: int(la.Port)}, la)
	}
	exchangeWith(t, l, dial)

	// Close, deadlines and half-close on a connection.
	ctx := context.Background()
	c, err := dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	if s.RemoteAddr().(Addr) != c.LocalAddr().(Addr) {
		t.Errorf("accepted remote %v, dialed local %v", s.RemoteAddr(), c.LocalAddr())
	}
	s.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	var ne net.Error
	if _, err := s.Read(make([]byte, 1)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("read past deadline: %v, want a timeout", err)
	}
	s.SetReadDeadline(time.Time{})
	if err := c.(interface{ CloseWrite() error }).CloseWrite(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("read after CloseWrite: %v, want io.EOF", err)
	}
	c.Close()
	s.Close()
	if _, err := c.Write([]byte("x")); !errors.Is(err, net.ErrClosed) {
		t.Errorf("write after Close: %v, want net.ErrClosed", err)
	}

	// A canceled context fails the dial.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if c, err := dial(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("dial with canceled context: %v, %v", c, err)
	}

	accepted := make(chan error, 1)
	go func() { _, err := l.Accept(); accepted <- err }()
	time.Sleep(20 * time.Millisecond)
	l.Close()
	if err := <-accepted; !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Accept after Close: %v, want net.ErrClosed", err)
	}
}

func TestFDSocketsDialTimeout(t *testing.T) {
	// 192.0.2.1 (TEST-NET-1) does not answer: the connect stays pending until
	// the context ends, unless the network refuses it at once.
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	c, err := dialFD(ctx, unix.AF_INET, &unix.SockaddrInet4{Addr: [4]byte{192, 0, 2, 1}, Port: 9}, Addr{Scheme: "tcp", Host: "192.0.2.1", Port: 9})
	if err == nil {
		c.Close()
		t.Skip("192.0.2.1:9 answered")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("dial took %v", d)
	}
	t.Logf("%v", err)
}

func TestFDSocketsUnix(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fd.sock")
	a := Addr{Scheme: "unix", Path: path}
	l, err := listenFD(unix.AF_UNIX, &unix.SockaddrUnix{Name: path}, a)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	exchangeWith(t, l, func(ctx context.Context) (net.Conn, error) {
		return dialFD(ctx, unix.AF_UNIX, &unix.SockaddrUnix{Name: path}, a)
	})
}
