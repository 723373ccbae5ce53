package client

import (
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/server"
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

// snapNow is a synchronising call that saw no other thread's work: the tracker as it is now.
func (t *streamTracker) snapNow() *call {
	t.mu.Lock()
	defer t.mu.Unlock()
	return &call{snap: syncSnap{gen: t.gen}}
}

func TestStreamTracker(t *testing.T) {
	var tr streamTracker
	const s = 0x5000
	if tr.idle(s) {
		t.Fatal("a stream never synchronised counts as idle")
	}
	tr.synced(s, 0, false, tr.snapNow())
	if !tr.idle(s) {
		t.Fatal("a synchronised stream with nothing sent is not idle")
	}
	// a launch on the stream (async, with a stream argument)
	tr.markDirty(rowCall(t, "vgpuLaunchKernel", 0xf, 1, 1, 1, 1, 1, 1, 0, s))
	if tr.idle(s) {
		t.Fatal("a stream with a launch since its synchronisation is idle")
	}
	tr.synced(s, 0, false, tr.snapNow())
	// a synchronous memset (device memory, no stream): the NULL stream, not s
	tr.synced(0, 0, false, tr.snapNow())
	tr.markDirty(rowCall(t, "cuMemsetD8_v2", 0x100, 1, 16))
	if tr.idle(0) || tr.idle(1) {
		t.Fatal("a memset left the NULL stream idle")
	}
	if !tr.idle(s) {
		t.Fatal("a memset on the NULL stream made another stream busy")
	}
	if a := tr.action(0, 0); a != syncDefer {
		t.Fatalf("synchronising after only a memset: action %d, want %d (sent without waiting)", a, syncDefer)
	}
	// mapping memory or freeing it queues nothing
	tr.synced(0, 0, false, tr.snapNow())
	tr.markDirty(rowCall(t, "cuMemSetAccess", 0x100, 16, 0x200, 1))
	tr.markDirty(rowCall(t, "cuMemFree_v2", 0x100))
	if !tr.idle(0) {
		t.Fatal("cuMemSetAccess or cuMemFree left work on the legacy stream")
	}
	// a query touches nothing
	tr.markDirty(rowCall(t, "cuStreamQuery", s))
	if !tr.idle(s) {
		t.Fatal("a query made the stream busy")
	}
	// after a context synchronisation everything is idle
	tr.synced(0, 0, true, tr.snapNow())
	if !tr.idle(0) || !tr.idle(s) {
		t.Fatal("cuCtxSynchronize left a stream busy")
	}
}

// Uploads (host-to-device copies, memsets) are synchronised without waiting only while no
// stream holds other work; kernels, device-to-device copies and cuBLAS calls are work.
func TestStreamTrackerUploads(t *testing.T) {
	var tr streamTracker
	const s, u = 0x5000, 0x6000
	if a := tr.action(s, 0); a != syncWait {
		t.Fatalf("never synchronised: action %d, want wait", a)
	}
	tr.synced(s, 0, false, tr.snapNow())
	tr.synced(u, 0, false, tr.snapNow())
	tr.markDirty(rowCall(t, "cuMemcpyHtoDAsync_v2", 0x100, 0x200, 16, s))
	if a := tr.action(s, 0); a != syncDefer {
		t.Fatalf("after an upload: action %d, want defer", a)
	}
	// a launch on another stream does not hold an upload's synchronisation back
	tr.markDirty(rowCall(t, "vgpuLaunchKernel", 0xf, 1, 1, 1, 1, 1, 1, 0, u))
	if a := tr.action(s, 0); a != syncDefer {
		t.Fatalf("upload while a kernel runs on another stream: action %d, want defer", a)
	}
	if a := tr.action(0, 0); a != syncWait {
		t.Fatalf("legacy stream while another holds work: action %d, want wait", a)
	}
	// work on the legacy stream does (blocking streams wait for it)
	tr.synced(0, 0, false, tr.snapNow())
	tr.markDirty(rowCall(t, "vgpuLaunchKernel", 0xf, 1, 1, 1, 1, 1, 1, 0, 0))
	if a := tr.action(s, 0); a != syncWait {
		t.Fatalf("upload while a kernel runs on the legacy stream: action %d, want wait", a)
	}
	tr.synced(0, 0, false, tr.snapNow())
	tr.synced(u, 0, false, tr.snapNow())
	if a := tr.action(s, 0); a != syncDefer {
		t.Fatalf("after the other streams were synchronised: action %d, want defer", a)
	}
	// a device-to-device copy is work
	tr.markDirty(rowCall(t, "cuMemcpyDtoDAsync_v2", 0x100, 0x200, 16, s))
	if a := tr.action(s, 0); a != syncWait {
		t.Fatalf("after a device copy: action %d, want wait", a)
	}
	tr.synced(s, 0, false, tr.snapNow())
	if a := tr.action(s, 0); a != syncLocal {
		t.Fatalf("after a synchronisation: action %d, want local", a)
	}
	// an async call whose stream is unknown makes every synchronisation wait until the context
	// is synchronised
	gemm := rowCall(t, "cublasSgemm_v2", 0xdead)
	gemm.lib = api.LibCublas13
	tr.markDirty(gemm)
	if a := tr.action(s, 0); a != syncWait {
		t.Fatalf("after an unknown-stream call: action %d, want wait", a)
	}
	tr.synced(0, 0, true, tr.snapNow())
	if a := tr.action(s, 0); a != syncLocal || tr.work != 0 {
		t.Fatalf("after a context synchronisation: action %d, work %d", a, tr.work)
	}
	// after a failed synchronisation every one waits
	tr.fail()
	if a := tr.action(s, 0); a != syncWait {
		t.Fatalf("after a failure: action %d, want wait", a)
	}
}

// cuBLAS work goes on the handle's stream; configuring a handle is no work.
func TestStreamTrackerCublas(t *testing.T) {
	const h, s = 0xab00, 0x7000
	cublasHandles.mu.Lock()
	if cublasHandles.ctx == nil {
		cublasHandles.ctx = map[uint64]uint64{}
	}
	cublasHandles.ctx[h] = 1
	cublasHandles.stream = map[uint64]uint64{h: s}
	cublasHandles.mu.Unlock()
	defer func() {
		cublasHandles.mu.Lock()
		delete(cublasHandles.ctx, h)
		delete(cublasHandles.stream, h)
		cublasHandles.mu.Unlock()
	}()
	row := func(name string, args ...uint64) *call {
		c := rowCall(t, name, args...)
		c.lib = api.LibCublas13
		return c
	}
	for _, n := range []string{"cublasSetStream_v2", "cublasSetWorkspace_v2", "cublasSetMathMode", "cublasLtMatmulDescCreate", "vgpuCublasSetPointerMode"} {
		if st, _, known := classify(row(n, h, s)); st != stIdle || !known {
			t.Errorf("%s: state %d known %v, want no work", n, st, known)
		}
	}
	if st, stream, known := classify(row("cublasSgemm_v2", h)); st != stWork || stream != s || !known {
		t.Errorf("cublasSgemm_v2: state %d on %#x (known %v), want work on %#x", st, stream, known, s)
	}
	if _, _, known := classify(row("cublasSgemm_v2", 0xdead)); known {
		t.Error("a GEMM on an unknown handle has a known stream")
	}
}

// A synchronisation after uploads is held until a call that is not another upload to the same
// stream; uploads to that stream leave it held, anything else sends it first.
func TestHeldSynchronisation(t *testing.T) {
	// a worker session, so that held synchronisations really are sent (through the same path
	// as every call, which must not send the other held ones ahead of them)
	connect(t, &recorder{Sim: server.NewSim()})
	const s = 0x5100
	defer func() {
		streams.mu.Lock()
		streams.held = nil
		streams.anyHeld.Store(false)
		streams.merged = 0
		streams.mu.Unlock()
	}()
	streams.hold(s, nil, 0)
	streams.hold(s, nil, 0)
	if streams.merged != 1 {
		t.Fatalf("a second hold of one stream: merged %d, want 1", streams.merged)
	}
	sendHeld(rowCall(t, "cuMemcpyHtoDAsync_v2", 0x100, 0x200, 16, s))
	if !streams.anyHeld.Load() || len(streams.held) != 1 {
		t.Fatal("an upload to the held stream sent its synchronisation")
	}
	sendHeld(rowCall(t, "cuMemcpyHtoDAsync_v2", 0x100, 0x200, 16, 0x5200))
	if streams.anyHeld.Load() || len(streams.held) != 0 {
		t.Fatal("an upload to another stream came before the held synchronisation")
	}
	streams.hold(s, nil, 0)
	sendHeld(rowCall(t, "vgpuLaunchKernel", 0xf, 1, 1, 1, 1, 1, 1, 0, s))
	if streams.anyHeld.Load() {
		t.Fatal("a launch on the held stream came before its synchronisation")
	}
	// with two streams held, an upload to one sends only the other's synchronisation
	streams.hold(s, nil, 0)
	streams.hold(0x5200, nil, 0)
	sendHeld(rowCall(t, "cuMemcpyHtoDAsync_v2", 0x100, 0x200, 16, s))
	if _, kept := streams.held[streamKey(s, 0)]; !kept || len(streams.held) != 1 {
		t.Fatalf("held after an upload to %#x: %v, want that stream's alone", s, streams.held)
	}
}
