package client

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/server"
)

// recorder is a server backend that "runs" kernels by recording them: the simulated device for
// everything else, a fixed module with one function whose parameters are (u64, u32, 16-byte
// struct) at offsets 0, 8, 16.
type recorder struct {
	*server.Sim
	mu       sync.Mutex
	launches []server.Launch
}

const testFn = 0xf0f0

func (r *recorder) Invoke(id api.ID, f *api.Func, a *server.Args) int32 {
	switch f.Name {
	case "vgpuModuleLoadData":
		binary.LittleEndian.PutUint64(a.Out[0], 0xa0a0)
		return 0
	case "cuModuleGetFunction":
		binary.LittleEndian.PutUint64(a.Out[0], testFn)
		return 0
	case "cuFuncGetAttribute": // the dynamic shared memory limit: 48 KiB
		binary.LittleEndian.PutUint32(a.Out[0], 48<<10)
		return 0
	}
	return r.Sim.Invoke(id, f, a)
}

func (r *recorder) ParamLayout(fn uint64, kernel bool) ([][2]uint64, int32) {
	return [][2]uint64{{0, 8}, {8, 4}, {16, 16}}, 0
}

func (r *recorder) Launch(l *server.Launch) int32 {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := *l
	c.Params = append([]byte(nil), l.Params...)
	r.launches = append(r.launches, c)
	return 0
}

func (r *recorder) Memcpy2D(desc, in, out []byte, stream uint64) int32 { return 801 }
func (r *recorder) CaptureInfo(uint64) (uint32, uint64, uint64, []uint64, int32) {
	return 0, 0, 0, nil, 801
}

// clientConnWrap, when set, wraps the client's end of the socket of the sessions connect makes.
var clientConnWrap func(*remoting.FDConn) io.ReadWriter

// connect makes the process's session a real session with a worker-side Session on be.
func connect(t testing.TB, be server.Backend) { t.Helper(); connectServer(t, be) }

// connectServer is connect that also returns the worker's end of the socket (shutting it down
// is the worker dying).
func connectServer(t testing.TB, be server.Backend) *remoting.FDConn {
	t.Helper()
	return connectServerWith(t, be, nil, 0)
}

// connectServerWith is connectServer with setup run on the worker's session before it serves,
// and the client's keepalive interval k (0: none, no stall timeout).
// testRings, when set, makes connectServerWith's sessions pass rings of this size: the frames
// travel through shared memory, as a unix socket's do in the core. testShm and testPinned,
// when set, make them pass shared memory for bulk copies and pinned allocations.
var (
	testRings           uint64
	testShm, testPinned int
)

func connectServerWith(t testing.TB, be server.Backend, setup func(*server.Session), k time.Duration) *remoting.FDConn {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	sc, err := remoting.FDConnOf(fds[1])
	if err != nil {
		t.Fatal(err)
	}
	served := make(chan struct{})
	ws := server.NewSession(1, sc, be)
	if setup != nil {
		setup(ws)
	}
	go func() {
		ws.Serve()
		sc.Close() // once the worker is done with it: no later test's socket has its number
		close(served)
	}()
	cc, err := remoting.FDConnOf(fds[0])
	if err != nil {
		t.Fatal(err)
	}
	var rw io.ReadWriter = cc
	if clientConnWrap != nil {
		rw = clientConnWrap(cc)
	}
	s := newSession(cc, remoting.NewConn(rw), "test")
	sh := s.makeShared(testShm, testPinned, testRings)
	defer sh.close()
	if err := s.handshake(nil, remoting.ClientSecurity{}); err != nil {
		t.Fatal(err)
	}
	if err := s.passShared(cc, sh); err != nil {
		t.Fatal(err)
	}
	s.startKeepalive(cc, k)
	sessMu.Lock()
	sess = s
	sessMu.Unlock()
	t.Cleanup(func() {
		sessMu.Lock()
		sess = nil
		sessMu.Unlock()
		// broken before closed: a flush the session's timer still has armed must not write to
		// a descriptor a later test's socket may have taken
		s.mu.Lock()
		if s.broken == nil {
			s.broken = errors.New("test session ended")
			if s.stop != nil {
				close(s.stop)
			}
			cc.Close()
		}
		s.mu.Unlock()
		sc.Shutdown()
		<-served
		kernels.mu.Lock()
		kernels.byFunc, kernels.byHost, kernels.modules = nil, nil, nil
		kernels.mu.Unlock()
		// the contexts this session's worker made are gone with it
		primaryContexts.mu.Lock()
		primaryContexts.ctx = nil
		primaryContexts.mu.Unlock()
		threads.mu.Lock()
		threads.m = nil
		threads.mu.Unlock()
		devices.mu.Lock()
		devices.done, devices.result, devices.list = false, 0, nil
		devices.mu.Unlock()
		cublasHandles.mu.Lock()
		cublasHandles.ctx, cublasHandles.devMode, cublasHandles.stream = nil, nil, nil
		cublasHandles.mu.Unlock()
		memo.mu.Lock()
		memo.content, memo.answers = nil, nil
		memo.mu.Unlock()
	})
	return sc
}

// TestDriverLaunchPacking: cuLaunchKernel packs kernelParams, and the extra-buffer form, by the
// function's layout; the worker receives exactly those bytes, and the launch never waits.
func TestDriverLaunchPacking(t *testing.T) {
	rec := &recorder{Sim: server.NewSim()}
	fn := heapNew[uint64]()
	if *fn = loadFunction(t, rec); *fn != testFn {
		t.Fatalf("cuModuleGetFunction gave %#x, want %#x", *fn, testFn)
	}

	// kernelParams: pointers to each argument
	a0, a1, a2 := heapNew[uint64](), heapNew[uint32](), heapNew[[16]byte]()
	*a0, *a1 = 0x1122334455667788, 0xaabbccdd
	for i := range a2 {
		a2[i] = byte(i + 1)
	}
	kp := heapBytes(24)
	binary.LittleEndian.PutUint64(kp[0:], ptrOf(a0))
	binary.LittleEndian.PutUint64(kp[8:], ptrOf(a1))
	binary.LittleEndian.PutUint64(kp[16:], ptrOf(a2))
	if r := dispatchByName(api.LibCuda, "cuLaunchKernel", *fn, 2, 1, 1, 64, 1, 1, 0, 0, ptrOf(&kp[0]), 0); r != 0 {
		t.Fatalf("cuLaunchKernel = %d", r)
	}
	// the extra form: one buffer of the same layout
	buf := heapBytes(32)
	binary.LittleEndian.PutUint64(buf[0:], *a0)
	binary.LittleEndian.PutUint32(buf[8:], *a1)
	copy(buf[16:], a2[:])
	size := heapNew[uint64]()
	*size = 32
	extra := heapBytes(40)
	binary.LittleEndian.PutUint64(extra[0:], 1) // CU_LAUNCH_PARAM_BUFFER_POINTER
	binary.LittleEndian.PutUint64(extra[8:], ptrOf(&buf[0]))
	binary.LittleEndian.PutUint64(extra[16:], 2) // CU_LAUNCH_PARAM_BUFFER_SIZE
	binary.LittleEndian.PutUint64(extra[24:], ptrOf(size))
	if r := dispatchByName(api.LibCuda, "cuLaunchKernel", *fn, 1, 1, 1, 32, 1, 1, 0, 0, 0, ptrOf(&extra[0])); r != 0 {
		t.Fatalf("cuLaunchKernel(extra) = %d", r)
	}
	// a block bigger than the device allows fails at the launch, as natively
	if r := dispatchByName(api.LibCuda, "cuLaunchKernel", *fn, 1, 1, 1, 4096, 1, 1, 0, 0, ptrOf(&kp[0]), 0); r != 1 {
		t.Fatalf("cuLaunchKernel with 4096 threads = %d, want 1", r)
	}
	// a synchronising call: the queued launches have reached the worker
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Fatalf("cuCtxSynchronize = %d", r)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.launches) != 2 {
		t.Fatalf("%d launches reached the worker, want 2", len(rec.launches))
	}
	want := make([]byte, 32)
	copy(want, buf)
	for i, l := range rec.launches {
		if l.Func != testFn || string(l.Params) != string(want) {
			t.Errorf("launch %d: func %#x params % x, want % x", i, l.Func, l.Params, want)
		}
	}
	if rec.launches[0].Grid != [3]uint32{2, 1, 1} || rec.launches[0].Block != [3]uint32{64, 1, 1} {
		t.Errorf("launch 0: grid %v block %v", rec.launches[0].Grid, rec.launches[0].Block)
	}
}

// attrCounter is the recorder answering cuFuncGetAttribute (attribute k reads 100+k) and
// cuFuncSetAttribute, counting the reads.
type attrCounter struct {
	recorder
	reads int
}

func (a *attrCounter) Invoke(id api.ID, f *api.Func, args *server.Args) int32 {
	switch id {
	case api.IDcuFuncGetAttribute:
		a.mu.Lock()
		a.reads++
		a.mu.Unlock()
		binary.LittleEndian.PutUint32(args.Out[0], uint32(100+args.Vals[1]))
		return 0
	case api.IDcuFuncSetAttribute, api.IDcuFuncSetCacheConfig:
		return 0
	}
	return a.recorder.Invoke(id, f, args)
}

// TestFuncAttributesRead: cudaFuncGetAttributes reads a function's 16 attributes from the
// server once, answers later calls from what it read, and reads them again after an attribute
// or the cache preference was set, also once a module unload dropped the driver API's entries.
func TestFuncAttributesRead(t *testing.T) {
	be := &attrCounter{recorder: recorder{Sim: server.NewSim()}}
	fn := loadFunction(t, be)
	image, name := heapBytes(64), heapBytes(8)
	copy(image, "kernel image\x00")
	copy(name, "k\x00")
	const host = 0x5150
	stub := []uint64{host, ptrOf(&image[0]), 13, ptrOf(&name[0])}
	attr := heapBytes(76)
	get := func(wantReads int) {
		t.Helper()
		clear(attr)
		if r := dispatchByName(api.LibCudart13, "cudaFuncGetAttributes", append(stub, ptrOf(&attr[0]))...); r != 0 {
			t.Fatalf("cudaFuncGetAttributes = %d", r)
		}
		if got := binary.LittleEndian.Uint32(attr[28:]); got != 104 { // numRegs: CU_FUNC_ATTRIBUTE_NUM_REGS (4)
			t.Fatalf("numRegs %d, want 104", got)
		}
		if got := binary.LittleEndian.Uint64(attr[0:]); got != 101 { // sharedSizeBytes (1)
			t.Fatalf("sharedSizeBytes %d, want 101", got)
		}
		be.mu.Lock()
		reads := be.reads
		be.mu.Unlock()
		if reads != wantReads {
			t.Fatalf("%d attribute reads from the server, want %d", reads, wantReads)
		}
	}
	get(1 + 16) // the parameter layout's read of the dynamic shared memory limit, then the 16
	get(1 + 16)
	if r := dispatchByName(api.LibCudart13, "cudaFuncSetAttribute", append(stub, 8, 1024)...); r != 0 {
		t.Fatalf("cudaFuncSetAttribute = %d", r)
	}
	get(1 + 32)
	if r := dispatchByName(api.LibCuda, "cuFuncSetCacheConfig", fn, 1); r != 0 {
		t.Fatalf("cuFuncSetCacheConfig = %d", r)
	}
	get(1 + 48)
	// a module unloaded: the driver API's entries are dropped, the runtime function is kept, and
	// a setting still reaches what it read
	forgetModule(0)
	if r := dispatchByName(api.LibCudart13, "cudaFuncSetAttribute", append(stub, 8, 2048)...); r != 0 {
		t.Fatalf("cudaFuncSetAttribute = %d", r)
	}
	get(1 + 64)
}
