package remoting

import (
	"encoding/binary"
	"fmt"
	"slices"
)

// Hello is the client's first frame.
type Hello struct {
	Version   uint16
	TableHash uint64 // hash of the API table the client was built from
	PID       uint32
	UID       uint32
	Host      string
	Exe       string
	// ShmSize > 0: right after the Welcome the client passes, with SCM_RIGHTS on the unix
	// socket, a memfd of this size that both sides map for bulk copies.
	ShmSize uint64
	// RingSize > 0: after the shared memory (if any), the client passes a second memfd of
	// RingsSize(RingSize) bytes, and from then on the session's frames travel through its two
	// rings of RingSize bytes (FDConn.UseRings), the socket carrying only wake-ups.
	RingSize uint64
	// Token names the client's token on a TLS connection without a client certificate, and
	// TokenProof proves it holds the token's secret without sending it: HMAC-SHA256 keyed with
	// the secret over the TLS session's exported keying material (TokenProofOf). Both are empty
	// otherwise.
	Token      string
	TokenProof []byte
}

// MaxTokenProof bounds Hello.TokenProof.
const MaxTokenProof = 64

// Welcome is the server's answer to Hello.
type Welcome struct {
	Version       uint16
	Backend       string // "real" or "sim"
	ServerVersion string
	Session       uint64
}

// Call is one API call: Fn is an index into the API table; Scalars are the
// by-value arguments; Bufs are byte payloads (input buffers).
type Call struct {
	Fn      uint32
	Scalars []uint64
	Bufs    [][]byte
}

// Reply answers a non-async Call. Result is the API's own return code
// (CUresult, nvmlReturn_t, ...). DeferredFn and DeferredCode report the first
// failure of an earlier async call not yet reported: DeferredFn is its table
// index; DeferredCode 0 means none.
type Reply struct {
	Result       int32
	DeferredFn   uint32
	DeferredCode int32
	// Note says why the server refused the call (a bad handle, a copy past an allocation),
	// so the client can log it; empty otherwise.
	Note    string
	Scalars []uint64
	Bufs    [][]byte
}

// ErrorCode classifies an ErrorMsg.
type ErrorCode uint32

const (
	ErrProtocol ErrorCode = 1 // malformed frame
	ErrVersion  ErrorCode = 2 // protocol version or API table mismatch
	ErrDenied   ErrorCode = 3
	ErrInternal ErrorCode = 4
	ErrShutdown ErrorCode = 5
	ErrTimeout  ErrorCode = 6 // the peer sent nothing, or a frame stalled, for too long
)

var errorNames = [...]string{ErrProtocol: "protocol error", ErrVersion: "version mismatch",
	ErrDenied: "denied", ErrInternal: "internal error", ErrShutdown: "shutting down", ErrTimeout: "timed out"}

func (c ErrorCode) String() string {
	if c >= ErrProtocol && c <= ErrTimeout {
		return errorNames[c]
	}
	return fmt.Sprintf("ErrorCode(%d)", uint32(c))
}

// ErrorMsg is the payload of an Error frame. It is also an error.
type ErrorMsg struct {
	Code    ErrorCode
	Message string
}

func (e *ErrorMsg) Error() string { return "vgpu server: " + e.Code.String() + ": " + e.Message }

// AppendHello appends the payload of m:
//
//	u16 version, u64 tablehash, u32 pid, u32 uid, string host, string exe, u64 shmSize,
//	u64 ringSize, string token, bytes tokenProof (at most MaxTokenProof)
func AppendHello(b []byte, m *Hello) []byte {
	b = binary.LittleEndian.AppendUint16(b, m.Version)
	b = binary.LittleEndian.AppendUint64(b, m.TableHash)
	b = binary.LittleEndian.AppendUint32(b, m.PID)
	b = binary.LittleEndian.AppendUint32(b, m.UID)
	b = appendString(b, m.Host)
	b = appendString(b, m.Exe)
	b = binary.LittleEndian.AppendUint64(b, m.ShmSize)
	b = binary.LittleEndian.AppendUint64(b, m.RingSize)
	b = appendString(b, m.Token)
	return appendBytes(b, m.TokenProof)
}

// HelloVersion returns the protocol version at the start of a Hello payload (0 if it is too
// short), so that a peer of another version is told so even where the rest does not decode.
func HelloVersion(p []byte) uint16 {
	if len(p) < 2 {
		return 0
	}
	return binary.LittleEndian.Uint16(p)
}

// DecodeHello decodes a payload written by AppendHello.
func DecodeHello(p []byte) (Hello, error) {
	d := decoder{p: p, what: "hello"}
	m := Hello{
		Version:   d.u16("version"),
		TableHash: d.u64("table hash"),
		PID:       d.u32("pid"),
		UID:       d.u32("uid"),
		Host:      d.str("host"),
		Exe:       d.str("exe"),
		ShmSize:   d.u64("shm size"),
		RingSize:  d.u64("ring size"),
		Token:     d.str("token"),
	}
	if proof := d.bytes("token proof"); len(proof) > MaxTokenProof {
		d.fail("token proof: length %d exceeds %d", len(proof), MaxTokenProof)
	} else if len(proof) > 0 {
		m.TokenProof = append([]byte(nil), proof...)
	}
	if err := d.done(); err != nil {
		return Hello{}, err
	}
	return m, nil
}

// AppendWelcome appends the payload of m:
//
//	u16 version, string backend, string serverversion, u64 session
func AppendWelcome(b []byte, m *Welcome) []byte {
	b = binary.LittleEndian.AppendUint16(b, m.Version)
	b = appendString(b, m.Backend)
	b = appendString(b, m.ServerVersion)
	return binary.LittleEndian.AppendUint64(b, m.Session)
}

// DecodeWelcome decodes a payload written by AppendWelcome.
func DecodeWelcome(p []byte) (Welcome, error) {
	d := decoder{p: p, what: "welcome"}
	m := Welcome{
		Version:       d.u16("version"),
		Backend:       d.str("backend"),
		ServerVersion: d.str("server version"),
		Session:       d.u64("session"),
	}
	if err := d.done(); err != nil {
		return Welcome{}, err
	}
	return m, nil
}

// AppendCall appends the payload of m:
//
//	u32 fn, uvarint nScalars, nScalars × uvarint scalar,
//	uvarint nBufs, nBufs × (uvarint len, len bytes)
func AppendCall(b []byte, m *Call) []byte {
	b = binary.LittleEndian.AppendUint32(b, m.Fn)
	b = appendScalars(b, m.Scalars)
	b = binary.AppendUvarint(b, uint64(len(m.Bufs)))
	return appendBufs(b, m.Bufs)
}

// AppendCallPrefix appends the payload of a Call that is m plus one more,
// last buf of lastLen (>= 0) bytes, except for those bytes: the caller sends
// them right after the payload, as WriteFrame's tail, and counts them in the
// header's Length. DecodeCall of payload+tail yields m with that buf appended.
func AppendCallPrefix(b []byte, m *Call, lastLen int) []byte {
	b = binary.LittleEndian.AppendUint32(b, m.Fn)
	b = appendScalars(b, m.Scalars)
	b = binary.AppendUvarint(b, uint64(len(m.Bufs))+1)
	b = appendBufs(b, m.Bufs)
	return binary.AppendUvarint(b, uint64(lastLen))
}

// DecodeCall decodes a payload written by AppendCall (or AppendCallPrefix
// followed by the tail). The Bufs alias p.
func DecodeCall(p []byte) (Call, error) {
	var m Call
	if err := DecodeCallInto(p, &m); err != nil {
		return Call{}, err
	}
	return m, nil
}

// CallFn is the function id of the Call payload p (0 if p is too short to hold one); the
// payload is not checked otherwise.
func CallFn(p []byte) uint32 {
	if len(p) < 4 {
		return 0
	}
	return binary.LittleEndian.Uint32(p)
}

// DecodeCallInto is DecodeCall reusing m's slices (the server's hot path: no allocation per
// call once they have grown). On error m is undefined.
func DecodeCallInto(p []byte, m *Call) error {
	d := decoder{p: p, what: "call"}
	m.Fn = d.u32("fn")
	m.Scalars, m.Bufs = d.argsInto(m.Scalars[:0], m.Bufs[:0])
	return d.done()
}

// AppendReply appends the payload of m:
//
//	i32 result, u32 deferredFn, i32 deferredCode, string note,
//	then scalars and bufs as in AppendCall
func AppendReply(b []byte, m *Reply) []byte {
	b = appendReplyHead(b, m)
	b = binary.AppendUvarint(b, uint64(len(m.Bufs)))
	return appendBufs(b, m.Bufs)
}

// AppendReplyPrefix is AppendCallPrefix for a Reply: it appends m with one
// more buf of lastLen bytes whose bytes the caller sends as the tail.
func AppendReplyPrefix(b []byte, m *Reply, lastLen int) []byte {
	b = appendReplyHead(b, m)
	b = binary.AppendUvarint(b, uint64(len(m.Bufs))+1)
	b = appendBufs(b, m.Bufs)
	return binary.AppendUvarint(b, uint64(lastLen))
}

func appendReplyHead(b []byte, m *Reply) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Result))
	b = binary.LittleEndian.AppendUint32(b, m.DeferredFn)
	b = binary.LittleEndian.AppendUint32(b, uint32(m.DeferredCode))
	b = appendString(b, m.Note)
	return appendScalars(b, m.Scalars)
}

// DecodeReply decodes a payload written by AppendReply (or AppendReplyPrefix
// followed by the tail). The Bufs alias p.
func DecodeReply(p []byte) (Reply, error) {
	d := decoder{p: p, what: "reply"}
	m := Reply{
		Result:       int32(d.u32("result")),
		DeferredFn:   d.u32("deferred fn"),
		DeferredCode: int32(d.u32("deferred code")),
		Note:         d.str("note"),
	}
	m.Scalars, m.Bufs = d.args()
	if err := d.done(); err != nil {
		return Reply{}, err
	}
	return m, nil
}

// AppendError appends the payload of m:
//
//	u32 code, string message
func AppendError(b []byte, m *ErrorMsg) []byte {
	b = binary.LittleEndian.AppendUint32(b, uint32(m.Code))
	return appendString(b, m.Message)
}

// DecodeError decodes a payload written by AppendError. Unknown codes are
// accepted.
func DecodeError(p []byte) (ErrorMsg, error) {
	d := decoder{p: p, what: "error"}
	m := ErrorMsg{Code: ErrorCode(d.u32("code")), Message: d.str("message")}
	if err := d.done(); err != nil {
		return ErrorMsg{}, err
	}
	return m, nil
}

func appendScalars(b []byte, s []uint64) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	for _, v := range s {
		b = binary.AppendUvarint(b, v)
	}
	return b
}

// appendBufs appends each buf; the count is the caller's.
func appendBufs(b []byte, bufs [][]byte) []byte {
	for _, p := range bufs {
		b = appendBytes(b, p)
	}
	return b
}

// args reads the scalars and bufs of a Call or Reply. Empty lists are nil.
func (d *decoder) args() ([]uint64, [][]byte) {
	return d.argsInto(nil, nil)
}

// argsInto decodes scalars and bufs into the given (empty) slices' storage; an empty list
// decodes as nil where no storage was given, else as the storage emptied (kept for the next
// call, so that calls with and without buffers in turn allocate nothing).
func (d *decoder) argsInto(scalars []uint64, bufs [][]byte) ([]uint64, [][]byte) {
	if n := d.count(MaxScalars, "scalar count"); n > 0 {
		scalars = slices.Grow(scalars[:0], n)[:n]
		for i := range scalars {
			scalars[i] = d.uvarint("scalar")
		}
	} else {
		scalars = scalars[:0]
	}
	if n := d.count(MaxBufs, "buf count"); n > 0 {
		bufs = slices.Grow(bufs[:0], n)[:n]
		for i := range bufs {
			bufs[i] = d.bytes("buf")
		}
	} else {
		bufs = bufs[:0]
	}
	return scalars, bufs
}
