package client

import (
	"encoding/binary"
	"math"
	"strings"
	"sync"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/server"
)

// blasRecorder is a worker backend that records the cuBLAS calls it is given (the simulated
// device for everything else): which row, its scalar arguments and its input buffers.
type blasRecorder struct {
	recorder
	bmu   sync.Mutex
	calls []blasCall
}

type blasCall struct {
	name string
	vals []uint64
	in   [][]byte
}

func (b *blasRecorder) Invoke(id api.ID, f *api.Func, a *server.Args) int32 {
	if f.Lib() != api.LibCublas13 {
		return b.recorder.Invoke(id, f, a)
	}
	b.bmu.Lock()
	c := blasCall{name: f.Name, vals: append([]uint64(nil), a.Vals...)}
	for _, in := range a.In {
		c.in = append(c.in, append([]byte(nil), in...))
	}
	b.calls = append(b.calls, c)
	b.bmu.Unlock()
	if f.Name == "cublasCreate_v2" {
		binary.LittleEndian.PutUint64(a.Out[0], 0xb1a5)
	}
	return 0
}

// newBlasHandle creates a cuBLAS handle through the session (a blasRecorder answers 0xb1a5).
func newBlasHandle(t *testing.T) *uint64 {
	t.Helper()
	h := heapNew[uint64]()
	if r := dispatchByName(api.LibCublas13, "cublasCreate_v2", ptrOf(h)); r != 0 || *h != 0xb1a5 {
		t.Fatalf("cublasCreate_v2 = %d, handle %#x", r, *h)
	}
	return h
}

// In host pointer mode a GEMM's alpha travels by value; after cublasSetPointerMode_v2(DEVICE)
// the worker's handle is switched and the same call goes as its twin with alpha's device
// address, without waiting; a dot product's result then stays on the GPU too. Back in host
// mode, calls go as before.
func TestCublasPointerModeTwins(t *testing.T) {
	rec := &blasRecorder{recorder: recorder{Sim: server.NewSim()}}
	connect(t, rec)
	lib := api.LibCublas13
	h := newBlasHandle(t)
	alpha, beta := heapNew[float32](), heapNew[float32]()
	*alpha, *beta = 2.5, 0
	gemm := func(a, b uint64) int64 {
		return dispatchByName(lib, "cublasSgemm_v2", *h, 0, 0, 4, 4, 4, a, 0x1000, 4, 0x2000, 4, b, 0x3000, 4)
	}
	if r := gemm(ptrOf(alpha), ptrOf(beta)); r != 0 {
		t.Fatalf("host-mode Sgemm = %d", r)
	}
	if r := dispatchByName(lib, "cublasSetPointerMode_v2", *h, 1); r != 0 {
		t.Fatalf("cublasSetPointerMode_v2(DEVICE) = %d", r)
	}
	mode := heapNew[int32]()
	if r := dispatchByName(lib, "cublasGetPointerMode_v2", *h, ptrOf(mode)); r != 0 || *mode != 1 {
		t.Fatalf("cublasGetPointerMode_v2 = %d, mode %d", r, *mode)
	}
	if r := gemm(0xd000, 0xd008); r != 0 {
		t.Fatalf("device-mode Sgemm = %d", r)
	}
	if r := dispatchByName(lib, "cublasSdot_v2", *h, 16, 0x1000, 1, 0x2000, 1, 0xd010); r != 0 {
		t.Fatalf("device-mode Sdot = %d", r)
	}
	if r := dispatchByName(lib, "cublasSetPointerMode_v2", *h, 0); r != 0 {
		t.Fatalf("cublasSetPointerMode_v2(HOST) = %d", r)
	}
	result := heapNew[float32]()
	if r := dispatchByName(lib, "cublasSdot_v2", *h, 16, 0x1000, 1, 0x2000, 1, ptrOf(result)); r != 0 {
		t.Fatalf("host-mode Sdot = %d", r)
	}
	rec.bmu.Lock()
	defer rec.bmu.Unlock()
	var names []string
	for _, c := range rec.calls {
		names = append(names, c.name)
	}
	want := []string{"cublasCreate_v2", "cublasSgemm_v2", "vgpuCublasSetPointerMode", api.CublasDevicePrefix + "cublasSgemm_v2",
		api.CublasDevicePrefix + "cublasSdot_v2", "vgpuCublasSetPointerMode", "cublasSdot_v2"}
	if len(names) != len(want) {
		t.Fatalf("the worker saw %v, want %v", names, want)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("the worker saw %v, want %v", names, want)
		}
	}
	if in := rec.calls[1].in[6]; math.Float32frombits(binary.LittleEndian.Uint32(in)) != 2.5 {
		t.Errorf("host-mode alpha arrived as % x", in)
	}
	if v := rec.calls[3].vals; v[6] != 0xd000 || v[11] != 0xd008 {
		t.Errorf("device-mode alpha, beta arrived as %#x, %#x", v[6], v[11])
	}
	if rec.calls[2].vals[1] != 1 || rec.calls[5].vals[1] != 0 {
		t.Errorf("the worker's handle was set to modes %d, %d", rec.calls[2].vals[1], rec.calls[5].vals[1])
	}
	if v := rec.calls[4].vals; v[6] != 0xd010 {
		t.Errorf("device-mode result arrived as %#x", v[6])
	}
}

// dyingBlas is a worker whose host library crashes in cublasSgemm_v2: the worker's end of the
// socket shuts down there, as when the worker process dies.
type dyingBlas struct {
	blasRecorder
	die *remoting.FDConn
}

func (b *dyingBlas) Invoke(id api.ID, f *api.Func, a *server.Args) int32 {
	if f.Name == "cublasSgemm_v2" {
		b.die.Shutdown()
		return 0
	}
	return b.blasRecorder.Invoke(id, f, a)
}

// When the connection drops, the client's log line names the calls the worker had not answered
// (sent without waiting, then the one that waited): the worker crashed in one of them.
func TestLostConnectionNamesTheUnansweredCalls(t *testing.T) {
	be := &dyingBlas{blasRecorder: blasRecorder{recorder: recorder{Sim: server.NewSim()}}}
	be.die = connectServer(t, be)
	lib := api.LibCublas13
	h := newBlasHandle(t)
	if note := sess.unansweredNote(); note != "" {
		t.Fatalf("after a reply: %q", note)
	}
	alpha := heapNew[float32]()
	if r := dispatchByName(lib, "cublasSgemm_v2", *h, 0, 0, 4, 4, 4, ptrOf(alpha), 0x1000, 4, 0x2000, 4, ptrOf(alpha), 0x3000, 4); r != 0 {
		t.Fatalf("Sgemm (sent without waiting) = %d", r)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r == 0 {
		t.Fatal("cuCtxSynchronize succeeded over a closed connection")
	}
	sess.mu.Lock()
	broken, note := sess.broken, sess.unansweredNote()
	sess.mu.Unlock()
	if broken == nil {
		t.Fatal("the session is not marked broken")
	}
	want := "2 calls were unanswered, cublasSgemm_v2 first and cuCtxSynchronize last"
	if !strings.Contains(note, want) {
		t.Fatalf("note %q does not say %q", note, want)
	}
}
