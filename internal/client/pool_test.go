package client

import (
	"bytes"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/server"
)

// TestPinnedPool: with a pool (VGPU_PINNED_MB), a pinned allocation of 64 KiB or more comes from
// the shared memory; an async upload from it crosses as its offset (no bytes through the
// connection or copied into the shared memory), leaves work on its stream (the synchronisation
// waits for the worker, which may still be reading the program's bytes), and reads back
// intact, as does a synchronous one; freeing it waits for the copies queued from the pool and
// gives the space back; a small allocation and one past the pool stay the client's own.
func TestPinnedPool(t *testing.T) {
	defer func(a, b int) { testShm, testPinned = a, b }(testShm, testPinned)
	testShm, testPinned = 4<<20, 4<<20
	old := pinnedSize
	pinnedSize = testPinned
	defer func() { pinnedSize = old }()
	connect(t, server.NewSim())
	primaryContext(t)
	s, _ := getSession()
	if s.pool == nil {
		t.Fatal("the session has no pool")
	}
	const n = 1 << 20
	host, dev := heapNew[uint64](), heapNew[uint64]()
	if r := allocHost(ptrOf(host), n); r != 0 {
		t.Fatalf("allocHost = %d", r)
	}
	if _, ok := s.pool.holds(*host, n); !ok {
		t.Fatalf("a pinned allocation of %d bytes is not in the pool", n)
	}
	if r := dispatchByName(api.LibCuda, "cuMemAlloc_v2", ptrOf(dev), n); r != 0 {
		t.Fatalf("cuMemAlloc_v2 = %d", r)
	}
	src := hostBytes(*host, n)
	for i := range src {
		src[i] = byte(i*7 + i>>12)
	}
	want := append([]byte(nil), src...)
	// the stream synchronised once through the worker: a later synchronisation of it after
	// uploads whose bytes travelled would be answered here
	if r := dispatchByName(api.LibCuda, "cuStreamSynchronize", 0); r != 0 {
		t.Fatalf("cuStreamSynchronize = %d", r)
	}
	before := SessionStats()
	if r := dispatchByName(api.LibCuda, "cuMemcpyHtoDAsync_v2", *dev, *host, n, 0); r != 0 {
		t.Fatalf("cuMemcpyHtoDAsync_v2 from the pool = %d", r)
	}
	if r := dispatchByName(api.LibCuda, "cuStreamSynchronize", 0); r != 0 {
		t.Fatalf("cuStreamSynchronize = %d", r)
	}
	after := SessionStats()
	if d := after.BytesOut - before.BytesOut; d > 4096 {
		t.Errorf("the upload from the pool sent %d bytes", d)
	}
	if after.RoundTrips-before.RoundTrips != 1 {
		t.Errorf("the synchronisation after an upload from the pool made %d round trips, want 1 (it must wait for the worker)", after.RoundTrips-before.RoundTrips)
	}
	back := heapBytes(n)
	if r := dispatchByName(api.LibCuda, "cuMemcpyDtoH_v2", ptrOf(&back[0]), *dev, n); r != 0 || !bytes.Equal(back, want) {
		t.Fatalf("read back (%d): not the bytes uploaded from the pool", r)
	}
	// a synchronous upload from the pool, of other bytes
	for i := range src {
		src[i] = ^want[i]
	}
	if r := dispatchByName(api.LibCuda, "cuMemcpyHtoD_v2", *dev, *host, n); r != 0 {
		t.Fatalf("cuMemcpyHtoD_v2 from the pool = %d", r)
	}
	if r := dispatchByName(api.LibCuda, "cuMemcpyDtoH_v2", ptrOf(&back[0]), *dev, n); r != 0 || !bytes.Equal(back, src) {
		t.Fatalf("read back (%d): not the bytes of the synchronous upload", r)
	}
	s.mu.Lock()
	pool, shm := s.st.poolBytes, s.st.shmBytes
	s.mu.Unlock()
	// (the shared memory carried the two read-backs of a MiB, through its halves)
	if pool != 2*n || shm != 2*n {
		t.Errorf("%d bytes uploaded from the pool and %d copied through the shared memory, want %d and %d (the read-backs)", pool, shm, 2*n, 2*n)
	}
	// another async upload, then a free: it waits for the worker (a fence), and the space is
	// the pool's again
	dispatchByName(api.LibCuda, "cuMemcpyHtoDAsync_v2", *dev, *host, n, 0)
	rt := SessionStats().RoundTrips
	if r := freeHost(*host); r != 0 {
		t.Fatalf("freeHost = %d", r)
	}
	if SessionStats().RoundTrips != rt+1 || s.pool.pending {
		t.Errorf("freeing pinned memory with an upload from it queued did not wait for the worker")
	}
	if len(s.pool.free) != 1 || s.pool.free[0].n != uint64(testPinned) {
		t.Errorf("the pool's free spans after the free: %v", s.pool.free)
	}
	// small, and larger than the pool: the client's own memory
	for _, size := range []uint64{4096, 8 << 20} {
		p := heapNew[uint64]()
		if r := allocHost(ptrOf(p), size); r != 0 {
			t.Fatalf("allocHost(%d) = %d", size, r)
		}
		if _, ok := s.pool.holds(*p, size); ok {
			t.Errorf("an allocation of %d bytes came from the pool", size)
		}
		freeHost(*p)
	}
}

// TestPoolSpans: the pool's first-fit allocation and the merging of freed spans.
func TestPoolSpans(t *testing.T) {
	mem, err := unix.Mmap(-1, 0, 64<<10, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Munmap(mem)
	p := newPool(mem, 1<<20)
	a, b, c := p.alloc(1), p.alloc(4096), p.alloc(8192)
	if a == nil || b == nil || c == nil || cap(a) != 4096 || cap(c) != 8192 {
		t.Fatalf("allocations %d %d %d", cap(a), cap(b), cap(c))
	}
	if off, ok := p.holds(ptrOf(&c[0]), 8192); !ok || off != 1<<20+8192 {
		t.Fatalf("the third allocation at %d (%v), want %d", off, ok, 1<<20+8192)
	}
	if p.alloc(64<<10) != nil {
		t.Fatal("an allocation past what is free succeeded")
	}
	p.release(b)
	p.release(a)
	if len(p.free) != 2 || p.free[0] != (span{0, 8192}) {
		t.Fatalf("free spans %v", p.free)
	}
	p.release(c)
	if len(p.free) != 1 || p.free[0] != (span{0, 64 << 10}) {
		t.Fatalf("free spans after every release %v", p.free)
	}
	if _, ok := p.holds(ptrOf(&c[0]), 64<<10); ok {
		t.Fatal("a range running past the pool's end is held")
	}
}
