package api

// nvmlTable: libnvidia-ml.so.1.
var nvmlTable = []Func{
	// ---- libnvidia-ml.so.1 ----
	{Name: "nvmlInit_v2", Libs: nvml, Mode: Local},
	{Name: "nvmlInitWithFlags", Libs: nvml, Mode: Local, Params: []P{scalar("unsigned int", "flags")}},
	{Name: "nvmlShutdown", Libs: nvml, Mode: Local},
	{Name: "nvmlErrorString", Libs: nvml, Mode: Local, Ret: "const char *", Params: []P{scalar("nvmlReturn_t", "result")}},
	{Name: "nvmlSystemGetDriverVersion", Libs: nvml, Params: []P{{C: "char *", Name: "version", Kind: OutBuf, Size: "length"}, scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetCount_v2", Libs: nvml, Params: []P{out("unsigned int *", "deviceCount", "4")}},
	{Name: "nvmlDeviceGetHandleByIndex_v2", Libs: nvml, Params: []P{scalar("unsigned int", "index"), outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetName", Libs: nvml, Params: []P{{C: "nvmlDevice_t", Name: "device", Kind: Handle, H: HNVMLDevice}, {C: "char *", Name: "name", Kind: OutBuf, Size: "length"}, scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetUUID", Libs: nvml, Params: []P{{C: "nvmlDevice_t", Name: "device", Kind: Handle, H: HNVMLDevice}, {C: "char *", Name: "uuid", Kind: OutBuf, Size: "length"}, scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetMemoryInfo", Libs: nvml, Params: []P{{C: "nvmlDevice_t", Name: "device", Kind: Handle, H: HNVMLDevice}, out("nvmlMemory_t *", "memory", "24")}},
}
