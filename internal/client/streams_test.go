package client

import (
	"testing"

	"github.com/vgpu/vgpu/internal/api"
)

func rowCall(t *testing.T, name string, args ...uint64) *call {
	id, f, ok := api.Lookup(name)
	if !ok {
		t.Fatalf("no row %s", name)
	}
	a := make([]uint64, len(f.Params))
	copy(a, args)
	return &call{id: id, f: f, lib: api.LibCuda, a: a}
}

func TestStreamTracker(t *testing.T) {
	var tr streamTracker
	const s = 0x5000
	if tr.idle(s) {
		t.Fatal("a stream never synchronised counts as idle")
	}
	tr.synced(s, false)
	if !tr.idle(s) {
		t.Fatal("a synchronised stream with nothing sent is not idle")
	}
	// a launch on the stream (async, with a stream argument)
	tr.markDirty(rowCall(t, "vgpuLaunchKernel", 0xf, 1, 1, 1, 1, 1, 1, 0, s))
	if tr.idle(s) {
		t.Fatal("a stream with a launch since its synchronisation is idle")
	}
	tr.synced(s, false)
	// a synchronous memset (device memory, no stream): the NULL stream, not s
	tr.synced(0, false)
	tr.markDirty(rowCall(t, "cuMemsetD8_v2", 0x100, 1, 16))
	if tr.idle(0) || tr.idle(1) {
		t.Fatal("a memset left the NULL stream idle")
	}
	if !tr.idle(s) {
		t.Fatal("a memset on the NULL stream made another stream busy")
	}
	// a query touches nothing
	tr.markDirty(rowCall(t, "cuStreamQuery", s))
	if !tr.idle(s) {
		t.Fatal("a query made the stream busy")
	}
	// after a context synchronisation everything is idle
	tr.synced(0, true)
	if !tr.idle(0) || !tr.idle(s) {
		t.Fatal("cuCtxSynchronize left a stream busy")
	}
}
