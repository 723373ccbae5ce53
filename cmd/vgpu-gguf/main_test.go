package main

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func writeBytes(t *testing.T, c Config) []byte {
	t.Helper()
	var buf bytes.Buffer
	n, err := Write(&buf, c)
	if err != nil {
		t.Fatal(err)
	}
	if n != int64(buf.Len()) {
		t.Fatalf("Write reported %d bytes, wrote %d", n, buf.Len())
	}
	return buf.Bytes()
}

func configs() map[string]Config {
	q8 := DefaultConfig()
	f16 := DefaultConfig()
	f16.Type = ggmlF16
	gqa := DefaultConfig()
	gqa.HeadsKV, gqa.Layers, gqa.Seed, gqa.Vocab, gqa.Alignment = 2, 3, 99, 300, 64
	odd := DefaultConfig() // F16 allows row lengths that are not multiples of 32
	odd.Type, odd.Embd, odd.FF, odd.Heads, odd.HeadsKV, odd.Vocab = ggmlF16, 36, 50, 3, 1, minVocab
	return map[string]Config{"q8_0": q8, "f16": f16, "gqa-align64": gqa, "f16-odd": odd}
}

// Both types (and some other shapes) round-trip: every KV with its type, every tensor's info, and
// the values, within the precision of the storage type.
func TestRoundTrip(t *testing.T) {
	for name, c := range configs() {
		t.Run(name, func(t *testing.T) {
			raw := writeBytes(t, c)
			f, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			if err := f.Check(); err != nil {
				t.Fatal(err)
			}
			if f.Version != 3 || f.Alignment != int64(c.Alignment) || f.DataOffset%f.Alignment != 0 {
				t.Fatalf("version %d alignment %d data offset %d", f.Version, f.Alignment, f.DataOffset)
			}
			if !reflect.DeepEqual(f.KVs, c.KVs()) {
				t.Fatalf("KVs differ:\n got %v\nwant %v", f.KVs, c.KVs())
			}
			got, err := f.CheckLlama()
			if err != nil {
				t.Fatal(err)
			}
			want := c
			want.Seed = 0
			if got != want {
				t.Fatalf("config read back %+v, want %+v", got, want)
			}
			if err := f.CheckFinite(); err != nil {
				t.Fatal(err)
			}
			specs, _ := c.Tensors()
			if len(specs) != len(f.Tensors) || len(specs) != 3+9*c.Layers {
				t.Fatalf("%d tensors in file, %d specs", len(f.Tensors), len(specs))
			}
			for i, s := range specs {
				if !reflect.DeepEqual(f.Tensors[i], s.TensorInfo) {
					t.Fatalf("tensor %d: %+v, want %+v", i, f.Tensors[i], s.TensorInfo)
				}
				checkValues(t, c, f, s)
			}
		})
	}
}

// checkValues regenerates a tensor's float values and compares them with the decoded data.
func checkValues(t *testing.T, c Config, f *File, s tensorSpec) {
	t.Helper()
	var buf bytes.Buffer
	if err := c.fillTensor(TensorSpecAs(s, ggmlF32), &buf); err != nil {
		t.Fatal(err)
	}
	ref, _ := decodeTensor(ggmlF32, buf.Bytes())
	data, err := f.TensorData(s.TensorInfo)
	if err != nil {
		t.Fatal(err)
	}
	vals, err := decodeTensor(s.Type, data)
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != len(ref) {
		t.Fatalf("%s: %d values, want %d", s.Name, len(vals), len(ref))
	}
	var amax float64
	for i, r := range ref {
		if i%q8BlockSize == 0 { // Q8_0 bound is per block of 32 along the row
			amax = 0
			for _, v := range ref[i:min(i+q8BlockSize, len(ref))] {
				amax = math.Max(amax, math.Abs(float64(v)))
			}
		}
		var tol float64
		switch s.Type {
		case ggmlF32:
			tol = 0
		case ggmlF16:
			tol = math.Max(math.Abs(float64(r))/2048, 1.0/(1<<25))
		case ggmlQ8_0:
			tol = amax / 127
		}
		if d := math.Abs(float64(vals[i] - r)); d > tol {
			t.Fatalf("%s[%d] = %v, want %v ± %v", s.Name, i, vals[i], r, tol)
		}
		if s.kind == kindNorm && (r < 0.9 || r > 1.1) {
			t.Fatalf("%s[%d] = %v, want near 1", s.Name, i, r)
		}
		if s.kind == kindOutput && i/c.Embd >= firstNormal && i%c.Embd == 0 && !anyNonZero(ref[i:i+c.Embd]) {
			t.Fatalf("%s: row %d of a normal token is zero", s.Name, i/c.Embd)
		}
		if s.kind != kindNorm && math.Abs(float64(r)) > 0.035 {
			t.Fatalf("%s[%d] = %v, too large", s.Name, i, r)
		}
		if s.kind == kindOutput && i/c.Embd < firstNormal && vals[i] != 0 {
			t.Fatalf("%s: row %d of a special/byte token is not zero", s.Name, i/c.Embd)
		}
	}
}

func anyNonZero(x []float32) bool {
	for _, v := range x {
		if v != 0 {
			return true
		}
	}
	return false
}

// TensorSpecAs is the same tensor stored as another type (for regenerating reference values).
func TensorSpecAs(s tensorSpec, typ ggmlType) tensorSpec {
	s.Type = typ
	return s
}

// Q8_0 of a known vector: exact bytes for a block whose max is 127 (scale 1.0), and for random
// blocks at several scales every value decodes within max|x|/127 of the input.
func TestQ8_0(t *testing.T) {
	x := make([]float32, 32)
	wantQ := make([]int8, 32)
	for i := range x {
		x[i] = float32(i-16) * 7.9 // -126.4 .. 118.5
		wantQ[i] = int8(math.Round(float64(x[i])))
	}
	x[5], wantQ[5] = -127, -127
	x[6], wantQ[6] = 2.5, 3 // round half away from zero, as roundf
	x[7], wantQ[7] = -0.49, 0
	b := quantizeQ8_0(nil, x)
	if len(b) != 34 {
		t.Fatalf("%d bytes for one block", len(b))
	}
	if d := binary.LittleEndian.Uint16(b); d != 0x3c00 { // fp16 1.0
		t.Fatalf("scale %#04x, want 0x3c00", d)
	}
	for i, q := range b[2:] {
		if int8(q) != wantQ[i] {
			t.Fatalf("q[%d] = %d, want %d", i, int8(q), wantQ[i])
		}
	}

	r := newRNG(42, "q8")
	// Scales whose d = max/127 is a normal fp16 (>= 2^-14); below that the fp16 scale itself loses
	// precision (in ggml too). The model's weights (|w| up to 0.035) stay well above it.
	for _, scale := range []float32{0.01, 0.02, 1, 300} {
		x := make([]float32, 32*8)
		for i := range x {
			x[i] = scale * r.symmetric()
		}
		x[3] = -2 * scale // a negative block maximum
		for i := 64; i < 96; i++ {
			x[i] = 0 // an all-zero block has scale 0
		}
		got := dequantizeQ8_0(quantizeQ8_0(nil, x))
		if len(got) != len(x) {
			t.Fatalf("%d values back, want %d", len(got), len(x))
		}
		for blk := 0; blk < len(x); blk += 32 {
			var amax float32
			for _, v := range x[blk : blk+32] {
				amax = max(amax, float32(math.Abs(float64(v))))
			}
			for i := blk; i < blk+32; i++ {
				if d := math.Abs(float64(got[i] - x[i])); d > float64(amax)/127 {
					t.Fatalf("scale %v: x[%d] = %v decoded %v, error %v > max/127 = %v", scale, i, x[i], got[i], d, amax/127)
				}
			}
		}
	}
}

func TestF16(t *testing.T) {
	// Every finite half converts to float32 and back unchanged; NaNs stay NaN.
	for h := 0; h < 1<<16; h++ {
		f := f16ToF32(uint16(h))
		if uint16(h)&0x7c00 == 0x7c00 && uint16(h)&0x3ff != 0 {
			if !math.IsNaN(float64(f)) || f32ToF16(f)&0x7fff <= 0x7c00 {
				t.Fatalf("NaN %#04x", h)
			}
			continue
		}
		if back := f32ToF16(f); back != uint16(h) {
			t.Fatalf("%#04x -> %v -> %#04x", h, f, back)
		}
	}
	for _, c := range []struct {
		f float32
		h uint16
	}{
		{1, 0x3c00}, {-2, 0xc000}, {0.5, 0x3800}, {65504, 0x7bff}, {65520, 0x7c00}, // rounds to Inf
		{float32(math.Inf(-1)), 0xfc00}, {1.0 / (1 << 24), 0x0001}, {1.0 / (1 << 25), 0x0000}, // tie to even
		{3.0 / (1 << 25), 0x0002}, {1 + 1.0/(1<<11), 0x3c00}, {1 + 3.0/(1<<11), 0x3c02}, // ties to even
		{1 + 1.0/(1<<11) + 1.0/(1<<20), 0x3c01}, {6.1035156e-05, 0x0400}, {float32(math.Copysign(0, -1)), 0x8000},
	} {
		if got := f32ToF16(c.f); got != c.h {
			t.Errorf("f32ToF16(%v) = %#04x, want %#04x", c.f, got, c.h)
		}
	}
}

// The same configuration and seed give byte-identical files (also through the command line, as
// files on disk); another seed gives other weights but the same layout.
func TestDeterministic(t *testing.T) {
	for name, c := range configs() {
		a, b := writeBytes(t, c), writeBytes(t, c)
		if !bytes.Equal(a, b) {
			t.Fatalf("%s: two writes differ", name)
		}
		c.Seed++
		d := writeBytes(t, c)
		if bytes.Equal(a, d) || len(a) != len(d) {
			t.Fatalf("%s: seed change: equal=%v, sizes %d/%d", name, bytes.Equal(a, d), len(a), len(d))
		}
	}
	dir := t.TempDir()
	var files [2][]byte
	for i := range files {
		p := filepath.Join(dir, fmt.Sprintf("m%d.gguf", i))
		var out strings.Builder
		if err := run([]string{"-o", p, "-type", "f16", "-seed", "5", "-layers", "1"}, &out); err != nil {
			t.Fatal(err)
		}
		var err error
		if files[i], err = os.ReadFile(p); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(out.String(), fmt.Sprintf("%d bytes", len(files[i]))) {
			t.Fatalf("output %q does not give the size %d", out.String(), len(files[i]))
		}
	}
	if !bytes.Equal(files[0], files[1]) {
		t.Fatal("two runs with the same seed wrote different files")
	}
}

// Sizes computed here from the format's rules alone, not from the writer's code.
func TestSizes(t *testing.T) {
	for name, c := range configs() {
		t.Run(name, func(t *testing.T) {
			raw := writeBytes(t, c)
			f, err := Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			// Header: magic, version, two counts; then each KV; then each tensor info.
			hdr := 4 + 4 + 8 + 8
			for _, kv := range c.KVs() {
				hdr += 8 + len(kv.Key) + 4 + valueBytes(kv.Value)
			}
			nd := map[bool]int{true: 1, false: 2} // norms are 1-D, the rest 2-D
			var data, off int64
			a := int64(c.Alignment)
			for _, ti := range f.Tensors {
				hdr += 8 + len(ti.Name) + 4 + 8*nd[strings.Contains(ti.Name, "norm")] + 4 + 8
				var want int64
				e := int64(ti.Dims[0])
				rows := int64(1)
				if len(ti.Dims) == 2 {
					rows = int64(ti.Dims[1])
				}
				switch {
				case strings.Contains(ti.Name, "norm"):
					want = 4 * e
				case c.Type == ggmlF16:
					want = 2 * e * rows
				default:
					want = e / 32 * 34 * rows
				}
				if ti.Size() != want {
					t.Fatalf("%s: size %d, want %d", ti.Name, ti.Size(), want)
				}
				if int64(ti.Offset) != off || off%a != 0 {
					t.Fatalf("%s: offset %d, want %d", ti.Name, ti.Offset, off)
				}
				off += (want + a - 1) / a * a
				data += want
			}
			dataStart := (int64(hdr) + a - 1) / a * a
			if f.DataOffset != dataStart || int64(len(raw)) != dataStart+off {
				t.Fatalf("data at %d (want %d), file %d bytes (want %d)", f.DataOffset, dataStart, len(raw), dataStart+off)
			}
			if _, size := c.Tensors(); size != off {
				t.Fatalf("Tensors() data size %d, want %d", size, off)
			}
			t.Logf("%s: %d bytes: header %d, tensor data %d", name, len(raw), hdr, data)
		})
	}
	// Default Q8_0 model, worked out by hand: 21 tensors, 18496-byte embedding and output.
	specs, size := DefaultConfig().Tensors()
	if len(specs) != 21 || specs[0].Size() != 272*2*34 || size != 125312 {
		t.Fatalf("default model: %d tensors, embedding %d bytes, data %d bytes", len(specs), specs[0].Size(), size)
	}
}

func valueBytes(v any) int {
	switch x := v.(type) {
	case string:
		return 8 + len(x)
	case bool:
		return 1
	case uint32, float32:
		return 4
	case []string:
		n := 4 + 8
		for _, s := range x {
			n += 8 + len(s)
		}
		return n
	case []float32:
		return 4 + 8 + 4*len(x)
	case []int32:
		return 4 + 8 + 4*len(x)
	}
	panic(fmt.Sprintf("valueBytes: %T", v))
}

func TestVocab(t *testing.T) {
	for _, n := range []int{minVocab, 272, 5000} {
		c := DefaultConfig()
		c.Vocab = n
		tokens, scores, types := c.VocabArrays()
		if len(tokens) != n || len(scores) != n || len(types) != n {
			t.Fatalf("vocab %d: %d/%d/%d", n, len(tokens), len(scores), len(types))
		}
		if tokens[0] != "<unk>" || tokens[1] != "<s>" || tokens[2] != "</s>" ||
			types[0] != tokUnknown || types[1] != tokControl || types[2] != tokControl {
			t.Fatalf("special tokens %q %v", tokens[:3], types[:3])
		}
		seen := map[string]bool{}
		for i, tok := range tokens {
			if seen[tok] || tok == "" {
				t.Fatalf("token %d %q empty or repeated", i, tok)
			}
			seen[tok] = true
			isByte := i >= 3 && i < firstNormal
			if isByte != (types[i] == tokByte) || (isByte && tok != fmt.Sprintf("<0x%02X>", i-3)) {
				t.Fatalf("token %d %q type %d", i, tok, types[i])
			}
			if i >= firstNormal && (types[i] != tokNormal || scores[i] >= 0) {
				t.Fatalf("token %d %q type %d score %v", i, tok, types[i], scores[i])
			}
			if i > firstNormal && scores[i] >= scores[i-1] {
				t.Fatalf("scores not decreasing at %d", i)
			}
		}
		if tokens[firstNormal] != "▁" {
			t.Fatalf("first normal piece %q", tokens[firstNormal])
		}
		if n >= 272 && !seen["▁Hello"] {
			t.Fatal("default vocab lacks ▁Hello")
		}
	}
}

func TestValidate(t *testing.T) {
	bad := map[string]func(*Config){
		"q8_0 embd":    func(c *Config) { c.Embd, c.Heads, c.HeadsKV = 48, 4, 4 },
		"q8_0 ff":      func(c *Config) { c.FF = 100 },
		"heads":        func(c *Config) { c.Heads = 3 },
		"heads-kv":     func(c *Config) { c.HeadsKV = 3 },
		"odd head":     func(c *Config) { c.Type, c.Embd, c.Heads, c.HeadsKV = ggmlF16, 60, 4, 4 },
		"small vocab":  func(c *Config) { c.Vocab = 259 },
		"align":        func(c *Config) { c.Alignment = 48 },
		"zero layers":  func(c *Config) { c.Layers = 0 },
		"matrix type":  func(c *Config) { c.Type = ggmlF32 },
		"empty name":   func(c *Config) { c.Name = "" },
		"zero context": func(c *Config) { c.Ctx = 0 },
	}
	for name, mod := range bad {
		c := DefaultConfig()
		mod(&c)
		if err := c.Validate(); err == nil {
			t.Errorf("%s: accepted %+v", name, c)
		}
		if _, err := Write(&bytes.Buffer{}, c); err == nil {
			t.Errorf("%s: Write accepted it", name)
		}
	}
	if err := run([]string{"-o", filepath.Join(t.TempDir(), "x.gguf"), "-type", "q4_0"}, &strings.Builder{}); err == nil {
		t.Error("-type q4_0 accepted")
	}
	if err := run([]string{"-type", "f16"}, &strings.Builder{}); err == nil {
		t.Error("missing -o accepted")
	}
}

// The reader rejects what ggml would reject.
func TestParseRejects(t *testing.T) {
	good := writeBytes(t, DefaultConfig())
	f, err := Parse(good)
	if err != nil {
		t.Fatal(err)
	}
	// The offset field of the second tensor info follows its name, n_dims (4), one dim (8), type (4).
	secondOff := bytes.Index(good, []byte("output_norm.weight")) + len("output_norm.weight") + 4 + 8 + 4
	if binary.LittleEndian.Uint64(good[secondOff:]) != f.Tensors[1].Offset {
		t.Fatal("test could not locate the offset field")
	}
	mutate := func(fn func(b []byte) []byte) []byte {
		return fn(bytes.Clone(good))
	}
	cases := map[string][]byte{
		"magic":     mutate(func(b []byte) []byte { b[0] = 'X'; return b }),
		"version":   mutate(func(b []byte) []byte { b[4] = 4; return b }),
		"header":    good[:20],
		"infos cut": good[:int(f.headerEnd)-10],
	}
	for name, b := range cases {
		if _, err := Parse(b); err == nil {
			t.Errorf("%s: Parse accepted it", name)
		}
	}
	check := map[string][]byte{
		"misaligned offset": mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[secondOff:], f.Tensors[1].Offset+4)
			return b
		}),
		"gap before tensor": mutate(func(b []byte) []byte {
			binary.LittleEndian.PutUint64(b[secondOff:], f.Tensors[1].Offset+32)
			return b
		}),
		"data cut short": good[:len(good)-100],
		"data cut half":  good[:len(good)/2],
		"trailing bytes": append(bytes.Clone(good), 0, 0, 0, 0),
	}
	if f.headerEnd < f.DataOffset {
		check["dirty header padding"] = mutate(func(b []byte) []byte { b[f.DataOffset-1] = 1; return b })
	} else {
		t.Log("default header needs no padding")
	}
	odd := configs()["f16-odd"]
	oddRaw := writeBytes(t, odd)
	of, err := Parse(oddRaw)
	if err != nil {
		t.Fatal(err)
	}
	norm, _ := of.Tensor("output_norm.weight") // 36 F32 = 144 bytes, padded to 160
	end := of.DataOffset + int64(norm.Offset) + norm.Size()
	if norm.Size()%32 == 0 || !allZero(oddRaw[end:end+8]) {
		t.Fatal("expected padding after output_norm.weight")
	}
	dirty := bytes.Clone(oddRaw)
	dirty[end] = 0xff
	check["dirty tensor padding"] = dirty
	for name, b := range check {
		p, err := Parse(b)
		if err == nil {
			err = p.Check()
		}
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// -verify reads a written file back and reports it as a loadable llama model.
func TestVerifyCommand(t *testing.T) {
	p := filepath.Join(t.TempDir(), "m.gguf")
	if err := run([]string{"-o", p, "-type", "q8_0", "-heads-kv", "2"}, &strings.Builder{}); err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	if err := run([]string{"-verify", p}, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"GGUF v3", "tokenizer.ggml.model", "blk.1.ffn_down.weight", "ok: llama 2 layers, embd 64, ff 128, heads 4/2, vocab 272, Q8_0"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("verify output lacks %q:\n%s", want, out.String())
		}
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o644 {
		t.Errorf("mode %v", fi.Mode())
	}
}
