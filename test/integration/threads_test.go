package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// simWork is the simulated GPU time of one async device-to-device copy (VGPU_SIM_WORK_US); the
// program makes 4 per stream, so each stream holds T = 4 × simWork of work.
const simWork = 75 * time.Millisecond

// threadsProgram builds testdata/threads.c and starts a sim server (unix socket and TLS) whose
// copies take simWork each.
func threadsProgram(t *testing.T) (*server, string, string) {
	out := outDir(t)
	s := startServerWith(t, serverOpts{tcp: true, env: []string{"VGPU_SIM_WORK_US=" + strconv.Itoa(int(simWork/time.Microsecond))}})
	prog := compileC(t, t.TempDir(), "threads", []string{filepath.Join("testdata", "threads.c")},
		"-I"+filepath.Join("..", "..", "include"), "-L"+out, "-l:libcudart.so.13", "-l:libcuda.so.1", "-lpthread")
	return s, out, prog
}

// number reads "key: N" from the program's output.
func number(t *testing.T, r *result, key string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(key) + `: (\d+)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatalf("no %q in the output\n%s", key, r)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestThreadsRunConcurrently: 8 threads, each copying into and synchronising its own stream
// (T of simulated GPU time each), take about T together, not 8 T: each client thread has a
// thread in the worker, and a synchronisation waits there while the others' calls run. Over the
// unix socket (with shared memory) and over TLS (the worker's record layer).
func TestThreadsRunConcurrently(t *testing.T) {
	s, out, prog := threadsProgram(t)
	T := 4 * simWork
	for _, tc := range []struct {
		name string
		env  []string
	}{
		{"unix", []string{"VGPU_SERVER=" + s.unix}},
		{"tls", append([]string{"VGPU_SERVER=" + s.tcp}, s.tcpEnv...)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, 30*time.Second, cleanEnv(append(tc.env, "LD_LIBRARY_PATH="+out)...), prog, "threads")
			if r.code != 0 || !strings.Contains(r.stdout, "PASS") {
				t.Fatalf("threads: %s", r)
			}
			ms := time.Duration(number(t, r, "elapsed ms")) * time.Millisecond
			t.Logf("8 threads × %v of GPU work each: %v (one after another: %v)", T, ms, 8*T)
			if ms < T || ms >= 3*T {
				t.Fatalf("8 threads took %v, want between T = %v and 3T (one after another would be %v)", ms, T, 8*T)
			}
		})
	}
}

// TestSyncDoesNotDelayOtherThreads: while thread A waits in cudaStreamSynchronize for T of GPU
// work, thread B's 60 round trips (cudaMemGetInfo, cudaMalloc, cudaFree) go through, and B is
// done before A's synchronisation returns.
func TestSyncDoesNotDelayOtherThreads(t *testing.T) {
	s, out, prog := threadsProgram(t)
	r := run(t, 30*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+out), prog, "nodelay")
	if r.code != 0 || !strings.Contains(r.stdout, "PASS") {
		t.Fatalf("nodelay: %s", r)
	}
	a, b := number(t, r, "A sync ms"), number(t, r, "B calls ms")
	t.Logf("A's synchronisation %v ms, B's 60 calls meanwhile %v ms", a, b)
	if number(t, r, "B done first") != 1 || b >= a {
		t.Fatalf("B's calls waited for A's synchronisation (A %v ms, B %v ms)\n%s", a, b, r)
	}
}

// TestCurrentContextPerThread: a new thread has no current context, a context it creates is
// current on it alone, and the main thread's stays its own (driver API).
func TestCurrentContextPerThread(t *testing.T) {
	s, out, prog := threadsProgram(t)
	r := run(t, 30*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+out), prog, "context")
	want := "new thread's current context is NULL: 1\nnew thread's current context is its own: 1\nmain thread's current context is unchanged: 1\nPASS\n"
	if r.code != 0 || !strings.Contains(r.stdout, want) {
		t.Fatalf("want %q\n%s", want, r)
	}
}

// TestLastErrorPerThreadConcurrent: two threads fail different calls at the same moment; each
// reads its own last error.
func TestLastErrorPerThreadConcurrent(t *testing.T) {
	s, out, prog := threadsProgram(t)
	r := run(t, 30*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+out), prog, "lasterror")
	if r.code != 0 || !strings.Contains(r.stdout, "last errors: 101 1\nPASS\n") {
		t.Fatalf("want last errors 101 (invalid device) and 1 (invalid value)\n%s", r)
	}
}

// TestThreadEndsEndWorkerThreads: when the program's 8 threads have ended, the worker's threads
// for them end too (the C side's thread-specific destructor records each end, the next call
// passes them on, the worker ends those threads): the worker has fewer than 8 threads more after
// them than before them (it had 8 more while they ran; the Go runtime keeps a few idle threads of
// its own, 0 to 4 more here, which a leak of the 8 would add to).
func TestThreadEndsEndWorkerThreads(t *testing.T) {
	s, out, prog := threadsProgram(t)
	p := startLive(t, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+out), prog, "ends")
	tasks := func() int {
		w := s.waitWorkers(t, 1, 5*time.Second)
		d, err := os.ReadDir("/proc/" + strconv.Itoa(w[0]) + "/task")
		if err != nil {
			t.Fatal(err)
		}
		return len(d)
	}
	p.waitLines(t, "phase 1", 1, 10*time.Second)
	before := tasks()
	p.waitLines(t, "phase 2", 1, 20*time.Second)
	time.Sleep(200 * time.Millisecond) // the threads' exits
	after := tasks()
	t.Logf("worker threads: %d before the program's 8 threads, %d after they ended", before, after)
	if after >= before+8 {
		t.Fatalf("the worker has %d threads after the program's 8 threads ended, %d before them\n%s", after, before, p.dump())
	}
}
