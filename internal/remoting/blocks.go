package remoting

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
)

// Upload blocks: an upload's bytes as blocks of BlockSize, each sent or named by the slot of a
// cache of blocks sent before, which both ends of a session keep alike. For uploads that cross a
// network (TCP, vsock) and repeat what they sent: a llama.cpp prompt's token embeddings are rows
// of the model's input table, looked up on the CPU and uploaded whole for every prompt (2 MiB
// for 512 tokens of 1024 floats), while the table has at most the vocabulary's rows.
//
// The encoding of an n-byte upload is, for each block in turn (the last one may be shorter), a
// uvarint: 0 and the block's bytes (a block sent), or slot+1 (the block is the cache's slot). A
// whole block sent is then stored in the cache's next slot, the slots taken in turn and the
// oldest overwritten, on both ends: so the sender knows what the receiver holds without being
// told. Stored counts the blocks stored; a call carries the sender's count before it, so that a
// receiver that missed a call's blocks (a call refused before they were stored) refuses every
// later one rather than fill uploads from the wrong slots.

// BlockSize is the size of a cached block: 4 KiB, a row of 1024 floats, so that the rows of an
// embedding table of any width that is a multiple of 1024 floats fall on whole blocks.
const BlockSize = 4096

// MaxBlockSlots bounds a cache: 16384 slots of 4 KiB, 64 MiB.
const MaxBlockSlots = 16384

// BlockCache is one end's cache. The sender's (NewBlockSender) also indexes its blocks by hash.
type BlockCache struct {
	slots  int
	data   []byte // the stored blocks, slot k at k×BlockSize, grown as slots are first used
	next   int    // the slot the next whole block sent goes to
	Stored uint64 // blocks stored so far
	// the sender's index: a block's hash to its slot, and each slot's hash (to forget it when
	// the slot is overwritten)
	index  map[uint64]int32
	hashes []uint64
	seed   maphash.Seed
}

// NewBlockCache returns a receiver's cache of slots blocks (1 to MaxBlockSlots).
func NewBlockCache(slots int) *BlockCache {
	return &BlockCache{slots: slots}
}

// NewBlockSender returns a sender's cache of slots blocks (1 to MaxBlockSlots).
func NewBlockSender(slots int) *BlockCache {
	return &BlockCache{slots: slots, index: make(map[uint64]int32), hashes: make([]uint64, slots), seed: maphash.MakeSeed()}
}

// Slots is the cache's size in blocks.
func (c *BlockCache) Slots() int { return c.slots }

// slot returns slot k's bytes; k < the slots used so far.
func (c *BlockCache) slot(k int) []byte { return c.data[k*BlockSize : (k+1)*BlockSize] }

// store puts a whole block sent into the next slot and returns that slot.
func (c *BlockCache) store(b []byte) int {
	k := c.next
	if end := (k + 1) * BlockSize; end > len(c.data) {
		c.data = append(c.data, b...) // (slots are first used in turn: k×BlockSize == len(data))
	} else {
		copy(c.slot(k), b)
	}
	c.next = (k + 1) % c.slots
	c.Stored++
	return k
}

// Hash writes the hashes of the whole blocks of src, from its start, into h (one each, as many
// as h holds). Pure: several threads may hash parts of an upload at once, for Encode.
func (c *BlockCache) Hash(h []uint64, src []byte) {
	for i := range h {
		h[i] = maphash.Bytes(c.seed, src[i*BlockSize:(i+1)*BlockSize])
	}
}

// Encode appends src's encoding to dst and returns it with the number of blocks named by slot
// (the rest were sent); it stores the blocks sent. hashes is nil, or Hash's of every whole
// block of src. Only a sender's cache encodes.
func (c *BlockCache) Encode(dst, src []byte, hashes []uint64) ([]byte, int) {
	hits := 0
	for off := 0; off < len(src); off += BlockSize {
		b := src[off:min(off+BlockSize, len(src))]
		if len(b) < BlockSize {
			dst = append(append(dst, 0), b...) // (a short last block is neither named nor stored)
			break
		}
		var h uint64
		if hashes != nil {
			h = hashes[off/BlockSize]
		} else {
			h = maphash.Bytes(c.seed, b)
		}
		if k, ok := c.index[h]; ok && bytes.Equal(c.slot(int(k)), b) {
			dst = binary.AppendUvarint(dst, uint64(k)+1)
			hits++
			continue
		}
		dst = append(append(dst, 0), b...)
		k := c.next
		if int(k)*BlockSize < len(c.data) { // the slot's old block is forgotten
			if old := c.hashes[k]; c.index[old] == int32(k) {
				delete(c.index, old)
			}
		}
		c.store(b)
		c.index[h], c.hashes[k] = int32(k), h
	}
	return dst, hits
}

// Decode fills out (the upload's n bytes) from enc and stores the blocks sent. An error leaves
// the cache as far as it got, and its Stored no longer the sender's: every later upload of the
// session is then refused (the caller checks Stored against the count a call carries).
func (c *BlockCache) Decode(out, enc []byte) error {
	for off := 0; off < len(out); off += BlockSize {
		b := out[off:min(off+BlockSize, len(out))]
		v, k := binary.Uvarint(enc)
		if k <= 0 {
			return errors.New("blocks: truncated")
		}
		enc = enc[k:]
		if v == 0 {
			if len(enc) < len(b) {
				return errors.New("blocks: a block sent is cut short")
			}
			copy(b, enc[:len(b)])
			enc = enc[len(b):]
			if len(b) == BlockSize {
				c.store(b)
			}
			continue
		}
		if len(b) < BlockSize || v > uint64(len(c.data)/BlockSize) {
			return fmt.Errorf("blocks: slot %d, of %d stored, for a block of %d bytes", v-1, len(c.data)/BlockSize, len(b))
		}
		copy(b, c.slot(int(v-1)))
	}
	if len(enc) != 0 {
		return fmt.Errorf("blocks: %d bytes past the upload's end", len(enc))
	}
	return nil
}
