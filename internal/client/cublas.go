package client

import (
	"runtime"
	"sync"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/vlog"
)

// cuBLAS (libcublas.so.13) and cuBLASLt (libcublasLt.so.13): the calls run in the server's real
// libcublas on handles it owns (internal/api/table_cublas.go). What the client adds:
//   - each handle runs in the context it was created in: cublasCreate_v2 selects the calling
//     thread's device's primary context, as cuBLAS (a runtime-API library) does, and every later
//     call with the handle makes that context current on the server again when another is;
//   - the *Ex GEMMs' host scalars are read at the size their compute type gives and sent
//     zero-padded to api.CublasScalarWire bytes;
//   - in device pointer mode a call with scalars goes as its twin (device addresses for alpha,
//     beta, a result); status names and texts, and the versions, are answered here.

// cublasStatus_t codes (cublas_api.h).
const (
	cublasNotInitialized = 1
	cublasInvalidValue   = 7
	cublasNotSupported   = 15
)

var cublasHandles struct {
	mu     sync.Mutex
	ctx    map[uint64]uint64 // server cublasHandle_t -> the server context it was created in
	stream map[uint64]uint64 // server cublasHandle_t -> its stream (absent: the NULL stream)
	// handles in CUBLAS_POINTER_MODE_DEVICE
	devMode map[uint64]bool
}

// cublasSetStream serves cublasSetStream_v2, remembering the stream the handle's work goes to.
func cublasSetStream(c *call) int64 {
	arg := cublasSetStreamArgs(c.a)
	r := cublasCall(c)
	if r == 0 {
		cublasHandles.mu.Lock()
		if cublasHandles.stream == nil {
			cublasHandles.stream = map[uint64]uint64{}
		}
		cublasHandles.stream[arg.handle()] = arg.streamId()
		cublasHandles.mu.Unlock()
	}
	return r
}

// cublasStream is the stream handle h's work goes to; ok is false for an unknown handle.
func cublasStream(h uint64) (uint64, bool) {
	cublasHandles.mu.Lock()
	defer cublasHandles.mu.Unlock()
	if _, ok := cublasHandles.ctx[h]; !ok {
		return 0, false
	}
	return cublasHandles.stream[h], true
}

func isCublasLib(l api.Lib) bool {
	switch l {
	case api.LibCublas13, api.LibCublasLt13, api.LibCublas12, api.LibCublasLt12:
		return true
	}
	return false
}

// cublasBind makes handle h's context current on the server. A handle this process did not
// create (or destroyed) is refused here, as cuBLAS refuses it, even for calls that do not wait
// for the server: every valid handle came from cublasCreate_v2.
func cublasBind(h uint64) int64 {
	cublasHandles.mu.Lock()
	ctx, ok := cublasHandles.ctx[h]
	cublasHandles.mu.Unlock()
	if !ok {
		vlog.Debugf("cuBLAS handle %#x was not created by this process (returning CUBLAS_STATUS_NOT_INITIALIZED)", h)
		return cublasNotInitialized
	}
	srv, _ := serverOfHandle(ctx)
	if srv == nil {
		return cublasNotInitialized
	}
	primaryContexts.mu.Lock()
	defer primaryContexts.mu.Unlock()
	if currentCtx(srv) == ctx {
		return 0
	}
	if r := remoteOn(srv, api.LibCuda, api.IDcuCtxSetCurrent, ctx); r != 0 {
		vlog.Printf("cuBLAS: making handle %#x's context current failed with %d (returning CUBLAS_STATUS_NOT_INITIALIZED)", h, r)
		return cublasNotInitialized
	}
	setCurrentCtx(srv, ctx)
	return 0
}

func cublasKnown(h uint64) bool {
	cublasHandles.mu.Lock()
	defer cublasHandles.mu.Unlock()
	_, ok := cublasHandles.ctx[h]
	return ok
}

// cublasCreate serves cublasCreate_v2 in the calling thread's device's primary context.
func cublasCreate(c *call) int64 {
	arg := cublasCreateArgs(c.a)
	if arg.handle() == 0 {
		return cublasInvalidValue
	}
	if r := rtContext(); r != 0 {
		vlog.Once("cublas-create", "cublasCreate_v2: no CUDA context for the calling thread's device (error %d); returning CUBLAS_STATUS_NOT_INITIALIZED", r)
		return cublasNotInitialized
	}
	srv := serverList()[0]
	if multiServers() {
		srv = currentServer() // the calling thread's device's, selected by rtContext
	}
	primaryContexts.mu.Lock()
	ctx := currentCtx(srv)
	primaryContexts.mu.Unlock()
	c.srv = srv
	r := remote(c)
	if r == 0 {
		h := *(*uint64)(ptrAt(arg.handle()))
		cublasHandles.mu.Lock()
		if cublasHandles.ctx == nil {
			cublasHandles.ctx = map[uint64]uint64{}
		}
		cublasHandles.ctx[h] = ctx
		cublasHandles.mu.Unlock()
	}
	return r
}

func cublasDestroy(c *call) int64 {
	arg := cublasDestroyArgs(c.a)
	if r := cublasBind(arg.handle()); r != 0 {
		return r
	}
	r := remote(c)
	if r == 0 {
		cublasHandles.mu.Lock()
		delete(cublasHandles.ctx, arg.handle())
		delete(cublasHandles.stream, arg.handle())
		delete(cublasHandles.devMode, arg.handle())
		cublasHandles.mu.Unlock()
	}
	return r
}

// cublasCall serves a row whose first argument is a handle: in the handle's context, then as
// the row says (Async rows never wait).
func cublasCall(c *call) int64 {
	if r := cublasBind(c.a[0]); r != 0 {
		return r
	}
	if twin, ok := cublasTwins[c.id]; ok && cublasDeviceMode(c.a[0]) {
		c = &call{id: twin, f: &api.Table[twin], lib: c.lib, a: c.a}
	}
	if c.f.Serve == api.Async {
		return remoteAsync(c)
	}
	return remote(c)
}

// cublasGemmScaled serves cublasGemmEx, cublasGemmBatchedEx and cublasGemmStridedBatchedEx: their
// alpha and beta point to host scalars whose type follows computeType (and a complex Ctype), so
// exactly that many bytes are read and sent zero-padded to the row's fixed 16.
func cublasGemmScaled(c *call) int64 {
	arg := cublasGemmScaledArgs(c.a)
	if cublasDeviceMode(arg.handle()) {
		return cublasCall(c) // device scalars stay where they are
	}
	a, buf, r := cublasScalars(c.f, c.a)
	if r != 0 {
		return r
	}
	r = cublasCall(&call{id: c.id, f: c.f, lib: c.lib, a: a})
	runtime.KeepAlive(buf)
	return r
}

// cublasScalars returns the arguments of an *Ex GEMM with alpha and beta pointing into buf, which
// holds each scalar zero-padded to api.CublasScalarWire bytes (keep buf alive for the call).
func cublasScalars(f *api.Func, args []uint64) ([]uint64, []byte, int64) {
	ia, ib := f.ParamIndex("alpha"), f.ParamIndex("beta")
	computeType := int32(uint32(args[f.ParamIndex("computeType")]))
	n, ok := api.CublasScalarBytes(computeType, int32(uint32(args[f.ParamIndex("Ctype")])))
	if !ok {
		vlog.Once("cublas-compute:"+f.Name, "%s: compute type %d is unknown to vgpu (returning CUBLAS_STATUS_INVALID_VALUE)", f.Name, computeType)
		return nil, nil, cublasInvalidValue
	}
	if args[ia] == 0 || args[ib] == 0 {
		return nil, nil, cublasInvalidValue
	}
	const w = api.CublasScalarWire
	buf := heapBytes(2 * w)
	copy(buf[:n], hostBytes(args[ia], n))
	copy(buf[w:w+n], hostBytes(args[ib], n))
	a := append([]uint64(nil), args...)
	a[ia], a[ib] = ptrOf(&buf[0]), ptrOf(&buf[w])
	return a, buf, 0
}

// ---- pointer mode: the server's handles stay in CUBLAS_POINTER_MODE_HOST ----

// cublasSetPointerMode_v2 records the handle's pointer mode and sets the worker's handle to it:
// in device mode the calls with scalars go as their twins (api.CublasDevicePrefix), whose
// scalars are device addresses.
func cublasSetPointerMode_v2(c *call) int64 {
	arg := cublasSetPointerMode_v2Args(c.a)
	if !cublasKnown(arg.handle()) {
		return cublasNotInitialized
	}
	mode := int32(uint32(arg.mode()))
	if mode != 0 && mode != 1 { // CUBLAS_POINTER_MODE_HOST, _DEVICE
		return cublasInvalidValue
	}
	if cublasDeviceMode(arg.handle()) == (mode == 1) {
		return 0
	}
	if r := cublasBind(arg.handle()); r != 0 {
		return r
	}
	if r := dispatchRow(c.lib, api.IDvgpuCublasSetPointerMode, arg.handle(), uint64(mode)); r != 0 {
		return r
	}
	cublasHandles.mu.Lock()
	if cublasHandles.devMode == nil {
		cublasHandles.devMode = map[uint64]bool{}
	}
	cublasHandles.devMode[arg.handle()] = mode == 1
	cublasHandles.mu.Unlock()
	return 0
}

func cublasGetPointerMode_v2(c *call) int64 {
	arg := cublasGetPointerMode_v2Args(c.a)
	if !cublasKnown(arg.handle()) {
		return cublasNotInitialized
	}
	if arg.mode() == 0 {
		return cublasInvalidValue
	}
	mode := int32(0)
	if cublasDeviceMode(arg.handle()) {
		mode = 1
	}
	store(arg.mode(), mode)
	return 0
}

func cublasDeviceMode(h uint64) bool {
	cublasHandles.mu.Lock()
	defer cublasHandles.mu.Unlock()
	return cublasHandles.devMode[h]
}

// cublasTwins: each row with scalars -> its device-pointer-mode twin.
var cublasTwins = func() map[api.ID]api.ID {
	m := map[api.ID]api.ID{}
	for i := range api.Table {
		if twin, ok := api.DeviceTwin(api.ID(i)); ok {
			m[api.ID(i)] = twin
		}
	}
	return m
}()

// ---- versions ----

// cublasABIVersion is CUBLAS_VERSION (major*10000 + minor*100 + patch) of the ABI the stubs
// export, answered when the server cannot say which libcublas it runs.
const cublasABIVersion = 130000

var cublasVersions struct {
	mu sync.Mutex
	v  map[api.Lib]int64
}

// cublasLibVersion is the server's library version from its GetProperty (major, minor, patch),
// asked once per library.
func cublasLibVersion(lib api.Lib, getProperty api.ID) int64 {
	cublasVersions.mu.Lock()
	defer cublasVersions.mu.Unlock()
	if v, ok := cublasVersions.v[lib]; ok {
		return v
	}
	p := heapNew[int32]()
	var parts [3]int64
	for i := range parts {
		if r := remoteRow(lib, getProperty, uint64(i), ptrOf(p)); r != 0 {
			vlog.Debugf("%s(%d) = %d: answering version %d", api.Table[getProperty].Name, i, r, cublasABIVersion)
			return cublasABIVersion // not cached: a later call may reach the server
		}
		parts[i] = int64(*p)
	}
	v := parts[0]*10000 + parts[1]*100 + parts[2]
	if cublasVersions.v == nil {
		cublasVersions.v = map[api.Lib]int64{}
	}
	cublasVersions.v[lib] = v
	return v
}

func cublasLtGetVersion(c *call) int64 {
	return cublasLibVersion(api.LibCublasLt13, api.IDcublasLtGetProperty)
}

// The CUDA runtime version the libraries were built for: that of libcudart.so.13.
// The CUDA runtime a cuBLAS library was built against: 12.x for the .12 libraries.
func cublasCudart(l api.Lib) int64 {
	if l == api.LibCublas12 || l == api.LibCublasLt12 {
		return int64(runtimeVersions[api.LibCudart12])
	}
	return int64(runtimeVersions[api.LibCudart13])
}

func cublasGetCudartVersion(c *call) int64   { return cublasCudart(c.lib) }
func cublasLtGetCudartVersion(c *call) int64 { return cublasCudart(c.lib) }

// ---- status names and texts ----

// cublasStatusTexts describe the cublasStatus_t codes (vgpu's words).
var cublasStatusTexts = map[int32]string{
	0:  "success",
	1:  "the library was not initialized",
	3:  "the resource allocation failed",
	7:  "an invalid value was used as an argument",
	8:  "the device lacks an architectural feature the call requires",
	11: "an access to GPU memory failed",
	13: "the GPU program failed to execute",
	14: "an internal operation failed",
	15: "the requested functionality is not supported",
	16: "the license check failed",
}

func cublasStatusName(status uint64) int64 {
	if n, ok := api.CublasStatusNames[int32(uint32(status))]; ok {
		return int64(internedCString(n))
	}
	return int64(internedCString("CUBLAS_STATUS_UNKNOWN"))
}

func cublasStatusString(status uint64) int64 {
	if s, ok := cublasStatusTexts[int32(uint32(status))]; ok {
		return int64(internedCString(s))
	}
	return int64(internedCString("unknown error"))
}

func cublasGetStatusName(c *call) int64 {
	arg := cublasGetStatusNameArgs(c.a)
	return cublasStatusName(arg.status())
}

func cublasGetStatusString(c *call) int64 {
	arg := cublasGetStatusStringArgs(c.a)
	return cublasStatusString(arg.status())
}

func cublasLtGetStatusName(c *call) int64 {
	arg := cublasLtGetStatusNameArgs(c.a)
	return cublasStatusName(arg.status())
}

func cublasLtGetStatusString(c *call) int64 {
	arg := cublasLtGetStatusStringArgs(c.a)
	return cublasStatusString(arg.status())
}

// cublasDotEx: the result's size follows resultType. In host pointer mode the call goes as
// vgpuDotEx, which carries that size and waits for the result; in device mode as its twin.
func cublasDotEx(c *call) int64 {
	arg := cublasDotExArgs(c.a)
	if r := cublasBind(arg.handle()); r != 0 {
		return r
	}
	if cublasDeviceMode(arg.handle()) {
		return dispatchRow(c.lib, api.IDvgpuDevScalars_cublasDotEx, c.a[:11]...)
	}
	n, ok := api.CudaDataTypeBytes(int32(uint32(arg.resultType())))
	if !ok || arg.result() == 0 {
		return cublasInvalidValue
	}
	return dispatchRow(c.lib, api.IDvgpuDotEx, append(append([]uint64(nil), c.a[:11]...), uint64(n))...)
}
