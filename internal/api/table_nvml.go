package api

// nvmlTable: libnvidia-ml.so.1. Device handles (nvmlDevice_t) are the host NVML's, checked by the
// server against the handles it gave this session. Struct sizes are x86-64 LP64.
var nvmlTable = []Func{
	// init/shutdown are reference-counted in the client: Ollama inits and shuts down around
	// every memory query; the host's NVML is initialised once per worker.
	{Name: "nvmlInit_v2", Libs: nvml, Mode: Local},
	{Name: "nvmlInit", Libs: nvml, Mode: Local},
	{Name: "nvmlInitWithFlags", Libs: nvml, Mode: Local, Params: []P{scalar("unsigned int", "flags")}},
	{Name: "nvmlShutdown", Libs: nvml, Mode: Local},
	{Name: "nvmlErrorString", Libs: nvml, Mode: Local, Ret: "const char *", Params: []P{scalar("nvmlReturn_t", "result")}},

	// ---- system ----
	{Name: "nvmlSystemGetDriverVersion", Libs: nvml, Params: []P{outStr("version", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlSystemGetNVMLVersion", Libs: nvml, Params: []P{outStr("version", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlSystemGetCudaDriverVersion", Libs: nvml, Params: []P{out("int *", "cudaDriverVersion", "4")}},
	{Name: "nvmlSystemGetCudaDriverVersion_v2", Libs: nvml, Params: []P{out("int *", "cudaDriverVersion", "4")}},

	// ---- device handles (nvmlMulti: with several servers, their devices as one list) ----
	{Name: "nvmlDeviceGetCount_v2", Libs: nvml, Client: "nvmlMulti", Params: []P{out("unsigned int *", "deviceCount", "4")}},
	{Name: "nvmlDeviceGetCount", Libs: nvml, Client: "nvmlMulti", Params: []P{out("unsigned int *", "deviceCount", "4")}},
	{Name: "nvmlDeviceGetHandleByIndex_v2", Libs: nvml, Client: "nvmlMulti", Params: []P{scalar("unsigned int", "index"), outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetHandleByIndex", Libs: nvml, Client: "nvmlMulti", Params: []P{scalar("unsigned int", "index"), outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetHandleByUUID", Libs: nvml, Client: "nvmlMulti", Params: []P{{C: "const char *", Name: "uuid", Kind: InStr}, outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetHandleByPciBusId_v2", Libs: nvml, Client: "nvmlMulti", Params: []P{{C: "const char *", Name: "pciBusId", Kind: InStr}, outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetHandleBySerial", Libs: nvml, Client: "nvmlMulti", Params: []P{{C: "const char *", Name: "serial", Kind: InStr}, outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetIndex", Libs: nvml, Client: "nvmlMulti", Params: []P{nvdev, out("unsigned int *", "index", "4")}},
	{Name: "nvmlDeviceGetMinorNumber", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "minorNumber", "4")}},

	// ---- identity ----
	{Name: "nvmlDeviceGetName", Libs: nvml, Params: []P{nvdev, outStr("name", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetUUID", Libs: nvml, Params: []P{nvdev, outStr("uuid", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetSerial", Libs: nvml, Params: []P{nvdev, outStr("serial", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetBrand", Libs: nvml, Params: []P{nvdev, out("nvmlBrandType_t *", "type", "4")}},
	{Name: "nvmlDeviceGetArchitecture", Libs: nvml, Params: []P{nvdev, out("nvmlDeviceArchitecture_t *", "arch", "4")}},
	{Name: "nvmlDeviceGetCudaComputeCapability", Libs: nvml, Params: []P{nvdev, out("int *", "major", "4"), out("int *", "minor", "4")}},
	// nvmlPciInfo_t: 52 bytes in the first version, 68 (busIdLegacy[16], five u32, busId[32]) in _v2/_v3.
	{Name: "nvmlDeviceGetPciInfo", Libs: nvml, Client: "nvmlMulti", Params: []P{nvdev, out("nvmlPciInfo_t *", "pci", "52")}},
	{Name: "nvmlDeviceGetPciInfo_v2", Libs: nvml, Client: "nvmlMulti", Params: []P{nvdev, out("nvmlPciInfo_t *", "pci", "68")}},
	{Name: "nvmlDeviceGetPciInfo_v3", Libs: nvml, Client: "nvmlMulti", Params: []P{nvdev, out("nvmlPciInfo_t *", "pci", "68")}},

	// ---- memory, utilisation, sensors ----
	{Name: "nvmlDeviceGetMemoryInfo", Libs: nvml, Params: []P{nvdev, out("nvmlMemory_t *", "memory", "24")}},
	// nvmlMemory_v2_t: the caller sets its version field, so it travels both ways (40 bytes).
	{Name: "nvmlDeviceGetMemoryInfo_v2", Libs: nvml, Params: []P{nvdev, {C: "nvmlMemory_v2_t *", Name: "memory", Kind: InOutVal, Size: "40"}}},
	{Name: "nvmlDeviceGetBAR1MemoryInfo", Libs: nvml, Params: []P{nvdev, out("nvmlBAR1Memory_t *", "bar1Memory", "24")}},
	{Name: "nvmlDeviceGetUtilizationRates", Libs: nvml, Params: []P{nvdev, out("nvmlUtilization_t *", "utilization", "8")}},
	{Name: "nvmlDeviceGetTemperature", Libs: nvml, Params: []P{nvdev, scalar("nvmlTemperatureSensors_t", "sensorType"), out("unsigned int *", "temp", "4")}},
	{Name: "nvmlDeviceGetFanSpeed", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "speed", "4")}},
	{Name: "nvmlDeviceGetPowerUsage", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "power", "4")}},
	{Name: "nvmlDeviceGetPowerManagementLimit", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "limit", "4")}},
	{Name: "nvmlDeviceGetEnforcedPowerLimit", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "limit", "4")}},
	{Name: "nvmlDeviceGetPerformanceState", Libs: nvml, Params: []P{nvdev, out("nvmlPstates_t *", "pState", "4")}},
	{Name: "nvmlDeviceGetPersistenceMode", Libs: nvml, Params: []P{nvdev, out("nvmlEnableState_t *", "mode", "4")}},
	{Name: "nvmlDeviceGetComputeMode", Libs: nvml, Params: []P{nvdev, out("nvmlComputeMode_t *", "mode", "4")}},
	{Name: "nvmlDeviceGetClockInfo", Libs: nvml, Params: []P{nvdev, scalar("nvmlClockType_t", "type"), out("unsigned int *", "clock", "4")}},
	{Name: "nvmlDeviceGetMaxClockInfo", Libs: nvml, Params: []P{nvdev, scalar("nvmlClockType_t", "type"), out("unsigned int *", "clock", "4")}},

	// ---- processes: *infoCount in, the count (or the count needed) out; an entry is
	// nvmlProcessInfo_v1_t (16 bytes: pid, usedGpuMemory) for the unversioned names and
	// nvmlProcessInfo_t (24 bytes: and the GPU and compute instance ids) for _v2 and _v3 ----
}

// processRows are the NVML process lists, one row per kind and version (OwnProcess).
func processRows() []Func {
	var rows []Func
	for _, kind := range []string{"Compute", "Graphics", "MPSCompute"} {
		for _, v := range []struct {
			suffix, c string
			elem      int
		}{{"", "nvmlProcessInfo_v1_t *", 16}, {"_v2", "nvmlProcessInfo_v2_t *", 24}, {"_v3", "nvmlProcessInfo_t *", 24}} {
			rows = append(rows, Func{Name: "nvmlDeviceGet" + kind + "RunningProcesses" + v.suffix, Libs: nvml, OutsOnError: true, OwnProcess: true,
				Params: []P{nvdev, {C: "unsigned int *", Name: "infoCount", Kind: InOutVal, Size: "4"}, {C: v.c, Name: "infos", Kind: OutBuf, Size: "infoCount", Elem: v.elem, Nullable: true}}})
		}
	}
	return rows
}

var nvdev = P{C: "nvmlDevice_t", Name: "device", Kind: Handle, H: HNVMLDevice}

func outStr(name, length string) P { return P{C: "char *", Name: name, Kind: OutBuf, Size: length} }
