package client

import (
	"sync"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// Uploads as runs. Over a socket without shared memory (TCP, vsock) an async upload of
// runsThreshold bytes or more whose 8-byte words are mostly runs (repeated, or growing by a
// constant step) goes as vgpuRunsHtoDAsync: the runs (remoting.EncodeRuns), which the worker
// expands before it queues the copy. A llama.cpp prompt's inputs are such runs: its attention
// mask (rows of 0 then -inf; 1 MiB in 12.8 KB) and, without FlashAttention, its V-cache indices
// (4 MiB in 9.5 KiB for 512 tokens of 1024 values). Bytes that do not shrink to a runsRatio-th go
// as they are; the encoder gives up as soon as its output passes that size.
//
// Uploads as cached blocks. Such an upload that is not runs, to a device address uploaded to
// lately (one of the last recentDsts: a program's input buffer, refilled for every batch, where
// a model's weights go once each), goes as vgpuBlocksHtoDAsync: its 4 KiB blocks, each sent or
// named by its slot in a cache of the blocks sent before (remoting.BlockCache, VGPU_UPLOAD_CACHE_MB),
// which client and worker keep alike. A llama.cpp prompt's token embeddings are rows of the
// model's input table, looked up on the CPU and uploaded whole: after the first prompts, the
// rows of tokens seen before go as a slot each. The cache's order is the order of these calls
// on the connection: a session encodes and sends one such call at a time (blockUploads.mu), and
// the worker serves a session's calls that do not wait in the order they came.

// runsThreshold: uploads at least this big are tried as runs.
const runsThreshold = 64 << 10

// runsRatio: runs are sent when they take at most 1/runsRatio of the bytes.
const runsRatio = 4

// runsPart is the least each of encodeRuns's threads encodes.
const runsPart = 512 << 10

// runsThreads is how many threads encode an upload of n bytes (as runs, or its blocks' hashes):
// up to copyThreads, each at least runsPart.
func runsThreads(n int) int { return max(min(copyThreads, n/runsPart), 1) }

// encodeRuns encodes src as runs in at most len(src)/runsRatio bytes, in parts on up to
// copyThreads threads when it is big (each part but the last whole words, so the parts'
// encodings follow one another); ok is false when it does not shrink that far.
func encodeRuns(src []byte) ([]byte, bool) {
	n := runsThreads(len(src))
	parts, oks := make([][]byte, n), make([]bool, n)
	n = inParts(len(src), n, 8, func(k, i, j int) {
		parts[k], oks[k] = remoting.EncodeRuns(nil, src[i:j], (j-i)/runsRatio)
	})
	size := 0
	for k := range n {
		if !oks[k] {
			return nil, false
		}
		size += len(parts[k])
	}
	out := make([]byte, 0, size)
	for _, p := range parts[:n] {
		out = append(out, p...)
	}
	return out, true
}

// viaRuns sends an async upload (cuMemcpyHtoDAsync_v2) as runs, or as cached blocks, where it
// pays: a session without shared memory, at least runsThreshold bytes, at most one piece
// (chunkSize).
func viaRuns(c *call, s *session) (int64, bool) {
	if c.id != api.IDcuMemcpyHtoDAsync_v2 || s.shm != nil {
		return 0, false
	}
	arg := func(name string) uint64 { return c.a[c.f.ParamIndex(name)] }
	dst, src, n := arg("dstDevice"), arg("srcHost"), arg("ByteCount")
	if n < runsThreshold || n > chunkSize || src == 0 {
		return 0, false
	}
	stream := arg("hStream") &^ tagMask                  // the server's own handle (servers.go)
	again := uploadCacheSlots > 0 && s.blocks.again(dst) // (no bookkeeping with the cache off)
	enc, ok := encodeRuns(hostBytes(src, int(n)))
	if !ok {
		if again {
			return viaBlocks(c, s, dst, hostBytes(src, int(n)), stream)
		}
		return 0, false
	}
	rc := remoting.Call{Fn: uint32(runsUploadID), Scalars: []uint64{dst, uint64(len(enc)), n, stream}, Bufs: [][]byte{enc}}
	s.mu.Lock()
	s.st.runs(n, len(enc))
	s.mu.Unlock()
	if err := s.sendAsync(&rc, nil, c.tid()); err != nil {
		return c.unreachable(), true
	}
	return 0, true
}

const runsUploadID = api.IDvgpuRunsHtoDAsync

// uploadCacheSlots is the size of a session's cache of uploaded blocks (VGPU_UPLOAD_CACHE_MB).
var uploadCacheSlots = settings.UploadCacheMB.Get() << 20 / remoting.BlockSize

// recentDsts is how many device addresses of uploads a session remembers.
const recentDsts = 64

// blockUploads is a session's cache of uploaded blocks (made on first use) and the device
// addresses it uploaded to lately.
type blockUploads struct {
	mu     sync.Mutex
	cache  *remoting.BlockCache
	recent [recentDsts]uint64
	next   int
	enc    []byte   // the last call's encoding, reused (sendAsync has written or copied it on return)
	hashes []uint64 // the last call's blocks' hashes, reused
}

// again records an upload to dst and reports whether dst was one of the last recentDsts.
func (b *blockUploads) again(dst uint64) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, d := range b.recent {
		if d == dst {
			return true
		}
	}
	b.recent[b.next] = dst
	b.next = (b.next + 1) % recentDsts
	return false
}

// viaBlocks sends an async upload of src to dst as cached blocks (vgpuBlocksHtoDAsync).
func viaBlocks(c *call, s *session, dst uint64, src []byte, stream uint64) (int64, bool) {
	b := &s.blocks
	b.mu.Lock()
	defer b.mu.Unlock() // (held while the call is sent: the worker stores its blocks in this order)
	if b.cache == nil {
		b.cache = remoting.NewBlockSender(uploadCacheSlots)
	}
	stored := b.cache.Stored
	// the blocks' hashes first, on several threads (runsThreads)
	h := b.hashes[:0]
	if nb := len(src) / remoting.BlockSize; cap(h) >= nb {
		h = h[:nb]
	} else {
		h = make([]uint64, nb)
	}
	b.hashes = h
	inParts(len(h), runsThreads(len(src)), 1, func(_, i, j int) {
		b.cache.Hash(h[i:j], src[i*remoting.BlockSize:])
	})
	enc, named := b.cache.Encode(b.enc[:0], src, h)
	b.enc = enc
	rc := remoting.Call{Fn: uint32(blocksUploadID), Scalars: []uint64{dst, uint64(len(enc)), uint64(len(src)), uint64(uploadCacheSlots), stored, stream}, Bufs: [][]byte{enc}}
	s.mu.Lock()
	s.st.blocks(uint64(len(src)), len(enc), named)
	s.mu.Unlock()
	if err := s.sendAsync(&rc, nil, c.tid()); err != nil {
		return c.unreachable(), true
	}
	return 0, true
}

const blocksUploadID = api.IDvgpuBlocksHtoDAsync
