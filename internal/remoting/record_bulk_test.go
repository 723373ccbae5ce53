package remoting

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"
)

// withCrew runs the rest of the test with crewSize n (the bulk path's helpers; 0: the transfer's
// goroutine alone).
func withCrew(t *testing.T, n int) {
	old := crewSize
	crewSize = n
	t.Cleanup(func() { crewSize = old })
}

func pattern(n, salt int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*7 + i>>13 + salt)
	}
	return b
}

// TestRecordBulkCrews: bulk transfers both ways arrive intact with no crew and with crews of
// several sizes, for sizes around the record, group, run and ring edges, read into buffers of
// every kind: one large read (records opened straight into it), odd-sized pieces (records that
// do not fit go the queued way), and a mix.
func TestRecordBulkCrews(t *testing.T) {
	sizes := []int{1, maxPlaintext - 1, maxPlaintext, maxPlaintext + 1, 4 * maxPlaintext, 4*maxPlaintext + 1,
		openGroup*maxPlaintext - 3, runRecords*maxPlaintext + 5, ringSlots * maxPlaintext, ringSlots*maxPlaintext + 1,
		(2*ringSlots+3)*maxPlaintext + 77, 2600 << 10}
	pieces := []int{0, 1000, maxPlaintext + 3, 3*maxPlaintext - 1, 100 << 10}
	for _, crew := range []int{0, 1, 3, crewMax} {
		t.Run(fmt.Sprint("crew", crew), func(t *testing.T) {
			withCrew(t, crew)
			for _, suite := range []uint16{suiteAES128GCM, suiteAES256GCM} {
				a, b := recordPair(t, suite)
				for k, n := range sizes {
					msg := pattern(n, k)
					piece := pieces[k%len(pieces)]
					for _, dir := range [][2]*RecordConn{{a, b}, {b, a}} {
						errc := make(chan error, 1)
						go func() { _, err := dir[0].Write(msg); errc <- err }()
						got := make([]byte, n)
						var err error
						if piece == 0 {
							_, err = io.ReadFull(dir[1], got)
						} else {
							for at := 0; at < n && err == nil; {
								var k int
								k, err = io.ReadFull(dir[1], got[at:min(n, at+piece)])
								at += k
							}
						}
						if err != nil {
							t.Fatalf("suite %#x, %d bytes in pieces of %d: %v", suite, n, piece, err)
						}
						if err := <-errc; err != nil {
							t.Fatal(err)
						}
						if !bytes.Equal(got, msg) {
							t.Fatalf("suite %#x, %d bytes in pieces of %d: other bytes arrived", suite, n, piece)
						}
					}
				}
			}
		})
	}
}

// TestRecordOpenIntoOddRecords: records that are not full (short, empty, padded with zeros after
// their content type, as RFC 8446 allows a peer) read straight into one buffer give the data in
// order with no gaps, and an alert among them ends the data there.
func TestRecordOpenIntoOddRecords(t *testing.T) {
	withCrew(t, 3)
	a, b := recordPair(t, suiteAES128GCM)
	var want []byte
	a.wbuf = a.wbuf[:0]
	add := func(data []byte, pad int) {
		if pad == 0 {
			a.seal(recordTypeApp, data)
		} else {
			// seal appends the type it is given: 0, the last byte of the padding
			p := append(append([]byte(nil), data...), recordTypeApp)
			a.seal(0, append(p, make([]byte, pad-1)...))
		}
		want = append(want, data...)
	}
	for i := range 3 * openGroup {
		switch i % 5 {
		case 0:
			add(pattern(maxPlaintext, i), 0)
		case 1:
			add(pattern(100+i, i), 300)
		case 2:
			add(nil, 0)
		case 3:
			add(pattern(maxPlaintext-40, i), 40)
		default:
			add(pattern(5000, i), 0)
		}
	}
	a.seal(recordTypeAlert, []byte{1, alertCloseNotify})
	if _, err := a.c.Write(a.wbuf); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(want)+3*maxPlaintext)
	n, err := io.ReadFull(b, got)
	if n != len(want) || err != io.ErrUnexpectedEOF || !bytes.Equal(got[:n], want) {
		t.Fatalf("read %d bytes (%v), want %d then the end; same bytes: %v", n, err, len(want), bytes.Equal(got[:min(n, len(want))], want[:min(n, len(want))]))
	}
}

// TestRecordBulkTamperedInto: a flipped byte in a burst read straight into the caller's buffer
// (and in one sealed by a crew): the records before it are read, then the session ends with an
// authentication error, and stays ended.
func TestRecordBulkTamperedInto(t *testing.T) {
	for _, crew := range []int{0, 3} {
		t.Run(fmt.Sprint("crew", crew), func(t *testing.T) {
			withCrew(t, crew)
			a, b := recordPair(t, suiteAES128GCM)
			// a good burst first (with the crew, when there is one), then the tampered one
			sendWhole(t, a, b, pattern(20*maxPlaintext, 7), "before tampering")
			a.wbuf = a.wbuf[:0]
			a.sealBulk(pattern(20*maxPlaintext, 1))
			full := a.fullRecord()
			a.wbuf[13*full+recordHeaderLen+100] ^= 0x40 // record 13's ciphertext
			if _, err := a.c.Write(a.wbuf); err != nil {
				t.Fatal(err)
			}
			got := make([]byte, 20*maxPlaintext)
			n, err := io.ReadFull(b, got)
			if n != 13*maxPlaintext || err == nil || !strings.Contains(err.Error(), "failed authentication") {
				t.Fatalf("read %d bytes, %v; want %d, then an authentication error", n, err, 13*maxPlaintext)
			}
			if !bytes.Equal(got[:n], pattern(20*maxPlaintext, 1)[:n]) {
				t.Fatal("the records before the tampered one read other bytes")
			}
			if _, err := b.Read(got); err == nil || !strings.Contains(err.Error(), "failed authentication") {
				t.Fatalf("a read after the error: %v", err)
			}
		})
	}
}

// TestRecordBulkConcurrent: several sessions move bulk data both ways at once, all sharing the
// one crew (run with -race).
func TestRecordBulkConcurrent(t *testing.T) {
	withCrew(t, 3)
	const sessions, rounds = 3, 4
	var wg sync.WaitGroup
	errs := make(chan error, 4*sessions)
	for s := range sessions {
		a, b := recordPair(t, suiteAES128GCM)
		for d, dir := range [][2]*RecordConn{{a, b}, {b, a}} {
			msg := pattern((37+s*11+d)*maxPlaintext+s*999+1, s*2+d)
			wg.Go(func() {
				for range rounds {
					if _, err := dir[0].Write(msg); err != nil {
						errs <- err
						return
					}
				}
			})
			wg.Go(func() {
				got := make([]byte, len(msg))
				for r := range rounds {
					if _, err := io.ReadFull(dir[1], got); err != nil {
						errs <- err
						return
					}
					if !bytes.Equal(got, msg) {
						errs <- fmt.Errorf("session %d direction %d round %d: other bytes arrived", s, d, r)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestRecordBulkWriteError: a bulk write whose socket fails returns the error, and the crew
// is left with nothing of it (a later transfer on another session goes through).
func TestRecordBulkWriteError(t *testing.T) {
	withCrew(t, 3)
	a, b := recordPair(t, suiteAES128GCM)
	b.c.Close()
	var err error
	for range 20 { // the peer's close reaches us after the first writes, at the latest
		if _, err = a.Write(pattern(200*maxPlaintext, 0)); err != nil {
			break
		}
	}
	if err == nil {
		t.Fatal("writes to a closed peer succeeded")
	}
	x, y := recordPair(t, suiteAES128GCM)
	sendWhole(t, x, y, pattern(70*maxPlaintext, 3), "after a failed write")
}

// sendWhole writes msg on w (in a goroutine) and reads it whole from r: the bytes must arrive
// unchanged and the write succeed.
func sendWhole(t *testing.T, w, r *RecordConn, msg []byte, when string) {
	t.Helper()
	wrote := make(chan error, 1)
	go func() { _, err := w.Write(msg); wrote <- err }()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(r, got); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("%s: read %v, or other bytes arrived", when, err)
	}
	if err := <-wrote; err != nil {
		t.Fatalf("%s: write: %v", when, err)
	}
}

// countJob is work of n items that records how many each goroutine did.
type countJob struct {
	n, next int
	mu      sync.Mutex
	by      map[bool]int // done by the poster (true) or a crew member
}

func (j *countJob) more() bool { j.mu.Lock(); defer j.mu.Unlock(); return j.next < j.n }
func (j *countJob) help()      { j.do(false) }
func (j *countJob) do(poster bool) {
	for {
		j.mu.Lock()
		if j.next >= j.n {
			j.mu.Unlock()
			return
		}
		j.next++
		j.by[poster]++
		j.mu.Unlock()
		time.Sleep(200 * time.Microsecond) // a record's worth of sealing, and more
	}
}

// A parked crew is woken for a transfer of crewWakeMin bytes or more, not for a smaller one
// (whose records its poster seals alone, without a wake-up on each side).
func TestCrewWakesForLargeTransfersOnly(t *testing.T) {
	withCrew(t, 2)
	c := &recordCrew{}
	parked := func() {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); c.parked.Load() != 2; {
			if time.Now().After(deadline) {
				t.Fatalf("%d of 2 crew members parked", c.parked.Load())
			}
			time.Sleep(time.Millisecond)
		}
	}
	run := func(bytes int) *countJob {
		j := &countJob{n: 20, by: map[bool]int{}}
		c.post(j, 2, bytes)
		j.do(true)
		c.clear(j)
		return j
	}
	run(crewWakeMin) // starts the crew
	parked()
	if j := run(crewWakeMin - 1); j.by[false] != 0 {
		t.Errorf("a transfer of %d bytes woke the parked crew: it did %d of %d items", crewWakeMin-1, j.by[false], j.n)
	}
	parked()
	if j := run(crewWakeMin); j.by[false] == 0 {
		t.Errorf("a transfer of %d bytes did not wake the parked crew", crewWakeMin)
	}
}
