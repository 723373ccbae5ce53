package client

// A small typed Go API over the client, for Go programs that talk to vgpu-server in-process (the
// vgpu CLI's `smi`). Such a program must not load libvgpucore.so (a second Go runtime in one
// process); it links this package instead and calls the same table rows a C program would, by
// name. Before calling, set NewCString (C strings are only made by cuGetErrorName-style functions).
//
// Every pointer handed to dispatchRow points to heap memory from heapNew/heapBytes: the client
// writes outputs through a plain address, which must not move while the call runs (a goroutine
// stack can). The memory must also stay reachable until the call returns: a uint64 address does
// not keep it alive, so a buffer nothing reads after the call gets runtime.KeepAlive after it.

import (
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/vgpu/vgpu/internal/abi"
	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// Server describes the connected vgpu-server.
type Server struct {
	Addr          string // e.g. unix:///run/vgpu/vgpu.sock
	Source        string // where the address came from: "env VGPU_SERVER", a config file, "default"
	Backend       string // "real" or "sim"
	ServerVersion string
	Protocol      uint16
	Session       uint64
	Connect       time.Duration // connect plus handshake; zero when the session was already open
}

// Connect opens the process's session to the server (or returns the open one). Unlike the first
// API call of a C program it logs nothing: the error says why.
func Connect() (Server, error) {
	_, source, _ := remoting.ServerAddress()
	sessMu.Lock()
	s := sess
	var took time.Duration
	if s == nil {
		start := time.Now()
		var err error
		if s, err = dial(); err != nil {
			sessMu.Unlock()
			return Server{}, err
		}
		took = time.Since(start)
		sess = s
	}
	sessMu.Unlock()
	w := s.welcome
	return Server{Addr: s.addr, Source: source, Backend: w.Backend, ServerVersion: w.ServerVersion,
		Protocol: w.Version, Session: w.Session, Connect: took}, nil
}

// Error is a call that ran and returned a result other than success.
type Error struct {
	Func string
	Lib  api.Lib
	Code int64
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s: %s (%d)", e.Func, ResultName(e.Lib, e.Code), e.Code)
}

// ResultName is the symbolic name of a library's result code ("NVML_ERROR_NOT_SUPPORTED").
func ResultName(lib api.Lib, code int64) string {
	names := abi.CUresultNames
	if lib == api.LibNVML {
		names = abi.NVMLReturnNames
	}
	if lib == api.LibCudart12 || lib == api.LibCudart13 {
		// The runtime's names are not in package abi; say which API it was.
		return fmt.Sprintf("cudaError %d", code)
	}
	if n, ok := names[int32(code)]; ok {
		return n
	}
	return "unknown result"
}

// ErrNoRow: the API table has no implemented row of that shape in this build.
var ErrNoRow = errors.New("not available in this vgpu build")

// row reports whether row id is implemented and has parameters of exactly these kinds (a row
// changed later to another shape is not called with the wrong arguments).
func row(id api.ID, kinds ...api.Kind) bool {
	f := &api.Table[id]
	if f.Serve == api.Stub || len(f.Params) != len(kinds) {
		return false
	}
	for i, k := range kinds {
		if f.Params[i].Kind != k {
			return false
		}
	}
	return true
}

// callRow calls a row that must exist (with that shape) and turns its result into an error.
func callRow(lib api.Lib, id api.ID, kinds []api.Kind, args ...uint64) error {
	name := api.Table[id].Name
	if !row(id, kinds...) {
		return fmt.Errorf("%s: %w", name, ErrNoRow)
	}
	if r := dispatchRow(lib, id, args...); r != 0 {
		return &Error{Func: name, Lib: lib, Code: r}
	}
	return nil
}

// heapNew and heapBytes allocate on the heap, never on a (movable) goroutine stack: the result
// escapes through the non-inlined return.
//
//go:noinline
func heapNew[T any]() *T { return new(T) }

//go:noinline
func heapBytes(n int) []byte { return make([]byte, n) }

var (
	kNone     = []api.Kind{}
	kOutVal   = []api.Kind{api.OutVal}
	kHandleOV = []api.Kind{api.Handle, api.OutVal}
	kBufLen   = []api.Kind{api.OutBuf, api.Scalar}
)

// CUDADriverVersion is cuDriverGetVersion (e.g. 13000 for CUDA 13.0).
func CUDADriverVersion() (int, error) {
	v := heapNew[int32]()
	if err := callRow(api.LibCuda, api.IDcuDriverGetVersion, kOutVal, ptrOf(v)); err != nil {
		return 0, err
	}
	return int(*v), nil
}

// NVMLInit is nvmlInit_v2 (reference-counted, like the real library).
func NVMLInit() error { return callRow(api.LibNVML, api.IDnvmlInit_v2, kNone) }

// NVMLShutdown is nvmlShutdown.
func NVMLShutdown() error { return callRow(api.LibNVML, api.IDnvmlShutdown, kNone) }

// NVMLDriverVersion is nvmlSystemGetDriverVersion (between NVMLInit and NVMLShutdown).
func NVMLDriverVersion() (string, error) {
	b := heapBytes(96)
	if err := callRow(api.LibNVML, api.IDnvmlSystemGetDriverVersion, kBufLen, ptrOf(&b[0]), uint64(len(b))); err != nil {
		return "", err
	}
	return stringUntilNUL(b), nil
}

// NVMLMemory is nvmlMemory_v2_t (or nvmlMemory_t, without Reserved), in bytes.
type NVMLMemory struct{ Total, Reserved, Free, Used uint64 }

// nvmlMemoryV2Version is nvml.h's nvmlMemory_v2: NVML_STRUCT_VERSION(Memory, 2), the struct's
// size (40) with the version in the top byte.
const nvmlMemoryV2Version = 40 | 2<<24

// NVMLUtilization is nvmlUtilization_t, in percent over the driver's last sample period.
type NVMLUtilization struct{ GPU, Memory uint32 }

// NVMLDevice is what `vgpu smi` shows of one device. The optional readings are nil when this
// build's table has no such function or the device does not support it.
type NVMLDevice struct {
	Index  int
	Name   string
	UUID   string
	Server string // the address of the vgpu-server whose GPU it is
	Memory NVMLMemory

	Utilization  *NVMLUtilization
	TemperatureC *uint32 // nvmlDeviceGetTemperature(NVML_TEMPERATURE_GPU)
	PowerUsageMW *uint32 // nvmlDeviceGetPowerUsage, milliwatts
	PowerLimitMW *uint32 // nvmlDeviceGetEnforcedPowerLimit, milliwatts
}

// NVMLDevices lists every device the server's NVML reports (NVML, like nvidia-smi, ignores
// CUDA_VISIBLE_DEVICES). It initialises and shuts down NVML itself.
func NVMLDevices() ([]NVMLDevice, error) {
	if err := NVMLInit(); err != nil {
		return nil, err
	}
	defer NVMLShutdown()
	n := heapNew[uint32]()
	if err := callRow(api.LibNVML, api.IDnvmlDeviceGetCount_v2, kOutVal, ptrOf(n)); err != nil {
		return nil, err
	}
	devs := make([]NVMLDevice, 0, *n)
	for i := range *n {
		d, err := nvmlDevice(int(i))
		if err != nil {
			return devs, err
		}
		devs = append(devs, d)
	}
	return devs, nil
}

func nvmlDevice(i int) (NVMLDevice, error) {
	d := NVMLDevice{Index: i}
	hp := heapNew[uint64]()
	if err := callRow(api.LibNVML, api.IDnvmlDeviceGetHandleByIndex_v2, []api.Kind{api.Scalar, api.OutHandle}, uint64(i), ptrOf(hp)); err != nil {
		return d, err
	}
	h := *hp
	if srv, ok := serverOfHandle(h); ok {
		d.Server = srv.addr
	}
	name := heapBytes(96) // NVML_DEVICE_NAME_V2_BUFFER_SIZE
	kHBuf := []api.Kind{api.Handle, api.OutBuf, api.Scalar}
	if err := callRow(api.LibNVML, api.IDnvmlDeviceGetName, kHBuf, h, ptrOf(&name[0]), uint64(len(name))); err != nil {
		return d, err
	}
	d.Name = stringUntilNUL(name)
	uuid := heapBytes(96) // NVML_DEVICE_UUID_V2_BUFFER_SIZE is 96
	if err := callRow(api.LibNVML, api.IDnvmlDeviceGetUUID, kHBuf, h, ptrOf(&uuid[0]), uint64(len(uuid))); err != nil {
		return d, err
	}
	d.UUID = stringUntilNUL(uuid)
	// nvmlMemory_v2_t (what nvidia-smi shows: "used" without the driver's reserved memory), else
	// nvmlMemory_t.
	mem2 := heapNew[[5]uint64]()
	mem2[0] = nvmlMemoryV2Version
	if callRow(api.LibNVML, api.IDnvmlDeviceGetMemoryInfo_v2, []api.Kind{api.Handle, api.InOutVal}, h, ptrOf(mem2)) == nil {
		d.Memory = NVMLMemory{Total: mem2[1], Reserved: mem2[2], Free: mem2[3], Used: mem2[4]}
	} else {
		mem := heapNew[[3]uint64]()
		if err := callRow(api.LibNVML, api.IDnvmlDeviceGetMemoryInfo, kHandleOV, h, ptrOf(mem)); err != nil {
			return d, err
		}
		d.Memory = NVMLMemory{Total: mem[0], Free: mem[1], Used: mem[2]}
	}

	// Optional readings: absent rows, NOT_SUPPORTED and other errors leave them nil.
	if u := heapNew[[2]uint32](); callRow(api.LibNVML, api.IDnvmlDeviceGetUtilizationRates, kHandleOV, h, ptrOf(u)) == nil {
		d.Utilization = &NVMLUtilization{GPU: u[0], Memory: u[1]}
	}
	if t := heapNew[uint32](); callRow(api.LibNVML, api.IDnvmlDeviceGetTemperature, []api.Kind{api.Handle, api.Scalar, api.OutVal}, h, 0, ptrOf(t)) == nil {
		d.TemperatureC = t
	}
	if p := heapNew[uint32](); callRow(api.LibNVML, api.IDnvmlDeviceGetPowerUsage, kHandleOV, h, ptrOf(p)) == nil {
		d.PowerUsageMW = p
	}
	if p := heapNew[uint32](); callRow(api.LibNVML, api.IDnvmlDeviceGetEnforcedPowerLimit, kHandleOV, h, ptrOf(p)) == nil {
		d.PowerLimitMW = p
	}
	return d, nil
}

// Device memory through the Go API (`vgpu-netem bench` moves bytes with it). Host buffers passed
// to MemcpyHtoD and MemcpyDtoH must come from HostBuffer: the client reads and writes them
// through their address while the call runs.

// HostBuffer returns n bytes of heap memory for MemcpyHtoD and MemcpyDtoH.
func HostBuffer(n int) []byte { return heapBytes(n) }

// UsePrimaryContext is cuInit, then cuDevicePrimaryCtxRetain and cuCtxSetCurrent for device dev.
func UsePrimaryContext(dev int) error {
	if err := callRow(api.LibCuda, api.IDcuInit, []api.Kind{api.Scalar}, 0); err != nil {
		return err
	}
	ctx := heapNew[uint64]()
	if err := callRow(api.LibCuda, api.IDcuDevicePrimaryCtxRetain, []api.Kind{api.OutHandle, api.Scalar}, ptrOf(ctx), uint64(dev)); err != nil {
		return err
	}
	return callRow(api.LibCuda, api.IDcuCtxSetCurrent, []api.Kind{api.Handle}, *ctx)
}

// MemAlloc is cuMemAlloc_v2 in the current context.
func MemAlloc(n uint64) (uint64, error) {
	p := heapNew[uint64]()
	if err := callRow(api.LibCuda, api.IDcuMemAlloc_v2, []api.Kind{api.OutDevPtr, api.Scalar}, ptrOf(p), n); err != nil {
		return 0, err
	}
	return *p, nil
}

// MemFree is cuMemFree_v2.
func MemFree(p uint64) error {
	return callRow(api.LibCuda, api.IDcuMemFree_v2, []api.Kind{api.DevPtr}, p)
}

// MemcpyHtoD is cuMemcpyHtoD_v2 of src (from HostBuffer) to device address dst.
func MemcpyHtoD(dst uint64, src []byte) error {
	if len(src) == 0 {
		return nil
	}
	err := callRow(api.LibCuda, api.IDcuMemcpyHtoD_v2, []api.Kind{api.DevPtr, api.InBuf, api.Scalar}, dst, ptrOf(&src[0]), uint64(len(src)))
	runtime.KeepAlive(src) // read through its address only
	return err
}

// MemcpyDtoH is cuMemcpyDtoH_v2 of len(dst) bytes at device address src into dst (from
// HostBuffer).
func MemcpyDtoH(dst []byte, src uint64) error {
	if len(dst) == 0 {
		return nil
	}
	err := callRow(api.LibCuda, api.IDcuMemcpyDtoH_v2, []api.Kind{api.OutBuf, api.DevPtr, api.Scalar}, ptrOf(&dst[0]), src, uint64(len(dst)))
	runtime.KeepAlive(dst) // written through its address only
	return err
}

// Stats are the session's counters (what VGPU_STATS=1 prints at exit).
type Stats struct {
	RoundTrips, AsyncCalls uint64 // calls that waited for a reply; calls sent without waiting
	BytesOut, BytesIn      uint64 // frames written and read on the connection, headers included
	MostAwaited            uint64 // the most calls sent and not yet answered at once
}

// SessionStats returns the counters of the open session (zero without one).
func SessionStats() Stats {
	sessMu.Lock()
	s := sess
	sessMu.Unlock()
	if s == nil {
		return Stats{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{RoundTrips: s.st.sync, AsyncCalls: s.st.async, BytesOut: s.st.bytesOut, BytesIn: s.st.bytesIn, MostAwaited: s.st.mostAwaited}
}
