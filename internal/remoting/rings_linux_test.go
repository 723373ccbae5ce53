package remoting

import (
	"bytes"
	"errors"
	"io"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// ringPair is a connected pair of FDConns whose frames travel through rings of n bytes in one
// memfd, passed from the client's side (a) to the worker's (b) over the socket as the client
// does, each side mapping it on its own.
func ringPair(t *testing.T, n uint64) (*FDConn, *FDConn) {
	t.Helper()
	a, b := fdPair(t)
	fd, mem, err := NewSealedMemfd("test-rings", int(RingsSize(n)))
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	if err := a.SendFD(fd); err != nil {
		t.Fatal(err)
	}
	got, err := b.RecvFD()
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(got)
	wmem, err := MapSealedMemfd(got, RingsSize(n))
	if err != nil {
		t.Fatal(err)
	}
	if err := a.UseRings(mem, n, true); err != nil {
		t.Fatal(err)
	}
	if err := b.UseRings(wmem, n, false); err != nil {
		t.Fatal(err)
	}
	return a, b
}

// socketBytes is how many bytes the socket holds for c to read.
func socketBytes(t *testing.T, c *FDConn) int {
	n, err := unix.IoctlGetInt(c.fd, unix.SIOCINQ)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestRingsCarryFrames: frames of every size, from a header alone to many times the ring,
// cross both ways through the rings while the other side reads, with the reader polling and
// with it sleeping on the socket (woken by a byte each time), byte for byte; the socket carries
// only those wake-ups.
func TestRingsCarryFrames(t *testing.T) {
	for _, spin := range []time.Duration{0, time.Millisecond} {
		a, b := ringPair(t, MinRing)
		a.SetSpin(spin)
		b.SetSpin(spin)
		ca, cb := NewConn(a), NewConn(b)
		sizes := []int{0, 1, 100, 4096, MinRing - HeaderSize, MinRing, 3*MinRing + 7, 1 << 20}
		done := make(chan error, 1)
		go func() { // the worker: echoes every frame
			for range sizes {
				h, p, err := cb.ReadFrame()
				if err == nil {
					err = cb.WriteFrame(h, p)
				}
				if err == nil {
					err = cb.Flush()
				}
				if err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for i, n := range sizes {
			p := randBytes(n, uint64(i))
			h := Header{Length: uint32(n), Type: FrameCall, ReqID: uint64(i)}
			if err := ca.WriteFrame(h, p); err != nil {
				t.Fatal(err)
			}
			if err := ca.Flush(); err != nil {
				t.Fatal(err)
			}
			gh, gp, err := ca.ReadFrame()
			if err != nil || gh != h || !bytes.Equal(gp, p) {
				t.Fatalf("spin %v, frame of %d bytes: came back %+v, %d bytes, %v", spin, n, gh, len(gp), err)
			}
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
		if k := socketBytes(t, a) + socketBytes(t, b); k > 2*len(sizes) {
			t.Errorf("spin %v: %d bytes left on the socket, more than the wake-ups", spin, k)
		}
		if spin == 0 && a.Blocked == 0 {
			t.Errorf("without polling no read slept on the socket")
		}
		if spin == 0 && b.Wakes == 0 {
			t.Errorf("without polling the worker's replies woke nobody")
		}
		t.Logf("spin %v: client %d reads slept, %d wake-ups sent; worker %d and %d", spin, a.Blocked, a.Wakes, b.Blocked, b.Wakes)
	}
}

// TestRingsPeerGone: a peer that writes and then closes has its bytes read before the end of
// file; a reader sleeping on the socket wakes at the close; a writer waiting for room in a
// full ring fails once the peer has closed.
func TestRingsPeerGone(t *testing.T) {
	a, b := ringPair(t, MinRing)
	a.SetSpin(0)
	b.SetSpin(0)
	if _, err := b.Write([]byte("last words")); err != nil {
		t.Fatal(err)
	}
	b.Shutdown()
	got, err := io.ReadAll(a)
	if err != nil || string(got) != "last words" {
		t.Fatalf("read %q, %v; want the last words, then end of file", got, err)
	}

	a2, b2 := ringPair(t, MinRing)
	a2.SetSpin(0)
	b2.SetSpin(0)
	go func() { time.Sleep(50 * time.Millisecond); b2.Shutdown() }()
	var one [1]byte
	if n, err := a2.Read(one[:]); n != 0 || err != io.EOF {
		t.Fatalf("sleeping read at the peer's close: %d, %v; want end of file", n, err)
	}

	a3, b3 := ringPair(t, MinRing)
	a3.SetSpin(0)
	b3.SetSpin(0)
	go func() { time.Sleep(50 * time.Millisecond); b3.Shutdown() }()
	start := time.Now()
	if _, err := a3.Write(make([]byte, 2*MinRing)); !errors.Is(err, unix.EPIPE) {
		t.Fatalf("writing into a full ring of a closed peer: %v, want EPIPE", err)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("the writer took %v to notice", d)
	}
}

// TestRingsLimits: a reader's ReadIdle and deadline and a writer's idle limit hold through the
// rings as on the socket (the worker's idle and frame timeouts, a client whose server stalls).
func TestRingsLimits(t *testing.T) {
	a, b := ringPair(t, MinRing)
	a.SetSpin(100 * time.Microsecond)
	b.SetSpin(0)
	a.ReadIdle = 200 * time.Millisecond
	var buf [8]byte
	start := time.Now()
	if _, err := a.Read(buf[:]); !isTimeout(err) {
		t.Fatalf("read from a silent peer: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 200*time.Millisecond {
		t.Fatalf("timed out after %v, before ReadIdle", d)
	}
	a.ReadIdle = 0
	a.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	if _, err := a.Read(buf[:]); !isTimeout(err) {
		t.Fatalf("read past its deadline: %v, want a timeout", err)
	}
	a.SetReadDeadline(time.Time{})

	// a worker whose client reads nothing: its reply waits for room, then times out
	b.SetWriteIdle(150 * time.Millisecond)
	start = time.Now()
	n, err := b.Write(make([]byte, MinRing+1))
	if !isTimeout(err) || n != MinRing {
		t.Fatalf("writing past a full ring nobody reads: %d bytes, %v; want %d and a timeout", n, err, MinRing)
	}
	if d := time.Since(start); d < 150*time.Millisecond || d > 2*time.Second {
		t.Errorf("timed out after %v, want 150 ms", d)
	}
	// and a reader that frees room lets a waiting writer go on (woken through the futex)
	go func() { time.Sleep(30 * time.Millisecond); io.ReadFull(a, make([]byte, MinRing)) }()
	b.SetWriteIdle(0)
	if _, err := b.Write(make([]byte, 100)); err != nil {
		t.Fatalf("writing once the reader made room: %v", err)
	}
}

// TestRingsHostilePositions: a peer that writes nonsense into the control words (a producer
// ahead of the consumer by more than the ring, a consumer ahead of the producer) fails the
// other side's read or write with an error, never a copy out of range.
func TestRingsHostilePositions(t *testing.T) {
	a, b := ringPair(t, MinRing)
	a.SetSpin(0)
	b.SetSpin(0)
	// the client claims more bytes written than the ring holds
	atomic.StoreUint64(&a.rings.tx.ctl.tail, MinRing+1)
	var buf [16]byte
	if _, err := b.Read(buf[:]); !errors.Is(err, errRingPosition) {
		t.Fatalf("read with the producer too far ahead: %v", err)
	}
	// the client claims to have read bytes never written
	atomic.StoreUint64(&b.rings.tx.ctl.head, 1<<40)
	if _, err := b.Write(buf[:]); !errors.Is(err, errRingPosition) {
		t.Fatalf("write with the consumer ahead of the producer: %v", err)
	}
}

// TestUseRingsChecks: rings of a size that is no power of two, out of range, or larger than
// the memory are refused.
func TestUseRingsChecks(t *testing.T) {
	a, _ := fdPair(t)
	mem := make([]byte, RingsSize(MinRing))
	for _, n := range []uint64{0, MinRing / 2, MinRing + 4096, 2 * MinRing, MaxRing * 2} {
		if err := a.UseRings(mem, n, true); err == nil {
			t.Errorf("rings of %d bytes in %d bytes accepted", n, len(mem))
		}
	}
	if a.Rings() {
		t.Fatal("a refused UseRings left the rings on")
	}
}

// BenchmarkRoundTrip: a 64-byte frame and its 32-byte answer, over the socket and through the
// rings, each side polling (DefaultSpin) as the client and the worker do.
func BenchmarkRoundTrip(b *testing.B) {
	for _, mode := range []string{"socket", "rings"} {
		b.Run(mode, func(b *testing.B) {
			t := &testing.T{}
			var x, y *FDConn
			if mode == "rings" {
				x, y = ringPair(t, 1<<20)
			} else {
				x, y = fdPair(t)
			}
			defer x.Close()
			defer y.Close()
			cx, cy := NewConn(x), NewConn(y)
			call, reply := make([]byte, 64), make([]byte, 32)
			go func() {
				for {
					h, _, err := cy.ReadFrame()
					if err != nil || h.Type != FrameCall {
						return
					}
					cy.WriteFrame(Header{Length: uint32(len(reply)), Type: FrameReply, ReqID: h.ReqID}, reply)
					cy.Flush()
				}
			}()
			b.ResetTimer()
			for i := range b.N {
				cx.WriteFrame(Header{Length: uint32(len(call)), Type: FrameCall, ReqID: uint64(i)}, call)
				cx.Flush()
				if _, _, err := cx.ReadFrame(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			cx.WriteFrame(Header{Type: FrameError}, nil)
			cx.Flush()
		})
	}
}
