package main

import (
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"slices"
)

// File is a parsed GGUF file. The reader is independent of the writer's layout code: it follows
// the format as ggml's gguf.cpp reads it, so a file it accepts (Check) is one ggml accepts.
type File struct {
	Version    uint32
	KVs        []KV
	Tensors    []TensorInfo
	Alignment  int64
	DataOffset int64 // file offset of the data section (aligned)
	headerEnd  int64 // end of the tensor infos, before the padding up to DataOffset
	raw        []byte
}

// ReadFile parses the GGUF file at path.
func ReadFile(path string) (*File, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// decoder reads little-endian primitives from a byte slice with bounds checks.
type decoder struct {
	b   []byte
	off int64
}

func (d *decoder) take(n int64) ([]byte, error) {
	if n < 0 || n > int64(len(d.b))-d.off {
		return nil, fmt.Errorf("at offset %d: %w (need %d bytes)", d.off, errShort, n)
	}
	s := d.b[d.off : d.off+n]
	d.off += n
	return s, nil
}

func (d *decoder) u32() (uint32, error) {
	b, err := d.take(4)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint32(b), nil
}

func (d *decoder) u64() (uint64, error) {
	b, err := d.take(8)
	if err != nil {
		return 0, err
	}
	return binary.LittleEndian.Uint64(b), nil
}

func (d *decoder) str() (string, error) {
	n, err := d.u64()
	if err != nil {
		return "", err
	}
	if n > uint64(len(d.b)) {
		return "", fmt.Errorf("at offset %d: string length %d exceeds the file", d.off-8, n)
	}
	b, err := d.take(int64(n))
	return string(b), err
}

var scalarSize = map[valueType]int64{
	typeUint8: 1, typeInt8: 1, typeUint16: 2, typeInt16: 2, typeUint32: 4, typeInt32: 4,
	typeFloat32: 4, typeBool: 1, typeUint64: 8, typeInt64: 8, typeFloat64: 8,
}

// scalar reads one value of type t (not an array).
func (d *decoder) scalar(t valueType) (any, error) {
	if t == typeString {
		return d.str()
	}
	n, ok := scalarSize[t]
	if !ok {
		return nil, fmt.Errorf("invalid value type %v", t)
	}
	b, err := d.take(n)
	if err != nil {
		return nil, err
	}
	le := binary.LittleEndian
	switch t {
	case typeUint8:
		return b[0], nil
	case typeInt8:
		return int8(b[0]), nil
	case typeUint16:
		return le.Uint16(b), nil
	case typeInt16:
		return int16(le.Uint16(b)), nil
	case typeUint32:
		return le.Uint32(b), nil
	case typeInt32:
		return int32(le.Uint32(b)), nil
	case typeFloat32:
		return math.Float32frombits(le.Uint32(b)), nil
	case typeBool:
		if b[0] > 1 {
			return nil, fmt.Errorf("at offset %d: bool byte %d", d.off-1, b[0])
		}
		return b[0] == 1, nil
	case typeUint64:
		return le.Uint64(b), nil
	case typeInt64:
		return int64(le.Uint64(b)), nil
	default: // typeFloat64
		return math.Float64frombits(le.Uint64(b)), nil
	}
}

func readArray[T any](d *decoder, t valueType, n int) ([]T, error) {
	out := make([]T, n)
	for i := range out {
		v, err := d.scalar(t)
		if err != nil {
			return nil, err
		}
		out[i] = v.(T)
	}
	return out, nil
}

func (d *decoder) array() (any, error) {
	et, err := d.u32()
	if err != nil {
		return nil, err
	}
	n64, err := d.u64()
	if err != nil {
		return nil, err
	}
	// Every element takes at least one byte: reject counts the file cannot hold before allocating.
	if n64 > uint64(int64(len(d.b))-d.off) {
		return nil, fmt.Errorf("at offset %d: array of %d elements exceeds the file", d.off-8, n64)
	}
	n := int(n64)
	switch valueType(et) {
	case typeUint8:
		return readArray[uint8](d, typeUint8, n)
	case typeInt8:
		return readArray[int8](d, typeInt8, n)
	case typeUint16:
		return readArray[uint16](d, typeUint16, n)
	case typeInt16:
		return readArray[int16](d, typeInt16, n)
	case typeUint32:
		return readArray[uint32](d, typeUint32, n)
	case typeInt32:
		return readArray[int32](d, typeInt32, n)
	case typeFloat32:
		return readArray[float32](d, typeFloat32, n)
	case typeBool:
		return readArray[bool](d, typeBool, n)
	case typeString:
		return readArray[string](d, typeString, n)
	case typeUint64:
		return readArray[uint64](d, typeUint64, n)
	case typeInt64:
		return readArray[int64](d, typeInt64, n)
	case typeFloat64:
		return readArray[float64](d, typeFloat64, n)
	}
	return nil, fmt.Errorf("array of unsupported element type %v", valueType(et))
}

// Parse parses a whole GGUF file held in memory and applies the checks ggml's loader makes while
// reading (magic, version, unique keys and names, alignment, dims, types, block multiples).
func Parse(b []byte) (*File, error) {
	d := &decoder{b: b}
	magic, err := d.take(4)
	if err != nil {
		return nil, err
	}
	if string(magic) != ggufMagic {
		return nil, fmt.Errorf("bad magic %q", magic)
	}
	f := &File{raw: b, Alignment: defaultAlignment}
	if f.Version, err = d.u32(); err != nil {
		return nil, err
	}
	if f.Version < 2 || f.Version > ggufVersion {
		return nil, fmt.Errorf("unsupported GGUF version %d", f.Version)
	}
	nTensors, err := d.u64()
	if err != nil {
		return nil, err
	}
	nKV, err := d.u64()
	if err != nil {
		return nil, err
	}
	if nTensors > uint64(len(b)) || nKV > uint64(len(b)) {
		return nil, fmt.Errorf("implausible counts: %d tensors, %d KVs", nTensors, nKV)
	}
	keys := map[string]bool{}
	for i := uint64(0); i < nKV; i++ {
		key, err := d.str()
		if err != nil {
			return nil, fmt.Errorf("kv %d: %w", i, err)
		}
		if keys[key] {
			return nil, fmt.Errorf("duplicate key %q", key)
		}
		keys[key] = true
		t, err := d.u32()
		if err != nil {
			return nil, fmt.Errorf("kv %q: %w", key, err)
		}
		var v any
		if valueType(t) == typeArray {
			v, err = d.array()
		} else {
			v, err = d.scalar(valueType(t))
		}
		if err != nil {
			return nil, fmt.Errorf("kv %q: %w", key, err)
		}
		f.KVs = append(f.KVs, KV{key, v})
	}
	if v, ok := f.Get(keyGeneralAlign); ok {
		a, ok := v.(uint32)
		if !ok {
			return nil, fmt.Errorf("%s has type %T, want uint32", keyGeneralAlign, v)
		}
		if a == 0 || a&(a-1) != 0 {
			return nil, fmt.Errorf("%s = %d is not a power of two", keyGeneralAlign, a)
		}
		f.Alignment = int64(a)
	}
	names := map[string]bool{}
	for i := uint64(0); i < nTensors; i++ {
		var ti TensorInfo
		if ti.Name, err = d.str(); err != nil {
			return nil, fmt.Errorf("tensor %d: %w", i, err)
		}
		if len(ti.Name) > maxTensorNameBytes {
			return nil, fmt.Errorf("tensor name %q too long", ti.Name)
		}
		if names[ti.Name] {
			return nil, fmt.Errorf("duplicate tensor name %q", ti.Name)
		}
		names[ti.Name] = true
		nd, err := d.u32()
		if err != nil {
			return nil, err
		}
		if nd > maxDims {
			return nil, fmt.Errorf("tensor %q: %d dims", ti.Name, nd)
		}
		elems := uint64(1)
		for j := uint32(0); j < nd; j++ {
			n, err := d.u64()
			if err != nil {
				return nil, err
			}
			if n > math.MaxInt64 || (n != 0 && elems > math.MaxInt64/n) {
				return nil, fmt.Errorf("tensor %q: dimension %d too large", ti.Name, n)
			}
			elems *= n
			ti.Dims = append(ti.Dims, n)
		}
		t, err := d.u32()
		if err != nil {
			return nil, err
		}
		ti.Type = ggmlType(t)
		if !ti.Type.known() {
			return nil, fmt.Errorf("tensor %q: type %v not handled by this reader", ti.Name, ti.Type)
		}
		if len(ti.Dims) > 0 && int64(ti.Dims[0])%ti.Type.blockSize() != 0 {
			return nil, fmt.Errorf("tensor %q: row length %d not a multiple of %v block size %d",
				ti.Name, ti.Dims[0], ti.Type, ti.Type.blockSize())
		}
		if ti.Offset, err = d.u64(); err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, ti)
	}
	f.headerEnd = d.off
	f.DataOffset = alignUp(d.off, f.Alignment)
	if f.DataOffset > int64(len(b)) {
		return nil, fmt.Errorf("data section at %d is past the end of the file (%d bytes)", f.DataOffset, len(b))
	}
	if !allZero(b[d.off:f.DataOffset]) {
		return nil, fmt.Errorf("non-zero padding before the data section")
	}
	return f, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// Size is the size of the file in bytes.
func (f *File) Size() int64 { return int64(len(f.raw)) }

// Get returns the value of a key.
func (f *File) Get(key string) (any, bool) {
	for _, kv := range f.KVs {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return nil, false
}

// Tensor returns a tensor's info by name.
func (f *File) Tensor(name string) (TensorInfo, bool) {
	for _, t := range f.Tensors {
		if t.Name == name {
			return t, true
		}
	}
	return TensorInfo{}, false
}

// TensorData returns the bytes of a tensor (without padding).
func (f *File) TensorData(ti TensorInfo) ([]byte, error) {
	start := f.DataOffset + int64(ti.Offset)
	end := start + ti.Size()
	if int64(ti.Offset) < 0 || end > int64(len(f.raw)) || end < start {
		return nil, fmt.Errorf("tensor %q: data [%d, %d) outside the file (%d bytes)", ti.Name, start, end, len(f.raw))
	}
	return f.raw[start:end], nil
}

// Check verifies the data section: every tensor's offset is aligned and exactly where ggml's
// gguf.cpp expects it (previous end padded to the alignment, in info order, which it enforces),
// every tensor's bytes lie inside the file, all padding is zero, and nothing follows the data.
func (f *File) Check() error {
	var want int64
	for _, ti := range f.Tensors {
		if int64(ti.Offset)%f.Alignment != 0 {
			return fmt.Errorf("tensor %q: offset %d not aligned to %d", ti.Name, ti.Offset, f.Alignment)
		}
		if int64(ti.Offset) != want {
			return fmt.Errorf("tensor %q: offset %d, ggml expects %d", ti.Name, ti.Offset, want)
		}
		if _, err := f.TensorData(ti); err != nil {
			return err
		}
		end := f.DataOffset + want + ti.Size()
		want = alignUp(want+ti.Size(), f.Alignment)
		padEnd := min(f.DataOffset+want, int64(len(f.raw)))
		if !allZero(f.raw[end:padEnd]) {
			return fmt.Errorf("tensor %q: non-zero padding after its data", ti.Name)
		}
	}
	if len(f.Tensors) > 0 {
		last := f.Tensors[len(f.Tensors)-1]
		unpadded := f.DataOffset + int64(last.Offset) + last.Size()
		if n := int64(len(f.raw)); n != unpadded && n != f.DataOffset+want {
			return fmt.Errorf("file is %d bytes, data ends at %d (%d padded)", n, unpadded, f.DataOffset+want)
		}
	}
	return nil
}

// getTyped fetches a key and checks its GGUF type the way llama.cpp's loader does (a key of the
// wrong type is an error there, not a conversion).
func getTyped[T any](f *File, key string, required bool) (T, bool, error) {
	var zero T
	v, ok := f.Get(key)
	if !ok {
		if required {
			return zero, false, fmt.Errorf("missing key %q", key)
		}
		return zero, false, nil
	}
	t, ok := v.(T)
	if !ok {
		return zero, false, fmt.Errorf("key %q has type %T, want %T", key, v, zero)
	}
	return t, true, nil
}

// CheckLlama verifies that the file is a LLaMA model as llama.cpp loads it: the hyperparameter
// keys with their types, an SPM ("llama") vocabulary with scores, token types and all 256 byte
// tokens, and exactly the tensors the llama architecture creates, with the shapes it expects.
// It returns the configuration read from the file (Seed is not recorded in the file and is 0).
func (f *File) CheckLlama() (Config, error) {
	var c Config
	var err error
	fail := func(e error) (Config, error) { return Config{}, e }
	if arch, _, err := getTyped[string](f, "general.architecture", true); err != nil {
		return fail(err)
	} else if arch != generalArch {
		return fail(fmt.Errorf("general.architecture = %q, want %q", arch, generalArch))
	}
	c.Name, _, err = getTyped[string](f, "general.name", false)
	if err != nil {
		return fail(err)
	}
	u := func(key string, required bool) (int, bool) {
		if err != nil {
			return 0, false
		}
		var v uint32
		var ok bool
		v, ok, err = getTyped[uint32](f, key, required)
		return int(v), ok
	}
	c.Ctx, _ = u("llama.context_length", true)
	c.Embd, _ = u("llama.embedding_length", true)
	c.Layers, _ = u("llama.block_count", true)
	c.FF, _ = u("llama.feed_forward_length", true)
	c.Heads, _ = u("llama.attention.head_count", true)
	var hasKV bool
	c.HeadsKV, hasKV = u("llama.attention.head_count_kv", false)
	rot, hasRot := u("llama.rope.dimension_count", false)
	vocabSize, hasVS := u("llama.vocab_size", false)
	ftype, hasFT := u("general.file_type", false)
	if err != nil {
		return fail(err)
	}
	if !hasKV {
		c.HeadsKV = c.Heads
	}
	if c.Heads == 0 || c.HeadsKV == 0 {
		return fail(fmt.Errorf("zero head count"))
	}
	if hasRot && rot != c.Embd/c.Heads {
		return fail(fmt.Errorf("llama.rope.dimension_count = %d, want embd/heads = %d", rot, c.Embd/c.Heads))
	}
	if _, _, err := getTyped[float32](f, "llama.attention.layer_norm_rms_epsilon", true); err != nil {
		return fail(err)
	}
	if _, _, err := getTyped[float32](f, "llama.rope.freq_base", false); err != nil {
		return fail(err)
	}

	// Vocabulary.
	if m, _, err := getTyped[string](f, "tokenizer.ggml.model", true); err != nil {
		return fail(err)
	} else if m != tokenizerSPM {
		return fail(fmt.Errorf("tokenizer.ggml.model = %q, want %q", m, tokenizerSPM))
	}
	tokens, _, err := getTyped[[]string](f, "tokenizer.ggml.tokens", true)
	if err != nil {
		return fail(err)
	}
	// llama.cpp reads scores and token types as raw float/int arrays of n_vocab elements.
	scores, _, err := getTyped[[]float32](f, "tokenizer.ggml.scores", true)
	if err != nil {
		return fail(err)
	}
	types, _, err := getTyped[[]int32](f, "tokenizer.ggml.token_type", true)
	if err != nil {
		return fail(err)
	}
	c.Vocab = len(tokens)
	if len(scores) != c.Vocab || len(types) != c.Vocab {
		return fail(fmt.Errorf("vocab: %d tokens, %d scores, %d token types", c.Vocab, len(scores), len(types)))
	}
	if hasVS && vocabSize != c.Vocab {
		return fail(fmt.Errorf("llama.vocab_size = %d but %d tokens", vocabSize, c.Vocab))
	}
	index := make(map[string]int, c.Vocab)
	for i, t := range tokens {
		if t == "" {
			return fail(fmt.Errorf("token %d is empty", i))
		}
		if j, dup := index[t]; dup {
			return fail(fmt.Errorf("token %q at %d and %d", t, j, i))
		}
		index[t] = i
	}
	for b := 0; b < 256; b++ {
		s := fmt.Sprintf("<0x%02X>", b)
		i, ok := index[s]
		if !ok {
			return fail(fmt.Errorf("byte token %s missing (SPM byte fallback needs all 256)", s))
		}
		if types[i] != tokByte {
			return fail(fmt.Errorf("byte token %s has type %d, want %d", s, types[i], tokByte))
		}
	}
	for _, k := range []string{"bos", "eos", "unknown"} {
		id, ok, err := getTyped[uint32](f, "tokenizer.ggml."+k+"_token_id", false)
		if err != nil {
			return fail(err)
		}
		if ok && int(id) >= c.Vocab {
			return fail(fmt.Errorf("%s token id %d >= vocab %d", k, id, c.Vocab))
		}
	}
	for _, k := range []string{"add_bos_token", "add_eos_token", "add_space_prefix"} {
		if _, _, err := getTyped[bool](f, "tokenizer.ggml."+k, false); err != nil {
			return fail(err)
		}
	}

	// Tensors: the matrix type is token_embd's; file_type must agree.
	emb, ok := f.Tensor("token_embd.weight")
	if !ok {
		return fail(fmt.Errorf("missing tensor token_embd.weight"))
	}
	c.Type = emb.Type
	c.Alignment = int(f.Alignment)
	if c.Name == "" {
		c.Name = "unnamed"
	}
	if err := c.Validate(); err != nil {
		return fail(err)
	}
	if hasFT && uint32(ftype) != c.fileType() {
		return fail(fmt.Errorf("general.file_type = %d but matrices are %v", ftype, c.Type))
	}
	want, _ := c.Tensors()
	if len(want) != len(f.Tensors) {
		return fail(fmt.Errorf("%d tensors, llama with %d layers has %d", len(f.Tensors), c.Layers, len(want)))
	}
	for _, w := range want {
		got, ok := f.Tensor(w.Name)
		if !ok {
			return fail(fmt.Errorf("missing tensor %q", w.Name))
		}
		if got.Type != w.Type || !slices.Equal(got.Dims, w.Dims) {
			return fail(fmt.Errorf("tensor %q is %v %v, want %v %v", w.Name, got.Type, got.Dims, w.Type, w.Dims))
		}
	}
	return c, nil
}

// CheckFinite decodes every tensor and reports the first NaN or Inf.
func (f *File) CheckFinite() error {
	for _, ti := range f.Tensors {
		b, err := f.TensorData(ti)
		if err != nil {
			return err
		}
		vals, err := decodeTensor(ti.Type, b)
		if err != nil {
			return err
		}
		for i, v := range vals {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return fmt.Errorf("tensor %q: element %d is %v", ti.Name, i, v)
			}
		}
	}
	return nil
}
