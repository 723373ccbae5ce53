package client

import (
	"encoding/binary"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/server"
)

// ltRecorder is a worker backend with cuBLAS and cuBLASLt (the simulated device has neither):
// it records each cuBLASLt call as blasRecorder records cuBLAS ones, answers each create with a
// handle of its own (0x1000, 0x1100, ...), fails the create of a layout of 999 rows with
// CUBLAS_STATUS_ALLOC_FAILED and a setter of attribute 99 with CUBLAS_STATUS_INVALID_VALUE,
// and has the heuristic find one algorithm, whose first word counts the heuristics it answered.
type ltRecorder struct {
	blasRecorder
	made, heuristics uint64
}

// ltAllocFailed is CUBLAS_STATUS_ALLOC_FAILED.
const ltAllocFailed = 3

func (b *ltRecorder) Invoke(id api.ID, f *api.Func, a *server.Args) int32 {
	if f.Lib() != api.LibCublasLt13 {
		return b.blasRecorder.Invoke(id, f, a)
	}
	b.bmu.Lock()
	defer b.bmu.Unlock()
	b.calls = append(b.calls, blasCall{name: f.Name, vals: append([]uint64(nil), a.Vals...)})
	switch id {
	case api.IDcublasLtMatrixLayoutCreate:
		if a.Vals[2] == 999 { // rows
			return ltAllocFailed
		}
	case api.IDcublasLtMatmulAlgoGetHeuristic:
		b.heuristics++
		binary.LittleEndian.PutUint64(a.Out[8], b.heuristics) // heuristicResultsArray
		binary.LittleEndian.PutUint32(a.Out[9], 1)            // returnAlgoCount
	case api.IDcublasLtMatmulDescSetAttribute, api.IDcublasLtMatrixLayoutSetAttribute, api.IDcublasLtMatmulPreferenceSetAttribute:
		if a.Vals[1] == 99 { // attr
			return cublasInvalidValue
		}
	}
	for i := range f.Params {
		if f.Params[i].Minted {
			binary.LittleEndian.PutUint64(a.Out[i], 0x1000+b.made*0x100)
			b.made++
		}
	}
	return 0
}

// lastCall is the arguments of the last call of the named row the backend saw.
func (b *ltRecorder) lastCall(t *testing.T, name string) []uint64 {
	t.Helper()
	b.bmu.Lock()
	defer b.bmu.Unlock()
	for i := len(b.calls) - 1; i >= 0; i-- {
		if b.calls[i].name == name {
			return b.calls[i].vals
		}
	}
	t.Fatalf("the worker's library never saw %s", name)
	return nil
}

// ltGemm is what PyTorch creates around one cuBLASLt matmul: a descriptor, four layouts (A, B,
// C, D) and a preference, each handle in the caller's memory.
type ltGemm struct{ desc, a, b, c, d, pref *uint64 }

// newLtGemm creates the objects of one matmul and sets an attribute of each kind, as
// at::cuda::blas::gemm_and_bias does, and returns them and the results of the calls.
func newLtGemm(t *testing.T, rows uint64) (ltGemm, []int64) {
	t.Helper()
	lib := api.LibCublasLt13
	g := ltGemm{heapNew[uint64](), heapNew[uint64](), heapNew[uint64](), heapNew[uint64](), heapNew[uint64](), heapNew[uint64]()}
	scale, trans, ws := heapNew[int32](), heapNew[int32](), heapNew[uint64]()
	*trans, *ws = 1, 1<<20
	var rs []int64
	rs = append(rs, dispatchByName(lib, "cublasLtMatmulDescCreate", ptrOf(g.desc), 68, 0)) // CUBLAS_COMPUTE_32F, CUDA_R_32F
	for _, l := range []*uint64{g.a, g.b, g.c, g.d} {
		rs = append(rs, dispatchByName(lib, "cublasLtMatrixLayoutCreate", ptrOf(l), 0, rows, 4, rows))
	}
	rs = append(rs, dispatchByName(lib, "cublasLtMatmulPreferenceCreate", ptrOf(g.pref)),
		dispatchByName(lib, "cublasLtMatmulDescSetAttribute", *g.desc, 1, ptrOf(scale), 4),    // CUBLASLT_MATMUL_DESC_SCALE_TYPE
		dispatchByName(lib, "cublasLtMatmulDescSetAttribute", *g.desc, 3, ptrOf(trans), 4),    // CUBLASLT_MATMUL_DESC_TRANSA
		dispatchByName(lib, "cublasLtMatrixLayoutSetAttribute", *g.a, 5, ptrOf(trans), 4),     // CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT
		dispatchByName(lib, "cublasLtMatmulPreferenceSetAttribute", *g.pref, 1, ptrOf(ws), 8)) // CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES
	return g, rs
}

func (g ltGemm) handles() []uint64 { return []uint64{*g.desc, *g.a, *g.b, *g.c, *g.d, *g.pref} }

// heuristic asks for one algorithm for g's matmul on cuBLAS handle h.
func (g ltGemm) heuristic(h uint64) int64 {
	r, _ := g.heuristicN(h, 1)
	return r
}

// heuristicN asks for n algorithms, and returns the answer's bytes: the results, then the count.
func (g ltGemm) heuristicN(h uint64, n int) (int64, []byte) {
	results, count := heapBytes(96*n), heapNew[int32]()
	r := dispatchByName(api.LibCublasLt13, "cublasLtMatmulAlgoGetHeuristic", h, *g.desc, *g.a, *g.b, *g.c, *g.d, *g.pref, uint64(n), ptrOf(&results[0]), ptrOf(count))
	return r, binary.LittleEndian.AppendUint32(results, uint32(*count))
}

// destroy destroys g's objects.
func (g ltGemm) destroy(t *testing.T) {
	t.Helper()
	for _, d := range []struct {
		id api.ID
		h  uint64
	}{{api.IDcublasLtMatmulDescDestroy, *g.desc}, {api.IDcublasLtMatrixLayoutDestroy, *g.a}, {api.IDcublasLtMatrixLayoutDestroy, *g.b},
		{api.IDcublasLtMatrixLayoutDestroy, *g.c}, {api.IDcublasLtMatrixLayoutDestroy, *g.d}, {api.IDcublasLtMatmulPreferenceDestroy, *g.pref}} {
		if r := dispatchRow(api.LibCublasLt13, d.id, d.h); r != 0 {
			t.Fatalf("%s = %d", api.Table[d.id].Name, r)
		}
	}
}

// Creating a cuBLASLt matmul's descriptor, layouts and preference costs no round trip (the client
// mints their handles, api.P.Minted), nor do the setters; the heuristic is the matmul's one.
// The worker's library gets its own handles for the minted ones in the setters, the heuristic,
// the matmul and the destroyers; a destroyed handle is refused.
func TestCublasLtCreatesCostNoRoundTrip(t *testing.T) {
	rec := &ltRecorder{blasRecorder: blasRecorder{recorder: recorder{Sim: server.NewSim()}}}
	connect(t, rec)
	lib := api.LibCublasLt13
	h := newBlasHandle(t)
	before := SessionStats()
	g, rs := newLtGemm(t, 4)
	for i, r := range rs {
		if r != 0 {
			t.Fatalf("call %d of the matmul's set-up = %d", i, r)
		}
	}
	mid := SessionStats()
	if rt := mid.RoundTrips - before.RoundTrips; rt != 0 {
		t.Errorf("creating and setting a matmul's 6 objects took %d round trips, want 0", rt)
	}
	if n := mid.AsyncCalls - before.AsyncCalls; n != uint64(len(rs)) {
		t.Errorf("%d calls went without waiting, want %d", n, len(rs))
	}
	seen := map[uint64]bool{}
	for _, v := range g.handles() {
		if !api.IsMinted(v) || seen[v] {
			t.Errorf("handle %#x: not a fresh minted one", v)
		}
		seen[v] = true
	}
	if r := g.heuristic(*h); r != 0 {
		t.Fatalf("cublasLtMatmulAlgoGetHeuristic = %d", r)
	}
	alpha, beta, algo := heapNew[float32](), heapNew[float32](), heapBytes(64)
	*alpha = 1
	if r := dispatchByName(lib, "cublasLtMatmul", *h, *g.desc, ptrOf(alpha), 0xa000, *g.a, 0xb000, *g.b, ptrOf(beta), 0xc000, *g.c, 0xd000, *g.d,
		ptrOf(&algo[0]), 0xe000, 1<<20, 0); r != 0 {
		t.Fatalf("cublasLtMatmul = %d", r)
	}
	for _, d := range []struct {
		name string
		h    uint64
	}{{"cublasLtMatmulDescDestroy", *g.desc}, {"cublasLtMatrixLayoutDestroy", *g.a}, {"cublasLtMatrixLayoutDestroy", *g.b},
		{"cublasLtMatrixLayoutDestroy", *g.c}, {"cublasLtMatrixLayoutDestroy", *g.d}, {"cublasLtMatmulPreferenceDestroy", *g.pref}} {
		if r := dispatchByName(lib, d.name, d.h); r != 0 {
			t.Fatalf("%s = %d", d.name, r)
		}
	}
	after := SessionStats()
	if rt := after.RoundTrips - mid.RoundTrips; rt != 1 {
		t.Errorf("heuristic, matmul and destroyers took %d round trips, want 1", rt)
	}
	// the descriptor, destroyed, is refused (and the worker has run everything before)
	if r := g.heuristic(*h); r != cublasNotInitialized {
		t.Errorf("the heuristic on destroyed objects = %d, want the refusal of an unknown handle (%d)", r, cublasNotInitialized)
	}
	ltDescs.mu.Lock()
	_, kept := ltDescs.scale[*g.desc]
	ltDescs.mu.Unlock()
	if kept {
		t.Error("the client still holds the destroyed descriptor's scale type")
	}
	real := func(k uint64) uint64 { return 0x1000 + k*0x100 } // the k-th create's library handle
	for name, want := range map[string][]uint64{
		"cublasLtMatmulDescSetAttribute":       {real(0), 3},
		"cublasLtMatrixLayoutSetAttribute":     {real(1), 5},
		"cublasLtMatmulPreferenceSetAttribute": {real(5), 1},
		"cublasLtMatmulAlgoGetHeuristic":       {0xb1a5, real(0), real(1), real(2), real(3), real(4), real(5), 1},
		"vgpuLtMatmul":                         {0xb1a5, real(0), 0, 0xa000, real(1), 0xb000, real(2), 0, 0xc000, real(3), 0xd000, real(4)},
		"cublasLtMatmulDescDestroy":            {real(0)},
		"cublasLtMatrixLayoutDestroy":          {real(4)},
		"cublasLtMatmulPreferenceDestroy":      {real(5)},
	} {
		got := rec.lastCall(t, name)
		for i, w := range want {
			if got[i] != w {
				t.Errorf("%s reached the library with %#x, want %#x first", name, got, want)
				break
			}
		}
	}
}

// A create that fails in the worker returns 0 to the program (it sent no reply), and its own
// code comes back from the next cuBLAS call that waits, in cuBLAS's codes; the handle it minted
// is refused after. A failure no cuBLAS call has reported by the next synchronising CUDA call
// comes back from that call as CUDA_ERROR_UNKNOWN: never lost, never a cuBLAS status read as a
// CUresult.
func TestCublasLtFailedCreateReported(t *testing.T) {
	rec := &ltRecorder{blasRecorder: blasRecorder{recorder: recorder{Sim: server.NewSim()}}}
	connect(t, rec)
	primaryContext(t)
	h := newBlasHandle(t)
	before := SessionStats()
	g, rs := newLtGemm(t, 999) // the layouts' creates fail in the worker
	for i, r := range rs {
		if r != 0 {
			t.Fatalf("call %d of the matmul's set-up = %d (the failure belongs to a later call)", i, r)
		}
	}
	if rt := SessionStats().RoundTrips - before.RoundTrips; rt != 0 {
		t.Errorf("the failing creates took %d round trips", rt)
	}
	if r := g.heuristic(*h); r != ltAllocFailed {
		t.Errorf("the heuristic after failed creates = %d, want their CUBLAS_STATUS_ALLOC_FAILED (%d)", r, ltAllocFailed)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Errorf("cuCtxSynchronize after the failure was reported = %d, want 0", r)
	}
	if r := g.heuristic(*h); r != cublasNotInitialized {
		t.Errorf("the heuristic with a layout whose create failed = %d, want the refusal of an unknown handle (%d); the failure was reported once", r, cublasNotInitialized)
	}
	newLtGemm(t, 999) // fails again; no cuBLAS call waits before the synchronisation
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != int64(api.LibCuda.Info().Foreign) {
		t.Errorf("cuCtxSynchronize after failed creates no cuBLAS call reported = %d, want CUDA_ERROR_UNKNOWN (%d)", r, api.LibCuda.Info().Foreign)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Errorf("the failure was reported twice: %d", r)
	}
}

// On a second server a minted handle carries that server's tag, as a handle it returned would
// (servers.go), so the calls naming it go there; the worker sees it without the tag.
func TestCublasLtMintedOnSecondServer(t *testing.T) {
	recs := []*ltRecorder{{blasRecorder: blasRecorder{recorder: recorder{Sim: server.NewSim()}}}, {blasRecorder: blasRecorder{recorder: recorder{Sim: server.NewSim()}}}}
	connectTwo(t, recs[0], recs[1])
	ctx := heapNew[uint64]()
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	if r := dispatchByName(api.LibCuda, "cuDevicePrimaryCtxRetain", ptrOf(ctx), 1); r != 0 {
		t.Fatalf("cuDevicePrimaryCtxRetain(1) = %d", r)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSetCurrent", *ctx); r != 0 {
		t.Fatalf("cuCtxSetCurrent = %d", r)
	}
	lib := api.LibCublasLt13
	desc, scale := heapNew[uint64](), heapNew[int32]()
	if r := dispatchByName(lib, "cublasLtMatmulDescCreate", ptrOf(desc), 68, 0); r != 0 {
		t.Fatalf("cublasLtMatmulDescCreate = %d", r)
	}
	if *desc>>tagShift&0x7f != 1 || !api.IsMinted(*desc&^tagMask) {
		t.Fatalf("the descriptor made on the second server is %#x, want a minted handle with its tag", *desc)
	}
	if r := dispatchByName(lib, "cublasLtMatmulDescSetAttribute", *desc, 1, ptrOf(scale), 4); r != 0 {
		t.Fatalf("cublasLtMatmulDescSetAttribute = %d", r)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Fatalf("cuCtxSynchronize = %d", r)
	}
	if got := recs[1].lastCall(t, "cublasLtMatmulDescCreate"); got[0] != *desc&^tagMask {
		t.Errorf("the second worker was asked to create %#x, want %#x", got[0], *desc&^tagMask)
	}
	if got := recs[1].lastCall(t, "cublasLtMatmulDescSetAttribute"); got[0] != 0x1000 {
		t.Errorf("the second worker's library was given %#x, want its own 0x1000", got[0])
	}
	recs[0].bmu.Lock()
	defer recs[0].bmu.Unlock()
	if len(recs[0].calls) != 0 {
		t.Errorf("the first server saw %d cuBLAS calls, want none", len(recs[0].calls))
	}
}

// A heuristic asked again about objects of the same content (made anew, as PyTorch makes them for
// every GEMM: other handles, the same creates and settings) is answered by the client, with the
// worker's first answer; objects that differ in a create's argument, a setting or its order, a
// count, or a cuBLAS handle, go to the worker. A destroyed cuBLAS handle empties the cache, and
// a heuristic after a failed setter reports the failure and keeps nothing.
func TestCublasLtHeuristicCached(t *testing.T) {
	rec := &ltRecorder{blasRecorder: blasRecorder{recorder: recorder{Sim: server.NewSim()}}}
	connect(t, rec)
	lib := api.LibCublasLt13
	h := newBlasHandle(t)
	ask := func(what string, g ltGemm, n int, trips uint64) []byte {
		t.Helper()
		before := SessionStats().RoundTrips
		r, ans := g.heuristicN(*h, n)
		if r != 0 {
			t.Fatalf("%s: cublasLtMatmulAlgoGetHeuristic = %d", what, r)
		}
		if rt := SessionStats().RoundTrips - before; rt != trips {
			t.Errorf("%s: %d round trips, want %d", what, rt, trips)
		}
		return ans
	}
	g1, _ := newLtGemm(t, 4)
	first := ask("first", g1, 1, 1)
	g2, _ := newLtGemm(t, 4)
	if again := ask("the same content", g2, 1, 0); string(again) != string(first) {
		t.Errorf("answered % x from the cache, the worker answered % x", again, first)
	}
	ask("another count", g2, 2, 1)
	g3, _ := newLtGemm(t, 8)
	ask("other layouts", g3, 1, 1)
	ask("other layouts again", g3, 1, 0)
	trans := heapNew[int32]()
	if r := dispatchByName(lib, "cublasLtMatmulDescSetAttribute", *g3.desc, 4, ptrOf(trans), 4); r != 0 { // CUBLASLT_MATMUL_DESC_TRANSB
		t.Fatalf("cublasLtMatmulDescSetAttribute = %d", r)
	}
	ask("a descriptor set once more", g3, 1, 1)
	for _, g := range []ltGemm{g1, g2, g3} {
		g.destroy(t)
	}
	g4, _ := newLtGemm(t, 4)
	if r := dispatchByName(api.LibCublas13, "cublasDestroy_v2", *h); r != 0 {
		t.Fatalf("cublasDestroy_v2 = %d", r)
	}
	h = newBlasHandle(t) // the recorder gives every cuBLAS handle the same value, as a library may
	ask("a cuBLAS handle made after one was destroyed", g4, 1, 1)
	ask("and again", g4, 1, 0)
	g4.destroy(t)
	// a setter the worker fails (attribute 99): the heuristic after it reports the setter's
	// failure, and the objects are not what their content says, so the worker's answer is not
	// kept (each of the two goes to the worker)
	for range 2 {
		g, _ := newLtGemm(t, 4)
		if r := dispatchByName(lib, "cublasLtMatrixLayoutSetAttribute", *g.b, 99, ptrOf(trans), 4); r != 0 {
			t.Fatalf("cublasLtMatrixLayoutSetAttribute (failing in the worker) = %d", r)
		}
		before := SessionStats().RoundTrips
		if r, _ := g.heuristicN(*h, 1); r != cublasInvalidValue {
			t.Errorf("the heuristic after a failed setter = %d, want the setter's CUBLAS_STATUS_INVALID_VALUE (%d)", r, cublasInvalidValue)
		}
		if rt := SessionStats().RoundTrips - before; rt != 1 {
			t.Errorf("the heuristic after a failed setter: %d round trips, want 1", rt)
		}
		g.destroy(t)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Errorf("cuCtxSynchronize = %d, want 0: the setters' failures were reported, and in cuBLAS's codes", r)
	}
	rec.bmu.Lock()
	defer rec.bmu.Unlock()
	if rec.heuristics != 7 {
		t.Errorf("the worker answered %d heuristics, want 7", rec.heuristics)
	}
}
