package client

import (
	"runtime"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/server"
	"github.com/vgpu/vgpu/internal/settings"
)

// withThreadIDs numbers the calling threads with id for the rest of tb.
func withThreadIDs(tb testing.TB, id func() int) {
	old := ThreadID
	ThreadID = id
	tb.Cleanup(func() { ThreadID = old })
}

// TestThreadsShareTheConnection: four OS threads each copy on their own stream (200 ms of
// simulated GPU time) and synchronise it, while a fifth makes round trips: the four
// synchronisations wait at once (about 200 ms together, not 800), the fifth thread's calls are
// answered while they wait, and every reply reaches its own thread (each thread's copy lands
// where it should). The replies come out of order on the one connection.
func TestThreadsShareTheConnection(t *testing.T) {
	t.Setenv(settings.SimWorkUS.Name, "200000")
	connect(t, server.NewSim())
	withThreadIDs(t, unix.Gettid) // each goroutine below is locked to its OS thread
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	const n, size = 4, 4096
	var wg sync.WaitGroup
	errs := make(chan string, 16)
	var fastDone, slowDone time.Time
	var mu sync.Mutex
	start := time.Now()
	for k := 0; k < n; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			a, b, st := heapNew[uint64](), heapNew[uint64](), heapNew[uint64]()
			if dispatchByName(api.LibCuda, "cuMemAlloc_v2", ptrOf(a), size) != 0 || dispatchByName(api.LibCuda, "cuMemAlloc_v2", ptrOf(b), size) != 0 ||
				dispatchByName(api.LibCuda, "cuStreamCreate", ptrOf(st), 0) != 0 {
				errs <- "setup failed"
				return
			}
			if dispatchByName(api.LibCuda, "cuMemsetD8_v2", *a, uint64(0x40+k), size) != 0 {
				errs <- "memset failed"
				return
			}
			if r := dispatchByName(api.LibCuda, "cuMemcpyDtoDAsync_v2", *b, *a, size, *st); r != 0 {
				errs <- "copy failed"
				return
			}
			if r := dispatchByName(api.LibCuda, "cuStreamSynchronize", *st); r != 0 {
				errs <- "synchronisation failed"
				return
			}
			host := make([]byte, size)
			if r := dispatchByName(api.LibCuda, "cuMemcpyDtoH_v2", ptrOf(&host[0]), *b, size); r != 0 {
				errs <- "read-back failed"
				return
			}
			for _, v := range host {
				if v != byte(0x40+k) {
					errs <- "a thread read another thread's bytes"
					return
				}
			}
			mu.Lock()
			slowDone = time.Now()
			mu.Unlock()
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		time.Sleep(50 * time.Millisecond) // the others are waiting by now
		v := heapNew[int32]()
		for i := 0; i < 20; i++ {
			if r := remoteByName(api.LibCuda, "cuDriverGetVersion", ptrOf(v)); r != 0 || *v == 0 {
				errs <- "cuDriverGetVersion failed"
				return
			}
		}
		mu.Lock()
		fastDone = time.Now()
		mu.Unlock()
	}()
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	total := time.Since(start)
	if total >= 600*time.Millisecond {
		t.Fatalf("4 threads × 200 ms of GPU work took %v: the synchronisations did not wait at once", total)
	}
	if !fastDone.Before(slowDone) {
		t.Fatalf("the round trips (done at %v) waited for the synchronisations (done at %v)", fastDone.Sub(start), slowDone.Sub(start))
	}
	// VGPU_STATS counts the threads woken for replies another thread read (the four
	// synchronisations' replies came to whichever thread was reading)
	s, err := getSession()
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	woken, ns := s.st.wokenForReply, s.st.wokenForReplyNs
	s.mu.Unlock()
	if woken == 0 || ns == 0 {
		t.Fatalf("%d threads counted woken for their replies (%d ns), want some", woken, ns)
	}
}

// TestThreadEndFreesItsNumber: a thread's number goes back to the session when the thread
// ends, with a vgpuThreadEnd queued for the worker, and the next thread gets it.
func TestThreadEndFreesItsNumber(t *testing.T) {
	connect(t, server.NewSim())
	s, err := getSession()
	if err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	n1, n2 := s.threadNumber(101), s.threadNumber(102)
	again := s.threadNumber(101)
	s.mu.Unlock()
	if n1 == n2 || again != n1 {
		t.Fatalf("thread numbers %d, %d, again %d", n1, n2, again)
	}
	ThreadsEnded([]int{101})
	s.mu.Lock()
	n3 := s.threadNumber(103)
	_, still := s.threads[101]
	s.mu.Unlock()
	if n3 != n1 || still {
		t.Fatalf("after thread 101 ended: thread 103 got %d (want %d), 101 still known: %v", n3, n1, still)
	}
	// the worker took the end (and the session goes on)
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit after a thread's end = %d", r)
	}
}

// TestWorkerDiesWhileThreadsWait: four OS threads wait in cuStreamSynchronize (2 s of simulated
// GPU time each) when the worker's end of the socket goes away: every one of them fails with the
// unreachable code within a second, whichever of them was reading replies, and none hangs.
func TestWorkerDiesWhileThreadsWait(t *testing.T) {
	t.Setenv(settings.SimWorkUS.Name, "2000000")
	sc := connectServer(t, server.NewSim())
	withThreadIDs(t, unix.Gettid)
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	const n = 4
	results := make(chan int64, n)
	ready := make(chan struct{}, n)
	for k := 0; k < n; k++ {
		go func() {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			a, b, st := heapNew[uint64](), heapNew[uint64](), heapNew[uint64]()
			if dispatchByName(api.LibCuda, "cuMemAlloc_v2", ptrOf(a), 4096) != 0 || dispatchByName(api.LibCuda, "cuMemAlloc_v2", ptrOf(b), 4096) != 0 ||
				dispatchByName(api.LibCuda, "cuStreamCreate", ptrOf(st), 0) != 0 || dispatchByName(api.LibCuda, "cuMemcpyDtoDAsync_v2", *b, *a, 4096, *st) != 0 {
				ready <- struct{}{}
				results <- -1
				return
			}
			ready <- struct{}{}
			results <- dispatchByName(api.LibCuda, "cuStreamSynchronize", *st)
		}()
	}
	for k := 0; k < n; k++ {
		<-ready
	}
	time.Sleep(200 * time.Millisecond) // the four are waiting
	died := time.Now()
	sc.Shutdown()
	want := int64(api.LibCuda.Info().Unreachable)
	for k := 0; k < n; k++ {
		select {
		case r := <-results:
			if r != want {
				t.Errorf("a waiting thread's synchronisation = %d, want %d (unreachable)", r, want)
			}
		case <-time.After(3 * time.Second):
			t.Fatalf("%d of %d waiting threads still blocked 3 s after the worker died", n-k, n)
		}
	}
	if d := time.Since(died); d > time.Second {
		t.Errorf("the waiting threads failed %v after the worker died", d)
	}
}
