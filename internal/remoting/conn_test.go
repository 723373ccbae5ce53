package remoting

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"reflect"
	"syscall"
	"testing"
)

func socketPair(t *testing.T) (net.Conn, net.Conn) {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	conn := func(fd int) net.Conn {
		f := os.NewFile(uintptr(fd), "socketpair")
		defer f.Close()
		c, err := net.FileConn(f)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	return conn(fds[0]), conn(fds[1])
}

func randBytes(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestWriteFrameBigTail(t *testing.T) {
	for name, pair := range map[string]func(*testing.T) (net.Conn, net.Conn){
		"pipe":       func(*testing.T) (net.Conn, net.Conn) { return net.Pipe() },
		"socketpair": socketPair,
	} {
		t.Run(name, func(t *testing.T) {
			a, b := pair(t)
			defer a.Close()
			defer b.Close()
			testBigTail(t, a, b)
		})
	}
}

func testBigTail(t *testing.T, a, b net.Conn) {
	small := Call{Fn: 1, Scalars: []uint64{7}}
	big := Call{Fn: 2, Scalars: []uint64{1, 2}, Bufs: [][]byte{[]byte("dst")}}
	tail := randBytes(3<<20+12345, 1) // grows the reader's buffer several times
	smallTail := []byte("little tail")
	bigPayload := AppendCall(nil, &Call{Fn: 4, Bufs: [][]byte{randBytes(100000, 2)}})
	p1 := AppendCall(nil, &small)
	p2 := AppendCallPrefix(nil, &big, len(tail))
	p3 := AppendCallPrefix(nil, &small, len(smallTail))

	errc := make(chan error, 1)
	buffered := make(chan []int, 1)
	go func() {
		w := NewConn(a)
		var seen []int
		write := func(h Header, p []byte, tail ...[]byte) error {
			err := w.WriteFrame(h, p, tail...)
			seen = append(seen, w.Buffered())
			return err
		}
		err := errors.Join(
			write(Header{Length: uint32(len(p1)), Type: FrameCall, Flags: FlagAsync, ReqID: 1}, p1),
			// the queued frame 1 and this one go out in one writev, tail uncopied
			write(Header{Length: uint32(len(p2) + len(tail)), Type: FrameCall, ReqID: 2}, p2, tail),
			write(Header{Length: uint32(len(p3) + len(smallTail)), Type: FrameCall, ReqID: 3}, p3, smallTail),
			write(Header{Length: uint32(len(bigPayload)), Type: FrameCall, ReqID: 4}, bigPayload),
			write(Header{Length: 0, Type: FrameCall, ReqID: 5}, nil),
			w.Flush(),
		)
		seen = append(seen, w.Buffered())
		buffered <- seen
		errc <- err
	}()

	r := NewConn(b)
	for i, want := range []struct {
		call  Call
		bytes []byte
	}{
		{call: small},
		{call: Call{Fn: 2, Scalars: []uint64{1, 2}, Bufs: [][]byte{[]byte("dst"), tail}}},
		{call: Call{Fn: 1, Scalars: []uint64{7}, Bufs: [][]byte{smallTail}}},
		{bytes: bigPayload},
		{bytes: []byte{}},
	} {
		h, p, err := r.ReadFrame()
		if err != nil {
			t.Fatalf("frame %d: %v", i+1, err)
		}
		if h.ReqID != uint64(i+1) || h.Type != FrameCall || int(h.Length) != len(p) {
			t.Fatalf("frame %d: header %+v, payload %d bytes", i+1, h, len(p))
		}
		if want.bytes != nil {
			if !bytes.Equal(p, want.bytes) {
				t.Fatalf("frame %d: payload differs", i+1)
			}
			continue
		}
		c, err := DecodeCall(p)
		if err != nil || !reflect.DeepEqual(c, want.call) {
			t.Fatalf("frame %d: %v, decoded fn %d scalars %v", i+1, err, c.Fn, c.Scalars)
		}
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	// Buffered after each step: frame 1 queued; 2 sent (big tail); 3 queued;
	// 4 sent (big payload); 5 queued; flushed.
	want := []int{HeaderSize + len(p1), 0, HeaderSize + len(p3) + len(smallTail), 0, HeaderSize, 0}
	if got := <-buffered; !reflect.DeepEqual(got, want) {
		t.Errorf("Buffered() after each write = %v, want %v", got, want)
	}
}

type rw struct {
	io.Reader
	io.Writer
}

func TestReadFrameErrors(t *testing.T) {
	frame := func(h Header, p []byte) []byte { return append(AppendHeader(nil, h), p...) }
	good := frame(Header{Length: 3, Type: FrameReply, ReqID: 1}, []byte("abc"))
	for _, tc := range []struct {
		name  string
		input []byte
		want  error
	}{
		{"empty", nil, io.EOF},
		{"short header", good[:5], io.ErrUnexpectedEOF},
		{"no payload", good[:HeaderSize], io.ErrUnexpectedEOF},
		{"short payload", good[:len(good)-1], io.ErrUnexpectedEOF},
		{"short big payload", frame(Header{Length: 5 << 20, Type: FrameCall}, make([]byte, 3<<20)), io.ErrUnexpectedEOF},
	} {
		c := NewConn(rw{bytes.NewReader(tc.input), io.Discard})
		if _, _, err := c.ReadFrame(); err != tc.want {
			t.Errorf("%s: ReadFrame error %v, want %v", tc.name, err, tc.want)
		}
	}

	bad := bytes.Clone(good)
	bad[4] = 42
	c := NewConn(rw{bytes.NewReader(bad), io.Discard})
	var pe *ProtoError
	if _, _, err := c.ReadFrame(); !errors.As(err, &pe) {
		t.Errorf("bad type: ReadFrame error %v, want *ProtoError", err)
	}

	c = NewConn(rw{bytes.NewReader(append(bytes.Clone(good), good...)), io.Discard})
	for i := range 2 {
		if h, p, err := c.ReadFrame(); err != nil || h.ReqID != 1 || string(p) != "abc" {
			t.Errorf("frame %d: %+v %q %v", i, h, p, err)
		}
	}
	if _, _, err := c.ReadFrame(); err != io.EOF {
		t.Errorf("after the last frame: %v, want io.EOF", err)
	}
}

type failWriter struct{ n int }

func (w *failWriter) Write(p []byte) (int, error) { w.n++; return 0, errors.New("boom") }

func TestWriteFrameErrors(t *testing.T) {
	fw := &failWriter{}
	c := NewConn(rw{bytes.NewReader(nil), fw})
	if err := c.WriteFrame(Header{Length: 4, Type: FrameCall}, []byte("abc")); err == nil {
		t.Error("length mismatch accepted")
	}
	if err := c.WriteFrame(Header{Length: MaxPayload + 1, Type: FrameCall}, make([]byte, MaxPayload), []byte{1}); err == nil {
		t.Error("oversized frame accepted")
	}
	if err := c.WriteFrame(Header{Type: 9}, nil); err == nil {
		t.Error("unknown frame type accepted")
	}
	if err := c.WriteFrame(Header{Type: FrameCall, Flags: 2}, nil); err == nil {
		t.Error("unknown flag accepted")
	}
	if c.Buffered() != 0 {
		t.Errorf("rejected frames left %d bytes queued", c.Buffered())
	}
	if err := c.WriteFrame(Header{Length: 3, Type: FrameCall}, []byte("abc")); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err == nil {
		t.Fatal("Flush succeeded on a failing writer")
	}
	if err := c.WriteFrame(Header{Length: 3, Type: FrameCall}, []byte("abc")); err == nil || c.Flush() == nil || fw.n != 1 {
		t.Errorf("write error is not sticky (err %v, %d writes)", err, fw.n)
	}
}
