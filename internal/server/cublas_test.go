package server

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// The simulated device has no kernels: every cuBLAS call answers CUBLAS_STATUS_NOT_SUPPORTED, and
// the session checks cuBLAS calls as any other (handles, the scalars' length).
func TestSimCublas(t *testing.T) {
	c, done := pipeSession(t)
	helloInit(t, c)
	if r := call(t, c, 2, "cublasCreate_v2", nil); r.Result != 15 || len(r.Bufs) != 0 {
		t.Errorf("cublasCreate_v2 = %d with %d outputs, want CUBLAS_STATUS_NOT_SUPPORTED (15) and none", r.Result, len(r.Bufs))
	}
	if r := call(t, c, 3, "cublasGetProperty", []uint64{0}); r.Result != 15 {
		t.Errorf("cublasGetProperty = %d, want 15", r.Result)
	}
	if r := call(t, c, 4, "cublasLtGetProperty", []uint64{0}); r.Result != 15 {
		t.Errorf("cublasLtGetProperty = %d, want 15", r.Result)
	}
	// A handle the session never created: refused with cuBLAS's code for it (NOT_INITIALIZED),
	// reported, for an async GEMM, by the next synchronising call.
	_, f, _ := api.Lookup("cublasGemmEx")
	scalars := make([]uint64, 0, len(f.Params))
	for _, p := range f.Params {
		if p.Kind != api.InBuf {
			scalars = append(scalars, 0)
		}
	}
	scalars[0] = 0xbad0
	fid := mustID(t, "cublasGemmEx")
	alpha, beta := make([]byte, api.CublasScalarWire), make([]byte, api.CublasScalarWire)
	send(t, c, remoting.FrameCall, remoting.FlagAsync, 5, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: scalars, Bufs: [][]byte{alpha, beta}}))
	if r := call(t, c, 6, "cuCtxSynchronize", nil); r.DeferredFn != uint32(fid) || r.DeferredCode != 1 {
		t.Errorf("deferred = fn %d code %d, want cublasGemmEx's CUBLAS_STATUS_NOT_INITIALIZED", r.DeferredFn, r.DeferredCode)
	}
	// Scalars shorter than the row's 16 bytes are a lying frame: the session ends.
	send(t, c, remoting.FrameCall, remoting.FlagAsync, 7, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: scalars, Bufs: [][]byte{alpha[:2], beta[:2]}}))
	if h, _, err := c.ReadFrame(); err != nil || h.Type != remoting.FrameError {
		t.Fatalf("got %v %v, want an error frame", h.Type, err)
	}
	if err := <-done; err == nil {
		t.Fatal("session survived a lying frame")
	}
}

// The real backend finds libcublas by $VGPU_REAL_LIBCUBLAS, else in the search folders in order,
// else by SONAME; libcublasLt preferably next to it.
func TestFindCublasFile(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	touch := func(dir, name string) {
		if err := os.WriteFile(filepath.Join(dir, name), nil, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if got := findCublasFile("", "libcublas.so.13", "", []string{a, b}); got != "libcublas.so.13" {
		t.Errorf("nothing anywhere: %q, want the plain SONAME", got)
	}
	touch(b, "libcublas.so.13")
	touch(b, "libcublasLt.so.13")
	if got := findCublasFile("", "libcublas.so.13", "", []string{a, b}); got != filepath.Join(b, "libcublas.so.13") {
		t.Errorf("in the second folder: %q", got)
	}
	touch(a, "libcublasLt.so.13")
	if got := findCublasFile("", "libcublasLt.so.13", b, []string{a, b}); got != filepath.Join(b, "libcublasLt.so.13") {
		t.Errorf("libcublasLt next to libcublas: %q", got)
	}
	if got := findCublasFile("", "libcublasLt.so.13", "", []string{a, b}); got != filepath.Join(a, "libcublasLt.so.13") {
		t.Errorf("first folder first: %q", got)
	}
	t.Setenv("VGPU_REAL_LIBCUBLAS", "/opt/x/libcublas.so.13")
	if got := findCublasFile(settings.RealLibCublas.Get(), "libcublas.so.13", b, []string{a, b}); got != "/opt/x/libcublas.so.13" {
		t.Errorf("the environment first: %q", got)
	}
	dirs := cublasSearchDirs()
	if len(dirs) < 2 || dirs[0] != "/usr/local/cuda/lib64" || dirs[1] != "/usr/local/cuda/targets/x86_64-linux/lib" {
		t.Errorf("search folders %v: the toolkit's first", dirs)
	}
}

// ltProbe answers the cuBLAS and cuBLASLt rows itself (the simulated device has neither): a
// cuBLAS handle 0xb1a5, each cuBLASLt create a handle of its own (0x1000, 0x1100, ...), except a
// layout of 999 rows, whose create fails with CUBLAS_STATUS_ALLOC_FAILED; the heuristic finds one
// algorithm. It records every such call, and fails the test when a minted handle reaches it as
// a handle argument: the library knows only its own.
type ltProbe struct {
	*Sim
	t     *testing.T
	next  uint64
	calls []ltCall
}

type ltCall struct {
	id   api.ID
	vals []uint64
}

func (p *ltProbe) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	if f.Lib() != api.LibCublas13 && f.Lib() != api.LibCublasLt13 {
		return p.Sim.Invoke(id, f, a)
	}
	p.calls = append(p.calls, ltCall{id, append([]uint64(nil), a.Vals...)})
	for i := range f.Params {
		if f.Params[i].Kind == api.Handle && api.IsMinted(a.Vals[i]) {
			p.t.Errorf("%s: the minted handle %#x reached the library as %s", f.Name, a.Vals[i], f.Params[i].Name)
		}
	}
	switch id {
	case api.IDcublasCreate_v2:
		binary.LittleEndian.PutUint64(a.Out[0], 0xb1a5)
		return 0
	case api.IDcublasLtMatrixLayoutCreate:
		if (cublasLtMatrixLayoutCreateArgs{a}).rows() == 999 {
			return 3
		}
	case api.IDcublasLtMatmulAlgoGetHeuristic:
		binary.LittleEndian.PutUint32(cublasLtMatmulAlgoGetHeuristicArgs{a}.returnAlgoCount(), 1)
	}
	for i := range f.Params {
		if f.Params[i].Minted {
			binary.LittleEndian.PutUint64(a.Out[i], 0x1000+p.next*0x100)
			p.next++
		}
	}
	return 0
}

// real is the handle the library returned to the k-th create (the probe's numbering).
func (p *ltProbe) real(k int) uint64 { return 0x1000 + uint64(k)*0x100 }

// lastOf is the arguments of the last call of row id the probe saw.
func (p *ltProbe) lastOf(t *testing.T, id api.ID) []uint64 {
	t.Helper()
	for i := len(p.calls) - 1; i >= 0; i-- {
		if p.calls[i].id == id {
			return p.calls[i].vals
		}
	}
	t.Fatalf("the library never saw %s", api.Table[id].Name)
	return nil
}

// cuBLASLt's creators take the handle the client minted (api.P.Minted) and send it without
// waiting; the worker runs the real create and gives the library its own handle wherever the
// minted one is named: setters, the heuristic, the matmul, the destroyer. A minted handle is
// refused when it is not of the minted range, still lives, is named as another type, or was
// destroyed; a create that fails is reported (its own code, its row) with the next reply, logged
// once, and its handle is refused after.
func TestLtMintedHandles(t *testing.T) {
	probe := &ltProbe{Sim: NewSim(), t: t}
	var logMu sync.Mutex
	var logged []string
	c, _, _ := pipeSessionSetup(t, probe, func(s *Session) {
		s.logSink = func(l string) { logMu.Lock(); logged = append(logged, l); logMu.Unlock() }
	})
	helloInit(t, c)
	if r := call(t, c, 2, "cublasCreate_v2", nil); r.Result != 0 {
		t.Fatalf("cublasCreate_v2 = %d", r.Result)
	}
	req := uint64(10)
	async := func(id api.ID, scalars []uint64, bufs ...[]byte) {
		t.Helper()
		req++
		send(t, c, remoting.FrameCall, remoting.FlagAsync, req, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(id), Scalars: scalars, Bufs: bufs}))
	}
	ask := func(name string, scalars []uint64, bufs ...[]byte) remoting.Reply {
		t.Helper()
		req++
		return call(t, c, req, name, scalars, bufs...)
	}
	m := api.MintedHandle
	// a descriptor, four layouts and a preference: the library's handles 0x1000 to 0x1500
	async(api.IDcublasLtMatmulDescCreate, []uint64{m(1), 68, 0})
	for k := uint64(2); k <= 5; k++ {
		async(api.IDcublasLtMatrixLayoutCreate, []uint64{m(k), 0, 4, 4, 4})
	}
	async(api.IDcublasLtMatmulPreferenceCreate, []uint64{m(6)})
	async(api.IDcublasLtMatmulDescSetAttribute, []uint64{m(1), 1, 4}, make([]byte, 4))
	async(api.IDcublasLtMatrixLayoutSetAttribute, []uint64{m(3), 1, 4}, make([]byte, 4))
	async(api.IDcublasLtMatmulPreferenceSetAttribute, []uint64{m(6), 1, 8}, make([]byte, 8))
	r := ask("cublasLtMatmulAlgoGetHeuristic", []uint64{0xb1a5, m(1), m(2), m(3), m(4), m(5), m(6), 1})
	if r.Result != 0 || r.DeferredCode != 0 || len(r.Bufs) != 2 || binary.LittleEndian.Uint32(r.Bufs[1]) != 1 {
		t.Fatalf("cublasLtMatmulAlgoGetHeuristic = %d (deferred %d), %d outputs", r.Result, r.DeferredCode, len(r.Bufs))
	}
	// vgpuLtMatmul: handle, desc, alpha, A, Adesc, B, Bdesc, beta, C, Cdesc, D, Ddesc, algo,
	// workspace, its size, stream, algo bytes
	async(api.IDvgpuLtMatmul, []uint64{0xb1a5, m(1), 0xa000, m(2), 0xb000, m(3), 0xc000, m(4), 0xd000, m(5), 0, 0, 0, 0},
		make([]byte, api.CublasScalarWire), make([]byte, api.CublasScalarWire), nil)
	// a create answered (as the client never asks): no output, the library's handle stays here
	if r := ask("cublasLtMatrixLayoutCreate", []uint64{m(7), 0, 8, 8, 8}); r.Result != 0 || len(r.Bufs) != 0 || r.DeferredCode != 0 {
		t.Errorf("a synchronous create = %d with %d outputs (deferred %d), want 0 and none", r.Result, len(r.Bufs), r.DeferredCode)
	}
	want := map[string][]uint64{
		"cublasLtMatmulDescSetAttribute":       {probe.real(0), 1, 0, 4},
		"cublasLtMatrixLayoutSetAttribute":     {probe.real(2), 1, 0, 4},
		"cublasLtMatmulPreferenceSetAttribute": {probe.real(5), 1, 0, 8},
		"cublasLtMatmulAlgoGetHeuristic":       {0xb1a5, probe.real(0), probe.real(1), probe.real(2), probe.real(3), probe.real(4), probe.real(5), 1, 0, 0},
		"vgpuLtMatmul":                         {0xb1a5, probe.real(0), 0, 0xa000, probe.real(1), 0xb000, probe.real(2), 0, 0xc000, probe.real(3), 0xd000, probe.real(4), 0, 0, 0, 0, 0},
	}
	for name, w := range want {
		got := probe.lastOf(t, mustID(t, name))
		if len(got) != len(w) {
			t.Errorf("%s reached the library with %d arguments, want %d", name, len(got), len(w))
			continue
		}
		for i := range w {
			if got[i] != w[i] {
				t.Errorf("%s reached the library with %#x, want %#x", name, got, w)
				break
			}
		}
	}

	// refused: not of the minted range, a live one again, none at all, a preference named as a layout
	for _, v := range []uint64{0x1234, m(2), api.MintBit} {
		if r := ask("cublasLtMatrixLayoutCreate", []uint64{v, 0, 4, 4, 4}); r.Result != 7 || r.Note == "" {
			t.Errorf("a create minting %#x = %d (%q), want CUBLAS_STATUS_INVALID_VALUE (7) and why", v, r.Result, r.Note)
		}
	}
	if r := ask("cublasLtMatmulAlgoGetHeuristic", []uint64{0xb1a5, m(1), m(6), m(3), m(4), m(5), m(6), 1}); r.Result != 1 {
		t.Errorf("a preference given as a layout: %d, want the refusal of an unknown handle (1)", r.Result)
	}

	// destroyed: the library frees its handle; the minted one is refused from then on
	async(api.IDcublasLtMatmulDescDestroy, []uint64{m(1)})
	async(api.IDcublasLtMatmulDescSetAttribute, []uint64{m(1), 1, 4}, make([]byte, 4))
	if r := ask("cuCtxSynchronize", nil); r.DeferredFn != uint32(api.IDcublasLtMatmulDescSetAttribute) || r.DeferredCode != 1 {
		t.Errorf("a setter of a destroyed descriptor: deferred fn %d code %d, want cublasLtMatmulDescSetAttribute's refusal (1)", r.DeferredFn, r.DeferredCode)
	}
	if got := probe.lastOf(t, api.IDcublasLtMatmulDescDestroy); got[0] != probe.real(0) {
		t.Errorf("cublasLtMatmulDescDestroy reached the library with %#x, want %#x", got[0], probe.real(0))
	}

	// a create the library fails: its code and row come with the next reply (the client keeps
	// them for its next synchronising call), and calls naming its handle are refused
	async(api.IDcublasLtMatrixLayoutCreate, []uint64{m(8), 0, 999, 4, 4})
	async(api.IDcublasLtMatmulDescCreate, []uint64{m(9), 68, 0})
	r = ask("cublasLtMatmulAlgoGetHeuristic", []uint64{0xb1a5, m(9), m(8), m(3), m(4), m(5), m(6), 1})
	if r.DeferredFn != uint32(api.IDcublasLtMatrixLayoutCreate) || r.DeferredCode != 3 {
		t.Errorf("after a failed create: deferred fn %d code %d, want cublasLtMatrixLayoutCreate's 3", r.DeferredFn, r.DeferredCode)
	}
	if r.Result != 1 || !strings.Contains(r.Note, "Adesc") {
		t.Errorf("the heuristic naming the failed layout = %d (%q), want its refusal (1)", r.Result, r.Note)
	}
	logMu.Lock()
	defer logMu.Unlock()
	n := 0
	for _, l := range logged {
		if strings.Contains(l, "cublasLtMatrixLayoutCreate returned 3") {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d log lines name the failed create, want 1:\n%s", n, strings.Join(logged, "\n"))
	}
}
