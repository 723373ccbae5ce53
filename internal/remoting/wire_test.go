package remoting

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
)

func cat(parts ...[]byte) []byte { return bytes.Join(parts, nil) }

func TestHeaderBytes(t *testing.T) {
	h := Header{Length: 0x10, Type: FrameCall, Flags: FlagAsync, Thread: 0x0302, ReqID: 0x0807060504030201}
	want := []byte{
		0x10, 0x00, 0x00, 0x00, // length 16
		0x03,       // type Call
		0x01,       // flags FlagAsync
		0x02, 0x03, // thread 0x302
		0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, // request id
	}
	got := AppendHeader([]byte("x"), h)
	if !bytes.Equal(got, cat([]byte("x"), want)) {
		t.Fatalf("AppendHeader = % x\nwant            % x", got[1:], want)
	}
	back, err := ParseHeader(cat(want, []byte("payload ignored")))
	if err != nil || back != h {
		t.Fatalf("ParseHeader = %+v, %v; want %+v", back, err, h)
	}
}

func TestHeaderRejects(t *testing.T) {
	good := AppendHeader(nil, Header{Length: MaxPayload, Type: FrameReply, ReqID: 1})
	if _, err := ParseHeader(good); err != nil {
		t.Fatalf("good header: %v", err)
	}
	for _, tc := range []struct {
		name string
		mod  func(b []byte) []byte
	}{
		{"short", func(b []byte) []byte { return b[:HeaderSize-1] }},
		{"empty", func(b []byte) []byte { return nil }},
		{"a reply naming a thread", func(b []byte) []byte { b[6] = 1; return b }},
		{"a reply naming a high thread", func(b []byte) []byte { b[7] = 0x80; return b }},
		{"type 0", func(b []byte) []byte { b[4] = 0; return b }},
		{"type 9", func(b []byte) []byte { b[4] = 9; return b }},
		{"keepalive with a payload", func(b []byte) []byte { b[4] = byte(FrameKeepalive); return b }},
		{"keepalive with a flag", func(b []byte) []byte {
			return AppendHeader(nil, Header{Type: FrameKeepalive, Flags: FlagAsync})
		}},
		{"type 255", func(b []byte) []byte { b[4] = 255; return b }},
		{"too long", func(b []byte) []byte { b[0]++; return b }}, // MaxPayload+1
		{"length max", func(b []byte) []byte { copy(b, []byte{0xff, 0xff, 0xff, 0xff}); return b }},
		{"flag 2", func(b []byte) []byte { b[5] = 2; return b }},
		{"flag 0x81", func(b []byte) []byte { b[5] = 0x81; return b }},
	} {
		b := tc.mod(bytes.Clone(good))
		_, err := ParseHeader(b)
		var pe *ProtoError
		if !errors.As(err, &pe) {
			t.Errorf("%s: ParseHeader(% x) = %v, want *ProtoError", tc.name, b, err)
		}
	}
}

func TestFrameTypeString(t *testing.T) {
	if s := FrameWelcome.String(); s != "Welcome" {
		t.Errorf("FrameWelcome = %q", s)
	}
	if s := FrameType(9).String(); s != "FrameType(9)" {
		t.Errorf("FrameType(9) = %q", s)
	}
	e := &ErrorMsg{Code: ErrVersion, Message: "table hash differs"}
	if s := e.Error(); s != "vgpu server: version mismatch: table hash differs" {
		t.Errorf("Error() = %q", s)
	}
	if s := ErrorCode(77).String(); s != "ErrorCode(77)" {
		t.Errorf("ErrorCode(77) = %q", s)
	}
}

// A message kind under test: its sample, the sample's exact encoding, and the
// codec functions, type-erased.
type kind struct {
	name   string
	sample any
	want   []byte
	encode func(any) []byte
	decode func([]byte) (any, error)
}

func codec[M any](enc func([]byte, *M) []byte, dec func([]byte) (M, error)) (func(any) []byte, func([]byte) (any, error)) {
	return func(m any) []byte { mm := m.(M); return enc(nil, &mm) },
		func(p []byte) (any, error) { m, err := dec(p); return m, err }
}

func kinds() []kind {
	helloE, helloD := codec(AppendHello, DecodeHello)
	welcomeE, welcomeD := codec(AppendWelcome, DecodeWelcome)
	callE, callD := codec(AppendCall, DecodeCall)
	replyE, replyD := codec(AppendReply, DecodeReply)
	errorE, errorD := codec(AppendError, DecodeError)
	return []kind{
		{"hello", Hello{Version: 2, TableHash: 0x0102030405060708, PID: 0x1234, UID: 1000, Host: "gpu1", Exe: "/bin/x", ShmSize: 64 << 20,
			RingSize: 1 << 20, Token: "ci", TokenProof: []byte{0xaa, 0xbb}},
			cat(
				[]byte{0x02, 0x00}, // version 2
				[]byte{0x08, 0x07, 0x06, 0x05, 0x04, 0x03, 0x02, 0x01}, // table hash
				[]byte{0x34, 0x12, 0x00, 0x00},                         // pid 0x1234
				[]byte{0xe8, 0x03, 0x00, 0x00},                         // uid 1000
				[]byte{0x04}, []byte("gpu1"),                           // host: len 4, bytes
				[]byte{0x06}, []byte("/bin/x"), // exe: len 6, bytes
				[]byte{0, 0, 0, 4, 0, 0, 0, 0},    // shm size 64 MiB
				[]byte{0, 0, 0x10, 0, 0, 0, 0, 0}, // ring size 1 MiB
				[]byte{0x02}, []byte("ci"),        // token name
				[]byte{0x02, 0xaa, 0xbb}, // token proof
			), helloE, helloD},
		{"welcome", Welcome{Version: 1, Backend: "sim", ServerVersion: "0.1", Session: 42},
			cat(
				[]byte{0x01, 0x00},          // version 1
				[]byte{0x03}, []byte("sim"), // backend: len 3, bytes
				[]byte{0x03}, []byte("0.1"), // server version: len 3, bytes
				[]byte{0x2a, 0, 0, 0, 0, 0, 0, 0}, // session 42
			), welcomeE, welcomeD},
		{"call", Call{Fn: 300, Scalars: []uint64{0, 127, 128, math.MaxUint64}, Bufs: [][]byte{[]byte("ab"), {}}},
			cat(
				[]byte{0x2c, 0x01, 0x00, 0x00}, // fn 300
				[]byte{0x04},                   // 4 scalars
				[]byte{0x00},                   // 0
				[]byte{0x7f},                   // 127
				[]byte{0x80, 0x01},             // 128
				[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, // 2^64-1
				[]byte{0x02},               // 2 bufs
				[]byte{0x02}, []byte("ab"), // buf 0: len 2, bytes
				[]byte{0x00}, // buf 1: len 0
			), callE, callD},
		{"call empty", Call{Fn: 1},
			[]byte{
				0x01, 0x00, 0x00, 0x00, // fn 1
				0x00, // 0 scalars
				0x00, // 0 bufs
			}, callE, callD},
		{"reply", Reply{Result: -1, DeferredFn: 7, DeferredCode: 700, Note: "no", Scalars: []uint64{5}, Bufs: [][]byte{[]byte("xyz")}},
			cat(
				[]byte{0xff, 0xff, 0xff, 0xff}, // result -1
				[]byte{0x07, 0x00, 0x00, 0x00}, // deferred fn 7
				[]byte{0xbc, 0x02, 0x00, 0x00}, // deferred code 700
				[]byte{0x02}, []byte("no"),     // note: len 2, bytes
				[]byte{0x01, 0x05},          // 1 scalar: 5
				[]byte{0x01},                // 1 buf
				[]byte{0x03}, []byte("xyz"), // buf 0: len 3, bytes
			), replyE, replyD},
		{"error", ErrorMsg{Code: ErrVersion, Message: "table mismatch"},
			cat(
				[]byte{0x02, 0x00, 0x00, 0x00},         // code ErrVersion
				[]byte{0x0e}, []byte("table mismatch"), // message: len 14, bytes
			), errorE, errorD},
	}
}

func TestMessageBytes(t *testing.T) {
	for _, k := range kinds() {
		if got := k.encode(k.sample); !bytes.Equal(got, k.want) {
			t.Errorf("%s: encoded\n% x\nwant\n% x", k.name, got, k.want)
		}
		got, err := k.decode(k.want)
		if err != nil || !reflect.DeepEqual(got, k.sample) {
			t.Errorf("%s: decoded %#v, %v\nwant %#v", k.name, got, err, k.sample)
		}
	}
}

func TestRoundTrip(t *testing.T) {
	big := bytes.Repeat([]byte{0xa5}, 70000)
	many := make([]uint64, MaxScalars)
	for i := range many {
		many[i] = uint64(1) << (i % 64)
	}
	manyBufs := make([][]byte, MaxBufs)
	for i := range manyBufs {
		manyBufs[i] = []byte(strings.Repeat("b", i))
	}
	long := strings.Repeat("é", MaxString/2)
	msgs := []any{
		Hello{}, Hello{Version: ProtocolVersion, TableHash: math.MaxUint64, PID: math.MaxUint32, UID: 0, Host: long, Exe: "\x00\xff"},
		Welcome{}, Welcome{Version: 65535, Backend: "real", ServerVersion: long, Session: math.MaxUint64},
		Call{}, Call{Fn: math.MaxUint32, Scalars: many, Bufs: manyBufs}, Call{Bufs: [][]byte{big, {}, big}},
		Reply{}, Reply{Result: math.MinInt32, DeferredFn: 3, DeferredCode: math.MaxInt32, Scalars: many[:1], Bufs: [][]byte{big}},
		ErrorMsg{}, ErrorMsg{Code: 99, Message: long},
	}
	byType := map[reflect.Type]kind{}
	for _, k := range kinds() {
		byType[reflect.TypeOf(k.sample)] = k
	}
	for _, m := range msgs {
		k := byType[reflect.TypeOf(m)]
		got, err := k.decode(k.encode(m))
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Errorf("%s round trip: %v; got %.200v, want %.200v", k.name, err, got, m)
		}
	}
}

func TestTruncatedAndTrailing(t *testing.T) {
	for _, k := range kinds() {
		for i := range k.want {
			if m, err := k.decode(k.want[:i]); err == nil {
				t.Errorf("%s: prefix of %d/%d bytes decoded to %#v", k.name, i, len(k.want), m)
			}
		}
		for _, extra := range [][]byte{{0}, {0xff}, []byte("garbage")} {
			if m, err := k.decode(cat(k.want, extra)); err == nil {
				t.Errorf("%s: trailing % x decoded to %#v", k.name, extra, m)
			}
		}
	}
}

func TestDecodeRejects(t *testing.T) {
	str := func(n int) []byte { return appendBytes(nil, make([]byte, n)) }
	for _, tc := range []struct {
		name   string
		decode func([]byte) error
		p      []byte
	}{
		{"hello host too long", dh, cat(make([]byte, 18), str(MaxString+1), []byte{0})},
		{"hello non-minimal uvarint", dh, cat(make([]byte, 18), []byte{0x80, 0x00, 0x00})},
		{"welcome length beyond input", dw, cat([]byte{1, 0}, []byte{0x05, 'a'})},
		{"welcome huge length", dw, cat([]byte{1, 0}, []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01})},
		{"call uvarint overflow", dc, cat(make([]byte, 4), []byte{0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00})},
		{"call too many scalars", dc, cat(make([]byte, 4), []byte{MaxScalars + 1}, make([]byte, MaxScalars+2))},
		{"call scalar count beyond input", dc, cat(make([]byte, 4), []byte{0x03, 0x00, 0x00})},
		{"call too many bufs", dc, cat(make([]byte, 4), []byte{0x00, MaxBufs + 1}, make([]byte, MaxBufs+1))},
		{"call buf count beyond input", dc, cat(make([]byte, 4), []byte{0x00, 0x03, 0x00, 0x00})},
		{"call buf length beyond input", dc, cat(make([]byte, 4), []byte{0x00, 0x01, 0x04, 'a', 'b', 'c'})},
		{"reply non-minimal count", dr, cat(make([]byte, 12), []byte{0x81, 0x00, 0x00, 0x00})},
		{"error message too long", de, cat(make([]byte, 4), str(MaxString+1))},
	} {
		err := tc.decode(tc.p)
		var pe *ProtoError
		if !errors.As(err, &pe) {
			t.Errorf("%s: got %v, want *ProtoError", tc.name, err)
		}
	}
}

func dh(p []byte) error { _, err := DecodeHello(p); return err }
func dw(p []byte) error { _, err := DecodeWelcome(p); return err }
func dc(p []byte) error { _, err := DecodeCall(p); return err }
func dr(p []byte) error { _, err := DecodeReply(p); return err }
func de(p []byte) error { _, err := DecodeError(p); return err }

func TestPrefix(t *testing.T) {
	last := bytes.Repeat([]byte("tail"), 1000)
	c := Call{Fn: 5, Scalars: []uint64{1, 1 << 40}, Bufs: [][]byte{[]byte("first")}}
	full := c
	full.Bufs = append(full.Bufs, last)
	p := AppendCallPrefix(nil, &c, len(last))
	if want := AppendCall(nil, &full); !bytes.Equal(cat(p, last), want) {
		t.Fatalf("AppendCallPrefix+tail differs from AppendCall")
	}
	got, err := DecodeCall(cat(p, last))
	if err != nil || !reflect.DeepEqual(got, full) {
		t.Fatalf("DecodeCall(prefix+tail) = %v, %v", got.Fn, err)
	}
	if _, err := DecodeCall(p); err == nil {
		t.Fatalf("prefix without tail decoded")
	}
	// An empty last buf and an m without bufs.
	got, err = DecodeCall(AppendCallPrefix(nil, &Call{Fn: 1}, 0))
	if err != nil || len(got.Bufs) != 1 || len(got.Bufs[0]) != 0 {
		t.Fatalf("empty last buf: %#v, %v", got, err)
	}

	r := Reply{Result: 2, DeferredFn: 1, DeferredCode: -3, Scalars: []uint64{9}}
	fullR := r
	fullR.Bufs = [][]byte{last}
	pr := AppendReplyPrefix(nil, &r, len(last))
	if want := AppendReply(nil, &fullR); !bytes.Equal(cat(pr, last), want) {
		t.Fatalf("AppendReplyPrefix+tail differs from AppendReply")
	}
	gotR, err := DecodeReply(cat(pr, last))
	if err != nil || !reflect.DeepEqual(gotR, fullR) {
		t.Fatalf("DecodeReply(prefix+tail) = %v", err)
	}
}

func TestDecodedBufsAreCapped(t *testing.T) {
	p := AppendCall(nil, &Call{Bufs: [][]byte{[]byte("ab"), []byte("cd")}})
	c, err := DecodeCall(p)
	if err != nil {
		t.Fatal(err)
	}
	_ = append(c.Bufs[0], 'X')
	if string(c.Bufs[1]) != "cd" {
		t.Fatalf("append to a decoded buf overwrote the next: %q", c.Bufs[1])
	}
}
