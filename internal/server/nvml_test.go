package server

import (
	"encoding/binary"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// TestSessionNVMLReadings: the rows nvidia-smi's readings need, on the simulated device through
// a session. A versioned struct (api.P.Versioned) whose version gives another size than the
// row's is refused with NVML_ERROR_ARGUMENT_VERSION_MISMATCH before the backend sees it (the
// real NVML would write that many bytes into the worker's buffer); field values travel as
// records both ways; a second device handle is checked like the first; a reading the simulated
// device does not implement answers NVML_ERROR_NOT_SUPPORTED.
func TestSessionNVMLReadings(t *testing.T) {
	c, _ := pipeSession(t)
	if h, _ := hello(t, c, api.TableHash()); h.Type != remoting.FrameWelcome {
		t.Fatalf("got %v", h.Type)
	}
	r := call(t, c, 1, "nvmlDeviceGetHandleByIndex_v2", []uint64{0})
	if r.Result != 0 {
		t.Fatalf("handle = %d", r.Result)
	}
	h := binary.LittleEndian.Uint64(r.Bufs[0])

	temp := make([]byte, 12) // nvmlTemperature_v1: version, sensorType, temperature
	binary.LittleEndian.PutUint32(temp, 12|1<<24)
	if r := call(t, c, 2, "nvmlDeviceGetTemperatureV", []uint64{h}, temp); r.Result != 0 || binary.LittleEndian.Uint32(r.Bufs[0][8:]) != simTemperature {
		t.Fatalf("nvmlDeviceGetTemperatureV = %d %v", r.Result, r.Bufs)
	}
	binary.LittleEndian.PutUint32(temp, 16|2<<24) // a version of 16 bytes in a 12-byte buffer
	if r := call(t, c, 3, "nvmlDeviceGetTemperatureV", []uint64{h}, temp); r.Result != nvmlErrArgumentVersionMismatch || r.Note == "" {
		t.Fatalf("nvmlDeviceGetTemperatureV of another size = %d %q", r.Result, r.Note)
	}
	if r := call(t, c, 4, "nvmlDeviceGetMemoryInfo_v2", []uint64{h}, make([]byte, 40)); r.Result != nvmlErrArgumentVersionMismatch {
		t.Fatalf("nvmlDeviceGetMemoryInfo_v2 without a version = %d", r.Result)
	}

	fields := make([]byte, 80) // two nvmlFieldValue_t: NVML_FI_DEV_MEMORY_TEMP and field 1
	binary.LittleEndian.PutUint32(fields, 82)
	binary.LittleEndian.PutUint32(fields[40:], 1)
	r = call(t, c, 5, "nvmlDeviceGetFieldValues", []uint64{h, 2}, fields)
	if r.Result != 0 || len(r.Bufs[0]) != 80 {
		t.Fatalf("nvmlDeviceGetFieldValues = %d %v", r.Result, r.Bufs)
	}
	if f := r.Bufs[0]; binary.LittleEndian.Uint32(f[28:]) != 0 || binary.LittleEndian.Uint32(f[32:]) != simMemTemperature || binary.LittleEndian.Uint32(f[68:]) != nvmlErrNotSupported {
		t.Fatalf("field values: memory temperature %d (ret %d), field 1 ret %d", binary.LittleEndian.Uint32(f[32:]), binary.LittleEndian.Uint32(f[28:]), binary.LittleEndian.Uint32(f[68:]))
	}

	if r := call(t, c, 6, "nvmlDeviceGetTopologyCommonAncestor", []uint64{h, h}); r.Result != 0 || binary.LittleEndian.Uint32(r.Bufs[0]) != 0 {
		t.Fatalf("nvmlDeviceGetTopologyCommonAncestor(h, h) = %d", r.Result)
	}
	if r := call(t, c, 7, "nvmlDeviceGetTopologyCommonAncestor", []uint64{h, 0xdead0000}); r.Result != 2 || r.Note == "" {
		t.Fatalf("a foreign second device = %d %q", r.Result, r.Note)
	}
	if r := call(t, c, 8, "nvmlDeviceGetBoardId", []uint64{h}); r.Result != nvmlErrNotSupported {
		t.Fatalf("nvmlDeviceGetBoardId on the simulated device = %d, want not supported", r.Result)
	}
}
