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

// nonce is the IV XOR the sequence number, left-padded (RFC 8446 §5.3).
func (h *halfConn) nonce() []byte {
	n := h.iv
	for i := 0; i < 8; i++ {
		n[4+i] ^= byte(h.seq >> (56 - 8*i))
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
	recordWriteBatch = 64 << 10  // what one write sends
)

// RecordConn carries on a TLS 1.3 session over an FDConn: reads open records, writes seal them.
// It is used by one reader and one writer at a time (the worker's session thread; keepalives
// and the session share the writer under the session's own lock).
type RecordConn struct {
	c            *FDConn
	rd, wr       *halfConn
	raw          []byte // records as read; raw[rstart:rend] is not yet opened
	rstart, rend int
	plain        []byte // opened, not yet read
	rerr         error  // sticky read error
	wbuf         []byte
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
	for len(r.plain) == 0 {
		if r.rerr != nil {
			return 0, r.rerr
		}
		if err := r.readRecord(); err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				return 0, err // a deadline: what came of the record is kept for the next Read
			}
			r.rerr = err
			return 0, err
		}
	}
	n := copy(b, r.plain)
	r.plain = r.plain[n:]
	return n, nil
}

// readRecord opens the next record, reading as much as the socket has (up to recordBuf) so a
// burst of records costs one system call, not two a record. A read deadline that passes
// mid-record returns its timeout error and keeps what was read: the next call goes on from there.
func (r *RecordConn) readRecord() error {
	for {
		if avail := r.rend - r.rstart; avail >= recordHeaderLen {
			h := r.raw[r.rstart : r.rstart+recordHeaderLen]
			if h[0] != recordTypeApp || h[1] != 3 || h[2] != 3 {
				return fmt.Errorf("tls: unexpected record header % x", h[:3])
			}
			n := int(binary.BigEndian.Uint16(h[3:]))
			if n > maxCiphertext || n < r.rd.aead.Overhead()+1 {
				return fmt.Errorf("tls: record of %d bytes", n)
			}
			if avail >= recordHeaderLen+n {
				rec := r.raw[r.rstart : r.rstart+recordHeaderLen+n]
				r.rstart += recordHeaderLen + n
				return r.open(rec)
			}
		}
		if r.rstart == r.rend {
			r.rstart, r.rend = 0, 0
		} else if len(r.raw)-r.rstart < recordHeaderLen+maxCiphertext {
			r.rend = copy(r.raw, r.raw[r.rstart:r.rend])
			r.rstart = 0
		}
		n, err := r.c.Read(r.raw[r.rend:])
		r.rend += n
		if err != nil {
			if err == io.EOF && r.rend > r.rstart {
				return io.ErrUnexpectedEOF
			}
			return err
		}
	}
}

// open opens one record (header and ciphertext) in place.
func (r *RecordConn) open(rec []byte) error {
	hdr, ct := rec[:recordHeaderLen], rec[recordHeaderLen:]
	pt, err := r.rd.aead.Open(ct[:0], r.rd.nonce(), ct, hdr)
	if err != nil {
		return errors.New("tls: a record failed authentication")
	}
	r.rd.seq++
	// the inner content type is the last byte that is not zero padding
	i := len(pt) - 1
	for i >= 0 && pt[i] == 0 {
		i--
	}
	if i < 0 {
		return errors.New("tls: a record without a content type")
	}
	switch pt[i] {
	case recordTypeApp:
		r.plain = pt[:i]
		return nil
	case recordTypeAlert:
		if i == 2 && pt[1] == alertCloseNotify {
			return io.EOF
		}
		return fmt.Errorf("tls: the peer sent alert %d", pt[1])
	case recordTypeHshake:
		// a key update or ticket: vgpu's clients and servers send neither once a session runs
		return errors.New("tls: a post-handshake message, which this session does not take")
	}
	return fmt.Errorf("tls: record of content type %d", pt[i])
}

// Write seals b in records of at most 16 KiB and writes them in one system call per 64 KiB:
// large enough that a bulk copy costs few calls, small enough that the peer opens the first
// records while the rest are sealed.
func (r *RecordConn) Write(b []byte) (int, error) {
	if r.wrClosed {
		return 0, errors.New("tls: write after close")
	}
	done := 0
	for done < len(b) {
		r.wbuf = r.wbuf[:0]
		start := done
		for done < len(b) && len(r.wbuf) < recordWriteBatch {
			n := min(len(b)-done, maxPlaintext)
			r.seal(recordTypeApp, b[done:done+n])
			done += n
		}
		if _, err := r.c.Write(r.wbuf); err != nil {
			return start, err
		}
	}
	return done, nil
}

// seal appends one record of type typ holding p to wbuf.
func (r *RecordConn) seal(typ byte, p []byte) {
	n := len(p) + 1 + r.wr.aead.Overhead()
	off := len(r.wbuf)
	end := off + recordHeaderLen + n
	if cap(r.wbuf) < end {
		r.wbuf = append(r.wbuf[:cap(r.wbuf)], make([]byte, end-cap(r.wbuf))...)
	}
	r.wbuf = r.wbuf[:end]
	hdr, body := r.wbuf[off:off+recordHeaderLen], r.wbuf[off+recordHeaderLen:end]
	hdr[0], hdr[1], hdr[2], hdr[3], hdr[4] = recordTypeApp, 3, 3, byte(n>>8), byte(n)
	copy(body, p)
	body[len(p)] = typ
	r.wr.aead.Seal(body[:0], r.wr.nonce(), body[:len(p)+1], hdr)
	r.wr.seq++
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
	_, err = hc.aead.Open(ct[:0], hc.nonce(), ct, record[:recordHeaderLen])
	return err == nil
}
