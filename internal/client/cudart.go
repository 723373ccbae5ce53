package client

import (
	"sync"
	"sync/atomic"

	"github.com/vgpu/vgpu/internal/abi"
	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/vlog"
)

// The runtime API (libcudart.so.12 / .13) is served in the client on top of the driver API, as
// NVIDIA's cudart is: the current device and the last error are per calling thread; contexts are
// the devices' primary contexts, retained on first use.

const (
	cudaErrorNotReady            = 600
	cudaErrorInitializationError = 3
	cudaErrorInvalidDevice       = 101
)

// threadState is cudart's per-thread state, keyed by the calling OS thread (a cgo call runs on
// the C caller's thread, so gettid identifies it).
type threadState struct {
	device    int32
	lastError int32
	flags     uint32
	// srv: with several servers, the server of the thread's current context (nil: none made
	// current by this thread; servers.go)
	srv *remoteServer
	// ctx: the context current on this thread's thread in each server's worker (by the
	// server's position; 0: none, or not known), under primaryContexts.mu; ctxAt: ctxEpoch
	// when it was last set
	ctx   []uint64
	ctxAt uint64
}

// ctxEpoch counts the calls after which a thread's current context may be other than the
// client set (a context destroyed: the driver pops it where it was current; a primary context
// released or reset): a context set before one is not answered by cuCtxGetCurrent.
var ctxEpoch atomic.Uint64

// currentCtx is the context current on the calling thread's thread in srv's worker, as far as
// the client knows (0: none, or not known); primaryContexts.mu is held.
func currentCtx(srv *remoteServer) uint64 { return thread().ctxOn(srv) }

// ctxOn is the context current on t's thread in srv's worker, as far as the client knows (0:
// none, or not known); primaryContexts.mu is held.
func (t *threadState) ctxOn(srv *remoteServer) uint64 {
	if srv.idx < len(t.ctx) {
		return t.ctx[srv.idx]
	}
	return 0
}

// setCurrentCtx records ctx as current on the calling thread's thread in srv's worker;
// primaryContexts.mu is held.
func setCurrentCtx(srv *remoteServer, ctx uint64) {
	t := thread()
	for len(t.ctx) <= srv.idx {
		t.ctx = append(t.ctx, 0)
	}
	t.ctx[srv.idx] = ctx
	t.ctxAt = ctxEpoch.Load()
}

// ThreadsEnded is told of OS threads that have ended (shims/core: a thread-specific key's
// destructor in C records them, and the next call passes them on): their state is forgotten,
// and each server's worker ends the thread it ran their calls on.
func ThreadsEnded(tids []int) {
	threads.mu.Lock()
	for _, tid := range tids {
		delete(threads.m, tid)
	}
	threads.mu.Unlock()
	for _, tid := range tids {
		streams.sendHeldOf(tid) // before the thread's end, on its thread
	}
	for _, srv := range serverList() {
		if s := srv.openSession(); s != nil {
			for _, tid := range tids {
				s.threadEnded(tid)
			}
		}
	}
}

var threads struct {
	mu sync.Mutex
	m  map[int]*threadState
}

// ThreadID is the calling OS thread's id (shims/core sets it to a per-thread cached one; a cgo
// call runs on the C caller's thread, so it identifies the caller). Go callers (tests,
// vgpu-netem) are one thread unless they set it: a goroutine moves between OS threads.
var ThreadID = func() int { return 1 }

func thread() *threadState {
	tid := ThreadID()
	threads.mu.Lock()
	defer threads.mu.Unlock()
	if threads.m == nil {
		threads.m = map[int]*threadState{}
	}
	t := threads.m[tid]
	if t == nil {
		t = &threadState{}
		threads.m[tid] = t
	}
	return t
}

// recordError keeps a failed runtime call's error for cudaGetLastError/cudaPeekAtLastError.
func recordError(c *call, r int64) {
	// (cudaErrorNotReady, from a query, is an answer, not an error: natively it is not recorded)
	if r != 0 && r != cudaErrorNotReady && (c.lib == api.LibCudart12 || c.lib == api.LibCudart13) && c.f.RetType() == "cudaError_t" &&
		c.id != api.IDcudaGetLastError && c.id != api.IDcudaPeekAtLastError {
		thread().lastError = int32(r)
	}
}

// rtInit makes sure the driver is initialised with the device cache loaded, mapping failures to
// the runtime's codes.
func rtInit() int32 {
	if _, r := devicesReady(); r == 0 {
		return 0
	}
	r := dispatchRow(api.LibCuda, api.IDcuInit, 0)
	switch r {
	case 0:
		return 0
	case cuErrNoDevice:
		return cudaErrorNoDevice
	}
	vlog.Once("rt-init", "the CUDA runtime could not initialise the driver (error %d): no CUDA device", r)
	return cudaErrorNoDevice
}

func rtDevice(d int32) (*device, int32) {
	if r := rtInit(); r != 0 {
		return nil, r
	}
	x, r := dev(d)
	if r != 0 {
		return nil, cudaErrorInvalidDevice
	}
	return x, 0
}

// primaryContexts: the primary contexts of the visible devices (server handles), retained on first use. The context
// current on each thread's thread in each server's worker is threadState.ctx, under primaryContexts.mu.
var primaryContexts struct {
	mu  sync.Mutex
	ctx map[int32]uint64
}

// rtContext makes the calling thread's device's primary context current on the server.
func rtContext() int32 {
	_, r := rtThreadContext()
	return r
}

// rtThreadContext is rtContext that also returns the calling thread's state.
func rtThreadContext() (*threadState, int32) {
	t := thread()
	d, r := rtDevice(t.device)
	if r != 0 {
		return t, r
	}
	primaryContexts.mu.Lock()
	defer primaryContexts.mu.Unlock()
	if primaryContexts.ctx == nil {
		primaryContexts.ctx = map[int32]uint64{}
	}
	ctx, ok := primaryContexts.ctx[t.device]
	if !ok {
		p := heapNew[uint64]()
		if r := remoteOn(d.srv, api.LibCuda, api.IDcuDevicePrimaryCtxRetain, ptrOf(p), uint64(uint32(d.ordinal))); r != 0 {
			return t, int32(r)
		}
		ctx = *p
		primaryContexts.ctx[t.device] = ctx
	}
	if currentCtx(d.srv) != ctx {
		if r := remoteOn(d.srv, api.LibCuda, api.IDcuCtxSetCurrent, ctx); r != 0 {
			return t, int32(r)
		}
		setCurrentCtx(d.srv, ctx)
	}
	if srvs.multi && t.srv != d.srv {
		setCurrentServer(d.srv)
	}
	return t, 0
}

func cudaGetDeviceCount(c *call) int64 {
	arg := cudaGetDeviceCountArgs(c.a)
	if arg.count() == 0 {
		return cudaErrorInvalidValue
	}
	if r := rtInit(); r != 0 {
		store(arg.count(), int32(0))
		return int64(r)
	}
	list, _ := devicesReady()
	store(arg.count(), int32(len(list)))
	return 0
}

func cudaGetDevice(c *call) int64 {
	arg := cudaGetDeviceArgs(c.a)
	if arg.device() == 0 {
		return cudaErrorInvalidValue
	}
	if r := rtInit(); r != 0 {
		return int64(r)
	}
	store(arg.device(), thread().device)
	return 0
}

func cudaSetDevice(c *call) int64 {
	arg := cudaSetDeviceArgs(c.a)
	d := int32(uint32(arg.device()))
	if _, r := rtDevice(d); r != 0 {
		return int64(r)
	}
	t := thread()
	t.device = d
	if multiServers() {
		x, _ := dev(d)
		setCurrentServer(x.srv)
	}
	return 0
}

func cudaSetDeviceFlags(c *call) int64 {
	arg := cudaSetDeviceFlagsArgs(c.a)
	if r := rtInit(); r != 0 {
		return int64(r)
	}
	thread().flags = uint32(arg.flags())
	setSched(uint32(arg.flags()))
	return 0
}

func cudaGetDeviceFlags(c *call) int64 {
	arg := cudaGetDeviceFlagsArgs(c.a)
	if arg.flags() == 0 {
		return cudaErrorInvalidValue
	}
	if r := rtInit(); r != 0 {
		return int64(r)
	}
	store(arg.flags(), thread().flags)
	return 0
}

func cudaDeviceGetAttribute(c *call) int64 {
	arg := cudaDeviceGetAttributeArgs(c.a)
	if arg.value() == 0 {
		return cudaErrorInvalidValue
	}
	d, r := rtDevice(int32(uint32(arg.device())))
	if r != 0 {
		return int64(r)
	}
	cu, ok := abi.CudaDeviceAttrToCU(int32(uint32(arg.attr())))
	if !ok {
		return cudaErrorInvalidValue
	}
	v, res := attribute(d, cu)
	if res != 0 {
		return cudaErrorInvalidValue
	}
	store(arg.value(), v)
	return 0
}

// deviceProps serves cudaGetDeviceProperties in the layout of the library that was called.
func deviceProps(c *call) int64 {
	arg := cudaGetDeviceProperties_v2Args(c.a) // cudaGetDeviceProperties' parameters are the same
	if arg.prop() == 0 {
		return cudaErrorInvalidValue
	}
	d, r := rtDevice(int32(uint32(arg.device())))
	if r != 0 {
		return int64(r)
	}
	p := abi.PropFromAttributes(func(a int32) int32 { v, _ := attribute(d, a); return v }, d.name, d.uuid, d.totalMem)
	// Like NVIDIA's runtime, fill the fields and leave the caller's reserved[] tail untouched.
	var b []byte
	if c.lib == api.LibCudart12 {
		b = p.Encode12()[:abi.DeviceProp12ReservedOffset]
	} else {
		b = p.Encode13()[:abi.DeviceProp13ReservedOffset]
	}
	copy(hostBytes(arg.prop(), len(b)), b)
	return 0
}

func cudaGetDeviceProperties(c *call) int64    { return deviceProps(c) }
func cudaGetDeviceProperties_v2(c *call) int64 { return deviceProps(c) }

func cudaDeviceGetPCIBusId(c *call) int64 {
	arg := cudaDeviceGetPCIBusIdArgs(c.a)
	n := int32(uint32(arg.len()))
	if arg.pciBusId() == 0 || n <= 0 {
		return cudaErrorInvalidValue
	}
	d, r := rtDevice(int32(uint32(arg.device())))
	if r != 0 {
		return int64(r)
	}
	putCString(arg.pciBusId(), int(n), d.pciBusID)
	return 0
}

func cudaDeviceGetByPCIBusId(c *call) int64 {
	arg := cudaDeviceGetByPCIBusIdArgs(c.a)
	if arg.device() == 0 || arg.pciBusId() == 0 {
		return cudaErrorInvalidValue
	}
	if r := rtInit(); r != 0 {
		return int64(r)
	}
	i, r := deviceByBusID(string(cStringBytes(arg.pciBusId(), 64)))
	if r != 0 {
		return cudaErrorInvalidDevice
	}
	store(arg.device(), i)
	return 0
}

func cudaMemGetInfo(c *call) int64 {
	arg := cudaMemGetInfoArgs(c.a)
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	free, total := heapNew[uint64](), heapNew[uint64]()
	if r := remoteRow(api.LibCuda, api.IDcuMemGetInfo_v2, ptrOf(free), ptrOf(total)); r != 0 {
		return r
	}
	if arg.free() != 0 {
		store(arg.free(), *free)
	}
	if arg.total() != 0 {
		store(arg.total(), *total)
	}
	return 0
}

func cudaDeviceSynchronize(c *call) int64 {
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	return dispatchRow(api.LibCuda, api.IDcuCtxSynchronize)
}

func cudaGetErrorName(c *call) int64 {
	arg := cudaGetErrorNameArgs(c.a)
	name, ok := abi.CudaErrorNames[int32(uint32(arg.error()))]
	if !ok {
		return int64(internedCString("cudaErrorUnknown"))
	}
	return int64(internedCString(name))
}

func cudaGetErrorString(c *call) int64 {
	arg := cudaGetErrorStringArgs(c.a)
	name, ok := abi.CudaErrorNames[int32(uint32(arg.error()))]
	if !ok {
		return int64(internedCString("unknown error"))
	}
	return int64(internedCString(describeRuntime(name)))
}

func cudaGetLastError(c *call) int64 {
	t := thread()
	r := t.lastError
	t.lastError = 0
	return int64(r)
}

func cudaPeekAtLastError(c *call) int64 { return int64(thread().lastError) }

// cuCtxSetCurrent passes through, remembering the server's current context so the runtime knows
// when it must switch back to a primary context.
func cuCtxSetCurrent(c *call) int64 {
	arg := cuCtxSetCurrentArgs(c.a)
	primaryContexts.mu.Lock()
	defer primaryContexts.mu.Unlock()
	r := remote(c)
	if r == 0 {
		setCurrentCtx(c.server(), arg.ctx())
		setCurrentServer(c.srv)
	}
	return r
}

// cuCtxGetCurrent answers with the context the client made current on the calling thread's
// thread in the worker (cuCtxSetCurrent, cuCtxPushCurrent, cuCtxCreate, the runtime's primary
// context), where it knows one and nothing since may have changed it (ctxEpoch); else it asks.
// PyTorch asks before each cuBLAS call whether a context is current: 27 round trips of a
// training step's 29 (test/gpu/torch_train.py, H100, 2026-12-07 04:14).
func cuCtxGetCurrent(c *call) int64 {
	arg := cuCtxGetCurrentArgs(c.a)
	if arg.pctx() != 0 && !multiServers() {
		srv := serverList()[0]
		primaryContexts.mu.Lock()
		t := thread()
		ctx := t.ctxOn(srv)
		known := ctx != 0 && t.ctxAt == ctxEpoch.Load()
		primaryContexts.mu.Unlock()
		if known {
			if s, r := sessionFor(c); s == nil {
				return r
			} else if s.lost() {
				return c.unreachable()
			}
			*(*uint64)(ptrAt(arg.pctx())) = ctx
			return 0
		}
	}
	return remote(c)
}

// cuCtxDestroy_v2: the driver pops a destroyed context where it was current (ctxEpoch).
func cuCtxDestroy_v2(c *call) int64 {
	r := remote(c)
	ctxEpoch.Add(1)
	return r
}

func cuCtxPushCurrent_v2(c *call) int64 {
	arg := cuCtxPushCurrent_v2Args(c.a)
	primaryContexts.mu.Lock()
	defer primaryContexts.mu.Unlock()
	r := remote(c)
	if r == 0 {
		setCurrentCtx(c.server(), arg.ctx())
		setCurrentServer(c.srv)
	}
	return r
}

func cuCtxPopCurrent_v2(c *call) int64 {
	primaryContexts.mu.Lock()
	defer primaryContexts.mu.Unlock()
	r := remote(c)
	setCurrentCtx(c.server(), 0) // whatever was below is current now; the runtime re-selects its own
	return r
}

// ctxCreated records a context cuCtxCreate made (and made current): the calling thread's current
// one on its server.
func ctxCreated(ctx uint64) {
	if srv, ok := serverOfHandle(ctx); ok {
		setCurrentCtx(srv, ctx)
		setCurrentServer(srv)
	}
}

// cuCtxCreate_v4 is CUDA 13's cuCtxCreate. Without execution-affinity or CIG parameters it is
// cuCtxCreate_v2; those parameters are not supported yet.
func cuCtxCreate_v4(c *call) int64 {
	arg := cuCtxCreate_v4Args(c.a)
	if arg.pctx() == 0 {
		return cuErrInvalidValue
	}
	if p := arg.ctxCreateParams(); p != 0 {
		params := hostBytes(p, 24) // execAffinityParams *, numExecAffinityParams, cigParams *
		for _, b := range params {
			if b != 0 {
				vlog.Once("ctxv4", "cuCtxCreate with execution-affinity or CIG parameters is not supported by vgpu yet")
				return int64(api.LibCuda.Info().NotSupported)
			}
		}
	}
	return dispatchRow(api.LibCuda, api.IDcuCtxCreate_v2, arg.pctx(), arg.flags(), arg.dev())
}
