package remoting

import (
	"errors"
	"runtime"
	"sync/atomic"
)

// The bulk path of RecordConn: large writes and reads (a copy's megabytes), the records sealed
// and opened by the record crew (recordpool.go) beside the transfer's own goroutine.
//
// A bulk write seals its records into a ring of ringSlots record-sized slots while the
// transfer's goroutine writes the slots already sealed, in order, each contiguous run one system
// call: the sealing of the next records overlaps the write of the last ones, and at most the
// ring's megabyte is sealed ahead of the socket. A bulk read opens the records one read brought
// in straight into the caller's buffer (no copy out of the record buffer), reading at most
// readAhead bytes of records ahead.

const (
	ringSlots   = 64      // records sealed ahead of the socket, at most
	runRecords  = 16      // records one write of the ring sends, at most
	readAhead   = 1 << 20 // what one read of a bulk transfer may take in
	openGroup   = 8       // records opened in order by one member; a burst's unit of work
	bulkReadMin = 4 * maxPlaintext
)

// bulkState is the bulk path's buffers, made on first use.
type bulkState struct {
	ring    []byte   // ringSlots slots of fullRecord bytes
	scratch [][]byte // per open group: its last record's plaintext, copied into place
	meta    []recMeta
}

type recMeta struct {
	n   int   // application data bytes
	err error // why the session ends at this record (it did not open, an alert, …)
}

// fullRecord is the wire size of a record of maxPlaintext bytes of application data.
func (r *RecordConn) fullRecord() int {
	return recordHeaderLen + maxPlaintext + 1 + r.wr.aead.Overhead()
}

// sealJob is one bulk write's records: whoever claims record i seals it into its slot.
type sealJob struct {
	r       *RecordConn
	p       []byte
	n       uint64 // records
	seq     uint64 // sequence number of record 0
	full    int
	ring    []byte
	next    atomic.Uint64 // records claimed
	written atomic.Uint64 // records written to the socket (their slots are free)
	stop    atomic.Bool
	sealed  [ringSlots]atomic.Uint64 // i+1 once record i is sealed in slot i%ringSlots
}

func (j *sealJob) more() bool {
	i := j.next.Load()
	return i < j.n && i < j.written.Load()+ringSlots && !j.stop.Load()
}

// claim takes the next record to seal, if there is one and its slot is free.
func (j *sealJob) claim() (uint64, bool) {
	for {
		i := j.next.Load()
		if i >= j.n || i >= j.written.Load()+ringSlots || j.stop.Load() {
			return 0, false
		}
		if j.next.CompareAndSwap(i, i+1) {
			return i, true
		}
	}
}

// size is record i's wire size.
func (j *sealJob) size(i uint64) int {
	if i+1 < j.n {
		return j.full
	}
	last := len(j.p) - int(i)*maxPlaintext
	return recordHeaderLen + last + 1 + j.r.wr.aead.Overhead()
}

func (j *sealJob) seal(i uint64) {
	at := int(i%ringSlots) * j.full
	p := j.p[int(i)*maxPlaintext : min(int(i+1)*maxPlaintext, len(j.p))]
	j.r.sealRecord(j.ring[at:at+j.size(i)], recordTypeApp, p, j.seq+i)
	j.sealed[i%ringSlots].Store(i + 1)
}

func (j *sealJob) help() {
	for i, ok := j.claim(); ok; i, ok = j.claim() {
		j.seal(i)
	}
}

// writeBulk seals b's records with the crew and writes them as they are sealed, in order.
func (r *RecordConn) writeBulk(b []byte) (int, error) {
	full := r.fullRecord()
	if r.bulk.ring == nil {
		r.bulk.ring = make([]byte, ringSlots*full)
	}
	n := uint64((len(b) + maxPlaintext - 1) / maxPlaintext)
	j := &sealJob{r: r, p: b, n: n, seq: r.wr.seq, full: full, ring: r.bulk.ring}
	theCrew.post(j, int(min(n, ringSlots))-1, len(b))
	defer theCrew.clear(j)
	w := uint64(0)
	for spins := 0; w < n; {
		k := w
		for k < n && k-w < runRecords && (k == w || k%ringSlots != 0) && j.sealed[k%ringSlots].Load() == k+1 {
			k++
		}
		if k == w {
			if i, ok := j.claim(); ok {
				j.seal(i)
			} else if spins++; spins&63 == 0 {
				runtime.Gosched() // a member is sealing record w
			}
			continue
		}
		at := int(w%ringSlots) * full
		end := at + int(k-1-w)*full + j.size(k-1)
		if _, err := r.c.Write(r.bulk.ring[at:end]); err != nil {
			j.abort(w)
			// the records before w went out; the session is out of step either way
			r.wr.seq += w
			return int(w) * maxPlaintext, err
		}
		freed := int(k - w)
		w = k
		j.written.Store(w)
		theCrew.poke(freed)
	}
	r.wr.seq += n
	return len(b), nil
}

// abort stops j's sealing and waits for the records already claimed, so the ring is free.
func (j *sealJob) abort(w uint64) {
	j.stop.Store(true)
	claimed := j.next.Load()
	for i := w; i < claimed && i < j.n; i++ {
		for j.sealed[i%ringSlots].Load() < i+1 {
			runtime.Gosched()
		}
	}
}

// readLimit is where a read into r.raw may end: a large b lets it take up to readAhead.
func (r *RecordConn) readLimit(want int) int {
	if want >= bulkReadMin && crewSize > 0 && len(r.raw) < readAhead+recordHeaderLen+maxCiphertext {
		raw := make([]byte, readAhead+recordHeaderLen+maxCiphertext)
		copy(raw, r.raw[:r.rend])
		r.raw = raw
	}
	return len(r.raw)
}

// openInto opens the leading records of r.recs whose application data fits b straight into b,
// several groups of them at once when there are many, and returns how many bytes of data it put
// there; ok is false when it opened none (the first record's data does not fit b), and the
// records are then opened as before. A record that does not open, an alert or another message
// ends the data there (r.pend), as openRecords does.
//
// Open writes a record's data and its content type byte; each record goes where the data before
// it ends, so its type byte lands on the next record's first byte, which is written after it
// (the records of one group are opened in order, each checked before the next). The last record
// of a group is opened into scratch and its data copied, so no group writes into another's.
func (r *RecordConn) openInto(b []byte) (int, bool) {
	over := r.rd.aead.Overhead()
	recs := r.recs
	// m records fit: record i's data (at most len-over-1 bytes) starts at off, its output at
	// most one byte longer
	m, off := 0, 0
	for m < len(recs) {
		d := len(recs[m]) - recordHeaderLen - over - 1
		if off+d > len(b) {
			break
		}
		off += d
		m++
	}
	if m == 0 {
		return 0, false
	}
	groups := (m + openGroup - 1) / openGroup
	bs := &r.bulk
	for len(bs.scratch) < groups {
		bs.scratch = append(bs.scratch, make([]byte, maxCiphertext))
	}
	if cap(bs.meta) < m {
		bs.meta = make([]recMeta, m)
	}
	meta := bs.meta[:m]
	offs := make([]int, m+1)
	for i := range m {
		offs[i+1] = offs[i] + len(recs[i]) - recordHeaderLen - over - 1
	}
	seq := r.rd.seq
	open := func(g int) {
		for i := g * openGroup; i < min((g+1)*openGroup, m); i++ {
			hdr, ct := recs[i][:recordHeaderLen], recs[i][recordHeaderLen:]
			// the group's last record, or one whose type byte would not fit b
			last := i == (g+1)*openGroup-1 || i == m-1 || offs[i]+len(ct)-over > len(b)
			var dst []byte
			if last {
				dst = bs.scratch[g][:0]
			} else {
				dst = b[offs[i]:offs[i]]
			}
			pt, err := r.rd.aead.Open(dst, r.rd.nonce(seq+uint64(i)), ct, hdr)
			if err != nil {
				pt = nil
			}
			data, err := r.content(pt)
			meta[i] = recMeta{len(data), err}
			if err != nil {
				return
			}
			if last {
				copy(b[offs[i]:], data)
			}
		}
	}
	if m >= parallelRecords {
		inParallel(groups, offs[m], open)
	} else {
		for g := range groups {
			open(g)
		}
	}
	n := 0
	for i := range m {
		if meta[i].err != nil {
			r.pend = meta[i].err
			break
		}
		if n != offs[i] { // a record with padding: close the gap
			copy(b[n:], b[offs[i]:offs[i]+meta[i].n])
		}
		n += meta[i].n
		r.rd.seq++
	}
	clear(meta)
	r.rstart += offsetAfter(r.raw[r.rstart:], recs[:m])
	return n, true
}

// offsetAfter is how many bytes of buf the records recs (consecutive, from buf's start) take.
func offsetAfter(buf []byte, recs [][]byte) int {
	n := 0
	for _, rec := range recs {
		n += len(rec)
	}
	if n > len(buf) {
		panic(errors.New("remoting: records past their buffer"))
	}
	return n
}
