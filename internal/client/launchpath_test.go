package client

import (
	"io"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/server"
)

// The launch path (docs/ARCHITECTURE.md, "A kernel launch, file by file"): from the core's entry
// to the socket in the client, and from the frame read to the driver's launch in the worker, a
// launch goes down through each file once; no file is left and entered again on the way.

// stackFiles is the module's non-test source files on the stack of the caller, outermost first,
// each stay in a file (consecutive frames in it) once.
func stackFiles(skip int) []string {
	pc := make([]uintptr, 64)
	n := runtime.Callers(skip+1, pc)
	frames := runtime.CallersFrames(pc[:n])
	var files []string
	for {
		f, more := frames.Next()
		if i := strings.Index(f.File, "/internal/"); i >= 0 && !strings.HasSuffix(f.File, "_test.go") {
			name := f.File[i+1:]
			if len(files) == 0 || files[len(files)-1] != name {
				files = append(files, name)
			}
		}
		if !more {
			break
		}
	}
	slices.Reverse(files)
	return files
}

// revisits lists the files of a path entered again after it was left.
func revisits(path []string) []string {
	var again []string
	for i, f := range path {
		if slices.Contains(path[:i], f) {
			again = append(again, filepath.Base(f))
		}
	}
	return again
}

// pathProbe is the recorder noting the worker's stack at the driver's launch.
type pathProbe struct {
	recorder
	mu     sync.Mutex
	worker []string
}

func (p *pathProbe) Launch(l *server.Launch) int32 {
	p.mu.Lock()
	p.worker = stackFiles(1)
	p.mu.Unlock()
	return p.recorder.Launch(l)
}

// stackConn is the client's socket noting the stack of the first write while armed.
type stackConn struct {
	*remoting.FDConn
	mu    sync.Mutex
	armed bool
	path  []string
}

func (c *stackConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if c.armed {
		c.path, c.armed = stackFiles(1), false
	}
	c.mu.Unlock()
	return c.FDConn.Write(b)
}

func TestLaunchPathVisitsEachFileOnce(t *testing.T) {
	probe := &pathProbe{recorder: recorder{Sim: server.NewSim()}}
	var sc *stackConn
	clientConnWrap = func(fc *remoting.FDConn) io.ReadWriter { sc = &stackConn{FDConn: fc}; return sc }
	defer func() { clientConnWrap = nil }()
	fn, kp := launchFunction(t, probe)
	id, _, _ := api.Lookup("cuLaunchKernel")
	args := []uint64{fn, 1, 1, 1, 32, 1, 1, 0, 0, kp, 0}
	launch := func() int64 {
		// as the core's exported entry calls it (shims/core/main.go, Dispatch)
		return dispatchCall(uint32(id)|uint32(api.LibCuda)<<24, func(n int) []uint64 { return args[:n] })
	}
	if r := launch(); r != 0 { // the first fetches the function's layout
		t.Fatalf("cuLaunchKernel = %d", r)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Fatalf("cuCtxSynchronize = %d", r)
	}
	time.Sleep(10 * idleGap) // idle: the next async call is written at once, on its own stack
	sc.mu.Lock()
	sc.armed = true
	sc.mu.Unlock()
	if r := launch(); r != 0 {
		t.Fatalf("cuLaunchKernel = %d", r)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Fatalf("cuCtxSynchronize = %d", r)
	}
	sc.mu.Lock()
	client := sc.path
	sc.mu.Unlock()
	probe.mu.Lock()
	worker := probe.worker
	probe.mu.Unlock()
	t.Logf("client: %s", strings.Join(client, " -> "))
	t.Logf("worker: %s", strings.Join(worker, " -> "))
	if len(client) == 0 || !slices.Contains(client, "internal/client/launch.go") {
		t.Fatalf("the launch's write was not seen on its own stack: %v", client)
	}
	if len(worker) == 0 {
		t.Fatal("the worker's launch was not seen")
	}
	if again := revisits(client); len(again) > 0 {
		t.Errorf("the client's launch path enters again %v", again)
	}
	if again := revisits(worker); len(again) > 0 {
		t.Errorf("the worker's launch path enters again %v", again)
	}
}
