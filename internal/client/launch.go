package client

import (
	"encoding/binary"
	"runtime"
	"sync"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/vlog"
)

// Kernels: modules are uploaded once, lazily, when a function in them is first used; each
// function's parameter layout (offset and size of every parameter, from cuFuncGetParamInfo on
// the server) is fetched once; every launch packs its arguments by that layout and is sent
// without waiting for a reply (docs/ARCHITECTURE.md, decisions 9 and 10).

type function struct {
	handle    uint64      // the server's CUfunction
	layout    [][2]uint64 // (offset, size) per parameter
	bytes     uint64      // size of the packed parameter buffer
	maxDynMem uint64      // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, kept current
	// attrs: CU_FUNC_ATTRIBUTE 0 to 15 as cudaFuncGetAttributes last read them (16 round trips),
	// nil until then and after the function's attributes or cache preference are set
	// (kernels.mu). Nothing else changes them: a function's registers, sizes and versions are
	// its binary's.
	attrs *[funcAttrCount]int32
}

// funcAttrCount: the CU_FUNC_ATTRIBUTE values struct cudaFuncAttributes holds (0 to 15).
const funcAttrCount = 16

// A registered fat binary is loaded once per device (into its primary context, as the runtime
// does), so modules and runtime functions are keyed by the client device too.
var kernels struct {
	mu      sync.Mutex
	modules map[[2]uint64]uint64    // (fat binary address, device) -> server CUmodule
	byHost  map[[2]uint64]*function // (host stub address, device) -> function (runtime API)
	byFunc  map[uint64]*function    // server CUfunction -> function (driver API)
	globals map[[2]uint64]uint64    // (module, name address) -> device address
}

const (
	cudaErrorInvalidDeviceFunction = 98
	cudaErrorInvalidSymbol         = 13
	launchCooperative              = 1
	launchPTSZ                     = 2
	maxParams                      = 1024
)

// layoutOf fetches a function's parameter layout.
func layoutOf(f uint64) (*function, int64) {
	kernels.mu.Lock()
	if fn, ok := kernels.byFunc[f]; ok {
		kernels.mu.Unlock()
		return fn, 0
	}
	kernels.mu.Unlock()
	buf := heapBytes(8 + 16*maxParams)
	if r := remoteRow(api.LibCuda, api.IDvgpuFuncGetParamLayout, f, ptrOf(&buf[0]), uint64(len(buf))); r != 0 {
		return nil, r
	}
	n := binary.LittleEndian.Uint64(buf)
	if n > maxParams {
		return nil, cuErrInvalidValue
	}
	fn := &function{handle: f}
	dyn := heapNew[int32]()
	if r := remoteRow(api.LibCuda, api.IDcuFuncGetAttribute, ptrOf(dyn), funcAttrMaxDynamicShared, f); r != 0 {
		return nil, r
	}
	fn.maxDynMem = uint64(*dyn)
	for i := uint64(0); i < n; i++ {
		off, size := binary.LittleEndian.Uint64(buf[8+16*i:]), binary.LittleEndian.Uint64(buf[16+16*i:])
		fn.layout = append(fn.layout, [2]uint64{off, size})
		fn.bytes = max(fn.bytes, off+size)
	}
	kernels.mu.Lock()
	if kernels.byFunc == nil {
		kernels.byFunc = map[uint64]*function{}
	}
	kernels.byFunc[f] = fn
	kernels.mu.Unlock()
	return fn, 0
}

// forgetModule drops what was learnt about driver-API functions (their layouts) and the
// module's globals when a module or library is unloaded: the driver may give the same addresses
// to new ones. (Layouts are cheap to fetch again; the registered fat binaries of the runtime are
// never unloaded, so their functions stay.)
func forgetModule(h uint64) {
	kernels.mu.Lock()
	defer kernels.mu.Unlock()
	kernels.byFunc = nil
	for k := range kernels.globals {
		if k[0] == h {
			delete(kernels.globals, k)
		}
	}
	for fb, m := range kernels.modules {
		if m == h {
			delete(kernels.modules, fb)
		}
	}
}

// moduleOf uploads a registered fat binary once per device (the calling thread's, whose primary
// context rtContext made current).
func moduleOf(fatbin, size uint64, device int32) (uint64, int64) {
	kernels.mu.Lock()
	defer kernels.mu.Unlock()
	key := [2]uint64{fatbin, uint64(uint32(device))}
	if m, ok := kernels.modules[key]; ok {
		return m, 0
	}
	m := heapNew[uint64]()
	if r := remoteRow(api.LibCuda, api.IDvgpuModuleLoadData, ptrOf(m), fatbin, size); r != 0 {
		vlog.Printf("loading a fat binary of %d bytes on the GPU failed with %d", size, r)
		return 0, r
	}
	if kernels.modules == nil {
		kernels.modules = map[[2]uint64]uint64{}
	}
	kernels.modules[key] = *m
	return *m, 0
}

// runtimeFunction resolves a host stub (registered by __cudaRegisterFunction) to its function
// on the server: module upload, cuModuleGetFunction and the layout, each once.
func runtimeFunction(t *threadState, host, fatbin, size, name uint64) (*function, int64) {
	key := [2]uint64{host, uint64(uint32(t.device))}
	kernels.mu.Lock()
	fn, ok := kernels.byHost[key]
	kernels.mu.Unlock()
	if ok {
		return fn, 0
	}
	if fatbin == 0 || size == 0 || name == 0 {
		vlog.Once("unknownfn", "a kernel launch names a function vgpu never saw registered (%#x); returning cudaErrorInvalidDeviceFunction", host)
		return nil, cudaErrorInvalidDeviceFunction
	}
	mod, r := moduleOf(fatbin, size, t.device)
	if r != 0 {
		return nil, r
	}
	h := heapNew[uint64]()
	if r := remoteRow(api.LibCuda, api.IDcuModuleGetFunction, ptrOf(h), mod, name); r != 0 {
		return nil, r
	}
	fn, r = layoutOf(*h)
	if r != 0 {
		return nil, r
	}
	kernels.mu.Lock()
	if kernels.byHost == nil {
		kernels.byHost = map[[2]uint64]*function{}
	}
	kernels.byHost[key] = fn
	kernels.mu.Unlock()
	return fn, 0
}

// pack copies each argument (args[i] points at parameter i) into one buffer by the layout.
func (fn *function) pack(args uint64) ([]byte, int64) {
	buf := heapBytes(int(max(fn.bytes, 1)))
	if len(fn.layout) > 0 && args == 0 {
		return nil, cuErrInvalidValue
	}
	for i, l := range fn.layout {
		p := *(*uint64)(ptrAt(args + 8*uint64(i)))
		if p == 0 {
			return nil, cuErrInvalidValue
		}
		copy(buf[l[0]:l[0]+l[1]], hostBytes(p, int(l[1])))
	}
	return buf[:fn.bytes], 0
}

const funcAttrMaxDynamicShared = 8 // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES

// launchConfigOK checks a launch's shape against the device's limits and the function's
// dynamic shared memory, so a bad configuration fails at the launch, as natively, instead of
// at the next synchronising call.
func launchConfigOK(fn *function, dims []uint64, shmem uint64) bool {
	d, r := dev(thread().device)
	if r != 0 {
		return true // let the server answer
	}
	a := func(id int32) uint64 { v, _ := attribute(d, id); return uint64(v) }
	if dims[3]*dims[4]*dims[5] > a(1) || dims[3] > a(2) || dims[4] > a(3) || dims[5] > a(4) ||
		dims[0] > a(5) || dims[1] > a(6) || dims[2] > a(7) || shmem > fn.maxDynMem {
		return false
	}
	return true
}

// launchRow is the worker's launch (vgpuLaunchKernel, an async row): every launch API ends in it.
var launchRowID, launchRow = api.IDvgpuLaunchKernel, &api.Table[api.IDvgpuLaunchKernel]

// send queues one launch: grid and block (6 words), shared memory, stream, flags, parameters,
// launch attributes, as the row vgpuLaunchKernel, straight to remoteAsync.
func send(fn *function, dims []uint64, shmem, stream, flags uint64, params, attrs []byte) int64 {
	if !launchConfigOK(fn, dims, shmem) {
		return cuErrInvalidValue
	}
	pp, ap := uint64(0), uint64(0)
	if len(params) > 0 {
		pp = ptrOf(&params[0])
	}
	if len(attrs) > 0 {
		ap = ptrOf(&attrs[0])
	}
	r := remoteAsync(&call{id: launchRowID, f: launchRow, lib: api.LibCuda, a: []uint64{fn.handle, dims[0], dims[1], dims[2],
		dims[3], dims[4], dims[5], shmem, stream, flags & launchCooperative, pp, uint64(len(params)), ap, uint64(len(attrs))}})
	runtime.KeepAlive(params) // read through pp and ap only
	runtime.KeepAlive(attrs)
	return r
}

// launchRuntime serves cudaLaunchKernel, __cudaLaunchKernel (nvcc's <<<>>>), cooperative
// launches and their per-thread variants: (func, fatbin, size, name, grid xyz, block xyz, args,
// sharedMem, stream, flags).
func launchRuntime(c *call) int64 {
	arg := launchRuntimeArgs(c.a)
	t, rt := rtThreadContext()
	if rt != 0 {
		return int64(rt)
	}
	fn, r := runtimeFunction(t, arg.symbol(), arg.fatbin(), arg.fatbinSize(), arg.deviceName())
	if r != 0 {
		return r
	}
	params, r := fn.pack(arg.args())
	if r != 0 {
		return r
	}
	stream, flags := arg.stream(), arg.flags()
	if flags&launchPTSZ != 0 && stream == 0 {
		stream = streamPerThread
	}
	return send(fn, c.a[4:10], arg.sharedMem(), stream, flags, params, nil)
}

// launchAttrs copies n CUlaunchAttribute records (72 bytes each) and refuses the ones that carry
// host-side objects (events), which the server could not use.
func launchAttrs(p uint64, n uint64) ([]byte, int64) {
	if n == 0 {
		return nil, 0
	}
	if p == 0 || n > 64 {
		return nil, cuErrInvalidValue
	}
	b := heapBytes(int(72 * n))
	copy(b, hostBytes(p, len(b)))
	for i := uint64(0); i < n; i++ {
		switch binary.LittleEndian.Uint32(b[72*i:]) {
		case 7, 12: // PROGRAMMATIC_EVENT, LAUNCH_COMPLETION_EVENT
			vlog.Once("launchattr", "launch attributes that record events are not supported by vgpu yet")
			return nil, int64(api.LibCuda.Info().NotSupported)
		}
	}
	return b, 0
}

// launchRuntimeEx serves cudaLaunchKernelExC: (func, fatbin, size, name, config, args, flags).
func launchRuntimeEx(c *call) int64 {
	arg := launchRuntimeExArgs(c.a)
	t, rt := rtThreadContext()
	if rt != 0 {
		return int64(rt)
	}
	if arg.config() == 0 {
		return cudaErrorInvalidValue
	}
	fn, r := runtimeFunction(t, arg.symbol(), arg.fatbin(), arg.fatbinSize(), arg.deviceName())
	if r != 0 {
		return r
	}
	// cudaLaunchConfig_t: dim3 grid, dim3 block, size_t dynamicSmemBytes, stream, attrs, numAttrs
	dims, attrs, r := launchConfig(arg.config())
	if r != 0 {
		return r
	}
	params, r := fn.pack(arg.args())
	if r != 0 {
		return r
	}
	cfg := hostBytes(arg.config(), 56)
	stream := binary.LittleEndian.Uint64(cfg[32:])
	if arg.flags()&launchPTSZ != 0 && stream == 0 {
		stream = streamPerThread
	}
	return send(fn, dims, binary.LittleEndian.Uint64(cfg[24:]), stream, 0, params, attrs)
}

// launchConfig reads the grid, block and launch attributes of a CUlaunchConfig or
// cudaLaunchConfig_t (the same 56-byte layout but for the shared memory size's width): grid and
// block (6 u32), then at 32 the stream, 40 the attributes, 48 their count.
func launchConfig(p uint64) ([]uint64, []byte, int64) {
	cfg := hostBytes(p, 56)
	le := binary.LittleEndian
	dims := make([]uint64, 6)
	for i := range dims {
		dims[i] = uint64(le.Uint32(cfg[4*i:]))
	}
	attrs, r := launchAttrs(le.Uint64(cfg[40:]), uint64(le.Uint32(cfg[48:])))
	return dims, attrs, r
}

// driverParams packs a driver launch's arguments: kernelParams, or the extra buffer form
// (CU_LAUNCH_PARAM_BUFFER_POINTER / _SIZE / _END).
func driverParams(fn *function, kernelParams, extra uint64) ([]byte, int64) {
	if kernelParams != 0 || extra == 0 {
		return fn.pack(kernelParams)
	}
	var buf, size uint64
	for i := uint64(0); i < 16; i += 2 {
		key := *(*uint64)(ptrAt(extra + 8*i))
		if key == 0 { // CU_LAUNCH_PARAM_END
			break
		}
		val := *(*uint64)(ptrAt(extra + 8*(i+1)))
		switch key {
		case 1: // CU_LAUNCH_PARAM_BUFFER_POINTER
			buf = val
		case 2: // CU_LAUNCH_PARAM_BUFFER_SIZE
			size = *(*uint64)(ptrAt(val))
		}
	}
	if buf == 0 || size < fn.bytes {
		return nil, cuErrInvalidValue
	}
	out := heapBytes(int(fn.bytes))
	copy(out, hostBytes(buf, int(fn.bytes)))
	return out, 0
}

func driverLaunch(c *call, flags uint64, extra uint64) int64 {
	arg := cuLaunchKernelArgs(c.a) // cuLaunchCooperativeKernel's parameters are cuLaunchKernel's first ten
	fn, r := layoutOf(arg.f())
	if r != 0 {
		return r
	}
	params, r := driverParams(fn, arg.kernelParams(), extra)
	if r != 0 {
		return r
	}
	return send(fn, c.a[1:7], arg.sharedMemBytes(), arg.hStream(), flags, params, nil)
}

func cuLaunchKernel(c *call) int64 {
	arg := cuLaunchKernelArgs(c.a)
	return driverLaunch(c, 0, arg.extra())
}

func cuLaunchCooperativeKernel(c *call) int64 { return driverLaunch(c, launchCooperative, 0) }

// cuLaunchKernelEx(config, f, kernelParams, extra); CUlaunchConfig: grid xyz, block xyz,
// sharedMemBytes (7 u32), hStream, attrs, numAttrs.
func cuLaunchKernelEx(c *call) int64 {
	arg := cuLaunchKernelExArgs(c.a)
	if arg.config() == 0 {
		return cuErrInvalidValue
	}
	fn, r := layoutOf(arg.f())
	if r != 0 {
		return r
	}
	dims, attrs, r := launchConfig(arg.config())
	if r != 0 {
		return r
	}
	params, r := driverParams(fn, arg.kernelParams(), arg.extra())
	if r != 0 {
		return r
	}
	// CUlaunchConfig has a u32 sharedMemBytes where cudaLaunchConfig_t has a size_t
	cfg := hostBytes(arg.config(), 56)
	return send(fn, dims, uint64(binary.LittleEndian.Uint32(cfg[24:])), binary.LittleEndian.Uint64(cfg[32:]), 0, params, attrs)
}

// ---- modules through the driver API ----

// imageSize tells how long a module image is: an ELF cubin by its section table, a fat binary
// by its header, PTX by its terminating NUL.
func imageSize(p uint64) uint64 {
	head := hostBytes(p, 16)
	le := binary.LittleEndian
	switch {
	case string(head[:4]) == "\x7fELF":
		e := hostBytes(p, 64)
		shoff, shentsize, shnum := le.Uint64(e[40:]), uint64(le.Uint16(e[58:])), uint64(le.Uint16(e[60:]))
		end := shoff + shentsize*shnum
		// sections may lie after the section table
		for i := uint64(0); i < shnum; i++ {
			sh := hostBytes(p+shoff+i*shentsize, int(shentsize))
			if le.Uint32(sh[4:]) != 8 { // not SHT_NOBITS
				end = max(end, le.Uint64(sh[24:])+le.Uint64(sh[32:]))
			}
		}
		return end
	case le.Uint32(head) == 0xBA55ED50: // fatBinaryHeader
		return uint64(le.Uint16(head[6:])) + le.Uint64(head[8:])
	case le.Uint32(head) == 0x466243b1: // __fatBinC_Wrapper_t around a fat binary
		return imageSize(*(*uint64)(ptrAt(p + 8)))
	}
	return uint64(len(cStringBytes(p, 1<<30))) + 1
}

// fatbinData unwraps a __fatBinC_Wrapper_t.
func fatbinData(p uint64) uint64 {
	if binary.LittleEndian.Uint32(hostBytes(p, 4)) == 0x466243b1 {
		return *(*uint64)(ptrAt(p + 8))
	}
	return p
}

func loadModule(pmod, image uint64) int64 {
	if pmod == 0 || image == 0 {
		return cuErrInvalidValue
	}
	image = fatbinData(image)
	return dispatchRow(api.LibCuda, api.IDvgpuModuleLoadData, pmod, image, imageSize(image))
}

func cuModuleLoadData(c *call) int64 {
	arg := cuModuleLoadDataArgs(c.a)
	return loadModule(arg.module(), arg.image())
}

func cuModuleLoadDataEx(c *call) int64 {
	arg := cuModuleLoadDataExArgs(c.a)
	return loadModule(arg.module(), arg.image())
}

func cuModuleLoadFatBinary(c *call) int64 {
	arg := cuModuleLoadFatBinaryArgs(c.a)
	return loadModule(arg.module(), arg.fatCubin())
}

func cuLibraryLoadData(c *call) int64 {
	arg := cuLibraryLoadDataArgs(c.a)
	if arg.library() == 0 || arg.code() == 0 {
		return cuErrInvalidValue
	}
	image := fatbinData(arg.code())
	return dispatchRow(api.LibCuda, api.IDvgpuLibraryLoadData, arg.library(), image, 0, 0, 0, 0, 0, 0, imageSize(image))
}

// ---- runtime functions of a host stub ----

func withFunction(c *call, then func(fn *function) int64) int64 {
	t, rt := rtThreadContext()
	if rt != 0 {
		return int64(rt)
	}
	fn, r := runtimeFunction(t, c.a[0], c.a[1], c.a[2], c.a[3])
	if r != 0 {
		return r
	}
	return then(fn)
}

// cudaFuncGetAttributes fills struct cudaFuncAttributes from the CU_FUNC_ATTRIBUTE values.
func cudaFuncGetAttributes(c *call) int64 {
	arg := cudaFuncGetAttributesArgs(c.a)
	return withFunction(c, func(fn *function) int64 {
		if arg.attr() == 0 {
			return cudaErrorInvalidValue
		}
		// field offset <- CU_FUNC_ATTRIBUTE
		fields := []struct {
			off, attr int
			wide      bool
		}{{0, 1, true}, {8, 2, true}, {16, 3, true}, {24, 0, false}, {28, 4, false}, {32, 5, false}, {36, 6, false},
			{40, 7, false}, {44, 8, false}, {48, 9, false}, {52, 10, false}, {56, 11, false}, {60, 12, false},
			{64, 13, false}, {68, 15, false}, {72, 14, false}}
		kernels.mu.Lock()
		attrs := fn.attrs
		kernels.mu.Unlock()
		if attrs == nil {
			attrs = new([funcAttrCount]int32)
			v := heapNew[int32]()
			for k := range attrs {
				if r := remoteRow(api.LibCuda, api.IDcuFuncGetAttribute, ptrOf(v), uint64(k), fn.handle); r != 0 {
					return r
				}
				attrs[k] = *v
			}
			kernels.mu.Lock()
			fn.attrs = attrs
			kernels.mu.Unlock()
		}
		out := hostBytes(arg.attr(), 76)
		for _, f := range fields {
			if f.wide {
				binary.LittleEndian.PutUint64(out[f.off:], uint64(int64(attrs[f.attr])))
			} else {
				binary.LittleEndian.PutUint32(out[f.off:], uint32(attrs[f.attr]))
			}
		}
		return 0
	})
}

// eachFunction calls do, under kernels.mu, on what the client holds of server function f: the
// driver API's entry and every runtime function resolved to it (forgetModule drops the
// former, not the latter).
func eachFunction(f uint64, do func(fn *function)) {
	kernels.mu.Lock()
	defer kernels.mu.Unlock()
	if fn, ok := kernels.byFunc[f]; ok {
		do(fn)
	}
	for _, fn := range kernels.byHost {
		if fn.handle == f {
			do(fn)
		}
	}
}

// attributesChanged forgets the attributes cudaFuncGetAttributes read of server function f.
func attributesChanged(f uint64) { eachFunction(f, func(fn *function) { fn.attrs = nil }) }

// attributeSet follows a setting of attribute attr of server function f to value (r: the
// server's result): its attributes are read again (also after a refusal: what the server holds
// is read), and the launch check keeps its dynamic shared memory limit.
func attributeSet(f, attr, value uint64, r int64) {
	eachFunction(f, func(fn *function) {
		fn.attrs = nil
		if r == 0 && attr == funcAttrMaxDynamicShared {
			fn.maxDynMem = uint64(uint32(value))
		}
	})
}

// cudaGetFuncBySymbol gives the server's CUfunction of a host stub, for the driver API.
func cudaGetFuncBySymbol(c *call) int64 {
	arg := cudaGetFuncBySymbolArgs(c.a)
	return withFunction(c, func(fn *function) int64 {
		if arg.functionPtr() == 0 {
			return cudaErrorInvalidValue
		}
		store(arg.functionPtr(), fn.handle)
		return 0
	})
}

func cudaFuncSetAttribute(c *call) int64 {
	arg := cudaFuncSetAttributeArgs(c.a)
	return withFunction(c, func(fn *function) int64 {
		return setFuncAttribute(fn.handle, arg.attr(), arg.value())
	})
}

// setFuncAttribute sets a function attribute on the server and keeps the launch check's copy
// of the dynamic shared memory limit current.
func setFuncAttribute(f, attr, value uint64) int64 {
	r := remoteRow(api.LibCuda, api.IDcuFuncSetAttribute, f, attr, value)
	attributeSet(f, attr, value, r)
	return r
}

func cuFuncSetAttribute(c *call) int64 {
	arg := cuFuncSetAttributeArgs(c.a)
	return setFuncAttribute(arg.hfunc(), arg.attrib(), arg.value())
}

// cuKernelSetAttribute(attrib, val, kernel, dev): how a static runtime's cudaFuncSetAttribute
// arrives; the kernel is what it launches, so its launch check's limit follows too.
func cuKernelSetAttribute(c *call) int64 {
	arg := cuKernelSetAttributeArgs(c.a)
	r := remote(c)
	attributeSet(arg.kernel(), arg.attrib(), arg.val(), r)
	return r
}

// cuFuncSetCacheConfig: the function's attributes are read again after it (attributesChanged).
func cuFuncSetCacheConfig(c *call) int64 {
	arg := cuFuncSetCacheConfigArgs(c.a)
	defer attributesChanged(arg.hfunc())
	return remote(c)
}

func cudaFuncSetCacheConfig(c *call) int64 {
	arg := cudaFuncSetCacheConfigArgs(c.a)
	return withFunction(c, func(fn *function) int64 {
		defer attributesChanged(fn.handle)
		return remoteRow(api.LibCuda, api.IDcuFuncSetCacheConfig, fn.handle, arg.cacheConfig())
	})
}

// occupancyRuntime: (func, fatbin, size, name, numBlocks, blockSize, dynamicSMemSize, flags).
func occupancyRuntime(c *call) int64 {
	arg := occupancyRuntimeArgs(c.a)
	return withFunction(c, func(fn *function) int64 {
		return remoteRow(api.LibCuda, api.IDcuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags, arg.numBlocks(), fn.handle, arg.blockSize(), arg.dynamicSMemSize(), arg.flags())
	})
}

// ---- device variables (__device__, __constant__) ----

// symbolAddress: (symbol, fatbin, size, name, ...) -> the variable's device address.
func symbolAddress(c *call) (uint64, int64) {
	arg := symbolCopyArgs(c.a) // every symbol row begins (symbol, fatbin, fatbinSize, deviceName)
	t, rt := rtThreadContext()
	if rt != 0 {
		return 0, int64(rt)
	}
	if arg.fatbin() == 0 || arg.deviceName() == 0 {
		return 0, cudaErrorInvalidSymbol
	}
	mod, r := moduleOf(arg.fatbin(), arg.fatbinSize(), t.device)
	if r != 0 {
		return 0, r
	}
	key := [2]uint64{mod, arg.deviceName()}
	kernels.mu.Lock()
	p, ok := kernels.globals[key]
	kernels.mu.Unlock()
	if ok {
		return p, 0
	}
	dptr, bytes := heapNew[uint64](), heapNew[uint64]()
	if r := dispatchRow(api.LibCuda, api.IDcuModuleGetGlobal_v2, ptrOf(dptr), ptrOf(bytes), mod, arg.deviceName()); r != 0 {
		return 0, cudaErrorInvalidSymbol
	}
	kernels.mu.Lock()
	if kernels.globals == nil {
		kernels.globals = map[[2]uint64]uint64{}
	}
	kernels.globals[key] = *dptr
	kernels.mu.Unlock()
	return *dptr, 0
}

func cudaGetSymbolAddress(c *call) int64 {
	arg := cudaGetSymbolAddressArgs(c.a)
	p, r := symbolAddress(c)
	if r != 0 {
		return r
	}
	if arg.devPtr() == 0 {
		return cudaErrorInvalidValue
	}
	store(arg.devPtr(), p)
	return 0
}

func cudaGetSymbolSize(c *call) int64 {
	arg := cudaGetSymbolSizeArgs(c.a)
	if _, r := symbolAddress(c); r != 0 {
		return r
	}
	if arg.size() == 0 {
		return cudaErrorInvalidValue
	}
	store(arg.size(), arg.varSize())
	return 0
}

// symbolCopy serves cudaMemcpyToSymbol/FromSymbol(Async): (symbol, fatbin, size, name, varSize,
// host, count, offset, kind, stream, async).
func symbolCopy(c *call) int64 {
	arg := symbolCopyArgs(c.a)
	p, r := symbolAddress(c)
	if r != 0 {
		return r
	}
	host, count, offset, kind, stream, async := arg.host(), arg.count(), arg.offset(), arg.kind(), arg.stream(), arg.async() != 0
	if offset+count > arg.varSize() {
		return cudaErrorInvalidValue
	}
	to := c.id == api.IDcudaMemcpyToSymbol || c.id == api.IDcudaMemcpyToSymbolAsync
	if to {
		if kind == cudaMemcpyDefault {
			kind = copyKind(p, host, kind)
		}
		return memcpyAny(p+offset, host, count, kind, stream, async)
	}
	if kind == cudaMemcpyDefault {
		kind = copyKind(host, p, kind)
	}
	return memcpyAny(host, p+offset, count, kind, stream, async)
}

// getGlobal serves cuModuleGetGlobal_v2 and cuLibraryGetGlobal, whose two outputs may each be
// NULL (a static runtime asks for the address and the size in separate calls): the call always
// gets both, so the client knows the global's extent for its copy checks.
func getGlobal(c *call) int64 {
	arg := getGlobalArgs(c.a)
	dptr, bytes := heapNew[uint64](), heapNew[uint64]()
	args := append([]uint64(nil), c.a...)
	args[0], args[1] = ptrOf(dptr), ptrOf(bytes)
	r := remote(&call{id: c.id, f: c.f, lib: c.lib, a: args})
	if r == 0 {
		if arg.dptr() != 0 {
			store(arg.dptr(), *dptr)
		}
		if arg.bytes() != 0 {
			store(arg.bytes(), *bytes)
		}
	}
	return r
}
