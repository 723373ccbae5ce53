package main

import (
	"bytes"
	"io"
	"math/rand/v2"
	"net"
	"testing"
	"time"
)

// startRelay runs a relay with one-way delay in this process in front of target.
func startRelay(t *testing.T, target string, delay time.Duration) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &relay{target: target, delay: delay, spin: 60 * time.Microsecond, limit: 1 << 20}
	go r.serve(ln)
	return ln.Addr().String()
}

// echoServer answers each connection by writing back what it reads, until the client's end.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				io.Copy(c, c)
				c.(*net.TCPConn).CloseWrite()
			}()
		}
	}()
	return ln.Addr().String()
}

// Bytes written in pieces of random sizes (1 byte to 1 MiB, 24 MiB in all, more than the
// relay's 1 MiB queue) come back through the relay and an echo server in order and complete,
// while they are still being written; the end of the stream passes too.
func TestRelayKeepsBytes(t *testing.T) {
	addr := startRelay(t, echoServer(t), 500*time.Microsecond)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	src := make([]byte, 24<<20)
	for i := range src {
		src[i] = byte(rng.Uint32())
	}
	go func() {
		for off := 0; off < len(src); {
			n := min(1+rng.IntN(1<<20), len(src)-off)
			if rng.IntN(4) == 0 {
				n = min(1+rng.IntN(100), len(src)-off)
			}
			if _, err := c.Write(src[off : off+n]); err != nil {
				return
			}
			off += n
		}
		c.(*net.TCPConn).CloseWrite()
	}()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading through the relay: %v (after %d bytes)", err, len(got))
	}
	if !bytes.Equal(got, src) {
		i := 0
		for i < len(got) && got[i] == src[i] {
			i++
		}
		t.Fatalf("%d bytes came back of %d written, first difference at %d", len(got), len(src), i)
	}
}

// A small message's round trip through the relay takes at least twice the one-way delay.
func TestRelayDelays(t *testing.T) {
	const delay = 2 * time.Millisecond
	addr := startRelay(t, echoServer(t), delay)
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 8)
	var least time.Duration
	for i := range 20 {
		t0 := time.Now()
		if _, err := c.Write([]byte("pingpong")); err != nil {
			t.Fatal(err)
		}
		if _, err := io.ReadFull(c, buf); err != nil {
			t.Fatal(err)
		}
		d := time.Since(t0)
		if i == 0 || d < least {
			least = d
		}
	}
	if least < 2*delay {
		t.Fatalf("the quickest round trip took %v, less than twice the delay (%v)", least, 2*delay)
	}
	t.Logf("quickest of 20 round trips: %v (delay %v each way)", least, delay)
}

// sinkServer reads and drops everything each connection sends, then closes it.
func sinkServer(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(io.Discard, c); c.Close() }()
		}
	}()
	return ln.Addr().String()
}

// BenchmarkRelayThroughput: 64 MiB written in 16 MiB pieces to a sink, directly and through the
// relay at 0 and 1 ms round trip (go test -bench RelayThroughput ./cmd/vgpu-netem).
func BenchmarkRelayThroughput(b *testing.B) {
	for _, c := range []struct {
		name  string
		delay time.Duration
		relay bool
	}{{"direct", 0, false}, {"relay-0", 0, true}, {"relay-1ms", 500 * time.Microsecond, true}} {
		b.Run(c.name, func(b *testing.B) {
			addr := sinkServer(b)
			if c.relay {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					b.Fatal(err)
				}
				defer ln.Close()
				r := &relay{target: addr, delay: c.delay, spin: 60 * time.Microsecond, limit: 64 << 20}
				go r.serve(ln)
				addr = ln.Addr().String()
			}
			buf := make([]byte, 16<<20)
			b.SetBytes(64 << 20)
			for i := 0; i < b.N; i++ {
				conn, err := net.Dial("tcp", addr)
				if err != nil {
					b.Fatal(err)
				}
				for range 4 {
					if _, err := conn.Write(buf); err != nil {
						b.Fatal(err)
					}
				}
				conn.(*net.TCPConn).CloseWrite()
				io.Copy(io.Discard, conn) // until the far end closes: every byte arrived
				conn.Close()
			}
		})
	}
}

// With a rate, 8 MiB through the relay at 1 Gbit/s each way (and back through the echo server,
// which the two directions overlap) take at least the 67 ms the link needs to carry them, and
// arrive whole; without one, far less on loopback.
func TestRelayRate(t *testing.T) {
	target := echoServer(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	r := &relay{target: target, rate: 1e9 / 8, spin: 60 * time.Microsecond, limit: 64 << 20}
	go r.serve(ln)
	src := bytes.Repeat([]byte("vgpu-netem"), 8<<20/10)
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	t0 := time.Now()
	go func() {
		c.Write(src)
		c.(*net.TCPConn).CloseWrite()
	}()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	got, err := io.ReadAll(c)
	took := time.Since(t0)
	if err != nil || !bytes.Equal(got, src) {
		t.Fatalf("%d of %d bytes back, %v", len(got), len(src), err)
	}
	least := time.Duration(float64(len(src)) / r.rate * float64(time.Second))
	t.Logf("%d bytes at 1 Gbit/s each way, echoed: %v (the link's time %v)", len(src), took, least)
	if took < least {
		t.Fatalf("%d bytes at 1 Gbit/s in %v, less than the link's %v", len(src), took, least)
	}
}
