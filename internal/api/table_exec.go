package api

// execTable: the driver API rows of execution (issue 4): memory, modules and kernels, launches,
// streams and events, graphs, virtual memory management. Launches, async copies, memsets, event
// records and stream waits are Async: the client never waits for them.
var execTable = []Func{
	// ---- memory ----
	{Name: "cuMemAllocPitch_v2", Libs: cu, Params: []P{{C: "CUdeviceptr *", Name: "dptr", Kind: OutDevPtr, Size: "Height", Times: "pPitch"}, out("size_t *", "pPitch", "8"), scalar("size_t", "WidthInBytes"), scalar("size_t", "Height"), scalar("unsigned int", "ElementSizeBytes")}, Since: 3020},
	{Name: "cuMemcpyDtoHAsync_v2", Stream: StreamWork, Shm: ShmDtoH, Idles: true, Libs: cu, Handler: "cuMemcpyDtoHAsync_v2", Syncs: true, Chunk: "ByteCount", Params: []P{{C: "void *", Name: "dstHost", Kind: OutBuf, Size: "ByteCount"}, devRange("srcDevice", "ByteCount", 1), scalar("size_t", "ByteCount"), stream("hStream")}, Since: 3020},
	{Name: "cuMemsetD2D8Async", Libs: cu, Serve: Local, Params: []P{{C: "CUdeviceptr", Name: "dstDevice", Kind: HostPtr}, scalar("size_t", "dstPitch"), scalar("unsigned char", "uc"), scalar("size_t", "Width"), scalar("size_t", "Height"), {C: "CUstream", Name: "hStream", Kind: HostPtr}}},
	{Name: "cuMemsetD16Async", Libs: cu, Serve: Async, Params: []P{devRange("dstDevice", "N", 2), scalar("unsigned short", "us"), scalar("size_t", "N"), stream("hStream")}},
	{Name: "cuMemcpyPeerAsync", Libs: cu, Handler: "cuMemcpyPeerAsync", Serve: Async, Params: []P{devRange("dstDevice", "ByteCount", 1), ctxArg("dstContext"), devRange("srcDevice", "ByteCount", 1), ctxArg("srcContext"), scalar("size_t", "ByteCount"), stream("hStream")}},
	{Name: "cuMemcpyPeer", Stream: StreamWork, Libs: cu, Handler: "cuMemcpyPeer", Syncs: true, Params: []P{devRange("dstDevice", "ByteCount", 1), ctxArg("dstContext"), devRange("srcDevice", "ByteCount", 1), ctxArg("srcContext"), scalar("size_t", "ByteCount")}},
	// Unified copies: both sides device memory here (the client routes host pointers to HtoD/DtoH).
	{Name: "cuMemcpyAsync", Libs: cu, Serve: Local, Params: []P{{C: "CUdeviceptr", Name: "dst", Kind: HostPtr}, {C: "CUdeviceptr", Name: "src", Kind: HostPtr}, scalar("size_t", "ByteCount"), stream("hStream")}},
	{Name: "cuMemcpy", Libs: cu, Serve: Local, Params: []P{{C: "CUdeviceptr", Name: "dst", Kind: HostPtr}, {C: "CUdeviceptr", Name: "src", Kind: HostPtr}, scalar("size_t", "ByteCount")}},
	// cuMemcpy2D: the client packs the host side's rows; the server copies from or into its buffer.
	{Name: "cuMemcpy2D_v2", Libs: cu, Serve: Local, Params: []P{{C: "const CUDA_MEMCPY2D *", Name: "pCopy", Kind: HostPtr}}, Since: 3020},
	{Name: "cuMemcpy2DAsync_v2", Libs: cu, Serve: Local, Params: []P{{C: "const CUDA_MEMCPY2D *", Name: "pCopy", Kind: HostPtr}, stream("hStream")}, Since: 3020},
	{Name: "vgpuMemcpy2D", Libs: cu, Internal: true, Syncs: true, Params: []P{{C: "const CUDA_MEMCPY2D *", Name: "desc", Kind: InBuf, Size: "128"}, {C: "void *", Name: "hostIn", Kind: InBuf, Size: "inBytes"}, scalar("size_t", "inBytes"), {C: "void *", Name: "hostOut", Kind: OutBuf, Size: "outBytes", Nullable: true}, scalar("size_t", "outBytes"), stream("hStream")}},
	// Bulk copies through the client's shared memory (unix sockets): device range, offset in
	// the shared memory, bytes, stream. Synchronous: the client reuses the region after the reply.
	{Name: "vgpuShmHtoD", Libs: cu, Internal: true, Syncs: true, NoLog: true, Params: []P{devRange("dst", "n", 1), scalar("size_t", "offset"), scalar("size_t", "n"), stream("hStream")}},
	{Name: "vgpuShmDtoH", Libs: cu, Internal: true, Syncs: true, NoLog: true, Params: []P{devRange("src", "n", 1), scalar("size_t", "offset"), scalar("size_t", "n"), stream("hStream")}},
	// An async upload from the shared memory's ring, or from the program's pinned memory in its
	// pool (the client's cuMemcpyHtoDAsync; internal/client/pool.go): nobody waits for it; the
	// client reuses those bytes only after vgpuShmFence, which returns once every such copy has
	// finished (or, for the pool, after a synchronisation of the stream that waited).
	{Name: "vgpuShmHtoDAsync", Libs: cu, Internal: true, Serve: Async, NoLog: true, Params: []P{devRange("dst", "n", 1), scalar("size_t", "offset"), scalar("size_t", "n"), stream("hStream")}},
	{Name: "vgpuShmFence", Libs: cu, Internal: true, NoLog: true},
	// An async upload over a socket without shared memory (the client's cuMemcpyHtoDAsync) whose
	// bytes are mostly repeats: they travel as runs (remoting.EncodeRuns) and the worker expands
	// them (n bytes, at most 16 MiB) before it queues the copy; nobody waits for it.
	{Name: "vgpuRunsHtoDAsync", Libs: cu, Internal: true, Serve: Async, NoLog: true, Params: []P{devRange("dst", "n", 1), {C: "const void *", Name: "runs", Kind: InBuf, Size: "runsBytes"}, scalar("size_t", "runsBytes"), scalar("size_t", "n"), stream("hStream")}},
	// An async upload over a socket without shared memory to a device address uploaded to before
	// (a program's input buffer, such as a prompt's token embeddings): its 4 KiB blocks sent, or
	// named by their slot in a cache of blocks sent before that both ends keep alike
	// (remoting.BlockCache; slots: the cache's size, stored: the blocks the client had stored
	// before this call, which the worker's count must match). The worker fills the n bytes
	// (at most 16 MiB) and queues the copy; nobody waits for it.
	{Name: "vgpuBlocksHtoDAsync", Libs: cu, Internal: true, Serve: Async, NoLog: true, Params: []P{devRange("dst", "n", 1), {C: "const void *", Name: "blocks", Kind: InBuf, Size: "blocksBytes"}, scalar("size_t", "blocksBytes"), scalar("size_t", "n"), scalar("size_t", "slots"), scalar("size_t", "stored"), stream("hStream")}},
	// The client thread of the frame's header has ended (or the client will name no more calls
	// by its number): the worker ends that thread's own thread (decision 14).
	{Name: "vgpuThreadEnd", Libs: cu, Internal: true, Serve: Async, NoLog: true},
	{Name: "cuDeviceCanAccessPeer", Libs: cu, Handler: "cuDeviceCanAccessPeer", Params: []P{out("int *", "canAccessPeer", "4"), scalar("CUdevice", "dev"), scalar("CUdevice", "peerDev")}},

	// ---- host memory: client memory, never on the server ----
	{Name: "cuMemAllocHost_v2", Libs: cu, Serve: Local, Params: []P{{C: "void **", Name: "pp", Kind: HostPtr}, scalar("size_t", "bytesize")}, Since: 3020},
	{Name: "cuMemHostAlloc", Libs: cu, Serve: Local, Params: []P{{C: "void **", Name: "pp", Kind: HostPtr}, scalar("size_t", "bytesize"), scalar("unsigned int", "Flags")}},
	{Name: "cuMemFreeHost", Libs: cu, Serve: Local, Params: []P{{C: "void *", Name: "p", Kind: HostPtr}}},
	{Name: "cuMemHostRegister_v2", Libs: cu, Serve: Local, Params: []P{{C: "void *", Name: "p", Kind: HostPtr}, scalar("size_t", "bytesize"), scalar("unsigned int", "Flags")}, Since: 6050},
	{Name: "cuMemHostUnregister", Libs: cu, Serve: Local, Params: []P{{C: "void *", Name: "p", Kind: HostPtr}}},
	{Name: "cuMemAllocManaged", Libs: cu, Serve: Local, Params: []P{{C: "CUdeviceptr *", Name: "dptr", Kind: HostPtr}, scalar("size_t", "bytesize"), scalar("unsigned int", "flags")}},

	// ---- virtual memory management (ggml's pool) ----
	{Name: "cuMemCreate", Libs: cu, Handler: "cuMemCreate", Params: []P{outHandle("CUmemGenericAllocationHandle *", "handle", HMem), scalar("size_t", "size"), {C: "const CUmemAllocationProp *", Name: "prop", Kind: InBuf, Size: "32"}, scalar("unsigned long long", "flags")}},
	{Name: "cuMemRelease", Libs: cu, Params: []P{{C: "CUmemGenericAllocationHandle", Name: "handle", Kind: Handle, H: HMem, Frees: true}}},
	{Name: "cuMemAddressReserve", Libs: cu, Params: []P{{C: "CUdeviceptr *", Name: "ptr", Kind: OutDevPtr, Size: "size"}, scalar("size_t", "size"), scalar("size_t", "alignment"), scalar("CUdeviceptr", "addr"), scalar("unsigned long long", "flags")}},
	{Name: "cuMemAddressFree", Libs: cu, Params: []P{{C: "CUdeviceptr", Name: "ptr", Kind: DevPtr, Frees: true}, scalar("size_t", "size")}},
	{Name: "cuMemMap", Libs: cu, Params: []P{devRange("ptr", "size", 1), scalar("size_t", "size"), scalar("size_t", "offset"), {C: "CUmemGenericAllocationHandle", Name: "handle", Kind: Handle, H: HMem}, scalar("unsigned long long", "flags")}},
	{Name: "cuMemUnmap", Libs: cu, Syncs: true, Params: []P{devRange("ptr", "size", 1), scalar("size_t", "size")}},
	{Name: "cuMemSetAccess", Libs: cu, Handler: "cuMemSetAccess", Params: []P{devRange("ptr", "size", 1), scalar("size_t", "size"), {C: "const CUmemAccessDesc *", Name: "desc", Kind: InBuf, Size: "count", Elem: 12}, scalar("size_t", "count")}},

	// ---- modules, libraries, functions ----
	{Name: "cuModuleLoadData", Libs: cu, Serve: Local, Params: []P{{C: "CUmodule *", Name: "module", Kind: HostPtr}, {C: "const void *", Name: "image", Kind: HostPtr}}},
	{Name: "cuModuleLoadDataEx", Libs: cu, Serve: Local, Params: []P{{C: "CUmodule *", Name: "module", Kind: HostPtr}, {C: "const void *", Name: "image", Kind: HostPtr}, scalar("unsigned int", "numOptions"), {C: "CUjit_option *", Name: "options", Kind: HostPtr}, {C: "void **", Name: "optionValues", Kind: HostPtr}}},
	{Name: "cuModuleLoadFatBinary", Libs: cu, Serve: Local, Params: []P{{C: "CUmodule *", Name: "module", Kind: HostPtr}, {C: "const void *", Name: "fatCubin", Kind: HostPtr}}},
	// The server's cuModuleLoadData gets the image from the frame; the size travels as a third
	// argument that the driver function ignores.
	{Name: "vgpuModuleLoadData", Libs: cu, Internal: true, Server: "cuModuleLoadData", Params: []P{outHandle("CUmodule *", "module", HModule), {C: "const void *", Name: "image", Kind: InBuf, Size: "size"}, scalar("size_t", "size")}},
	{Name: "cuModuleUnload", Libs: cu, Params: []P{{C: "CUmodule", Name: "hmod", Kind: Handle, H: HModule, Frees: true}}},
	{Name: "cuModuleGetFunction", Libs: cu, Params: []P{outHandle("CUfunction *", "hfunc", HFunction), {C: "CUmodule", Name: "hmod", Kind: Handle, H: HModule}, {C: "const char *", Name: "name", Kind: InStr}}},
	// The global's range becomes addressable by copies (the server records it).
	{Name: "cuModuleGetGlobal_v2", Libs: cu, Handler: "getGlobal", Params: []P{{C: "CUdeviceptr *", Name: "dptr", Kind: OutDevPtr, Size: "bytes"}, out("size_t *", "bytes", "8"), {C: "CUmodule", Name: "hmod", Kind: Handle, H: HModule}, {C: "const char *", Name: "name", Kind: InStr}}, Since: 3020},
	{Name: "cuLibraryLoadData", Libs: cu, Serve: Local, Params: []P{{C: "CUlibrary *", Name: "library", Kind: HostPtr}, {C: "const void *", Name: "code", Kind: HostPtr}, {C: "CUjit_option *", Name: "jitOptions", Kind: HostPtr}, {C: "void **", Name: "jitOptionsValues", Kind: HostPtr}, scalar("unsigned int", "numJitOptions"), {C: "CUlibraryOption *", Name: "libraryOptions", Kind: HostPtr}, {C: "void **", Name: "libraryOptionValues", Kind: HostPtr}, scalar("unsigned int", "numLibraryOptions")}},
	{Name: "vgpuLibraryLoadData", Libs: cu, Internal: true, Server: "cuLibraryLoadData", Params: []P{outHandle("CUlibrary *", "library", HLibrary), {C: "const void *", Name: "code", Kind: InBuf, Size: "size"}, zero("jitOptions"), zero("jitOptionsValues"), zero("numJitOptions"), zero("libraryOptions"), zero("libraryOptionValues"), zero("numLibraryOptions"), scalar("size_t", "size")}},
	{Name: "cuLibraryUnload", Libs: cu, Params: []P{{C: "CUlibrary", Name: "library", Kind: Handle, H: HLibrary, Frees: true}}},
	{Name: "cuLibraryGetKernel", Libs: cu, Params: []P{outHandle("CUkernel *", "pKernel", HKernel), {C: "CUlibrary", Name: "library", Kind: Handle, H: HLibrary}, {C: "const char *", Name: "name", Kind: InStr}}},
	{Name: "cuLibraryGetModule", Libs: cu, Params: []P{outHandle("CUmodule *", "pMod", HModule), {C: "CUlibrary", Name: "library", Kind: Handle, H: HLibrary}}},
	{Name: "cuLibraryGetGlobal", Libs: cu, Handler: "getGlobal", Params: []P{{C: "CUdeviceptr *", Name: "dptr", Kind: OutDevPtr, Size: "bytes"}, out("size_t *", "bytes", "8"), {C: "CUlibrary", Name: "library", Kind: Handle, H: HLibrary}, {C: "const char *", Name: "name", Kind: InStr}}},
	{Name: "cuKernelGetParamInfo", Libs: cu, Params: []P{{C: "CUkernel", Name: "kernel", Kind: Handle, H: HKernel}, scalar("size_t", "paramIndex"), out("size_t *", "paramOffset", "8"), out("size_t *", "paramSize", "8")}},
	{Name: "cuModuleGetLoadingMode", Libs: cu, Params: []P{out("CUmoduleLoadingMode *", "mode", "4")}, Since: 11070},
	{Name: "cuKernelGetFunction", Libs: cu, Params: []P{outHandle("CUfunction *", "pFunc", HFunction), {C: "CUkernel", Name: "kernel", Kind: Handle, H: HKernel}}},
	{Name: "cuFuncGetParamInfo", Libs: cu, Params: []P{fn("func"), scalar("size_t", "paramIndex"), out("size_t *", "paramOffset", "8"), out("size_t *", "paramSize", "8")}},
	{Name: "cuFuncGetAttribute", Libs: cu, Params: []P{out("int *", "pi", "4"), scalar("CUfunction_attribute", "attrib"), fn("hfunc")}},
	{Name: "cuFuncSetAttribute", Libs: cu, Handler: "cuFuncSetAttribute", Params: []P{fn("hfunc"), scalar("CUfunction_attribute", "attrib"), scalar("int", "value")}},
	{Name: "cuFuncSetCacheConfig", Libs: cu, Handler: "cuFuncSetCacheConfig", Params: []P{fn("hfunc"), scalar("CUfunc_cache", "config")}},
	{Name: "cuOccupancyMaxActiveBlocksPerMultiprocessor", Libs: cu, Params: []P{out("int *", "numBlocks", "4"), fn("func"), scalar("int", "blockSize"), scalar("size_t", "dynamicSMemSize")}},
	{Name: "cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags", Libs: cu, Params: []P{out("int *", "numBlocks", "4"), fn("func"), scalar("int", "blockSize"), scalar("size_t", "dynamicSMemSize"), scalar("unsigned int", "flags")}},
	// Internal: every parameter's (offset, size) of a function in one round trip (16 bytes each,
	// count in the first 8), from cuFuncGetParamInfo on the server.
	{Name: "vgpuFuncGetParamLayout", Libs: cu, Internal: true, Params: []P{fn("func"), {C: "size_t *", Name: "layout", Kind: OutBuf, Size: "bytes"}, scalar("size_t", "bytes")}},

	// ---- launches: the client packs the arguments by the function's layout; never waits ----
	{Name: "cuLaunchKernel", Libs: cu, Serve: Local, Params: []P{{C: "CUfunction", Name: "f", Kind: HostPtr}, scalar("unsigned int", "gridDimX"), scalar("unsigned int", "gridDimY"), scalar("unsigned int", "gridDimZ"), scalar("unsigned int", "blockDimX"), scalar("unsigned int", "blockDimY"), scalar("unsigned int", "blockDimZ"), scalar("unsigned int", "sharedMemBytes"), {C: "CUstream", Name: "hStream", Kind: HostPtr}, {C: "void **", Name: "kernelParams", Kind: HostPtr}, {C: "void **", Name: "extra", Kind: HostPtr}}},
	{Name: "cuLaunchCooperativeKernel", Libs: cu, Serve: Local, Params: []P{{C: "CUfunction", Name: "f", Kind: HostPtr}, scalar("unsigned int", "gridDimX"), scalar("unsigned int", "gridDimY"), scalar("unsigned int", "gridDimZ"), scalar("unsigned int", "blockDimX"), scalar("unsigned int", "blockDimY"), scalar("unsigned int", "blockDimZ"), scalar("unsigned int", "sharedMemBytes"), {C: "CUstream", Name: "hStream", Kind: HostPtr}, {C: "void **", Name: "kernelParams", Kind: HostPtr}}},
	{Name: "cuLaunchKernelEx", Libs: cu, Serve: Local, Params: []P{{C: "const CUlaunchConfig *", Name: "config", Kind: HostPtr}, {C: "CUfunction", Name: "f", Kind: HostPtr}, {C: "void **", Name: "kernelParams", Kind: HostPtr}, {C: "void **", Name: "extra", Kind: HostPtr}}},
	// The one launch on the wire: grid, block, shared memory, stream, flags (1 = cooperative),
	// the packed parameter bytes, and CUlaunchAttribute records (72 bytes each) for cuLaunchKernelEx.
	{Name: "vgpuLaunchKernel", Libs: cu, Internal: true, Serve: Async, NoLog: true, Params: []P{fn("f"), scalar("unsigned int", "gridDimX"), scalar("unsigned int", "gridDimY"), scalar("unsigned int", "gridDimZ"), scalar("unsigned int", "blockDimX"), scalar("unsigned int", "blockDimY"), scalar("unsigned int", "blockDimZ"), scalar("unsigned int", "sharedMemBytes"), stream("hStream"), scalar("unsigned int", "flags"), {C: "void *", Name: "params", Kind: InBuf, Size: "paramBytes"}, scalar("size_t", "paramBytes"), {C: "void *", Name: "attrs", Kind: InBuf, Size: "attrBytes"}, scalar("size_t", "attrBytes")}},

	// ---- streams and events ----
	{Name: "cuStreamCreateWithPriority", Libs: cu, Params: []P{outHandle("CUstream *", "phStream", HStream), scalar("unsigned int", "flags"), scalar("int", "priority")}},
	{Name: "cuStreamGetPriority", Libs: cu, Params: []P{stream("hStream"), out("int *", "priority", "4")}},
	{Name: "cuStreamGetFlags", Libs: cu, Params: []P{stream("hStream"), out("unsigned int *", "flags", "4")}},
	{Name: "cuCtxGetStreamPriorityRange", Libs: cu, Params: []P{out("int *", "leastPriority", "4"), out("int *", "greatestPriority", "4")}},
	{Name: "cuEventRecordWithFlags", Libs: cu, Serve: Async, Params: []P{{C: "CUevent", Name: "hEvent", Kind: Handle, H: HEvent}, stream("hStream"), scalar("unsigned int", "flags")}},

	// ---- graphs (stream capture, as ggml uses them) ----
	{Name: "cuStreamBeginCapture_v2", Libs: cu, Serve: Async, Params: []P{stream("hStream"), scalar("CUstreamCaptureMode", "mode")}, Since: 10010},
	{Name: "cuStreamEndCapture", Libs: cu, Params: []P{stream("hStream"), outHandle("CUgraph *", "phGraph", HGraph)}},
	{Name: "cuStreamIsCapturing", Libs: cu, Params: []P{stream("hStream"), out("CUstreamCaptureStatus *", "captureStatus", "4")}},
	// cuStreamGetCaptureInfo_v3 hands out a pointer to the driver's array of dependency nodes: the
	// client gets a copy (at most 64) in memory of its own.
	{Name: "cuStreamGetCaptureInfo_v3", Libs: cu, Serve: Local, Params: append([]P{{C: "CUstream", Name: "hStream", Kind: HostPtr}}, captureInfoOuts...), Since: 12030},
	// cuPointerGetAttributes: the server asks its driver and says how many bytes it wrote for
	// each attribute (each result in a 64-byte slot after an 8-byte length), so the client
	// writes exactly those into the caller's memory (internal/client/memory.go).
	{Name: "vgpuPointerGetAttributes", Libs: cu, Internal: true, Params: []P{{C: "const CUpointer_attribute *", Name: "attributes", Kind: InBuf, Size: "numAttributes", Elem: 4},
		scalar("unsigned int", "numAttributes"), scalar("CUdeviceptr", "ptr"), {C: "void *", Name: "data", Kind: OutBuf, Size: "numAttributes", Elem: 72}}},
	{Name: "cuPointerGetAttributes", Libs: cu, Serve: Local, Params: []P{scalar("unsigned int", "numAttributes"), {C: "CUpointer_attribute *", Name: "attributes", Kind: HostPtr},
		{C: "void **", Name: "data", Kind: HostPtr}, scalar("CUdeviceptr", "ptr")}, Since: 7000},
	{Name: "cuMemcpy2DUnaligned_v2", Libs: cu, Serve: Local, Handler: "cuMemcpy2D_v2", Params: []P{{C: "const CUDA_MEMCPY2D *", Name: "pCopy", Kind: HostPtr}}, Since: 3020},
	{Name: "cuMemHostGetFlags", Libs: cu, Serve: Local, Handler: "cudaHostGetFlags", Params: []P{{C: "unsigned int *", Name: "pFlags", Kind: HostPtr}, {C: "void *", Name: "p", Kind: HostPtr}}, Since: 2030},
	{Name: "cuKernelGetAttribute", Libs: cu, Params: []P{out("int *", "pi", "4"), scalar("CUfunction_attribute", "attrib"), {C: "CUkernel", Name: "kernel", Kind: Handle, H: HKernel}, scalar("CUdevice", "dev")}, Since: 12000},
	{Name: "cuKernelSetAttribute", Libs: cu, Handler: "cuKernelSetAttribute", Params: []P{scalar("CUfunction_attribute", "attrib"), scalar("int", "val"), {C: "CUkernel", Name: "kernel", Kind: Handle, H: HKernel}, scalar("CUdevice", "dev")}, Since: 12000},
	{Name: "vgpuStreamGetCaptureInfo", Libs: cu, Internal: true, Params: []P{stream("hStream"), out("CUstreamCaptureStatus *", "status", "4"), out("cuuint64_t *", "id", "8"), {C: "CUgraph *", Name: "graph", Kind: OutHandle, H: HGraph, Nullable: true}, {C: "CUgraphNode *", Name: "deps", Kind: OutBuf, Size: "512"}, out("size_t *", "numDeps", "8")}},
	{Name: "cuThreadExchangeStreamCaptureMode", Libs: cu, Params: []P{{C: "CUstreamCaptureMode *", Name: "mode", Kind: InOutVal, Size: "4"}}},
	{Name: "cuGraphInstantiateWithFlags", Libs: cu, Params: []P{outHandle("CUgraphExec *", "phGraphExec", HGraphExec), {C: "CUgraph", Name: "hGraph", Kind: Handle, H: HGraph}, scalar("unsigned long long", "flags")}},
	{Name: "cuGraphLaunch", Libs: cu, Serve: Async, NoLog: true, Params: []P{{C: "CUgraphExec", Name: "hGraphExec", Kind: Handle, H: HGraphExec}, stream("hStream")}},
	// CUgraphExecUpdateResultInfo: result, errorNode, errorFromNode (24 bytes); its node handles
	// mean nothing to the client, the result does.
	{Name: "cuGraphExecUpdate_v2", Libs: cu, OutsOnError: true, Params: []P{{C: "CUgraphExec", Name: "hGraphExec", Kind: Handle, H: HGraphExec}, {C: "CUgraph", Name: "hGraph", Kind: Handle, H: HGraph}, out("CUgraphExecUpdateResultInfo *", "resultInfo", "24")}, Since: 12000},
	{Name: "cuGraphExecDestroy", Libs: cu, Params: []P{{C: "CUgraphExec", Name: "hGraphExec", Kind: Handle, H: HGraphExec, Frees: true}}},
	{Name: "cuGraphDestroy", Libs: cu, Params: []P{{C: "CUgraph", Name: "hGraph", Kind: Handle, H: HGraph, Frees: true}}},
	{Name: "cuGraphGetNodes", Libs: cu, OutsOnError: true, Params: []P{{C: "CUgraph", Name: "hGraph", Kind: Handle, H: HGraph}, {C: "CUgraphNode *", Name: "nodes", Kind: OutBuf, Size: "numNodes", Elem: 8, Nullable: true}, {C: "size_t *", Name: "numNodes", Kind: InOutVal, Size: "8"}}},
}

func ctxArg(name string) P {
	return P{C: "CUcontext", Name: name, Kind: Handle, H: HContext, Nullable: true}
}

// fn is a CUfunction argument; a CUkernel is accepted where a CUfunction is (as the driver does).
func fn(name string) P { return P{C: "CUfunction", Name: name, Kind: Handle, H: HFunction} }

// zero is an argument the server always passes as 0 (options the client cannot send).
func zero(name string) P { return P{C: "void *", Name: name, Kind: HostPtr} }
