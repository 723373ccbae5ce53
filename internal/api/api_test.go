package api

import (
	"strings"
	"testing"
)

// The size of a device range a call creates: an argument, an output, or pitch times height.
func TestCreatedRangeSize(t *testing.T) {
	vals := map[string][]uint64{
		"cuMemAlloc_v2":        {0, 4096},
		"cuModuleGetGlobal_v2": {0, 0, 0, 0},
		"cuMemAllocPitch_v2":   {0, 0, 100, 7, 4},
	}
	outs := map[string][]uint64{"cuModuleGetGlobal_v2": {0, 256}, "cuMemAllocPitch_v2": {0, 512}}
	want := map[string]uint64{"cuMemAlloc_v2": 4096, "cuModuleGetGlobal_v2": 256, "cuMemAllocPitch_v2": 512 * 7}
	for name, w := range want {
		_, f, ok := Lookup(name)
		if !ok {
			t.Fatalf("no row %s", name)
		}
		got := f.CreatedRangeSize(&f.Params[0], func(i int) uint64 { return vals[name][i] }, func(i int) uint64 { return outs[name][i] })
		if got != w {
			t.Errorf("%s: %d, want %d", name, got, w)
		}
	}
}

// New rows of the kinds the client's stream tracker and shared memory depend on state their
// effect: a synchronous copy or memset of device memory leaves work (or only uploads), cuBLAS
// handle configuration none.
func TestStreamEffects(t *testing.T) {
	for i := range Table {
		f := &Table[i]
		if f.Serve == Stub || f.Serve == Local {
			continue
		}
		dev := false
		for _, p := range f.Params {
			dev = dev || p.Kind == DevPtr
		}
		n := f.Name
		if dev && f.Serve != Async && (strings.HasPrefix(n, "cuMemcpy") || strings.HasPrefix(n, "cuMemset")) &&
			f.Stream != StreamWork && f.Stream != StreamUpload {
			t.Errorf("%s: a synchronous copy or memset needs Stream: StreamWork or StreamUpload", n)
		}
		if f.Lib() >= LibCublas13 && (strings.HasPrefix(n, "cublasSet") || strings.HasPrefix(n, "cublasGet") ||
			strings.HasPrefix(n, "cublasCreate") || strings.HasPrefix(n, "cublasDestroy")) && f.Stream != StreamNone {
			t.Errorf("%s: cuBLAS handle configuration needs Stream: StreamNone", n)
		}
		if f.Shm != ShmNone && f.Stream == StreamByMode {
			t.Errorf("%s: a copy with a shared-memory route states its stream effect", n)
		}
	}
}
