package api

// cudartTable: libcudart.so.12 and libcudart.so.13, the runtime API (client-side, over the driver API).
var cudartTable = []Func{
	// ---- libcudart.so.12 / .13 ----
	{Name: "cudaGetDeviceCount", Libs: rt, Serve: Local, Params: []P{out("int *", "count", "4")}},
	{Name: "cudaGetDevice", Libs: rt, Serve: Local, Params: []P{out("int *", "device", "4")}},
	{Name: "cudaSetDevice", Libs: rt, Serve: Local, Params: []P{scalar("int", "device")}},
	{Name: "cudaSetDeviceFlags", Libs: rt, Serve: Local, Params: []P{scalar("unsigned int", "flags")}},
	{Name: "cudaGetDeviceFlags", Libs: rt, Serve: Local, Params: []P{out("unsigned int *", "flags", "4")}},
	{Name: "cudaDeviceGetAttribute", Libs: rt, Serve: Local, Params: []P{out("int *", "value", "4"), scalar("cudaDeviceAttr", "attr"), scalar("int", "device")}},
	// One row, two layouts: the 12.x struct (1032 bytes) or the 13.0 one (1008), by the library called.
	{Name: "cudaGetDeviceProperties", Libs: rt, Serve: Local, Params: []P{{C: "struct cudaDeviceProp *", Name: "prop", Kind: HostPtr}, scalar("int", "device")}},
	{Name: "cudaGetDeviceProperties_v2", Libs: []Lib{LibCudart12}, Serve: Local, Params: []P{{C: "struct cudaDeviceProp *", Name: "prop", Kind: HostPtr}, scalar("int", "device")}},
	{Name: "cudaDeviceGetPCIBusId", Libs: rt, Serve: Local, Params: []P{{C: "char *", Name: "pciBusId", Kind: HostPtr}, scalar("int", "len"), scalar("int", "device")}},
	{Name: "cudaDeviceGetByPCIBusId", Libs: rt, Serve: Local, Params: []P{out("int *", "device", "4"), {C: "const char *", Name: "pciBusId", Kind: HostPtr}}},
	{Name: "cudaMemGetInfo", Libs: rt, Serve: Local, Params: []P{out("size_t *", "free", "8"), out("size_t *", "total", "8")}},
	{Name: "cudaDeviceSynchronize", Libs: rt, Serve: Local},
	{Name: "cudaGetErrorString", Libs: rt, Serve: Local, Ret: "const char *", Params: []P{scalar("cudaError_t", "error")}},
	{Name: "cudaGetErrorName", Libs: rt, Serve: Local, Ret: "const char *", Params: []P{scalar("cudaError_t", "error")}},
	{Name: "cudaGetLastError", Libs: rt, Serve: Local},
	{Name: "cudaPeekAtLastError", Libs: rt, Serve: Local},
	{Name: "cudaDriverGetVersion", Libs: rt, Serve: Local, Params: []P{out("int *", "driverVersion", "4")}},
	{Name: "cudaRuntimeGetVersion", Libs: rt, Serve: Local, Params: []P{out("int *", "runtimeVersion", "4")}},

	// ---- memory (issue 4) ----
	fwd("cudaMalloc", "cuMemAlloc_v2", rtOut("void **", "devPtr", "8"), scalar("size_t", "size")),
	{Name: "cudaFree", Libs: rt, Serve: Local, Params: []P{hpC("void *", "devPtr")}},
	{Name: "cudaMallocPitch", Libs: rt, Serve: Local, Params: []P{hpC("void **", "devPtr"), hpC("size_t *", "pitch"), scalar("size_t", "width"), scalar("size_t", "height")}},
	fwd("cudaMemset", "cuMemsetD8_v2", hpC("void *", "devPtr"), scalar("int", "value"), scalar("size_t", "count")),
	fwd("cudaMemset_ptds", "cuMemsetD8_v2", hpC("void *", "devPtr"), scalar("int", "value"), scalar("size_t", "count")),
	fwd("cudaMemsetAsync", "cuMemsetD8Async", hpC("void *", "devPtr"), scalar("int", "value"), scalar("size_t", "count"), rtStream),
	ptsz(fwd("cudaMemsetAsync_ptsz", "cuMemsetD8Async", hpC("void *", "devPtr"), scalar("int", "value"), scalar("size_t", "count"), rtStream)),
	memcpyRow("cudaMemcpy", false), memcpyRow("cudaMemcpy_ptds", false),
	memcpyRow("cudaMemcpyAsync", true), ptsz(memcpyRow("cudaMemcpyAsync_ptsz", true)),
	memcpy2DRow("cudaMemcpy2D", false), memcpy2DRow("cudaMemcpy2D_ptds", false),
	memcpy2DRow("cudaMemcpy2DAsync", true), ptsz(memcpy2DRow("cudaMemcpy2DAsync_ptsz", true)),
	{Name: "cudaMemcpyPeerAsync", Libs: rt, Serve: Local, Params: []P{hpC("void *", "dst"), scalar("int", "dstDevice"), hpC("const void *", "src"), scalar("int", "srcDevice"), scalar("size_t", "count"), rtStream}},
	{Name: "cudaMemcpyPeer", Libs: rt, Serve: Local, Handler: "cudaMemcpyPeerAsync", Params: []P{hpC("void *", "dst"), scalar("int", "dstDevice"), hpC("const void *", "src"), scalar("int", "srcDevice"), scalar("size_t", "count")}},
	{Name: "cudaMallocHost", Libs: rt, Serve: Local, Params: []P{hpC("void **", "ptr"), scalar("size_t", "size")}},
	{Name: "cudaHostAlloc", Libs: rt, Serve: Local, Params: []P{hpC("void **", "pHost"), scalar("size_t", "size"), scalar("unsigned int", "flags")}},
	{Name: "cudaFreeHost", Libs: rt, Serve: Local, Params: []P{hpC("void *", "ptr")}},
	{Name: "cudaHostRegister", Libs: rt, Serve: Local, Params: []P{hpC("void *", "ptr"), scalar("size_t", "size"), scalar("unsigned int", "flags")}},
	{Name: "cudaHostUnregister", Libs: rt, Serve: Local, Params: []P{hpC("void *", "ptr")}},
	{Name: "cudaHostGetDevicePointer", Libs: rt, Serve: Local, Params: []P{hpC("void **", "pDevice"), hpC("void *", "pHost"), scalar("unsigned int", "flags")}},
	{Name: "cudaMallocManaged", Libs: rt, Serve: Local, Params: []P{hpC("void **", "devPtr"), scalar("size_t", "size"), scalar("unsigned int", "flags")}},
	{Name: "cudaHostGetFlags", Libs: rt, Serve: Local, Params: []P{hpC("unsigned int *", "pFlags"), hpC("void *", "pHost")}},
	{Name: "cudaMemset2D", Libs: rt, Serve: Local, Handler: "cudaMemset2DAny", Params: []P{hpC("void *", "devPtr"), scalar("size_t", "pitch"), scalar("int", "value"), scalar("size_t", "width"), scalar("size_t", "height")}},
	{Name: "cudaMemset2DAsync", Libs: rt, Serve: Local, Handler: "cudaMemset2DAny", Params: []P{hpC("void *", "devPtr"), scalar("size_t", "pitch"), scalar("int", "value"), scalar("size_t", "width"), scalar("size_t", "height"), rtStream}},
	{Name: "cudaPointerGetAttributes", Libs: rt, Serve: Local, Params: []P{hpC("struct cudaPointerAttributes *", "attributes"), hpC("const void *", "ptr")}},
	fwd("cudaDeviceCanAccessPeer", "cuDeviceCanAccessPeer", rtOut("int *", "canAccessPeer", "4"), scalar("int", "device"), scalar("int", "peerDevice")),
	{Name: "cudaDeviceEnablePeerAccess", Libs: rt, Serve: Local, Params: []P{scalar("int", "peerDevice"), scalar("unsigned int", "flags")}},

	// ---- streams and events ----
	fwd("cudaStreamCreate", "cuStreamCreate", rtOutH("cudaStream_t *", "pStream")),
	fwd("cudaStreamCreateWithFlags", "cuStreamCreate", rtOutH("cudaStream_t *", "pStream"), scalar("unsigned int", "flags")),
	fwd("cudaStreamCreateWithPriority", "cuStreamCreateWithPriority", rtOutH("cudaStream_t *", "pStream"), scalar("unsigned int", "flags"), scalar("int", "priority")),
	fwd("cudaStreamDestroy", "cuStreamDestroy_v2", rtStream),
	fwd("cudaStreamSynchronize", "cuStreamSynchronize", rtStream), ptsz(fwd("cudaStreamSynchronize_ptsz", "cuStreamSynchronize", rtStream)),
	fwd("cudaStreamQuery", "cuStreamQuery", rtStream), ptsz(fwd("cudaStreamQuery_ptsz", "cuStreamQuery", rtStream)),
	fwd("cudaStreamWaitEvent", "cuStreamWaitEvent", rtStream, rtEvent, scalar("unsigned int", "flags")),
	ptsz(fwd("cudaStreamWaitEvent_ptsz", "cuStreamWaitEvent", rtStream, rtEvent, scalar("unsigned int", "flags"))),
	fwd("cudaStreamGetPriority", "cuStreamGetPriority", rtStream, rtOut("int *", "priority", "4")),
	fwd("cudaStreamGetFlags", "cuStreamGetFlags", rtStream, rtOut("unsigned int *", "flags", "4")),
	ptsz(fwd("cudaStreamGetPriority_ptsz", "cuStreamGetPriority", rtStream, rtOut("int *", "priority", "4"))),
	ptsz(fwd("cudaStreamGetFlags_ptsz", "cuStreamGetFlags", rtStream, rtOut("unsigned int *", "flags", "4"))),
	fwd("cudaDeviceGetStreamPriorityRange", "cuCtxGetStreamPriorityRange", rtOut("int *", "leastPriority", "4"), rtOut("int *", "greatestPriority", "4")),
	{Name: "cudaStreamAddCallback", Libs: rt, Serve: Local, Params: []P{rtStream, hpC("cudaStreamCallback_t", "callback"), hpC("void *", "userData"), scalar("unsigned int", "flags")}},
	{Name: "cudaLaunchHostFunc", Libs: rt, Serve: Local, Params: []P{rtStream, hpC("cudaHostFn_t", "fn"), hpC("void *", "userData")}},
	fwd("cudaEventCreate", "cuEventCreate", rtOutH("cudaEvent_t *", "event")),
	fwd("cudaEventCreateWithFlags", "cuEventCreate", rtOutH("cudaEvent_t *", "event"), scalar("unsigned int", "flags")),
	fwd("cudaEventRecord", "cuEventRecord", rtEvent, rtStream), ptsz(fwd("cudaEventRecord_ptsz", "cuEventRecord", rtEvent, rtStream)),
	fwd("cudaEventRecordWithFlags", "cuEventRecordWithFlags", rtEvent, rtStream, scalar("unsigned int", "flags")),
	ptsz(fwd("cudaEventRecordWithFlags_ptsz", "cuEventRecordWithFlags", rtEvent, rtStream, scalar("unsigned int", "flags"))),
	fwd("cudaEventSynchronize", "cuEventSynchronize", rtEvent),
	fwd("cudaEventQuery", "cuEventQuery", rtEvent),
	fwd("cudaEventElapsedTime", "cuEventElapsedTime_v2", rtOut("float *", "ms", "4"), rtEvent, hpC("cudaEvent_t", "end")),
	fwd("cudaEventDestroy", "cuEventDestroy_v2", rtEvent),

	// ---- graphs ----
	fwd("cudaStreamBeginCapture", "cuStreamBeginCapture_v2", rtStream, scalar("cudaStreamCaptureMode", "mode")),
	ptsz(fwd("cudaStreamBeginCapture_ptsz", "cuStreamBeginCapture_v2", rtStream, scalar("cudaStreamCaptureMode", "mode"))),
	fwd("cudaStreamEndCapture", "cuStreamEndCapture", rtStream, rtOutH("cudaGraph_t *", "pGraph")),
	ptsz(fwd("cudaStreamEndCapture_ptsz", "cuStreamEndCapture", rtStream, rtOutH("cudaGraph_t *", "pGraph"))),
	fwd("cudaStreamIsCapturing", "cuStreamIsCapturing", rtStream, rtOut("cudaStreamCaptureStatus *", "pCaptureStatus", "4")),
	ptsz(fwd("cudaStreamIsCapturing_ptsz", "cuStreamIsCapturing", rtStream, rtOut("cudaStreamCaptureStatus *", "pCaptureStatus", "4"))),
	// CUDA 13's cudaStreamGetCaptureInfo is cuStreamGetCaptureInfo_v3's signature.
	{Name: "cudaStreamGetCaptureInfo", Libs: []Lib{LibCudart13}, Serve: Local, Handler: "forward", Forward: "cuStreamGetCaptureInfo_v3", Params: append([]P{rtStream}, captureInfoOuts...)},
	{Name: "cudaStreamGetCaptureInfo_ptsz", Libs: []Lib{LibCudart13}, Serve: Local, Handler: "forward", PTSZ: true, Forward: "cuStreamGetCaptureInfo_v3", Params: append([]P{rtStream}, captureInfoOuts...)},
	fwd("cudaThreadExchangeStreamCaptureMode", "cuThreadExchangeStreamCaptureMode", hpC("cudaStreamCaptureMode *", "mode")),
	fwd("cudaGraphInstantiate", "cuGraphInstantiateWithFlags", rtOutH("cudaGraphExec_t *", "pGraphExec"), hpC("cudaGraph_t", "graph"), scalar("unsigned long long", "flags")),
	fwd("cudaGraphInstantiateWithFlags", "cuGraphInstantiateWithFlags", rtOutH("cudaGraphExec_t *", "pGraphExec"), hpC("cudaGraph_t", "graph"), scalar("unsigned long long", "flags")),
	fwd("cudaGraphLaunch", "cuGraphLaunch", hpC("cudaGraphExec_t", "graphExec"), rtStream),
	ptsz(fwd("cudaGraphLaunch_ptsz", "cuGraphLaunch", hpC("cudaGraphExec_t", "graphExec"), rtStream)),
	fwd("cudaGraphExecUpdate", "cuGraphExecUpdate_v2", hpC("cudaGraphExec_t", "hGraphExec"), hpC("cudaGraph_t", "hGraph"), hpC("cudaGraphExecUpdateResultInfo *", "resultInfo")),
	fwd("cudaGraphExecDestroy", "cuGraphExecDestroy", hpC("cudaGraphExec_t", "graphExec")),
	fwd("cudaGraphDestroy", "cuGraphDestroy", hpC("cudaGraph_t", "graph")),
	fwd("cudaGraphGetNodes", "cuGraphGetNodes", hpC("cudaGraph_t", "graph"), hpC("cudaGraphNode_t *", "nodes"), hpC("size_t *", "numNodes")),
}

// fwd is a runtime function that is the named driver function with the same arguments.
// Params here only give the C signature; the driver row's describe the marshalling.
func fwd(name, driver string, params ...P) Func {
	return Func{Name: name, Libs: rt, Serve: Local, Handler: "forward", Forward: driver, Params: params}
}

func ptsz(f Func) Func { f.PTSZ = true; return f }

func memcpyRow(name string, async bool) Func {
	ps := []P{hpC("void *", "dst"), hpC("const void *", "src"), scalar("size_t", "count"), scalar("cudaMemcpyKind", "kind")}
	if async {
		ps = append(ps, rtStream)
	}
	return Func{Name: name, Libs: rt, Serve: Local, Handler: "cudaMemcpyAny", Params: ps}
}

func memcpy2DRow(name string, async bool) Func {
	ps := []P{hpC("void *", "dst"), scalar("size_t", "dpitch"), hpC("const void *", "src"), scalar("size_t", "spitch"), scalar("size_t", "width"), scalar("size_t", "height"), scalar("cudaMemcpyKind", "kind")}
	if async {
		ps = append(ps, rtStream)
	}
	return Func{Name: name, Libs: rt, Serve: Local, Handler: "cudaMemcpy2DAny", Params: ps}
}

var (
	rtStream = P{C: "cudaStream_t", Name: "stream", Kind: HostPtr}
	rtEvent  = P{C: "cudaEvent_t", Name: "event", Kind: HostPtr}
)

func rtOut(c, name, size string) P { return P{C: c, Name: name, Kind: HostPtr, Size: size} }
func rtOutH(c, name string) P      { return P{C: c, Name: name, Kind: HostPtr} }
func hpC(c, name string) P {
	return P{C: c, Name: name, Kind: HostPtr}
}

// The outputs of cuStreamGetCaptureInfo_v3 / CUDA 13's cudaStreamGetCaptureInfo.
var captureInfoOuts = []P{hpC("cudaStreamCaptureStatus *", "captureStatus_out"), hpC("unsigned long long *", "id_out"),
	hpC("cudaGraph_t *", "graph_out"), hpC("const cudaGraphNode_t **", "dependencies_out"), hpC("const cudaGraphEdgeData **", "edgeData_out"),
	hpC("size_t *", "numDependencies_out")}
