package client

import (
	"sync"

	"github.com/vgpu/vgpu/internal/api"
)

// Synchronising an idle stream is answered locally. Every call that can put work on a stream
// passes through the client, so a stream that was synchronised through the server and has had
// nothing sent to it since has nothing left to wait for, and no failure left to report (those of
// earlier calls were reported by that synchronisation). llama.cpp synchronises its stream about
// 18 times per generated token, mostly with nothing new on it; each would be a round trip.
type streamTracker struct {
	mu       sync.Mutex
	dirty    map[uint64]bool // stream -> work sent since its last synchronisation (absent: never synchronised)
	allDirty bool            // an async call whose stream is unknown was sent
}

var streams streamTracker

// streamKey: the NULL stream and CU_STREAM_LEGACY are one stream.
func streamKey(s uint64) uint64 {
	if s == 1 {
		return 0
	}
	return s
}

// markDirty records the stream of a call that may leave work on it: every async call, and
// every synchronous one that touches device memory (a memset or a copy on the legacy stream can
// still be running when it returns). A call without a stream argument counts for the NULL
// stream when it touches device memory, for every stream when it is async.
func (t *streamTracker) markDirty(c *call) {
	stream, device := uint64(0), false
	hasStream := false
	for i, p := range c.f.Params {
		switch {
		case p.C == "CUstream":
			stream, hasStream = c.a[i], true
		case p.Kind == api.DevPtr:
			device = true
		}
	}
	if c.f.Mode != api.Async && !device {
		return // a query or a handle operation: no work on any stream
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.f.Mode == api.Async && !hasStream {
		t.allDirty = true
		return
	}
	if _, ok := t.dirty[streamKey(stream)]; ok {
		t.dirty[streamKey(stream)] = true
	}
}

// idle: synchronised through the server, and nothing sent to it since.
func (t *streamTracker) idle(s uint64) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	dirty, seen := t.dirty[streamKey(s)]
	return seen && !dirty && !t.allDirty
}

// synced records a successful synchronisation of stream s, or of every stream.
func (t *streamTracker) synced(s uint64, all bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dirty == nil {
		t.dirty = map[uint64]bool{}
	}
	if all {
		for k := range t.dirty {
			t.dirty[k] = false
		}
		t.allDirty = false
		return
	}
	if !t.allDirty {
		t.dirty[streamKey(s)] = false
	}
}

func cuStreamSynchronize(c *call) int64 {
	if streams.idle(c.a[0]) {
		return 0
	}
	r := remote(c)
	if r == 0 {
		streams.synced(c.a[0], false)
	}
	return r
}

func cuCtxSynchronize(c *call) int64 {
	r := remote(c)
	if r == 0 {
		streams.synced(0, true)
	}
	return r
}
