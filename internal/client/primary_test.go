package client

import (
	"runtime"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/server"
)

// simRoundTrips connects to a simulated device, initialises the driver and returns the count of
// the session's round trips so far.
func simRoundTrips(t *testing.T) func() uint64 {
	connect(t, server.NewSim())
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	s, err := getSession()
	if err != nil {
		t.Fatal(err)
	}
	return func() uint64 { s.mu.Lock(); defer s.mu.Unlock(); return s.st.sync }
}

// TestPrimaryStateAnsweredHere: the state of an active primary context is asked of the worker
// once and then answered by the session, until a release, a reset or a flags setting; an
// inactive one's is asked each time.
func TestPrimaryStateAnsweredHere(t *testing.T) {
	trips := simRoundTrips(t)
	flags, active := heapNew[uint32](), heapNew[int32]()
	// state asks for the state and checks it, and how many round trips it took
	state := func(what string, wantFlags uint32, wantActive int32, wantTrips uint64) {
		t.Helper()
		*flags, *active = 99, 99
		before := trips()
		if r := dispatchByName(api.LibCuda, "cuDevicePrimaryCtxGetState", 0, ptrOf(flags), ptrOf(active)); r != 0 {
			t.Fatalf("%s: cuDevicePrimaryCtxGetState = %d", what, r)
		}
		if *flags != wantFlags || *active != wantActive {
			t.Fatalf("%s: flags %#x active %d, want %#x and %d", what, *flags, *active, wantFlags, wantActive)
		}
		if got := trips() - before; got != wantTrips {
			t.Fatalf("%s: %d round trips, want %d", what, got, wantTrips)
		}
	}
	state("inactive", 0, 0, 1)
	state("inactive, again", 0, 0, 1)
	ctx := heapNew[uint64]()
	if r := dispatchByName(api.LibCuda, "cuDevicePrimaryCtxRetain", ptrOf(ctx), 0); r != 0 {
		t.Fatalf("cuDevicePrimaryCtxRetain = %d", r)
	}
	state("active", 0, 1, 1)
	for range 3 {
		state("active, again", 0, 1, 0)
	}
	if r := dispatchByName(api.LibCuda, "cuDevicePrimaryCtxSetFlags_v2", 0, 4); r != 0 {
		t.Fatalf("cuDevicePrimaryCtxSetFlags_v2 = %d", r)
	}
	state("flags set", 4, 1, 1)
	state("flags set, again", 4, 1, 0)
	if r := dispatchByName(api.LibCuda, "cuDevicePrimaryCtxReset_v2", 0); r != 0 {
		t.Fatalf("cuDevicePrimaryCtxReset_v2 = %d", r)
	}
	state("reset", 4, 1, 1) // (the sim's reset keeps the context retained)
	if r := dispatchByName(api.LibCuda, "cuDevicePrimaryCtxRelease_v2", 0); r != 0 {
		t.Fatalf("cuDevicePrimaryCtxRelease_v2 = %d", r)
	}
	state("released", 4, 0, 1)
	state("released, again", 4, 0, 1)
	// a null output goes to the worker, which refuses it as the driver does
	if r := dispatchByName(api.LibCuda, "cuDevicePrimaryCtxGetState", 0, 0, ptrOf(active)); r == 0 {
		t.Fatal("cuDevicePrimaryCtxGetState with no flags pointer succeeded")
	}
	s, _ := getSession()
	s.mu.Lock()
	hits := s.st.primaryHits
	s.mu.Unlock()
	if hits != 4 {
		t.Fatalf("%d states answered here, want 4", hits)
	}
}

// TestCtxGetCurrentAnsweredHere: cuCtxGetCurrent answers what the worker would (asked right
// after through the worker itself), without a round trip once the client made a context
// current on the thread, and asks the worker again after a context's destruction or a primary
// context's release, and where the client does not know (before any context). (The simulated
// device has no context stack: what a push or pop does is the driver's.)
func TestCtxGetCurrentAnsweredHere(t *testing.T) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	trips := simRoundTrips(t)
	got, want := heapNew[uint64](), heapNew[uint64]()
	current := func(what string, wantTrips uint64) uint64 {
		t.Helper()
		before := trips()
		if r := dispatchByName(api.LibCuda, "cuCtxGetCurrent", ptrOf(got)); r != 0 {
			t.Fatalf("%s: cuCtxGetCurrent = %d", what, r)
		}
		if n := trips() - before; n != wantTrips {
			t.Fatalf("%s: cuCtxGetCurrent took %d round trips, want %d", what, n, wantTrips)
		}
		if r := remoteByName(api.LibCuda, "cuCtxGetCurrent", ptrOf(want)); r != 0 || *got != *want {
			t.Fatalf("%s: cuCtxGetCurrent answered %#x, the worker %#x (%d)", what, *got, *want, r)
		}
		return *got
	}
	call := func(name string, args ...uint64) {
		t.Helper()
		if r := dispatchByName(api.LibCuda, name, args...); r != 0 {
			t.Fatalf("%s = %d", name, r)
		}
	}
	current("before any context", 1)
	a, b := heapNew[uint64](), heapNew[uint64]()
	call("cuCtxCreate_v2", ptrOf(a), 0, 0)
	if current("created A", 0) != *a {
		t.Fatal("the created context is not current")
	}
	call("cuCtxCreate_v2", ptrOf(b), 0, 0)
	current("created B", 0)
	call("cuCtxSetCurrent", *b)
	current("set B", 0)
	call("cuCtxDestroy_v2", *b)
	current("destroyed B", 1)
	call("cuCtxSetCurrent", *a)
	current("set A", 0)
	p := heapNew[uint64]()
	call("cuDevicePrimaryCtxRetain", ptrOf(p), 0)
	call("cuDevicePrimaryCtxRelease_v2", 0)
	current("a primary context released", 1)
}
