package remoting

import (
	"bytes"
	"io"
	"strings"
	"testing"
)

// TestRecordBulk: transfers that seal and open many records at once (sealBulk, openRecords on
// several goroutines) arrive intact both ways, in sizes around the record and batch edges, and
// with a 256-bit suite; close_notify sent right behind bulk data ends the stream after it.
func TestRecordBulk(t *testing.T) {
	for _, suite := range []uint16{suiteAES128GCM, suiteAES256GCM} {
		a, b := recordPair(t, suite)
		for _, n := range []int{1, maxPlaintext - 1, maxPlaintext, 3*maxPlaintext + 1, 4 * maxPlaintext,
			bulkRecords*maxPlaintext + 5, 2600 << 10} {
			msg := make([]byte, n)
			for i := range msg {
				msg[i] = byte(i*7 + n)
			}
			for _, dir := range [][2]*RecordConn{{a, b}, {b, a}} {
				errc := make(chan error, 1)
				go func() { _, err := dir[0].Write(msg); errc <- err }()
				got := make([]byte, n)
				if _, err := io.ReadFull(dir[1], got); err != nil {
					t.Fatalf("suite %#x, %d bytes: %v", suite, n, err)
				}
				if err := <-errc; err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("suite %#x, %d bytes: other bytes arrived", suite, n)
				}
			}
		}
		tail := bytes.Repeat([]byte{9}, 5*maxPlaintext)
		closed := make(chan struct{})
		go func() { a.Write(tail); a.Close(); close(closed) }()
		got, err := io.ReadAll(b)
		<-closed
		if err != nil || !bytes.Equal(got, tail) {
			t.Fatalf("data then close_notify: %d bytes, %v", len(got), err)
		}
	}
}

// TestRecordBulkTampered: in a burst of records opened together, those before a record that
// fails authentication are read; then the session ends with the error, nothing after it.
func TestRecordBulkTampered(t *testing.T) {
	a, b := recordPair(t, suiteAES128GCM)
	a.wbuf = a.wbuf[:0]
	a.sealBulk(make([]byte, 8*maxPlaintext))
	full := recordHeaderLen + maxPlaintext + 1 + a.wr.aead.Overhead()
	a.wbuf[3*full+recordHeaderLen+10] ^= 1 // the fourth record's ciphertext
	if _, err := a.c.Write(a.wbuf); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(b)
	if len(got) != 3*maxPlaintext || err == nil || !strings.Contains(err.Error(), "failed authentication") {
		t.Fatalf("read %d bytes, %v; want %d, then an authentication error", len(got), err, 3*maxPlaintext)
	}
	if _, err := b.Read(make([]byte, 1)); err == nil {
		t.Fatal("a read after the error succeeded")
	}
}
