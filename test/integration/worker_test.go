package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// buildMemloop compiles testdata/memloop.c into the test's temporary folder, linked like any
// CUDA program against build/out/libcuda.so.1.
func buildMemloop(t *testing.T) string {
	t.Helper()
	out, root := outDir(t), repoRoot(t)
	return compileC(t, t.TempDir(), "memloop", []string{filepath.Join("testdata", "memloop.c")},
		"-I"+filepath.Join(root, "include"), "-L"+out, "-l:libcuda.so.1")
}

func startMemloop(t *testing.T, s *server, exe string) *liveProc {
	t.Helper()
	out := outDir(t)
	return startLive(t, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+out), exe, "loop")
}

// TestKilledClientLeavesNoWorker: a client SIGKILLed in the middle of 8 MiB copies leaves no
// worker process (and so no GPU memory) behind, and the server serves the next client.
func TestKilledClientLeavesNoWorker(t *testing.T) {
	exe := buildMemloop(t)
	s := startServer(t, false)
	// A few rounds, killing at different moments of the copy loop.
	for round, delay := range []time.Duration{0, 7 * time.Millisecond, 23 * time.Millisecond} {
		c := startMemloop(t, s, exe)
		c.waitLines(t, "ITER", 1, 15*time.Second) // inside its copy loop
		w := s.waitWorkers(t, 1, 5*time.Second)
		if st, err := procStat(w[0]); err != nil || st.state == 'Z' {
			t.Fatalf("worker %d is not running (%v, state %c)", w[0], err, st.state)
		}
		time.Sleep(delay)
		c.kill(t)
		if !c.ws.Signaled() || c.ws.Signal() != syscall.SIGKILL {
			t.Fatalf("client ended with %v, want SIGKILL\n%s", c.ws, c.dump())
		}
		start := time.Now()
		s.waitWorkers(t, 0, 5*time.Second)
		t.Logf("round %d: worker %d gone %v after its client was killed", round, w[0], time.Since(start).Round(time.Millisecond))
		if !s.alive() {
			t.Fatalf("vgpu-server exited: %v", s.waitErr)
		}
	}
	devicequeryOK(t, s.unix)
}

// TestSessionsIsolated: two clients at once get a worker each; one's allocation is not
// reachable from another session; killing one client ends its worker only, while the other
// keeps copying.
func TestSessionsIsolated(t *testing.T) {
	exe := buildMemloop(t)
	s := startServer(t, false)
	a := startMemloop(t, s, exe)
	b := startMemloop(t, s, exe)
	a.waitLines(t, "READY", 1, 15*time.Second)
	b.waitLines(t, "READY", 1, 15*time.Second)
	w := s.waitWorkers(t, 2, 5*time.Second)
	if w[0] == w[1] {
		t.Fatalf("both clients share worker %d", w[0])
	}
	for _, p := range w {
		if p == a.pid() || p == b.pid() {
			t.Fatalf("worker %d is a client", p)
		}
	}

	// A third session, with no allocation of its own, cannot read the first one's memory.
	ptr := strings.TrimPrefix(a.line("PTR "), "PTR ")
	if ptr == "" {
		t.Fatalf("client a printed no PTR line\n%s", a.dump())
	}
	out := outDir(t)
	r := run(t, 10*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+out), exe, "peek", ptr)
	if r.code != 0 || !strings.Contains(r.stdout, "PEEK 1") {
		t.Errorf("reading another session's allocation %s: want it refused with CUDA_ERROR_INVALID_VALUE (1), got %s", ptr, r)
	}

	// Killing a ends a's worker; b and its worker carry on.
	a.kill(t)
	left := s.waitWorkers(t, 1, 5*time.Second)
	if !slices.Contains(w, left[0]) {
		t.Fatalf("after killing client a the worker left is %d, not one of %v", left[0], w)
	}
	n := b.countLines("ITER")
	b.waitLines(t, "ITER", n+2, 10*time.Second)
	if b.exited() {
		t.Fatalf("client b ended when a was killed: %v\n%s", b.ws, b.dump())
	}
	if got := s.workers(); !slices.Equal(got, left) {
		t.Errorf("workers %v, want b's worker %v only", got, left)
	}
	b.kill(t)
	s.waitWorkers(t, 0, 5*time.Second)
}

// TestShmRing: async uploads of 1 to 17 MiB go through the shared memory's ring without waiting,
// fenced when the ring is full and before a synchronous copy uses the shared memory's halves;
// every byte arrives although the program overwrites its buffer as soon as each call returns
// (300 MiB through 64 MiB of shared memory, read back and compared midway and at the end).
func TestShmRing(t *testing.T) {
	exe := buildMemloop(t)
	s := startServer(t, false)
	r := run(t, 30*time.Second, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+outDir(t), "VGPU_STATS=1"), exe, "ring")
	if r.code != 0 || !strings.Contains(r.stdout, "RING OK") {
		t.Fatalf("memloop ring: %s", r)
	}
	// the uploads of up to 16 MiB (a quarter of the shared memory) went without a round trip
	var ring int
	if i := strings.Index(r.stderr, "vgpuShmHtoDAsync="); i >= 0 {
		fmt.Sscanf(r.stderr[i+len("vgpuShmHtoDAsync="):], "%d", &ring)
	}
	t.Logf("%s: %d uploads through the ring", strings.TrimSpace(r.stdout), ring)
	if ring < 20 {
		t.Fatalf("%d uploads through the ring, want 20 or more\n%s", ring, r)
	}
}

// TestWorkerNotDumpable: another process of the server's user cannot read a worker's memory or
// environment through /proc (nor ptrace it): a worker taken over through a driver flaw cannot
// reach another session's. The server process itself, of the same user, stays readable, so the
// check tells a non-dumpable worker from a user that can read nothing.
func TestWorkerNotDumpable(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to run the server and a reader as another user")
	}
	const nobody = 65534
	s := startServerWith(t, serverOpts{uid: nobody})
	mustConnect(t, s.unix, nil)
	w := s.waitWorkers(t, 1, 5*time.Second)
	if r := runAs(t, nobody, cleanEnv(), "cat", fmt.Sprintf("/proc/%d/environ", s.pid)); r.code != 0 {
		t.Fatalf("the server's own user cannot read the server's environment, so this check proves nothing: %s", r)
	}
	for _, f := range []string{"environ", "mem", "maps"} {
		r := runAs(t, nobody, cleanEnv(), "head", "-c", "1", fmt.Sprintf("/proc/%d/%s", w[0], f))
		if r.code == 0 || !strings.Contains(r.stderr, "Permission denied") {
			t.Fatalf("another process of the server's user read the worker's %s: %s", f, r)
		}
	}
}

// TestRunsUploads: over TCP (no shared memory) async uploads of attention masks and V-cache
// indices travel as runs and arrive intact although the program overwrites its buffer as soon
// as each call returns; bytes that do not shrink (random ones) go as they are. memloop runs
// reads everything back.
func TestRunsUploads(t *testing.T) {
	exe := buildMemloop(t)
	s := startServerWith(t, serverOpts{tcp: true, insecure: true})
	env := append(cleanEnv("VGPU_SERVER="+s.tcp, "LD_LIBRARY_PATH="+outDir(t), "VGPU_STATS=1"), s.tcpEnv...)
	r := run(t, 60*time.Second, env, exe, "runs")
	if r.code != 0 || !strings.Contains(r.stdout, "RUNS OK") {
		t.Fatalf("memloop runs: %s", r)
	}
	var shm, asRuns, sent, out uint64
	i := strings.Index(r.stderr, "bytes out")
	if i < 0 {
		t.Fatalf("no stats line: %s", r)
	}
	line := r.stderr[strings.LastIndex(r.stderr[:i], "writes, ")+len("writes, "):]
	if _, err := fmt.Sscanf(line, "%d bytes out, %d bytes in, %d bytes through shared memory, %d uploaded as runs in %d", &out, new(uint64), &shm, &asRuns, &sent); err != nil {
		t.Fatalf("stats line %q: %v", line[:min(len(line), 160)], err)
	}
	t.Logf("%d bytes uploaded as runs in %d; %d bytes out in all", asRuns, sent, out)
	// 30 uploads of 130 MiB in all: 4 of random bytes (it%7 == 6: 21 MiB), the rest masks and
	// V-cache indices (109 MiB), the 17 MiB ones in a 16 MiB piece and a 1 MiB one
	if asRuns < 105<<20 || asRuns > 110<<20 || sent > asRuns/10 || shm != 0 {
		t.Fatalf("%d bytes as runs in %d (%d through shared memory): want the masks' and indices' 109 MiB, in a tenth of that", asRuns, sent, shm)
	}
}

// TestBlocksUploads: over TCP (no shared memory) async uploads of token embeddings, again and
// again to the same device buffers from two threads at once, travel as cached blocks and arrive
// intact although the program overwrites its buffer as soon as each call returns; rows sent
// before go as a slot each. memloop blocks reads everything back. Without VGPU_UPLOAD_CACHE_MB
// (the default, 0) the same bytes go whole.
func TestBlocksUploads(t *testing.T) {
	exe := buildMemloop(t)
	s := startServerWith(t, serverOpts{tcp: true, insecure: true})
	for _, cache := range []string{"64", ""} {
		env := append(cleanEnv("VGPU_SERVER="+s.tcp, "LD_LIBRARY_PATH="+outDir(t), "VGPU_STATS=1"), s.tcpEnv...)
		if cache != "" {
			env = append(env, "VGPU_UPLOAD_CACHE_MB="+cache)
		}
		r := run(t, 60*time.Second, env, exe, "blocks")
		if r.code != 0 || !strings.Contains(r.stdout, "BLOCKS OK") {
			t.Fatalf("memloop blocks (VGPU_UPLOAD_CACHE_MB=%q): %s", cache, r)
		}
		i := strings.Index(r.stderr, "bytes out")
		if i < 0 {
			t.Fatalf("no stats line: %s", r)
		}
		var out, blocks, sent, named uint64
		line := r.stderr[strings.LastIndex(r.stderr[:i], "writes, ")+len("writes, "):]
		if _, err := fmt.Sscanf(line, "%d bytes out", &out); err != nil {
			t.Fatalf("stats line %q: %v", line[:min(len(line), 160)], err)
		}
		j := strings.Index(line, " as cached blocks in ")
		if j < 0 {
			t.Fatalf("stats line without cached blocks: %q", line[:min(len(line), 300)])
		}
		k := strings.LastIndex(line[:j], " ")
		if _, err := fmt.Sscanf(line[k+1:], "%d as cached blocks in %d (%d blocks named", &blocks, &sent, &named); err != nil {
			t.Fatalf("stats line %q: %v", line[k+1:min(len(line), k+200)], err)
		}
		t.Logf("VGPU_UPLOAD_CACHE_MB=%q: %d bytes uploaded as cached blocks in %d (%d blocks named); %d bytes out in all", cache, blocks, sent, named, out)
		// 2 threads × 24 uploads of 2 MiB (and 100 bytes), the first to each of a thread's two
		// buffers whole: 44 as blocks, 88 MiB, of which every row but the first of each is named
		if cache == "64" && (blocks < 88<<20 || sent > blocks/20 || out > 16<<20) {
			t.Fatalf("%d bytes as cached blocks in %d, %d bytes out in all: want 88 MiB or more in a twentieth, and under 16 MiB out", blocks, sent, out)
		}
		if cache == "" && (blocks != 0 || out < 96<<20) {
			t.Fatalf("without the cache %d bytes as cached blocks, %d bytes out in all: want none, and the 96 MiB whole", blocks, out)
		}
	}
}
