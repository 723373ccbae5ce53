package remoting

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// TLS 1.3 application data after the handshake, carried on by another process (RFC 8446 §5).
//
// vgpu-server does a TLS session's handshake, reads its Hello and decides its policy in the
// server process; the worker it then starts serves the session on the TCP socket itself, with the
// traffic secrets and record sequence numbers the server hands it (TLSState), so no relay hop
// through the server sits on each call's path. RecordConn is that record layer: AES-GCM, the
// suites Go's crypto/tls negotiates on machines with AES instructions; a session on
// another suite stays on the server's relay.

// TLS 1.3 suites RecordConn can carry on.
const (
	suiteAES128GCM = 0x1301 // TLS_AES_128_GCM_SHA256
	suiteAES256GCM = 0x1302 // TLS_AES_256_GCM_SHA384
)

// RecordSuiteSupported reports whether RecordConn can carry on a session of this suite.
func RecordSuiteSupported(suite uint16) bool {
	return suite == suiteAES128GCM || suite == suiteAES256GCM
}

// TLSState is what a worker needs to carry on a TLS 1.3 session: the suite, the traffic secrets
// of both directions (application traffic secret 0, as the key log names them), and how many
// records each direction has used.
type TLSState struct {
	Suite                   uint16
	ReadSecret, WriteSecret []byte // the peer's and our own
	ReadSeq, WriteSeq       uint64
}

// MarshalBinary encodes the state (for the worker's descriptor, never its command line).
func (s *TLSState) MarshalBinary() ([]byte, error) {
	b := binary.BigEndian.AppendUint16(nil, s.Suite)
	b = binary.BigEndian.AppendUint64(b, s.ReadSeq)
	b = binary.BigEndian.AppendUint64(b, s.WriteSeq)
	b = append(b, byte(len(s.ReadSecret)), byte(len(s.WriteSecret)))
	b = append(b, s.ReadSecret...)
	return append(b, s.WriteSecret...), nil
}

// UnmarshalBinary decodes what MarshalBinary encoded.
func (s *TLSState) UnmarshalBinary(b []byte) error {
	if len(b) < 20 {
		return errors.New("tls state: short")
	}
	s.Suite = binary.BigEndian.Uint16(b)
	s.ReadSeq = binary.BigEndian.Uint64(b[2:])
	s.WriteSeq = binary.BigEndian.Uint64(b[10:])
	nr, nw := int(b[18]), int(b[19])
	if len(b) != 20+nr+nw {
		return errors.New("tls state: bad length")
	}
	s.ReadSecret = append([]byte(nil), b[20:20+nr]...)
	s.WriteSecret = append([]byte(nil), b[20+nr:]...)
	return nil
}

func (s *TLSState) hash() (func() hash.Hash, int, error) {
	switch s.Suite {
	case suiteAES128GCM:
		return sha256.New, 16, nil
	case suiteAES256GCM:
		return sha512.New384, 32, nil
	}
	return nil, 0, fmt.Errorf("tls state: suite %#04x is not carried on outside crypto/tls", s.Suite)
}

// expandLabel is HKDF-Expand-Label (RFC 8446 §7.1) with an empty context.
func expandLabel(h func() hash.Hash, secret []byte, label string, n int) ([]byte, error) {
	l := "tls13 " + label
	info := []byte{byte(n >> 8), byte(n), byte(len(l))}
	info = append(info, l...)
	info = append(info, 0) // empty context
	return hkdf.Expand(h, secret, string(info), n)
}

// halfConn is one direction's AEAD, IV and sequence number.
type halfConn struct {
	aead cipher.AEAD
	iv   [12]byte
	seq  uint64
}

func newHalf(h func() hash.Hash, keyLen int, secret []byte, seq uint64) (*halfConn, error) {
	key, err := expandLabel(h, secret, "key", keyLen)
	if err != nil {
		return nil, err
	}
	iv, err := expandLabel(h, secret, "iv", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	hc := &halfConn{aead: aead, seq: seq}
	copy(hc.iv[:], iv)
	return hc, nil
}

// nonce is the IV XOR the sequence number seq, left-padded (RFC 8446 §5.3).
func (h *halfConn) nonce(seq uint64) []byte {
	n := h.iv
	for i := 0; i < 8; i++ {
		n[4+i] ^= byte(seq >> (56 - 8*i))
	}
	return n[:]
}

const (
	recordHeaderLen  = 5
	maxPlaintext     = 16384
	maxCiphertext    = maxPlaintext + 256
	recordTypeAlert  = 21
	recordTypeHshake = 22
	recordTypeApp    = 23
	alertCloseNotify = 0
	recordBuf        = 256 << 10 // what one read may take in
	recordWriteBatch = 64 << 10  // what one write sends when the records are sealed one by one
	// A write of at least parallelRecords full records seals them on several goroutines, up to
	// bulkRecords a system call; a read that brought at least parallelRecords records opens them
	// so. One 16 KiB record takes a core about 3-5 µs; a bulk copy of megabytes is then limited
	// by the copy into the socket, not by AES-GCM on one core.
	parallelRecords = 4
	bulkRecords     = 16
)

// RecordConn carries on a TLS 1.3 session over an FDConn: reads open records, writes seal them.
// It is used by one reader and one writer at a time (the worker's session thread; keepalives
// and the session share the writer under the session's own lock).
type RecordConn struct {
	c            *FDConn
	rd, wr       *halfConn
	raw          []byte // records as read; raw[rstart:rend] is not yet opened
	rstart, rend int
	ready        [][]byte // opened application data not yet read, in order (in raw)
	readyBuf     [][]byte
	recs, pts    [][]byte // the complete records of one read, and their plaintexts (nil: did not open)
	rerr         error    // sticky read error
	pend         error    // what ends the session once ready is read (close_notify: io.EOF)
	wbuf         []byte
	bulk         bulkState // the bulk path's buffers (record_bulk.go)
	closed       bool
	wrClosed     bool
}

// NewRecordConn carries on the session st over c.
func NewRecordConn(c *FDConn, st *TLSState) (*RecordConn, error) {
	h, keyLen, err := st.hash()
	if err != nil {
		return nil, err
	}
	rd, err := newHalf(h, keyLen, st.ReadSecret, st.ReadSeq)
	if err != nil {
		return nil, err
	}
	wr, err := newHalf(h, keyLen, st.WriteSecret, st.WriteSeq)
	if err != nil {
		return nil, err
	}
	return &RecordConn{c: c, rd: rd, wr: wr, raw: make([]byte, recordBuf)}, nil
}

// FD is the connection under the records.
func (r *RecordConn) FD() *FDConn { return r.c }

// Read returns application data; the peer's close_notify is io.EOF; any other record type, a
// record that does not open, or a malformed header ends the session with an error.
func (r *RecordConn) Read(b []byte) (int, error) {
	for len(r.ready) == 0 {
		if r.rerr != nil {
			return 0, r.rerr
		}
		if r.pend != nil {
			r.rerr = r.pend
			continue
		}
		n, err := r.fill(b)
		if n > 0 {
			return n, nil // opened straight into b
		}
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				return 0, err // a deadline: what came of the record is kept for the next Read
			}
			r.rerr = err
			return 0, err
		}
	}
	n := 0
	for n < len(b) && len(r.ready) > 0 {
		c := copy(b[n:], r.ready[0])
		n += c
		if c < len(r.ready[0]) {
			r.ready[0] = r.ready[0][c:]
			break
		}
		r.ready[0] = nil
		r.ready = r.ready[1:]
	}
	return n, nil
}

// fill opens the complete records the buffer holds, reading as much as the socket has (up to
// recordBuf, or readAhead for a large b) when it holds none, so a burst of records costs one
// system call, not two a record. Records whose application data fits b are opened straight into
// it (openInto) and fill returns how many bytes it put there; otherwise they are queued in
// r.ready. A read deadline that passes mid-record returns its timeout error and keeps what was
// read: the next call goes on from there.
func (r *RecordConn) fill(b []byte) (int, error) {
	for {
		r.recs = r.recs[:0]
		at := r.rstart
		for r.rend-at >= recordHeaderLen {
			h := r.raw[at : at+recordHeaderLen]
			if h[0] != recordTypeApp || h[1] != 3 || h[2] != 3 {
				if len(r.recs) > 0 {
					break // the records before it first
				}
				return 0, fmt.Errorf("tls: unexpected record header % x", h[:3])
			}
			n := int(binary.BigEndian.Uint16(h[3:]))
			if n > maxCiphertext || n < r.rd.aead.Overhead()+1 {
				if len(r.recs) > 0 {
					break
				}
				return 0, fmt.Errorf("tls: record of %d bytes", n)
			}
			if r.rend-at < recordHeaderLen+n {
				break
			}
			r.recs = append(r.recs, r.raw[at:at+recordHeaderLen+n])
			at += recordHeaderLen + n
		}
		if len(r.recs) > 0 {
			if n, ok := r.openInto(b); ok {
				return n, nil
			}
			r.rstart = at
			return 0, r.openRecords()
		}
		if r.rstart == r.rend {
			r.rstart, r.rend = 0, 0
		} else if len(r.raw)-r.rstart < recordHeaderLen+maxCiphertext {
			r.rend = copy(r.raw, r.raw[r.rstart:r.rend])
			r.rstart = 0
		}
		n, err := r.c.Read(r.raw[r.rend:r.readLimit(len(b))])
		r.rend += n
		if err != nil {
			if err == io.EOF && r.rend > r.rstart {
				return 0, io.ErrUnexpectedEOF
			}
			return 0, err
		}
	}
}

// openRecords opens r.recs in place (several at once when there are parallelRecords or more)
// and queues their application data; an alert or a record that does not open is kept in
// r.pend, returned once the data before it is read.
func (r *RecordConn) openRecords() error {
	seq, recs := r.rd.seq, r.recs
	r.pts = append(r.pts[:0], make([][]byte, len(recs))...)
	pts := r.pts
	open := func(i int) {
		hdr, ct := recs[i][:recordHeaderLen], recs[i][recordHeaderLen:]
		if pt, err := r.rd.aead.Open(ct[:0], r.rd.nonce(seq+uint64(i)), ct, hdr); err == nil {
			pts[i] = pt
		}
	}
	if len(recs) >= parallelRecords {
		inParallel(len(recs), len(recs)*maxPlaintext, open)
	} else {
		for i := range recs {
			open(i)
		}
	}
	r.ready = r.readyBuf[:0]
	for _, pt := range pts {
		data, err := r.content(pt)
		if err != nil {
			r.pend = err
			break
		}
		r.rd.seq++
		if len(data) > 0 {
			r.ready = append(r.ready, data)
		}
	}
	r.readyBuf = r.ready[:0]
	return nil
}

// content is an opened record's application data, or why the session ends: a record that did
// not open (nil), close_notify (io.EOF), another alert, a post-handshake message.
func (r *RecordConn) content(pt []byte) ([]byte, error) {
	if pt == nil {
		return nil, errors.New("tls: a record failed authentication")
	}
	// the inner content type is the last byte that is not zero padding
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		return nil, errors.New("tls: a record without a content type")
	}
	switch pt[i] {
	case recordTypeApp:
		return pt[:i], nil
	case recordTypeAlert:
		if i == 2 && pt[1] == alertCloseNotify {
			return nil, io.EOF
		}
		return nil, fmt.Errorf("tls: the peer sent alert %d", pt[1])
	case recordTypeHshake:
		// a key update or ticket: vgpu's clients and servers send neither once a session runs
		return nil, errors.New("tls: a post-handshake message, which this session does not take")
	}
	return nil, fmt.Errorf("tls: record of content type %d", pt[i])
}

// Write seals b in records of at most 16 KiB. A short b is sealed record by record, in one
// system call per 64 KiB: the peer opens the first records while the rest are sealed. A bulk b
// is sealed bulkRecords at a time on several goroutines (inParallel), each batch one system call.
func (r *RecordConn) Write(b []byte) (int, error) {
	if r.wrClosed {
		return 0, errors.New("tls: write after close")
	}
	if len(b) >= parallelRecords*maxPlaintext && crewSize > 0 {
		return r.writeBulk(b)
	}
	done := 0
	for done < len(b) {
		r.wbuf = r.wbuf[:0]
		start := done
		if len(b)-done >= parallelRecords*maxPlaintext {
			n := min(len(b)-done, bulkRecords*maxPlaintext)
			r.sealBulk(b[done : done+n])
			done += n
		} else {
			for done < len(b) && len(r.wbuf) < recordWriteBatch {
				n := min(len(b)-done, maxPlaintext)
				r.seal(recordTypeApp, b[done:done+n])
				done += n
			}
		}
		if _, err := r.c.Write(r.wbuf); err != nil {
			return start, err
		}
	}
	return done, nil
}

// grow makes wbuf n bytes longer and returns those bytes.
func (r *RecordConn) grow(n int) []byte {
	off := len(r.wbuf)
	end := off + n
	if cap(r.wbuf) < end {
		r.wbuf = append(r.wbuf[:cap(r.wbuf)], make([]byte, end-cap(r.wbuf))...)
	}
	r.wbuf = r.wbuf[:end]
	return r.wbuf[off:end]
}

// sealRecord seals p as one record of inner type typ at sequence number seq into rec, which is
// exactly recordHeaderLen + len(p) + 1 + the AEAD's overhead long.
func (r *RecordConn) sealRecord(rec []byte, typ byte, p []byte, seq uint64) {
	n := len(rec) - recordHeaderLen
	hdr, body := rec[:recordHeaderLen], rec[recordHeaderLen:]
	hdr[0], hdr[1], hdr[2], hdr[3], hdr[4] = recordTypeApp, 3, 3, byte(n>>8), byte(n)
	copy(body, p)
	body[len(p)] = typ
	r.wr.aead.Seal(body[:0], r.wr.nonce(seq), body[:len(p)+1], hdr)
}

// seal appends one record of type typ holding p to wbuf.
func (r *RecordConn) seal(typ byte, p []byte) {
	r.sealRecord(r.grow(recordHeaderLen+len(p)+1+r.wr.aead.Overhead()), typ, p, r.wr.seq)
	r.wr.seq++
}

// sealBulk appends the records of p (application data) to wbuf, sealed on several goroutines.
func (r *RecordConn) sealBulk(p []byte) {
	full := recordHeaderLen + maxPlaintext + 1 + r.wr.aead.Overhead()
	n := (len(p) + maxPlaintext - 1) / maxPlaintext
	last := len(p) - (n-1)*maxPlaintext
	out := r.grow((n-1)*full + recordHeaderLen + last + 1 + r.wr.aead.Overhead())
	seq := r.wr.seq
	inParallel(n, len(p), func(i int) {
		end := min((i+1)*full, len(out))
		r.sealRecord(out[i*full:end], recordTypeApp, p[i*maxPlaintext:min((i+1)*maxPlaintext, len(p))], seq+uint64(i))
	})
	r.wr.seq += uint64(n)
}

// Close sends close_notify (best effort, one second at most) and closes the socket.
func (r *RecordConn) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	if !r.wrClosed {
		r.wrClosed = true
		r.wbuf = r.wbuf[:0]
		r.seal(recordTypeAlert, []byte{1, alertCloseNotify}) // warning, close_notify
		r.c.SetWriteDeadline(time.Now().Add(time.Second))
		r.c.Write(r.wbuf)
	}
	return r.c.Close()
}

func (r *RecordConn) SetDeadline(t time.Time) error      { return r.c.SetDeadline(t) }
func (r *RecordConn) SetReadDeadline(t time.Time) error  { return r.c.SetReadDeadline(t) }
func (r *RecordConn) SetWriteDeadline(t time.Time) error { return r.c.SetWriteDeadline(t) }

// SetWriteIdle bounds how long one write may wait for room (FDConn.SetWriteIdle).
func (r *RecordConn) SetWriteIdle(d time.Duration) error { return r.c.SetWriteIdle(d) }

// OpensAt reports whether record (header and ciphertext, as read off the wire) opens with
// the application traffic secret of st's read direction at sequence number seq: how the server
// finds, among the records it read, where the peer's application data began.
func (st *TLSState) OpensAt(record []byte, seq uint64) bool {
	h, keyLen, err := st.hash()
	if err != nil || len(record) < recordHeaderLen {
		return false
	}
	hc, err := newHalf(h, keyLen, st.ReadSecret, seq)
	if err != nil {
		return false
	}
	ct := append([]byte(nil), record[recordHeaderLen:]...)
	_, err = hc.aead.Open(ct[:0], hc.nonce(seq), ct, record[:recordHeaderLen])
	return err == nil
}
