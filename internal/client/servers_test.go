package client

import (
	"encoding/binary"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/ranges"
	"github.com/vgpu/vgpu/internal/server"
)

// A handle of server k > 0 carries k in its top bits and leads back to k; the first server's
// handles are unchanged.
func TestHandleTags(t *testing.T) {
	list := []*remoteServer{{idx: 0}, {idx: 1, tag: 1 << tagShift}, {idx: 2, tag: 2 << tagShift}}
	for _, s := range list {
		h := tagHandle(s, "test", 0x5100010)
		if s.idx == 0 && h != 0x5100010 {
			t.Errorf("the first server's handle became %#x", h)
		}
		if k := int(h >> tagShift & 0x7f); k != s.idx || h&^tagMask != 0x5100010 {
			t.Errorf("server %d: handle %#x", s.idx, h)
		}
		if tagHandle(s, "test", 0) != 0 {
			t.Errorf("server %d: NULL was tagged", s.idx)
		}
	}
}

// The PCI domain of server k's devices is shifted by k*0x100, in both widths, and leads back to k.
func TestPCIDomainShift(t *testing.T) {
	for _, tc := range []struct {
		id   string
		k    int
		want string
	}{
		{"00000000:17:00.0", 1, "00000100:17:00.0"}, {"0000:17:00.0", 2, "0200:17:00.0"},
		{"00000001:3b:00.0", 0, "00000001:3b:00.0"}, {"00000300:17:00.0", -3, "00000000:17:00.0"},
	} {
		if got := shiftPCIDomain(tc.id, tc.k); got != tc.want {
			t.Errorf("shiftPCIDomain(%q, %d) = %q, want %q", tc.id, tc.k, got, tc.want)
		}
	}
	for _, tc := range []struct {
		id   string
		n, k int
	}{{"00000100:17:00.0", 3, 1}, {"0200:17:00.0", 3, 2}, {"00000300:17:00.0", 3, 0}, {"00000000:17:00.0", 3, 0}, {"17:00.0", 3, 0}} {
		if got := pciServer(tc.id, tc.n); got != tc.k {
			t.Errorf("pciServer(%q, %d) = %d, want %d", tc.id, tc.n, got, tc.k)
		}
	}
}

// connectTwo makes the process talk to two in-process workers on be0 and be1 as a list of two
// servers (servers.go), each a simulated host of one GPU.
func connectTwo(t *testing.T, be0, be1 server.Backend) {
	t.Helper()
	connect(t, be1)
	sessMu.Lock()
	s1 := sess
	sessMu.Unlock()
	connect(t, be0)
	serverList()
	oldList, oldMulti := srvs.list, srvs.multi
	srvs.list = []*remoteServer{{idx: 0, addr: "test0", nvmlCount: -1}, {idx: 1, tag: 1 << tagShift, addr: "test1", s: s1, nvmlCount: -1}}
	srvs.multi = true
	t.Cleanup(func() {
		srvs.list, srvs.multi = oldList, oldMulti
		srvs.last.Store(nil)
		threads.mu.Lock()
		threads.m = nil
		threads.mu.Unlock()
		memory.mu.Lock()
		memory.dev = ranges.Set{}
		memory.mu.Unlock()
		primaryContexts.mu.Lock()
		primaryContexts.ctx = nil
		primaryContexts.mu.Unlock()
	})
}

// TestLaunchesRouted: with two servers whose handles and addresses are numerically the same, a
// context, module, function, stream and allocation made on each device live on that device's
// server; each launch reaches its own server's worker with that server's own values.
func TestLaunchesRouted(t *testing.T) {
	recs := []*recorder{{Sim: server.NewSim()}, {Sim: server.NewSim()}}
	connectTwo(t, recs[0], recs[1])
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	n := heapNew[int32]()
	if r := dispatchByName(api.LibCuda, "cuDeviceGetCount", ptrOf(n)); r != 0 || *n != 2 {
		t.Fatalf("cuDeviceGetCount = %d, %d devices, want 2", r, *n)
	}
	image, name := heapBytes(64), heapBytes(8)
	copy(image, "kernel image\x00")
	copy(name, "k\x00")
	var ptrs [2]uint64
	for d := 0; d < 2; d++ {
		ctx, mod, fn, st, p := heapNew[uint64](), heapNew[uint64](), heapNew[uint64](), heapNew[uint64](), heapNew[uint64]()
		for _, step := range []struct {
			name string
			args []uint64
		}{
			{"cuDevicePrimaryCtxRetain", []uint64{ptrOf(ctx), uint64(d)}},
			{"cuCtxSetCurrent", []uint64{0}}, // filled below
			{"cuModuleLoadData", []uint64{ptrOf(mod), ptrOf(&image[0])}},
			{"cuModuleGetFunction", []uint64{ptrOf(fn), 0, ptrOf(&name[0])}},
			{"cuStreamCreate", []uint64{ptrOf(st), 0}},
			{"cuMemAlloc_v2", []uint64{ptrOf(p), 4096}},
		} {
			switch step.name {
			case "cuCtxSetCurrent":
				step.args[0] = *ctx
			case "cuModuleGetFunction":
				step.args[1] = *mod
			}
			if r := dispatchByName(api.LibCuda, step.name, step.args...); r != 0 {
				t.Fatalf("device %d: %s = %d", d, step.name, r)
			}
		}
		for _, h := range []uint64{*ctx, *mod, *fn, *st} {
			if int(h>>tagShift) != d {
				t.Errorf("device %d: handle %#x is not tagged with its server", d, h)
			}
		}
		ptrs[d] = *p
		a0, a1, a2 := heapNew[uint64](), heapNew[uint32](), heapNew[[16]byte]()
		*a0, *a1 = *p, uint32(d)
		kp := heapBytes(24)
		binary.LittleEndian.PutUint64(kp[0:], ptrOf(a0))
		binary.LittleEndian.PutUint64(kp[8:], ptrOf(a1))
		binary.LittleEndian.PutUint64(kp[16:], ptrOf(a2))
		if r := dispatchByName(api.LibCuda, "cuLaunchKernel", *fn, 1, 1, 1, 32, 1, 1, 0, *st, ptrOf(&kp[0]), 0); r != 0 {
			t.Fatalf("device %d: cuLaunchKernel = %d", d, r)
		}
		if r := dispatchByName(api.LibCuda, "cuStreamSynchronize", *st); r != 0 {
			t.Fatalf("device %d: cuStreamSynchronize = %d", d, r)
		}
	}
	if ptrs[0] != ptrs[1] {
		t.Fatalf("the two simulated hosts gave different addresses (%#x, %#x): the test wants them equal", ptrs[0], ptrs[1])
	}
	for d, rec := range recs {
		rec.mu.Lock()
		if len(rec.launches) != 1 {
			t.Errorf("server %d received %d launches, want 1", d, len(rec.launches))
		} else if l := rec.launches[0]; l.Func != testFn || l.Stream&tagMask != 0 || l.Stream == 0 ||
			binary.LittleEndian.Uint64(l.Params) != ptrs[d] || binary.LittleEndian.Uint32(l.Params[8:]) != uint32(d) {
			t.Errorf("server %d: launch of %#x on stream %#x, params % x", d, l.Func, l.Stream, l.Params)
		}
		rec.mu.Unlock()
	}
}
