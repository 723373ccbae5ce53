package api

import "testing"

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
