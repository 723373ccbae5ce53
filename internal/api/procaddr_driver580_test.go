package api

// driver580ProcAddr is a measurement: what cuGetProcAddress_v2 of the real libcuda.so.1 of driver
// 580.159.04 (CUDA 13.0, on an H200 of the lent GPU machine) answered for every base name of its
// exports and of procaddr_data.go, at every cudaVersion 1000, 1010, ..., 13000, with flags
// CU_GET_PROC_ADDRESS_LEGACY_STREAM (1) and CU_GET_PROC_ADDRESS_PER_THREAD_DEFAULT_STREAM (2):
// one line per name and flags ("*" when both flags gave the same answers), listing only the
// versions where the answer changes, as version=result/status/export (the export whose address
// came back, by dladdr; every one was exactly an exported symbol's address).
//
// Further answers of that driver, not in the table:
//   - flags 0 is the legacy stream, flags 3 the per-thread one; flags 4 is CUDA_ERROR_INVALID_VALUE;
//   - a cudaVersion above the driver's (13010 and up) is CUDA_ERROR_INVALID_VALUE, *pfn untouched;
//   - an exported name asked for by its full name ("cuMemAlloc_v2") is SYMBOL_NOT_FOUND;
//   - the 4-argument cuGetProcAddress answers CUDA_ERROR_NOT_FOUND (500), *pfn untouched, where
//     the status would be SYMBOL_NOT_FOUND or VERSION_NOT_SUFFICIENT;
//   - libcudart.so.13 (13.0.96) cudaGetDriverEntryPointByVersion gives the same answers;
//     cudaGetDriverEntryPoint asks for version 13000 and treats flags 0 as the legacy stream.
const driver580ProcAddr = `
cuArray3DCreate *: 1000=0/2/NULL 2000=0/0/cuArray3DCreate 3020=0/0/cuArray3DCreate_v2
cuArray3DGetDescriptor *: 1000=0/2/NULL 2000=0/0/cuArray3DGetDescriptor 3020=0/0/cuArray3DGetDescriptor_v2
cuArrayCreate *: 1000=0/2/NULL 2000=0/0/cuArrayCreate 3020=0/0/cuArrayCreate_v2
cuArrayDestroy *: 1000=0/2/NULL 2000=0/0/cuArrayDestroy
cuArrayGetDescriptor *: 1000=0/2/NULL 2000=0/0/cuArrayGetDescriptor 3020=0/0/cuArrayGetDescriptor_v2
cuArrayGetMemoryRequirements *: 1000=0/2/NULL 11060=0/0/cuArrayGetMemoryRequirements
cuArrayGetPlane *: 1000=0/2/NULL 11020=0/0/cuArrayGetPlane
cuArrayGetSparseProperties *: 1000=0/2/NULL 11010=0/0/cuArrayGetSparseProperties
cuCheckpointProcessCheckpoint *: 1000=0/2/NULL 12080=0/0/cuCheckpointProcessCheckpoint
cuCheckpointProcessGetRestoreThreadId *: 1000=0/2/NULL 12080=0/0/cuCheckpointProcessGetRestoreThreadId
cuCheckpointProcessGetState *: 1000=0/2/NULL 12080=0/0/cuCheckpointProcessGetState
cuCheckpointProcessLock *: 1000=0/2/NULL 12080=0/0/cuCheckpointProcessLock
cuCheckpointProcessRestore *: 1000=0/2/NULL 12080=0/0/cuCheckpointProcessRestore
cuCheckpointProcessUnlock *: 1000=0/2/NULL 12080=0/0/cuCheckpointProcessUnlock
cuCoredumpGetAttribute *: 1000=0/2/NULL 12010=0/0/cuCoredumpGetAttribute
cuCoredumpGetAttributeGlobal *: 1000=0/2/NULL 12010=0/0/cuCoredumpGetAttributeGlobal
cuCoredumpSetAttribute *: 1000=0/2/NULL 12010=0/0/cuCoredumpSetAttribute
cuCoredumpSetAttributeGlobal *: 1000=0/2/NULL 12010=0/0/cuCoredumpSetAttributeGlobal
cuCtxAttach *: 1000=0/2/NULL 2000=0/0/cuCtxAttach
cuCtxCreate *: 1000=0/2/NULL 2000=0/0/cuCtxCreate 3020=0/0/cuCtxCreate_v2 11040=0/0/cuCtxCreate_v3 12050=0/0/cuCtxCreate_v4
cuCtxDestroy *: 1000=0/2/NULL 2000=0/0/cuCtxDestroy 4000=0/0/cuCtxDestroy_v2
cuCtxDetach *: 1000=0/2/NULL 2000=0/0/cuCtxDetach
cuCtxDisablePeerAccess *: 1000=0/2/NULL 4000=0/0/cuCtxDisablePeerAccess
cuCtxEnablePeerAccess *: 1000=0/2/NULL 4000=0/0/cuCtxEnablePeerAccess
cuCtxFromGreenCtx *: 1000=0/2/NULL 12040=0/0/cuCtxFromGreenCtx
cuCtxGetApiVersion *: 1000=0/2/NULL 3020=0/0/cuCtxGetApiVersion
cuCtxGetCacheConfig *: 1000=0/2/NULL 3020=0/0/cuCtxGetCacheConfig
cuCtxGetCurrent *: 1000=0/2/NULL 4000=0/0/cuCtxGetCurrent
cuCtxGetDevResource *: 1000=0/2/NULL 12040=0/0/cuCtxGetDevResource
cuCtxGetDevice *: 1000=0/2/NULL 2000=0/0/cuCtxGetDevice 13000=0/0/cuCtxGetDevice_v2
cuCtxGetExecAffinity *: 1000=0/2/NULL 11040=0/0/cuCtxGetExecAffinity
cuCtxGetFlags *: 1000=0/2/NULL 7000=0/0/cuCtxGetFlags
cuCtxGetId *: 1000=0/2/NULL 12000=0/0/cuCtxGetId
cuCtxGetLimit *: 1000=0/2/NULL 3010=0/0/cuCtxGetLimit
cuCtxGetSharedMemConfig *: 1000=0/2/NULL 4020=0/0/cuCtxGetSharedMemConfig
cuCtxGetStreamPriorityRange *: 1000=0/2/NULL 5050=0/0/cuCtxGetStreamPriorityRange
cuCtxPopCurrent *: 1000=0/2/NULL 2000=0/0/cuCtxPopCurrent 4000=0/0/cuCtxPopCurrent_v2
cuCtxPushCurrent *: 1000=0/2/NULL 2000=0/0/cuCtxPushCurrent 4000=0/0/cuCtxPushCurrent_v2
cuCtxRecordEvent *: 1000=0/2/NULL 12050=0/0/cuCtxRecordEvent
cuCtxResetPersistingL2Cache *: 1000=0/2/NULL 11000=0/0/cuCtxResetPersistingL2Cache
cuCtxSetCacheConfig *: 1000=0/2/NULL 3020=0/0/cuCtxSetCacheConfig
cuCtxSetCurrent *: 1000=0/2/NULL 4000=0/0/cuCtxSetCurrent
cuCtxSetFlags *: 1000=0/2/NULL 12010=0/0/cuCtxSetFlags
cuCtxSetLimit *: 1000=0/2/NULL 3010=0/0/cuCtxSetLimit
cuCtxSetSharedMemConfig *: 1000=0/2/NULL 4020=0/0/cuCtxSetSharedMemConfig
cuCtxSynchronize *: 1000=0/2/NULL 2000=0/0/cuCtxSynchronize 13000=0/0/cuCtxSynchronize_v2
cuCtxWaitEvent *: 1000=0/2/NULL 12050=0/0/cuCtxWaitEvent
cuDestroyExternalMemory *: 1000=0/2/NULL 10000=0/0/cuDestroyExternalMemory
cuDestroyExternalSemaphore *: 1000=0/2/NULL 10000=0/0/cuDestroyExternalSemaphore
cuDevResourceGenerateDesc *: 1000=0/2/NULL 12040=0/0/cuDevResourceGenerateDesc
cuDevSmResourceSplitByCount *: 1000=0/2/NULL 12040=0/0/cuDevSmResourceSplitByCount
cuDeviceCanAccessPeer *: 1000=0/2/NULL 4000=0/0/cuDeviceCanAccessPeer
cuDeviceComputeCapability *: 1000=0/2/NULL 2000=0/0/cuDeviceComputeCapability
cuDeviceGet *: 1000=0/2/NULL 2000=0/0/cuDeviceGet
cuDeviceGetAttribute *: 1000=0/2/NULL 2000=0/0/cuDeviceGetAttribute
cuDeviceGetByPCIBusId *: 1000=0/2/NULL 4010=0/0/cuDeviceGetByPCIBusId
cuDeviceGetCount *: 1000=0/2/NULL 2000=0/0/cuDeviceGetCount
cuDeviceGetDefaultMemPool *: 1000=0/2/NULL 11020=0/0/cuDeviceGetDefaultMemPool
cuDeviceGetDevResource *: 1000=0/2/NULL 12040=0/0/cuDeviceGetDevResource
cuDeviceGetExecAffinitySupport *: 1000=0/2/NULL 11040=0/0/cuDeviceGetExecAffinitySupport
cuDeviceGetGraphMemAttribute *: 1000=0/2/NULL 11040=0/0/cuDeviceGetGraphMemAttribute
cuDeviceGetHostAtomicCapabilities *: 1000=0/2/NULL 13000=0/0/cuDeviceGetHostAtomicCapabilities
cuDeviceGetLuid *: 1000=0/2/NULL 10000=0/0/cuDeviceGetLuid
cuDeviceGetMemPool *: 1000=0/2/NULL 11020=0/0/cuDeviceGetMemPool
cuDeviceGetName *: 1000=0/2/NULL 2000=0/0/cuDeviceGetName
cuDeviceGetNvSciSyncAttributes *: 1000=0/2/NULL 10020=0/0/cuDeviceGetNvSciSyncAttributes
cuDeviceGetP2PAtomicCapabilities *: 1000=0/2/NULL 13000=0/0/cuDeviceGetP2PAtomicCapabilities
cuDeviceGetP2PAttribute *: 1000=0/2/NULL 8000=0/0/cuDeviceGetP2PAttribute
cuDeviceGetPCIBusId *: 1000=0/2/NULL 4010=0/0/cuDeviceGetPCIBusId
cuDeviceGetProperties *: 1000=0/2/NULL 2000=0/0/cuDeviceGetProperties
cuDeviceGetTexture1DLinearMaxWidth *: 1000=0/2/NULL 11010=0/0/cuDeviceGetTexture1DLinearMaxWidth
cuDeviceGetUuid *: 1000=0/2/NULL 9020=0/0/cuDeviceGetUuid 11040=0/0/cuDeviceGetUuid_v2
cuDeviceGraphMemTrim *: 1000=0/2/NULL 11040=0/0/cuDeviceGraphMemTrim
cuDevicePrimaryCtxGetState *: 1000=0/2/NULL 7000=0/0/cuDevicePrimaryCtxGetState
cuDevicePrimaryCtxRelease *: 1000=0/2/NULL 7000=0/0/cuDevicePrimaryCtxRelease 11000=0/0/cuDevicePrimaryCtxRelease_v2
cuDevicePrimaryCtxReset *: 1000=0/2/NULL 7000=0/0/cuDevicePrimaryCtxReset 11000=0/0/cuDevicePrimaryCtxReset_v2
cuDevicePrimaryCtxRetain *: 1000=0/2/NULL 7000=0/0/cuDevicePrimaryCtxRetain
cuDevicePrimaryCtxSetFlags *: 1000=0/2/NULL 7000=0/0/cuDevicePrimaryCtxSetFlags 11000=0/0/cuDevicePrimaryCtxSetFlags_v2
cuDeviceRegisterAsyncNotification *: 1000=0/2/NULL 12040=0/0/cuDeviceRegisterAsyncNotification
cuDeviceSetGraphMemAttribute *: 1000=0/2/NULL 11040=0/0/cuDeviceSetGraphMemAttribute
cuDeviceSetMemPool *: 1000=0/2/NULL 11020=0/0/cuDeviceSetMemPool
cuDeviceTotalMem *: 1000=0/2/NULL 2000=0/0/cuDeviceTotalMem 3020=0/0/cuDeviceTotalMem_v2
cuDeviceUnregisterAsyncNotification *: 1000=0/2/NULL 12040=0/0/cuDeviceUnregisterAsyncNotification
cuDriverGetVersion *: 1000=0/2/NULL 2020=0/0/cuDriverGetVersion
cuEGLApiInit *: 1000=0/1/NULL
cuEGLStreamConsumerAcquireFrame *: 1000=0/2/NULL 7000=0/0/cuEGLStreamConsumerAcquireFrame
cuEGLStreamConsumerConnect *: 1000=0/2/NULL 7000=0/0/cuEGLStreamConsumerConnect
cuEGLStreamConsumerConnectWithFlags *: 1000=0/2/NULL 8000=0/0/cuEGLStreamConsumerConnectWithFlags
cuEGLStreamConsumerDisconnect *: 1000=0/2/NULL 7000=0/0/cuEGLStreamConsumerDisconnect
cuEGLStreamConsumerReleaseFrame *: 1000=0/2/NULL 7000=0/0/cuEGLStreamConsumerReleaseFrame
cuEGLStreamProducerConnect *: 1000=0/2/NULL 7000=0/0/cuEGLStreamProducerConnect
cuEGLStreamProducerDisconnect *: 1000=0/2/NULL 7000=0/0/cuEGLStreamProducerDisconnect
cuEGLStreamProducerPresentFrame *: 1000=0/2/NULL 7000=0/0/cuEGLStreamProducerPresentFrame
cuEGLStreamProducerReturnFrame *: 1000=0/2/NULL 7000=0/0/cuEGLStreamProducerReturnFrame
cuEventCreate *: 1000=0/2/NULL 2000=0/0/cuEventCreate
cuEventCreateFromEGLSync *: 1000=0/1/NULL
cuEventDestroy *: 1000=0/2/NULL 2000=0/0/cuEventDestroy 4000=0/0/cuEventDestroy_v2
cuEventElapsedTime *: 1000=0/2/NULL 2000=0/0/cuEventElapsedTime 12080=0/0/cuEventElapsedTime_v2
cuEventQuery *: 1000=0/2/NULL 2000=0/0/cuEventQuery
cuEventRecord 1: 1000=0/2/NULL 2000=0/0/cuEventRecord
cuEventRecord 2: 1000=0/2/NULL 7000=0/0/cuEventRecord_ptsz
cuEventRecordWithFlags 1: 1000=0/2/NULL 11010=0/0/cuEventRecordWithFlags
cuEventRecordWithFlags 2: 1000=0/2/NULL 11010=0/0/cuEventRecordWithFlags_ptsz
cuEventSynchronize *: 1000=0/2/NULL 2000=0/0/cuEventSynchronize
cuExternalMemoryGetMappedBuffer *: 1000=0/2/NULL 10000=0/0/cuExternalMemoryGetMappedBuffer
cuExternalMemoryGetMappedMipmappedArray *: 1000=0/2/NULL 10000=0/0/cuExternalMemoryGetMappedMipmappedArray
cuFlushGPUDirectRDMAWrites *: 1000=0/2/NULL 11030=0/0/cuFlushGPUDirectRDMAWrites
cuFuncGetAttribute *: 1000=0/2/NULL 2020=0/0/cuFuncGetAttribute
cuFuncGetModule *: 1000=0/2/NULL 11000=0/0/cuFuncGetModule
cuFuncGetName *: 1000=0/2/NULL 12030=0/0/cuFuncGetName
cuFuncGetParamInfo *: 1000=0/2/NULL 12040=0/0/cuFuncGetParamInfo
cuFuncIsLoaded *: 1000=0/2/NULL 12040=0/0/cuFuncIsLoaded
cuFuncLoad *: 1000=0/2/NULL 12040=0/0/cuFuncLoad
cuFuncSetAttribute *: 1000=0/2/NULL 9000=0/0/cuFuncSetAttribute
cuFuncSetBlockShape *: 1000=0/2/NULL 2000=0/0/cuFuncSetBlockShape
cuFuncSetCacheConfig *: 1000=0/2/NULL 3000=0/0/cuFuncSetCacheConfig
cuFuncSetSharedMemConfig *: 1000=0/2/NULL 4020=0/0/cuFuncSetSharedMemConfig
cuFuncSetSharedSize *: 1000=0/2/NULL 2000=0/0/cuFuncSetSharedSize
cuGLCtxCreate *: 1000=0/2/NULL 2000=0/0/cuGLCtxCreate 3020=0/0/cuGLCtxCreate_v2
cuGLGetDevices *: 1000=0/2/NULL 4010=0/0/cuGLGetDevices 6050=0/0/cuGLGetDevices_v2
cuGLInit *: 1000=0/2/NULL 2000=0/0/cuGLInit
cuGLMapBufferObject 1: 1000=0/2/NULL 2000=0/0/cuGLMapBufferObject 3020=0/0/cuGLMapBufferObject_v2
cuGLMapBufferObject 2: 1000=0/2/NULL 7000=0/0/cuGLMapBufferObject_v2_ptds
cuGLMapBufferObjectAsync 1: 1000=0/2/NULL 2030=0/0/cuGLMapBufferObjectAsync 3020=0/0/cuGLMapBufferObjectAsync_v2
cuGLMapBufferObjectAsync 2: 1000=0/2/NULL 7000=0/0/cuGLMapBufferObjectAsync_v2_ptsz
cuGLRegisterBufferObject *: 1000=0/2/NULL 2000=0/0/cuGLRegisterBufferObject
cuGLSetBufferObjectMapFlags *: 1000=0/2/NULL 2030=0/0/cuGLSetBufferObjectMapFlags
cuGLUnmapBufferObject *: 1000=0/2/NULL 2000=0/0/cuGLUnmapBufferObject
cuGLUnmapBufferObjectAsync *: 1000=0/2/NULL 2030=0/0/cuGLUnmapBufferObjectAsync
cuGLUnregisterBufferObject *: 1000=0/2/NULL 2000=0/0/cuGLUnregisterBufferObject
cuGetErrorName *: 1000=0/2/NULL 6000=0/0/cuGetErrorName
cuGetErrorString *: 1000=0/2/NULL 6000=0/0/cuGetErrorString
cuGetExportTable *: 1000=0/2/NULL 3000=0/0/cuGetExportTable
cuGetProcAddress *: 1000=0/2/NULL 11030=0/0/cuGetProcAddress 12000=0/0/cuGetProcAddress_v2
cuGraphAddBatchMemOpNode *: 1000=0/2/NULL 11070=0/0/cuGraphAddBatchMemOpNode
cuGraphAddChildGraphNode *: 1000=0/2/NULL 10000=0/0/cuGraphAddChildGraphNode
cuGraphAddDependencies *: 1000=0/2/NULL 10000=0/0/cuGraphAddDependencies 12030=0/0/cuGraphAddDependencies_v2
cuGraphAddEmptyNode *: 1000=0/2/NULL 10000=0/0/cuGraphAddEmptyNode
cuGraphAddEventRecordNode *: 1000=0/2/NULL 11010=0/0/cuGraphAddEventRecordNode
cuGraphAddEventWaitNode *: 1000=0/2/NULL 11010=0/0/cuGraphAddEventWaitNode
cuGraphAddExternalSemaphoresSignalNode *: 1000=0/2/NULL 11020=0/0/cuGraphAddExternalSemaphoresSignalNode
cuGraphAddExternalSemaphoresWaitNode *: 1000=0/2/NULL 11020=0/0/cuGraphAddExternalSemaphoresWaitNode
cuGraphAddHostNode *: 1000=0/2/NULL 10000=0/0/cuGraphAddHostNode
cuGraphAddKernelNode *: 1000=0/2/NULL 10000=0/0/cuGraphAddKernelNode 12000=0/0/cuGraphAddKernelNode_v2
cuGraphAddMemAllocNode *: 1000=0/2/NULL 11040=0/0/cuGraphAddMemAllocNode
cuGraphAddMemFreeNode *: 1000=0/2/NULL 11040=0/0/cuGraphAddMemFreeNode
cuGraphAddMemcpyNode *: 1000=0/2/NULL 10000=0/0/cuGraphAddMemcpyNode
cuGraphAddMemsetNode *: 1000=0/2/NULL 10000=0/0/cuGraphAddMemsetNode
cuGraphAddNode *: 1000=0/2/NULL 12020=0/0/cuGraphAddNode 12030=0/0/cuGraphAddNode_v2
cuGraphBatchMemOpNodeGetParams *: 1000=0/2/NULL 11070=0/0/cuGraphBatchMemOpNodeGetParams
cuGraphBatchMemOpNodeSetParams *: 1000=0/2/NULL 11070=0/0/cuGraphBatchMemOpNodeSetParams
cuGraphChildGraphNodeGetGraph *: 1000=0/2/NULL 10000=0/0/cuGraphChildGraphNodeGetGraph
cuGraphClone *: 1000=0/2/NULL 10000=0/0/cuGraphClone
cuGraphConditionalHandleCreate *: 1000=0/2/NULL 12030=0/0/cuGraphConditionalHandleCreate
cuGraphCreate *: 1000=0/2/NULL 10000=0/0/cuGraphCreate
cuGraphDebugDotPrint *: 1000=0/2/NULL 11030=0/0/cuGraphDebugDotPrint
cuGraphDestroy *: 1000=0/2/NULL 10000=0/0/cuGraphDestroy
cuGraphDestroyNode *: 1000=0/2/NULL 10000=0/0/cuGraphDestroyNode
cuGraphEventRecordNodeGetEvent *: 1000=0/2/NULL 11010=0/0/cuGraphEventRecordNodeGetEvent
cuGraphEventRecordNodeSetEvent *: 1000=0/2/NULL 11010=0/0/cuGraphEventRecordNodeSetEvent
cuGraphEventWaitNodeGetEvent *: 1000=0/2/NULL 11010=0/0/cuGraphEventWaitNodeGetEvent
cuGraphEventWaitNodeSetEvent *: 1000=0/2/NULL 11010=0/0/cuGraphEventWaitNodeSetEvent
cuGraphExecBatchMemOpNodeSetParams *: 1000=0/2/NULL 11070=0/0/cuGraphExecBatchMemOpNodeSetParams
cuGraphExecChildGraphNodeSetParams *: 1000=0/2/NULL 11010=0/0/cuGraphExecChildGraphNodeSetParams
cuGraphExecDestroy *: 1000=0/2/NULL 10000=0/0/cuGraphExecDestroy
cuGraphExecEventRecordNodeSetEvent *: 1000=0/2/NULL 11010=0/0/cuGraphExecEventRecordNodeSetEvent
cuGraphExecEventWaitNodeSetEvent *: 1000=0/2/NULL 11010=0/0/cuGraphExecEventWaitNodeSetEvent
cuGraphExecExternalSemaphoresSignalNodeSetParams *: 1000=0/2/NULL 11020=0/0/cuGraphExecExternalSemaphoresSignalNodeSetParams
cuGraphExecExternalSemaphoresWaitNodeSetParams *: 1000=0/2/NULL 11020=0/0/cuGraphExecExternalSemaphoresWaitNodeSetParams
cuGraphExecGetFlags *: 1000=0/2/NULL 12000=0/0/cuGraphExecGetFlags
cuGraphExecHostNodeSetParams *: 1000=0/2/NULL 10020=0/0/cuGraphExecHostNodeSetParams
cuGraphExecKernelNodeSetParams *: 1000=0/2/NULL 10010=0/0/cuGraphExecKernelNodeSetParams 12000=0/0/cuGraphExecKernelNodeSetParams_v2
cuGraphExecMemcpyNodeSetParams *: 1000=0/2/NULL 10020=0/0/cuGraphExecMemcpyNodeSetParams
cuGraphExecMemsetNodeSetParams *: 1000=0/2/NULL 10020=0/0/cuGraphExecMemsetNodeSetParams
cuGraphExecNodeSetParams *: 1000=0/2/NULL 12020=0/0/cuGraphExecNodeSetParams
cuGraphExecUpdate *: 1000=0/2/NULL 10020=0/0/cuGraphExecUpdate 12000=0/0/cuGraphExecUpdate_v2
cuGraphExternalSemaphoresSignalNodeGetParams *: 1000=0/2/NULL 11020=0/0/cuGraphExternalSemaphoresSignalNodeGetParams
cuGraphExternalSemaphoresSignalNodeSetParams *: 1000=0/2/NULL 11020=0/0/cuGraphExternalSemaphoresSignalNodeSetParams
cuGraphExternalSemaphoresWaitNodeGetParams *: 1000=0/2/NULL 11020=0/0/cuGraphExternalSemaphoresWaitNodeGetParams
cuGraphExternalSemaphoresWaitNodeSetParams *: 1000=0/2/NULL 11020=0/0/cuGraphExternalSemaphoresWaitNodeSetParams
cuGraphGetEdges *: 1000=0/2/NULL 10000=0/0/cuGraphGetEdges 12030=0/0/cuGraphGetEdges_v2
cuGraphGetNodes *: 1000=0/2/NULL 10000=0/0/cuGraphGetNodes
cuGraphGetRootNodes *: 1000=0/2/NULL 10000=0/0/cuGraphGetRootNodes
cuGraphHostNodeGetParams *: 1000=0/2/NULL 10000=0/0/cuGraphHostNodeGetParams
cuGraphHostNodeSetParams *: 1000=0/2/NULL 10000=0/0/cuGraphHostNodeSetParams
cuGraphInstantiate *: 1000=0/2/NULL 10000=0/0/cuGraphInstantiate 11000=0/0/cuGraphInstantiate_v2
cuGraphInstantiateWithFlags *: 1000=0/2/NULL 11040=0/0/cuGraphInstantiateWithFlags
cuGraphInstantiateWithParams 1: 1000=0/2/NULL 12000=0/0/cuGraphInstantiateWithParams
cuGraphInstantiateWithParams 2: 1000=0/2/NULL 12000=0/0/cuGraphInstantiateWithParams_ptsz
cuGraphKernelNodeCopyAttributes *: 1000=0/2/NULL 11000=0/0/cuGraphKernelNodeCopyAttributes
cuGraphKernelNodeGetAttribute *: 1000=0/2/NULL 11000=0/0/cuGraphKernelNodeGetAttribute
cuGraphKernelNodeGetParams *: 1000=0/2/NULL 10000=0/0/cuGraphKernelNodeGetParams 12000=0/0/cuGraphKernelNodeGetParams_v2
cuGraphKernelNodeSetAttribute *: 1000=0/2/NULL 11000=0/0/cuGraphKernelNodeSetAttribute
cuGraphKernelNodeSetParams *: 1000=0/2/NULL 10000=0/0/cuGraphKernelNodeSetParams 12000=0/0/cuGraphKernelNodeSetParams_v2
cuGraphLaunch 1: 1000=0/2/NULL 10000=0/0/cuGraphLaunch
cuGraphLaunch 2: 1000=0/2/NULL 10000=0/0/cuGraphLaunch_ptsz
cuGraphMemAllocNodeGetParams *: 1000=0/2/NULL 11040=0/0/cuGraphMemAllocNodeGetParams
cuGraphMemFreeNodeGetParams *: 1000=0/2/NULL 11040=0/0/cuGraphMemFreeNodeGetParams
cuGraphMemcpyNodeGetParams *: 1000=0/2/NULL 10000=0/0/cuGraphMemcpyNodeGetParams
cuGraphMemcpyNodeSetParams *: 1000=0/2/NULL 10000=0/0/cuGraphMemcpyNodeSetParams
cuGraphMemsetNodeGetParams *: 1000=0/2/NULL 10000=0/0/cuGraphMemsetNodeGetParams
cuGraphMemsetNodeSetParams *: 1000=0/2/NULL 10000=0/0/cuGraphMemsetNodeSetParams
cuGraphNodeFindInClone *: 1000=0/2/NULL 10000=0/0/cuGraphNodeFindInClone
cuGraphNodeGetDependencies *: 1000=0/2/NULL 10000=0/0/cuGraphNodeGetDependencies 12030=0/0/cuGraphNodeGetDependencies_v2
cuGraphNodeGetDependentNodes *: 1000=0/2/NULL 10000=0/0/cuGraphNodeGetDependentNodes 12030=0/0/cuGraphNodeGetDependentNodes_v2
cuGraphNodeGetEnabled *: 1000=0/2/NULL 11060=0/0/cuGraphNodeGetEnabled
cuGraphNodeGetType *: 1000=0/2/NULL 10000=0/0/cuGraphNodeGetType
cuGraphNodeSetEnabled *: 1000=0/2/NULL 11060=0/0/cuGraphNodeSetEnabled
cuGraphNodeSetParams *: 1000=0/2/NULL 12020=0/0/cuGraphNodeSetParams
cuGraphReleaseUserObject *: 1000=0/2/NULL 11030=0/0/cuGraphReleaseUserObject
cuGraphRemoveDependencies *: 1000=0/2/NULL 10000=0/0/cuGraphRemoveDependencies 12030=0/0/cuGraphRemoveDependencies_v2
cuGraphRetainUserObject *: 1000=0/2/NULL 11030=0/0/cuGraphRetainUserObject
cuGraphUpload 1: 1000=0/2/NULL 11010=0/0/cuGraphUpload
cuGraphUpload 2: 1000=0/2/NULL 11010=0/0/cuGraphUpload_ptsz
cuGraphicsEGLRegisterImage *: 1000=0/2/NULL 7000=0/0/cuGraphicsEGLRegisterImage
cuGraphicsGLRegisterBuffer *: 1000=0/2/NULL 3000=0/0/cuGraphicsGLRegisterBuffer
cuGraphicsGLRegisterImage *: 1000=0/2/NULL 3000=0/0/cuGraphicsGLRegisterImage
cuGraphicsMapResources 1: 1000=0/2/NULL 3000=0/0/cuGraphicsMapResources
cuGraphicsMapResources 2: 1000=0/2/NULL 7000=0/0/cuGraphicsMapResources_ptsz
cuGraphicsResourceGetMappedEglFrame *: 1000=0/2/NULL 7000=0/0/cuGraphicsResourceGetMappedEglFrame
cuGraphicsResourceGetMappedMipmappedArray *: 1000=0/2/NULL 5000=0/0/cuGraphicsResourceGetMappedMipmappedArray
cuGraphicsResourceGetMappedPointer *: 1000=0/2/NULL 3000=0/0/cuGraphicsResourceGetMappedPointer 3020=0/0/cuGraphicsResourceGetMappedPointer_v2
cuGraphicsResourceSetMapFlags *: 1000=0/2/NULL 3000=0/0/cuGraphicsResourceSetMapFlags 6050=0/0/cuGraphicsResourceSetMapFlags_v2
cuGraphicsSubResourceGetMappedArray *: 1000=0/2/NULL 3000=0/0/cuGraphicsSubResourceGetMappedArray
cuGraphicsUnmapResources 1: 1000=0/2/NULL 3000=0/0/cuGraphicsUnmapResources
cuGraphicsUnmapResources 2: 1000=0/2/NULL 7000=0/0/cuGraphicsUnmapResources_ptsz
cuGraphicsUnregisterResource *: 1000=0/2/NULL 3000=0/0/cuGraphicsUnregisterResource
cuGraphicsVDPAURegisterOutputSurface *: 1000=0/2/NULL 3010=0/0/cuGraphicsVDPAURegisterOutputSurface
cuGraphicsVDPAURegisterVideoSurface *: 1000=0/2/NULL 3010=0/0/cuGraphicsVDPAURegisterVideoSurface
cuGreenCtxCreate *: 1000=0/2/NULL 12040=0/0/cuGreenCtxCreate
cuGreenCtxDestroy *: 1000=0/2/NULL 12040=0/0/cuGreenCtxDestroy
cuGreenCtxGetDevResource *: 1000=0/2/NULL 12040=0/0/cuGreenCtxGetDevResource
cuGreenCtxGetId *: 1000=0/2/NULL 12090=0/0/cuGreenCtxGetId
cuGreenCtxRecordEvent *: 1000=0/2/NULL 12040=0/0/cuGreenCtxRecordEvent
cuGreenCtxStreamCreate *: 1000=0/2/NULL 12050=0/0/cuGreenCtxStreamCreate
cuGreenCtxWaitEvent *: 1000=0/2/NULL 12040=0/0/cuGreenCtxWaitEvent
cuImportExternalMemory *: 1000=0/2/NULL 10000=0/0/cuImportExternalMemory
cuImportExternalSemaphore *: 1000=0/2/NULL 10000=0/0/cuImportExternalSemaphore
cuInit *: 1000=0/2/NULL 2000=0/0/cuInit
cuIpcCloseMemHandle *: 1000=0/2/NULL 4010=0/0/cuIpcCloseMemHandle
cuIpcGetEventHandle *: 1000=0/2/NULL 4010=0/0/cuIpcGetEventHandle
cuIpcGetMemHandle *: 1000=0/2/NULL 4010=0/0/cuIpcGetMemHandle
cuIpcOpenEventHandle *: 1000=0/2/NULL 4010=0/0/cuIpcOpenEventHandle
cuIpcOpenMemHandle *: 1000=0/2/NULL 4010=0/0/cuIpcOpenMemHandle 11000=0/0/cuIpcOpenMemHandle_v2
cuKernelGetAttribute *: 1000=0/2/NULL 12000=0/0/cuKernelGetAttribute
cuKernelGetFunction *: 1000=0/2/NULL 12000=0/0/cuKernelGetFunction
cuKernelGetLibrary *: 1000=0/2/NULL 12050=0/0/cuKernelGetLibrary
cuKernelGetName *: 1000=0/2/NULL 12030=0/0/cuKernelGetName
cuKernelGetParamInfo *: 1000=0/2/NULL 12040=0/0/cuKernelGetParamInfo
cuKernelSetAttribute *: 1000=0/2/NULL 12000=0/0/cuKernelSetAttribute
cuKernelSetCacheConfig *: 1000=0/2/NULL 12000=0/0/cuKernelSetCacheConfig
cuLaunch *: 1000=0/2/NULL 2000=0/0/cuLaunch
cuLaunchCooperativeKernel 1: 1000=0/2/NULL 9000=0/0/cuLaunchCooperativeKernel
cuLaunchCooperativeKernel 2: 1000=0/2/NULL 9000=0/0/cuLaunchCooperativeKernel_ptsz
cuLaunchCooperativeKernelMultiDevice *: 1000=0/2/NULL 9000=0/0/cuLaunchCooperativeKernelMultiDevice
cuLaunchGrid *: 1000=0/2/NULL 2000=0/0/cuLaunchGrid
cuLaunchGridAsync *: 1000=0/2/NULL 2000=0/0/cuLaunchGridAsync
cuLaunchHostFunc 1: 1000=0/2/NULL 10000=0/0/cuLaunchHostFunc
cuLaunchHostFunc 2: 1000=0/2/NULL 10000=0/0/cuLaunchHostFunc_ptsz
cuLaunchKernel 1: 1000=0/2/NULL 4000=0/0/cuLaunchKernel
cuLaunchKernel 2: 1000=0/2/NULL 7000=0/0/cuLaunchKernel_ptsz
cuLaunchKernelEx 1: 1000=0/2/NULL 11060=0/0/cuLaunchKernelEx
cuLaunchKernelEx 2: 1000=0/2/NULL 11060=0/0/cuLaunchKernelEx_ptsz
cuLibraryEnumerateKernels *: 1000=0/2/NULL 12040=0/0/cuLibraryEnumerateKernels
cuLibraryGetGlobal *: 1000=0/2/NULL 12000=0/0/cuLibraryGetGlobal
cuLibraryGetKernel *: 1000=0/2/NULL 12000=0/0/cuLibraryGetKernel
cuLibraryGetKernelCount *: 1000=0/2/NULL 12040=0/0/cuLibraryGetKernelCount
cuLibraryGetManaged *: 1000=0/2/NULL 12000=0/0/cuLibraryGetManaged
cuLibraryGetModule *: 1000=0/2/NULL 12000=0/0/cuLibraryGetModule
cuLibraryGetUnifiedFunction *: 1000=0/2/NULL 12000=0/0/cuLibraryGetUnifiedFunction
cuLibraryLoadData *: 1000=0/2/NULL 12000=0/0/cuLibraryLoadData
cuLibraryLoadFromFile *: 1000=0/2/NULL 12000=0/0/cuLibraryLoadFromFile
cuLibraryUnload *: 1000=0/2/NULL 12000=0/0/cuLibraryUnload
cuLinkAddData *: 1000=0/2/NULL 5050=0/0/cuLinkAddData 6050=0/0/cuLinkAddData_v2
cuLinkAddFile *: 1000=0/2/NULL 5050=0/0/cuLinkAddFile 6050=0/0/cuLinkAddFile_v2
cuLinkComplete *: 1000=0/2/NULL 5050=0/0/cuLinkComplete
cuLinkCreate *: 1000=0/2/NULL 5050=0/0/cuLinkCreate 6050=0/0/cuLinkCreate_v2
cuLinkDestroy *: 1000=0/2/NULL 5050=0/0/cuLinkDestroy
cuLogsCurrent *: 1000=0/2/NULL 12090=0/0/cuLogsCurrent
cuLogsDumpToFile *: 1000=0/2/NULL 12090=0/0/cuLogsDumpToFile
cuLogsDumpToMemory *: 1000=0/2/NULL 12090=0/0/cuLogsDumpToMemory
cuLogsRegisterCallback *: 1000=0/2/NULL 12090=0/0/cuLogsRegisterCallback
cuLogsUnregisterCallback *: 1000=0/2/NULL 12090=0/0/cuLogsUnregisterCallback
cuMemAddressFree *: 1000=0/2/NULL 10020=0/0/cuMemAddressFree
cuMemAddressReserve *: 1000=0/2/NULL 10020=0/0/cuMemAddressReserve
cuMemAdvise *: 1000=0/2/NULL 8000=0/0/cuMemAdvise 12020=0/0/cuMemAdvise_v2
cuMemAlloc *: 1000=0/2/NULL 2000=0/0/cuMemAlloc 3020=0/0/cuMemAlloc_v2
cuMemAllocAsync 1: 1000=0/2/NULL 11020=0/0/cuMemAllocAsync
cuMemAllocAsync 2: 1000=0/2/NULL 11020=0/0/cuMemAllocAsync_ptsz
cuMemAllocFromPoolAsync 1: 1000=0/2/NULL 11020=0/0/cuMemAllocFromPoolAsync
cuMemAllocFromPoolAsync 2: 1000=0/2/NULL 11020=0/0/cuMemAllocFromPoolAsync_ptsz
cuMemAllocHost *: 1000=0/2/NULL 2000=0/0/cuMemAllocHost 3020=0/0/cuMemAllocHost_v2
cuMemAllocManaged *: 1000=0/2/NULL 6000=0/0/cuMemAllocManaged
cuMemAllocPitch *: 1000=0/2/NULL 2000=0/0/cuMemAllocPitch 3020=0/0/cuMemAllocPitch_v2
cuMemBatchDecompressAsync 1: 1000=0/2/NULL 12060=0/0/cuMemBatchDecompressAsync
cuMemBatchDecompressAsync 2: 1000=0/2/NULL 12060=0/0/cuMemBatchDecompressAsync_ptsz
cuMemCreate *: 1000=0/2/NULL 10020=0/0/cuMemCreate
cuMemDiscardAndPrefetchBatchAsync 1: 1000=0/2/NULL 13000=0/0/cuMemDiscardAndPrefetchBatchAsync
cuMemDiscardAndPrefetchBatchAsync 2: 1000=0/2/NULL 13000=0/0/cuMemDiscardAndPrefetchBatchAsync_ptsz
cuMemDiscardBatchAsync 1: 1000=0/2/NULL 13000=0/0/cuMemDiscardBatchAsync
cuMemDiscardBatchAsync 2: 1000=0/2/NULL 13000=0/0/cuMemDiscardBatchAsync_ptsz
cuMemExportToShareableHandle *: 1000=0/2/NULL 10020=0/0/cuMemExportToShareableHandle
cuMemFree *: 1000=0/2/NULL 2000=0/0/cuMemFree 3020=0/0/cuMemFree_v2
cuMemFreeAsync 1: 1000=0/2/NULL 11020=0/0/cuMemFreeAsync
cuMemFreeAsync 2: 1000=0/2/NULL 11020=0/0/cuMemFreeAsync_ptsz
cuMemFreeHost *: 1000=0/2/NULL 2000=0/0/cuMemFreeHost
cuMemGetAccess *: 1000=0/2/NULL 10020=0/0/cuMemGetAccess
cuMemGetAddressRange *: 1000=0/2/NULL 2000=0/0/cuMemGetAddressRange 3020=0/0/cuMemGetAddressRange_v2
cuMemGetAllocationGranularity *: 1000=0/2/NULL 10020=0/0/cuMemGetAllocationGranularity
cuMemGetAllocationPropertiesFromHandle *: 1000=0/2/NULL 10020=0/0/cuMemGetAllocationPropertiesFromHandle
cuMemGetAttribute *: 1000=0/1/NULL
cuMemGetDefaultMemPool *: 1000=0/2/NULL 13000=0/0/cuMemGetDefaultMemPool
cuMemGetHandleForAddressRange *: 1000=0/2/NULL 11070=0/0/cuMemGetHandleForAddressRange
cuMemGetInfo *: 1000=0/2/NULL 2000=0/0/cuMemGetInfo 3020=0/0/cuMemGetInfo_v2
cuMemGetMemPool *: 1000=0/2/NULL 13000=0/0/cuMemGetMemPool
cuMemHostAlloc *: 1000=0/2/NULL 2020=0/0/cuMemHostAlloc
cuMemHostGetDevicePointer *: 1000=0/2/NULL 2020=0/0/cuMemHostGetDevicePointer 3020=0/0/cuMemHostGetDevicePointer_v2
cuMemHostGetFlags *: 1000=0/2/NULL 2030=0/0/cuMemHostGetFlags
cuMemHostRegister *: 1000=0/2/NULL 4000=0/0/cuMemHostRegister 6050=0/0/cuMemHostRegister_v2
cuMemHostUnregister *: 1000=0/2/NULL 4000=0/0/cuMemHostUnregister
cuMemImportFromShareableHandle *: 1000=0/2/NULL 10020=0/0/cuMemImportFromShareableHandle
cuMemMap *: 1000=0/2/NULL 10020=0/0/cuMemMap
cuMemMapArrayAsync 1: 1000=0/2/NULL 11010=0/0/cuMemMapArrayAsync
cuMemMapArrayAsync 2: 1000=0/2/NULL 11010=0/0/cuMemMapArrayAsync_ptsz
cuMemPoolCreate *: 1000=0/2/NULL 11020=0/0/cuMemPoolCreate
cuMemPoolDestroy *: 1000=0/2/NULL 11020=0/0/cuMemPoolDestroy
cuMemPoolExportPointer *: 1000=0/2/NULL 11020=0/0/cuMemPoolExportPointer
cuMemPoolExportToShareableHandle *: 1000=0/2/NULL 11020=0/0/cuMemPoolExportToShareableHandle
cuMemPoolGetAccess *: 1000=0/2/NULL 11020=0/0/cuMemPoolGetAccess
cuMemPoolGetAttribute *: 1000=0/2/NULL 11020=0/0/cuMemPoolGetAttribute
cuMemPoolImportFromShareableHandle *: 1000=0/2/NULL 11020=0/0/cuMemPoolImportFromShareableHandle
cuMemPoolImportPointer *: 1000=0/2/NULL 11020=0/0/cuMemPoolImportPointer
cuMemPoolSetAccess *: 1000=0/2/NULL 11020=0/0/cuMemPoolSetAccess
cuMemPoolSetAttribute *: 1000=0/2/NULL 11020=0/0/cuMemPoolSetAttribute
cuMemPoolTrimTo *: 1000=0/2/NULL 11020=0/0/cuMemPoolTrimTo
cuMemPrefetchAsync 1: 1000=0/2/NULL 8000=0/0/cuMemPrefetchAsync 12020=0/0/cuMemPrefetchAsync_v2
cuMemPrefetchAsync 2: 1000=0/2/NULL 8000=0/0/cuMemPrefetchAsync_ptsz 12020=0/0/cuMemPrefetchAsync_v2_ptsz
cuMemPrefetchBatchAsync 1: 1000=0/2/NULL 13000=0/0/cuMemPrefetchBatchAsync
cuMemPrefetchBatchAsync 2: 1000=0/2/NULL 13000=0/0/cuMemPrefetchBatchAsync_ptsz
cuMemRangeGetAttribute *: 1000=0/2/NULL 8000=0/0/cuMemRangeGetAttribute
cuMemRangeGetAttributes *: 1000=0/2/NULL 8000=0/0/cuMemRangeGetAttributes
cuMemRelease *: 1000=0/2/NULL 10020=0/0/cuMemRelease
cuMemRetainAllocationHandle *: 1000=0/2/NULL 11000=0/0/cuMemRetainAllocationHandle
cuMemSetAccess *: 1000=0/2/NULL 10020=0/0/cuMemSetAccess
cuMemSetMemPool *: 1000=0/2/NULL 13000=0/0/cuMemSetMemPool
cuMemUnmap *: 1000=0/2/NULL 10020=0/0/cuMemUnmap
cuMemcpy 1: 1000=0/2/NULL 4000=0/0/cuMemcpy
cuMemcpy 2: 1000=0/2/NULL 7000=0/0/cuMemcpy_ptds
cuMemcpy2D 1: 1000=0/2/NULL 2000=0/0/cuMemcpy2D 3020=0/0/cuMemcpy2D_v2
cuMemcpy2D 2: 1000=0/2/NULL 7000=0/0/cuMemcpy2D_v2_ptds
cuMemcpy2DAsync 1: 1000=0/2/NULL 2000=0/0/cuMemcpy2DAsync 3020=0/0/cuMemcpy2DAsync_v2
cuMemcpy2DAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpy2DAsync_v2_ptsz
cuMemcpy2DUnaligned 1: 1000=0/2/NULL 2000=0/0/cuMemcpy2DUnaligned 3020=0/0/cuMemcpy2DUnaligned_v2
cuMemcpy2DUnaligned 2: 1000=0/2/NULL 7000=0/0/cuMemcpy2DUnaligned_v2_ptds
cuMemcpy3D 1: 1000=0/2/NULL 2000=0/0/cuMemcpy3D 3020=0/0/cuMemcpy3D_v2
cuMemcpy3D 2: 1000=0/2/NULL 7000=0/0/cuMemcpy3D_v2_ptds
cuMemcpy3DAsync 1: 1000=0/2/NULL 2000=0/0/cuMemcpy3DAsync 3020=0/0/cuMemcpy3DAsync_v2
cuMemcpy3DAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpy3DAsync_v2_ptsz
cuMemcpy3DBatchAsync 1: 1000=0/2/NULL 12080=0/0/cuMemcpy3DBatchAsync 13000=0/0/cuMemcpy3DBatchAsync_v2
cuMemcpy3DBatchAsync 2: 1000=0/2/NULL 12080=0/0/cuMemcpy3DBatchAsync_ptsz 13000=0/0/cuMemcpy3DBatchAsync_v2_ptsz
cuMemcpy3DPeer 1: 1000=0/2/NULL 4000=0/0/cuMemcpy3DPeer
cuMemcpy3DPeer 2: 1000=0/2/NULL 7000=0/0/cuMemcpy3DPeer_ptds
cuMemcpy3DPeerAsync 1: 1000=0/2/NULL 4000=0/0/cuMemcpy3DPeerAsync
cuMemcpy3DPeerAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpy3DPeerAsync_ptsz
cuMemcpyAsync 1: 1000=0/2/NULL 4000=0/0/cuMemcpyAsync
cuMemcpyAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpyAsync_ptsz
cuMemcpyAtoA 1: 1000=0/2/NULL 2000=0/0/cuMemcpyAtoA 3020=0/0/cuMemcpyAtoA_v2
cuMemcpyAtoA 2: 1000=0/2/NULL 7000=0/0/cuMemcpyAtoA_v2_ptds
cuMemcpyAtoD 1: 1000=0/2/NULL 2000=0/0/cuMemcpyAtoD 3020=0/0/cuMemcpyAtoD_v2
cuMemcpyAtoD 2: 1000=0/2/NULL 7000=0/0/cuMemcpyAtoD_v2_ptds
cuMemcpyAtoH 1: 1000=0/2/NULL 2000=0/0/cuMemcpyAtoH 3020=0/0/cuMemcpyAtoH_v2
cuMemcpyAtoH 2: 1000=0/2/NULL 7000=0/0/cuMemcpyAtoH_v2_ptds
cuMemcpyAtoHAsync 1: 1000=0/2/NULL 2000=0/0/cuMemcpyAtoHAsync 3020=0/0/cuMemcpyAtoHAsync_v2
cuMemcpyAtoHAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpyAtoHAsync_v2_ptsz
cuMemcpyBatchAsync 1: 1000=0/2/NULL 12080=0/0/cuMemcpyBatchAsync 13000=0/0/cuMemcpyBatchAsync_v2
cuMemcpyBatchAsync 2: 1000=0/2/NULL 12080=0/0/cuMemcpyBatchAsync_ptsz 13000=0/0/cuMemcpyBatchAsync_v2_ptsz
cuMemcpyDtoA 1: 1000=0/2/NULL 2000=0/0/cuMemcpyDtoA 3020=0/0/cuMemcpyDtoA_v2
cuMemcpyDtoA 2: 1000=0/2/NULL 7000=0/0/cuMemcpyDtoA_v2_ptds
cuMemcpyDtoD 1: 1000=0/2/NULL 2000=0/0/cuMemcpyDtoD 3020=0/0/cuMemcpyDtoD_v2
cuMemcpyDtoD 2: 1000=0/2/NULL 7000=0/0/cuMemcpyDtoD_v2_ptds
cuMemcpyDtoDAsync 1: 1000=0/2/NULL 3000=0/0/cuMemcpyDtoDAsync 3020=0/0/cuMemcpyDtoDAsync_v2
cuMemcpyDtoDAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpyDtoDAsync_v2_ptsz
cuMemcpyDtoH 1: 1000=0/2/NULL 2000=0/0/cuMemcpyDtoH 3020=0/0/cuMemcpyDtoH_v2
cuMemcpyDtoH 2: 1000=0/2/NULL 7000=0/0/cuMemcpyDtoH_v2_ptds
cuMemcpyDtoHAsync 1: 1000=0/2/NULL 2000=0/0/cuMemcpyDtoHAsync 3020=0/0/cuMemcpyDtoHAsync_v2
cuMemcpyDtoHAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpyDtoHAsync_v2_ptsz
cuMemcpyHtoA 1: 1000=0/2/NULL 2000=0/0/cuMemcpyHtoA 3020=0/0/cuMemcpyHtoA_v2
cuMemcpyHtoA 2: 1000=0/2/NULL 7000=0/0/cuMemcpyHtoA_v2_ptds
cuMemcpyHtoAAsync 1: 1000=0/2/NULL 2000=0/0/cuMemcpyHtoAAsync 3020=0/0/cuMemcpyHtoAAsync_v2
cuMemcpyHtoAAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpyHtoAAsync_v2_ptsz
cuMemcpyHtoD 1: 1000=0/2/NULL 2000=0/0/cuMemcpyHtoD 3020=0/0/cuMemcpyHtoD_v2
cuMemcpyHtoD 2: 1000=0/2/NULL 7000=0/0/cuMemcpyHtoD_v2_ptds
cuMemcpyHtoDAsync 1: 1000=0/2/NULL 2000=0/0/cuMemcpyHtoDAsync 3020=0/0/cuMemcpyHtoDAsync_v2
cuMemcpyHtoDAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpyHtoDAsync_v2_ptsz
cuMemcpyPeer 1: 1000=0/2/NULL 4000=0/0/cuMemcpyPeer
cuMemcpyPeer 2: 1000=0/2/NULL 7000=0/0/cuMemcpyPeer_ptds
cuMemcpyPeerAsync 1: 1000=0/2/NULL 4000=0/0/cuMemcpyPeerAsync
cuMemcpyPeerAsync 2: 1000=0/2/NULL 7000=0/0/cuMemcpyPeerAsync_ptsz
cuMemsetD16 1: 1000=0/2/NULL 2000=0/0/cuMemsetD16 3020=0/0/cuMemsetD16_v2
cuMemsetD16 2: 1000=0/2/NULL 7000=0/0/cuMemsetD16_v2_ptds
cuMemsetD16Async 1: 1000=0/2/NULL 3020=0/0/cuMemsetD16Async
cuMemsetD16Async 2: 1000=0/2/NULL 7000=0/0/cuMemsetD16Async_ptsz
cuMemsetD2D16 1: 1000=0/2/NULL 2000=0/0/cuMemsetD2D16 3020=0/0/cuMemsetD2D16_v2
cuMemsetD2D16 2: 1000=0/2/NULL 7000=0/0/cuMemsetD2D16_v2_ptds
cuMemsetD2D16Async 1: 1000=0/2/NULL 3020=0/0/cuMemsetD2D16Async
cuMemsetD2D16Async 2: 1000=0/2/NULL 7000=0/0/cuMemsetD2D16Async_ptsz
cuMemsetD2D32 1: 1000=0/2/NULL 2000=0/0/cuMemsetD2D32 3020=0/0/cuMemsetD2D32_v2
cuMemsetD2D32 2: 1000=0/2/NULL 7000=0/0/cuMemsetD2D32_v2_ptds
cuMemsetD2D32Async 1: 1000=0/2/NULL 3020=0/0/cuMemsetD2D32Async
cuMemsetD2D32Async 2: 1000=0/2/NULL 7000=0/0/cuMemsetD2D32Async_ptsz
cuMemsetD2D8 1: 1000=0/2/NULL 2000=0/0/cuMemsetD2D8 3020=0/0/cuMemsetD2D8_v2
cuMemsetD2D8 2: 1000=0/2/NULL 7000=0/0/cuMemsetD2D8_v2_ptds
cuMemsetD2D8Async 1: 1000=0/2/NULL 3020=0/0/cuMemsetD2D8Async
cuMemsetD2D8Async 2: 1000=0/2/NULL 7000=0/0/cuMemsetD2D8Async_ptsz
cuMemsetD32 1: 1000=0/2/NULL 2000=0/0/cuMemsetD32 3020=0/0/cuMemsetD32_v2
cuMemsetD32 2: 1000=0/2/NULL 7000=0/0/cuMemsetD32_v2_ptds
cuMemsetD32Async 1: 1000=0/2/NULL 3020=0/0/cuMemsetD32Async
cuMemsetD32Async 2: 1000=0/2/NULL 7000=0/0/cuMemsetD32Async_ptsz
cuMemsetD8 1: 1000=0/2/NULL 2000=0/0/cuMemsetD8 3020=0/0/cuMemsetD8_v2
cuMemsetD8 2: 1000=0/2/NULL 7000=0/0/cuMemsetD8_v2_ptds
cuMemsetD8Async 1: 1000=0/2/NULL 3020=0/0/cuMemsetD8Async
cuMemsetD8Async 2: 1000=0/2/NULL 7000=0/0/cuMemsetD8Async_ptsz
cuMipmappedArrayCreate *: 1000=0/2/NULL 5000=0/0/cuMipmappedArrayCreate
cuMipmappedArrayDestroy *: 1000=0/2/NULL 5000=0/0/cuMipmappedArrayDestroy
cuMipmappedArrayGetLevel *: 1000=0/2/NULL 5000=0/0/cuMipmappedArrayGetLevel
cuMipmappedArrayGetMemoryRequirements *: 1000=0/2/NULL 11060=0/0/cuMipmappedArrayGetMemoryRequirements
cuMipmappedArrayGetSparseProperties *: 1000=0/2/NULL 11010=0/0/cuMipmappedArrayGetSparseProperties
cuModuleEnumerateFunctions *: 1000=0/2/NULL 12040=0/0/cuModuleEnumerateFunctions
cuModuleGetFunction *: 1000=0/2/NULL 2000=0/0/cuModuleGetFunction
cuModuleGetFunctionCount *: 1000=0/2/NULL 12040=0/0/cuModuleGetFunctionCount
cuModuleGetGlobal *: 1000=0/2/NULL 2000=0/0/cuModuleGetGlobal 3020=0/0/cuModuleGetGlobal_v2
cuModuleGetLoadingMode *: 1000=0/2/NULL 11070=0/0/cuModuleGetLoadingMode
cuModuleGetSurfRef *: 1000=0/2/NULL 3000=0/0/cuModuleGetSurfRef
cuModuleGetTexRef *: 1000=0/2/NULL 2000=0/0/cuModuleGetTexRef
cuModuleLoad *: 1000=0/2/NULL 2000=0/0/cuModuleLoad
cuModuleLoadData *: 1000=0/2/NULL 2000=0/0/cuModuleLoadData
cuModuleLoadDataEx *: 1000=0/2/NULL 2010=0/0/cuModuleLoadDataEx
cuModuleLoadFatBinary *: 1000=0/2/NULL 2000=0/0/cuModuleLoadFatBinary
cuModuleUnload *: 1000=0/2/NULL 2000=0/0/cuModuleUnload
cuMulticastAddDevice *: 1000=0/2/NULL 12010=0/0/cuMulticastAddDevice
cuMulticastBindAddr *: 1000=0/2/NULL 12010=0/0/cuMulticastBindAddr
cuMulticastBindMem *: 1000=0/2/NULL 12010=0/0/cuMulticastBindMem
cuMulticastCreate *: 1000=0/2/NULL 12010=0/0/cuMulticastCreate
cuMulticastGetGranularity *: 1000=0/2/NULL 12010=0/0/cuMulticastGetGranularity
cuMulticastUnbind *: 1000=0/2/NULL 12010=0/0/cuMulticastUnbind
cuNoSuchFunction *: 1000=0/1/NULL
cuOccupancyAvailableDynamicSMemPerBlock *: 1000=0/2/NULL 10020=0/0/cuOccupancyAvailableDynamicSMemPerBlock
cuOccupancyMaxActiveBlocksPerMultiprocessor *: 1000=0/2/NULL 6050=0/0/cuOccupancyMaxActiveBlocksPerMultiprocessor
cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags *: 1000=0/2/NULL 7000=0/0/cuOccupancyMaxActiveBlocksPerMultiprocessorWithFlags
cuOccupancyMaxActiveClusters *: 1000=0/2/NULL 11070=0/0/cuOccupancyMaxActiveClusters
cuOccupancyMaxPotentialBlockSize *: 1000=0/2/NULL 6050=0/0/cuOccupancyMaxPotentialBlockSize
cuOccupancyMaxPotentialBlockSizeWithFlags *: 1000=0/2/NULL 7000=0/0/cuOccupancyMaxPotentialBlockSizeWithFlags
cuOccupancyMaxPotentialClusterSize *: 1000=0/2/NULL 11070=0/0/cuOccupancyMaxPotentialClusterSize
cuParamSetSize *: 1000=0/2/NULL 2000=0/0/cuParamSetSize
cuParamSetTexRef *: 1000=0/2/NULL 2000=0/0/cuParamSetTexRef
cuParamSetf *: 1000=0/2/NULL 2000=0/0/cuParamSetf
cuParamSeti *: 1000=0/2/NULL 2000=0/0/cuParamSeti
cuParamSetv *: 1000=0/2/NULL 2000=0/0/cuParamSetv
cuPointerGetAttribute *: 1000=0/2/NULL 4000=0/0/cuPointerGetAttribute
cuPointerGetAttributes *: 1000=0/2/NULL 7000=0/0/cuPointerGetAttributes
cuPointerSetAttribute *: 1000=0/2/NULL 6000=0/0/cuPointerSetAttribute
cuProfilerInitialize *: 1000=0/2/NULL 4000=0/0/cuProfilerInitialize
cuProfilerStart *: 1000=0/2/NULL 4000=0/0/cuProfilerStart
cuProfilerStop *: 1000=0/2/NULL 4000=0/0/cuProfilerStop
cuSignalExternalSemaphoresAsync 1: 1000=0/2/NULL 10000=0/0/cuSignalExternalSemaphoresAsync
cuSignalExternalSemaphoresAsync 2: 1000=0/2/NULL 10000=0/0/cuSignalExternalSemaphoresAsync_ptsz
cuStreamAddCallback 1: 1000=0/2/NULL 5000=0/0/cuStreamAddCallback
cuStreamAddCallback 2: 1000=0/2/NULL 7000=0/0/cuStreamAddCallback_ptsz
cuStreamAttachMemAsync 1: 1000=0/2/NULL 6000=0/0/cuStreamAttachMemAsync
cuStreamAttachMemAsync 2: 1000=0/2/NULL 7000=0/0/cuStreamAttachMemAsync_ptsz
cuStreamBatchMemOp 1: 1000=0/2/NULL 8000=0/0/cuStreamBatchMemOp 11070=0/0/cuStreamBatchMemOp_v2
cuStreamBatchMemOp 2: 1000=0/2/NULL 8000=0/0/cuStreamBatchMemOp_ptsz 11070=0/0/cuStreamBatchMemOp_v2_ptsz
cuStreamBeginCapture 1: 1000=0/2/NULL 10000=0/0/cuStreamBeginCapture 10010=0/0/cuStreamBeginCapture_v2
cuStreamBeginCapture 2: 1000=0/2/NULL 10000=0/0/cuStreamBeginCapture_ptsz 10010=0/0/cuStreamBeginCapture_v2_ptsz
cuStreamBeginCaptureToGraph 1: 1000=0/2/NULL 12030=0/0/cuStreamBeginCaptureToGraph
cuStreamBeginCaptureToGraph 2: 1000=0/2/NULL 12030=0/0/cuStreamBeginCaptureToGraph_ptsz
cuStreamCopyAttributes 1: 1000=0/2/NULL 11000=0/0/cuStreamCopyAttributes
cuStreamCopyAttributes 2: 1000=0/2/NULL 11000=0/0/cuStreamCopyAttributes_ptsz
cuStreamCreate *: 1000=0/2/NULL 2000=0/0/cuStreamCreate
cuStreamCreateWithPriority *: 1000=0/2/NULL 5050=0/0/cuStreamCreateWithPriority
cuStreamDestroy *: 1000=0/2/NULL 2000=0/0/cuStreamDestroy 4000=0/0/cuStreamDestroy_v2
cuStreamEndCapture 1: 1000=0/2/NULL 10000=0/0/cuStreamEndCapture
cuStreamEndCapture 2: 1000=0/2/NULL 10000=0/0/cuStreamEndCapture_ptsz
cuStreamGetAttribute 1: 1000=0/2/NULL 11000=0/0/cuStreamGetAttribute
cuStreamGetAttribute 2: 1000=0/2/NULL 11000=0/0/cuStreamGetAttribute_ptsz
cuStreamGetCaptureInfo 1: 1000=0/2/NULL 10010=0/0/cuStreamGetCaptureInfo 11030=0/0/cuStreamGetCaptureInfo_v2 12030=0/0/cuStreamGetCaptureInfo_v3
cuStreamGetCaptureInfo 2: 1000=0/2/NULL 10010=0/0/cuStreamGetCaptureInfo_ptsz 11030=0/0/cuStreamGetCaptureInfo_v2_ptsz 12030=0/0/cuStreamGetCaptureInfo_v3_ptsz
cuStreamGetCtx 1: 1000=0/2/NULL 9020=0/0/cuStreamGetCtx 12050=0/0/cuStreamGetCtx_v2
cuStreamGetCtx 2: 1000=0/2/NULL 9020=0/0/cuStreamGetCtx_ptsz 12050=0/0/cuStreamGetCtx_v2_ptsz
cuStreamGetDevice 1: 1000=0/2/NULL 12080=0/0/cuStreamGetDevice
cuStreamGetDevice 2: 1000=0/2/NULL 12080=0/0/cuStreamGetDevice_ptsz
cuStreamGetFlags 1: 1000=0/2/NULL 5050=0/0/cuStreamGetFlags
cuStreamGetFlags 2: 1000=0/2/NULL 7000=0/0/cuStreamGetFlags_ptsz
cuStreamGetGreenCtx *: 1000=0/2/NULL 12040=0/0/cuStreamGetGreenCtx
cuStreamGetId 1: 1000=0/2/NULL 12000=0/0/cuStreamGetId
cuStreamGetId 2: 1000=0/2/NULL 12000=0/0/cuStreamGetId_ptsz
cuStreamGetPriority 1: 1000=0/2/NULL 5050=0/0/cuStreamGetPriority
cuStreamGetPriority 2: 1000=0/2/NULL 7000=0/0/cuStreamGetPriority_ptsz
cuStreamIsCapturing 1: 1000=0/2/NULL 10000=0/0/cuStreamIsCapturing
cuStreamIsCapturing 2: 1000=0/2/NULL 10000=0/0/cuStreamIsCapturing_ptsz
cuStreamQuery 1: 1000=0/2/NULL 2000=0/0/cuStreamQuery
cuStreamQuery 2: 1000=0/2/NULL 7000=0/0/cuStreamQuery_ptsz
cuStreamSetAttribute 1: 1000=0/2/NULL 11000=0/0/cuStreamSetAttribute
cuStreamSetAttribute 2: 1000=0/2/NULL 11000=0/0/cuStreamSetAttribute_ptsz
cuStreamSynchronize 1: 1000=0/2/NULL 2000=0/0/cuStreamSynchronize
cuStreamSynchronize 2: 1000=0/2/NULL 7000=0/0/cuStreamSynchronize_ptsz
cuStreamUpdateCaptureDependencies 1: 1000=0/2/NULL 11030=0/0/cuStreamUpdateCaptureDependencies 12030=0/0/cuStreamUpdateCaptureDependencies_v2
cuStreamUpdateCaptureDependencies 2: 1000=0/2/NULL 11030=0/0/cuStreamUpdateCaptureDependencies_ptsz 12030=0/0/cuStreamUpdateCaptureDependencies_v2_ptsz
cuStreamWaitEvent 1: 1000=0/2/NULL 3020=0/0/cuStreamWaitEvent
cuStreamWaitEvent 2: 1000=0/2/NULL 7000=0/0/cuStreamWaitEvent_ptsz
cuStreamWaitValue32 1: 1000=0/2/NULL 8000=0/0/cuStreamWaitValue32 11070=0/0/cuStreamWaitValue32_v2
cuStreamWaitValue32 2: 1000=0/2/NULL 8000=0/0/cuStreamWaitValue32_ptsz 11070=0/0/cuStreamWaitValue32_v2_ptsz
cuStreamWaitValue64 1: 1000=0/2/NULL 9000=0/0/cuStreamWaitValue64 11070=0/0/cuStreamWaitValue64_v2
cuStreamWaitValue64 2: 1000=0/2/NULL 9000=0/0/cuStreamWaitValue64_ptsz 11070=0/0/cuStreamWaitValue64_v2_ptsz
cuStreamWriteValue32 1: 1000=0/2/NULL 8000=0/0/cuStreamWriteValue32 11070=0/0/cuStreamWriteValue32_v2
cuStreamWriteValue32 2: 1000=0/2/NULL 8000=0/0/cuStreamWriteValue32_ptsz 11070=0/0/cuStreamWriteValue32_v2_ptsz
cuStreamWriteValue64 1: 1000=0/2/NULL 9000=0/0/cuStreamWriteValue64 11070=0/0/cuStreamWriteValue64_v2
cuStreamWriteValue64 2: 1000=0/2/NULL 9000=0/0/cuStreamWriteValue64_ptsz 11070=0/0/cuStreamWriteValue64_v2_ptsz
cuSurfObjectCreate *: 1000=0/2/NULL 5000=0/0/cuSurfObjectCreate
cuSurfObjectDestroy *: 1000=0/2/NULL 5000=0/0/cuSurfObjectDestroy
cuSurfObjectGetResourceDesc *: 1000=0/2/NULL 5000=0/0/cuSurfObjectGetResourceDesc
cuSurfRefGetArray *: 1000=0/2/NULL 3000=0/0/cuSurfRefGetArray
cuSurfRefSetArray *: 1000=0/2/NULL 3000=0/0/cuSurfRefSetArray
cuTensorMapEncodeIm2col *: 1000=0/2/NULL 12000=0/0/cuTensorMapEncodeIm2col
cuTensorMapEncodeIm2colWide *: 1000=0/2/NULL 12080=0/0/cuTensorMapEncodeIm2colWide
cuTensorMapEncodeTiled *: 1000=0/2/NULL 12000=0/0/cuTensorMapEncodeTiled
cuTensorMapReplaceAddress *: 1000=0/2/NULL 12000=0/0/cuTensorMapReplaceAddress
cuTexObjectCreate *: 1000=0/2/NULL 5000=0/0/cuTexObjectCreate
cuTexObjectDestroy *: 1000=0/2/NULL 5000=0/0/cuTexObjectDestroy
cuTexObjectGetResourceDesc *: 1000=0/2/NULL 5000=0/0/cuTexObjectGetResourceDesc
cuTexObjectGetResourceViewDesc *: 1000=0/2/NULL 5000=0/0/cuTexObjectGetResourceViewDesc
cuTexObjectGetTextureDesc *: 1000=0/2/NULL 5000=0/0/cuTexObjectGetTextureDesc
cuTexRefCreate *: 1000=0/2/NULL 2000=0/0/cuTexRefCreate
cuTexRefDestroy *: 1000=0/2/NULL 2000=0/0/cuTexRefDestroy
cuTexRefGetAddress *: 1000=0/2/NULL 2000=0/0/cuTexRefGetAddress 3020=0/0/cuTexRefGetAddress_v2
cuTexRefGetAddressMode *: 1000=0/2/NULL 2000=0/0/cuTexRefGetAddressMode
cuTexRefGetArray *: 1000=0/2/NULL 2000=0/0/cuTexRefGetArray
cuTexRefGetBorderColor *: 1000=0/2/NULL 8000=0/0/cuTexRefGetBorderColor
cuTexRefGetFilterMode *: 1000=0/2/NULL 2000=0/0/cuTexRefGetFilterMode
cuTexRefGetFlags *: 1000=0/2/NULL 2000=0/0/cuTexRefGetFlags
cuTexRefGetFormat *: 1000=0/2/NULL 2000=0/0/cuTexRefGetFormat
cuTexRefGetMaxAnisotropy *: 1000=0/2/NULL 5000=0/0/cuTexRefGetMaxAnisotropy
cuTexRefGetMipmapFilterMode *: 1000=0/2/NULL 5000=0/0/cuTexRefGetMipmapFilterMode
cuTexRefGetMipmapLevelBias *: 1000=0/2/NULL 5000=0/0/cuTexRefGetMipmapLevelBias
cuTexRefGetMipmapLevelClamp *: 1000=0/2/NULL 5000=0/0/cuTexRefGetMipmapLevelClamp
cuTexRefGetMipmappedArray *: 1000=0/2/NULL 5000=0/0/cuTexRefGetMipmappedArray
cuTexRefSetAddress *: 1000=0/2/NULL 2000=0/0/cuTexRefSetAddress 3020=0/0/cuTexRefSetAddress_v2
cuTexRefSetAddress2D *: 1000=0/2/NULL 2020=0/0/cuTexRefSetAddress2D 3020=0/0/cuTexRefSetAddress2D_v2 4010=0/0/cuTexRefSetAddress2D_v3
cuTexRefSetAddressMode *: 1000=0/2/NULL 2000=0/0/cuTexRefSetAddressMode
cuTexRefSetArray *: 1000=0/2/NULL 2000=0/0/cuTexRefSetArray
cuTexRefSetBorderColor *: 1000=0/2/NULL 8000=0/0/cuTexRefSetBorderColor
cuTexRefSetFilterMode *: 1000=0/2/NULL 2000=0/0/cuTexRefSetFilterMode
cuTexRefSetFlags *: 1000=0/2/NULL 2000=0/0/cuTexRefSetFlags
cuTexRefSetFormat *: 1000=0/2/NULL 2000=0/0/cuTexRefSetFormat
cuTexRefSetMaxAnisotropy *: 1000=0/2/NULL 5000=0/0/cuTexRefSetMaxAnisotropy
cuTexRefSetMipmapFilterMode *: 1000=0/2/NULL 5000=0/0/cuTexRefSetMipmapFilterMode
cuTexRefSetMipmapLevelBias *: 1000=0/2/NULL 5000=0/0/cuTexRefSetMipmapLevelBias
cuTexRefSetMipmapLevelClamp *: 1000=0/2/NULL 5000=0/0/cuTexRefSetMipmapLevelClamp
cuTexRefSetMipmappedArray *: 1000=0/2/NULL 5000=0/0/cuTexRefSetMipmappedArray
cuThreadExchangeStreamCaptureMode *: 1000=0/2/NULL 10010=0/0/cuThreadExchangeStreamCaptureMode
cuUserObjectCreate *: 1000=0/2/NULL 11030=0/0/cuUserObjectCreate
cuUserObjectRelease *: 1000=0/2/NULL 11030=0/0/cuUserObjectRelease
cuUserObjectRetain *: 1000=0/2/NULL 11030=0/0/cuUserObjectRetain
cuVDPAUCtxCreate *: 1000=0/2/NULL 3010=0/0/cuVDPAUCtxCreate 3020=0/0/cuVDPAUCtxCreate_v2
cuVDPAUGetDevice *: 1000=0/2/NULL 3010=0/0/cuVDPAUGetDevice
cuWGLGetDevice *: 1000=0/1/NULL
cuWaitExternalSemaphoresAsync 1: 1000=0/2/NULL 10000=0/0/cuWaitExternalSemaphoresAsync
cuWaitExternalSemaphoresAsync 2: 1000=0/2/NULL 10000=0/0/cuWaitExternalSemaphoresAsync_ptsz
cudbgApiAttach *: 1000=0/1/NULL
cudbgApiClientPid *: 1000=0/1/NULL
cudbgApiClientRevision *: 1000=0/1/NULL
cudbgApiDetach *: 1000=0/1/NULL
cudbgApiInit *: 1000=0/1/NULL
cudbgAttachHandlerAvailable *: 1000=0/1/NULL
cudbgDebuggerCapabilities *: 1000=0/1/NULL
cudbgDebuggerInitialized *: 1000=0/1/NULL
cudbgDetachSuspendedDevicesMask *: 1000=0/1/NULL
cudbgEnableIntegratedMemcheck *: 1000=0/1/NULL
cudbgEnableLaunchBlocking *: 1000=0/1/NULL
cudbgEnablePreemptionDebugging *: 1000=0/1/NULL
cudbgGetAPI *: 1000=0/1/NULL
cudbgGetAPIVersion *: 1000=0/1/NULL
cudbgInjectionPath *: 1000=0/1/NULL
cudbgIpcFlag *: 1000=0/1/NULL
cudbgMain *: 1000=0/1/NULL
cudbgReportDriverApiError *: 1000=0/1/NULL
cudbgReportDriverApiErrorFlags *: 1000=0/1/NULL
cudbgReportDriverInternalError *: 1000=0/1/NULL
cudbgReportedDriverApiErrorCode *: 1000=0/1/NULL
cudbgReportedDriverApiErrorFuncNameAddr *: 1000=0/1/NULL
cudbgReportedDriverApiErrorFuncNameSize *: 1000=0/1/NULL
cudbgReportedDriverApiErrorNameAddr *: 1000=0/1/NULL
cudbgReportedDriverApiErrorNameSize *: 1000=0/1/NULL
cudbgReportedDriverApiErrorSource *: 1000=0/1/NULL
cudbgReportedDriverApiErrorStringAddr *: 1000=0/1/NULL
cudbgReportedDriverApiErrorStringSize *: 1000=0/1/NULL
cudbgReportedDriverInternalErrorCode *: 1000=0/1/NULL
cudbgResumeForAttachDetach *: 1000=0/1/NULL
cudbgRpcEnabled *: 1000=0/1/NULL
cudbgSessionId *: 1000=0/1/NULL
cudbgUseExternalDebugger *: 1000=0/1/NULL
`
