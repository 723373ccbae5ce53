package remoting

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"
)

// embeddings returns tokens rows of a table of vocab rows of width bytes, as a prompt's token
// embeddings are.
func embeddings(r *rand.Rand, table [][]byte, tokens int) []byte {
	var out []byte
	for range tokens {
		out = append(out, table[r.IntN(len(table))]...)
	}
	return out
}

func randomTable(r *rand.Rand, vocab, width int) [][]byte {
	t := make([][]byte, vocab)
	for i := range t {
		t[i] = make([]byte, width)
		for j := range t[i] {
			t[i][j] = byte(r.Uint32())
		}
	}
	return t
}

// TestBlocksRoundTrip: uploads of token embeddings (rows of one and two blocks), with a short
// last block, through a sender and a receiver of a cache smaller than the table, come out as they
// went in; repeated rows go as slots (from the third upload, every row of the table has been
// sent), and both ends store the same.
func TestBlocksRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, width := range []int{BlockSize, 2 * BlockSize} {
		table := randomTable(r, 272, width)
		send, recv := NewBlockSender(300), NewBlockCache(300)
		hashed := NewBlockSender(300) // the same, its hashes computed beforehand
		for i := range 6 {
			src := embeddings(r, table, 512)
			if i == 5 {
				src = append(src, 1, 2, 3) // a short last block
			}
			enc, hits := send.Encode(nil, src, nil)
			h := make([]uint64, len(src)/BlockSize)
			hashed.Hash(h[:len(h)/2], src)
			hashed.Hash(h[len(h)/2:], src[len(h)/2*BlockSize:])
			if enc2, _ := hashed.Encode(nil, src, h); !bytes.Equal(enc2, enc) {
				t.Fatalf("width %d, upload %d: encoded differently with the hashes computed beforehand", width, i)
			}
			out := make([]byte, len(src))
			if err := recv.Decode(out, enc); err != nil {
				t.Fatalf("width %d, upload %d: %v", width, i, err)
			}
			if !bytes.Equal(out, src) {
				t.Fatalf("width %d, upload %d: decoded bytes differ", width, i)
			}
			if send.Stored != recv.Stored {
				t.Fatalf("width %d, upload %d: stored %d by the sender, %d by the receiver", width, i, send.Stored, recv.Stored)
			}
			t.Logf("width %d, upload %d: %d bytes as %d, %d blocks named", width, i, len(src), len(enc), hits)
			if i == 0 && hits == 0 {
				t.Fatalf("width %d: the first upload named no block (512 rows of 272)", width)
			}
			if width == BlockSize && i > 1 && len(enc) > len(src)/20 {
				t.Fatalf("width %d, upload %d: %d bytes as %d: the cache holds every row", width, i, len(src), len(enc))
			}
		}
	}
}

// TestBlocksDecodeRefuses: an encoding that names a slot never stored, names one for a short
// block, is cut short or runs past the upload is refused, and the receiver's count then differs
// from the sender's.
func TestBlocksDecodeRefuses(t *testing.T) {
	block := bytes.Repeat([]byte{7}, BlockSize)
	for _, c := range []struct {
		name string
		enc  []byte
		n    int
		want string
	}{
		{"slot never stored", []byte{5}, BlockSize, "slot 4"},
		{"slot for a short block", []byte{1}, 100, "slot 0"},
		{"truncated", nil, BlockSize, "truncated"},
		{"block cut short", append([]byte{0}, block[:100]...), BlockSize, "cut short"},
		{"past the end", append(append([]byte{0}, block...), 9), BlockSize, "past"},
	} {
		recv := NewBlockCache(4)
		err := recv.Decode(make([]byte, c.n), c.enc)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want an error with %q", c.name, err, c.want)
		}
	}
	// the slots wrap: a cache of 2 blocks after 3 stored holds the 2nd and 3rd
	send, recv := NewBlockSender(2), NewBlockCache(2)
	var src []byte
	for i := range 3 {
		src = append(src, bytes.Repeat([]byte{byte(i + 1)}, BlockSize)...)
	}
	src = append(src, src[:BlockSize]...) // the first again: overwritten, so sent again
	src = append(src, src[2*BlockSize:3*BlockSize]...)
	enc, hits := send.Encode(nil, src, nil)
	out := make([]byte, len(src))
	if err := recv.Decode(out, enc); err != nil || !bytes.Equal(out, src) {
		t.Fatalf("wrapped cache: %v", err)
	}
	if hits != 1 || send.Stored != 4 || recv.Stored != 4 {
		t.Fatalf("wrapped cache: %d named, stored %d and %d; want 1, 4 and 4", hits, send.Stored, recv.Stored)
	}
}

// FuzzBlocksDecode: no input makes Decode panic or write past its output.
func FuzzBlocksDecode(f *testing.F) {
	send := NewBlockSender(4)
	enc, _ := send.Encode(nil, bytes.Repeat([]byte{1, 2, 3, 4}, 3*BlockSize/4+5), nil)
	f.Add(enc, uint16(len(enc)))
	f.Add([]byte{0, 1, 2}, uint16(3))
	f.Fuzz(func(t *testing.T, enc []byte, n uint16) {
		recv := NewBlockCache(3)
		_ = recv.Decode(make([]byte, int(n)), enc)
		_ = recv.Decode(make([]byte, int(n)), enc)
	})
}

// BenchmarkBlocksEncode: a prompt's 2 MiB of token embeddings (rows of 4 KiB from a table of
// 272), every row in the cache: the client's cost of an upload as cached blocks, the hashing
// (which the client spreads over threads) and the rest.
func BenchmarkBlocksEncode(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	table := randomTable(r, 272, BlockSize)
	send := NewBlockSender(MaxBlockSlots)
	for _, row := range table {
		send.Encode(nil, row, nil)
	}
	src := embeddings(r, table, 512)
	buf := make([]byte, 0, len(src)+len(src)/BlockSize+1)
	h := make([]uint64, len(src)/BlockSize)
	b.Run("hashing", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			send.Hash(h, src)
		}
	})
	b.Run("the rest", func(b *testing.B) { // what stays on one thread: look-ups, compares, encoding
		b.SetBytes(int64(len(src)))
		for b.Loop() {
			send.Encode(buf, src, h)
		}
	})
}

// BenchmarkBlocksDecode: the worker's cost of the same upload.
func BenchmarkBlocksDecode(b *testing.B) {
	r := rand.New(rand.NewPCG(1, 2))
	table := randomTable(r, 272, BlockSize)
	send, recv := NewBlockSender(MaxBlockSlots), NewBlockCache(MaxBlockSlots)
	for _, row := range table {
		enc, _ := send.Encode(nil, row, nil)
		recv.Decode(make([]byte, BlockSize), enc)
	}
	src := embeddings(r, table, 512)
	enc, _ := send.Encode(nil, src, nil)
	out := make([]byte, len(src))
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		recv.Decode(out, enc)
	}
}
