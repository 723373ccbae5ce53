package api

// cudaTable: libcuda.so.1, the driver API.
var cudaTable = []Func{

	// ---- libcuda.so.1: initialisation, versions, errors ----
	{Name: "cuInit", Libs: cu, Handler: "cuInit", Params: []P{scalar("unsigned int", "Flags")}},
	{Name: "cuDriverGetVersion", Libs: cu, Params: []P{out("int *", "driverVersion", "4")}},
	{Name: "cuGetErrorName", Libs: cu, Serve: Local, Params: []P{scalar("CUresult", "error"), {C: "const char **", Name: "pStr", Kind: HostPtr}}},
	// Internal: the host driver's (or NVML's) own text for an error code, cached by the client.
	{Name: "vgpuGetErrorString", Libs: cu, Internal: true, Params: []P{scalar("int", "lib"), scalar("int", "code"), {C: "char *", Name: "buf", Kind: OutBuf, Size: "len"}, scalar("int", "len")}},
	{Name: "cuGetErrorString", Libs: cu, Serve: Local, Params: []P{scalar("CUresult", "error"), {C: "const char **", Name: "pStr", Kind: HostPtr}}},

	// ---- devices ----
	{Name: "cuDeviceGetCount", Libs: cu, Handler: "cuDeviceGetCount", Params: []P{out("int *", "count", "4")}},
	{Name: "cuDeviceGet", Libs: cu, Handler: "cuDeviceGet", Params: []P{out("CUdevice *", "device", "4"), scalar("int", "ordinal")}},
	{Name: "cuDeviceGetName", Libs: cu, Handler: "cuDeviceGetName", Params: []P{{C: "char *", Name: "name", Kind: OutBuf, Size: "len"}, scalar("int", "len"), scalar("CUdevice", "dev")}},
	{Name: "cuDeviceGetUuid", Libs: cu, Handler: "cuDeviceGetUuid", Params: []P{out("CUuuid *", "uuid", "16"), scalar("CUdevice", "dev")}},
	{Name: "cuDeviceGetUuid_v2", Libs: cu, Handler: "cuDeviceGetUuid_v2", Params: []P{out("CUuuid *", "uuid", "16"), scalar("CUdevice", "dev")}, Since: 11040},
	{Name: "cuDeviceTotalMem_v2", Libs: cu, Handler: "cuDeviceTotalMem_v2", Params: []P{out("size_t *", "bytes", "8"), scalar("CUdevice", "dev")}, Since: 3020},
	{Name: "cuDeviceGetAttribute", Libs: cu, Handler: "cuDeviceGetAttribute", Params: []P{out("int *", "pi", "4"), scalar("CUdevice_attribute", "attrib"), scalar("CUdevice", "dev")}},
	{Name: "cuDeviceGetPCIBusId", Libs: cu, Handler: "cuDeviceGetPCIBusId", Params: []P{{C: "char *", Name: "pciBusId", Kind: OutBuf, Size: "len"}, scalar("int", "len"), scalar("CUdevice", "dev")}},
	{Name: "cuDeviceGetByPCIBusId", Libs: cu, Handler: "cuDeviceGetByPCIBusId", Params: []P{out("CUdevice *", "dev", "4"), {C: "const char *", Name: "pciBusId", Kind: InStr}}},

	// Internal batch: every attribute of one device in one round trip (8 bytes each: the value
	// and cuDeviceGetAttribute's result), so the client answers attribute queries locally.
	{Name: "vgpuDeviceGetAttributes", Libs: cu, Internal: true, Params: []P{{C: "int *", Name: "values", Kind: OutBuf, Size: "bytes"}, scalar("size_t", "bytes"), scalar("CUdevice", "dev")}},

	// ---- contexts ----
	{Name: "cuDevicePrimaryCtxRetain", Libs: cu, Params: []P{outHandle("CUcontext *", "pctx", HContext), scalar("CUdevice", "dev")}},
	// The state of a primary context: the client answers it again while it was active
	// (PyTorch asks before most operations), and forgets it when it releases or resets one
	// (cuDevicePrimaryCtxReset_v2: exports_manual.go) or sets its flags
	// (internal/client/primary.go).
	{Name: "cuDevicePrimaryCtxRelease_v2", Libs: cu, Handler: "primaryCtxChange", Params: []P{scalar("CUdevice", "dev")}, Since: 11000},
	{Name: "cuDevicePrimaryCtxRelease", Libs: cu, Handler: "primaryCtxChange", Params: []P{scalar("CUdevice", "dev")}, Since: 7000},
	{Name: "cuDevicePrimaryCtxGetState", Libs: cu, Handler: "cuDevicePrimaryCtxGetState", Params: []P{scalar("CUdevice", "dev"), out("unsigned int *", "flags", "4"), out("int *", "active", "4")}},
	{Name: "cuDevicePrimaryCtxSetFlags_v2", Libs: cu, Handler: "cuDevicePrimaryCtxSetFlags_v2", Params: []P{scalar("CUdevice", "dev"), scalar("unsigned int", "flags")}, Since: 11000},
	// CUDA 13's cuCtxCreate: served with cuCtxCreate_v2 when no affinity or CIG parameters are given.
	{Name: "cuCtxCreate_v4", Libs: cu, Serve: Local, Params: []P{{C: "CUcontext *", Name: "pctx", Kind: HostPtr}, {C: "CUctxCreateParams *", Name: "ctxCreateParams", Kind: HostPtr}, scalar("unsigned int", "flags"), scalar("CUdevice", "dev")}, Since: 12050},
	{Name: "cuCtxPushCurrent_v2", Libs: cu, Handler: "cuCtxPushCurrent_v2", Params: []P{{C: "CUcontext", Name: "ctx", Kind: Handle, H: HContext}}, Since: 4000},
	{Name: "cuCtxPopCurrent_v2", Libs: cu, Handler: "cuCtxPopCurrent_v2", Params: []P{{C: "CUcontext *", Name: "pctx", Kind: OutHandle, H: HContext, Nullable: true}}, Since: 4000},
	{Name: "cuCtxGetFlags", Libs: cu, Params: []P{out("unsigned int *", "flags", "4")}},
	{Name: "cuCtxGetApiVersion", Libs: cu, Params: []P{{C: "CUcontext", Name: "ctx", Kind: Handle, H: HContext, Nullable: true}, out("unsigned int *", "version", "4")}},
	{Name: "cuCtxCreate_v2", Libs: cu, Handler: "cuCtxCreate_v2", Params: []P{outHandle("CUcontext *", "pctx", HContext), scalar("unsigned int", "flags"), scalar("CUdevice", "dev")}, Since: 3020},
	// answered by the client from the context it made current on the thread, while no context was
	// destroyed or primary context released or reset since (internal/client/cudart.go)
	{Name: "cuCtxGetCurrent", Libs: cu, Handler: "cuCtxGetCurrent", Params: []P{{C: "CUcontext *", Name: "pctx", Kind: OutHandle, H: HContext, Nullable: true}}},
	{Name: "cuCtxSetCurrent", Libs: cu, Handler: "cuCtxSetCurrent", Params: []P{{C: "CUcontext", Name: "ctx", Kind: Handle, H: HContext, Nullable: true}}},
	{Name: "cuCtxGetDevice", Libs: cu, Params: []P{out("CUdevice *", "device", "4")}},
	{Name: "cuCtxGetDevice_v2", Libs: cu, Params: []P{out("CUdevice *", "device", "4"), {C: "CUcontext", Name: "ctx", Kind: Handle, H: HContext, Nullable: true}}, Since: 13000},
	{Name: "cuCtxSynchronize", Idles: true, Libs: cu, Handler: "cuCtxSynchronize", Syncs: true, Wait: true},
	{Name: "cuCtxSynchronize_v2", Libs: cu, Serve: Local, Params: []P{{C: "CUcontext", Name: "ctx", Kind: HostPtr}}, Since: 13000},

	// ---- memory ----
	{Name: "cuMemGetInfo_v2", Libs: cu, Params: []P{out("size_t *", "free", "8"), out("size_t *", "total", "8")}, Since: 3020},
	{Name: "cuMemAlloc_v2", Libs: cu, Params: []P{{C: "CUdeviceptr *", Name: "dptr", Kind: OutDevPtr, Size: "bytesize"}, scalar("size_t", "bytesize")}, Since: 3020},
	{Name: "cuMemFree_v2", Libs: cu, Handler: "cuMemFree_v2", Syncs: true, Drains: true, Params: []P{{C: "CUdeviceptr", Name: "dptr", Kind: DevPtr, Frees: true}}, Since: 3020},
	{Name: "cuMemcpyHtoD_v2", Stream: StreamUpload, Shm: ShmHtoD, Libs: cu, Chunk: "ByteCount", Syncs: true, Params: []P{devRange("dstDevice", "ByteCount", 1), {C: "const void *", Name: "srcHost", Kind: InBuf, Size: "ByteCount"}, scalar("size_t", "ByteCount")}, Since: 3020},
	{Name: "cuMemcpyDtoH_v2", Stream: StreamWork, Shm: ShmDtoH, Idles: true, Libs: cu, Handler: "cuMemcpyDtoH_v2", Chunk: "ByteCount", Syncs: true, Params: []P{{C: "void *", Name: "dstHost", Kind: OutBuf, Size: "ByteCount"}, devRange("srcDevice", "ByteCount", 1), scalar("size_t", "ByteCount")}, Since: 3020},
	{Name: "cuMemcpyDtoD_v2", Stream: StreamWork, Libs: cu, Handler: "cuMemcpyDtoD_v2", Syncs: true, Params: []P{devRange("dstDevice", "ByteCount", 1), devRange("srcDevice", "ByteCount", 1), scalar("size_t", "ByteCount")}, Since: 3020},
	{Name: "cuMemcpyHtoDAsync_v2", Stream: StreamUpload, Shm: ShmHtoD, Libs: cu, Chunk: "ByteCount", Serve: Async, Params: []P{devRange("dstDevice", "ByteCount", 1), {C: "const void *", Name: "srcHost", Kind: InBuf, Size: "ByteCount"}, scalar("size_t", "ByteCount"), stream("hStream")}, Since: 3020},
	{Name: "cuMemcpyDtoDAsync_v2", Libs: cu, Handler: "cuMemcpyDtoDAsync_v2", Serve: Async, Params: []P{devRange("dstDevice", "ByteCount", 1), devRange("srcDevice", "ByteCount", 1), scalar("size_t", "ByteCount"), stream("hStream")}, Since: 3020},
	{Name: "cuMemsetD8_v2", Stream: StreamUpload, Libs: cu, Params: []P{devRange("dstDevice", "N", 1), scalar("unsigned char", "uc"), scalar("size_t", "N")}, Since: 3020},
	{Name: "cuMemsetD16_v2", Stream: StreamUpload, Libs: cu, Params: []P{devRange("dstDevice", "N", 2), scalar("unsigned short", "us"), scalar("size_t", "N")}, Since: 3020},
	{Name: "cuMemsetD32_v2", Stream: StreamUpload, Libs: cu, Params: []P{devRange("dstDevice", "N", 4), scalar("unsigned int", "ui"), scalar("size_t", "N")}, Since: 3020},
	{Name: "cuMemsetD8Async", Stream: StreamUpload, Libs: cu, Serve: Async, Params: []P{devRange("dstDevice", "N", 1), scalar("unsigned char", "uc"), scalar("size_t", "N"), stream("hStream")}},
	{Name: "cuMemsetD32Async", Stream: StreamUpload, Libs: cu, Serve: Async, Params: []P{devRange("dstDevice", "N", 4), scalar("unsigned int", "ui"), scalar("size_t", "N"), stream("hStream")}},
	{Name: "cuMemGetAllocationGranularity", Libs: cu, Handler: "cuMemGetAllocationGranularity", Params: []P{out("size_t *", "granularity", "8"), {C: "const CUmemAllocationProp *", Name: "prop", Kind: InBuf, Size: "32"}, scalar("CUmemAllocationGranularity_flags", "option")}},

	// ---- streams and events ----
	{Name: "cuStreamCreate", Libs: cu, Params: []P{outHandle("CUstream *", "phStream", HStream), scalar("unsigned int", "Flags")}},
	{Name: "cuStreamDestroy_v2", Libs: cu, Params: []P{{C: "CUstream", Name: "hStream", Kind: Handle, H: HStream, Frees: true}}, Since: 4000},
	{Name: "cuStreamSynchronize", Idles: true, Libs: cu, Handler: "cuStreamSynchronize", Syncs: true, Wait: true, Params: []P{stream("hStream")}},
	{Name: "cuStreamQuery", Libs: cu, Syncs: true, Params: []P{stream("hStream")}},
	{Name: "cuEventCreate", Libs: cu, Params: []P{outHandle("CUevent *", "phEvent", HEvent), scalar("unsigned int", "Flags")}},
	{Name: "cuEventDestroy_v2", Libs: cu, Params: []P{{C: "CUevent", Name: "hEvent", Kind: Handle, H: HEvent, Frees: true}}, Since: 4000},
	{Name: "cuEventRecord", Libs: cu, Serve: Async, Params: []P{{C: "CUevent", Name: "hEvent", Kind: Handle, H: HEvent}, stream("hStream")}},
	{Name: "cuEventSynchronize", Libs: cu, Syncs: true, Wait: true, Params: []P{{C: "CUevent", Name: "hEvent", Kind: Handle, H: HEvent}}},
	{Name: "cuEventQuery", Libs: cu, Params: []P{{C: "CUevent", Name: "hEvent", Kind: Handle, H: HEvent}}},
	{Name: "cuEventElapsedTime_v2", Libs: cu, Params: []P{out("float *", "pMilliseconds", "4"), {C: "CUevent", Name: "hStart", Kind: Handle, H: HEvent}, {C: "CUevent", Name: "hEnd", Kind: Handle, H: HEvent}}, Since: 12080},
	{Name: "cuStreamWaitEvent", Libs: cu, Handler: "cuStreamWaitEvent", Serve: Async, Params: []P{stream("hStream"), {C: "CUevent", Name: "hEvent", Kind: Handle, H: HEvent}, scalar("unsigned int", "Flags")}},
}
