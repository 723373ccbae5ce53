package api

// manualTable: the exports whose C definition is hand-written (Manual: true), in
// shims/cuda/manual.c, shims/cuda/exporttable.c, shims/cudart/manual.c and
// shims/nvml/exporttable.c. Those of Mode Stub never enter the core (the mode only gives the id
// a dispatch entry).
var manualTable = []Func{
	// ---- libcuda.so.1: driver entry points (docs/ARCHITECTURE.md, decision 8). Real cudart resolves its ~450
	// driver calls through these and never calls the named exports, so they answer in C, from
	// the table in procaddr_data.go (shims/cuda/zz_procaddr.c), with addresses of our exports.
	{Name: "cuGetProcAddress", Libs: cu, Serve: Stub, Manual: true, Since: 11030, Params: []P{
		{C: "const char *", Name: "symbol", Kind: HostPtr}, {C: "void **", Name: "pfn", Kind: HostPtr},
		scalar("int", "cudaVersion"), scalar("cuuint64_t", "flags")}},
	{Name: "cuGetProcAddress_v2", Libs: cu, Serve: Stub, Manual: true, Since: 12000, Params: []P{
		{C: "const char *", Name: "symbol", Kind: HostPtr}, {C: "void **", Name: "pfn", Kind: HostPtr},
		scalar("int", "cudaVersion"), scalar("cuuint64_t", "flags"),
		{C: "CUdriverProcAddressQueryResult *", Name: "symbolStatus", Kind: HostPtr, Nullable: true}}},

	// ---- libcuda.so.1: the driver's private tables, which a statically linked CUDA runtime
	// (nvcc's default, CuPy's wheels) needs before its first call. Served in C from tables of
	// our own (shims/cuda/exporttable.c); the context resets run the context-local storage's
	// destructors there before they go to the core.
	{Name: "cuGetExportTable", Libs: cu, Serve: Stub, Manual: true, Since: 3000, Params: []P{
		{C: "const void **", Name: "ppExportTable", Kind: HostPtr}, {C: "const CUuuid *", Name: "pExportTableId", Kind: HostPtr}}},
	{Name: "cuDevicePrimaryCtxReset_v2", Libs: cu, Manual: true, Handler: "primaryCtxChange", Params: []P{scalar("CUdevice", "dev")}, Since: 11000},
	{Name: "cuCtxDestroy_v2", Libs: cu, Manual: true, Handler: "cuCtxDestroy_v2", Params: []P{{C: "CUcontext", Name: "ctx", Kind: Handle, H: HContext, Frees: true}}, Since: 4000},

	// ---- libnvidia-ml.so.1: NVML's private table, which nvidia-smi asks for right after
	// nvmlInit and exits without ("Mismatch in versions between nvidia-smi and NVML"). Served in
	// C (shims/nvml/exporttable.c): its slots call this library's own exports.
	{Name: "nvmlInternalGetExportTable", Libs: nvml, Serve: Stub, Manual: true, Params: []P{
		{C: "const void **", Name: "ppExportTable", Kind: HostPtr}, {C: "const void *", Name: "pExportTableId", Kind: HostPtr}}},

	// ---- libcudart.so.12 / .13: the same lookup through our libcuda.so.1 (found next to the
	// stub). One signature in 12.x and 13.0; what differs is the runtime version
	// cudaGetDriverEntryPoint asks for (12090 or 13000), a compile-time constant of each stub.
	{Name: "cudaGetDriverEntryPoint", Libs: rt, Serve: Stub, Manual: true, Params: driverEntryPointParams(false)},
	{Name: "cudaGetDriverEntryPoint_ptsz", Libs: rt, Serve: Stub, Manual: true, Params: driverEntryPointParams(false)},
	{Name: "cudaGetDriverEntryPointByVersion", Libs: rt, Serve: Stub, Manual: true, Params: driverEntryPointParams(true)},
	{Name: "cudaGetDriverEntryPointByVersion_ptsz", Libs: rt, Serve: Stub, Manual: true, Params: driverEntryPointParams(true)},

	// ---- libcudart.so.12 / .13: returns a 20-byte struct by value (through a hidden pointer
	// on x86-64), which a generated stub cannot; it is pure, so it is computed in C.
	{Name: "cudaCreateChannelDesc", Libs: rt, Serve: Stub, Manual: true, Ret: "struct cudaChannelFormatDesc", Params: []P{
		scalar("int", "x"), scalar("int", "y"), scalar("int", "z"), scalar("int", "w"), scalar("cudaChannelFormatKind", "f")}},
}

func driverEntryPointParams(byVersion bool) []P {
	p := []P{{C: "const char *", Name: "symbol", Kind: HostPtr}, {C: "void **", Name: "funcPtr", Kind: HostPtr}}
	if byVersion {
		p = append(p, scalar("unsigned int", "cudaVersion"))
	}
	return append(p, scalar("unsigned long long", "flags"),
		P{C: "cudaDriverEntryPointQueryResult *", Name: "driverStatus", Kind: HostPtr, Nullable: true})
}
