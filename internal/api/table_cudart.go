package api

// cudartTable: libcudart.so.12 and libcudart.so.13, the runtime API (client-side, over the driver API).
var cudartTable = []Func{
	// ---- libcudart.so.12 / .13 ----
	{Name: "cudaGetDeviceCount", Libs: rt, Mode: Local, Params: []P{out("int *", "count", "4")}},
	{Name: "cudaDriverGetVersion", Libs: rt, Mode: Local, Params: []P{out("int *", "driverVersion", "4")}},
	{Name: "cudaRuntimeGetVersion", Libs: rt, Mode: Local, Params: []P{out("int *", "runtimeVersion", "4")}}}
