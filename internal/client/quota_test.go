package client

import (
	"encoding/binary"
	"os"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/server"
)

// memViews reads the device's memory through every API a program sizes itself by, through
// the client's own code: cuMemGetInfo_v2, cudaMemGetInfo, NVML's v1 and v2 memory info,
// cuDeviceTotalMem_v2 and cudaGetDeviceProperties' totalGlobalMem.
type memViews struct {
	cuFree, cuTotal, rtFree, rtTotal        uint64
	nvTotal, nvFree, nvUsed                 uint64
	nv2Total, nv2Reserved, nv2Free, nv2Used uint64
	totalMem, totalGlobalMem                uint64
}

func readMemViews(t *testing.T) memViews {
	t.Helper()
	var v memViews
	free, total := heapNew[uint64](), heapNew[uint64]()
	if r := dispatchByName(api.LibCudart13, "cudaMemGetInfo", ptrOf(free), ptrOf(total)); r != 0 {
		t.Fatalf("cudaMemGetInfo = %d", r)
	}
	v.rtFree, v.rtTotal = *free, *total
	if r := dispatchByName(api.LibCuda, "cuMemGetInfo_v2", ptrOf(free), ptrOf(total)); r != 0 {
		t.Fatalf("cuMemGetInfo_v2 = %d", r)
	}
	v.cuFree, v.cuTotal = *free, *total
	if r := dispatchByName(api.LibCuda, "cuDeviceTotalMem_v2", ptrOf(total), 0); r != 0 {
		t.Fatalf("cuDeviceTotalMem_v2 = %d", r)
	}
	v.totalMem = *total
	prop := heapBytes(1100)
	if r := dispatchByName(api.LibCudart13, "cudaGetDeviceProperties", ptrOf(&prop[0]), 0); r != 0 {
		t.Fatalf("cudaGetDeviceProperties = %d", r)
	}
	v.totalGlobalMem = binary.LittleEndian.Uint64(prop[288:]) // totalGlobalMem (internal/abi/deviceprop.go)
	h := heapNew[uint64]()
	if r := dispatchByName(api.LibNVML, "nvmlDeviceGetHandleByIndex_v2", 0, ptrOf(h)); r != 0 {
		t.Fatalf("nvmlDeviceGetHandleByIndex_v2 = %d", r)
	}
	m := heapBytes(24)
	if r := dispatchByName(api.LibNVML, "nvmlDeviceGetMemoryInfo", *h, ptrOf(&m[0])); r != 0 {
		t.Fatalf("nvmlDeviceGetMemoryInfo = %d", r)
	}
	v.nvTotal, v.nvFree, v.nvUsed = le(m[0:]), le(m[8:]), le(m[16:])
	m2 := heapBytes(40)
	binary.LittleEndian.PutUint32(m2, 40|2<<24) // nvmlMemory_v2
	if r := dispatchByName(api.LibNVML, "nvmlDeviceGetMemoryInfo_v2", *h, ptrOf(&m2[0])); r != 0 {
		t.Fatalf("nvmlDeviceGetMemoryInfo_v2 = %d", r)
	}
	v.nv2Total, v.nv2Reserved, v.nv2Free, v.nv2Used = le(m2[8:]), le(m2[16:]), le(m2[24:]), le(m2[32:])
	return v
}

func le(b []byte) uint64 { return binary.LittleEndian.Uint64(b) }

// agree fails unless every API says total = limit and free = want (NVML's used = total - free).
func (v memViews) agree(t *testing.T, limit, free uint64) {
	t.Helper()
	for name, got := range map[string]uint64{"cuMemGetInfo total": v.cuTotal, "cudaMemGetInfo total": v.rtTotal, "NVML total": v.nvTotal,
		"NVML v2 total": v.nv2Total, "cuDeviceTotalMem_v2": v.totalMem, "totalGlobalMem": v.totalGlobalMem} {
		if got != limit {
			t.Errorf("%s = %d, want the limit %d", name, got, limit)
		}
	}
	for name, got := range map[string]uint64{"cuMemGetInfo free": v.cuFree, "cudaMemGetInfo free": v.rtFree, "NVML free": v.nvFree, "NVML v2 free": v.nv2Free} {
		if got != free {
			t.Errorf("%s = %d, want %d", name, got, free)
		}
	}
	if v.nvUsed != limit-free || v.nv2Used != limit-free || v.nv2Reserved != 0 {
		t.Errorf("NVML used %d, v2 used %d reserved %d; want %d and 0", v.nvUsed, v.nv2Used, v.nv2Reserved, limit-free)
	}
}

// TestQuotaThroughClient: a session under a 256 MiB limit, driven by the client's own code
// (runtime forwarding, the device cache, NVML): every memory API agrees on the limit and on what
// is free; cudaMalloc past the limit gets cudaErrorMemoryAllocation and the next smaller one
// succeeds; VMM allocations are charged; frees credit back.
func TestQuotaThroughClient(t *testing.T) {
	const MiB = 1 << 20
	const limit = 256 * MiB
	connectServerWith(t, server.NewSim(), func(s *server.Session) { s.SetPolicy(server.Policy{Identity: "uid:1", MemLimit: limit}) }, 0)
	if r := dispatchByName(api.LibNVML, "nvmlInit_v2"); r != 0 {
		t.Fatalf("nvmlInit_v2 = %d", r)
	}
	t.Cleanup(func() { dispatchByName(api.LibNVML, "nvmlShutdown") })

	readMemViews(t).agree(t, limit, limit)

	p := heapNew[uint64]()
	if r := dispatchByName(api.LibCudart13, "cudaMalloc", ptrOf(p), 200*MiB); r != 0 {
		t.Fatalf("cudaMalloc(200 MiB) = %d", r)
	}
	a := *p
	readMemViews(t).agree(t, limit, limit-200*MiB)
	const cudaErrorMemoryAllocation = 2
	if r := dispatchByName(api.LibCudart13, "cudaMalloc", ptrOf(p), 100*MiB); r != cudaErrorMemoryAllocation {
		t.Fatalf("cudaMalloc past the limit = %d, want cudaErrorMemoryAllocation", r)
	}
	if r := dispatchByName(api.LibCudart13, "cudaMalloc", ptrOf(p), 50*MiB); r != 0 {
		t.Fatalf("the next smaller cudaMalloc = %d", r)
	}
	b := *p
	readMemViews(t).agree(t, limit, limit-250*MiB)

	// VMM (ggml's pool): cuMemCreate is charged, cuMemRelease credits.
	if r := dispatchByName(api.LibCudart13, "cudaFree", a); r != 0 {
		t.Fatalf("cudaFree = %d", r)
	}
	prop := heapBytes(32)
	binary.LittleEndian.PutUint32(prop[0:], 1) // pinned
	binary.LittleEndian.PutUint32(prop[8:], 1) // on a device: 0
	mh := heapNew[uint64]()
	if r := dispatchByName(api.LibCuda, "cuMemCreate", ptrOf(mh), 128*MiB, ptrOf(&prop[0]), 0); r != 0 {
		t.Fatalf("cuMemCreate = %d", r)
	}
	readMemViews(t).agree(t, limit, limit-178*MiB)
	if r := dispatchByName(api.LibCuda, "cuMemCreate", ptrOf(p), 128*MiB, ptrOf(&prop[0]), 0); r != 2 {
		t.Fatalf("cuMemCreate past the limit = %d, want CUDA_ERROR_OUT_OF_MEMORY", r)
	}
	if r := dispatchByName(api.LibCuda, "cuMemRelease", *mh); r != 0 {
		t.Fatalf("cuMemRelease = %d", r)
	}
	if r := dispatchByName(api.LibCudart13, "cudaFree", b); r != 0 {
		t.Fatalf("cudaFree = %d", r)
	}
	readMemViews(t).agree(t, limit, limit)
}

// TestDevicesPolicyThroughClient: a policy naming host GPU 1 of 3 leaves the client one device,
// the same one through the driver, the runtime and NVML.
func TestDevicesPolicyThroughClient(t *testing.T) {
	connectServerWith(t, server.NewSimDevices(3), func(s *server.Session) { s.SetPolicy(server.Policy{Devices: []string{"1"}}) }, 0)
	n := heapNew[int32]()
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	if r := dispatchByName(api.LibCudart13, "cudaGetDeviceCount", ptrOf(n)); r != 0 || *n != 1 {
		t.Fatalf("cudaGetDeviceCount = %d, count %d; want 1", r, *n)
	}
	if r := dispatchByName(api.LibNVML, "nvmlInit_v2"); r != 0 {
		t.Fatalf("nvmlInit_v2 = %d", r)
	}
	t.Cleanup(func() { dispatchByName(api.LibNVML, "nvmlShutdown") })
	if r := dispatchByName(api.LibNVML, "nvmlDeviceGetCount_v2", ptrOf(n)); r != 0 || *n != 1 {
		t.Fatalf("nvmlDeviceGetCount_v2 = %d, count %d; want 1", r, *n)
	}
	u := heapNew[[16]byte]()
	if r := dispatchByName(api.LibCuda, "cuDeviceGetUuid_v2", ptrOf(u), 0); r != 0 {
		t.Fatalf("cuDeviceGetUuid_v2 = %d", r)
	}
	h := heapNew[uint64]()
	if r := dispatchByName(api.LibNVML, "nvmlDeviceGetHandleByIndex_v2", 0, ptrOf(h)); r != 0 {
		t.Fatalf("nvmlDeviceGetHandleByIndex_v2 = %d", r)
	}
	buf := heapBytes(96)
	if r := dispatchByName(api.LibNVML, "nvmlDeviceGetUUID", *h, ptrOf(&buf[0]), 96); r != 0 {
		t.Fatalf("nvmlDeviceGetUUID = %d", r)
	}
	if got := stringUntilNUL(buf); got != formatUUID(*u) || got == server.SimUUIDString() || u[15] != 2 {
		t.Fatalf("NVML sees %s, the driver %s: want host GPU 1 in both", got, formatUUID(*u))
	}
	if r := dispatchByName(api.LibNVML, "nvmlDeviceGetHandleByIndex_v2", 1, ptrOf(h)); r != 2 {
		t.Fatalf("a second NVML device = %d, want NVML_ERROR_INVALID_ARGUMENT", r)
	}
}

// TestProcessListOwnOnly: NVML's process lists (every kind and version) show the client its own
// process alone, under its own pid and with the memory it holds; the simulated host's other
// process (pid 1) never reaches it, nor their number.
func TestProcessListOwnOnly(t *testing.T) {
	const MiB = 1 << 20
	connectServer(t, server.NewSim())
	if r := dispatchByName(api.LibNVML, "nvmlInit_v2"); r != 0 {
		t.Fatalf("nvmlInit_v2 = %d", r)
	}
	t.Cleanup(func() { dispatchByName(api.LibNVML, "nvmlShutdown") })
	h := heapNew[uint64]()
	if r := dispatchByName(api.LibNVML, "nvmlDeviceGetHandleByIndex_v2", 0, ptrOf(h)); r != 0 {
		t.Fatalf("nvmlDeviceGetHandleByIndex_v2 = %d", r)
	}
	n := heapNew[uint32]()
	infos := heapBytes(8 * 24)
	list := func(name string, room uint32, buf uint64) int64 {
		*n = room
		return dispatchByName(api.LibNVML, name, *h, ptrOf(n), buf)
	}
	// No device memory yet: no process of ours, and the other one is not shown.
	if r := list("nvmlDeviceGetComputeRunningProcesses_v3", 8, ptrOf(&infos[0])); r != 0 || *n != 0 {
		t.Fatalf("before any allocation: %d, count %d; want 0 processes", r, *n)
	}
	p := heapNew[uint64]()
	if r := dispatchByName(api.LibCudart13, "cudaMalloc", ptrOf(p), 64*MiB); r != 0 {
		t.Fatalf("cudaMalloc = %d", r)
	}
	for _, v := range []struct {
		name string
		elem int
	}{{"nvmlDeviceGetComputeRunningProcesses", 16}, {"nvmlDeviceGetComputeRunningProcesses_v2", 24}, {"nvmlDeviceGetComputeRunningProcesses_v3", 24}} {
		// the size query: no buffer, the count needed
		if r := list(v.name, 0, 0); r != 7 || *n != 1 {
			t.Fatalf("%s without room = %d, count %d; want NVML_ERROR_INSUFFICIENT_SIZE and 1", v.name, r, *n)
		}
		clear(infos)
		if r := list(v.name, 8, ptrOf(&infos[0])); r != 0 || *n != 1 {
			t.Fatalf("%s = %d, count %d; want 1 process", v.name, r, *n)
		}
		pid, used := binary.LittleEndian.Uint32(infos), binary.LittleEndian.Uint64(infos[8:])
		if pid != uint32(os.Getpid()) || used != 64*MiB {
			t.Fatalf("%s: pid %d using %d bytes; want this process (%d) using %d", v.name, pid, used, os.Getpid(), 64*MiB)
		}
		if next := binary.LittleEndian.Uint32(infos[v.elem:]); next != 0 {
			t.Fatalf("%s wrote a second entry (pid %d)", v.name, next)
		}
	}
	for _, name := range []string{"nvmlDeviceGetGraphicsRunningProcesses", "nvmlDeviceGetMPSComputeRunningProcesses_v3"} {
		if r := list(name, 8, ptrOf(&infos[0])); r != 0 || *n != 0 {
			t.Fatalf("%s = %d, count %d; want 0 processes", name, r, *n)
		}
	}
}
