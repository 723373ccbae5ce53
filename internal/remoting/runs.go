package remoting

import (
	"encoding/binary"
	"unsafe"
)

// Runs: an upload's bytes as runs of 8-byte words between literal words, for uploads that
// cross a network (TCP, vsock) where they are mostly runs. A run is words that repeat, or that
// grow by a constant step. llama.cpp's prompt inputs are both: its attention mask is rows of 0
// then -inf, and without FlashAttention the indices of a prompt's V-cache cells are, for each
// token, the token's cell plus multiples of the cache's size (the rows of a 4 MiB input for 512
// tokens of a model with 1024 values per token): each a few KiB as runs.
//
// The encoding of n bytes is segments, each: a uvarint count of literal words and those words,
// then a uvarint of the run's length in words times 2, plus 1 if the run has a step; if the
// length is not zero, the run's first word, and if it has a step the step (each 8 bytes,
// little-endian; word k of the run is first + k×step, modulo 2^64). The n%8 bytes past the last
// whole word follow the last segment as they are. DecodeRuns checks that the segments add up to
// exactly n bytes.

// runMin is the shortest run worth its segment (a count, a word or two, and the next count).
const runMin = 4

// EncodeRuns appends src's encoding to dst if it is at most limit bytes, else returns nil, false
// (having looked at no more of src than it took to pass limit).
func EncodeRuns(dst, src []byte, limit int) ([]byte, bool) {
	le := binary.LittleEndian
	words := len(src) / 8
	start := len(dst)
	lit, i := 0, 0 // the pending literals are words [lit, i)
	for i < words {
		// a run is at least runMin (4) words: three equal steps from word i
		if i+runMin > words {
			break // (the words left are literals)
		}
		v := le.Uint64(src[8*i:])
		w1, w2, w3 := le.Uint64(src[8*i+8:]), le.Uint64(src[8*i+16:]), le.Uint64(src[8*i+24:])
		step := w1 - v
		if w2-w1 != step || w3-w2 != step {
			i++
			if len(dst)-start+8*(i-lit) > limit {
				return nil, false
			}
			continue
		}
		var k int
		if step == 0 {
			k = runEnd(src, words, i+runMin, v)
		} else {
			k = stepEnd(src, words, i+runMin, w3+step, step)
		}
		dst = appendLiterals(dst, src[8*lit:8*i])
		if step == 0 {
			dst = le.AppendUint64(binary.AppendUvarint(dst, uint64(k-i)<<1), v)
		} else {
			dst = le.AppendUint64(le.AppendUint64(binary.AppendUvarint(dst, uint64(k-i)<<1|1), v), step)
		}
		if len(dst)-start > limit {
			return nil, false
		}
		lit, i = k, k
	}
	if lit < words {
		dst = binary.AppendUvarint(appendLiterals(dst, src[8*lit:8*words]), 0) // (no run)
	}
	dst = append(dst, src[8*words:]...)
	if len(dst)-start > limit {
		return nil, false
	}
	return dst, true
}

// appendLiterals appends a segment's literal words: their count, then them.
func appendLiterals(dst, words []byte) []byte {
	return append(binary.AppendUvarint(dst, uint64(len(words)/8)), words...)
}

// stepEnd returns the first word from k on that is not next, next+step, next+2×step, ….
func stepEnd(src []byte, words, k int, next, step uint64) int {
	for k < words && binary.LittleEndian.Uint64(src[8*k:]) == next {
		k, next = k+1, next+step
	}
	return k
}

// runEnd returns the first word from k on that is not v: 64 bytes at a time (memequal's vector
// compare), then word by word.
func runEnd(src []byte, words, k int, v uint64) int {
	var pat [64]byte
	for j := 0; j < 64; j += 8 {
		binary.LittleEndian.PutUint64(pat[j:], v)
	}
	for k+8 <= words && string(src[8*k:8*k+64]) == string(pat[:]) {
		k += 8
	}
	for k < words && binary.LittleEndian.Uint64(src[8*k:]) == v {
		k++
	}
	return k
}

// DecodeRuns decodes enc into out, which must be exactly the encoded bytes' length; it fails
// with a *ProtoError on any encoding that does not fill out exactly.
func DecodeRuns(out, enc []byte) error {
	le := binary.LittleEndian
	words := len(out) / 8
	at := 0 // words written
	for at < words {
		lit, k := binary.Uvarint(enc)
		if k <= 0 || lit > uint64(words-at) || uint64(len(enc)-k) < 8*lit {
			return protoErrorf("runs: bad literal count at word %d", at)
		}
		enc = enc[k:]
		at += copy(out[8*at:], enc[:8*lit]) / 8
		enc = enc[8*lit:]
		rk, k := binary.Uvarint(enc)
		run, stepped := rk>>1, rk&1 == 1
		if k <= 0 || run > uint64(words-at) || run == 0 && (lit == 0 || stepped) {
			return protoErrorf("runs: bad run count at word %d", at)
		}
		enc = enc[k:]
		if run == 0 {
			continue
		}
		need := 8
		if stepped {
			need = 16
		}
		if len(enc) < need {
			return protoErrorf("runs: the run at word %d has no word", at)
		}
		fill := out[8*at : 8*(at+int(run))]
		if stepped {
			fillSteps(fill, le.Uint64(enc), le.Uint64(enc[8:]))
		} else {
			// the word once, then copies of what is filled, doubling
			copy(fill, enc[:8])
			for f := 8; f < len(fill); f *= 2 {
				copy(fill[f:], fill[:f])
			}
		}
		enc, at = enc[need:], at+int(run)
	}
	if len(enc) != len(out)%8 {
		return protoErrorf("runs: %d bytes after the words, want %d", len(enc), len(out)%8)
	}
	copy(out[8*words:], enc)
	return nil
}

// fillSteps writes v, v+step, v+2×step, … as 8-byte little-endian words over b (a multiple of
// 8 bytes): through a []uint64 where b is aligned (on a little-endian machine), else word by word.
func fillSteps(b []byte, v, step uint64) {
	if littleEndian && uintptr(unsafe.Pointer(unsafe.SliceData(b)))%8 == 0 {
		for j, w := 0, unsafe.Slice((*uint64)(unsafe.Pointer(unsafe.SliceData(b))), len(b)/8); j < len(w); j++ {
			w[j] = v
			v += step
		}
		return
	}
	for j := 0; j < len(b); j += 8 {
		binary.LittleEndian.PutUint64(b[j:], v)
		v += step
	}
}

// littleEndian: this machine stores words as the encoding does.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1
