package remoting

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/rand"
	"testing"
)

// causalMask is llama.cpp's attention mask as it uploads it: rows of 0 then -inf (float32).
func causalMask(rows, cols int) []byte {
	b := make([]byte, 4*rows*cols)
	inf := math.Float32bits(float32(math.Inf(-1)))
	for r := 0; r < rows; r++ {
		for c := r + 1; c < cols; c++ {
			binary.LittleEndian.PutUint32(b[4*(r*cols+c):], inf)
		}
	}
	return b
}

// vIndices is llama.cpp's V-cache indices for a prompt without FlashAttention: for each of
// tokens tokens, its cell plus j × cells for each of perToken values (int64).
func vIndices(tokens, perToken, cells int) []byte {
	b := make([]byte, 0, 8*tokens*perToken)
	for i := 0; i < tokens; i++ {
		for j := 0; j < perToken; j++ {
			b = binary.LittleEndian.AppendUint64(b, uint64(j*cells+i))
		}
	}
	return b
}

func TestRunsRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	random := make([]byte, 4099)
	rng.Read(random)
	mixed := causalMask(64, 64)
	copy(mixed[1000:], random[:700])
	for name, src := range map[string][]byte{
		"empty": {}, "short": {1, 2, 3}, "one word": {1, 2, 3, 4, 5, 6, 7, 8}, "zeros": make([]byte, 1<<16+5),
		"mask": causalMask(512, 512), "mixed": mixed, "random": random, "indices": vIndices(64, 256, 1024),
		"wrapping steps": binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(binary.LittleEndian.AppendUint64(
			binary.LittleEndian.AppendUint64(nil, 1<<64-2), 1<<64-1), 0), 1),
		"runs of 3": bytes.Repeat([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0}, 100),
	} {
		enc, ok := EncodeRuns(nil, src, 2*len(src)+64)
		if !ok {
			t.Fatalf("%s: not encoded under twice its size", name)
		}
		out := make([]byte, len(src))
		if err := DecodeRuns(out, enc); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if !bytes.Equal(out, src) {
			t.Fatalf("%s: decoded bytes differ", name)
		}
	}
	// the mask: 1 MiB in a few KiB
	mask := causalMask(512, 512)
	if enc, ok := EncodeRuns(nil, mask, len(mask)/64); !ok || len(enc) > 16<<10 {
		t.Fatalf("the 1 MiB mask encodes in %d bytes (ok %v), want at most 16 KiB", len(enc), ok)
	}
	// the V-cache indices of 512 tokens of 1024 values (4 MiB): a segment per token
	idx := vIndices(512, 1024, 2048)
	if enc, ok := EncodeRuns(nil, idx, len(idx)/64); !ok || len(enc) > 16<<10 {
		t.Fatalf("4 MiB of V-cache indices encode in %d bytes (ok %v), want at most 16 KiB", len(enc), ok)
	}
	// random bytes pass no limit below their size, and the encoder stops early
	if _, ok := EncodeRuns(nil, random, len(random)/2); ok {
		t.Fatal("random bytes encoded in half their size")
	}
}

func TestDecodeRunsRefuses(t *testing.T) {
	src := causalMask(32, 32)
	enc, _ := EncodeRuns(nil, src, len(src))
	out := make([]byte, len(src))
	bad := map[string][]byte{
		"truncated":   enc[:len(enc)-3],
		"trailing":    append(append([]byte(nil), enc...), 9),
		"no progress": append([]byte{0, 0}, enc...),
		"long run":    binary.AppendUvarint(binary.AppendUvarint(nil, 0), uint64(len(src))<<1),
		"long lit":    binary.AppendUvarint(nil, uint64(len(src))),
		"no step":     append(binary.AppendUvarint(binary.AppendUvarint(nil, 0), uint64(len(src)/8)<<1|1), make([]byte, 8)...),
		"bare step":   binary.AppendUvarint(binary.AppendUvarint(nil, 0), 1),
	}
	for name, e := range bad {
		if err := DecodeRuns(out, e); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	if err := DecodeRuns(make([]byte, len(src)+8), enc); err == nil {
		t.Error("an encoding of fewer bytes than out filled it")
	}
}

func FuzzDecodeRuns(f *testing.F) {
	enc, _ := EncodeRuns(nil, causalMask(8, 8), 1<<20)
	f.Add(enc, uint16(256))
	f.Fuzz(func(t *testing.T, enc []byte, n uint16) {
		out := make([]byte, n)
		if DecodeRuns(out, enc) != nil {
			return
		}
		again, ok := EncodeRuns(nil, out, 1<<20)
		if !ok {
			t.Fatal("a decoded buffer does not encode")
		}
		back := make([]byte, n)
		if err := DecodeRuns(back, again); err != nil || !bytes.Equal(back, out) {
			t.Fatalf("re-encoding does not round-trip: %v", err)
		}
	})
}

// BenchmarkRuns: encoding and decoding a prompt's inputs as llama.cpp uploads them (a mask of
// 512 × 640 float32, the V-cache indices of 512 tokens of 1024 values), and encoding 1 MiB of
// random bytes, refused once it passes an eighth.
func BenchmarkRuns(b *testing.B) {
	random := make([]byte, 1<<20)
	rand.New(rand.NewSource(1)).Read(random)
	for _, in := range []struct {
		name string
		src  []byte
	}{{"mask", causalMask(512, 640)}, {"indices", vIndices(512, 1024, 2048)}, {"random", random}} {
		b.Run("encode-"+in.name, func(b *testing.B) {
			b.SetBytes(int64(len(in.src)))
			var dst []byte
			for b.Loop() {
				dst, _ = EncodeRuns(dst[:0], in.src, len(in.src)/8)
			}
		})
		enc, ok := EncodeRuns(nil, in.src, len(in.src)/8)
		if !ok {
			continue
		}
		b.Run("decode-"+in.name, func(b *testing.B) {
			out := make([]byte, len(in.src))
			b.SetBytes(int64(len(in.src)))
			for b.Loop() {
				DecodeRuns(out, enc)
			}
		})
	}
}

func FuzzEncodeRuns(f *testing.F) {
	f.Add(vIndices(4, 8, 16))
	f.Add(causalMask(8, 8))
	f.Fuzz(func(t *testing.T, src []byte) {
		enc, ok := EncodeRuns(nil, src, 2*len(src)+64)
		if !ok {
			t.Fatal("not encoded under twice its size")
		}
		out := make([]byte, len(src))
		if err := DecodeRuns(out, enc); err != nil || !bytes.Equal(out, src) {
			t.Fatalf("round trip: %v", err)
		}
	})
}
