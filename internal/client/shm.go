package client

import (
	"sync"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// Bulk copies through shared memory. On a unix socket the client creates a memfd at connect and
// passes it to the worker, which maps it (and page-locks it, so the GPU copies into and out of
// it directly). A large copy then moves through its two halves in turn: while the GPU copies one
// half, the client fills (or empties) the other; the socket carries only the small calls.
//
// An async upload (cuMemcpyHtoDAsync) from 64 KiB to a quarter of the shared memory takes the ring
// instead: the client copies it to the ring's next free bytes and sends vgpuShmHtoDAsync
// without waiting, as the driver returns from a pageable async copy once its bytes are staged.
// The ring is emptied by a fence (vgpuShmFence: the worker waits for the copies it queued)
// when it is full, and before the halves are used.

// shmSize is the shared memory per process (VGPU_SHM_MB, default 64; 0 turns it off).
var shmSize = settings.ShmMB.Get() << 20

// ringSize is each way's ring for the frames on a unix socket (VGPU_RING_KB, default 1024; 0:
// the socket carries them). remoting/rings_unsafe_linux.go says how they travel.
var ringSize = uint64(settings.RingKB.Get()) << 10

// shmThreshold: copies at least this big use the shared memory's halves.
const shmThreshold = 1 << 20

// ringThreshold: async uploads at least this big use the ring. Below it the bytes ride in the
// call's frame, which costs a copy into the socket, one out of it and the driver's staging; an
// upload through the ring costs one copy (a prompt's attention mask, 512 KiB, takes it).
const ringThreshold = 64 << 10

// newShm creates the shared memory: a memfd of size bytes, sealed so that its size never
// changes, and mapped.
func newShm(size int) (int, []byte, error) { return remoting.NewSealedMemfd("vgpu-shm", size) }

// copyThreads is how many threads pcopy uses at most (VGPU_COPY_THREADS, default 4).
var copyThreads = settings.CopyThreads.Get()

// copyPart is the least each of pcopy's threads copies.
const copyPart = 256 << 10

// pcopy copies with several threads when the copy is big: one core's memcpy is slower than
// the GPU's DMA, and a prompt's inputs (2.6 MB for the 110 MB test model) are copied on the
// path from the program to the GPU.
func pcopy(dst, src []byte) {
	inParts(len(src), min(copyThreads, len(src)/copyPart), 1, func(_, i, j int) { copy(dst[i:j], src[i:j]) })
}

// inParts runs fn(k, i, j) on each part k of [0, size) cut into at most n parts (at least one)
// that start at multiples of align, the first on the calling thread and the others each on a
// goroutine of its own, and returns once all have; it returns the number of parts.
func inParts(size, n, align int, fn func(k, i, j int)) int {
	step := (size + max(n, 1) - 1) / max(n, 1)
	step = max((step+align-1)/align*align, align)
	var wg sync.WaitGroup
	for k, i := 1, step; i < size; k, i = k+1, i+step {
		wg.Add(1)
		go func() { defer wg.Done(); fn(k, i, min(i+step, size)) }()
	}
	fn(0, 0, min(step, size))
	wg.Wait()
	return max((size+step-1)/step, 1)
}

// shmCopy moves n bytes between host memory and the device through the shared memory for OS
// thread tid. h2d: host -> dev. Returns the first failure.
func (s *session) shmCopy(h2d bool, dev, host, n, stream uint64, tid int) (int64, error) {
	id := api.IDvgpuShmDtoH
	if h2d {
		id = api.IDvgpuShmHtoD
	}
	half := uint64(len(s.shm) / 2)
	s.shmMu.Lock()
	defer s.shmMu.Unlock()
	// the halves overlap the ring: its copies must have finished
	if r, err := s.shmFence(tid); err != nil || r != 0 {
		return int64(r), err
	}
	type piece struct {
		off, size, slot uint64
		req             uint64
		w               *waiter
	}
	var inflight []piece
	var first int64
	wait := func() error {
		p := inflight[0]
		inflight = inflight[1:]
		s.mu.Lock()
		r, err := s.await(p.req, p.w)
		if err != nil {
			return err
		}
		if r != 0 && first == 0 {
			first = int64(r)
		}
		if r == 0 && !h2d {
			pcopy(hostBytes(host+p.off, int(p.size)), s.shm[p.slot:p.slot+p.size])
		}
		return nil
	}
	for off, k := uint64(0), uint64(0); off < n; off, k = off+half, k+1 {
		size := min(half, n-off)
		slot := (k % 2) * half
		if len(inflight) == 2 {
			if err := wait(); err != nil {
				return 0, err
			}
		}
		if h2d {
			pcopy(s.shm[slot:slot+size], hostBytes(host+off, int(size)))
		}
		c := &remoting.Call{Fn: uint32(id), Scalars: []uint64{dev + off, slot, size, stream}}
		s.mu.Lock()
		s.st.shmBytes += size
		req, w, err := s.sendWaiting(c, nil, tid, nil)
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}
		inflight = append(inflight, piece{off, size, slot, req, w})
	}
	for len(inflight) > 0 {
		if err := wait(); err != nil {
			return 0, err
		}
	}
	return first, nil
}

// shmUploadAsync copies n bytes at host into the ring and queues their upload to dev for OS
// thread tid.
func (s *session) shmUploadAsync(dev, host, n, stream uint64, tid int) error {
	s.shmMu.Lock()
	defer s.shmMu.Unlock()
	if s.ringUsed+n > uint64(len(s.shm)) {
		if err := s.fenceDeferring(tid); err != nil {
			return err
		}
	}
	off := s.ringUsed
	pcopy(s.shm[off:off+n], hostBytes(host, int(n)))
	s.ringUsed = (off + n + 4095) &^ 4095 // each upload starts on a page
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return s.broken
	}
	s.st.shmBytes += n
	return s.sendAsyncLocked(&remoting.Call{Fn: uint32(shmUploadID), Scalars: []uint64{dev, off, n, stream}}, nil, tid)
}

// shmFence waits until the worker has finished the ring's uploads, then empties the ring;
// s.shmMu is held. Its result is the first of those uploads' failures.
func (s *session) shmFence(tid int) (int32, error) {
	if s.ringUsed == 0 {
		return 0, nil
	}
	return s.fence(tid)
}

// fence waits until the worker has finished every copy queued from the shared memory, the
// ring's and the pool's (vgpuShmFence), and empties the ring; s.shmMu is held. Its result is
// the first of those copies' failures.
func (s *session) fence(tid int) (int32, error) {
	r, err := s.roundTrip(&remoting.Call{Fn: uint32(shmFenceID)}, nil, tid, nil)
	if err != nil {
		return 0, err
	}
	s.ringUsed = 0
	if s.pool != nil {
		s.pool.pending = false
	}
	return r, nil
}

// fenceDeferring is fence whose failure, an earlier upload's, is reported by the next
// synchronising call, as any async failure is; s.shmMu is held.
func (s *session) fenceDeferring(tid int) error {
	r, err := s.fence(tid)
	if err != nil {
		return err
	}
	if r != 0 {
		s.mu.Lock()
		s.noteDeferred(uint32(uploadAsyncID), r)
		s.mu.Unlock()
	}
	return nil
}

const (
	shmCopyID     = api.IDvgpuShmHtoD
	shmUploadID   = api.IDvgpuShmHtoDAsync
	shmFenceID    = api.IDvgpuShmFence
	uploadAsyncID = api.IDcuMemcpyHtoDAsync_v2 // the call a failed upload was
)

// viaShm serves a large host<->device copy through the shared memory, if there is one.
func viaShm(c *call, s *session) (int64, bool) {
	// the copies whose row has a route take the shared memory when big enough (api.Func.Shm)
	if c.f.Shm == api.ShmNone || s.shm == nil {
		return 0, false
	}
	h2d := c.f.Shm == api.ShmHtoD
	stream := uint64(0)
	if len(c.a) > 3 {
		stream = c.a[3] &^ tagMask // the server's own handle (servers.go)
	}
	dev, host, n := c.a[1], c.a[0], c.a[2] // DtoH(dstHost, srcDevice, n)
	if h2d {
		dev, host = host, dev // HtoD(dstDevice, srcHost, n)
	}
	if h2d && n >= poolMin {
		if off, ok := s.pool.holds(host, n); ok {
			return s.poolUpload(c, dev, off, n, stream), true
		}
	}
	if h2d && c.f.Serve == api.Async && n >= ringThreshold && n <= uint64(len(s.shm)/4) && host != 0 {
		if err := s.shmUploadAsync(dev, host, n, stream, c.tid()); err != nil {
			return c.unreachable(), true
		}
		return 0, true
	}
	if n < shmThreshold {
		return 0, false
	}
	if host == 0 {
		return cuErrInvalidValue, true
	}
	r, err := s.shmCopy(h2d, dev, host, n, stream, c.tid())
	if err != nil {
		return c.unreachable(), true
	}
	return r, true
}

// poolUpload serves a host-to-device copy from the program's pinned memory in the pool
// (pool.go) without copying it: the worker copies n bytes from offset off of its mapping to dev.
// An async one leaves work on its stream, since its bytes are read when the stream reaches it.
func (s *session) poolUpload(c *call, dev, off, n, stream uint64) int64 {
	tid := c.tid()
	if c.f.Serve != api.Async {
		r, err := s.roundTrip(&remoting.Call{Fn: uint32(shmCopyID), Scalars: []uint64{dev, off, n, stream}}, nil, tid, nil)
		if err != nil {
			return c.unreachable()
		}
		s.mu.Lock()
		s.st.poolBytes += n
		s.mu.Unlock()
		return int64(r)
	}
	s.shmMu.Lock()
	s.pool.pending = true
	s.shmMu.Unlock()
	streams.markWork(c)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.broken != nil {
		return c.unreachable()
	}
	s.st.poolBytes += n
	if s.sendAsyncLocked(&remoting.Call{Fn: uint32(shmUploadID), Scalars: []uint64{dev, off, n, stream}}, nil, tid) != nil {
		return c.unreachable()
	}
	return 0
}
