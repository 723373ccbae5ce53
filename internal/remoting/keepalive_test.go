package remoting

import (
	"bytes"
	"errors"
	"io"
	"net"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestKeepaliveHeader: a Keepalive is a bare 16-byte header that parses back, and Conn writes it.
func TestKeepaliveHeader(t *testing.T) {
	b := AppendHeader(nil, KeepaliveHeader)
	want := []byte{0, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	if !bytes.Equal(b, want) {
		t.Fatalf("keepalive = % x, want % x", b, want)
	}
	h, err := ParseHeader(b)
	if err != nil || h != KeepaliveHeader || h.Type.String() != "Keepalive" {
		t.Fatalf("ParseHeader = %+v %v", h, err)
	}
	var out bytes.Buffer
	c := NewConn(rw{bytes.NewReader(append(bytes.Clone(b), b...)), &out})
	if err := c.WriteFrame(KeepaliveHeader, nil); err != nil || c.Flush() != nil || !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("WriteFrame(keepalive) = %v, wrote % x", err, out.Bytes())
	}
	for range 2 {
		if h, p, err := c.ReadFrame(); err != nil || h.Type != FrameKeepalive || len(p) != 0 {
			t.Fatalf("ReadFrame = %+v %q %v", h, p, err)
		}
	}
}

// fdPair is a connected pair of FDConns over a unix socketpair.
func fdPair(t *testing.T) (*FDConn, *FDConn) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, err := FDConnOf(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	b, err := FDConnOf(fds[1])
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// TestFDConnReadIdle: with ReadIdle set, a read that gets no byte for that long fails with a
// timeout error; bytes that come in time are read, and each read gets the whole allowance.
func TestFDConnReadIdle(t *testing.T) {
	a, b := fdPair(t)
	a.SetSpin(0)
	a.ReadIdle = 300 * time.Millisecond
	buf := make([]byte, 8)
	start := time.Now()
	if _, err := a.Read(buf); !isTimeout(err) {
		t.Fatalf("read from a silent peer: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 300*time.Millisecond {
		t.Fatalf("timed out after %v, before ReadIdle", d)
	}
	// A peer that writes every 100 ms keeps a reader with a 300 ms allowance going.
	go func() {
		for i := range 6 {
			time.Sleep(100 * time.Millisecond)
			b.Write([]byte{byte(i)})
		}
	}()
	for i := range 6 {
		n, err := a.Read(buf)
		if err != nil || n != 1 || buf[0] != byte(i) {
			t.Fatalf("read %d: %d bytes %v", i, n, err)
		}
	}
	// end of file still reads as end of file
	b.Shutdown()
	if _, err := a.Read(buf); err != io.EOF {
		t.Fatalf("after the peer's shutdown: %v, want EOF", err)
	}
}

// TestFDConnReadDeadline: a read deadline fails reads once it has passed (through Conn, as the
// worker uses it: a frame whose payload stops arriving), and clearing it lets reads block again.
func TestFDConnReadDeadline(t *testing.T) {
	a, b := fdPair(t)
	c := NewConn(a)
	// a header announcing 1000 bytes, then 10 of them
	b.Write(append(AppendHeader(nil, Header{Length: 1000, Type: FrameCall}), make([]byte, 10)...))
	h, err := c.ReadHeader()
	if err != nil || h.Length != 1000 {
		t.Fatalf("ReadHeader = %+v %v", h, err)
	}
	a.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	start := time.Now()
	if _, err := c.ReadPayload(h); !isTimeout(err) {
		t.Fatalf("ReadPayload of a stalled frame: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 150*time.Millisecond {
		t.Fatalf("timed out after %v", d)
	}
	a.SetReadDeadline(time.Time{})
	go func() { time.Sleep(100 * time.Millisecond); b.Write([]byte("x")) }()
	var one [1]byte
	if n, err := a.Read(one[:]); n != 1 || err != nil {
		t.Fatalf("read without a deadline: %d %v", n, err)
	}
}

// TestReadPayloadGrowsWithBytes: a header that announces MaxPayload does not make the reader
// allocate MaxPayload: its buffer grows with the bytes that came (at most about twice them).
func TestReadPayloadGrowsWithBytes(t *testing.T) {
	in := append(AppendHeader(nil, Header{Length: MaxPayload, Type: FrameCall}), make([]byte, 3<<20)...)
	c := NewConn(rw{bytes.NewReader(in), io.Discard})
	if _, _, err := c.ReadFrame(); err != io.ErrUnexpectedEOF {
		t.Fatalf("ReadFrame = %v, want ErrUnexpectedEOF", err)
	}
	if cap(c.buf) > 2*(3<<20)+(1<<20) {
		t.Fatalf("3 MiB of an announced %d MiB grew the buffer to %d bytes", MaxPayload>>20, cap(c.buf))
	}
}
