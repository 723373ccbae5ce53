package client

import (
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/server"
)

// TestPrimaryStateAnsweredHere: the state of an active primary context is asked of the worker
// once and then answered by the session, until a release, a reset or a flags setting; an
// inactive one's is asked each time.
func TestPrimaryStateAnsweredHere(t *testing.T) {
	connect(t, server.NewSim())
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	s, err := getSession()
	if err != nil {
		t.Fatal(err)
	}
	trips := func() uint64 { s.mu.Lock(); defer s.mu.Unlock(); return s.st.sync }
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
	s.mu.Lock()
	hits := s.st.primaryHits
	s.mu.Unlock()
	if hits != 4 {
		t.Fatalf("%d states answered here, want 4", hits)
	}
}
