package server

import (
	"encoding/binary"
	"regexp"
	"strings"
	"sync"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// quotaNamePattern: the rows whose names say they may allocate, free or report device memory.
var quotaNamePattern = regexp.MustCompile(`(?i)(alloc|create|array|pool|retain|instantiate|load|workspace|memnode|reserve|import|` +
	`free|release|destroy|unload|reset|trim|meminfo|memoryinfo|totalmem)`)

// TestQuotaRowsClassified: every row the worker serves that may allocate, free or report device
// memory (by name, or by creating a device range or a memory handle), and every NVML row that
// hands out or numbers devices, has a rule or a reason in quotaRows. A new allocating row fails
// here until it is classified.
func TestQuotaRowsClassified(t *testing.T) {
	served := map[string]bool{}
	for i := range api.Table {
		f := &api.Table[i]
		if f.Serve != api.Remote && f.Serve != api.Async {
			continue
		}
		served[f.Name] = true
		need := quotaNamePattern.MatchString(f.Name)
		for _, p := range f.Params {
			if p.Kind == api.OutDevPtr && !strings.Contains(f.Name, "GetGlobal") || p.Kind == api.OutHandle && (p.H == api.HMem || p.H == api.HNVMLDevice) {
				need = true
			}
		}
		if f.Name == "nvmlDeviceGetIndex" {
			need = true
		}
		if q, ok := quotaRows[api.ID(i)]; need && !ok {
			t.Errorf("%s may allocate, free or report device memory (or devices): classify it in quotaRows (internal/server/quota.go)", f.Name)
		} else if ok && q.rule == qNone && q.why == "" {
			t.Errorf("%s: quotaRows gives neither a rule nor a reason", f.Name)
		}
	}
	for id := range quotaRows {
		if name := api.Table[id].Name; !served[name] {
			t.Errorf("quotaRows names %s, which the worker does not serve", name)
		}
	}
	// The allocating entry points the worker does not serve stay unserved (the client answers
	// not-supported): serving one must come with a rule.
	for _, name := range []string{"cuArrayCreate_v2", "cuArray3DCreate_v2", "cuMipmappedArrayCreate", "cuMemAllocAsync",
		"cuMemAllocFromPoolAsync", "cuMemPoolCreate", "cuGraphAddMemAllocNode", "cuMemAllocManaged", "cudaMallocAsync", "cudaMalloc3D", "cudaMallocArray",
		"cublasLtCreate"} {
		id, f, ok := api.Lookup(name)
		if ok && (f.Serve == api.Remote || f.Serve == api.Async) {
			if _, classified := quotaRows[id]; !classified {
				t.Errorf("%s is served but not classified", name)
			}
		}
	}
}

// blasSim is the simulated device with a cuBLAS whose handles take 8 MiB of device memory
// inside the library, as cublasCreate's workspace does.
type blasSim struct {
	*Sim
	mu        sync.Mutex
	ws        map[uint64]uint64 // handle -> its workspace
	destroyed []uint64
}

const blasWorkspace = 8 << 20

func (b *blasSim) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	switch f.Name {
	case "cublasCreate_v2":
		p, r := b.alloc(blasWorkspace, b.currentHost())
		if r != 0 {
			return cublasAllocFailed
		}
		h := 0xb1a50000 + p>>20
		b.ws[h] = p
		put64(a.Out[0], h)
		return 0
	case "cublasDestroy_v2":
		b.mu.Lock()
		b.destroyed = append(b.destroyed, a.Vals[0])
		b.mu.Unlock()
		_, fr, _ := api.Lookup("cuMemFree_v2")
		b.Sim.Invoke(memFreeID, fr, &Args{Vals: []uint64{b.ws[a.Vals[0]]}})
		delete(b.ws, a.Vals[0])
		return 0
	}
	return b.Sim.Invoke(id, f, a)
}

// quotaConn is a wire-level client of a session under a policy.
type quotaConn struct {
	t    *testing.T
	c    *remoting.Conn
	next uint64
	mu   sync.Mutex
	log  []string
}

func newQuotaConn(t *testing.T, be Backend, p Policy) *quotaConn {
	q := &quotaConn{t: t}
	c, _, _ := pipeSessionSetup(t, be, func(s *Session) {
		s.logSink = func(l string) { q.mu.Lock(); q.log = append(q.log, l); q.mu.Unlock() }
		s.SetPolicy(p)
	})
	q.c = c
	if h, _ := hello(t, c, api.TableHash()); h.Type != remoting.FrameWelcome {
		t.Fatalf("got %v", h.Type)
	}
	return q
}

func (q *quotaConn) call(name string, scalars []uint64, bufs ...[]byte) remoting.Reply {
	q.t.Helper()
	q.next++
	return call(q.t, q.c, q.next, name, scalars, bufs...)
}

// must calls and fails the test unless the result is want; it returns the outputs.
func (q *quotaConn) must(want int32, name string, scalars []uint64, bufs ...[]byte) [][]byte {
	q.t.Helper()
	r := q.call(name, scalars, bufs...)
	if r.Result != want {
		q.t.Fatalf("%s%v = %d (note %q), want %d", name, scalars, r.Result, r.Note, want)
	}
	return r.Bufs
}

// lines counts the session's log lines containing s.
func (q *quotaConn) lines(s string) int {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, l := range q.log {
		if strings.Contains(l, s) {
			n++
		}
	}
	return n
}

// memInfo is cuMemGetInfo_v2's (free, total), checked against both NVML answers for device 0.
func (q *quotaConn) memInfo() (uint64, uint64) {
	q.t.Helper()
	o := q.must(0, "cuMemGetInfo_v2", nil)
	free, total := le64(o[0]), le64(o[1])
	h := le64(q.must(0, "nvmlDeviceGetHandleByIndex_v2", []uint64{0})[0])
	m := q.must(0, "nvmlDeviceGetMemoryInfo", []uint64{h})[0]
	if le64(m[0:]) != total || le64(m[8:]) != free || le64(m[16:]) != total-free {
		q.t.Fatalf("nvmlDeviceGetMemoryInfo total %d free %d used %d; cuMemGetInfo free %d total %d", le64(m[0:]), le64(m[8:]), le64(m[16:]), free, total)
	}
	v2 := make([]byte, 40)
	binary.LittleEndian.PutUint32(v2, 40|2<<24)
	m = q.must(0, "nvmlDeviceGetMemoryInfo_v2", []uint64{h}, v2)[0]
	if le64(m[8:]) != total || le64(m[16:]) != 0 || le64(m[24:]) != free || le64(m[32:]) != total-free {
		q.t.Fatalf("nvmlDeviceGetMemoryInfo_v2 total %d reserved %d free %d used %d; cuMemGetInfo free %d total %d", le64(m[8:]), le64(m[16:]), le64(m[24:]), le64(m[32:]), free, total)
	}
	return free, total
}

// vmmProp is a CUmemAllocationProp for pinned memory on device dev.
func vmmProp(dev uint32) []byte {
	p := make([]byte, 32)
	binary.LittleEndian.PutUint32(p[0:], 1) // CU_MEM_ALLOCATION_TYPE_PINNED
	binary.LittleEndian.PutUint32(p[8:], 1) // CU_MEM_LOCATION_TYPE_DEVICE
	binary.LittleEndian.PutUint32(p[12:], dev)
	return p
}

// TestQuotaSession: under a 64 MiB limit, every allocating path is charged, an allocation past
// the limit gets the API's out-of-memory code, a note and one log line, and the session goes on;
// frees credit back; every memory query shows the limit.
func TestQuotaSession(t *testing.T) {
	const MiB = 1 << 20
	be := &blasSim{Sim: NewSim(), ws: map[uint64]uint64{}}
	q := newQuotaConn(t, be, Policy{Identity: "uid:1", MemLimit: 64 * MiB})
	q.must(0, "cuInit", []uint64{0})
	ctx := le64(q.must(0, "cuDevicePrimaryCtxRetain", []uint64{0})[0])
	q.must(0, "cuCtxSetCurrent", []uint64{ctx})

	if free, total := q.memInfo(); free != 64*MiB || total != 64*MiB {
		t.Fatalf("fresh session: free %d total %d, want 64 MiB of 64 MiB", free, total)
	}
	if tot := le64(q.must(0, "cuDeviceTotalMem_v2", []uint64{0})[0]); tot != 64*MiB {
		t.Fatalf("cuDeviceTotalMem_v2 = %d, want the limit", tot)
	}

	// cuMemAlloc_v2: charged; past the limit refused, once logged; a smaller one then succeeds.
	a := le64(q.must(0, "cuMemAlloc_v2", []uint64{40 * MiB})[0])
	r := q.call("cuMemAlloc_v2", []uint64{30 * MiB})
	if r.Result != 2 || !strings.Contains(r.Note, "memory limit") || len(r.Bufs) != 0 {
		t.Fatalf("past the limit: %d %q, want CUDA_ERROR_OUT_OF_MEMORY with a note", r.Result, r.Note)
	}
	if n := q.lines("cuMemAlloc_v2 refused"); n != 1 {
		t.Fatalf("%d log lines for the refusal, want 1: %q", n, q.log)
	}
	b := le64(q.must(0, "cuMemAlloc_v2", []uint64{20 * MiB})[0])
	if free, _ := q.memInfo(); free != 4*MiB {
		t.Fatalf("free %d after 60 MiB, want 4 MiB", free)
	}
	q.must(0, "cuMemFree_v2", []uint64{a})
	if free, _ := q.memInfo(); free != 44*MiB {
		t.Fatalf("free %d after freeing 40 MiB, want 44 MiB", free)
	}

	// VMM: cuMemCreate charged against prop's device; cuMemRelease credits.
	m := le64(q.must(0, "cuMemCreate", []uint64{32 * MiB, 0}, vmmProp(0))[0])
	if free, _ := q.memInfo(); free != 12*MiB {
		t.Fatalf("free %d after cuMemCreate of 32 MiB, want 12 MiB", free)
	}
	if r := q.call("cuMemCreate", []uint64{32 * MiB, 0}, vmmProp(0)); r.Result != 2 || r.Note == "" {
		t.Fatalf("cuMemCreate past the limit = %d %q", r.Result, r.Note)
	}
	va := le64(q.must(0, "cuMemAddressReserve", []uint64{32 * MiB, 0, 0, 0})[0])
	q.must(0, "cuMemMap", []uint64{va, 32 * MiB, 0, m, 0})
	q.must(0, "cuMemUnmap", []uint64{va, 32 * MiB})
	q.must(0, "cuMemRelease", []uint64{m})
	if free, _ := q.memInfo(); free != 44*MiB {
		t.Fatalf("free %d after cuMemRelease, want 44 MiB", free)
	}

	// cuMemAllocPitch_v2: charged at the pitch the driver chose (512-byte rows here); a request
	// whose width fits but whose pitch does not is undone and refused.
	p := q.must(0, "cuMemAllocPitch_v2", []uint64{1000, 1000, 4})
	if pitch := le64(p[1]); pitch != 1024 {
		t.Fatalf("pitch %d", pitch)
	}
	if free, _ := q.memInfo(); free != 44*MiB-1024*1000 {
		t.Fatalf("free %d after a 1024 × 1000 pitched allocation", free)
	}
	q.must(0, "cuMemFree_v2", []uint64{le64(p[0])})
	left := uint64(44 * MiB)
	rows := left / 1000 // 1000 bytes a row fit, 1024 do not
	r = q.call("cuMemAllocPitch_v2", []uint64{1000, rows, 4})
	if r.Result != 2 || !strings.Contains(r.Note, "pitch") {
		t.Fatalf("pitched allocation past the limit = %d %q", r.Result, r.Note)
	}
	if n := be.used[0]; n != 20*MiB {
		t.Fatalf("the device holds %d bytes after the refused pitched allocation, want the 20 MiB still allocated", n)
	}

	// cublasCreate_v2: the library's own allocation is measured and charged; past the limit the
	// handle is destroyed and CUBLAS_STATUS_ALLOC_FAILED returned.
	h := le64(q.must(0, "cublasCreate_v2", nil)[0])
	if free, _ := q.memInfo(); free != left-blasWorkspace {
		t.Fatalf("free %d after cublasCreate, want %d", free, left-blasWorkspace)
	}
	c := le64(q.must(0, "cuMemAlloc_v2", []uint64{left - blasWorkspace - 4*MiB})[0])
	r = q.call("cublasCreate_v2", nil)
	if r.Result != cublasAllocFailed || r.Note == "" {
		t.Fatalf("cublasCreate past the limit = %d %q, want CUBLAS_STATUS_ALLOC_FAILED", r.Result, r.Note)
	}
	if len(be.destroyed) != 1 || be.used[0] != 64*MiB-4*MiB {
		t.Fatalf("the refused handle: destroyed %v, device holds %d", be.destroyed, be.used[0])
	}
	q.must(0, "cublasDestroy_v2", []uint64{h})
	q.must(0, "cuMemFree_v2", []uint64{c})
	q.must(0, "cuMemFree_v2", []uint64{b})
	if free, _ := q.memInfo(); free != 64*MiB {
		t.Fatalf("free %d after freeing everything, want the whole limit", free)
	}
}

// TestQuotaContextDestroy: destroying a context credits what was allocated in it.
func TestQuotaContextDestroy(t *testing.T) {
	const MiB = 1 << 20
	q := newQuotaConn(t, NewSim(), Policy{MemLimit: 16 * MiB})
	q.must(0, "cuInit", []uint64{0})
	ctx := le64(q.must(0, "cuCtxCreate_v2", []uint64{0, 0})[0])
	q.must(0, "cuMemAlloc_v2", []uint64{10 * MiB})
	q.must(2, "cuMemAlloc_v2", []uint64{10 * MiB})
	q.must(0, "cuCtxDestroy_v2", []uint64{ctx})
	q.must(0, "cuCtxCreate_v2", []uint64{0, 0})
	q.must(0, "cuMemAlloc_v2", []uint64{10 * MiB})
}

// TestDevicesPolicy: a session whose policy names host GPUs 2 and 0 (by index and by UUID) sees
// exactly those, in that order, through the driver and through NVML; the others cannot be found.
func TestDevicesPolicy(t *testing.T) {
	q := newQuotaConn(t, NewSimDevices(3), Policy{Identity: "uid:1", Devices: []string{"2", simUUIDString(0), "7", "GPU-ffff"}})
	q.must(0, "cuInit", []uint64{0})
	if n := binary.LittleEndian.Uint32(q.must(0, "cuDeviceGetCount", nil)[0]); n != 2 {
		t.Fatalf("cuDeviceGetCount = %d, want 2", n)
	}
	for d, host := range []int{2, 0} {
		u := q.must(0, "cuDeviceGetUuid_v2", []uint64{uint64(d)})[0]
		if want := simUUIDOf(host); string(u) != string(want[:]) {
			t.Errorf("device %d is not host GPU %d", d, host)
		}
	}
	q.must(cuErrInvalidDevice, "cuDeviceGetUuid_v2", []uint64{2})

	if n := binary.LittleEndian.Uint32(q.must(0, "nvmlDeviceGetCount_v2", nil)[0]); n != 2 {
		t.Fatalf("nvmlDeviceGetCount_v2 = %d, want 2", n)
	}
	for i, host := range []int{2, 0} {
		h := le64(q.must(0, "nvmlDeviceGetHandleByIndex_v2", []uint64{uint64(i)})[0])
		if u := stringUntilNUL(q.must(0, "nvmlDeviceGetUUID", []uint64{h, 96})[0]); u != simUUIDString(host) {
			t.Errorf("NVML index %d is %s, want host GPU %d", i, u, host)
		}
		if idx := binary.LittleEndian.Uint32(q.must(0, "nvmlDeviceGetIndex", []uint64{h})[0]); idx != uint32(i) {
			t.Errorf("nvmlDeviceGetIndex = %d, want %d", idx, i)
		}
	}
	if r := q.call("nvmlDeviceGetHandleByIndex_v2", []uint64{2}); r.Result != nvmlErrInvalidArgument || r.Note == "" {
		t.Errorf("a third NVML index = %d %q, want NVML_ERROR_INVALID_ARGUMENT with a note", r.Result, r.Note)
	}
	if r := q.call("nvmlDeviceGetHandleByUUID", nil, []byte(simUUIDString(1))); r.Result != nvmlErrNotFound {
		t.Errorf("the hidden GPU by UUID = %d, want NVML_ERROR_NOT_FOUND", r.Result)
	}
	if r := q.call("nvmlDeviceGetHandleByPciBusId_v2", nil, []byte(simPCIBusIDOf(1))); r.Result != nvmlErrNotFound {
		t.Errorf("the hidden GPU by PCI bus id = %d, want NVML_ERROR_NOT_FOUND", r.Result)
	}
	q.must(0, "nvmlDeviceGetHandleByUUID", nil, []byte(simUUIDString(2)))
	if q.lines(`"7" names no`) != 1 || q.lines(`"GPU-ffff" names no`) != 1 {
		t.Errorf("no log line for the policy's unknown devices: %q", q.log)
	}
}

// TestQuotaPerDevice: the limit holds on each device separately, and NVML's view of a device
// is charged with what was allocated on it.
func TestQuotaPerDevice(t *testing.T) {
	const MiB = 1 << 20
	q := newQuotaConn(t, NewSimDevices(2), Policy{MemLimit: 16 * MiB})
	q.must(0, "cuInit", []uint64{0})
	c0 := le64(q.must(0, "cuDevicePrimaryCtxRetain", []uint64{0})[0])
	c1 := le64(q.must(0, "cuDevicePrimaryCtxRetain", []uint64{1})[0])
	q.must(0, "cuCtxSetCurrent", []uint64{c1})
	q.must(0, "cuMemAlloc_v2", []uint64{12 * MiB})
	q.must(2, "cuMemAlloc_v2", []uint64{12 * MiB})
	q.must(0, "cuCtxSetCurrent", []uint64{c0})
	q.must(0, "cuMemAlloc_v2", []uint64{12 * MiB})
	h1 := le64(q.must(0, "nvmlDeviceGetHandleByIndex_v2", []uint64{1})[0])
	m := q.must(0, "nvmlDeviceGetMemoryInfo", []uint64{h1})[0]
	if le64(m[0:]) != 16*MiB || le64(m[8:]) != 4*MiB {
		t.Fatalf("NVML device 1: total %d free %d, want 4 MiB of 16 free", le64(m[0:]), le64(m[8:]))
	}
}
