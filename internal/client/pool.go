package client

import (
	"sort"
	"sync"

	"github.com/vgpu/vgpu/internal/settings"
)

// Pinned host memory in the shared memory. With VGPU_PINNED_MB set, the memfd a session on a
// unix socket passes its worker holds, after the bulk copies' part (shm.go), a pool from which
// the program's pinned allocations of 64 KiB and more are carved (allocHost). A host-to-device
// copy from such memory then goes as vgpuShmHtoD / vgpuShmHtoDAsync naming its offset: the
// worker copies from the program's own bytes, page-locked in its mapping, and the client
// copies nothing. As natively with pinned memory, an async copy reads the bytes when its stream
// reaches it, so such a copy leaves work on its stream (a synchronisation waits for the
// worker, where one after an upload whose bytes travelled is answered in the client), and a
// free first waits for the copies queued from the pool (vgpuShmFence).

// pinnedSize is the pool per session (VGPU_PINNED_MB, default 0: none).
var pinnedSize = settings.PinnedMB.Get() << 20

// poolMin: smaller pinned allocations stay the client's own (their copies ride in the call's
// frame, ringThreshold, so a pool would save nothing).
const poolMin = ringThreshold

// pool is a session's pinned memory: mem, at offset base of the worker's mapping.
type pool struct {
	mu      sync.Mutex
	mem     []byte
	base    uint64
	free    []span // free spans, by offset, none adjacent
	pending bool   // copies from the pool queued since the last fence (s.shmMu)
}

type span struct{ off, n uint64 }

// newPool makes a pool of mem. A forked child inherits it, as programs expect of pinned memory
// (a parent's pinned buffers read in forked workers); being shared memory, what a child writes
// there the parent sees too, where the driver's pinned pages would be copied for the child.
func newPool(mem []byte, base uint64) *pool {
	return &pool{mem: mem, base: base, free: []span{{0, uint64(len(mem))}}}
}

// alloc carves n bytes (rounded up to pages) from the first free span that holds them; nil when
// none does.
func (p *pool) alloc(n uint64) []byte {
	n = (n + 4095) &^ 4095
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, f := range p.free {
		if f.n < n {
			continue
		}
		if f.n == n {
			p.free = append(p.free[:i], p.free[i+1:]...)
		} else {
			p.free[i] = span{f.off + n, f.n - n}
		}
		return p.mem[f.off : f.off+n : f.off+n]
	}
	return nil
}

// release gives back b, which alloc returned, merging it with free neighbours.
func (p *pool) release(b []byte) {
	off, n := p.offset(ptrOf(&b[0])), uint64(cap(b))
	p.mu.Lock()
	defer p.mu.Unlock()
	i := sort.Search(len(p.free), func(i int) bool { return p.free[i].off > off })
	p.free = append(p.free, span{})
	copy(p.free[i+1:], p.free[i:])
	p.free[i] = span{off, n}
	if i+1 < len(p.free) && off+n == p.free[i+1].off {
		p.free[i].n += p.free[i+1].n
		p.free = append(p.free[:i+1], p.free[i+2:]...)
	}
	if i > 0 && p.free[i-1].off+p.free[i-1].n == off {
		p.free[i-1].n += p.free[i].n
		p.free = append(p.free[:i], p.free[i+1:]...)
	}
}

// offset is address a's offset in the pool.
func (p *pool) offset(a uint64) uint64 { return a - ptrOf(&p.mem[0]) }

// holds says whether [a, a+n) lies inside the pool; off is then its offset in the worker's
// mapping.
func (p *pool) holds(a, n uint64) (off uint64, ok bool) {
	if p == nil || n == 0 {
		return 0, false
	}
	start := ptrOf(&p.mem[0])
	if a < start || a-start > uint64(len(p.mem)) || n > uint64(len(p.mem))-(a-start) {
		return 0, false
	}
	return p.base + a - start, true
}
