package main

import (
	"fmt"
	"io"
	"math"
	"strings"
)

// Config describes the random LLaMA model to write.
type Config struct {
	Name      string
	Type      ggmlType // type of the weight matrices: ggmlF16 or ggmlQ8_0
	Seed      uint64
	Layers    int
	Embd      int
	FF        int
	Heads     int
	HeadsKV   int
	Vocab     int
	Ctx       int
	Alignment int
}

// DefaultConfig is the model the flags describe when none is given.
func DefaultConfig() Config {
	return Config{
		Name: "vgpu-random-llama", Type: ggmlQ8_0, Seed: 1,
		Layers: 2, Embd: 64, FF: 128, Heads: 4, HeadsKV: 4, Vocab: 272, Ctx: 512,
		Alignment: defaultAlignment,
	}
}

const (
	rmsEps   = float32(1e-5)
	ropeBase = float32(10000)

	// GGUF file types (enum llama_ftype).
	ftypeMostlyF16  = 1
	ftypeMostlyQ8_0 = 7

	// Token types (enum llama_token_type).
	tokNormal  = 1
	tokUnknown = 2
	tokControl = 3
	tokByte    = 6

	tokUnk = 0
	tokBOS = 1
	tokEOS = 2

	nSpecial     = 3
	firstNormal  = nSpecial + 256  // <unk>, <s>, </s> and the 256 byte tokens come first
	minVocab     = firstNormal + 1 // and at least the piece "▁", which SPM text always starts with
	maxVocab     = 1 << 20
	weightStd    = 0.02
	sqrt3        = 1.7320508075688772 // uniform on [-a, a] has std a/sqrt(3)
	normJitter   = 0.05
	spmSpace     = "\u2581" // ▁, SentencePiece's word-boundary mark
	generalArch  = "llama"
	tokenizerSPM = "llama"
)

func (c Config) headDim() int { return c.Embd / c.Heads }
func (c Config) embdKV() int  { return c.headDim() * c.HeadsKV }

func (c Config) fileType() uint32 {
	if c.Type == ggmlQ8_0 {
		return ftypeMostlyQ8_0
	}
	return ftypeMostlyF16
}

func parseType(s string) (ggmlType, error) {
	switch strings.ToLower(s) {
	case "q8_0", "q8":
		return ggmlQ8_0, nil
	case "f16":
		return ggmlF16, nil
	}
	return 0, fmt.Errorf("unknown -type %q (want q8_0 or f16)", s)
}

// Validate reports a configuration llama.cpp could not load.
func (c Config) Validate() error {
	switch {
	case c.Type != ggmlQ8_0 && c.Type != ggmlF16:
		return fmt.Errorf("matrix type %v not supported (q8_0 or f16)", c.Type)
	case c.Layers < 1, c.Embd < 1, c.FF < 1, c.Heads < 1, c.HeadsKV < 1, c.Ctx < 1:
		return fmt.Errorf("layers, embd, ff, heads, heads-kv and ctx must all be positive")
	case c.Embd%c.Heads != 0:
		return fmt.Errorf("embd %d is not a multiple of heads %d", c.Embd, c.Heads)
	case c.headDim()%2 != 0:
		return fmt.Errorf("head size embd/heads = %d must be even for RoPE", c.headDim())
	case c.Heads%c.HeadsKV != 0:
		return fmt.Errorf("heads %d is not a multiple of heads-kv %d", c.Heads, c.HeadsKV)
	case c.Vocab < minVocab || c.Vocab > maxVocab:
		return fmt.Errorf("vocab %d out of range [%d, %d] (3 special tokens, 256 byte tokens and \"▁\" at least)", c.Vocab, minVocab, maxVocab)
	case c.Ctx > math.MaxUint32, c.Embd > math.MaxUint32/4, c.FF > math.MaxUint32/4:
		return fmt.Errorf("dimension too large")
	case c.Alignment < 8 || c.Alignment&(c.Alignment-1) != 0:
		return fmt.Errorf("alignment %d must be a power of two >= 8", c.Alignment)
	case len(c.Name) == 0:
		return fmt.Errorf("empty model name")
	}
	if c.Type == ggmlQ8_0 && (c.Embd%q8BlockSize != 0 || c.FF%q8BlockSize != 0) {
		return fmt.Errorf("q8_0 needs embd (%d) and ff (%d) to be multiples of %d", c.Embd, c.FF, q8BlockSize)
	}
	return nil
}

// basePieces are the normal (non-byte) pieces after the byte tokens, best score first. The
// SentencePiece merge loop only joins two symbols whose concatenation is a piece, so each word
// comes with its chain: ▁H+e → ▁He, l+l → ll, ll+o → llo, ▁He+llo → ▁Hello; with the default vocab
// (13 normal pieces) "Hello" is one token. Text without pieces falls back to byte tokens.
// Vocabularies longer than this list are filled with "▁w<N>" pieces.
var basePieces = []string{
	spmSpace, "▁H", "ll", "▁He", "llo", "▁Hello", "▁t", "he", "▁the", "▁w", "or", "ld", "▁wor",
	"▁world", "e", "t", "a", "o", "l", "▁a", "▁o", "▁of", "▁i", "▁in", "▁is", "▁it", "▁an", "▁and",
	"h", "i", "n", "s", "r", "d", "c", "u", "m", "w", "f", "g", "y", "p", "b", "v", "k",
	"H", "W", "T", "A", "I", ",", ".", "!", "?",
}

// VocabArrays returns the tokenizer arrays: tokens, scores and token types.
func (c Config) VocabArrays() (tokens []string, scores []float32, types []int32) {
	tokens = make([]string, 0, c.Vocab)
	scores = make([]float32, 0, c.Vocab)
	types = make([]int32, 0, c.Vocab)
	add := func(s string, score float32, typ int32) {
		tokens = append(tokens, s)
		scores = append(scores, score)
		types = append(types, typ)
	}
	add("<unk>", 0, tokUnknown)
	add("<s>", 0, tokControl)
	add("</s>", 0, tokControl)
	for b := 0; b < 256; b++ {
		add(fmt.Sprintf("<0x%02X>", b), 0, tokByte)
	}
	seen := make(map[string]bool, c.Vocab)
	for _, t := range tokens {
		seen[t] = true
	}
	// SentencePiece scores are log-probabilities: higher merges first.
	rank := 0
	next := func(s string) {
		if len(tokens) < c.Vocab && !seen[s] {
			seen[s] = true
			rank++
			add(s, -float32(rank), tokNormal)
		}
	}
	for _, p := range basePieces {
		next(p)
	}
	for i := 0; len(tokens) < c.Vocab; i++ {
		next(fmt.Sprintf("%sw%d", spmSpace, i))
	}
	return tokens, scores, types
}

// KVs returns the metadata in write order.
func (c Config) KVs() []KV {
	tokens, scores, types := c.VocabArrays()
	arch := func(k string) string { return generalArch + "." + k }
	return []KV{
		{"general.architecture", generalArch},
		{"general.name", c.Name},
		{keyGeneralAlign, uint32(c.Alignment)},
		{"general.file_type", c.fileType()},
		{"general.quantization_version", uint32(2)},
		{arch("vocab_size"), uint32(c.Vocab)},
		{arch("context_length"), uint32(c.Ctx)},
		{arch("embedding_length"), uint32(c.Embd)},
		{arch("block_count"), uint32(c.Layers)},
		{arch("feed_forward_length"), uint32(c.FF)},
		{arch("rope.dimension_count"), uint32(c.headDim())},
		{arch("attention.head_count"), uint32(c.Heads)},
		{arch("attention.head_count_kv"), uint32(c.HeadsKV)},
		{arch("attention.layer_norm_rms_epsilon"), rmsEps},
		{arch("rope.freq_base"), ropeBase},
		{"tokenizer.ggml.model", tokenizerSPM},
		{"tokenizer.ggml.tokens", tokens},
		{"tokenizer.ggml.scores", scores},
		{"tokenizer.ggml.token_type", types},
		{"tokenizer.ggml.bos_token_id", uint32(tokBOS)},
		{"tokenizer.ggml.eos_token_id", uint32(tokEOS)},
		{"tokenizer.ggml.unknown_token_id", uint32(tokUnk)},
		{"tokenizer.ggml.add_bos_token", true},
		{"tokenizer.ggml.add_eos_token", false},
		{"tokenizer.ggml.add_space_prefix", true},
	}
}

// tensorKind says how a tensor's values are drawn.
type tensorKind int

const (
	kindMatrix tensorKind = iota // uniform with std weightStd
	kindNorm                     // 1 ± normJitter
	kindOutput                   // like kindMatrix, but rows of special and byte tokens are zero
)

type tensorSpec struct {
	TensorInfo
	kind tensorKind
}

// Tensors returns the tensor list in file order, with offsets laid out, and the data size.
func (c Config) Tensors() ([]tensorSpec, int64) {
	e, v, ff, kv := uint64(c.Embd), uint64(c.Vocab), uint64(c.FF), uint64(c.embdKV())
	var specs []tensorSpec
	add := func(name string, kind tensorKind, dims ...uint64) {
		t := c.Type
		if kind == kindNorm {
			t = ggmlF32
		}
		specs = append(specs, tensorSpec{TensorInfo{Name: name, Dims: dims, Type: t}, kind})
	}
	add("token_embd.weight", kindMatrix, e, v)
	add("output_norm.weight", kindNorm, e)
	add("output.weight", kindOutput, e, v)
	for i := 0; i < c.Layers; i++ {
		p := fmt.Sprintf("blk.%d.", i)
		add(p+"attn_norm.weight", kindNorm, e)
		add(p+"attn_q.weight", kindMatrix, e, e)
		add(p+"attn_k.weight", kindMatrix, e, kv)
		add(p+"attn_v.weight", kindMatrix, e, kv)
		add(p+"attn_output.weight", kindMatrix, e, e)
		add(p+"ffn_norm.weight", kindNorm, e)
		add(p+"ffn_gate.weight", kindMatrix, e, ff)
		add(p+"ffn_up.weight", kindMatrix, e, ff)
		add(p+"ffn_down.weight", kindMatrix, ff, e)
	}
	infos := make([]TensorInfo, len(specs))
	for i := range specs {
		infos[i] = specs[i].TensorInfo
	}
	size := layoutTensors(infos, int64(c.Alignment))
	for i := range specs {
		specs[i].Offset = infos[i].Offset
	}
	return specs, size
}

// Write writes the model to w and returns the number of bytes written.
func Write(w io.Writer, c Config) (int64, error) {
	if err := c.Validate(); err != nil {
		return 0, err
	}
	specs, _ := c.Tensors()
	infos := make([]TensorInfo, len(specs))
	for i := range specs {
		infos[i] = specs[i].TensorInfo
	}
	return writeGGUF(w, c.KVs(), infos, int64(c.Alignment), func(i int, w io.Writer) error {
		return c.fillTensor(specs[i], w)
	})
}

// fillTensor draws the tensor's values row by row and writes them encoded.
func (c Config) fillTensor(s tensorSpec, w io.Writer) error {
	ne0 := int(s.Dims[0])
	rows := 1
	for _, d := range s.Dims[1:] {
		rows *= int(d)
	}
	r := newRNG(c.Seed, s.Name)
	row := make([]float32, ne0)
	var buf []byte
	for j := 0; j < rows; j++ {
		for k := range row {
			switch s.kind {
			case kindNorm:
				row[k] = 1 + normJitter*r.symmetric()
			default:
				row[k] = weightStd * sqrt3 * r.symmetric() // uniform, std weightStd
			}
		}
		if s.kind == kindOutput && j < firstNormal {
			// The rows of <unk>, <s>, </s> and the byte tokens are zero: their logits are then
			// exactly 0 while the normal pieces' are random, so greedy decoding emits a normal
			// piece at each step (never EOS or a raw byte), and llama-simple runs the full -n
			// and prints text.
			clear(row)
		}
		buf = encodeRow(buf[:0], s.Type, row)
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return nil
}

// rng is SplitMix64: tiny, fast, and stable across Go releases (unlike relying on math/rand's
// stream), so a seed always gives the same file.
type rng struct{ s uint64 }

// newRNG gives each tensor its own stream from the seed and the tensor name, so a tensor's
// values do not depend on the tensor order or on the other tensors' sizes.
func newRNG(seed uint64, name string) *rng {
	h := uint64(14695981039346656037) // FNV-1a
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= 1099511628211
	}
	r := &rng{s: seed*0x9e3779b97f4a7c15 ^ h}
	r.next()
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ z>>30) * 0xbf58476d1ce4e5b9
	z = (z ^ z>>27) * 0x94d049bb133111eb
	return z ^ z>>31
}

// symmetric returns a uniform value in [-1, 1).
func (r *rng) symmetric() float32 {
	return float32(r.next()>>40)/(1<<23) - 1
}
