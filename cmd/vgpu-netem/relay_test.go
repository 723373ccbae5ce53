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
