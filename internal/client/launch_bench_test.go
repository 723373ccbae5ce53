package client

import (
	"encoding/binary"
	"errors"
	"runtime"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/server"
)

// BenchmarkLaunchSend: the client's cost of queueing one kernel launch (packing excluded), the
// part of a launch that runs on the program's thread. The far end of a socketpair only drains.
func BenchmarkLaunchSend(b *testing.B) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	fc, err := remoting.FDConnOf(fds[0])
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		buf := make([]byte, 1<<20)
		for {
			if _, err := unix.Read(fds[1], buf); err != nil {
				return
			}
		}
	}()
	s := newSession(fc, remoting.NewConn(fc), "test")
	sessMu.Lock()
	sess = s
	sessMu.Unlock()
	defer func() {
		sessMu.Lock()
		sess = nil
		sessMu.Unlock()
		// broken before closed, as connectServerWith does: a flush the session's timer still
		// has armed must not write to a closed descriptor, or to another socket's by its number
		s.mu.Lock()
		if s.broken == nil {
			s.broken = errors.New("benchmark session ended")
		}
		s.mu.Unlock()
		fc.Close()
		unix.Close(fds[1])
	}()
	// as in the core, where the thread id comes from C thread-local storage, not a system call
	withThreadIDs(b, func() int { return 1 })
	fn := &function{handle: 0xf00, layout: [][2]uint64{{0, 8}, {8, 8}, {16, 4}}, bytes: 20, maxDynMem: 48 << 10}
	params := make([]byte, 20)
	dims := []uint64{1, 1, 1, 32, 1, 1}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if r := send(fn, dims, 0, 0, 0, params, nil); r != 0 {
			b.Fatal(r)
		}
	}
}

// nopLauncher is recorder without the record: its launches do nothing, so a benchmark measures
// vgpu's own cost of a launch.
type nopLauncher struct{ recorder }

func (n *nopLauncher) Launch(l *server.Launch) int32 { return 0 }

// benchFunction connects to an in-process worker whose launches do nothing and returns a
// function handle and its kernelParams (three arguments, as recorder's layout).
func benchFunction(b *testing.B) (fn uint64, kp uint64) {
	return launchFunction(b, &nopLauncher{recorder{Sim: server.NewSim()}})
}

// launchFunction connects to an in-process worker on be (a recorder, whose layout has three
// parameters) and returns a function handle and kernelParams for it.
func launchFunction(tb testing.TB, be server.Backend) (fn uint64, kp uint64) {
	fn = loadFunction(tb, be)
	a0, a1, a2 := heapNew[uint64](), heapNew[uint32](), heapNew[[16]byte]()
	k := heapBytes(24)
	binary.LittleEndian.PutUint64(k[0:], ptrOf(a0))
	binary.LittleEndian.PutUint64(k[8:], ptrOf(a1))
	binary.LittleEndian.PutUint64(k[16:], ptrOf(a2))
	return fn, ptrOf(&k[0])
}

// loadFunction connects to an in-process worker on be and returns the function "k" of a module
// (any image: a recorder does not read it).
func loadFunction(tb testing.TB, be server.Backend) uint64 {
	connect(tb, be)
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		tb.Fatalf("cuInit = %d", r)
	}
	image := heapBytes(64)
	copy(image, "kernel image\x00")
	mod, f := heapNew[uint64](), heapNew[uint64]()
	if r := dispatchByName(api.LibCuda, "cuModuleLoadData", ptrOf(mod), ptrOf(&image[0])); r != 0 {
		tb.Fatalf("cuModuleLoadData = %d", r)
	}
	name := heapBytes(8)
	copy(name, "k\x00")
	if r := dispatchByName(api.LibCuda, "cuModuleGetFunction", ptrOf(f), *mod, ptrOf(&name[0])); r != 0 {
		tb.Fatalf("cuModuleGetFunction = %d", r)
	}
	return *f
}

// BenchmarkLaunchSync: one kernel launch and a synchronisation of its stream (cuLaunchKernel,
// cuStreamSynchronize) through the client, the socket (or the rings) and an in-process worker
// whose launches do nothing: the round trip a program that waits for each kernel pays.
func BenchmarkLaunchSync(b *testing.B) { socketAndRings(b, benchLaunchSync) }

// socketAndRings runs benchmark fn with the frames through the socket, then through rings.
func socketAndRings(b *testing.B, fn func(*testing.B)) {
	for _, ring := range []uint64{0, 1 << 20} {
		name := "socket"
		if ring > 0 {
			name = "rings"
		}
		b.Run(name, func(b *testing.B) {
			testRings = ring
			defer func() { testRings = 0 }()
			fn(b)
		})
	}
}

func benchLaunchSync(b *testing.B) {
	fn, kp := benchFunction(b)
	launch, syncID := api.IDcuLaunchKernel, api.IDcuStreamSynchronize
	word := func(id api.ID) uint32 { return uint32(id) | uint32(api.LibCuda)<<24 }
	args := []uint64{fn, 1, 1, 1, 32, 1, 1, 0, 0, kp, 0}
	sargs := []uint64{0}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if r := dispatchCall(word(launch), func(int) []uint64 { return args }); r != 0 {
			b.Fatalf("cuLaunchKernel = %d", r)
		}
		if r := dispatchCall(word(syncID), func(int) []uint64 { return sargs }); r != 0 {
			b.Fatalf("cuStreamSynchronize = %d", r)
		}
	}
}

// BenchmarkThreadsLaunchSync: 8 OS threads, each on a stream of its own, each launch a kernel
// and synchronise its stream once per iteration: the aggregate cost of launch+sync when the
// program's threads share the one connection.
func BenchmarkThreadsLaunchSync(b *testing.B) { socketAndRings(b, benchThreadsLaunchSync) }

func benchThreadsLaunchSync(b *testing.B) {
	fn, kp := benchFunction(b)
	withThreadIDs(b, unix.Gettid) // each goroutine below is locked to its OS thread
	launch, syncID := api.IDcuLaunchKernel, api.IDcuStreamSynchronize
	word := func(id api.ID) uint32 { return uint32(id) | uint32(api.LibCuda)<<24 }
	const threads = 8
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make(chan string, threads)
	for t := 0; t < threads; t++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			st := heapNew[uint64]()
			if r := dispatchRow(api.LibCuda, api.IDcuStreamCreate, ptrOf(st), 1); r != 0 {
				errs <- "cuStreamCreate failed"
				return
			}
			args := []uint64{fn, 1, 1, 1, 32, 1, 1, 0, *st, kp, 0}
			sargs := []uint64{*st}
			<-start
			for i := 0; i < b.N; i++ {
				if r := dispatchCall(word(launch), func(int) []uint64 { return args }); r != 0 {
					errs <- "cuLaunchKernel failed"
					return
				}
				if r := dispatchCall(word(syncID), func(int) []uint64 { return sargs }); r != 0 {
					errs <- "cuStreamSynchronize failed"
					return
				}
			}
		}()
	}
	b.ReportAllocs()
	b.ResetTimer()
	close(start)
	wg.Wait()
	b.StopTimer()
	close(errs)
	for e := range errs {
		b.Fatal(e)
	}
}
