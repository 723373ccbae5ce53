package remoting

import (
	"crypto/rand"
	"io"
	"net"
	"testing"
	"time"
)

// recordPair is two RecordConns over a TCP loopback connection, each reading what the other
// writes (random secrets; sequence numbers from 0).
func recordPair(tb testing.TB, suite uint16) (a, b *RecordConn) {
	fa, fb := tcpPair(tb)
	s1, s2 := make([]byte, 32), make([]byte, 32)
	rand.Read(s1)
	rand.Read(s2)
	if suite == suiteAES256GCM {
		s1, s2 = append(s1, s1[:16]...), append(s2, s2[:16]...)
	}
	var err error
	if a, err = NewRecordConn(fa, &TLSState{Suite: suite, ReadSecret: s1, WriteSecret: s2}); err != nil {
		tb.Fatal(err)
	}
	if b, err = NewRecordConn(fb, &TLSState{Suite: suite, ReadSecret: s2, WriteSecret: s1}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// tcpPair is two FDConns over a TCP loopback connection.
func tcpPair(tb testing.TB) (*FDConn, *FDConn) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	acc := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		acc <- c
	}()
	c1, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		tb.Fatal(err)
	}
	c2 := <-acc
	f1, err := NewFDConn(c1)
	if err != nil {
		tb.Fatal(err)
	}
	f2, err := NewFDConn(c2)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { f1.Close(); f2.Close() })
	return f1, f2
}

// answer reads n msg-sized messages from r, answering each with 16 bytes (a host-to-device
// copy's request and reply), in a goroutine; the channel says how it ended.
func answer(r io.ReadWriter, msg, n int) chan error {
	done := make(chan error, 1)
	go func() {
		dst, ack := make([]byte, msg), make([]byte, 16)
		for range n {
			if _, err := io.ReadFull(r, dst); err != nil {
				done <- err
				return
			}
			if _, err := r.Write(ack); err != nil {
				done <- err
				return
			}
		}
		done <- nil
	}()
	return done
}

// bulk sends msg-sized messages from w to r, each answered by 16 bytes.
func bulk(b *testing.B, w, r io.ReadWriter, msg int) {
	src, ack := make([]byte, msg), make([]byte, 16)
	done := answer(r, msg, b.N)
	b.SetBytes(int64(msg))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := w.Write(src); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(w, ack); err != nil {
			b.Fatal(err)
		}
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// The prompt of llama-bench's pp512 sends about 2.6 MB of inputs per prompt; generation, a few
// KiB per token.
func BenchmarkBulkPlain2600K(b *testing.B) { x, y := tcpPair(b); bulk(b, x, y, 2600<<10) }
func BenchmarkBulkTLS2600K(b *testing.B) {
	x, y := recordPair(b, suiteAES128GCM)
	bulk(b, x, y, 2600<<10)
}
func BenchmarkBulkPlain4K(b *testing.B) { x, y := tcpPair(b); bulk(b, x, y, 4<<10) }
func BenchmarkBulkTLS4K(b *testing.B) {
	x, y := recordPair(b, suiteAES128GCM)
	bulk(b, x, y, 4<<10)
}

// BenchmarkBulkRatio2600K times a 2.6 MB message and its answer over TLS records and over plain
// TCP loopback in turn, each iteration one of each, so that a busy spell slows both alike; it
// reports each one's mean and TLS's time over plain TCP's (ratio).
func BenchmarkBulkRatio2600K(b *testing.B) {
	const msg = 2600 << 10
	px, py := tcpPair(b)
	tx, ty := recordPair(b, suiteAES128GCM)
	pd, td := answer(py, msg, b.N), answer(ty, msg, b.N)
	src, ack := make([]byte, msg), make([]byte, 16)
	var plain, tls time.Duration
	one := func(w io.ReadWriter) time.Duration {
		t0 := time.Now()
		if _, err := w.Write(src); err != nil {
			b.Fatal(err)
		}
		if _, err := io.ReadFull(w, ack); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0)
	}
	b.SetBytes(2 * msg)
	b.ResetTimer()
	for i := range b.N {
		if i%2 == 0 {
			plain += one(px)
			tls += one(tx)
		} else {
			tls += one(tx)
			plain += one(px)
		}
	}
	b.StopTimer()
	for _, d := range []chan error{pd, td} {
		if err := <-d; err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(plain.Microseconds())/1e3/float64(b.N), "tcp-ms")
	b.ReportMetric(float64(tls.Microseconds())/1e3/float64(b.N), "tls-ms")
	b.ReportMetric(float64(tls)/float64(plain), "ratio")
}
