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
	c, h := nvmlSession(t)

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
	r := call(t, c, 5, "nvmlDeviceGetFieldValues", []uint64{h, 2}, fields)
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

// TestSessionNVMLPrivateReading: the private-table readings vgpu forwards (vgpuNvmlPrivateReading)
// go to the backend only for the slots api.NVMLPrivateSlots names, with their value's size, and
// only for a device of the session; anything else is refused before the backend is asked (the
// real one would call the host's slot with it).
func TestSessionNVMLPrivateReading(t *testing.T) {
	c, h := nvmlSession(t)
	for i, tc := range []struct {
		dev, slot, length uint64
		want              int32
	}{
		{h, 249, 4, 0},                   // the sparse operation mode: the simulated device's 0
		{h, 230, 4, nvmlErrNotSupported}, // no host-side PCIe generation on the simulated host
		{h, 232, 4, 2},                   // a slot vgpu does not forward
		{h, 231, 300, 2},                 // the part number's buffer beyond 256 bytes
		{h, 249, 8, 2},                   // the right slot with another size
		{0xdead0000, 249, 4, 2},          // not a device of the session
		{h, 1<<32 | 249, 4, 0},           // an unsigned int: the upper half of the word is not the caller's
	} {
		r := call(t, c, uint64(2+i), "vgpuNvmlPrivateReading", []uint64{tc.dev, tc.slot, tc.length})
		if r.Result != tc.want {
			t.Errorf("slot %d (%d bytes) of %#x = %d, want %d", tc.slot, tc.length, tc.dev, r.Result, tc.want)
		}
		if tc.want == 0 && (len(r.Bufs) != 1 || len(r.Bufs[0]) != 4 || binary.LittleEndian.Uint32(r.Bufs[0]) != simPrivateSparseMode) {
			t.Errorf("slot %d: value %v", tc.slot, r.Bufs)
		}
	}
	// the part number: a string in the caller's length
	r := call(t, c, 20, "vgpuNvmlPrivateReading", []uint64{h, 231, 80})
	if r.Result != 0 || len(r.Bufs) != 1 || len(r.Bufs[0]) != 80 || string(r.Bufs[0][:len(simPartNumber)+1]) != simPartNumber+"\x00" {
		t.Errorf("slot 231 (80 bytes) = %d, %q", r.Result, r.Bufs)
	}
}

// TestSessionNVMLSamples: nvmlDeviceGetSamples on the simulated device through a session: a count
// of 0 (the client sends that for samples NULL) gives the number of samples and no array; a
// capacity gives that many samples, oldest first, each a timestamp and an unsigned int; only
// those newer than lastSeenTimeStamp; none newer is NVML_ERROR_NOT_FOUND; power samples are a
// reading the simulated device does not have.
func TestSessionNVMLSamples(t *testing.T) {
	c, h := nvmlSession(t)
	count := func(n uint32) []byte { return binary.LittleEndian.AppendUint32(nil, n) }
	le := binary.LittleEndian

	// outputs: sampleValType, sampleCount, samples
	r := call(t, c, 2, "nvmlDeviceGetSamples", []uint64{h, 1, 0}, count(0))
	if r.Result != 0 || len(r.Bufs) != 3 || le.Uint32(r.Bufs[0]) != 1 || le.Uint32(r.Bufs[1]) != simSampleCount || len(r.Bufs[2]) != 0 {
		t.Fatalf("count query = %d %v", r.Result, r.Bufs)
	}
	r = call(t, c, 3, "nvmlDeviceGetSamples", []uint64{h, 1, 0}, count(100))
	if r.Result != 0 || len(r.Bufs[2]) != 100*16 {
		t.Fatalf("samples = %d %v", r.Result, r.Bufs)
	}
	n := le.Uint32(r.Bufs[1])
	if n < simSampleCount || n > simSampleCount+1 {
		t.Fatalf("%d samples, want %d", n, simSampleCount)
	}
	s := r.Bufs[2]
	period := uint64(simSamplePeriod.Microseconds())
	for i := uint32(1); i < n; i++ {
		if ts, prev := le.Uint64(s[16*i:]), le.Uint64(s[16*(i-1):]); ts != prev+period || le.Uint64(s[16*i+8:]) != 0 {
			t.Fatalf("sample %d: %d after %d, value %d", i, ts, prev, le.Uint64(s[16*i+8:]))
		}
	}
	seen := le.Uint64(s[16*60:])
	r = call(t, c, 4, "nvmlDeviceGetSamples", []uint64{h, 1, seen}, count(3))
	if r.Result != 0 || le.Uint32(r.Bufs[1]) != 3 || le.Uint64(r.Bufs[2]) != seen+period {
		t.Fatalf("3 samples after the 61st = %d %v", r.Result, r.Bufs)
	}
	if r := call(t, c, 5, "nvmlDeviceGetSamples", []uint64{h, 1, ^uint64(0)}, count(3)); r.Result != nvmlErrNotFound {
		t.Fatalf("samples after the end of time = %d", r.Result)
	}
	if r := call(t, c, 6, "nvmlDeviceGetSamples", []uint64{h, 0, 0}, count(3)); r.Result != nvmlErrNotSupported {
		t.Fatalf("power samples = %d", r.Result)
	}
	if r := call(t, c, 7, "nvmlDeviceGetSamples", []uint64{h, 99, 0}, count(3)); r.Result != nvmlErrInvalidArg {
		t.Fatalf("samples of type 99 = %d", r.Result)
	}
}

// nvmlSession is a session on the simulated device past its hello, and device 0's NVML handle
// (request 1).
func nvmlSession(t *testing.T) (*remoting.Conn, uint64) {
	t.Helper()
	c, _ := pipeSession(t)
	if h, _ := hello(t, c, api.TableHash()); h.Type != remoting.FrameWelcome {
		t.Fatalf("got %v", h.Type)
	}
	r := call(t, c, 1, "nvmlDeviceGetHandleByIndex_v2", []uint64{0})
	if r.Result != 0 {
		t.Fatalf("handle = %d", r.Result)
	}
	return c, binary.LittleEndian.Uint64(r.Bufs[0])
}
