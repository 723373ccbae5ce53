package remoting

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"slices"
)

const (
	connBufSize = 64 << 10 // read buffer, and write buffer size that triggers a flush
	bigPiece    = 64 << 10 // payloads and tails this big are written without copying
	growStep    = 1 << 20  // least growth of the frame buffer while a frame arrives
)

// Conn reads and writes frames on a stream (a net.Conn or any io.ReadWriter).
//
// Writes are buffered: WriteFrame queues and Flush sends. Conn is not safe for
// concurrent use, except that one goroutine may read (ReadFrame) while another
// writes (WriteFrame, Flush, Buffered).
type Conn struct {
	rw  io.ReadWriter
	r   *bufio.Reader
	hdr [HeaderSize]byte
	buf []byte // payload of the last frame read
	// fixed, when set, takes every payload of fixedMin bytes or more that fits it
	// (UsePayloadBuffer)
	fixed    []byte
	fixedMin int

	wbuf []byte // frames queued, not yet flushed
	werr error  // first write error; sticky
}

// NewConn returns a Conn on rw.
func NewConn(rw io.ReadWriter) *Conn {
	return &Conn{rw: rw, r: bufio.NewReaderSize(rw, connBufSize)}
}

// ReadFrame reads one frame. The payload is valid until the next ReadFrame,
// which reuses its buffer. It returns io.EOF if the stream ends cleanly before
// a header, io.ErrUnexpectedEOF if it ends inside a frame, and a *ProtoError
// for a malformed header.
//
// The buffer grows while a frame's bytes arrive (not ahead of them, beyond
// 1 MiB), and keeps the size of the largest frame read.
func (c *Conn) ReadFrame() (Header, []byte, error) {
	h, err := c.ReadHeader()
	if err != nil {
		return Header{}, nil, err
	}
	p, err := c.ReadPayload(h)
	return h, p, err
}

// ReadHeader reads and checks the next frame's header only; the caller then reads exactly
// h.Length payload bytes with ReadBody (in pieces, straight into their destination, as the
// client does with FrameData).
func (c *Conn) ReadHeader() (Header, error) {
	if _, err := io.ReadFull(c.r, c.hdr[:]); err != nil {
		return Header{}, err
	}
	return ParseHeader(c.hdr[:])
}

// ReadBody reads exactly len(dst) payload bytes into dst (large reads bypass the buffer).
func (c *Conn) ReadBody(dst []byte) error {
	_, err := io.ReadFull(c.r, dst)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// ReadPayload reads the payload of a frame whose header ReadHeader returned; it is valid until
// the next read.
func (c *Conn) ReadPayload(h Header) ([]byte, error) {
	n := int(h.Length)
	if c.InPayloadBuffer(n) {
		if _, err := io.ReadFull(c.r, c.fixed[:n]); err != nil {
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
		return c.fixed[:n], nil
	}
	buf := c.buf[:0]
	for len(buf) < n {
		if len(buf) == cap(buf) {
			buf = slices.Grow(buf, min(n-len(buf), max(len(buf), growStep)))
		}
		k, err := io.ReadFull(c.r, buf[len(buf):min(n, cap(buf))])
		buf = buf[:len(buf)+k]
		if err != nil {
			c.buf = buf
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
			return nil, err
		}
	}
	c.buf = buf
	return buf, nil
}

// UsePayloadBuffer makes ReadPayload read every payload of least to len(b) bytes into b (a
// page-locked buffer the GPU copies from directly) from the next frame on; a smaller or larger
// one goes to the usual buffer. The caller keeps b alive while c is in use.
func (c *Conn) UsePayloadBuffer(b []byte, least int) { c.fixed, c.fixedMin = b, max(least, 1) }

// InPayloadBuffer reports whether ReadPayload reads a payload of n bytes into the buffer
// UsePayloadBuffer gave.
func (c *Conn) InPayloadBuffer(n int) bool { return n > 0 && n >= c.fixedMin && n <= len(c.fixed) }

// WriteFrame queues a frame of header h and payload followed by the tail
// slices; h.Length must be the length of payload and tail together, at most
// MaxPayload, else WriteFrame fails without writing. Pieces
// (the payload or a tail slice) of 64 KiB or more are not copied: the queued
// bytes and the piece go out at once in one writev (net.Buffers). Otherwise
// the frame waits in the buffer until Flush, or until the buffer holds 64 KiB.
// The caller may reuse payload and tail when WriteFrame returns.
//
// After a write error the stream is out of step: that error is returned by
// every later WriteFrame and Flush.
func (c *Conn) WriteFrame(h Header, payload []byte, tail ...[]byte) error {
	if c.werr != nil {
		return c.werr
	}
	n := len(payload)
	for _, t := range tail {
		n += len(t)
	}
	if n != int(h.Length) || n > MaxPayload {
		return fmt.Errorf("remoting: WriteFrame: header length %d, payload and tail %d bytes (max %d)", h.Length, n, MaxPayload)
	}
	if !h.Type.known() || h.Flags&^knownFlags != 0 {
		return fmt.Errorf("remoting: WriteFrame: bad header type %v, flags %#x", h.Type, h.Flags)
	}
	c.wbuf = AppendHeader(c.wbuf, h)
	if err := c.put(payload); err != nil {
		return err
	}
	for _, t := range tail {
		if err := c.put(t); err != nil {
			return err
		}
	}
	if len(c.wbuf) >= connBufSize {
		return c.Flush()
	}
	return nil
}

// put queues p, or sends the queue and a big p.
func (c *Conn) put(p []byte) error {
	if len(p) < bigPiece {
		c.wbuf = append(c.wbuf, p...)
		return nil
	}
	v := net.Buffers{c.wbuf, p}
	_, err := v.WriteTo(c.rw)
	c.wbuf = c.wbuf[:0]
	return c.setErr(err)
}

// Flush sends the queued frames.
func (c *Conn) Flush() error {
	if c.werr != nil || len(c.wbuf) == 0 {
		return c.werr
	}
	_, err := c.rw.Write(c.wbuf)
	c.wbuf = c.wbuf[:0]
	return c.setErr(err)
}

func (c *Conn) setErr(err error) error {
	if err != nil {
		c.werr = err
	}
	return err
}

// Buffered returns the number of bytes queued and not yet flushed.
func (c *Conn) Buffered() int { return len(c.wbuf) }

// ReadBuffered is how many bytes have been read from the stream and not yet taken as frames.
func (c *Conn) ReadBuffered() int { return c.r.Buffered() }
