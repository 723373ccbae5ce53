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

// The client's dispatch entry of a row: its Handler, else by Serve.
func TestClientFunc(t *testing.T) {
	for name, want := range map[string]string{
		"cuMemcpyHtoD_v2":       "remote",      // Remote, no handler
		"cuMemcpyHtoDAsync_v2":  "remoteAsync", // Async, no handler
		"cuMemcpyDtoH_v2":       "cuMemcpyDtoH_v2",
		"cudaStreamSynchronize": "forward",
		"cuLaunchKernel":        "cuLaunchKernel", // Local, the function of its name
		"cudaMemcpyAsync":       "cudaMemcpyAny",  // Local with a Handler
		"cuMemAllocAsync":       "unsupported",
	} {
		_, f, ok := Lookup(name)
		if !ok {
			t.Fatalf("no row %s", name)
		}
		if got := f.ClientFunc(); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	id, _, _ := Lookup("cudaStreamSynchronize")
	if to, ok := ForwardRow(id); !ok || Table[to].Name != "cuStreamSynchronize" {
		t.Error("cudaStreamSynchronize does not forward to cuStreamSynchronize")
	}
	id, _, _ = Lookup("vgpuCublasSetPointerMode")
	if s, ok := ServerRow(id); !ok || Table[s].Name != "cublasSetPointerMode_v2" {
		t.Error("vgpuCublasSetPointerMode's server row is not cublasSetPointerMode_v2")
	}
	id, _, _ = Lookup("cublasSdot_v2")
	if tw, ok := DeviceTwin(id); !ok || Table[tw].Name != CublasDevicePrefix+"cublasSdot_v2" {
		t.Error("cublasSdot_v2 has no device-mode twin")
	}
}

// A minted handle is the one OutHandle of an Async row; minted values have bit 63, leave the
// servers' tag bits (56..62) clear, and are never 0.
func TestMintedHandles(t *testing.T) {
	mint := func(name string) P { return P{C: "T *", Name: name, Kind: OutHandle, H: HLtDesc, Minted: true} }
	ok := Func{Name: "create", Serve: Async, Params: []P{mint("h"), {C: "int", Name: "n"}}}
	if err := validateMinted(&ok); err != nil {
		t.Errorf("a minted out-handle of an async row: %v", err)
	}
	bad := map[string]Func{
		"remote row":      {Name: "create", Serve: Remote, Params: []P{mint("h")}},
		"handle argument": {Name: "use", Serve: Async, Params: []P{{C: "T", Name: "h", Kind: Handle, H: HLtDesc, Minted: true}}},
		"nullable":        {Name: "create", Serve: Async, Params: []P{{C: "T *", Name: "h", Kind: OutHandle, H: HLtDesc, Minted: true, Nullable: true}}},
		"no handle type":  {Name: "create", Serve: Async, Params: []P{{C: "T *", Name: "h", Kind: OutHandle, Minted: true}}},
		"two":             {Name: "create", Serve: Async, Params: []P{mint("h"), mint("g")}},
	}
	for why, f := range bad {
		if err := validateMinted(&f); err == nil {
			t.Errorf("%s: accepted", why)
		}
	}
	for _, n := range []uint64{1, 2, 12345, MintMax} {
		h := MintedHandle(n)
		if !IsMinted(h) || h>>63 != 1 || h>>56&0x7f != 0 {
			t.Errorf("MintedHandle(%d) = %#x", n, h)
		}
	}
	for _, h := range []uint64{0, MintBit, 0x7f0000001000, 0x5100010, MintedHandle(5) | 1<<56, ^uint64(0)} {
		if IsMinted(h) {
			t.Errorf("%#x is taken for a minted handle", h)
		}
	}
}

// Sets is on a Handle the call does not free, of a row that is not Cached; a Cached row is a
// Remote row whose answer can follow from its arguments alone.
func TestCachedRows(t *testing.T) {
	h := P{C: "T", Name: "h", Kind: Handle, H: HLtDesc}
	set := h
	set.Sets = true
	out := P{C: "int *", Name: "n", Kind: OutVal, Size: "4"}
	for why, f := range map[string]Func{
		"a setter":       {Name: "set", Serve: Async, Params: []P{set, {C: "int", Name: "v"}}},
		"a cached query": {Name: "ask", Serve: Remote, Cached: true, Params: []P{h, {C: "int", Name: "v"}, out}},
	} {
		if err := validateCached(&f); err != nil {
			t.Errorf("%s: %v", why, err)
		}
	}
	freed := set
	freed.Frees = true
	for why, f := range map[string]Func{
		"Sets on a scalar":     {Name: "set", Serve: Async, Params: []P{{C: "int", Name: "v", Sets: true}}},
		"Sets on a freed one":  {Name: "set", Serve: Async, Params: []P{freed}},
		"a cached setter":      {Name: "set", Serve: Remote, Cached: true, Params: []P{set}},
		"a cached async row":   {Name: "ask", Serve: Async, Cached: true, Params: []P{h}},
		"a cached device read": {Name: "ask", Serve: Remote, Cached: true, Params: []P{{C: "void *", Name: "p", Kind: DevPtr}, out}},
		"a cached in-out":      {Name: "ask", Serve: Remote, Cached: true, Params: []P{{C: "int *", Name: "n", Kind: InOutVal, Size: "4"}}},
	} {
		if err := validateCached(&f); err == nil {
			t.Errorf("%s: accepted", why)
		}
	}
	if _, f, _ := Lookup("cublasLtMatmulAlgoGetHeuristic"); !f.Cached {
		t.Error("cuBLASLt's heuristic is not Cached")
	}
}
