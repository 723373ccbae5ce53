package api

// nvmlTable: libnvidia-ml.so.1. Device handles (nvmlDevice_t) are the host NVML's, checked by the
// server against the handles it gave this session. Struct sizes are x86-64 LP64.
var nvmlTable = []Func{
	// init/shutdown are reference-counted in the client: Ollama inits and shuts down around
	// every memory query; the host's NVML is initialised once per worker.
	{Name: "nvmlInit_v2", Libs: nvml, Serve: Local},
	{Name: "nvmlInit", Libs: nvml, Serve: Local},
	{Name: "nvmlInitWithFlags", Libs: nvml, Serve: Local, Params: []P{scalar("unsigned int", "flags")}},
	{Name: "nvmlShutdown", Libs: nvml, Serve: Local},
	// Events: vgpu delivers none (a remote GPU's XID and clock events are not forwarded); an
	// event set exists in the client only, so nvidia-smi, which makes one, goes on.
	{Name: "nvmlEventSetCreate", Libs: nvml, Serve: Local, Params: []P{{C: "nvmlEventSet_t *", Name: "set", Kind: HostPtr}}},
	{Name: "nvmlEventSetFree", Libs: nvml, Serve: Local, Params: []P{scalar("nvmlEventSet_t", "set")}},
	{Name: "nvmlDeviceGetSupportedEventTypes", Libs: nvml, Serve: Local, Params: []P{scalar("nvmlDevice_t", "device"), {C: "unsigned long long *", Name: "eventTypes", Kind: HostPtr}}},
	{Name: "nvmlDeviceRegisterEvents", Libs: nvml, Serve: Local, Params: []P{scalar("nvmlDevice_t", "device"), scalar("unsigned long long", "eventTypes"), scalar("nvmlEventSet_t", "set")}},
	{Name: "nvmlEventSetWait_v2", Libs: nvml, Serve: Local, Params: []P{scalar("nvmlEventSet_t", "set"), {C: "nvmlEventData_t *", Name: "data", Kind: HostPtr}, scalar("unsigned int", "timeoutms")}},
	{Name: "nvmlEventSetWait", Libs: nvml, Serve: Local, Params: []P{scalar("nvmlEventSet_t", "set"), {C: "nvmlEventData_t *", Name: "data", Kind: HostPtr}, scalar("unsigned int", "timeoutms")}},
	{Name: "nvmlErrorString", Libs: nvml, Serve: Local, Ret: "const char *", Params: []P{scalar("nvmlReturn_t", "result")}},

	// ---- system ----
	{Name: "nvmlSystemGetDriverVersion", Libs: nvml, Params: []P{outStr("version", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlSystemGetNVMLVersion", Libs: nvml, Params: []P{outStr("version", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlSystemGetCudaDriverVersion", Libs: nvml, Params: []P{out("int *", "cudaDriverVersion", "4")}},
	{Name: "nvmlSystemGetCudaDriverVersion_v2", Libs: nvml, Params: []P{out("int *", "cudaDriverVersion", "4")}},

	// ---- device handles (nvmlMulti: with several servers, their devices as one list) ----
	{Name: "nvmlDeviceGetCount_v2", Libs: nvml, Handler: "nvmlMulti", Params: []P{out("unsigned int *", "deviceCount", "4")}},
	{Name: "nvmlDeviceGetCount", Libs: nvml, Handler: "nvmlMulti", Params: []P{out("unsigned int *", "deviceCount", "4")}},
	{Name: "nvmlDeviceGetHandleByIndex_v2", Libs: nvml, Handler: "nvmlMulti", Params: []P{scalar("unsigned int", "index"), outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetHandleByIndex", Libs: nvml, Handler: "nvmlMulti", Params: []P{scalar("unsigned int", "index"), outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetHandleByUUID", Libs: nvml, Handler: "nvmlMulti", Params: []P{{C: "const char *", Name: "uuid", Kind: InStr}, outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetHandleByPciBusId_v2", Libs: nvml, Handler: "nvmlMulti", Params: []P{{C: "const char *", Name: "pciBusId", Kind: InStr}, outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetHandleBySerial", Libs: nvml, Handler: "nvmlMulti", Params: []P{{C: "const char *", Name: "serial", Kind: InStr}, outHandle("nvmlDevice_t *", "device", HNVMLDevice)}},
	{Name: "nvmlDeviceGetIndex", Libs: nvml, Handler: "nvmlMulti", Params: []P{nvdev, out("unsigned int *", "index", "4")}},
	{Name: "nvmlDeviceGetMinorNumber", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "minorNumber", "4")}},

	// ---- identity ----
	{Name: "nvmlDeviceGetName", Libs: nvml, Params: []P{nvdev, outStr("name", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetUUID", Libs: nvml, Params: []P{nvdev, outStr("uuid", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetSerial", Libs: nvml, Params: []P{nvdev, outStr("serial", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetBrand", Libs: nvml, Params: []P{nvdev, out("nvmlBrandType_t *", "type", "4")}},
	{Name: "nvmlDeviceGetArchitecture", Libs: nvml, Params: []P{nvdev, out("nvmlDeviceArchitecture_t *", "arch", "4")}},
	{Name: "nvmlDeviceGetCudaComputeCapability", Libs: nvml, Params: []P{nvdev, out("int *", "major", "4"), out("int *", "minor", "4")}},
	// nvmlPciInfo_t: 52 bytes in the first version, 68 (busIdLegacy[16], five u32, busId[32]) in _v2/_v3.
	{Name: "nvmlDeviceGetPciInfo", Libs: nvml, Handler: "nvmlMulti", Params: []P{nvdev, out("nvmlPciInfo_t *", "pci", "52")}},
	{Name: "nvmlDeviceGetPciInfo_v2", Libs: nvml, Handler: "nvmlMulti", Params: []P{nvdev, out("nvmlPciInfo_t *", "pci", "68")}},
	{Name: "nvmlDeviceGetPciInfo_v3", Libs: nvml, Handler: "nvmlMulti", Params: []P{nvdev, out("nvmlPciInfo_t *", "pci", "68")}},

	// ---- memory, utilisation, sensors ----
	{Name: "nvmlDeviceGetMemoryInfo", Libs: nvml, Params: []P{nvdev, out("nvmlMemory_t *", "memory", "24")}},
	// nvmlMemory_v2_t: the caller sets its version field, so it travels both ways (40 bytes).
	{Name: "nvmlDeviceGetMemoryInfo_v2", Libs: nvml, Params: []P{nvdev, versioned("nvmlMemory_v2_t *", "memory", "40")}},
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

	// ---- what nvidia-smi shows beyond the above (default table, -L, -q, --query-gpu, topo -m) ----
	{Name: "nvmlDeviceGetDisplayMode", Libs: nvml, Params: []P{nvdev, out("nvmlEnableState_t *", "display", "4")}},
	{Name: "nvmlDeviceGetDisplayActive", Libs: nvml, Params: []P{nvdev, out("nvmlEnableState_t *", "isActive", "4")}},
	{Name: "nvmlDeviceGetMigMode", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "currentMode", "4"), out("unsigned int *", "pendingMode", "4")}},
	{Name: "nvmlDeviceGetMaxMigDeviceCount", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "count", "4")}},
	{Name: "nvmlDeviceIsMigDeviceHandle", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "isMigDevice", "4")}},
	{Name: "nvmlDeviceGetAccountingMode", Libs: nvml, Params: []P{nvdev, out("nvmlEnableState_t *", "mode", "4")}},
	{Name: "nvmlDeviceGetAccountingBufferSize", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "bufferSize", "4")}},
	// Either output may be NULL (NVML sets the other; nvidia-smi asks for each alone). The server
	// passes the host both, so where the caller gives neither the host does not see two NULLs.
	{Name: "nvmlDeviceGetDriverModel_v2", Libs: nvml, Params: []P{nvdev, nullableOut("nvmlDriverModel_t *", "current", "4"), nullableOut("nvmlDriverModel_t *", "pending", "4")}},
	{Name: "nvmlDeviceGetVbiosVersion", Libs: nvml, Params: []P{nvdev, outStr("version", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetMultiGpuBoard", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "multiGpuBool", "4")}},
	{Name: "nvmlDeviceGetBoardId", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "boardId", "4")}},
	{Name: "nvmlDeviceGetBoardPartNumber", Libs: nvml, Params: []P{nvdev, outStr("partNumber", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetInforomImageVersion", Libs: nvml, Params: []P{nvdev, outStr("version", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceGetInforomVersion", Libs: nvml, Params: []P{nvdev, scalar("nvmlInforomObject_t", "object"), outStr("version", "length"), scalar("unsigned int", "length")}},
	{Name: "nvmlDeviceValidateInforom", Libs: nvml, Params: []P{nvdev}},
	{Name: "nvmlDeviceGetLastBBXFlushTime", Libs: nvml, Params: []P{nvdev, out("unsigned long long *", "timestamp", "8"), out("unsigned long *", "durationUs", "8")}},
	// nvmlGridLicensableFeatures_t (no version): isGridLicenseSupported, licensableFeaturesCount and
	// three nvmlGridLicensableFeature_t of 284 bytes (code, state, two 128-byte strings, enabled,
	// a 16-byte nvmlGridLicenseExpiry_t), 860 bytes
	{Name: "nvmlDeviceGetGridLicensableFeatures_v4", Libs: nvml, Params: []P{nvdev, out("nvmlGridLicensableFeatures_t *", "pGridLicensableFeatures", "860")}},
	{Name: "nvmlDeviceGetGpuOperationMode", Libs: nvml, Params: []P{nvdev, out("nvmlGpuOperationMode_t *", "current", "4"), out("nvmlGpuOperationMode_t *", "pending", "4")}},
	{Name: "nvmlDeviceGetVirtualizationMode", Libs: nvml, Params: []P{nvdev, out("nvmlGpuVirtualizationMode_t *", "pVirtualMode", "4")}},
	{Name: "nvmlDeviceGetHostVgpuMode", Libs: nvml, Params: []P{nvdev, out("nvmlHostVgpuMode_t *", "pHostVgpuMode", "4")}},
	{Name: "nvmlDeviceGetVgpuHeterogeneousMode", Libs: nvml, Params: []P{nvdev, versioned("nvmlVgpuHeterogeneousMode_t *", "pHeterogeneousMode", "8")}},
	// NVML_GSP_FIRMWARE_VERSION_BUF_SIZE (64): the caller's buffer has no length parameter.
	{Name: "nvmlDeviceGetGspFirmwareVersion", Libs: nvml, Params: []P{nvdev, out("char *", "version", "64")}},
	{Name: "nvmlDeviceGetGspFirmwareMode", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "isEnabled", "4"), out("unsigned int *", "defaultMode", "4")}},
	{Name: "nvmlDeviceGetAddressingMode", Libs: nvml, Params: []P{nvdev, versioned("nvmlDeviceAddressingMode_t *", "mode", "8")}},
	{Name: "nvmlDeviceGetModuleId", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "moduleId", "4")}},
	{Name: "nvmlDeviceGetPdi", Libs: nvml, Params: []P{nvdev, versioned("nvmlPdi_t *", "pdi", "16")}},
	{Name: "nvmlDeviceGetPlatformInfo", Libs: nvml, Params: []P{nvdev, versioned("nvmlPlatformInfo_t *", "platformInfo", "44")}},
	{Name: "nvmlDeviceGetC2cModeInfoV", Libs: nvml, Params: []P{nvdev, out("nvmlC2cModeInfo_v1_t *", "c2cModeInfo", "4")}},
	{Name: "nvmlDeviceGetGpuFabricInfoV", Libs: nvml, Params: []P{nvdev, versioned("nvmlGpuFabricInfoV_t *", "gpuFabricInfo", "40")}},
	{Name: "nvmlDeviceGetCapabilities", Libs: nvml, Params: []P{nvdev, versioned("nvmlDeviceCapabilities_t *", "caps", "8")}},
	{Name: "nvmlDeviceGetNumGpuCores", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "numCores", "4")}},
	{Name: "nvmlDeviceGetMemoryBusWidth", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "busWidth", "4")}},
	{Name: "nvmlDeviceGetIrqNum", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "irqNum", "4")}},
	{Name: "nvmlDeviceGetAPIRestriction", Libs: nvml, Params: []P{nvdev, scalar("nvmlRestrictedAPI_t", "apiType"), out("nvmlEnableState_t *", "isRestricted", "4")}},
	{Name: "nvmlSystemGetConfComputeState", Libs: nvml, Params: []P{out("nvmlConfComputeSystemState_t *", "state", "12")}},
	{Name: "nvmlSystemGetConfComputeSettings", Libs: nvml, Params: []P{versioned("nvmlSystemConfComputeSettings_t *", "settings", "20")}},
	{Name: "nvmlUnitGetCount", Libs: nvml, Params: []P{out("unsigned int *", "unitCount", "4")}},
	{Name: "nvmlGetExcludedDeviceCount", Libs: nvml, Params: []P{out("unsigned int *", "deviceCount", "4")}},

	// PCI link (nvmlBridgeChipHierarchy_t: a count byte and 128 entries of type and firmware, 1028 bytes)
	{Name: "nvmlDeviceGetMaxPcieLinkGeneration", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "maxLinkGen", "4")}},
	{Name: "nvmlDeviceGetGpuMaxPcieLinkGeneration", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "maxLinkGenDevice", "4")}},
	{Name: "nvmlDeviceGetCurrPcieLinkGeneration", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "currLinkGen", "4")}},
	{Name: "nvmlDeviceGetMaxPcieLinkWidth", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "maxLinkWidth", "4")}},
	{Name: "nvmlDeviceGetCurrPcieLinkWidth", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "currLinkWidth", "4")}},
	{Name: "nvmlDeviceGetPcieReplayCounter", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "value", "4")}},
	{Name: "nvmlDeviceGetPcieThroughput", Libs: nvml, Params: []P{nvdev, scalar("nvmlPcieUtilCounter_t", "counter"), out("unsigned int *", "value", "4")}},
	{Name: "nvmlDeviceGetBusType", Libs: nvml, Params: []P{nvdev, out("nvmlBusType_t *", "type", "4")}},
	{Name: "nvmlDeviceGetBridgeChipInfo", Libs: nvml, Params: []P{nvdev, out("nvmlBridgeChipHierarchy_t *", "bridgeHierarchy", "1028")}},
	{Name: "nvmlDeviceGetPciInfoExt", Libs: nvml, Params: []P{nvdev, versioned("nvmlPciInfoExt_t *", "pci", "64")}},

	// fans, performance, clocks event reasons (bit masks)
	{Name: "nvmlDeviceGetFanSpeed_v2", Libs: nvml, Params: []P{nvdev, scalar("unsigned int", "fan"), out("unsigned int *", "speed", "4")}},
	{Name: "nvmlDeviceGetNumFans", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "numFans", "4")}},
	{Name: "nvmlDeviceGetCurrentClocksEventReasons", Libs: nvml, Params: []P{nvdev, out("unsigned long long *", "clocksEventReasons", "8")}},
	{Name: "nvmlDeviceGetCurrentClocksThrottleReasons", Libs: nvml, Params: []P{nvdev, out("unsigned long long *", "clocksThrottleReasons", "8")}},
	{Name: "nvmlDeviceGetSupportedClocksEventReasons", Libs: nvml, Params: []P{nvdev, out("unsigned long long *", "supportedClocksEventReasons", "8")}},
	{Name: "nvmlDeviceGetSupportedClocksThrottleReasons", Libs: nvml, Params: []P{nvdev, out("unsigned long long *", "supportedClocksThrottleReasons", "8")}},
	{Name: "nvmlDeviceGetViolationStatus", Libs: nvml, Params: []P{nvdev, scalar("nvmlPerfPolicyType_t", "perfPolicyType"), out("nvmlViolationTime_t *", "violTime", "16")}},
	{Name: "nvmlDeviceGetDynamicPstatesInfo", Libs: nvml, Params: []P{nvdev, out("nvmlGpuDynamicPstatesInfo_t *", "pDynamicPstatesInfo", "132")}},
	// size is the array's byte count
	{Name: "nvmlDeviceGetSupportedPerformanceStates", Libs: nvml, Params: []P{nvdev, {C: "nvmlPstates_t *", Name: "pstates", Kind: OutBuf, Size: "size"}, scalar("unsigned int", "size")}},

	// memory errors and repairs (nvmlRowRemapperHistogramValues_t: five counts, 20 bytes)
	{Name: "nvmlDeviceGetEccMode", Libs: nvml, Params: []P{nvdev, out("nvmlEnableState_t *", "current", "4"), out("nvmlEnableState_t *", "pending", "4")}},
	{Name: "nvmlDeviceGetDefaultEccMode", Libs: nvml, Params: []P{nvdev, out("nvmlEnableState_t *", "defaultMode", "4")}},
	{Name: "nvmlDeviceGetTotalEccErrors", Libs: nvml, Params: []P{nvdev, scalar("nvmlMemoryErrorType_t", "errorType"), scalar("nvmlEccCounterType_t", "counterType"), out("unsigned long long *", "eccCounts", "8")}},
	{Name: "nvmlDeviceGetMemoryErrorCounter", Libs: nvml, Params: []P{nvdev, scalar("nvmlMemoryErrorType_t", "errorType"), scalar("nvmlEccCounterType_t", "counterType"),
		scalar("nvmlMemoryLocation_t", "locationType"), out("unsigned long long *", "count", "8")}},
	{Name: "nvmlDeviceGetSramEccErrorStatus", Libs: nvml, Params: []P{nvdev, versioned("nvmlEccSramErrorStatus_t *", "status", "104")}},
	{Name: "nvmlDeviceGetRetiredPagesPendingStatus", Libs: nvml, Params: []P{nvdev, out("nvmlEnableState_t *", "isPending", "4")}},
	{Name: "nvmlDeviceGetRetiredPages", Libs: nvml, OutsOnError: true, Params: []P{nvdev, scalar("nvmlPageRetirementCause_t", "cause"),
		{C: "unsigned int *", Name: "pageCount", Kind: InOutVal, Size: "4"}, {C: "unsigned long long *", Name: "addresses", Kind: OutBuf, Size: "pageCount", Elem: 8, Nullable: true}}},
	{Name: "nvmlDeviceGetRemappedRows", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "corrRows", "4"), out("unsigned int *", "uncRows", "4"),
		out("unsigned int *", "isPending", "4"), out("unsigned int *", "failureOccurred", "4")}},
	{Name: "nvmlDeviceGetRepairStatus", Libs: nvml, Params: []P{nvdev, versioned("nvmlRepairStatus_t *", "repairStatus", "12")}},
	{Name: "nvmlDeviceGetRowRemapperHistogram", Libs: nvml, Params: []P{nvdev, out("nvmlRowRemapperHistogramValues_t *", "values", "20")}},
	// Not in CUDA 13.0's nvml.h but exported by driver 580 (nvidia-smi -q calls both); their
	// declarations in later NVML headers: nvmlRemappedRowsInfo_v2_t is six unsigned ints (active and
	// inactive remaps of correctable and uncorrectable errors, pending, failure occurred), 24 bytes,
	// and nvmlUnrepairableMemoryStatus_v1_t one (bUnrepairableMemory), 4 bytes; neither has a
	// version field.
	{Name: "nvmlDeviceGetRemappedRows_v2", Libs: nvml, Params: []P{nvdev, out("nvmlRemappedRowsInfo_v2_t *", "info", "24")}},
	{Name: "nvmlDeviceGetUnrepairableMemoryFlag_v1", Libs: nvml, Params: []P{nvdev, out("nvmlUnrepairableMemoryStatus_v1_t *", "unrepairableMemoryStatus", "4")}},
	{Name: "nvmlDeviceGetDramEncryptionMode", Libs: nvml, Params: []P{nvdev, versioned("nvmlDramEncryptionInfo_t *", "current", "8"), versioned("nvmlDramEncryptionInfo_t *", "pending", "8")}},
	// the confidential-computing protected memory (nvmlMemory_t), not the device memory a limit caps
	{Name: "nvmlDeviceGetConfComputeProtectedMemoryUsage", Libs: nvml, Params: []P{nvdev, out("nvmlMemory_t *", "memory", "24")}},

	// utilisation of the other engines (nvmlFBCStats_t: sessions, fps, latency, 12 bytes)
	{Name: "nvmlDeviceGetEncoderUtilization", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "utilization", "4"), out("unsigned int *", "samplingPeriodUs", "4")}},
	{Name: "nvmlDeviceGetDecoderUtilization", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "utilization", "4"), out("unsigned int *", "samplingPeriodUs", "4")}},
	{Name: "nvmlDeviceGetJpgUtilization", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "utilization", "4"), out("unsigned int *", "samplingPeriodUs", "4")}},
	{Name: "nvmlDeviceGetOfaUtilization", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "utilization", "4"), out("unsigned int *", "samplingPeriodUs", "4")}},
	{Name: "nvmlDeviceGetEncoderStats", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "sessionCount", "4"), out("unsigned int *", "averageFps", "4"), out("unsigned int *", "averageLatency", "4")}},
	{Name: "nvmlDeviceGetFBCStats", Libs: nvml, Params: []P{nvdev, out("nvmlFBCStats_t *", "fbcStats", "12")}},

	// temperature
	{Name: "nvmlDeviceGetTemperatureThreshold", Libs: nvml, Params: []P{nvdev, scalar("nvmlTemperatureThresholds_t", "thresholdType"), out("unsigned int *", "temp", "4")}},
	{Name: "nvmlDeviceGetTemperatureV", Libs: nvml, Params: []P{nvdev, versioned("nvmlTemperature_t *", "temperature", "12")}},
	{Name: "nvmlDeviceGetMarginTemperature", Libs: nvml, Params: []P{nvdev, versioned("nvmlMarginTemperature_t *", "marginTempInfo", "8")}},

	// power
	{Name: "nvmlDeviceGetPowerManagementDefaultLimit", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "defaultLimit", "4")}},
	{Name: "nvmlDeviceGetPowerManagementLimitConstraints", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "minLimit", "4"), out("unsigned int *", "maxLimit", "4")}},
	{Name: "nvmlDeviceGetPowerManagementMode", Libs: nvml, Params: []P{nvdev, out("nvmlEnableState_t *", "mode", "4")}},
	{Name: "nvmlDeviceGetPowerState", Libs: nvml, Params: []P{nvdev, out("nvmlPstates_t *", "pState", "4")}},
	{Name: "nvmlDeviceGetPowerSource", Libs: nvml, Params: []P{nvdev, out("nvmlPowerSource_t *", "powerSource", "4")}},
	{Name: "nvmlDeviceGetTotalEnergyConsumption", Libs: nvml, Params: []P{nvdev, out("unsigned long long *", "energy", "8")}},
	// nvmlWorkloadPowerProfileCurrentProfiles_t: version, then three nvmlMask255_t of 32 bytes
	// (valid, requested, enforced profiles), 100 bytes
	{Name: "nvmlDeviceWorkloadPowerProfileGetCurrentProfiles", Libs: nvml, Params: []P{nvdev, versioned("nvmlWorkloadPowerProfileCurrentProfiles_t *", "currentProfiles", "100")}},

	// clocks
	{Name: "nvmlDeviceGetClock", Libs: nvml, Params: []P{nvdev, scalar("nvmlClockType_t", "clockType"), scalar("nvmlClockId_t", "clockId"), out("unsigned int *", "clockMHz", "4")}},
	{Name: "nvmlDeviceGetApplicationsClock", Libs: nvml, Params: []P{nvdev, scalar("nvmlClockType_t", "clockType"), out("unsigned int *", "clockMHz", "4")}},
	{Name: "nvmlDeviceGetDefaultApplicationsClock", Libs: nvml, Params: []P{nvdev, scalar("nvmlClockType_t", "clockType"), out("unsigned int *", "clockMHz", "4")}},
	{Name: "nvmlDeviceGetMaxCustomerBoostClock", Libs: nvml, Params: []P{nvdev, scalar("nvmlClockType_t", "clockType"), out("unsigned int *", "clockMHz", "4")}},
	{Name: "nvmlDeviceGetAutoBoostedClocksEnabled", Libs: nvml, Params: []P{nvdev, out("nvmlEnableState_t *", "isEnabled", "4"), out("nvmlEnableState_t *", "defaultIsEnabled", "4")}},
	{Name: "nvmlDeviceGetMinMaxClockOfPState", Libs: nvml, Params: []P{nvdev, scalar("nvmlClockType_t", "type"), scalar("nvmlPstates_t", "pstate"),
		out("unsigned int *", "minClockMHz", "4"), out("unsigned int *", "maxClockMHz", "4")}},
	{Name: "nvmlDeviceGetClockOffsets", Libs: nvml, Params: []P{nvdev, versioned("nvmlClockOffset_t *", "info", "24")}},
	{Name: "nvmlDeviceGetSupportedMemoryClocks", Libs: nvml, OutsOnError: true, Params: []P{nvdev,
		{C: "unsigned int *", Name: "count", Kind: InOutVal, Size: "4"}, {C: "unsigned int *", Name: "clocksMHz", Kind: OutBuf, Size: "count", Elem: 4, Nullable: true}}},
	{Name: "nvmlDeviceGetSupportedGraphicsClocks", Libs: nvml, OutsOnError: true, Params: []P{nvdev, scalar("unsigned int", "memoryClockMHz"),
		{C: "unsigned int *", Name: "count", Kind: InOutVal, Size: "4"}, {C: "unsigned int *", Name: "clocksMHz", Kind: OutBuf, Size: "count", Elem: 4, Nullable: true}}},

	// samples: *sampleCount in (the array's capacity) and out (the samples written, or with samples
	// NULL the number there are); each nvmlSample_t is 16 bytes (timeStamp, an 8-byte nvmlValue_t).
	// nvmlSamples (the client) sends the count as 0 with samples NULL, so the server hands the host
	// NULL too (an empty output is NULL there).
	{Name: "nvmlDeviceGetSamples", Libs: nvml, Handler: "nvmlSamples", Params: []P{nvdev, scalar("nvmlSamplingType_t", "type"), scalar("unsigned long long", "lastSeenTimeStamp"),
		out("nvmlValueType_t *", "sampleValType", "4"), {C: "unsigned int *", Name: "sampleCount", Kind: InOutVal, Size: "4"},
		{C: "nvmlSample_t *", Name: "samples", Kind: OutBuf, Size: "sampleCount", Elem: 16, Nullable: true}}},

	// field values: valuesCount records of nvmlFieldValue_t (40 bytes: fieldId and scopeId in,
	// the reading out)
	{Name: "nvmlDeviceGetFieldValues", Libs: nvml, Params: []P{nvdev, scalar("int", "valuesCount"), {C: "nvmlFieldValue_t *", Name: "values", Kind: InOutVal, Size: "valuesCount", Elem: 40}}},

	// topology (nvidia-smi topo -m): pairs of this session's devices, links, CPU and memory
	// affinity as words of the host's CPU and NUMA node masks
	{Name: "nvmlDeviceGetTopologyCommonAncestor", Libs: nvml, Params: []P{
		{C: "nvmlDevice_t", Name: "device1", Kind: Handle, H: HNVMLDevice}, {C: "nvmlDevice_t", Name: "device2", Kind: Handle, H: HNVMLDevice},
		out("nvmlGpuTopologyLevel_t *", "pathInfo", "4")}},
	{Name: "nvmlDeviceGetP2PStatus", Libs: nvml, Params: []P{
		{C: "nvmlDevice_t", Name: "device1", Kind: Handle, H: HNVMLDevice}, {C: "nvmlDevice_t", Name: "device2", Kind: Handle, H: HNVMLDevice},
		scalar("nvmlGpuP2PCapsIndex_t", "p2pIndex"), out("nvmlGpuP2PStatus_t *", "p2pStatus", "4")}},
	{Name: "nvmlDeviceGetNvLinkState", Libs: nvml, Params: []P{nvdev, scalar("unsigned int", "link"), out("nvmlEnableState_t *", "isActive", "4")}},
	{Name: "nvmlDeviceGetCpuAffinity", Libs: nvml, Params: []P{nvdev, scalar("unsigned int", "cpuSetSize"), {C: "unsigned long *", Name: "cpuSet", Kind: OutBuf, Size: "cpuSetSize", Elem: 8}}},
	{Name: "nvmlDeviceGetCpuAffinityWithinScope", Libs: nvml, Params: []P{nvdev, scalar("unsigned int", "cpuSetSize"),
		{C: "unsigned long *", Name: "cpuSet", Kind: OutBuf, Size: "cpuSetSize", Elem: 8}, scalar("nvmlAffinityScope_t", "scope")}},
	{Name: "nvmlDeviceGetMemoryAffinity", Libs: nvml, Params: []P{nvdev, scalar("unsigned int", "nodeSetSize"),
		{C: "unsigned long *", Name: "nodeSet", Kind: OutBuf, Size: "nodeSetSize", Elem: 8}, scalar("nvmlAffinityScope_t", "scope")}},
	{Name: "nvmlDeviceGetNumaNodeId", Libs: nvml, Params: []P{nvdev, out("unsigned int *", "node", "4")}},

	// a reading of nvidia-smi's private table (shims/nvml/exporttable.c): the host's own slot, called
	// as (device, value); only the slots api.NVMLPrivateSlots names, each with its value's size
	{Name: "vgpuNvmlPrivateReading", Libs: nvml, Internal: true, Params: []P{nvdev, scalar("unsigned int", "slot"),
		{C: "void *", Name: "value", Kind: OutBuf, Size: "length"}, scalar("unsigned int", "length")}},

	// ---- processes: *infoCount in, the count (or the count needed) out; an entry is
	// nvmlProcessInfo_v1_t (16 bytes: pid, usedGpuMemory) for the unversioned names and
	// nvmlProcessInfo_t (24 bytes: and the GPU and compute instance ids) for _v2 and _v3 ----
}

// processRows are the NVML process lists, one row per kind and version (OwnProcess).
func processRows() []Func {
	var rows []Func
	for _, kind := range []struct {
		name string
		list ProcessList
	}{{"Compute", ComputeProcesses}, {"Graphics", GraphicsProcesses}, {"MPSCompute", MPSComputeProcesses}} {
		for _, v := range []struct {
			suffix, c string
			elem      int
		}{{"", "nvmlProcessInfo_v1_t *", 16}, {"_v2", "nvmlProcessInfo_v2_t *", 24}, {"_v3", "nvmlProcessInfo_t *", 24}} {
			rows = append(rows, Func{Name: "nvmlDeviceGet" + kind.name + "RunningProcesses" + v.suffix, Libs: nvml, OutsOnError: true, OwnProcess: true, Processes: kind.list,
				Params: []P{nvdev, {C: "unsigned int *", Name: "infoCount", Kind: InOutVal, Size: "4"}, {C: v.c, Name: "infos", Kind: OutBuf, Size: "infoCount", Elem: v.elem, Nullable: true}}})
		}
	}
	return rows
}

var nvdev = P{C: "nvmlDevice_t", Name: "device", Kind: Handle, H: HNVMLDevice}

// NVMLPrivateSlot is how a forwarded slot of nvidia-smi's private table is called: (device,
// value) with a value of Size bytes, or with Length (device, char *value, unsigned int length,
// …) where the value is a string buffer of the third argument's length, at most Size.
type NVMLPrivateSlot struct {
	Size   int
	Length bool
}

// NVMLPrivateSlots are the slots of nvidia-smi's private table (nvmlInternalGetExportTable) vgpu
// forwards to the host's: slot 230, the host side's maximum PCIe generation, and 249, the sparse
// operation mode, both (nvmlDevice_t, unsigned int *) as NVIDIA's mock NVML found them; slot
// 231, the GPU part number, (nvmlDevice_t, char *, unsigned int length, …), as nvidia-smi -q
// calls it with 80 bytes and the host's slot answered (test/gpu/nvml_exporttable.c's probe on
// the H100, 2026-12-06: "2330-885-A1", as -q prints natively) (docs/ARCHITECTURE.md).
var NVMLPrivateSlots = map[uint32]NVMLPrivateSlot{230: {Size: 4}, 231: {Size: 256, Length: true}, 249: {Size: 4}}

func nullableOut(c, name, size string) P {
	return P{C: c, Name: name, Kind: OutVal, Size: size, Nullable: true}
}

func outStr(name, length string) P { return P{C: "char *", Name: name, Kind: OutBuf, Size: length} }

// versioned is a versioned NVML struct of size bytes the caller fills the version of (api.P.Versioned).
func versioned(c, name, size string) P {
	return P{C: c, Name: name, Kind: InOutVal, Size: size, Versioned: true}
}
