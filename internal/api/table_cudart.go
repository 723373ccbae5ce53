package api

// cudartTable: libcudart.so.12 and libcudart.so.13, the runtime API (client-side, over the driver API).
var cudartTable = []Func{
	// ---- libcudart.so.12 / .13 ----
	{Name: "cudaGetDeviceCount", Libs: rt, Mode: Local, Params: []P{out("int *", "count", "4")}},
	{Name: "cudaGetDevice", Libs: rt, Mode: Local, Params: []P{out("int *", "device", "4")}},
	{Name: "cudaSetDevice", Libs: rt, Mode: Local, Params: []P{scalar("int", "device")}},
	{Name: "cudaSetDeviceFlags", Libs: rt, Mode: Local, Params: []P{scalar("unsigned int", "flags")}},
	{Name: "cudaGetDeviceFlags", Libs: rt, Mode: Local, Params: []P{out("unsigned int *", "flags", "4")}},
	{Name: "cudaDeviceGetAttribute", Libs: rt, Mode: Local, Params: []P{out("int *", "value", "4"), scalar("cudaDeviceAttr", "attr"), scalar("int", "device")}},
	// One row, two layouts: the 12.x struct (1032 bytes) or the 13.0 one (1008), by the library called.
	{Name: "cudaGetDeviceProperties", Libs: rt, Mode: Local, Params: []P{{C: "struct cudaDeviceProp *", Name: "prop", Kind: HostPtr}, scalar("int", "device")}},
	{Name: "cudaGetDeviceProperties_v2", Libs: []Lib{LibCudart12}, Mode: Local, Params: []P{{C: "struct cudaDeviceProp *", Name: "prop", Kind: HostPtr}, scalar("int", "device")}},
	{Name: "cudaDeviceGetPCIBusId", Libs: rt, Mode: Local, Params: []P{{C: "char *", Name: "pciBusId", Kind: HostPtr}, scalar("int", "len"), scalar("int", "device")}},
	{Name: "cudaDeviceGetByPCIBusId", Libs: rt, Mode: Local, Params: []P{out("int *", "device", "4"), {C: "const char *", Name: "pciBusId", Kind: HostPtr}}},
	{Name: "cudaMemGetInfo", Libs: rt, Mode: Local, Params: []P{out("size_t *", "free", "8"), out("size_t *", "total", "8")}},
	{Name: "cudaDeviceSynchronize", Libs: rt, Mode: Local},
	{Name: "cudaGetErrorString", Libs: rt, Mode: Local, Ret: "const char *", Params: []P{scalar("cudaError_t", "error")}},
	{Name: "cudaGetErrorName", Libs: rt, Mode: Local, Ret: "const char *", Params: []P{scalar("cudaError_t", "error")}},
	{Name: "cudaGetLastError", Libs: rt, Mode: Local},
	{Name: "cudaPeekAtLastError", Libs: rt, Mode: Local},
	{Name: "cudaDriverGetVersion", Libs: rt, Mode: Local, Params: []P{out("int *", "driverVersion", "4")}},
	{Name: "cudaRuntimeGetVersion", Libs: rt, Mode: Local, Params: []P{out("int *", "runtimeVersion", "4")}}}
