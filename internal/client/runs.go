package client

import (
	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// Uploads as runs. Over a socket without shared memory (TCP, vsock) an async upload of
// runsThreshold bytes or more whose 8-byte words are mostly runs (repeated, or growing by a
// constant step) goes as vgpuRunsHtoDAsync: the runs (remoting.EncodeRuns), which the worker
// expands before it queues the copy. A llama.cpp prompt's inputs are such runs: its attention
// mask (rows of 0 then -inf; 1 MiB in 12.8 KB) and, without FlashAttention, its V-cache indices
// (4 MiB in 9.5 KiB for 512 tokens of 1024 values). Bytes that do not shrink to a runsRatio-th go
// as they are; the encoder gives up as soon as its output passes that size.

// runsThreshold: uploads at least this big are tried as runs.
const runsThreshold = 64 << 10

// runsRatio: runs are sent when they take at most 1/runsRatio of the bytes.
const runsRatio = 4

// runsPart is the least each of encodeRuns's threads encodes.
const runsPart = 512 << 10

// encodeRuns encodes src as runs in at most len(src)/runsRatio bytes, in parts on up to
// copyThreads threads when it is big (each part but the last whole words, so the parts'
// encodings follow one another); ok is false when it does not shrink that far.
func encodeRuns(src []byte) ([]byte, bool) {
	n := max(min(copyThreads, len(src)/runsPart), 1)
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

// viaRuns sends an async upload (cuMemcpyHtoDAsync_v2) as runs where it pays: a session
// without shared memory, at least runsThreshold bytes, at most one piece (chunkSize).
func viaRuns(c *call, s *session) (int64, bool) {
	if c.id != api.IDcuMemcpyHtoDAsync_v2 || s.shm != nil {
		return 0, false
	}
	arg := func(name string) uint64 { return c.a[c.f.ParamIndex(name)] }
	dst, src, n := arg("dstDevice"), arg("srcHost"), arg("ByteCount")
	if n < runsThreshold || n > chunkSize || src == 0 {
		return 0, false
	}
	enc, ok := encodeRuns(hostBytes(src, int(n)))
	if !ok {
		return 0, false
	}
	stream := arg("hStream") &^ tagMask // the server's own handle (servers.go)
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
