package client

import (
	"encoding/binary"
	"runtime"
	"sync"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/ranges"
	"github.com/vgpu/vgpu/internal/vlog"
)

// Memory as the client sees it: device allocations (tracked from the calls that make them, so
// cudaMemcpyDefault and unified copies know which side a pointer is on) and host memory, which
// is always the client's own: pinned allocations are page-aligned anonymous mappings here.

var memory struct {
	mu     sync.Mutex
	dev    ranges.Set        // device allocations, mapped VMM ranges, module globals
	pinned map[uint64][]byte // cudaMallocHost & co: base -> mapping
	host   ranges.Set        // pinned and registered host ranges
}

const (
	cudaMemcpyHostToHost     = 0
	cudaMemcpyHostToDevice   = 1
	cudaMemcpyDeviceToHost   = 2
	cudaMemcpyDeviceToDevice = 3
	cudaMemcpyDefault        = 4

	cudaErrorInvalidMemcpyDirection = 21
	cudaErrorNotSupported           = 801
	streamPerThread                 = 2
)

// isDevice reports whether p is device memory of a server.
func isDevice(p uint64) bool {
	s, _ := ownerOf(p)
	return s != nil
}

// trackDevice mirrors, in the client, the device ranges a successful call created or released.
func trackDevice(c *call) {
	for i := range c.f.Params {
		p := &c.f.Params[i]
		switch {
		case p.Kind == api.OutDevPtr && c.a[i] != 0:
			base := *(*uint64)(ptrAt(c.a[i]))
			size := c.f.CreatedRangeSize(p, func(j int) uint64 { return c.a[j] }, func(j int) uint64 {
				if c.a[j] == 0 {
					return 0
				}
				return *(*uint64)(ptrAt(c.a[j]))
			})
			addRange(c.srv, base, size)
		case p.Kind == api.DevPtr && p.Frees:
			removeRange(c.srv, c.a[i])
		case p.Kind == api.Handle && p.Frees && (p.H == api.HModule || p.H == api.HLibrary):
			forgetModule(c.a[i])
		}
	}
}

// ---- host memory ----

func allocHost(pp uint64, size uint64) int64 {
	if pp == 0 {
		return cudaErrorInvalidValue
	}
	if size == 0 {
		store(pp, uint64(0))
		return 0
	}
	b := poolAlloc(size)
	if b == nil {
		// resident from the start, as the driver's page-locked memory is: the first copy into
		// it then takes no page fault per page (a 512 MiB device-to-host copy took 3 times as
		// long)
		var err error
		b, err = unix.Mmap(-1, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS|unix.MAP_POPULATE)
		if err != nil {
			vlog.Printf("pinned host allocation of %d bytes failed: %v", size, err)
			return 2 // cudaErrorMemoryAllocation / CUDA_ERROR_OUT_OF_MEMORY
		}
	}
	p := ptrOf(&b[0])
	memory.mu.Lock()
	if memory.pinned == nil {
		memory.pinned = map[uint64][]byte{}
	}
	memory.pinned[p] = b
	memory.host.Add(p, size)
	memory.mu.Unlock()
	store(pp, p)
	return 0
}

func freeHost(p uint64) int64 {
	if p == 0 {
		return 0
	}
	memory.mu.Lock()
	b, ok := memory.pinned[p]
	delete(memory.pinned, p)
	memory.host.Remove(p)
	memory.mu.Unlock()
	if !ok {
		return cudaErrorInvalidValue
	}
	if !poolRelease(b) {
		unix.Munmap(b)
	}
	return 0
}

// poolAlloc takes a pinned allocation of size bytes from the session's pool (pool.go), where
// there is one (one server) and it has room; nil otherwise.
func poolAlloc(size uint64) []byte {
	s := poolSession()
	if s == nil || size < poolMin {
		return nil
	}
	return s.pool.alloc(size)
}

// poolRelease gives b back to the session's pool if it came from there, once the copies queued
// from the pool are done (the worker may still read it); false if it did not come from there.
func poolRelease(b []byte) bool {
	s := poolSession()
	if s == nil {
		return false
	}
	if _, ok := s.pool.holds(ptrOf(&b[0]), uint64(len(b))); !ok {
		return false
	}
	s.shmMu.Lock()
	if s.pool.pending {
		s.fenceDeferring(ThreadID()) // (a lost session: nothing reads the pool any more)
	}
	s.shmMu.Unlock()
	s.pool.release(b)
	return true
}

// poolSession is the session whose pool pinned allocations use (one server, VGPU_PINNED_MB);
// nil where there is none.
func poolSession() *session {
	if pinnedSize == 0 || multiServers() {
		return nil
	}
	s, err := getSession()
	if err != nil || s.pool == nil {
		return nil
	}
	return s
}

func registerHost(p, size uint64) int64 {
	if p == 0 || size == 0 {
		return cudaErrorInvalidValue
	}
	memory.mu.Lock()
	memory.host.Add(p, size)
	memory.mu.Unlock()
	return 0
}

func unregisterHost(p uint64) int64 {
	memory.mu.Lock()
	defer memory.mu.Unlock()
	if !memory.host.Remove(p) {
		return 62 // cudaErrorHostMemoryNotRegistered (CUDA_ERROR_HOST_MEMORY_NOT_REGISTERED is 713)
	}
	return 0
}

func cudaMallocHost(c *call) int64 {
	arg := cudaMallocHostArgs(c.a)
	return allocHost(arg.ptr(), arg.size())
}

func cudaHostAlloc(c *call) int64 {
	arg := cudaHostAllocArgs(c.a)
	return allocHost(arg.pHost(), arg.size())
}

func cudaFreeHost(c *call) int64 {
	arg := cudaFreeHostArgs(c.a)
	return freeHost(arg.ptr())
}

func cudaHostRegister(c *call) int64 {
	arg := cudaHostRegisterArgs(c.a)
	return registerHost(arg.ptr(), arg.size())
}

func cudaHostUnregister(c *call) int64 {
	arg := cudaHostUnregisterArgs(c.a)
	return unregisterHost(arg.ptr())
}

func cuMemAllocHost_v2(c *call) int64 {
	arg := cuMemAllocHost_v2Args(c.a)
	return allocHost(arg.pp(), arg.bytesize())
}

func cuMemHostAlloc(c *call) int64 {
	arg := cuMemHostAllocArgs(c.a)
	return allocHost(arg.pp(), arg.bytesize())
}

func cuMemFreeHost(c *call) int64 {
	arg := cuMemFreeHostArgs(c.a)
	return freeHost(arg.p())
}

func cuMemHostRegister_v2(c *call) int64 {
	arg := cuMemHostRegister_v2Args(c.a)
	return registerHost(arg.p(), arg.bytesize())
}

func cuMemHostUnregister(c *call) int64 {
	arg := cuMemHostUnregisterArgs(c.a)
	if r := unregisterHost(arg.p()); r != 0 {
		return 713
	}
	return 0
}

func cudaHostGetDevicePointer(c *call) int64 {
	vlog.Once("hostdevptr", "cudaHostGetDevicePointer: the remote GPU cannot address this machine's memory (mapped pinned memory is not supported); returning cudaErrorNotSupported")
	return cudaErrorNotSupported
}

func managed(c *call) int64 {
	vlog.Once("managed", "%s: managed (unified) memory is not supported by vgpu yet; returning error %d", c.f.Name, c.lib.Info().NotSupported)
	return int64(c.lib.Info().NotSupported)
}

func cudaMallocManaged(c *call) int64 { return managed(c) }
func cuMemAllocManaged(c *call) int64 { return managed(c) }

// ---- device memory through the runtime ----

func cudaFree(c *call) int64 {
	arg := cudaFreeArgs(c.a)
	if arg.devPtr() == 0 {
		return 0
	}
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	return dispatchRow(api.LibCuda, api.IDcuMemFree_v2, arg.devPtr())
}

func cudaMallocPitch(c *call) int64 {
	arg := cudaMallocPitchArgs(c.a)
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	return dispatchRow(api.LibCuda, api.IDcuMemAllocPitch_v2, arg.devPtr(), arg.pitch(), arg.width(), arg.height(), 4)
}

func cudaPointerGetAttributes(c *call) int64 {
	arg := cudaPointerGetAttributesArgs(c.a)
	if arg.attributes() == 0 {
		return cudaErrorInvalidValue
	}
	p := arg.ptr()
	// struct cudaPointerAttributes: type, device, devicePointer, hostPointer
	attr := hostBytes(arg.attributes(), 24)
	clear(attr)
	memory.mu.Lock()
	_, _, dev := memory.dev.Find(p, 1)
	_, _, host := memory.host.Find(p, 1)
	memory.mu.Unlock()
	if !dev && multiServers() {
		s, _ := ownerOf(p)
		dev = s != nil
	}
	device := thread().device
	if dev && multiServers() {
		// the device of the server that holds it, as that server's driver says
		ord := heapNew[int32]()
		attr9 := heapNew[uint32]()
		*attr9 = 9 // CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
		data := heapNew[uint64]()
		*data = ptrOf(ord)
		if r := dispatchRow(api.LibCuda, api.IDcuPointerGetAttributes, 1, ptrOf(attr9), ptrOf(data), p); r == 0 && *ord >= 0 {
			device = *ord
		}
	}
	switch {
	case dev:
		binary.LittleEndian.PutUint32(attr[0:], 2)
		binary.LittleEndian.PutUint32(attr[4:], uint32(device))
		binary.LittleEndian.PutUint64(attr[8:], p)
	case host:
		binary.LittleEndian.PutUint32(attr[0:], 1)
		binary.LittleEndian.PutUint32(attr[4:], uint32(thread().device))
		binary.LittleEndian.PutUint64(attr[16:], p)
	}
	return 0
}

func cudaDeviceEnablePeerAccess(c *call) int64 {
	arg := cudaDeviceEnablePeerAccessArgs(c.a)
	if r := rtInit(); r != 0 {
		return int64(r)
	}
	// Peer access needs a second device; with the calling thread's own device it is invalid,
	// as natively.
	if int32(uint32(arg.peerDevice())) == thread().device {
		return cudaErrorInvalidDevice
	}
	if _, r := rtDevice(int32(uint32(arg.peerDevice()))); r != 0 {
		return int64(r)
	}
	vlog.Once("peer", "cudaDeviceEnablePeerAccess between remote GPUs is not supported by vgpu yet")
	return cudaErrorNotSupported
}

// ---- copies ----

// copyKind resolves cudaMemcpyDefault by where the pointers are.
func copyKind(dst, src, kind uint64) uint64 {
	if kind != cudaMemcpyDefault {
		return kind
	}
	d, s := isDevice(dst), isDevice(src)
	switch {
	case d && s:
		return cudaMemcpyDeviceToDevice
	case d:
		return cudaMemcpyHostToDevice
	case s:
		return cudaMemcpyDeviceToHost
	}
	return cudaMemcpyHostToHost
}

// memcpyAny is every runtime copy: the kind picks the driver call; async ones never wait
// (except device-to-host, whose data must come back before the caller reads it).
func memcpyAny(dst, src, n, kind, stream uint64, async bool) int64 {
	if n == 0 {
		return 0
	}
	switch copyKind(dst, src, kind) {
	case cudaMemcpyHostToDevice:
		if async {
			return dispatchRow(api.LibCuda, api.IDcuMemcpyHtoDAsync_v2, dst, src, n, stream)
		}
		return dispatchRow(api.LibCuda, api.IDcuMemcpyHtoD_v2, dst, src, n)
	case cudaMemcpyDeviceToHost:
		if async {
			return dispatchRow(api.LibCuda, api.IDcuMemcpyDtoHAsync_v2, dst, src, n, stream)
		}
		return dispatchRow(api.LibCuda, api.IDcuMemcpyDtoH_v2, dst, src, n)
	case cudaMemcpyDeviceToDevice: // between two servers' devices, staged (multicopy.go)
		if async {
			return dispatchRow(api.LibCuda, api.IDcuMemcpyDtoDAsync_v2, dst, src, n, stream)
		}
		return dispatchRow(api.LibCuda, api.IDcuMemcpyDtoD_v2, dst, src, n)
	case cudaMemcpyHostToHost:
		if async {
			// ordered after the stream's earlier work, as a host-to-host cudaMemcpyAsync is
			if r := dispatchRow(api.LibCuda, api.IDcuStreamSynchronize, stream); r != 0 {
				return r
			}
		}
		copy(hostBytes(dst, int(n)), hostBytes(src, int(n)))
		return 0
	}
	return cudaErrorInvalidMemcpyDirection
}

// cudaMemcpyAny serves cudaMemcpy, cudaMemcpyAsync and their per-thread variants.
func cudaMemcpyAny(c *call) int64 {
	arg := cudaMemcpyAnyArgs(c.a)
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	async := len(c.a) > 4
	stream := uint64(0)
	if async {
		stream = arg.stream()
	}
	if c.f.PTSZ && stream == 0 {
		stream = streamPerThread
	}
	return memcpyAny(arg.dst(), arg.src(), arg.count(), arg.kind(), stream, async)
}

func cudaMemcpyPeerAsync(c *call) int64 {
	arg := cudaMemcpyPeerAsyncArgs(c.a)
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	if multiServers() {
		// the devices name the servers: one runs the copy, two stage it (multicopy.go)
		to, rt := rtDevice(int32(uint32(arg.dstDevice())))
		from, rf := rtDevice(int32(uint32(arg.srcDevice())))
		if rt != 0 || rf != 0 {
			return cudaErrorInvalidDevice
		}
		stream := uint64(0)
		if len(c.a) > 5 {
			stream = arg.stream()
		}
		if to.srv != from.srv {
			return stagedCopy(to.srv, arg.dst(), from.srv, arg.src(), arg.count(), stream)
		}
		if len(c.a) > 5 {
			return callOn(to.srv, api.LibCuda, api.IDcuMemcpyDtoDAsync_v2, arg.dst(), arg.src(), arg.count(), stream)
		}
		return callOn(to.srv, api.LibCuda, api.IDcuMemcpyDtoD_v2, arg.dst(), arg.src(), arg.count())
	}
	if len(c.a) > 5 {
		return dispatchRow(api.LibCuda, api.IDcuMemcpyDtoDAsync_v2, arg.dst(), arg.src(), arg.count(), arg.stream())
	}
	return dispatchRow(api.LibCuda, api.IDcuMemcpyDtoD_v2, arg.dst(), arg.src(), arg.count())
}

// Unified driver copies: the pointers say the direction.
func cuMemcpy(c *call) int64 {
	arg := cuMemcpyArgs(c.a)
	return memcpyAny(arg.dst(), arg.src(), arg.ByteCount(), cudaMemcpyDefault, 0, false)
}

func cuMemcpyAsync(c *call) int64 {
	arg := cuMemcpyAsyncArgs(c.a)
	return memcpyAny(arg.dst(), arg.src(), arg.ByteCount(), cudaMemcpyDefault, arg.hStream(), true)
}

// ---- 2D copies ----

// CUDA_MEMCPY2D offsets (x86-64).
const (
	m2SrcX, m2SrcY, m2SrcType, m2SrcHost, m2SrcDevice, m2SrcArray, m2SrcPitch = 0, 8, 16, 24, 32, 40, 48
	m2DstX, m2DstY, m2DstType, m2DstHost, m2DstDevice, m2DstArray, m2DstPitch = 56, 64, 72, 80, 88, 96, 104
	m2Width, m2Height                                                         = 112, 120
	memTypeHost, memTypeDevice, memTypeArray, memTypeUnified                  = 1, 2, 3, 4
)

// memcpy2D packs the host side's rows into one buffer (or unpacks them from the reply): the
// server copies between the device and its buffer, with the host pitch equal to the width.
func memcpy2D(desc []byte, stream uint64) int64 {
	le := binary.LittleEndian
	d := heapBytes(128)
	copy(d, desc)
	w, h := le.Uint64(d[m2Width:]), le.Uint64(d[m2Height:])
	if w == 0 || h == 0 {
		return 0
	}
	side := func(typ, host, dev int) int {
		t := le.Uint32(d[typ:])
		if t == memTypeUnified {
			if isDevice(le.Uint64(d[dev:])) {
				t = memTypeDevice
			} else {
				t = memTypeHost
				le.PutUint64(d[host:], le.Uint64(d[dev:]))
			}
			le.PutUint32(d[typ:], t)
		}
		return int(t)
	}
	st, dt := side(m2SrcType, m2SrcHost, m2SrcDevice), side(m2DstType, m2DstHost, m2DstDevice)
	if st == memTypeArray || dt == memTypeArray {
		vlog.Once("array2d", "2D copies to or from CUDA arrays are not supported by vgpu yet")
		return int64(api.LibCuda.Info().NotSupported)
	}
	// with several servers the device side names the server; a 2D copy between two servers'
	// devices is refused
	var srv *remoteServer
	if multiServers() {
		if st == memTypeDevice {
			srv = ownerOrCurrent(le.Uint64(d[m2SrcDevice:]))
		}
		if dt == memTypeDevice {
			ds := ownerOrCurrent(le.Uint64(d[m2DstDevice:]))
			if srv != nil && ds != srv {
				code := api.LibCuda.Info().NotSupported
				vlog.Once("cross2d", "a 2D copy between devices of %s and %s is not supported by vgpu (returning %d)", srv, ds, code)
				return int64(code)
			}
			srv = ds
		}
		if stream > 2 {
			if ss, _ := serverOfHandle(stream); srv == nil {
				srv = ss
			}
		}
	}
	if w*h > 1<<30 {
		return cuErrInvalidValue
	}
	var in, out []byte
	if st == memTypeHost {
		src, pitch := le.Uint64(d[m2SrcHost:])+le.Uint64(d[m2SrcX:])+le.Uint64(d[m2SrcY:])*le.Uint64(d[m2SrcPitch:]), le.Uint64(d[m2SrcPitch:])
		in = heapBytes(int(w * h))
		for y := uint64(0); y < h; y++ {
			copy(in[y*w:(y+1)*w], hostBytes(src+y*pitch, int(w)))
		}
		for _, o := range []int{m2SrcX, m2SrcY, m2SrcHost} {
			le.PutUint64(d[o:], 0)
		}
		le.PutUint64(d[m2SrcPitch:], w)
	}
	var dstHost, dstPitch uint64
	if dt == memTypeHost {
		dstHost = le.Uint64(d[m2DstHost:]) + le.Uint64(d[m2DstX:]) + le.Uint64(d[m2DstY:])*le.Uint64(d[m2DstPitch:])
		dstPitch = le.Uint64(d[m2DstPitch:])
		out = heapBytes(int(w * h))
		for _, o := range []int{m2DstX, m2DstY, m2DstHost} {
			le.PutUint64(d[o:], 0)
		}
		le.PutUint64(d[m2DstPitch:], w)
	}
	inPtr, outPtr := uint64(0), uint64(0)
	if in != nil {
		inPtr = ptrOf(&in[0])
	}
	if out != nil {
		outPtr = ptrOf(&out[0])
	}
	var r int64
	if srv != nil {
		r = remoteOn(srv, api.LibCuda, api.IDvgpuMemcpy2D, ptrOf(&d[0]), inPtr, uint64(len(in)), outPtr, uint64(len(out)), stream)
	} else {
		r = remoteRow(api.LibCuda, api.IDvgpuMemcpy2D, ptrOf(&d[0]), inPtr, uint64(len(in)), outPtr, uint64(len(out)), stream)
	}
	runtime.KeepAlive(d) // read through their addresses only
	runtime.KeepAlive(in)
	if r == 0 && out != nil {
		for y := uint64(0); y < h; y++ {
			copy(hostBytes(dstHost+y*dstPitch, int(w)), out[y*w:(y+1)*w])
		}
	}
	return r
}

func cuMemcpy2D_v2(c *call) int64 {
	arg := cuMemcpy2D_v2Args(c.a)
	if arg.pCopy() == 0 {
		return cuErrInvalidValue
	}
	return memcpy2D(hostBytes(arg.pCopy(), 128), 0)
}

func cuMemcpy2DAsync_v2(c *call) int64 {
	arg := cuMemcpy2DAsync_v2Args(c.a)
	if arg.pCopy() == 0 {
		return cuErrInvalidValue
	}
	return memcpy2D(hostBytes(arg.pCopy(), 128), arg.hStream())
}

// cudaMemcpy2DAny serves cudaMemcpy2D(Async) and their per-thread variants.
func cudaMemcpy2DAny(c *call) int64 {
	arg := cudaMemcpy2DAnyArgs(c.a)
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	dst, dpitch, src, spitch, w, h, kind := arg.dst(), arg.dpitch(), arg.src(), arg.spitch(), arg.width(), arg.height(), arg.kind()
	stream := uint64(0)
	if len(c.a) > 7 {
		stream = arg.stream()
	}
	if c.f.PTSZ && stream == 0 {
		stream = streamPerThread
	}
	if w > dpitch || w > spitch {
		return 12 // cudaErrorInvalidPitchValue
	}
	var st, dt uint32
	switch copyKind(dst, src, kind) {
	case cudaMemcpyHostToDevice:
		st, dt = memTypeHost, memTypeDevice
	case cudaMemcpyDeviceToHost:
		st, dt = memTypeDevice, memTypeHost
	case cudaMemcpyDeviceToDevice:
		st, dt = memTypeDevice, memTypeDevice
	case cudaMemcpyHostToHost:
		for y := uint64(0); y < h; y++ {
			copy(hostBytes(dst+y*dpitch, int(w)), hostBytes(src+y*spitch, int(w)))
		}
		return 0
	default:
		return cudaErrorInvalidMemcpyDirection
	}
	d := make([]byte, 128)
	le := binary.LittleEndian
	le.PutUint32(d[m2SrcType:], st)
	le.PutUint32(d[m2DstType:], dt)
	if st == memTypeHost {
		le.PutUint64(d[m2SrcHost:], src)
	} else {
		le.PutUint64(d[m2SrcDevice:], src)
	}
	if dt == memTypeHost {
		le.PutUint64(d[m2DstHost:], dst)
	} else {
		le.PutUint64(d[m2DstDevice:], dst)
	}
	le.PutUint64(d[m2SrcPitch:], spitch)
	le.PutUint64(d[m2DstPitch:], dpitch)
	le.PutUint64(d[m2Width:], w)
	le.PutUint64(d[m2Height:], h)
	return memcpy2D(d, stream)
}

// cudaHostGetFlags: pinned memory of this process is always mapped (unified addressing), as
// natively (cudaHostAllocMapped, 2).
func cudaHostGetFlags(c *call) int64 {
	arg := cudaHostGetFlagsArgs(c.a)
	if arg.pFlags() == 0 {
		return cudaErrorInvalidValue
	}
	memory.mu.Lock()
	_, _, ok := memory.host.Find(c.a[1], 1)
	memory.mu.Unlock()
	if !ok {
		return cudaErrorInvalidValue
	}
	store(arg.pFlags(), uint32(2))
	return 0
}

// memset2D sets each row with an async memset on the stream.
func memset2D(dst, pitch, value, w, h, stream uint64) int64 {
	if w > pitch {
		return 12 // cudaErrorInvalidPitchValue
	}
	for y := uint64(0); y < h; y++ {
		if r := dispatchRow(api.LibCuda, api.IDcuMemsetD8Async, dst+y*pitch, value, w, stream); r != 0 {
			return r
		}
	}
	return 0
}

func cudaMemset2DAny(c *call) int64 {
	arg := cudaMemset2DAnyArgs(c.a)
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	stream := uint64(0)
	if len(c.a) > 5 {
		stream = arg.stream()
	}
	return memset2D(arg.devPtr(), arg.pitch(), arg.value(), arg.width(), arg.height(), stream)
}

func cuMemsetD2D8Async(c *call) int64 {
	arg := cuMemsetD2D8AsyncArgs(c.a)
	return memset2D(arg.dstDevice(), arg.dstPitch(), arg.uc(), arg.Width(), arg.Height(), arg.hStream())
}

var capture struct {
	mu   sync.Mutex
	deps map[int][]byte // per thread: a copy of the last dependency list, in non-Go memory
}

// cuStreamGetCaptureInfo_v3(stream, status*, id*, graph*, deps**, edgeData**, numDeps*).
func cuStreamGetCaptureInfo_v3(c *call) int64 {
	arg := cuStreamGetCaptureInfo_v3Args(c.a)
	status, id, graph, num := heapNew[uint32](), heapNew[uint64](), heapNew[uint64](), heapNew[uint64]()
	deps := heapBytes(512)
	r := remoteRow(api.LibCuda, api.IDvgpuStreamGetCaptureInfo, arg.hStream(), ptrOf(status), ptrOf(id), ptrOf(graph), ptrOf(&deps[0]), ptrOf(num))
	if r != 0 {
		return r
	}
	if arg.captureStatus_out() != 0 {
		store(arg.captureStatus_out(), *status)
	}
	if arg.id_out() != 0 {
		store(arg.id_out(), *id)
	}
	if arg.graph_out() != 0 {
		store(arg.graph_out(), *graph)
	}
	if arg.dependencies_out() != 0 {
		p := uint64(0)
		if *num > 0 {
			capture.mu.Lock()
			if capture.deps == nil {
				capture.deps = map[int][]byte{}
			}
			tid := ThreadID()
			b, ok := capture.deps[tid]
			if !ok {
				var err error
				if b, err = unix.Mmap(-1, 0, 4096, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS); err != nil {
					capture.mu.Unlock()
					return 2
				}
				capture.deps[tid] = b
			}
			copy(b, deps[:8*min(*num, 64)])
			capture.mu.Unlock()
			p = ptrOf(&b[0])
		}
		store(arg.dependencies_out(), p)
	}
	if arg.edgeData_out() != 0 {
		store(arg.edgeData_out(), uint64(0)) // all edges are default edges
	}
	if arg.numDependencies_out() != 0 {
		store(arg.numDependencies_out(), *num)
	}
	return 0
}

// cuMemFree_v2 of NULL succeeds, as the driver's does (a static runtime's cudaFree(NULL)
// reaches it).
func cuMemFree_v2(c *call) int64 {
	arg := cuMemFree_v2Args(c.a)
	if arg.dptr() == 0 {
		return 0
	}
	return remote(c)
}

// cuPointerGetAttributes asks the server's driver, which says how many bytes each attribute
// has, and writes exactly those into the caller's variables. A device ordinal is translated to
// this process's numbering; page-locked host memory (which lives in this process) is described
// here.
func cuPointerGetAttributes(c *call) int64 {
	arg := cuPointerGetAttributesArgs(c.a)
	n, attrs, data, p := uint32(arg.numAttributes()), arg.attributes(), arg.data(), arg.ptr()
	if n == 0 || n > 64 || attrs == 0 || data == 0 {
		return cuErrInvalidValue
	}
	buf := heapBytes(72 * int(n))
	srv := serverList()[0]
	if multiServers() {
		srv = ownerOrCurrent(p) // the server whose memory it is
	}
	if r := callOn(srv, api.LibCuda, api.IDvgpuPointerGetAttributes, attrs, uint64(n), p, ptrOf(&buf[0])); r != 0 {
		return r
	}
	memory.mu.Lock()
	_, _, host := memory.host.Find(p, 1)
	memory.mu.Unlock()
	ids := hostBytes(attrs, 4*int(n))
	ptrs := hostBytes(data, 8*int(n))
	le := binary.LittleEndian
	for i := 0; i < int(n); i++ {
		dst := le.Uint64(ptrs[8*i:])
		l := int(le.Uint64(buf[72*i:]))
		if dst == 0 || l > 64 {
			continue
		}
		v := buf[72*i+8 : 72*i+8+l]
		switch attr := le.Uint32(ids[4*i:]); {
		case attr == 9 && l == 4 && !host: // CU_POINTER_ATTRIBUTE_DEVICE_ORDINAL
			le.PutUint32(v, uint32(clientOrdinal(srv, int32(le.Uint32(v)))))
		case host && attr == 2 && l == 4: // MEMORY_TYPE: CU_MEMORYTYPE_HOST
			le.PutUint32(v, 1)
		case host && (attr == 3 || attr == 4) && l == 8: // DEVICE_POINTER, HOST_POINTER
			le.PutUint64(v, p)
		}
		copy(hostBytes(dst, l), v)
	}
	return 0
}
