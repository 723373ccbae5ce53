package remoting

import (
	"bytes"
	"reflect"
	"testing"
)

// fuzzDecode checks that decode never panics and that whatever decodes
// re-encodes to the same bytes (the encoding is canonical), which decode to an
// equal value.
func fuzzDecode[M any](f *testing.F, enc func([]byte, *M) []byte, dec func([]byte) (M, error), seeds ...M) {
	for _, m := range seeds {
		p := enc(nil, &m)
		f.Add(p)
		if len(p) > 0 {
			f.Add(p[:len(p)-1])
		}
		f.Add(append(p, 0))
	}
	f.Fuzz(func(t *testing.T, p []byte) {
		m, err := dec(p)
		if err != nil {
			return
		}
		q := enc(nil, &m)
		if !bytes.Equal(p, q) {
			t.Fatalf("re-encoding differs:\n in % x\nout % x", p, q)
		}
		m2, err := dec(q)
		if err != nil || !reflect.DeepEqual(m, m2) {
			t.Fatalf("re-encoded bytes decode to %#v, %v; want %#v", m2, err, m)
		}
	})
}

func FuzzDecodeHello(f *testing.F) {
	fuzzDecode(f, AppendHello, DecodeHello,
		Hello{Version: ProtocolVersion, TableHash: 0xdeadbeef, PID: 42, UID: 1000, Host: "node1", Exe: "/usr/bin/python3"},
		Hello{Version: ProtocolVersion, TableHash: 1, Exe: "x", Token: "ci-runner", TokenProof: make([]byte, 32)})
}

func FuzzDecodeWelcome(f *testing.F) {
	fuzzDecode(f, AppendWelcome, DecodeWelcome,
		Welcome{Version: ProtocolVersion, Backend: "real", ServerVersion: "0.1.0", Session: 7})
}

func FuzzDecodeCall(f *testing.F) {
	fuzzDecode(f, AppendCall, DecodeCall,
		Call{Fn: 12, Scalars: []uint64{0, 300, 1 << 63}, Bufs: [][]byte{[]byte("abc"), {}}},
		Call{Fn: 1})
}

func FuzzDecodeReply(f *testing.F) {
	fuzzDecode(f, AppendReply, DecodeReply,
		Reply{Result: -2, DeferredFn: 9, DeferredCode: 700, Scalars: []uint64{1}, Bufs: [][]byte{[]byte("out")}},
		Reply{})
}

func FuzzDecodeError(f *testing.F) {
	fuzzDecode(f, AppendError, DecodeError, ErrorMsg{Code: ErrDenied, Message: "uid 1000 not allowed"})
}

func FuzzParseHeader(f *testing.F) {
	f.Add(AppendHeader(nil, Header{Length: 12, Type: FrameCall, Flags: FlagAsync, ReqID: 3}))
	f.Add(AppendHeader(nil, Header{Length: MaxPayload + 1, Type: FrameReply}))
	f.Add(AppendHeader(nil, KeepaliveHeader))
	f.Add(AppendHeader(nil, Header{Length: 1, Type: FrameKeepalive})) // rejected: a payload
	f.Fuzz(func(t *testing.T, p []byte) {
		h, err := ParseHeader(p)
		if err != nil {
			return
		}
		q := AppendHeader(nil, h)
		if !bytes.Equal(q, p[:HeaderSize]) {
			t.Fatalf("re-encoding differs:\n in % x\nout % x", p[:HeaderSize], q)
		}
		if h2, err := ParseHeader(q); err != nil || h2 != h {
			t.Fatalf("re-encoded header parses to %+v, %v; want %+v", h2, err, h)
		}
	})
}
