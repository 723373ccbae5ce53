package client

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/server"
)

// primaryContext makes the device's primary context current through the connected session.
func primaryContext(t *testing.T) {
	t.Helper()
	ctx := heapNew[uint64]()
	for _, c := range []struct {
		name string
		args []uint64
	}{{"cuInit", []uint64{0}}, {"cuDevicePrimaryCtxRetain", []uint64{ptrOf(ctx), 0}}} {
		if r := dispatchByName(api.LibCuda, c.name, c.args...); r != 0 {
			t.Fatalf("%s = %d", c.name, r)
		}
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSetCurrent", *ctx); r != 0 {
		t.Fatalf("cuCtxSetCurrent = %d", r)
	}
}

// TestChunkedUpload: a host-to-device copy of three pieces over a socket (no shared memory)
// costs one round trip (its first two pieces go without waiting), reads back intact, and a copy
// whose second piece runs past the allocation fails with the driver's code at the call itself,
// after which the session goes on and no later call reports that failure again.
func TestChunkedUpload(t *testing.T) {
	connect(t, server.NewSim())
	primaryContext(t)
	p := heapNew[uint64]()
	const n = 2*chunkSize + 12345
	if r := dispatchByName(api.LibCuda, "cuMemAlloc_v2", ptrOf(p), n); r != 0 {
		t.Fatalf("cuMemAlloc_v2 = %d", r)
	}
	src, back := heapBytes(n), heapBytes(n)
	for i := range src {
		src[i] = byte(i*13 + i>>16)
	}
	before := SessionStats()
	if r := dispatchByName(api.LibCuda, "cuMemcpyHtoD_v2", *p, ptrOf(&src[0]), n); r != 0 {
		t.Fatalf("cuMemcpyHtoD_v2 of %d bytes = %d", n, r)
	}
	after := SessionStats()
	if rt := after.RoundTrips - before.RoundTrips; rt != 1 {
		t.Errorf("a 3-piece upload took %d round trips, want 1", rt)
	}
	if r := dispatchByName(api.LibCuda, "cuMemcpyDtoH_v2", ptrOf(&back[0]), *p, n); r != 0 {
		t.Fatalf("cuMemcpyDtoH_v2 = %d", r)
	}
	if !bytes.Equal(src, back) {
		t.Fatal("the device holds other bytes than were uploaded")
	}
	// from 12346 bytes in, 2 pieces and 10 bytes: the first piece fits, the second (sent
	// without waiting) and the third do not
	if r := dispatchByName(api.LibCuda, "cuMemcpyHtoD_v2", *p+12346, ptrOf(&src[0]), 2*chunkSize+10); r != 1 {
		t.Fatalf("an upload past the allocation's end returned %d, want 1 (CUDA_ERROR_INVALID_VALUE)", r)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Fatalf("the session after a failed upload: cuCtxSynchronize = %d", r)
	}
}

// TestChunkedDownload: a device-to-host copy of three pieces over a socket keeps two pieces'
// requests in flight (the worker copies the next piece while this one crosses the network),
// reads back intact, and one whose last piece runs past the allocation fails with the
// driver's code, after the pieces sent were answered; the session goes on.
func TestChunkedDownload(t *testing.T) {
	connect(t, server.NewSim())
	primaryContext(t)
	p := heapNew[uint64]()
	const n = 2*chunkSize + 4321
	if r := dispatchByName(api.LibCuda, "cuMemAlloc_v2", ptrOf(p), n); r != 0 {
		t.Fatalf("cuMemAlloc_v2 = %d", r)
	}
	src, back := heapBytes(n), heapBytes(n)
	for i := range src {
		src[i] = byte(i*29 + i>>15)
	}
	if r := dispatchByName(api.LibCuda, "cuMemcpyHtoD_v2", *p, ptrOf(&src[0]), n); r != 0 {
		t.Fatalf("cuMemcpyHtoD_v2 = %d", r)
	}
	before := SessionStats()
	if r := dispatchByName(api.LibCuda, "cuMemcpyDtoH_v2", ptrOf(&back[0]), *p, n); r != 0 {
		t.Fatalf("cuMemcpyDtoH_v2 of %d bytes = %d", n, r)
	}
	after := SessionStats()
	if !bytes.Equal(src, back) {
		t.Fatal("the bytes read back differ from those uploaded")
	}
	if rt := after.RoundTrips - before.RoundTrips; rt != 3 {
		t.Errorf("a 3-piece download made %d calls that waited, want 3", rt)
	}
	if after.MostAwaited < 2 {
		t.Errorf("a 3-piece download had at most %d requests in flight, want 2", after.MostAwaited)
	}
	// from 5000 bytes in: the first piece fits, the second runs past the end
	if r := dispatchByName(api.LibCuda, "cuMemcpyDtoH_v2", ptrOf(&back[0]), *p+5000, n-4000); r != 1 {
		t.Fatalf("a download past the allocation's end returned %d, want 1 (CUDA_ERROR_INVALID_VALUE)", r)
	}
	if r := dispatchByName(api.LibCuda, "cuCtxSynchronize"); r != 0 {
		t.Fatalf("the session after a failed download: cuCtxSynchronize = %d", r)
	}
	if r := dispatchByName(api.LibCuda, "cuMemcpyDtoH_v2", ptrOf(&back[0]), *p, 64); r != 0 || !bytes.Equal(back[:64], src[:64]) {
		t.Fatalf("a download after the failed one: %d", r)
	}
}

// TestChunkedThroughRings: the same copies with the frames through rings (as on a unix socket
// with VGPU_RING_KB), the smallest and the default: frames of 16 MiB stream through rings of
// 64 KiB and 1 MiB, both ways, with the same round trips and bytes.
func TestChunkedThroughRings(t *testing.T) {
	defer func() { testRings = 0 }()
	for _, n := range []uint64{remoting.MinRing, 1 << 20} {
		testRings = n
		t.Run(fmt.Sprintf("upload-%dKiB", n>>10), TestChunkedUpload)
		t.Run(fmt.Sprintf("download-%dKiB", n>>10), TestChunkedDownload)
	}
}
