package api

// launchTable: cudart's kernel registration and launch entry points, hand-written in C
// (shims/cudart/launch.c) because nvcc's code passes dim3 by value and registers kernels from
// static constructors. Registration never enters the core (Mode Stub, Manual: the C keeps a
// registry). The others resolve the host-side symbol in that registry and pass the core its fat
// binary and device name ahead of the call's own arguments; their Params describe what the C
// passes to the core, not the C signature.
var launchTable = []Func{
	manualC("__cudaRegisterFatBinary", "void **"),
	manualC("__cudaRegisterFatBinaryEnd", "void"),
	manualC("__cudaUnregisterFatBinary", "void"),
	manualC("__cudaRegisterFunction", "void"),
	manualC("__cudaRegisterVar", "void"),
	manualC("__cudaRegisterManagedVar", "void"),
	manualC("__cudaInitModule", "char"),
	manualC("__cudaGetKernel", ""),
	manualC("__cudaPushCallConfiguration", "unsigned int"),
	manualC("__cudaPopCallConfiguration", ""),

	launchRow("cudaLaunchKernel"), launchRow("cudaLaunchKernel_ptsz"),
	launchRow("__cudaLaunchKernel"), launchRow("__cudaLaunchKernel_ptsz"),
	launchRow("cudaLaunchCooperativeKernel"), launchRow("cudaLaunchCooperativeKernel_ptsz"),
	symRow("cudaLaunchKernelExC", "launchRuntimeEx", "config", "args", "flags"),
	symRow("cudaLaunchKernelExC_ptsz", "launchRuntimeEx", "config", "args", "flags"),
	symRow("cudaFuncGetAttributes", "", "attr"),
	symRow("cudaGetFuncBySymbol", "", "functionPtr"),
	symRow("cudaFuncSetAttribute", "", "attr", "value"),
	symRow("cudaFuncSetCacheConfig", "", "cacheConfig"),
	symRow("cudaOccupancyMaxActiveBlocksPerMultiprocessor", "occupancyRuntime", "numBlocks", "blockSize", "dynamicSMemSize", "flags"),
	symRow("cudaOccupancyMaxActiveBlocksPerMultiprocessorWithFlags", "occupancyRuntime", "numBlocks", "blockSize", "dynamicSMemSize", "flags"),
	symRow("cudaMemcpyToSymbol", "symbolCopy", "varSize", "host", "count", "offset", "kind", "stream", "async"),
	symRow("cudaMemcpyToSymbolAsync", "symbolCopy", "varSize", "host", "count", "offset", "kind", "stream", "async"),
	symRow("cudaMemcpyFromSymbol", "symbolCopy", "varSize", "host", "count", "offset", "kind", "stream", "async"),
	symRow("cudaMemcpyFromSymbolAsync", "symbolCopy", "varSize", "host", "count", "offset", "kind", "stream", "async"),
	symRow("cudaGetSymbolAddress", "", "varSize", "devPtr"),
	symRow("cudaGetSymbolSize", "", "varSize", "size"),
}

// manualC is a hand-written C export that never enters the core.
func manualC(name, ret string) Func {
	return Func{Name: name, Libs: rt, Serve: Stub, Manual: true, Ret: ret}
}

// symRow is a hand-written export that passes (symbol, fatbin, fatbinSize, name, rest...).
func symRow(name, client string, rest ...string) Func {
	ps := []P{hp("symbol"), hp("fatbin"), scalar("size_t", "fatbinSize"), hp("deviceName")}
	for _, r := range rest {
		ps = append(ps, hp(r))
	}
	return Func{Name: name, Libs: rt, Serve: Local, Manual: true, Handler: client, Params: ps}
}

func launchRow(name string) Func {
	return symRow(name, "launchRuntime", "gridDimX", "gridDimY", "gridDimZ", "blockDimX", "blockDimY", "blockDimZ", "args", "sharedMem", "stream", "flags")
}

func hp(name string) P { return P{C: "uint64_t", Name: name, Kind: HostPtr} }
