// Command vgpu-gguf writes a small LLaMA model with random weights as a GGUF v3 file that
// llama.cpp loads and runs, so vgpu can be exercised end to end with a real CUDA inference
// program without downloading any model.
//
// Usage:
//
//	go run ./cmd/vgpu-gguf -o model.gguf -type q8_0|f16 [-seed N] [-layers 2] [-embd 64] [-ff 128]
//	    [-heads 4] [-heads-kv 4] [-vocab 272] [-ctx 512] [-name NAME] [-align 32]
//	go run ./cmd/vgpu-gguf -verify model.gguf
//
// The model: general.architecture "llama" with the llama.* hyperparameters (RMS norm epsilon 1e-5,
// RoPE base 10000, rope.dimension_count = embd/heads), a SentencePiece-style vocabulary
// (tokenizer.ggml.model "llama": <unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF>, then normal
// pieces such as "▁the" and "▁Hello" up to -vocab, with scores and token types; BOS 1, EOS 2,
// UNK 0, add_bos_token true), and the tensors token_embd, output_norm, output and per layer
// attn_norm, attn_q/k/v/output, ffn_norm, ffn_gate/up/down. Norm weights are F32 near 1.0; the
// matrices are F16 or Q8_0 (-type), drawn uniformly with standard deviation 0.02 from a SplitMix64
// stream seeded by -seed and the tensor name, so a seed always gives byte-identical files. The rows
// of output.weight for the special and byte tokens are zero: their logits are exactly 0 while the
// normal pieces' are random, so greedy decoding emits readable pieces and never stops at EOS,
// which makes a run's length and output repeatable. Q8_0 needs -embd and -ff to be multiples of 32.
//
// With llama.cpp (greedy sampling is llama-simple's default; -ngl 99 offloads every layer to the
// GPU, which is where vgpu comes in when libcuda/libcudart are vgpu's):
//
//	go run ./cmd/vgpu-gguf -o /tmp/model.gguf -type q8_0
//	llama-simple -m /tmp/model.gguf -n 64 -ngl 99 "Hello"
//
// The same seed and prompt give the same text on every run, which makes the output of a run
// through vgpu comparable with a local run (up to floating-point differences between backends'
// kernels). Q8_0 and F16 files of the same seed hold nearly the same weights. The default head
// size is 16 (64/4), which llama.cpp's flash-attention kernels may not cover (it then falls back
// to plain attention); -embd 256 -heads 4 -ff 512 gives head size 64, which they do. The
// vocabulary needs at least 260 entries (3 special, 256 bytes and "▁").
//
// -verify parses a GGUF file back (tensors of type F32, F16 or Q8_0, as this tool writes them) and
// checks it the way llama.cpp reads it: header, key types, the data-section layout ggml insists on
// (each offset the previous end padded to general.alignment), tensor sizes inside the file, zero
// padding, the llama hyperparameters and vocabulary, the exact tensor set and shapes, and finite
// values.
package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

func main() {
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "vgpu-gguf:", err)
		os.Exit(1)
	}
}

func run(args []string, stdout io.Writer) error {
	def := DefaultConfig()
	fs := flag.NewFlagSet("vgpu-gguf", flag.ContinueOnError)
	out := fs.String("o", "", "output file (required unless -verify)")
	verify := fs.String("verify", "", "parse and check an existing GGUF file instead of writing one")
	typ := fs.String("type", "q8_0", "type of the weight matrices: q8_0 or f16")
	seed := fs.Uint64("seed", def.Seed, "random seed")
	layers := fs.Int("layers", def.Layers, "number of transformer blocks")
	embd := fs.Int("embd", def.Embd, "embedding length")
	ff := fs.Int("ff", def.FF, "feed-forward length")
	heads := fs.Int("heads", def.Heads, "attention heads")
	headsKV := fs.Int("heads-kv", def.HeadsKV, "key/value heads (grouped-query attention when fewer than -heads)")
	vocab := fs.Int("vocab", def.Vocab, "vocabulary size (at least 260: 3 special tokens, 256 byte tokens and \"▁\")")
	ctx := fs.Int("ctx", def.Ctx, "training context length (llama.context_length)")
	name := fs.String("name", def.Name, "general.name")
	align := fs.Int("align", def.Alignment, "general.alignment of the tensor data")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if fs.NArg() != 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if *verify != "" {
		return verifyFile(*verify, stdout)
	}
	if *out == "" {
		return errors.New("-o is required")
	}
	t, err := parseType(*typ)
	if err != nil {
		return err
	}
	c := Config{Name: *name, Type: t, Seed: *seed, Layers: *layers, Embd: *embd, FF: *ff,
		Heads: *heads, HeadsKV: *headsKV, Vocab: *vocab, Ctx: *ctx, Alignment: *align}
	if err := c.Validate(); err != nil {
		return err
	}
	n, err := writeFile(*out, c)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes, llama %d layers, embd %d, ff %d, heads %d/%d, vocab %d, %v, seed %d\n",
		*out, n, c.Layers, c.Embd, c.FF, c.Heads, c.HeadsKV, c.Vocab, c.Type, c.Seed)
	return nil
}

// writeFile writes the model next to path and renames it into place, so a failed run never
// leaves a truncated model behind.
func writeFile(path string, c Config) (int64, error) {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	n, err := Write(tmp, c)
	if err == nil {
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	return n, err
}

func verifyFile(path string, stdout io.Writer) error {
	f, err := ReadFile(path)
	if err != nil {
		return err
	}
	if err := f.Check(); err != nil {
		return err
	}
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	fmt.Fprintf(w, "%s: GGUF v%d, %d bytes, %d KVs, %d tensors, alignment %d, data at %d\n",
		path, f.Version, f.Size(), len(f.KVs), len(f.Tensors), f.Alignment, f.DataOffset)
	for _, kv := range f.KVs {
		fmt.Fprintf(w, "  %-42s %s\n", kv.Key, summarize(kv.Value))
	}
	for _, t := range f.Tensors {
		fmt.Fprintf(w, "  %-28s %-5v %-14s offset %10d size %10d\n", t.Name, t.Type, dimsString(t.Dims), t.Offset, t.Size())
	}
	c, err := f.CheckLlama()
	if err != nil {
		return err
	}
	if err := f.CheckFinite(); err != nil {
		return err
	}
	fmt.Fprintf(w, "ok: llama %d layers, embd %d, ff %d, heads %d/%d, vocab %d, %v\n",
		c.Layers, c.Embd, c.FF, c.Heads, c.HeadsKV, c.Vocab, c.Type)
	return nil
}

func dimsString(d []uint64) string {
	s := make([]string, len(d))
	for i, v := range d {
		s[i] = fmt.Sprint(v)
	}
	return "[" + strings.Join(s, ", ") + "]"
}

// summarize prints a value, abbreviating long arrays.
func summarize(v any) string {
	const show = 6
	head := func(n int, elem string, f func(i int) string) string {
		parts := make([]string, 0, show+1)
		for i := 0; i < n && i < show; i++ {
			parts = append(parts, f(i))
		}
		if n > show {
			parts = append(parts, "...")
		}
		return fmt.Sprintf("[%s x %d] %s", elem, n, strings.Join(parts, " "))
	}
	switch x := v.(type) {
	case string:
		return fmt.Sprintf("%q", x)
	case []string:
		return head(len(x), "string", func(i int) string { return fmt.Sprintf("%q", x[i]) })
	case []float32:
		return head(len(x), "float32", func(i int) string { return fmt.Sprint(x[i]) })
	case []int32:
		return head(len(x), "int32", func(i int) string { return fmt.Sprint(x[i]) })
	}
	return fmt.Sprintf("%v (%T)", v, v)
}
