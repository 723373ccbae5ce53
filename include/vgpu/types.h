/* vgpu's own C declarations of the CUDA driver, runtime and NVML types its stubs export.
 * Written from the documented ABI (x86-64 LP64); only what the exported signatures need.
 * Enumerations are int-sized in C, so they are declared as int here. */
#ifndef VGPU_TYPES_H
#define VGPU_TYPES_H

#include <stddef.h>
#include <stdint.h>

/* ---- driver API (libcuda.so.1) ---- */
typedef int CUresult;
typedef int CUdevice;
typedef int CUdevice_attribute;
typedef int CUmemAllocationGranularity_flags;
typedef unsigned long long CUdeviceptr;
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef struct CUevent_st *CUevent;
typedef struct CUmod_st *CUmodule;
typedef struct CUfunc_st *CUfunction;
typedef struct CUuuid_st { char bytes[16]; } CUuuid;
typedef struct CUmemAllocationProp_st CUmemAllocationProp; /* 32 bytes, passed by pointer */
typedef struct CUctxCreateParams_st CUctxCreateParams;
typedef struct CUgraph_st *CUgraph;
typedef struct CUgraphExec_st *CUgraphExec;
typedef struct CUgraphNode_st *CUgraphNode;
typedef struct CUlib_st *CUlibrary;
typedef struct CUkern_st *CUkernel;
typedef unsigned long long CUmemGenericAllocationHandle;
typedef struct CUmemAccessDesc_st CUmemAccessDesc;          /* 12 bytes */
typedef struct CUDA_MEMCPY2D_st CUDA_MEMCPY2D;              /* 128 bytes */
typedef struct CUlaunchConfig_st CUlaunchConfig;            /* 56 bytes */
typedef struct CUgraphExecUpdateResultInfo_st CUgraphExecUpdateResultInfo; /* 24 bytes */
typedef int CUmoduleLoadingMode, CUpointer_attribute, CUjit_option, CUlibraryOption, CUfunction_attribute, CUfunc_cache, CUstreamCaptureMode,
	CUstreamCaptureStatus;
typedef uint64_t cuuint64_t;
typedef int CUdriverProcAddressQueryResult; /* CU_GET_PROC_ADDRESS_SUCCESS 0, _SYMBOL_NOT_FOUND 1, _VERSION_NOT_SUFFICIENT 2 */

/* ---- runtime API (libcudart.so.12 / .13) ---- */
typedef int cudaError_t;
typedef int cudaDriverEntryPointQueryResult; /* same values as CUdriverProcAddressQueryResult */
typedef int cudaChannelFormatKind;
struct cudaChannelFormatDesc { /* returned by value by cudaCreateChannelDesc */
	int x, y, z, w;
	cudaChannelFormatKind f;
};
typedef int cudaDeviceAttr;
typedef int cudaMemcpyKind, cudaStreamCaptureMode, cudaStreamCaptureStatus;
typedef struct CUstream_st *cudaStream_t;
typedef struct CUevent_st *cudaEvent_t;
typedef struct CUgraph_st *cudaGraph_t;
typedef struct CUgraphExec_st *cudaGraphExec_t;
typedef struct CUgraphNode_st *cudaGraphNode_t;
typedef struct CUgraphExecUpdateResultInfo_st cudaGraphExecUpdateResultInfo;
struct cudaPointerAttributes; /* 24 bytes: type, device, devicePointer, hostPointer */
typedef struct cudaGraphEdgeData_st cudaGraphEdgeData;
typedef void (*cudaStreamCallback_t)(cudaStream_t stream, cudaError_t status, void *userData);
typedef void (*cudaHostFn_t)(void *userData);
struct cudaDeviceProp; /* 1032 bytes in CUDA 12.x, 1008 in 13.0: written by the core, never by C */

/* ---- NVML (libnvidia-ml.so.1) ---- */
typedef int nvmlReturn_t;
typedef struct nvmlDevice_st *nvmlDevice_t;
typedef struct nvmlEventSet_st *nvmlEventSet_t;
typedef struct nvmlEventData_st nvmlEventData_t;
typedef struct nvmlMemory_st nvmlMemory_t; /* 24 bytes: total, free, used */
typedef struct nvmlMemory_v2_st nvmlMemory_v2_t;
typedef struct nvmlBAR1Memory_st nvmlBAR1Memory_t;
typedef struct nvmlPciInfo_st nvmlPciInfo_t;
typedef struct nvmlUtilization_st nvmlUtilization_t;
typedef struct nvmlProcessInfo_v1_st nvmlProcessInfo_v1_t; /* 16 bytes: pid, usedGpuMemory */
typedef struct nvmlProcessInfo_st nvmlProcessInfo_v2_t, nvmlProcessInfo_t; /* 24 bytes: and two instance ids */
typedef int nvmlBrandType_t, nvmlDeviceArchitecture_t, nvmlTemperatureSensors_t, nvmlPstates_t,
	nvmlEnableState_t, nvmlComputeMode_t, nvmlClockType_t;
typedef int nvmlDriverModel_t, nvmlInforomObject_t, nvmlGpuOperationMode_t, nvmlGpuVirtualizationMode_t,
	nvmlHostVgpuMode_t, nvmlRestrictedAPI_t, nvmlPcieUtilCounter_t, nvmlPerfPolicyType_t, nvmlMemoryErrorType_t,
	nvmlEccCounterType_t, nvmlMemoryLocation_t, nvmlPageRetirementCause_t, nvmlTemperatureThresholds_t,
	nvmlClockId_t, nvmlGpuTopologyLevel_t, nvmlGpuP2PCapsIndex_t, nvmlGpuP2PStatus_t, nvmlSamplingType_t,
	nvmlValueType_t;
typedef unsigned int nvmlBusType_t, nvmlPowerSource_t, nvmlAffinityScope_t;
/* Structs only pointed to; sizes (x86-64) are in internal/api/table_nvml.go. Those whose first
 * word is a version (NVML_STRUCT_VERSION) travel both ways. */
typedef struct nvmlVgpuHeterogeneousMode_st nvmlVgpuHeterogeneousMode_t;
typedef struct nvmlDeviceAddressingMode_st nvmlDeviceAddressingMode_t;
typedef struct nvmlPdi_st nvmlPdi_t;
typedef struct nvmlPlatformInfo_st nvmlPlatformInfo_t;
typedef struct nvmlC2cModeInfo_v1_st nvmlC2cModeInfo_v1_t;
typedef struct nvmlGpuFabricInfoV_st nvmlGpuFabricInfoV_t;
typedef struct nvmlDeviceCapabilities_st nvmlDeviceCapabilities_t;
typedef struct nvmlConfComputeSystemState_st nvmlConfComputeSystemState_t;
typedef struct nvmlSystemConfComputeSettings_st nvmlSystemConfComputeSettings_t;
typedef struct nvmlBridgeChipHierarchy_st nvmlBridgeChipHierarchy_t;
typedef struct nvmlPciInfoExt_st nvmlPciInfoExt_t;
typedef struct nvmlViolationTime_st nvmlViolationTime_t;
typedef struct nvmlGpuDynamicPstatesInfo_st nvmlGpuDynamicPstatesInfo_t;
typedef struct nvmlEccSramErrorStatus_st nvmlEccSramErrorStatus_t;
typedef struct nvmlRowRemapperHistogramValues_st nvmlRowRemapperHistogramValues_t;
typedef struct nvmlRepairStatus_st nvmlRepairStatus_t;
typedef struct nvmlDramEncryptionInfo_st nvmlDramEncryptionInfo_t;
typedef struct nvmlFBCStats_st nvmlFBCStats_t;
typedef struct nvmlTemperature_st nvmlTemperature_t;
typedef struct nvmlMarginTemperature_st nvmlMarginTemperature_t;
typedef struct nvmlClockOffset_st nvmlClockOffset_t;
typedef struct nvmlFieldValue_st nvmlFieldValue_t;
typedef struct nvmlGridLicensableFeatures_st nvmlGridLicensableFeatures_t;
typedef struct nvmlUnrepairableMemoryStatus_v1_st nvmlUnrepairableMemoryStatus_v1_t;
typedef struct nvmlRemappedRowsInfo_v2_st nvmlRemappedRowsInfo_v2_t;
typedef struct nvmlWorkloadPowerProfileCurrentProfiles_st nvmlWorkloadPowerProfileCurrentProfiles_t;
typedef struct nvmlSample_st nvmlSample_t;

/* ---- cuBLAS (libcublas.so.13, libcublasLt.so.13) ---- */
typedef int cublasStatus_t;
typedef struct cublasContext *cublasHandle_t;
typedef struct cublasLtContext *cublasLtHandle_t;
typedef int cublasOperation_t, cublasSideMode_t, cublasFillMode_t, cublasDiagType_t, cublasMath_t,
	cublasPointerMode_t, cublasComputeType_t, cublasGemmAlgo_t;
typedef int cudaDataType, libraryPropertyType;
/* cuComplex.h: pairs of float and of double (only pointed to here) */
typedef struct { float x, y; } cuComplex;
typedef struct { double x, y; } cuDoubleComplex;
typedef int cudaDataType_t;
typedef struct cublasLtMatmulDescOpaque_st *cublasLtMatmulDesc_t;
typedef struct cublasLtMatrixLayoutOpaque_st *cublasLtMatrixLayout_t;
typedef struct cublasLtMatmulPreferenceOpaque_st *cublasLtMatmulPreference_t;
typedef struct cublasLtMatmulAlgo_st cublasLtMatmulAlgo_t;                       /* 64 bytes */
typedef struct cublasLtMatmulHeuristicResult_st cublasLtMatmulHeuristicResult_t; /* 96 bytes */
typedef int cublasLtMatmulDescAttributes_t, cublasLtMatrixLayoutAttribute_t, cublasLtMatmulPreferenceAttributes_t;

#endif
