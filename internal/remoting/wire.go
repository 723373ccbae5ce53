// Package remoting is vgpu's wire protocol: the frames that carry the CUDA and
// NVML calls of a client process over one stream socket to the server, their
// payload encodings, buffered frame I/O (Conn) and the transport addresses.
//
// A frame is a 16-byte header followed by Length payload bytes. The header,
// little-endian:
//
//	offset size field
//	0      4    payload length, at most MaxPayload
//	4      1    FrameType
//	5      1    flags: FlagAsync or 0
//	6      2    thread: on a Call, the client thread that made it (a small number the client
//	            gives each of its threads, see below); 0 on every other frame
//	8      8    request id
//
// A session: the client sends Hello; the server answers Welcome, or Error and
// closes. Then the client sends Calls. The server answers every Call without
// FlagAsync with a Reply carrying the Call's request id, and any FrameData of
// that reply carries it too. Either side may send
// Error and close. After the Welcome either side may send Keepalive frames
// (no payload) at any point between frames; the peer skips them. The client
// sends one when it has sent nothing for a while, so an idle but live
// program is not timed out; the server sends them while a call runs long,
// so a waiting client can tell a long kernel from a stalled server.
//
// Threads (protocol 4). Each Call names the client thread that made it. The
// client sends its Calls as one ordered stream whatever thread made them; the
// server runs each on a thread of its own for that client thread, in the
// order they came, except that a synchronous Call of a row that only waits
// (api.Func.Wait) may still run while later Calls of other threads do. So
// Replies of different threads may come in any order: the client matches
// them to their Calls by request id. A thread number may be reused once the
// client has sent the row vgpuThreadEnd for it.
//
// Payloads use fixed-width little-endian u16/u32/i32/u64 fields and uvarints
// (encoding/binary, minimal form only) for counts, lengths and scalars;
// strings and bufs are a uvarint length followed by the bytes. The layout of
// each message is documented at its Append function.
//
// Decoders reject truncated input, trailing bytes, non-minimal uvarints, and
// counts or lengths beyond MaxString, MaxScalars, MaxBufs or the bytes left,
// with a *ProtoError; they allocate nothing from an unchecked count. Decoded
// strings are copies, but the Bufs of a decoded Call or Reply alias the
// payload they were decoded from (each capped to its length): they are valid
// until that buffer is reused, for a payload from Conn.ReadFrame until the
// next ReadFrame.
package remoting

import (
	"encoding/binary"
	"fmt"
)

// ProtocolVersion is the version sent in Hello and Welcome. 3: Hello carries a token name and
// proof (authentication on TLS without a client certificate), and FrameKeepalive exists.
// 4: the header's former reserved field names a Call's client thread, and Replies may come out
// of order (one per client thread). 5: Hello carries RingSize (frames through shared memory on a
// unix socket).
const ProtocolVersion uint16 = 5

// KeepaliveHeader is the whole of a Keepalive frame.
var KeepaliveHeader = Header{Type: FrameKeepalive}

// HeaderSize is the size of a frame header in bytes.
const HeaderSize = 16

// MaxPayload is the largest payload a frame may carry.
const MaxPayload = 80 << 20

// Limits that decoders enforce. Encoders do not check them: a message beyond
// them encodes, but its peer rejects it.
const (
	MaxString  = 4096 // bytes in a string of Hello, Welcome or ErrorMsg
	MaxScalars = 64   // scalars in a Call or Reply
	MaxBufs    = 64   // bufs in a Call or Reply
)

// FrameType is the kind of a frame.
type FrameType uint8

const (
	FrameHello   FrameType = 1 // client -> server, first frame
	FrameWelcome FrameType = 2 // server -> client, answer to Hello
	FrameCall    FrameType = 3 // client -> server
	FrameReply   FrameType = 4 // server -> client, answer to a non-async Call
	FrameError   FrameType = 5 // either way: structured error; after it the sender closes
	// FrameOutput: server -> client, before a Reply: what the GPU's printf wrote; the payload is
	// the raw bytes, for the client's stdout.
	FrameOutput FrameType = 6
	// FrameData: server -> client, before a Reply: u32 output index, then that output's bytes,
	// which the client reads straight into the caller's memory (large device-to-host copies).
	FrameData FrameType = 7
	// FrameKeepalive: either way after the Welcome, between frames, with no payload: the sender
	// is alive. The receiver skips it (protocol 2).
	FrameKeepalive FrameType = 8
)

var frameNames = [...]string{FrameHello: "Hello", FrameWelcome: "Welcome", FrameCall: "Call", FrameReply: "Reply", FrameError: "Error", FrameOutput: "Output", FrameData: "Data", FrameKeepalive: "Keepalive"}

func (t FrameType) known() bool { return t >= FrameHello && t <= FrameKeepalive }

func (t FrameType) String() string {
	if t.known() {
		return frameNames[t]
	}
	return fmt.Sprintf("FrameType(%d)", uint8(t))
}

// FlagAsync on a Call: the server sends no Reply. A failure is reported later
// as the Deferred part of a Reply.
const FlagAsync uint8 = 1

const knownFlags = FlagAsync

// Header is a frame header.
type Header struct {
	Length uint32 // payload length
	Type   FrameType
	Flags  uint8
	// Thread: on a Call, the client thread that made it (0 on other frames).
	Thread uint16
	ReqID  uint64
}

// ProtoError reports a malformed header or payload.
type ProtoError struct {
	Msg string
}

func (e *ProtoError) Error() string { return "vgpu protocol: " + e.Msg }

func protoErrorf(format string, args ...any) error {
	return &ProtoError{Msg: fmt.Sprintf(format, args...)}
}

// AppendHeader appends the 16-byte encoding of h.
func AppendHeader(b []byte, h Header) []byte {
	b = binary.LittleEndian.AppendUint32(b, h.Length)
	b = append(b, byte(h.Type), h.Flags)
	b = binary.LittleEndian.AppendUint16(b, h.Thread)
	return binary.LittleEndian.AppendUint64(b, h.ReqID)
}

// ParseHeader decodes the header at the start of b. It fails with a
// *ProtoError if b is shorter than HeaderSize, a frame other than a Call names
// a thread, the type or a flag is unknown, the length exceeds MaxPayload, or a
// Keepalive carries a payload or flags.
func ParseHeader(b []byte) (Header, error) {
	if len(b) < HeaderSize {
		return Header{}, protoErrorf("header: %d bytes, want %d", len(b), HeaderSize)
	}
	h := Header{
		Length: binary.LittleEndian.Uint32(b[0:]),
		Type:   FrameType(b[4]),
		Flags:  b[5],
		Thread: binary.LittleEndian.Uint16(b[6:]),
		ReqID:  binary.LittleEndian.Uint64(b[8:]),
	}
	switch {
	case !h.Type.known():
		return Header{}, protoErrorf("header: unknown frame type %d", b[4])
	case h.Flags&^knownFlags != 0:
		return Header{}, protoErrorf("header: unknown flags %#02x", h.Flags&^knownFlags)
	case h.Length > MaxPayload:
		return Header{}, protoErrorf("header: payload length %d exceeds %d", h.Length, MaxPayload)
	case h.Thread != 0 && h.Type != FrameCall:
		return Header{}, protoErrorf("header: a %v frame names thread %d, only calls do", h.Type, h.Thread)
	case h.Type == FrameKeepalive && (h.Length != 0 || h.Flags != 0):
		return Header{}, protoErrorf("header: keepalive with %d payload bytes and flags %#02x, want none", h.Length, h.Flags)
	}
	return h, nil
}

// appendString appends s as a uvarint length and its bytes.
func appendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendBytes appends p as a uvarint length and its bytes.
func appendBytes(b, p []byte) []byte {
	return append(binary.AppendUvarint(b, uint64(len(p))), p...)
}

// consumeUvarint parses a minimally encoded uvarint at the start of b and
// returns it and its length, or n < 0 if b holds none: truncated, overflowing
// 64 bits, or with redundant trailing zero groups. Accepting only the minimal
// form makes every encoding canonical.
func consumeUvarint(b []byte) (v uint64, n int) {
	v, n = binary.Uvarint(b)
	if n <= 0 || (n > 1 && b[n-1] == 0) {
		return 0, -1
	}
	return v, n
}

// decoder consumes a payload front to back. The first failure sticks; after
// it every read returns zero values.
type decoder struct {
	p    []byte
	what string // message kind, for errors
	err  error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = protoErrorf(d.what+": "+format, args...)
	}
	d.p = nil
}

// take returns the next n bytes, capacity-limited so that appending to them
// cannot overwrite what follows.
func (d *decoder) take(n int, field string) []byte {
	if d.err != nil {
		return nil
	}
	if n > len(d.p) {
		d.fail("%s: need %d bytes, have %d", field, n, len(d.p))
		return nil
	}
	v := d.p[:n:n]
	d.p = d.p[n:]
	return v
}

func (d *decoder) u16(field string) uint16 {
	if v := d.take(2, field); v != nil {
		return binary.LittleEndian.Uint16(v)
	}
	return 0
}

func (d *decoder) u32(field string) uint32 {
	if v := d.take(4, field); v != nil {
		return binary.LittleEndian.Uint32(v)
	}
	return 0
}

func (d *decoder) u64(field string) uint64 {
	if v := d.take(8, field); v != nil {
		return binary.LittleEndian.Uint64(v)
	}
	return 0
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	if len(d.p) > 0 && d.p[0] < 0x80 { // one byte: most scalars (dimensions, flags, sizes)
		v := uint64(d.p[0])
		d.p = d.p[1:]
		return v
	}
	v, n := consumeUvarint(d.p)
	if n < 0 {
		d.fail("%s: bad uvarint", field)
		return 0
	}
	d.p = d.p[n:]
	return v
}

// count reads a uvarint element count, at most max and at most the bytes left
// (every element takes at least one byte).
func (d *decoder) count(max int, field string) int {
	v := d.uvarint(field)
	if d.err == nil && (v > uint64(max) || v > uint64(len(d.p))) {
		d.fail("%s: count %d exceeds limit %d or %d bytes left", field, v, max, len(d.p))
		return 0
	}
	return int(v)
}

// bytes reads a uvarint length and that many bytes, aliasing the payload.
func (d *decoder) bytes(field string) []byte {
	n := d.uvarint(field)
	if d.err == nil && n > uint64(len(d.p)) {
		d.fail("%s: length %d exceeds %d bytes left", field, n, len(d.p))
	}
	return d.take(int(n), field)
}

// str reads a uvarint length and at most MaxString bytes, copied.
func (d *decoder) str(field string) string {
	n := d.uvarint(field)
	if d.err == nil && n > MaxString {
		d.fail("%s: length %d exceeds %d", field, n, MaxString)
	}
	return string(d.take(int(n), field))
}

// done reports the first failure, or trailing bytes.
func (d *decoder) done() error {
	if d.err == nil && len(d.p) > 0 {
		d.fail("%d trailing bytes", len(d.p))
	}
	return d.err
}
