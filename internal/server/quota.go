package server

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/vgpu/vgpu/internal/api"
)

// Quotas: the worker enforces its Policy's memory limit (per device) and answers every memory
// query as if the device had that much memory. docs/ARCHITECTURE.md ("Quotas") says what is
// counted and what is not; quotaRows classifies every row that could allocate, free or report
// device memory (TestQuotaRowsClassified fails when a new one is not).
//
// Charges are the bytes the program asked for, taken before the driver sees the call where the
// size is in the arguments (cuMemAlloc_v2, cuMemCreate), checked again against what the driver
// returned where it rounds (cuMemAllocPitch_v2's pitch). Allocations inside a host library
// (cublasCreate_v2's workspace) are opaque: the worker measures them as the drop in the
// device's free memory (cuMemGetInfo) across the call. The session is one thread, so nothing of
// this session runs in between; another process's allocation in the same instant would be
// counted too (the measurement's limit, small next to a handle's workspace).

// quotaRule is what the policy does around one row. The order matters: the rules before
// qMemInfo count charges (for every session), qMemInfo to qNVMLMem2 show the limit (only under
// one), the rest apply a device list.
type quotaRule uint8

const (
	qNone        quotaRule = iota // classified: allocates, frees or reports no device memory the quota counts
	qAlloc                        // cuMemAlloc_v2: bytesize, on the current context's device
	qPitch                        // cuMemAllocPitch_v2: width × height before, pitch × height after
	qCreate                       // cuMemCreate: size, on the device of prop->location
	qMeasure                      // cublasCreate_v2: opaque, measured across the call
	qFreePtr                      // cuMemFree_v2: credits the pointer's charge
	qFreeMem                      // cuMemRelease: credits the handle's charge
	qFreeBlas                     // cublasDestroy_v2: credits the handle's measured charge
	qCtxDestroy                   // cuCtxDestroy_v2: credits everything allocated in the context
	qCtxReset                     // cuDevicePrimaryCtxReset_v2: the same for the primary context
	qRetain                       // cuDevicePrimaryCtxRetain: remembers the device's primary context
	qMemInfo                      // cuMemGetInfo_v2: the limit's view
	qTotalMem                     // cuDeviceTotalMem_v2: the limit
	qNVMLMem                      // nvmlDeviceGetMemoryInfo: the limit's view
	qNVMLMem2                     // nvmlDeviceGetMemoryInfo_v2: the limit's view
	qNVMLCount                    // nvmlDeviceGetCount(_v2): the policy's devices
	qNVMLByIndex                  // nvmlDeviceGetHandleByIndex(_v2): index into the policy's devices
	qNVMLByID                     // nvmlDeviceGetHandleByUUID/PciBusId/Serial: only the policy's devices
	qNVMLIndex                    // nvmlDeviceGetIndex: the position among the policy's devices
)

// quotaRow is a row's rule and, for qNone, why it needs none.
type quotaRow struct {
	rule quotaRule
	why  string
}

// quotaRows classifies every served row whose name says it may allocate, free or report device
// memory (quotaNamePattern in quota_test.go). Rows the worker does not serve (cuArrayCreate,
// cuMemAllocAsync, cuMemPoolCreate, cuGraphAddMemAllocNode, cudaMallocAsync ...) answer
// not-supported in the client and never reach a driver; serving one needs a row here first.
var quotaRows = map[api.ID]quotaRow{
	api.IDcuMemAlloc_v2:              {rule: qAlloc},
	api.IDcuMemAllocPitch_v2:         {rule: qPitch},
	api.IDcuMemCreate:                {rule: qCreate},
	api.IDcublasCreate_v2:            {rule: qMeasure},
	api.IDcuMemFree_v2:               {rule: qFreePtr},
	api.IDcuMemRelease:               {rule: qFreeMem},
	api.IDcublasDestroy_v2:           {rule: qFreeBlas},
	api.IDcuCtxDestroy_v2:            {rule: qCtxDestroy},
	api.IDcuDevicePrimaryCtxReset_v2: {rule: qCtxReset},
	api.IDcuDevicePrimaryCtxRetain:   {rule: qRetain, why: "a context's own memory is the session's fixed cost, not charged"},
	api.IDcuMemGetInfo_v2:            {rule: qMemInfo},
	api.IDcuDeviceTotalMem_v2:        {rule: qTotalMem},
	api.IDnvmlDeviceGetMemoryInfo:    {rule: qNVMLMem},
	api.IDnvmlDeviceGetMemoryInfo_v2: {rule: qNVMLMem2},

	api.IDnvmlDeviceGetCount:               {rule: qNVMLCount},
	api.IDnvmlDeviceGetCount_v2:            {rule: qNVMLCount},
	api.IDnvmlDeviceGetHandleByIndex:       {rule: qNVMLByIndex},
	api.IDnvmlDeviceGetHandleByIndex_v2:    {rule: qNVMLByIndex},
	api.IDnvmlDeviceGetHandleByUUID:        {rule: qNVMLByID},
	api.IDnvmlDeviceGetHandleByPciBusId_v2: {rule: qNVMLByID},
	api.IDnvmlDeviceGetHandleBySerial:      {rule: qNVMLByID},
	api.IDnvmlDeviceGetIndex:               {rule: qNVMLIndex},

	api.IDcuCtxCreate_v2:                  {why: "a context's own memory is the session's fixed cost, not charged"},
	api.IDcuDevicePrimaryCtxRelease:       {why: "releasing a reference frees nothing while the session lives"},
	api.IDcuDevicePrimaryCtxRelease_v2:    {why: "releasing a reference frees nothing while the session lives"},
	api.IDcuMemAddressReserve:             {why: "reserves addresses, no memory (cuMemCreate is charged)"},
	api.IDcuMemAddressFree:                {why: "frees addresses, no memory"},
	api.IDcuMemGetAllocationGranularity:   {why: "a query"},
	api.IDcuStreamCreate:                  {why: "driver bookkeeping, not charged"},
	api.IDcuStreamCreateWithPriority:      {why: "driver bookkeeping, not charged"},
	api.IDcuStreamDestroy_v2:              {why: "driver bookkeeping, not charged"},
	api.IDcuEventCreate:                   {why: "driver bookkeeping, not charged"},
	api.IDcuEventDestroy_v2:               {why: "driver bookkeeping, not charged"},
	api.IDvgpuModuleLoadData:              {why: "code and globals load lazily at first launch (CUDA_MODULE_LOADING=LAZY): not measurable here, not charged"},
	api.IDvgpuLibraryLoadData:             {why: "code and globals load lazily at first launch (CUDA_MODULE_LOADING=LAZY): not measurable here, not charged"},
	api.IDcuModuleUnload:                  {why: "modules are not charged"},
	api.IDcuLibraryUnload:                 {why: "modules are not charged"},
	api.IDcuModuleGetLoadingMode:          {why: "a query"},
	api.IDcuGraphInstantiateWithFlags:     {why: "graphs come from stream capture of served rows, which cannot allocate (no memory nodes)"},
	api.IDcuGraphExecDestroy:              {why: "graphs are not charged"},
	api.IDcuGraphDestroy:                  {why: "graphs are not charged"},
	api.IDcublasLtMatmulDescCreate:        {why: "host memory"},
	api.IDcublasLtMatmulDescDestroy:       {why: "host memory"},
	api.IDcublasLtMatrixLayoutCreate:      {why: "host memory"},
	api.IDcublasLtMatrixLayoutDestroy:     {why: "host memory"},
	api.IDcublasLtMatmulPreferenceCreate:  {why: "host memory"},
	api.IDcublasLtMatmulPreferenceDestroy: {why: "host memory"},
	api.IDcublasSetWorkspace_v2:           {why: "the workspace is the program's own allocation, already charged"},
	api.IDnvmlDeviceGetBAR1MemoryInfo:     {why: "the BAR1 aperture, not device memory"},

	api.IDnvmlDeviceWorkloadPowerProfileGetCurrentProfiles: {why: "power profiles (\"load\" is in the name), no memory"},
}

// quotaByID is quotaRows by row id.
var quotaByID = func() []quotaRule {
	r := make([]quotaRule, len(api.Table))
	for id, q := range quotaRows {
		r[id] = q.rule
	}
	return r
}()

// chargeKind says what a charge is attached to (device pointers, VMM handles and cuBLAS handles
// are separate name spaces).
type chargeKind uint8

const (
	chargePtr chargeKind = iota
	chargeMem
	chargeBlas
)

type chargeKey struct {
	kind chargeKind
	v    uint64
}

type charge struct {
	dev   int32  // the session's CUdevice
	ctx   uint64 // the context it lives in (0: not bound to one, as cuMemCreate's)
	bytes uint64
}

// policyState is what a session enforces of its Policy. Charges are counted for every session
// with a policy, limited or not: their sum is the device memory the server's metrics show for
// the session (vgpu_session_device_memory_bytes, through the flight record).
type policyState struct {
	limit   uint64 // bytes per device; 0: none
	used    map[int32]uint64
	held    uint64      // the sum of used
	page    *workerPage // where held is published (flight.go); nil: nowhere
	charges map[chargeKey]charge
	totals  map[int32]uint64 // cuDeviceTotalMem of each device, asked once
	primary map[int32]uint64 // device -> its primary context

	// the call being served: what before() worked out for after()
	pend struct {
		dev   int32
		ctx   uint64
		bytes uint64 // the estimate checked before the call
		free  uint64 // qMeasure: the device's free memory before
	}

	// Devices: the host GPUs the session may see, as NVML indexes in the policy's order.
	devices   bool
	nvIndex   []uint32
	nvUUID    []string
	nvHandles map[uint64]int   // NVML handle -> its position in nvIndex
	nvCuda    map[uint64]int32 // NVML handle -> the session's CUdevice (memory info)
}

const (
	nvmlErrInvalidArgument = 2
	cublasAllocFailed      = 3 // CUBLAS_STATUS_ALLOC_FAILED
)

// outOfMemory is lib's out-of-memory code.
func outOfMemory(lib api.Lib) int32 {
	switch lib {
	case api.LibCublas12, api.LibCublas13, api.LibCublasLt12, api.LibCublasLt13:
		return cublasAllocFailed
	}
	return cuErrOutOfMemory // CUDA_ERROR_OUT_OF_MEMORY; the runtime's cudaErrorMemoryAllocation is 2 too
}

// SetPolicy makes the session enforce p; call it before Serve (and after setting s.page). A
// device list is resolved here, through the backend's NVML, and narrows what the backend's
// driver shows (before its cuInit). Without a memory limit the session's memory is still
// counted (no call is refused for it, and memory queries show the device as it is).
func (s *Session) SetPolicy(p Policy) {
	s.policy = p
	ps := &policyState{limit: p.MemLimit, page: s.page, used: map[int32]uint64{}, charges: map[chargeKey]charge{},
		totals: map[int32]uint64{}, primary: map[int32]uint64{}, nvCuda: map[uint64]int32{}}
	s.pol = ps
	if len(p.Devices) > 0 {
		s.resolveDevices(p.Devices)
	}
}

// policyBefore runs before the backend sees a call; a non-nil result refuses the call.
func (s *Session) policyBefore(id api.ID, f *api.Func, a *Args) *callError {
	ps := s.pol
	rule := quotaByID[id]
	if rule == qNone || ps.limit == 0 && rule >= qMemInfo && rule < qNVMLCount {
		return nil // no limit: memory queries answer as the device is
	}
	oom := func(n uint64) *callError {
		return &callError{outOfMemory(f.Lib()), fmt.Sprintf("%d bytes would exceed the session's memory limit of %d bytes on device %d (%d in use)",
			n, ps.limit, ps.pend.dev, ps.used[ps.pend.dev])}
	}
	switch rule {
	case qAlloc, qPitch, qMeasure:
		ps.pend.dev, ps.pend.ctx = s.currentDevice()
		var n uint64
		switch rule {
		case qAlloc:
			arg := cuMemAlloc_v2Args{a}
			n = arg.bytesize()
		case qPitch:
			arg := cuMemAllocPitch_v2Args{a}
			n = mulSat(arg.WidthInBytes(), arg.Height())
		case qMeasure:
			n = 1 // some memory must be left
			ps.pend.free = s.deviceFree()
		}
		ps.pend.bytes = n
		if ps.limit > 0 && n > s.available(ps.pend.dev) {
			return oom(n)
		}
	case qCreate:
		arg := cuMemCreateArgs{a}
		const locDevice = 1
		prop := arg.prop()
		if binary.LittleEndian.Uint32(prop[8:]) != locDevice {
			ps.pend.dev = -1 // not device memory
			return nil
		}
		ps.pend.dev, ps.pend.ctx = int32(binary.LittleEndian.Uint32(prop[12:])), 0
		ps.pend.bytes = arg.size()
		if ps.limit > 0 && arg.size() > s.available(ps.pend.dev) {
			return oom(arg.size())
		}
	case qNVMLByIndex:
		arg := nvmlDeviceGetHandleByIndexArgs{a}
		if !ps.devices {
			return nil
		}
		i := uint32(arg.index())
		if int(i) >= len(ps.nvIndex) {
			return &callError{nvmlErrInvalidArgument, fmt.Sprintf("index %d: this session sees %d GPUs", i, len(ps.nvIndex))}
		}
		a.Vals[0] = uint64(ps.nvIndex[i])
	}
	return nil
}

// policyAfter runs after the backend answered with result; it may change the outputs, or undo
// the call and refuse it.
func (s *Session) policyAfter(id api.ID, f *api.Func, a *Args, result int32) (int32, *callError) {
	ps := s.pol
	rule := quotaByID[id]
	if result != 0 || rule == qNone || ps.limit == 0 && rule >= qMemInfo && rule < qNVMLCount {
		return result, nil
	}
	switch rule {
	case qAlloc:
		arg := cuMemAlloc_v2Args{a}
		ps.add(chargeKey{chargePtr, le64(arg.dptr())}, ps.pend.dev, ps.pend.ctx, ps.pend.bytes)
	case qPitch:
		arg := cuMemAllocPitch_v2Args{a}
		n := mulSat(le64(arg.pPitch()), arg.Height())
		if ps.limit > 0 && n > s.available(ps.pend.dev) {
			s.invokeRow(memFreeID, le64(arg.dptr()))
			return 0, &callError{cuErrOutOfMemory, fmt.Sprintf("%d bytes (pitch %d × %d rows) would exceed the session's memory limit of %d bytes on device %d (%d in use)",
				n, le64(arg.pPitch()), arg.Height(), ps.limit, ps.pend.dev, ps.used[ps.pend.dev])}
		}
		ps.add(chargeKey{chargePtr, le64(arg.dptr())}, ps.pend.dev, ps.pend.ctx, n)
	case qCreate:
		arg := cuMemCreateArgs{a}
		if ps.pend.dev >= 0 {
			ps.add(chargeKey{chargeMem, le64(arg.handle())}, ps.pend.dev, 0, ps.pend.bytes)
		}
	case qMeasure:
		arg := cublasCreate_v2Args{a}
		h := le64(arg.handle())
		after := s.deviceFree()
		n := uint64(0)
		if ps.pend.free > after {
			n = ps.pend.free - after
		}
		if ps.limit > 0 && n > s.available(ps.pend.dev) {
			s.invokeRow(cublasDestroyID, h)
			return 0, &callError{cublasAllocFailed, fmt.Sprintf("the handle took %d bytes of device memory, which would exceed the session's memory limit of %d bytes on device %d (%d in use)",
				n, ps.limit, ps.pend.dev, ps.used[ps.pend.dev])}
		}
		ps.add(chargeKey{chargeBlas, h}, ps.pend.dev, ps.pend.ctx, n)
	case qFreePtr:
		arg := cuMemFree_v2Args{a}
		ps.credit(chargeKey{chargePtr, arg.dptr()})
	case qFreeMem:
		arg := cuMemReleaseArgs{a}
		ps.credit(chargeKey{chargeMem, arg.handle()})
	case qFreeBlas:
		arg := cublasDestroy_v2Args{a}
		ps.credit(chargeKey{chargeBlas, arg.handle()})
	case qCtxDestroy:
		arg := cuCtxDestroy_v2Args{a}
		ps.creditContext(arg.ctx())
	case qCtxReset:
		arg := cuDevicePrimaryCtxReset_v2Args{a}
		ps.creditContext(ps.primary[int32(uint32(arg.dev()))])
	case qRetain:
		arg := cuDevicePrimaryCtxRetainArgs{a}
		ps.primary[int32(uint32(arg.dev()))] = le64(arg.pctx())
	case qMemInfo:
		arg := cuMemGetInfo_v2Args{a}
		dev, _ := s.currentDevice()
		free, total := s.limitView(dev, le64(arg.free()), le64(arg.total()))
		put64(arg.free(), free)
		put64(arg.total(), total)
	case qTotalMem:
		arg := cuDeviceTotalMem_v2Args{a}
		put64(arg.bytes(), min(le64(arg.bytes()), ps.limit))
	case qNVMLMem:
		arg := nvmlDeviceGetMemoryInfoArgs{a} // nvmlMemory_t: total, free, used
		m := arg.memory()
		free, total := s.limitView(s.nvmlCudaDevice(arg.device()), le64(m[8:16]), le64(m[0:8]))
		put64(m[0:], total)
		put64(m[8:], free)
		put64(m[16:], total-free)
	case qNVMLMem2:
		arg := nvmlDeviceGetMemoryInfo_v2Args{a} // nvmlMemory_v2_t: version, total, reserved, free, used
		m := arg.memory()
		free, total := s.limitView(s.nvmlCudaDevice(arg.device()), le64(m[24:32]), le64(m[8:16]))
		put64(m[8:], total)
		put64(m[16:], 0)
		put64(m[24:], free)
		put64(m[32:], total-free)
	case qNVMLCount:
		arg := nvmlDeviceGetCountArgs{a}
		if ps.devices {
			put32(arg.deviceCount(), uint32(len(ps.nvIndex)))
		}
	case qNVMLByID:
		arg := nvmlDeviceGetHandleByUUIDArgs{a}
		if ps.devices {
			h := le64(arg.device())
			if _, ok := ps.nvHandles[h]; !ok {
				return 0, &callError{nvmlErrNotFound, "that GPU is not among this session's devices"}
			}
		}
	case qNVMLIndex:
		arg := nvmlDeviceGetIndexArgs{a}
		if ps.devices {
			put32(arg.index(), uint32(ps.nvHandles[arg.device()]))
		}
	}
	return result, nil
}

// limitView is (free, total) of device dev under the limit, from the device's real free and
// total: total = min(limit, real total), free = min(real free, total - in use). Every API
// answers with it, so cuMemGetInfo, cudaMemGetInfo and NVML agree (and NVML's used is total -
// free, reserved 0).
func (s *Session) limitView(dev int32, realFree, realTotal uint64) (uint64, uint64) {
	total := min(s.pol.limit, realTotal)
	used := uint64(0)
	if dev >= 0 {
		used = s.pol.used[dev]
	}
	left := uint64(0)
	if total > used {
		left = total - used
	}
	return min(realFree, left), total
}

// available is what device dev may still allocate under the limit.
func (s *Session) available(dev int32) uint64 {
	ps := s.pol
	total, ok := ps.totals[dev]
	if !ok {
		a, r := s.invokeRow(totalMemID, 0, uint64(uint32(dev)))
		total = math.MaxUint64
		if r == 0 {
			total = le64(a.Out[0])
			ps.totals[dev] = total
		}
	}
	limit := min(ps.limit, total)
	if ps.used[dev] >= limit {
		return 0
	}
	return limit - ps.used[dev]
}

func (ps *policyState) add(k chargeKey, dev int32, ctx uint64, n uint64) {
	ps.charges[k] = charge{dev: dev, ctx: ctx, bytes: n}
	ps.used[dev] += n
	ps.held += n
	ps.publish()
}

func (ps *policyState) credit(k chargeKey) {
	if c, ok := ps.charges[k]; ok {
		ps.used[c.dev] -= c.bytes
		ps.held -= c.bytes
		delete(ps.charges, k)
		ps.publish()
	}
}

// publish stores the memory held in the flight record, for the server's metrics.
func (ps *policyState) publish() {
	if ps.page != nil {
		ps.page.hdr.mem.Store(ps.held)
	}
}

// creditContext credits everything allocated in ctx (which the driver freed with it).
func (ps *policyState) creditContext(ctx uint64) {
	if ctx == 0 {
		return
	}
	for k, c := range ps.charges {
		if c.ctx == ctx {
			ps.credit(k)
		}
	}
}

const (
	ctxGetDeviceID   = api.IDcuCtxGetDevice
	ctxGetCurrentID  = api.IDcuCtxGetCurrent
	memGetInfoID     = api.IDcuMemGetInfo_v2
	totalMemID       = api.IDcuDeviceTotalMem_v2
	memFreeID        = api.IDcuMemFree_v2
	cublasDestroyID  = api.IDcublasDestroy_v2
	deviceGetCountID = api.IDcuDeviceGetCount
	deviceGetUUIDID  = api.IDcuDeviceGetUuid_v2
)

// currentDevice is the device and context current on the session's thread (device 0 and no
// context without one: the driver then refuses the allocation itself).
func (s *Session) currentDevice() (int32, uint64) {
	dev, ctx := int32(0), uint64(0)
	if a, r := s.invokeRow(ctxGetDeviceID, 0); r == 0 {
		dev = int32(binary.LittleEndian.Uint32(a.Out[0]))
	}
	if a, r := s.invokeRow(ctxGetCurrentID, 0); r == 0 {
		ctx = le64(a.Out[0])
	}
	return dev, ctx
}

// deviceFree is the current device's real free memory (0 when the driver cannot say).
func (s *Session) deviceFree() uint64 {
	a, r := s.invokeRow(memGetInfoID, 0, 0)
	if r != 0 {
		return 0
	}
	return le64(a.Out[0])
}

// mulSat is a × b, saturated.
func mulSat(a, b uint64) uint64 {
	if a != 0 && b > math.MaxUint64/a {
		return math.MaxUint64
	}
	return a * b
}
