package remoting

import "encoding/binary"

// Runs: an upload's bytes as runs of a repeated 8-byte word between literal words, for uploads
// that cross a network (TCP, vsock) where they are mostly repeats. llama.cpp's attention mask,
// most of a prompt's 2.6 MB of inputs, is rows of 0 then -inf: a few KiB as runs.
//
// The encoding of n bytes is segments, each: a uvarint count of literal words and those words,
// then a uvarint count of run words and, if that count is not zero, the run's word (8 bytes,
// little-endian). The n%8 bytes past the last whole word follow the last segment as they are.
// DecodeRuns checks that the segments add up to exactly n bytes.

// runMin is the shortest run worth its segment (a count, a word and the next count).
const runMin = 4

// EncodeRuns appends src's encoding to dst if it is at most limit bytes, else returns nil, false
// (having looked at no more of src than it took to pass limit).
func EncodeRuns(dst, src []byte, limit int) ([]byte, bool) {
	le := binary.LittleEndian
	words := len(src) / 8
	start := len(dst)
	lit, i := 0, 0 // the pending literals are words [lit, i)
	for i < words {
		v := le.Uint64(src[8*i:])
		k := i + 1
		if k < words && le.Uint64(src[8*k:]) == v {
			k = runEnd(src, words, k, v)
		}
		if k-i < runMin {
			i = k
			if len(dst)-start+8*(i-lit) > limit {
				return nil, false
			}
			continue
		}
		dst = binary.AppendUvarint(dst, uint64(i-lit))
		dst = append(dst, src[8*lit:8*i]...)
		dst = binary.AppendUvarint(dst, uint64(k-i))
		dst = le.AppendUint64(dst, v)
		if len(dst)-start > limit {
			return nil, false
		}
		lit, i = k, k
	}
	if lit < words {
		dst = binary.AppendUvarint(dst, uint64(words-lit))
		dst = append(dst, src[8*lit:8*words]...)
		dst = binary.AppendUvarint(dst, 0)
	}
	dst = append(dst, src[8*words:]...)
	if len(dst)-start > limit {
		return nil, false
	}
	return dst, true
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
		run, k := binary.Uvarint(enc)
		if k <= 0 || run > uint64(words-at) || run == 0 && lit == 0 {
			return protoErrorf("runs: bad run count at word %d", at)
		}
		enc = enc[k:]
		if run == 0 {
			continue
		}
		if len(enc) < 8 {
			return protoErrorf("runs: the run at word %d has no word", at)
		}
		// the word once, then copies of what is filled, doubling
		fill := out[8*at : 8*(at+int(run))]
		copy(fill, enc[:8])
		for f := 8; f < len(fill); f *= 2 {
			copy(fill[f:], fill[:f])
		}
		enc, at = enc[8:], at+int(run)
	}
	if len(enc) != len(out)%8 {
		return protoErrorf("runs: %d bytes after the words, want %d", len(enc), len(out)%8)
	}
	copy(out[8*words:], enc)
	return nil
}
