package abi

// CUDA device attributes and the cudaDeviceProp struct, as the vgpu client needs them to answer
// cudaGetDeviceProperties locally.
//
// Sources (ABI facts only, no header text): the CUdevice_attribute enum of cuda.h (CUDA 13.0),
// the cudaDeviceAttr enum and struct cudaDeviceProp of driver_types.h (CUDA 13.0), and the field
// offsets of the CUDA 12.x (1032-byte) and 13.0 (1008-byte) layouts measured with gcc on x86_64
// (cuda-12/cudaDeviceProp-{12,13}.offsets in the reference folder the tests read, testout.ReferenceDir).
//
// What the real stack does was read off an H200 (driver 580.159.04, libcudart 13.0) on 2026-11-26:
//   - cuDeviceGetAttribute accepts every value 1..147 (deprecated ones too) and rejects 0 and
//     >= 148 with CUDA_ERROR_INVALID_VALUE.
//   - cudaDeviceGetAttribute accepts exactly the same range and returns the same value for each,
//     including numbers that cudaDeviceAttr does not name (44, 102-105, 107, 110, 136, 137, 146)
//     or names only "cudaDevAttrReservedN" (92-94, 96, 122-124, 127-129, 132, 141, 145).
//   - cudaGetDeviceProperties (13.0) zeroes everything up to reserved[] (padding and the unused tail
//     of name[] included) and leaves reserved[] itself untouched. Every field it writes equals
//     PropFromAttributes' value (testdata/h200-cuda13.0-*, TestRealH200Props13).

import (
	"encoding/binary"
	"fmt"
)

// Struct sizes and where reserved[] starts, per layout.
const (
	DeviceProp12Size = 1032 // sizeof(struct cudaDeviceProp), CUDA 12.x, x86_64
	DeviceProp13Size = 1008 // sizeof(struct cudaDeviceProp), CUDA 13.0, x86_64

	DeviceProp12ReservedOffset = 780 // int reserved[63] (252 bytes) up to the end
	DeviceProp13ReservedOffset = 784 // int reserved[56] (224 bytes) up to the end
)

// CUdeviceAttributeMax is CU_DEVICE_ATTRIBUTE_MAX of CUDA 13.0: one past the last attribute.
const CUdeviceAttributeMax = 148

// CUdeviceAttributeCount is the number of CUdevice_attribute values that CUDA 13.0 defines
// (1 .. CUdeviceAttributeMax-1; the enum has no gaps).
const CUdeviceAttributeCount = CUdeviceAttributeMax - 1

// CUdeviceAttributes lists every CUdevice_attribute value of CUDA 13.0, ascending, so that a client
// can fetch all of them in one batch. The real 580 driver answers each of them (the deprecated ones
// too: 15, 44, 69, 92-94, 96 return values); a driver older than 13.0 may reject the newest.
var CUdeviceAttributes = func() []int32 {
	l := make([]int32, 0, CUdeviceAttributeCount)
	for a := int32(1); a < CUdeviceAttributeMax; a++ {
		l = append(l, a)
	}
	return l
}()

// CudaDeviceAttrToCU maps a runtime cudaDeviceAttr value to the driver's CUdevice_attribute.
//
// The two enums share their numbering: every value cudaDeviceAttr names is the CUdevice_attribute
// of the same number and meaning; there are no renumbered exceptions. The differences are only in
// coverage:
//   - not named in cudaDeviceAttr: 44 (CAN_TEX2D_GATHER), 102-105 (VMM and export handle types),
//     107 (GENERIC_COMPRESSION), 110 (GPU_DIRECT_RDMA_WITH_CUDA_VMM), 136-137 (MEM_DECOMPRESS_*),
//     146 (HOST_ALLOC_DMA_BUF);
//   - named cudaDevAttrReservedN: 92-94 (stream mem ops v1), 96 (COOPERATIVE_MULTI_DEVICE_LAUNCH),
//     122-124 (64-bit mem ops, WAIT_VALUE_NOR, DMA_BUF), 127-129 (TENSOR_MAP_ACCESS,
//     HANDLE_TYPE_FABRIC, UNIFIED_FUNCTION_POINTERS), 132 (MULTICAST), 141 (HOST_NUMA_VMM),
//     145 (HOST_VMM).
//
// The real libcudart 13.0 forwards all of 1..147 unchanged (measured on an H200, the gaps and the
// reserved ones included), so this does the same: ok is false only for 0 and values >= 148, which
// the real runtime rejects with cudaErrorInvalidValue.
func CudaDeviceAttrToCU(attr int32) (int32, bool) {
	if attr < 1 || attr >= CUdeviceAttributeMax {
		return 0, false
	}
	return attr, true
}

// CUdeviceAttributeNames: the CUdevice_attribute identifier of each value (CUDA 13.0). Where the
// header gives a value two names, the one it does not mark deprecated.
var CUdeviceAttributeNames = map[int32]string{
	1:   "CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK",
	2:   "CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_X",
	3:   "CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Y",
	4:   "CU_DEVICE_ATTRIBUTE_MAX_BLOCK_DIM_Z",
	5:   "CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_X",
	6:   "CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Y",
	7:   "CU_DEVICE_ATTRIBUTE_MAX_GRID_DIM_Z",
	8:   "CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK",
	9:   "CU_DEVICE_ATTRIBUTE_TOTAL_CONSTANT_MEMORY",
	10:  "CU_DEVICE_ATTRIBUTE_WARP_SIZE",
	11:  "CU_DEVICE_ATTRIBUTE_MAX_PITCH",
	12:  "CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_BLOCK",
	13:  "CU_DEVICE_ATTRIBUTE_CLOCK_RATE",
	14:  "CU_DEVICE_ATTRIBUTE_TEXTURE_ALIGNMENT",
	15:  "CU_DEVICE_ATTRIBUTE_GPU_OVERLAP",
	16:  "CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT",
	17:  "CU_DEVICE_ATTRIBUTE_KERNEL_EXEC_TIMEOUT",
	18:  "CU_DEVICE_ATTRIBUTE_INTEGRATED",
	19:  "CU_DEVICE_ATTRIBUTE_CAN_MAP_HOST_MEMORY",
	20:  "CU_DEVICE_ATTRIBUTE_COMPUTE_MODE",
	21:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_WIDTH",
	22:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_WIDTH",
	23:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_HEIGHT",
	24:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH",
	25:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT",
	26:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH",
	27:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_WIDTH",
	28:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_HEIGHT",
	29:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LAYERED_LAYERS",
	30:  "CU_DEVICE_ATTRIBUTE_SURFACE_ALIGNMENT",
	31:  "CU_DEVICE_ATTRIBUTE_CONCURRENT_KERNELS",
	32:  "CU_DEVICE_ATTRIBUTE_ECC_ENABLED",
	33:  "CU_DEVICE_ATTRIBUTE_PCI_BUS_ID",
	34:  "CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID",
	35:  "CU_DEVICE_ATTRIBUTE_TCC_DRIVER",
	36:  "CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE",
	37:  "CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH",
	38:  "CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE",
	39:  "CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_MULTIPROCESSOR",
	40:  "CU_DEVICE_ATTRIBUTE_ASYNC_ENGINE_COUNT",
	41:  "CU_DEVICE_ATTRIBUTE_UNIFIED_ADDRESSING",
	42:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_WIDTH",
	43:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LAYERED_LAYERS",
	44:  "CU_DEVICE_ATTRIBUTE_CAN_TEX2D_GATHER",
	45:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_WIDTH",
	46:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_GATHER_HEIGHT",
	47:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_WIDTH_ALTERNATE",
	48:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_HEIGHT_ALTERNATE",
	49:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE3D_DEPTH_ALTERNATE",
	50:  "CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID",
	51:  "CU_DEVICE_ATTRIBUTE_TEXTURE_PITCH_ALIGNMENT",
	52:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_WIDTH",
	53:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_WIDTH",
	54:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURECUBEMAP_LAYERED_LAYERS",
	55:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_WIDTH",
	56:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_WIDTH",
	57:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_HEIGHT",
	58:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_WIDTH",
	59:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_HEIGHT",
	60:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE3D_DEPTH",
	61:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_WIDTH",
	62:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE1D_LAYERED_LAYERS",
	63:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_WIDTH",
	64:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_HEIGHT",
	65:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACE2D_LAYERED_LAYERS",
	66:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_WIDTH",
	67:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_WIDTH",
	68:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_SURFACECUBEMAP_LAYERED_LAYERS",
	69:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_LINEAR_WIDTH",
	70:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_WIDTH",
	71:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_HEIGHT",
	72:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_LINEAR_PITCH",
	73:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH",
	74:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE2D_MIPMAPPED_HEIGHT",
	75:  "CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR",
	76:  "CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR",
	77:  "CU_DEVICE_ATTRIBUTE_MAXIMUM_TEXTURE1D_MIPMAPPED_WIDTH",
	78:  "CU_DEVICE_ATTRIBUTE_STREAM_PRIORITIES_SUPPORTED",
	79:  "CU_DEVICE_ATTRIBUTE_GLOBAL_L1_CACHE_SUPPORTED",
	80:  "CU_DEVICE_ATTRIBUTE_LOCAL_L1_CACHE_SUPPORTED",
	81:  "CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR",
	82:  "CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR",
	83:  "CU_DEVICE_ATTRIBUTE_MANAGED_MEMORY",
	84:  "CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD",
	85:  "CU_DEVICE_ATTRIBUTE_MULTI_GPU_BOARD_GROUP_ID",
	86:  "CU_DEVICE_ATTRIBUTE_HOST_NATIVE_ATOMIC_SUPPORTED",
	87:  "CU_DEVICE_ATTRIBUTE_SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO",
	88:  "CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS",
	89:  "CU_DEVICE_ATTRIBUTE_CONCURRENT_MANAGED_ACCESS",
	90:  "CU_DEVICE_ATTRIBUTE_COMPUTE_PREEMPTION_SUPPORTED",
	91:  "CU_DEVICE_ATTRIBUTE_CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM",
	92:  "CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_MEM_OPS_V1",
	93:  "CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS_V1",
	94:  "CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_WAIT_VALUE_NOR_V1",
	95:  "CU_DEVICE_ATTRIBUTE_COOPERATIVE_LAUNCH",
	96:  "CU_DEVICE_ATTRIBUTE_COOPERATIVE_MULTI_DEVICE_LAUNCH",
	97:  "CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN",
	98:  "CU_DEVICE_ATTRIBUTE_CAN_FLUSH_REMOTE_WRITES",
	99:  "CU_DEVICE_ATTRIBUTE_HOST_REGISTER_SUPPORTED",
	100: "CU_DEVICE_ATTRIBUTE_PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES",
	101: "CU_DEVICE_ATTRIBUTE_DIRECT_MANAGED_MEM_ACCESS_FROM_HOST",
	102: "CU_DEVICE_ATTRIBUTE_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED",
	103: "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_POSIX_FILE_DESCRIPTOR_SUPPORTED",
	104: "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_HANDLE_SUPPORTED",
	105: "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_WIN32_KMT_HANDLE_SUPPORTED",
	106: "CU_DEVICE_ATTRIBUTE_MAX_BLOCKS_PER_MULTIPROCESSOR",
	107: "CU_DEVICE_ATTRIBUTE_GENERIC_COMPRESSION_SUPPORTED",
	108: "CU_DEVICE_ATTRIBUTE_MAX_PERSISTING_L2_CACHE_SIZE",
	109: "CU_DEVICE_ATTRIBUTE_MAX_ACCESS_POLICY_WINDOW_SIZE",
	110: "CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_WITH_CUDA_VMM_SUPPORTED",
	111: "CU_DEVICE_ATTRIBUTE_RESERVED_SHARED_MEMORY_PER_BLOCK",
	112: "CU_DEVICE_ATTRIBUTE_SPARSE_CUDA_ARRAY_SUPPORTED",
	113: "CU_DEVICE_ATTRIBUTE_READ_ONLY_HOST_REGISTER_SUPPORTED",
	114: "CU_DEVICE_ATTRIBUTE_TIMELINE_SEMAPHORE_INTEROP_SUPPORTED",
	115: "CU_DEVICE_ATTRIBUTE_MEMORY_POOLS_SUPPORTED",
	116: "CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_SUPPORTED",
	117: "CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_FLUSH_WRITES_OPTIONS",
	118: "CU_DEVICE_ATTRIBUTE_GPU_DIRECT_RDMA_WRITES_ORDERING",
	119: "CU_DEVICE_ATTRIBUTE_MEMPOOL_SUPPORTED_HANDLE_TYPES",
	120: "CU_DEVICE_ATTRIBUTE_CLUSTER_LAUNCH",
	121: "CU_DEVICE_ATTRIBUTE_DEFERRED_MAPPING_CUDA_ARRAY_SUPPORTED",
	122: "CU_DEVICE_ATTRIBUTE_CAN_USE_64_BIT_STREAM_MEM_OPS",
	123: "CU_DEVICE_ATTRIBUTE_CAN_USE_STREAM_WAIT_VALUE_NOR",
	124: "CU_DEVICE_ATTRIBUTE_DMA_BUF_SUPPORTED",
	125: "CU_DEVICE_ATTRIBUTE_IPC_EVENT_SUPPORTED",
	126: "CU_DEVICE_ATTRIBUTE_MEM_SYNC_DOMAIN_COUNT",
	127: "CU_DEVICE_ATTRIBUTE_TENSOR_MAP_ACCESS_SUPPORTED",
	128: "CU_DEVICE_ATTRIBUTE_HANDLE_TYPE_FABRIC_SUPPORTED",
	129: "CU_DEVICE_ATTRIBUTE_UNIFIED_FUNCTION_POINTERS",
	130: "CU_DEVICE_ATTRIBUTE_NUMA_CONFIG",
	131: "CU_DEVICE_ATTRIBUTE_NUMA_ID",
	132: "CU_DEVICE_ATTRIBUTE_MULTICAST_SUPPORTED",
	133: "CU_DEVICE_ATTRIBUTE_MPS_ENABLED",
	134: "CU_DEVICE_ATTRIBUTE_HOST_NUMA_ID",
	135: "CU_DEVICE_ATTRIBUTE_D3D12_CIG_SUPPORTED",
	136: "CU_DEVICE_ATTRIBUTE_MEM_DECOMPRESS_ALGORITHM_MASK",
	137: "CU_DEVICE_ATTRIBUTE_MEM_DECOMPRESS_MAXIMUM_LENGTH",
	138: "CU_DEVICE_ATTRIBUTE_VULKAN_CIG_SUPPORTED",
	139: "CU_DEVICE_ATTRIBUTE_GPU_PCI_DEVICE_ID",
	140: "CU_DEVICE_ATTRIBUTE_GPU_PCI_SUBSYSTEM_ID",
	141: "CU_DEVICE_ATTRIBUTE_HOST_NUMA_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED",
	142: "CU_DEVICE_ATTRIBUTE_HOST_NUMA_MEMORY_POOLS_SUPPORTED",
	143: "CU_DEVICE_ATTRIBUTE_HOST_NUMA_MULTINODE_IPC_SUPPORTED",
	144: "CU_DEVICE_ATTRIBUTE_HOST_MEMORY_POOLS_SUPPORTED",
	145: "CU_DEVICE_ATTRIBUTE_HOST_VIRTUAL_MEMORY_MANAGEMENT_SUPPORTED",
	146: "CU_DEVICE_ATTRIBUTE_HOST_ALLOC_DMA_BUF_SUPPORTED",
	147: "CU_DEVICE_ATTRIBUTE_ONLY_PARTIAL_HOST_NATIVE_ATOMIC_SUPPORTED",
}

// DeviceProp holds every member of struct cudaDeviceProp of both CUDA 12.x and CUDA 13.0 (the
// union of the two field lists). Members only one layout has are marked "12.x only" / "13.0 only";
// the encoder of the other layout skips them. Go names follow the C names (exported).
type DeviceProp struct {
	Name                                   [256]byte // NUL-terminated ASCII (cuDeviceGetName)
	UUID                                   [16]byte  // cuDeviceGetUuid
	Luid                                   [8]byte   // no attribute: Windows (WDDM) only, zero on Linux
	LuidDeviceNodeMask                     uint32    // no attribute: Windows (WDDM) only, zero on Linux
	TotalGlobalMem                         uint64    // no attribute: cuDeviceTotalMem
	SharedMemPerBlock                      uint64
	RegsPerBlock                           int32
	WarpSize                               int32
	MemPitch                               uint64
	MaxThreadsPerBlock                     int32
	MaxThreadsDim                          [3]int32
	MaxGridSize                            [3]int32
	ClockRate                              int32 // 12.x only
	TotalConstMem                          uint64
	Major                                  int32
	Minor                                  int32
	TextureAlignment                       uint64
	TexturePitchAlignment                  uint64
	DeviceOverlap                          int32 // 12.x only
	MultiProcessorCount                    int32
	KernelExecTimeoutEnabled               int32 // 12.x only
	Integrated                             int32
	CanMapHostMemory                       int32
	ComputeMode                            int32 // 12.x only
	MaxTexture1D                           int32
	MaxTexture1DMipmap                     int32
	MaxTexture1DLinear                     int32 // 12.x only
	MaxTexture2D                           [2]int32
	MaxTexture2DMipmap                     [2]int32
	MaxTexture2DLinear                     [3]int32
	MaxTexture2DGather                     [2]int32
	MaxTexture3D                           [3]int32
	MaxTexture3DAlt                        [3]int32
	MaxTextureCubemap                      int32
	MaxTexture1DLayered                    [2]int32
	MaxTexture2DLayered                    [3]int32
	MaxTextureCubemapLayered               [2]int32
	MaxSurface1D                           int32
	MaxSurface2D                           [2]int32
	MaxSurface3D                           [3]int32
	MaxSurface1DLayered                    [2]int32
	MaxSurface2DLayered                    [3]int32
	MaxSurfaceCubemap                      int32
	MaxSurfaceCubemapLayered               [2]int32
	SurfaceAlignment                       uint64
	ConcurrentKernels                      int32
	ECCEnabled                             int32
	PciBusID                               int32
	PciDeviceID                            int32
	PciDomainID                            int32
	TccDriver                              int32
	AsyncEngineCount                       int32
	UnifiedAddressing                      int32
	MemoryClockRate                        int32 // 12.x only
	MemoryBusWidth                         int32
	L2CacheSize                            int32
	PersistingL2CacheMaxSize               int32
	MaxThreadsPerMultiProcessor            int32
	StreamPrioritiesSupported              int32
	GlobalL1CacheSupported                 int32
	LocalL1CacheSupported                  int32
	SharedMemPerMultiprocessor             uint64
	RegsPerMultiprocessor                  int32
	ManagedMemory                          int32
	IsMultiGpuBoard                        int32
	MultiGpuBoardGroupID                   int32
	HostNativeAtomicSupported              int32
	SingleToDoublePrecisionPerfRatio       int32 // 12.x only
	PageableMemoryAccess                   int32
	ConcurrentManagedAccess                int32
	ComputePreemptionSupported             int32
	CanUseHostPointerForRegisteredMem      int32
	CooperativeLaunch                      int32
	CooperativeMultiDeviceLaunch           int32 // 12.x only
	SharedMemPerBlockOptin                 uint64
	PageableMemoryAccessUsesHostPageTables int32
	DirectManagedMemAccessFromHost         int32
	MaxBlocksPerMultiProcessor             int32
	AccessPolicyMaxWindowSize              int32
	ReservedSharedMemPerBlock              uint64
	HostRegisterSupported                  int32
	SparseCudaArraySupported               int32
	HostRegisterReadOnlySupported          int32
	TimelineSemaphoreInteropSupported      int32
	MemoryPoolsSupported                   int32
	GpuDirectRDMASupported                 int32
	GpuDirectRDMAFlushWritesOptions        uint32
	GpuDirectRDMAWritesOrdering            int32
	MemoryPoolSupportedHandleTypes         uint32
	DeferredMappingCudaArraySupported      int32
	IpcEventSupported                      int32
	ClusterLaunch                          int32
	UnifiedFunctionPointers                int32
	DeviceNumaConfig                       int32  // 13.0 only (a cudaDeviceNumaConfig value)
	DeviceNumaId                           int32  // 13.0 only
	MpsEnabled                             int32  // 13.0 only
	HostNumaId                             int32  // 13.0 only
	GpuPciDeviceID                         uint32 // 13.0 only: PCI device ID << 16 | vendor ID
	GpuPciSubsystemID                      uint32 // 13.0 only: subsystem ID << 16 | subsystem vendor ID
	HostNumaMultinodeIpcSupported          int32  // 13.0 only
}

// DevicePropField describes one member of struct cudaDeviceProp in both layouts.
type DevicePropField struct {
	Name  string  // the C member name
	Off12 int     // byte offset in the CUDA 12.x layout; -1: not in 12.x
	Off13 int     // byte offset in the CUDA 13.0 layout; -1: not in 13.0
	Size  int     // bytes (whole array for array members)
	Attrs []int32 // the CUdevice_attribute each element comes from; nil: none (see Note)
	Note  string  // where a member without an attribute comes from

	ref func(p *DeviceProp) any // pointer to the DeviceProp field; nil for reserved[]
}

// Value returns a pointer to the field of p that f describes (*int32, *uint32, *uint64, *[N]int32
// or *[N]byte), or nil for reserved[].
func (f *DevicePropField) Value(p *DeviceProp) any {
	if f.ref == nil {
		return nil
	}
	return f.ref(p)
}

func cuAttrs(attrs ...int32) []int32 { return attrs }

// DevicePropFields: every member of both layouts, in declaration order (13.0's new members sit
// where 13.0 declares them, before its reserved[]), with both offsets and the attributes behind
// each. Attribute numbers are CUdevice_attribute values; the CU_DEVICE_ATTRIBUTE_ name follows.
var DevicePropFields = []DevicePropField{
	{Name: "name", Off12: 0, Off13: 0, Size: 256, Note: "cuDeviceGetName", ref: func(p *DeviceProp) any { return &p.Name }},
	{Name: "uuid", Off12: 256, Off13: 256, Size: 16, Note: "cuDeviceGetUuid", ref: func(p *DeviceProp) any { return &p.UUID }},
	{Name: "luid", Off12: 272, Off13: 272, Size: 8, Note: "cuDeviceGetLuid: Windows only, zero on Linux", ref: func(p *DeviceProp) any { return &p.Luid }},
	{Name: "luidDeviceNodeMask", Off12: 280, Off13: 280, Size: 4, Note: "cuDeviceGetLuid: Windows only, zero on Linux", ref: func(p *DeviceProp) any { return &p.LuidDeviceNodeMask }},
	{Name: "totalGlobalMem", Off12: 288, Off13: 288, Size: 8, Note: "cuDeviceTotalMem", ref: func(p *DeviceProp) any { return &p.TotalGlobalMem }},
	{Name: "sharedMemPerBlock", Off12: 296, Off13: 296, Size: 8, Attrs: cuAttrs(8), ref: func(p *DeviceProp) any { return &p.SharedMemPerBlock }},          // MAX_SHARED_MEMORY_PER_BLOCK
	{Name: "regsPerBlock", Off12: 304, Off13: 304, Size: 4, Attrs: cuAttrs(12), ref: func(p *DeviceProp) any { return &p.RegsPerBlock }},                   // MAX_REGISTERS_PER_BLOCK
	{Name: "warpSize", Off12: 308, Off13: 308, Size: 4, Attrs: cuAttrs(10), ref: func(p *DeviceProp) any { return &p.WarpSize }},                           // WARP_SIZE
	{Name: "memPitch", Off12: 312, Off13: 312, Size: 8, Attrs: cuAttrs(11), ref: func(p *DeviceProp) any { return &p.MemPitch }},                           // MAX_PITCH
	{Name: "maxThreadsPerBlock", Off12: 320, Off13: 320, Size: 4, Attrs: cuAttrs(1), ref: func(p *DeviceProp) any { return &p.MaxThreadsPerBlock }},        // MAX_THREADS_PER_BLOCK
	{Name: "maxThreadsDim", Off12: 324, Off13: 324, Size: 12, Attrs: cuAttrs(2, 3, 4), ref: func(p *DeviceProp) any { return &p.MaxThreadsDim }},           // MAX_BLOCK_DIM_X/Y/Z
	{Name: "maxGridSize", Off12: 336, Off13: 336, Size: 12, Attrs: cuAttrs(5, 6, 7), ref: func(p *DeviceProp) any { return &p.MaxGridSize }},               // MAX_GRID_DIM_X/Y/Z
	{Name: "clockRate", Off12: 348, Off13: -1, Size: 4, Attrs: cuAttrs(13), ref: func(p *DeviceProp) any { return &p.ClockRate }},                          // CLOCK_RATE
	{Name: "totalConstMem", Off12: 352, Off13: 352, Size: 8, Attrs: cuAttrs(9), ref: func(p *DeviceProp) any { return &p.TotalConstMem }},                  // TOTAL_CONSTANT_MEMORY
	{Name: "major", Off12: 360, Off13: 360, Size: 4, Attrs: cuAttrs(75), ref: func(p *DeviceProp) any { return &p.Major }},                                 // COMPUTE_CAPABILITY_MAJOR
	{Name: "minor", Off12: 364, Off13: 364, Size: 4, Attrs: cuAttrs(76), ref: func(p *DeviceProp) any { return &p.Minor }},                                 // COMPUTE_CAPABILITY_MINOR
	{Name: "textureAlignment", Off12: 368, Off13: 368, Size: 8, Attrs: cuAttrs(14), ref: func(p *DeviceProp) any { return &p.TextureAlignment }},           // TEXTURE_ALIGNMENT
	{Name: "texturePitchAlignment", Off12: 376, Off13: 376, Size: 8, Attrs: cuAttrs(51), ref: func(p *DeviceProp) any { return &p.TexturePitchAlignment }}, // TEXTURE_PITCH_ALIGNMENT
	// GPU_OVERLAP: the driver defines it as "asyncEngineCount > 0".
	{Name: "deviceOverlap", Off12: 384, Off13: -1, Size: 4, Attrs: cuAttrs(15), ref: func(p *DeviceProp) any { return &p.DeviceOverlap }},
	{Name: "multiProcessorCount", Off12: 388, Off13: 384, Size: 4, Attrs: cuAttrs(16), ref: func(p *DeviceProp) any { return &p.MultiProcessorCount }},          // MULTIPROCESSOR_COUNT
	{Name: "kernelExecTimeoutEnabled", Off12: 392, Off13: -1, Size: 4, Attrs: cuAttrs(17), ref: func(p *DeviceProp) any { return &p.KernelExecTimeoutEnabled }}, // KERNEL_EXEC_TIMEOUT
	{Name: "integrated", Off12: 396, Off13: 388, Size: 4, Attrs: cuAttrs(18), ref: func(p *DeviceProp) any { return &p.Integrated }},                            // INTEGRATED
	{Name: "canMapHostMemory", Off12: 400, Off13: 392, Size: 4, Attrs: cuAttrs(19), ref: func(p *DeviceProp) any { return &p.CanMapHostMemory }},                // CAN_MAP_HOST_MEMORY
	{Name: "computeMode", Off12: 404, Off13: -1, Size: 4, Attrs: cuAttrs(20), ref: func(p *DeviceProp) any { return &p.ComputeMode }},                           // COMPUTE_MODE
	{Name: "maxTexture1D", Off12: 408, Off13: 396, Size: 4, Attrs: cuAttrs(21), ref: func(p *DeviceProp) any { return &p.MaxTexture1D }},                        // MAXIMUM_TEXTURE1D_WIDTH
	{Name: "maxTexture1DMipmap", Off12: 412, Off13: 400, Size: 4, Attrs: cuAttrs(77), ref: func(p *DeviceProp) any { return &p.MaxTexture1DMipmap }},            // MAXIMUM_TEXTURE1D_MIPMAPPED_WIDTH
	// MAXIMUM_TEXTURE1D_LINEAR_WIDTH: deprecated but still answered (2^28 on the H200, the value
	// CuPy reports for maxTexture1DLinear there); cuDeviceGetTexture1DLinearMaxWidth, which 13.0
	// recommends instead, depends on format and channels (2^30 for 1-channel uint8).
	{Name: "maxTexture1DLinear", Off12: 416, Off13: -1, Size: 4, Attrs: cuAttrs(69), ref: func(p *DeviceProp) any { return &p.MaxTexture1DLinear }},
	{Name: "maxTexture2D", Off12: 420, Off13: 404, Size: 8, Attrs: cuAttrs(22, 23), ref: func(p *DeviceProp) any { return &p.MaxTexture2D }},                                                  // MAXIMUM_TEXTURE2D_WIDTH/HEIGHT
	{Name: "maxTexture2DMipmap", Off12: 428, Off13: 412, Size: 8, Attrs: cuAttrs(73, 74), ref: func(p *DeviceProp) any { return &p.MaxTexture2DMipmap }},                                      // MAXIMUM_TEXTURE2D_MIPMAPPED_WIDTH/HEIGHT
	{Name: "maxTexture2DLinear", Off12: 436, Off13: 420, Size: 12, Attrs: cuAttrs(70, 71, 72), ref: func(p *DeviceProp) any { return &p.MaxTexture2DLinear }},                                 // MAXIMUM_TEXTURE2D_LINEAR_WIDTH/HEIGHT/PITCH
	{Name: "maxTexture2DGather", Off12: 448, Off13: 432, Size: 8, Attrs: cuAttrs(45, 46), ref: func(p *DeviceProp) any { return &p.MaxTexture2DGather }},                                      // MAXIMUM_TEXTURE2D_GATHER_WIDTH/HEIGHT
	{Name: "maxTexture3D", Off12: 456, Off13: 440, Size: 12, Attrs: cuAttrs(24, 25, 26), ref: func(p *DeviceProp) any { return &p.MaxTexture3D }},                                             // MAXIMUM_TEXTURE3D_WIDTH/HEIGHT/DEPTH
	{Name: "maxTexture3DAlt", Off12: 468, Off13: 452, Size: 12, Attrs: cuAttrs(47, 48, 49), ref: func(p *DeviceProp) any { return &p.MaxTexture3DAlt }},                                       // MAXIMUM_TEXTURE3D_*_ALTERNATE
	{Name: "maxTextureCubemap", Off12: 480, Off13: 464, Size: 4, Attrs: cuAttrs(52), ref: func(p *DeviceProp) any { return &p.MaxTextureCubemap }},                                            // MAXIMUM_TEXTURECUBEMAP_WIDTH
	{Name: "maxTexture1DLayered", Off12: 484, Off13: 468, Size: 8, Attrs: cuAttrs(42, 43), ref: func(p *DeviceProp) any { return &p.MaxTexture1DLayered }},                                    // MAXIMUM_TEXTURE1D_LAYERED_WIDTH/LAYERS
	{Name: "maxTexture2DLayered", Off12: 492, Off13: 476, Size: 12, Attrs: cuAttrs(27, 28, 29), ref: func(p *DeviceProp) any { return &p.MaxTexture2DLayered }},                               // MAXIMUM_TEXTURE2D_LAYERED_WIDTH/HEIGHT/LAYERS
	{Name: "maxTextureCubemapLayered", Off12: 504, Off13: 488, Size: 8, Attrs: cuAttrs(53, 54), ref: func(p *DeviceProp) any { return &p.MaxTextureCubemapLayered }},                          // MAXIMUM_TEXTURECUBEMAP_LAYERED_WIDTH/LAYERS
	{Name: "maxSurface1D", Off12: 512, Off13: 496, Size: 4, Attrs: cuAttrs(55), ref: func(p *DeviceProp) any { return &p.MaxSurface1D }},                                                      // MAXIMUM_SURFACE1D_WIDTH
	{Name: "maxSurface2D", Off12: 516, Off13: 500, Size: 8, Attrs: cuAttrs(56, 57), ref: func(p *DeviceProp) any { return &p.MaxSurface2D }},                                                  // MAXIMUM_SURFACE2D_WIDTH/HEIGHT
	{Name: "maxSurface3D", Off12: 524, Off13: 508, Size: 12, Attrs: cuAttrs(58, 59, 60), ref: func(p *DeviceProp) any { return &p.MaxSurface3D }},                                             // MAXIMUM_SURFACE3D_WIDTH/HEIGHT/DEPTH
	{Name: "maxSurface1DLayered", Off12: 536, Off13: 520, Size: 8, Attrs: cuAttrs(61, 62), ref: func(p *DeviceProp) any { return &p.MaxSurface1DLayered }},                                    // MAXIMUM_SURFACE1D_LAYERED_WIDTH/LAYERS
	{Name: "maxSurface2DLayered", Off12: 544, Off13: 528, Size: 12, Attrs: cuAttrs(63, 64, 65), ref: func(p *DeviceProp) any { return &p.MaxSurface2DLayered }},                               // MAXIMUM_SURFACE2D_LAYERED_WIDTH/HEIGHT/LAYERS
	{Name: "maxSurfaceCubemap", Off12: 556, Off13: 540, Size: 4, Attrs: cuAttrs(66), ref: func(p *DeviceProp) any { return &p.MaxSurfaceCubemap }},                                            // MAXIMUM_SURFACECUBEMAP_WIDTH
	{Name: "maxSurfaceCubemapLayered", Off12: 560, Off13: 544, Size: 8, Attrs: cuAttrs(67, 68), ref: func(p *DeviceProp) any { return &p.MaxSurfaceCubemapLayered }},                          // MAXIMUM_SURFACECUBEMAP_LAYERED_WIDTH/LAYERS
	{Name: "surfaceAlignment", Off12: 568, Off13: 552, Size: 8, Attrs: cuAttrs(30), ref: func(p *DeviceProp) any { return &p.SurfaceAlignment }},                                              // SURFACE_ALIGNMENT
	{Name: "concurrentKernels", Off12: 576, Off13: 560, Size: 4, Attrs: cuAttrs(31), ref: func(p *DeviceProp) any { return &p.ConcurrentKernels }},                                            // CONCURRENT_KERNELS
	{Name: "ECCEnabled", Off12: 580, Off13: 564, Size: 4, Attrs: cuAttrs(32), ref: func(p *DeviceProp) any { return &p.ECCEnabled }},                                                          // ECC_ENABLED
	{Name: "pciBusID", Off12: 584, Off13: 568, Size: 4, Attrs: cuAttrs(33), ref: func(p *DeviceProp) any { return &p.PciBusID }},                                                              // PCI_BUS_ID
	{Name: "pciDeviceID", Off12: 588, Off13: 572, Size: 4, Attrs: cuAttrs(34), ref: func(p *DeviceProp) any { return &p.PciDeviceID }},                                                        // PCI_DEVICE_ID
	{Name: "pciDomainID", Off12: 592, Off13: 576, Size: 4, Attrs: cuAttrs(50), ref: func(p *DeviceProp) any { return &p.PciDomainID }},                                                        // PCI_DOMAIN_ID
	{Name: "tccDriver", Off12: 596, Off13: 580, Size: 4, Attrs: cuAttrs(35), ref: func(p *DeviceProp) any { return &p.TccDriver }},                                                            // TCC_DRIVER
	{Name: "asyncEngineCount", Off12: 600, Off13: 584, Size: 4, Attrs: cuAttrs(40), ref: func(p *DeviceProp) any { return &p.AsyncEngineCount }},                                              // ASYNC_ENGINE_COUNT
	{Name: "unifiedAddressing", Off12: 604, Off13: 588, Size: 4, Attrs: cuAttrs(41), ref: func(p *DeviceProp) any { return &p.UnifiedAddressing }},                                            // UNIFIED_ADDRESSING
	{Name: "memoryClockRate", Off12: 608, Off13: -1, Size: 4, Attrs: cuAttrs(36), ref: func(p *DeviceProp) any { return &p.MemoryClockRate }},                                                 // MEMORY_CLOCK_RATE
	{Name: "memoryBusWidth", Off12: 612, Off13: 592, Size: 4, Attrs: cuAttrs(37), ref: func(p *DeviceProp) any { return &p.MemoryBusWidth }},                                                  // GLOBAL_MEMORY_BUS_WIDTH
	{Name: "l2CacheSize", Off12: 616, Off13: 596, Size: 4, Attrs: cuAttrs(38), ref: func(p *DeviceProp) any { return &p.L2CacheSize }},                                                        // L2_CACHE_SIZE
	{Name: "persistingL2CacheMaxSize", Off12: 620, Off13: 600, Size: 4, Attrs: cuAttrs(108), ref: func(p *DeviceProp) any { return &p.PersistingL2CacheMaxSize }},                             // MAX_PERSISTING_L2_CACHE_SIZE
	{Name: "maxThreadsPerMultiProcessor", Off12: 624, Off13: 604, Size: 4, Attrs: cuAttrs(39), ref: func(p *DeviceProp) any { return &p.MaxThreadsPerMultiProcessor }},                        // MAX_THREADS_PER_MULTIPROCESSOR
	{Name: "streamPrioritiesSupported", Off12: 628, Off13: 608, Size: 4, Attrs: cuAttrs(78), ref: func(p *DeviceProp) any { return &p.StreamPrioritiesSupported }},                            // STREAM_PRIORITIES_SUPPORTED
	{Name: "globalL1CacheSupported", Off12: 632, Off13: 612, Size: 4, Attrs: cuAttrs(79), ref: func(p *DeviceProp) any { return &p.GlobalL1CacheSupported }},                                  // GLOBAL_L1_CACHE_SUPPORTED
	{Name: "localL1CacheSupported", Off12: 636, Off13: 616, Size: 4, Attrs: cuAttrs(80), ref: func(p *DeviceProp) any { return &p.LocalL1CacheSupported }},                                    // LOCAL_L1_CACHE_SUPPORTED
	{Name: "sharedMemPerMultiprocessor", Off12: 640, Off13: 624, Size: 8, Attrs: cuAttrs(81), ref: func(p *DeviceProp) any { return &p.SharedMemPerMultiprocessor }},                          // MAX_SHARED_MEMORY_PER_MULTIPROCESSOR
	{Name: "regsPerMultiprocessor", Off12: 648, Off13: 632, Size: 4, Attrs: cuAttrs(82), ref: func(p *DeviceProp) any { return &p.RegsPerMultiprocessor }},                                    // MAX_REGISTERS_PER_MULTIPROCESSOR
	{Name: "managedMemory", Off12: 652, Off13: 636, Size: 4, Attrs: cuAttrs(83), ref: func(p *DeviceProp) any { return &p.ManagedMemory }},                                                    // MANAGED_MEMORY
	{Name: "isMultiGpuBoard", Off12: 656, Off13: 640, Size: 4, Attrs: cuAttrs(84), ref: func(p *DeviceProp) any { return &p.IsMultiGpuBoard }},                                                // MULTI_GPU_BOARD
	{Name: "multiGpuBoardGroupID", Off12: 660, Off13: 644, Size: 4, Attrs: cuAttrs(85), ref: func(p *DeviceProp) any { return &p.MultiGpuBoardGroupID }},                                      // MULTI_GPU_BOARD_GROUP_ID
	{Name: "hostNativeAtomicSupported", Off12: 664, Off13: 648, Size: 4, Attrs: cuAttrs(86), ref: func(p *DeviceProp) any { return &p.HostNativeAtomicSupported }},                            // HOST_NATIVE_ATOMIC_SUPPORTED
	{Name: "singleToDoublePrecisionPerfRatio", Off12: 668, Off13: -1, Size: 4, Attrs: cuAttrs(87), ref: func(p *DeviceProp) any { return &p.SingleToDoublePrecisionPerfRatio }},               // SINGLE_TO_DOUBLE_PRECISION_PERF_RATIO
	{Name: "pageableMemoryAccess", Off12: 672, Off13: 652, Size: 4, Attrs: cuAttrs(88), ref: func(p *DeviceProp) any { return &p.PageableMemoryAccess }},                                      // PAGEABLE_MEMORY_ACCESS
	{Name: "concurrentManagedAccess", Off12: 676, Off13: 656, Size: 4, Attrs: cuAttrs(89), ref: func(p *DeviceProp) any { return &p.ConcurrentManagedAccess }},                                // CONCURRENT_MANAGED_ACCESS
	{Name: "computePreemptionSupported", Off12: 680, Off13: 660, Size: 4, Attrs: cuAttrs(90), ref: func(p *DeviceProp) any { return &p.ComputePreemptionSupported }},                          // COMPUTE_PREEMPTION_SUPPORTED
	{Name: "canUseHostPointerForRegisteredMem", Off12: 684, Off13: 664, Size: 4, Attrs: cuAttrs(91), ref: func(p *DeviceProp) any { return &p.CanUseHostPointerForRegisteredMem }},            // CAN_USE_HOST_POINTER_FOR_REGISTERED_MEM
	{Name: "cooperativeLaunch", Off12: 688, Off13: 668, Size: 4, Attrs: cuAttrs(95), ref: func(p *DeviceProp) any { return &p.CooperativeLaunch }},                                            // COOPERATIVE_LAUNCH
	{Name: "cooperativeMultiDeviceLaunch", Off12: 692, Off13: -1, Size: 4, Attrs: cuAttrs(96), ref: func(p *DeviceProp) any { return &p.CooperativeMultiDeviceLaunch }},                       // COOPERATIVE_MULTI_DEVICE_LAUNCH
	{Name: "sharedMemPerBlockOptin", Off12: 696, Off13: 672, Size: 8, Attrs: cuAttrs(97), ref: func(p *DeviceProp) any { return &p.SharedMemPerBlockOptin }},                                  // MAX_SHARED_MEMORY_PER_BLOCK_OPTIN
	{Name: "pageableMemoryAccessUsesHostPageTables", Off12: 704, Off13: 680, Size: 4, Attrs: cuAttrs(100), ref: func(p *DeviceProp) any { return &p.PageableMemoryAccessUsesHostPageTables }}, // PAGEABLE_MEMORY_ACCESS_USES_HOST_PAGE_TABLES
	{Name: "directManagedMemAccessFromHost", Off12: 708, Off13: 684, Size: 4, Attrs: cuAttrs(101), ref: func(p *DeviceProp) any { return &p.DirectManagedMemAccessFromHost }},                 // DIRECT_MANAGED_MEM_ACCESS_FROM_HOST
	{Name: "maxBlocksPerMultiProcessor", Off12: 712, Off13: 688, Size: 4, Attrs: cuAttrs(106), ref: func(p *DeviceProp) any { return &p.MaxBlocksPerMultiProcessor }},                         // MAX_BLOCKS_PER_MULTIPROCESSOR
	{Name: "accessPolicyMaxWindowSize", Off12: 716, Off13: 692, Size: 4, Attrs: cuAttrs(109), ref: func(p *DeviceProp) any { return &p.AccessPolicyMaxWindowSize }},                           // MAX_ACCESS_POLICY_WINDOW_SIZE
	{Name: "reservedSharedMemPerBlock", Off12: 720, Off13: 696, Size: 8, Attrs: cuAttrs(111), ref: func(p *DeviceProp) any { return &p.ReservedSharedMemPerBlock }},                           // RESERVED_SHARED_MEMORY_PER_BLOCK
	{Name: "hostRegisterSupported", Off12: 728, Off13: 704, Size: 4, Attrs: cuAttrs(99), ref: func(p *DeviceProp) any { return &p.HostRegisterSupported }},                                    // HOST_REGISTER_SUPPORTED
	{Name: "sparseCudaArraySupported", Off12: 732, Off13: 708, Size: 4, Attrs: cuAttrs(112), ref: func(p *DeviceProp) any { return &p.SparseCudaArraySupported }},                             // SPARSE_CUDA_ARRAY_SUPPORTED
	{Name: "hostRegisterReadOnlySupported", Off12: 736, Off13: 712, Size: 4, Attrs: cuAttrs(113), ref: func(p *DeviceProp) any { return &p.HostRegisterReadOnlySupported }},                   // READ_ONLY_HOST_REGISTER_SUPPORTED
	{Name: "timelineSemaphoreInteropSupported", Off12: 740, Off13: 716, Size: 4, Attrs: cuAttrs(114), ref: func(p *DeviceProp) any { return &p.TimelineSemaphoreInteropSupported }},           // TIMELINE_SEMAPHORE_INTEROP_SUPPORTED
	{Name: "memoryPoolsSupported", Off12: 744, Off13: 720, Size: 4, Attrs: cuAttrs(115), ref: func(p *DeviceProp) any { return &p.MemoryPoolsSupported }},                                     // MEMORY_POOLS_SUPPORTED
	{Name: "gpuDirectRDMASupported", Off12: 748, Off13: 724, Size: 4, Attrs: cuAttrs(116), ref: func(p *DeviceProp) any { return &p.GpuDirectRDMASupported }},                                 // GPU_DIRECT_RDMA_SUPPORTED
	{Name: "gpuDirectRDMAFlushWritesOptions", Off12: 752, Off13: 728, Size: 4, Attrs: cuAttrs(117), ref: func(p *DeviceProp) any { return &p.GpuDirectRDMAFlushWritesOptions }},               // GPU_DIRECT_RDMA_FLUSH_WRITES_OPTIONS
	{Name: "gpuDirectRDMAWritesOrdering", Off12: 756, Off13: 732, Size: 4, Attrs: cuAttrs(118), ref: func(p *DeviceProp) any { return &p.GpuDirectRDMAWritesOrdering }},                       // GPU_DIRECT_RDMA_WRITES_ORDERING
	{Name: "memoryPoolSupportedHandleTypes", Off12: 760, Off13: 736, Size: 4, Attrs: cuAttrs(119), ref: func(p *DeviceProp) any { return &p.MemoryPoolSupportedHandleTypes }},                 // MEMPOOL_SUPPORTED_HANDLE_TYPES
	{Name: "deferredMappingCudaArraySupported", Off12: 764, Off13: 740, Size: 4, Attrs: cuAttrs(121), ref: func(p *DeviceProp) any { return &p.DeferredMappingCudaArraySupported }},           // DEFERRED_MAPPING_CUDA_ARRAY_SUPPORTED
	{Name: "ipcEventSupported", Off12: 768, Off13: 744, Size: 4, Attrs: cuAttrs(125), ref: func(p *DeviceProp) any { return &p.IpcEventSupported }},                                           // IPC_EVENT_SUPPORTED
	{Name: "clusterLaunch", Off12: 772, Off13: 748, Size: 4, Attrs: cuAttrs(120), ref: func(p *DeviceProp) any { return &p.ClusterLaunch }},                                                   // CLUSTER_LAUNCH
	{Name: "unifiedFunctionPointers", Off12: 776, Off13: 752, Size: 4, Attrs: cuAttrs(129), ref: func(p *DeviceProp) any { return &p.UnifiedFunctionPointers }},                               // UNIFIED_FUNCTION_POINTERS
	{Name: "deviceNumaConfig", Off12: -1, Off13: 756, Size: 4, Attrs: cuAttrs(130), ref: func(p *DeviceProp) any { return &p.DeviceNumaConfig }},                                              // NUMA_CONFIG
	{Name: "deviceNumaId", Off12: -1, Off13: 760, Size: 4, Attrs: cuAttrs(131), ref: func(p *DeviceProp) any { return &p.DeviceNumaId }},                                                      // NUMA_ID
	{Name: "mpsEnabled", Off12: -1, Off13: 764, Size: 4, Attrs: cuAttrs(133), ref: func(p *DeviceProp) any { return &p.MpsEnabled }},                                                          // MPS_ENABLED
	{Name: "hostNumaId", Off12: -1, Off13: 768, Size: 4, Attrs: cuAttrs(134), ref: func(p *DeviceProp) any { return &p.HostNumaId }},                                                          // HOST_NUMA_ID
	{Name: "gpuPciDeviceID", Off12: -1, Off13: 772, Size: 4, Attrs: cuAttrs(139), ref: func(p *DeviceProp) any { return &p.GpuPciDeviceID }},                                                  // GPU_PCI_DEVICE_ID
	{Name: "gpuPciSubsystemID", Off12: -1, Off13: 776, Size: 4, Attrs: cuAttrs(140), ref: func(p *DeviceProp) any { return &p.GpuPciSubsystemID }},                                            // GPU_PCI_SUBSYSTEM_ID
	{Name: "hostNumaMultinodeIpcSupported", Off12: -1, Off13: 780, Size: 4, Attrs: cuAttrs(143), ref: func(p *DeviceProp) any { return &p.HostNumaMultinodeIpcSupported }},                    // HOST_NUMA_MULTINODE_IPC_SUPPORTED
	{Name: "reserved", Off12: DeviceProp12ReservedOffset, Off13: -1, Size: DeviceProp12Size - DeviceProp12ReservedOffset, Note: "int[63], always zero"},
	{Name: "reserved", Off12: -1, Off13: DeviceProp13ReservedOffset, Size: DeviceProp13Size - DeviceProp13ReservedOffset, Note: "int[56], always zero"},
}

// Encode12 returns p in the CUDA 12.x layout of struct cudaDeviceProp (1032 bytes, little-endian;
// padding and reserved[] zero). Members that only 13.0 has are left out.
func (p *DeviceProp) Encode12() []byte { return p.encode(DeviceProp12Size, false) }

// Encode13 returns p in the CUDA 13.0 layout of struct cudaDeviceProp (1008 bytes, little-endian;
// padding and reserved[] zero). Members that only 12.x has are left out. The real 13.0 runtime
// writes only the first DeviceProp13ReservedOffset bytes; a caller that wants to match it exactly
// copies Encode13()[:DeviceProp13ReservedOffset].
func (p *DeviceProp) Encode13() []byte { return p.encode(DeviceProp13Size, true) }

func (p *DeviceProp) encode(size int, v13 bool) []byte {
	b := make([]byte, size)
	le := binary.LittleEndian
	for i := range DevicePropFields {
		f := &DevicePropFields[i]
		off := f.Off12
		if v13 {
			off = f.Off13
		}
		if off < 0 || f.ref == nil {
			continue
		}
		d := b[off : off+f.Size]
		switch v := f.ref(p).(type) {
		case *[256]byte:
			copy(d, v[:])
		case *[16]byte:
			copy(d, v[:])
		case *[8]byte:
			copy(d, v[:])
		case *int32:
			le.PutUint32(d, uint32(*v))
		case *uint32:
			le.PutUint32(d, *v)
		case *uint64:
			le.PutUint64(d, *v)
		case *[2]int32:
			for j, x := range v {
				le.PutUint32(d[4*j:], uint32(x))
			}
		case *[3]int32:
			for j, x := range v {
				le.PutUint32(d[4*j:], uint32(x))
			}
		default:
			panic(fmt.Sprintf("abi: cudaDeviceProp member %s: unexpected Go type %T", f.Name, v))
		}
	}
	return b
}

// PropFromAttributes fills a DeviceProp the way the CUDA runtime fills cudaDeviceProp: each member
// from the CUdevice_attribute(s) DevicePropFields names (attr is called with CUdevice_attribute
// numbers and returns cuDeviceGetAttribute's value), name from cuDeviceGetName, uuid from
// cuDeviceGetUuid and totalGlobalMem from cuDeviceTotalMem. luid and luidDeviceNodeMask stay zero
// (they have no attribute and are Windows-only). An int attribute lands in a size_t member with
// C's int-to-size_t conversion, in an unsigned int member with C's int-to-unsigned conversion.
// Both 12.x-only and 13.0-only members are filled, so the result encodes either layout.
func PropFromAttributes(attr func(CUdeviceAttribute int32) int32, name string, uuid [16]byte, totalMem uint64) DeviceProp {
	var p DeviceProp
	copy(p.Name[:len(p.Name)-1], name) // keep at least one NUL
	p.UUID = uuid
	p.TotalGlobalMem = totalMem
	for i := range DevicePropFields {
		f := &DevicePropFields[i]
		if len(f.Attrs) == 0 || f.ref == nil {
			continue
		}
		switch v := f.ref(&p).(type) {
		case *int32:
			*v = attr(f.Attrs[0])
		case *uint32:
			*v = uint32(attr(f.Attrs[0]))
		case *uint64:
			*v = uint64(int64(attr(f.Attrs[0])))
		case *[2]int32:
			for j := range v {
				v[j] = attr(f.Attrs[j])
			}
		case *[3]int32:
			for j := range v {
				v[j] = attr(f.Attrs[j])
			}
		default:
			panic(fmt.Sprintf("abi: cudaDeviceProp member %s: attributes for Go type %T", f.Name, v))
		}
	}
	return p
}
