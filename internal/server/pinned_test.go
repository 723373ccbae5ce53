package server

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"slices"
	"testing"
	"unsafe"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// pinProbe is the sim backend page-locking as the real one does: only with a context current
// (ctx), recording what it registered and where each upload's bytes were when copied.
type pinProbe struct {
	*Sim
	ctx    bool
	pinned [][]byte
	from   []uintptr
}

func (p *pinProbe) ContextCurrent() bool { return p.ctx }
func (p *pinProbe) Pin(b []byte) bool {
	if !p.ctx {
		return false
	}
	if len(b) == pinnedPayloadSize { // the frame buffer; the scratch buffer of downloads is pinned too
		p.pinned = append(p.pinned, b)
	}
	return true
}
func (p *pinProbe) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	if f.Name == "cuMemcpyHtoD_v2" {
		p.from = append(p.from, uintptr(unsafe.Pointer(&a.In[1][0])))
	}
	return p.Sim.Invoke(id, f, a)
}

// inside reports whether address x lies in b.
func inside(x uintptr, b []byte) bool {
	lo := uintptr(unsafe.Pointer(&b[0]))
	return x >= lo && x < lo+uintptr(len(b))
}

// sessionWithContext is a session on be past its Hello, with the primary context current.
func sessionWithContext(t *testing.T, be Backend) *remoting.Conn {
	t.Helper()
	c, _ := pipeSessionWith(t, be)
	helloInit(t, c)
	ctx := binary.LittleEndian.Uint64(call(t, c, 2, "cuDevicePrimaryCtxRetain", []uint64{0}).Bufs[0])
	call(t, c, 3, "cuCtxSetCurrent", []uint64{ctx})
	return c
}

// download reads n bytes at dev back (a large output comes as a Data frame before the reply).
func download(t *testing.T, c *remoting.Conn, id, dev uint64, n int) []byte {
	t.Helper()
	fid, _, _ := api.Lookup("cuMemcpyDtoH_v2")
	send(t, c, remoting.FrameCall, 0, id, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: []uint64{dev, uint64(n)}}))
	var got []byte
	for {
		h, p, err := c.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		switch h.Type {
		case remoting.FrameData:
			got = append(got, p[4:]...)
		case remoting.FrameReply:
			if r := ownReply(t, p); r.Result != 0 {
				t.Fatalf("cuMemcpyDtoH_v2 = %d", r.Result)
			} else if got == nil && len(r.Bufs) > 0 {
				got = r.Bufs[0]
			}
			return got
		default:
			t.Fatalf("cuMemcpyDtoH_v2: got %v frame", h.Type)
		}
	}
}

// A session without shared memory receives uploads of a megabyte or more into a page-locked
// frame buffer, from the first such frame read with a context current; a frame larger than that
// buffer has one of its own, and the bytes arrive unchanged either way.
func TestUploadsLandInPageLockedBuffer(t *testing.T) {
	probe := &pinProbe{Sim: NewSim()}
	c := sessionWithContext(t, probe)
	size := uint64(pinnedPayloadSize + 1<<20)
	r := call(t, c, 3, "cuMemAlloc_v2", []uint64{size})
	if r.Result != 0 {
		t.Fatalf("cuMemAlloc_v2 = %d", r.Result)
	}
	dev := binary.LittleEndian.Uint64(r.Bufs[0])
	upload := func(id uint64, n int, seed byte) {
		t.Helper()
		b := make([]byte, n)
		for i := range b {
			b[i] = seed + byte(i*7)
		}
		if r := call(t, c, id, "cuMemcpyHtoD_v2", []uint64{dev, uint64(n)}, b); r.Result != 0 {
			t.Fatalf("upload %d: cuMemcpyHtoD_v2 = %d", id, r.Result)
		}
		if got := download(t, c, id+100, dev, n); !bytes.Equal(got, b) {
			t.Fatalf("upload %d: read back %d bytes, not what was sent", id, len(got))
		}
	}
	upload(10, 2<<20, 1) // no context current: nothing is page-locked
	if len(probe.pinned) != 0 {
		t.Fatalf("page-locked %d buffers without a context", len(probe.pinned))
	}
	probe.ctx = true
	upload(11, 2<<20, 2) // read, then the frame buffer is page-locked for the frames after it
	if len(probe.pinned) != 1 || len(probe.pinned[0]) != pinnedPayloadSize {
		t.Fatalf("page-locked %d buffers, want one of %d bytes", len(probe.pinned), pinnedPayloadSize)
	}
	upload(12, 3<<20, 3)
	if x := probe.from[len(probe.from)-1]; !inside(x, probe.pinned[0]) {
		t.Errorf("an upload after page-locking was copied from %#x, outside the page-locked buffer", x)
	}
	upload(13, int(size), 4) // larger than the page-locked buffer: a buffer of its own
	if x := probe.from[len(probe.from)-1]; inside(x, probe.pinned[0]) {
		t.Errorf("an upload larger than the page-locked buffer was read into it")
	}
	upload(14, 1<<20, 5) // and the next one fits it again
	if x := probe.from[len(probe.from)-1]; !inside(x, probe.pinned[0]) {
		t.Errorf("after a larger frame, an upload was copied from %#x, outside the page-locked buffer", x)
	}
	if len(probe.pinned) != 1 {
		t.Errorf("page-locked %d buffers, want 1", len(probe.pinned))
	}
}

// dmaProbe is pinProbe with the driver's timing of copies from page-locked memory: an async
// upload whose bytes lie in a page-locked buffer only queues the DMA, which reads them as late as
// the driver may: when an event recorded after it is waited for, the stream is synchronised, or
// a synchronous copy runs. One from pageable memory is copied before the call returns, as the
// real driver stages it.
type dmaProbe struct {
	pinProbe
	queued  []queuedUpload // DMAs not yet run, in order
	ran     int            // DMAs run so far
	marks   map[uint64]int // event -> DMAs queued before it was recorded
	small   []bool         // per async upload: its bytes were outside the page-locked buffers
	behind  int            // most DMAs still queued when a page-locked upload came
	bySyncs int            // DMAs run by a synchronisation of the stream or device
}

type queuedUpload struct {
	dev uint64
	src []byte // aliases the frame buffer, as the driver's DMA would read it
}

func (p *dmaProbe) inPinned(b []byte) bool {
	for _, pb := range p.pinned {
		if len(b) > 0 && inside(uintptr(unsafe.Pointer(&b[0])), pb) {
			return true
		}
	}
	return false
}

// runDMA runs the queued DMAs up to the n-th queued since the session began.
func (p *dmaProbe) runDMA(n int) int32 {
	for p.ran < n && len(p.queued) > 0 {
		q := p.queued[0]
		up := api.IDcuMemcpyHtoD_v2
		if r := p.Sim.Invoke(up, &api.Table[up], &Args{Vals: []uint64{q.dev, 0, uint64(len(q.src))}, In: [][]byte{nil, q.src, nil}, Out: make([][]byte, 3)}); r != 0 {
			return r
		}
		p.queued, p.ran = p.queued[1:], p.ran+1
	}
	return 0
}

func (p *dmaProbe) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	switch id {
	case api.IDcuMemcpyHtoDAsync_v2:
		if p.inPinned(a.In[1]) {
			p.behind = max(p.behind, len(p.queued))
			p.queued = append(p.queued, queuedUpload{a.Vals[0], a.In[1]})
			p.small = append(p.small, false)
			return 0
		}
		p.small = append(p.small, true)
	case api.IDcuEventRecord:
		if r := p.Sim.Invoke(id, f, a); r != 0 {
			return r
		}
		if p.marks == nil {
			p.marks = map[uint64]int{}
		}
		p.marks[a.Vals[0]] = p.ran + len(p.queued)
		return 0
	case api.IDcuEventSynchronize:
		if r := p.runDMA(p.marks[a.Vals[0]]); r != 0 {
			return r
		}
	case api.IDcuStreamSynchronize, api.IDcuCtxSynchronize, api.IDcuMemcpyDtoH_v2, api.IDcuMemcpyHtoD_v2:
		p.bySyncs += len(p.queued)
		if r := p.runDMA(p.ran + len(p.queued)); r != 0 {
			return r
		}
	}
	return p.Sim.Invoke(id, f, a)
}

// Async uploads over a socket, after the frame buffer was page-locked: what the GPU receives is
// what was sent, though the frames after an upload arrive before its DMA would have run (as
// llama.cpp's per-token inputs do over TCP); small ones stay in pageable memory.
func TestAsyncUploadsSurviveTheNextFrame(t *testing.T) {
	probe := &dmaProbe{pinProbe: pinProbe{Sim: NewSim(), ctx: true}}
	c := sessionWithContext(t, probe)
	const big, small = 2 << 20, 4096
	total := 2*big + small
	r := call(t, c, 4, "cuMemAlloc_v2", []uint64{uint64(total)})
	if r.Result != 0 {
		t.Fatalf("cuMemAlloc_v2 = %d", r.Result)
	}
	dev := binary.LittleEndian.Uint64(r.Bufs[0])
	want := make([]byte, total)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	if r := call(t, c, 5, "cuMemcpyHtoD_v2", []uint64{dev, uint64(big)}, make([]byte, big)); r.Result != 0 {
		t.Fatalf("cuMemcpyHtoD_v2 = %d", r.Result)
	}
	if len(probe.pinned) != 1 {
		t.Fatalf("page-locked %d frame buffers, want 1", len(probe.pinned))
	}
	fid, _, _ := api.Lookup("cuMemcpyHtoDAsync_v2")
	for k, piece := range [][2]int{{0, big}, {big, 2 * big}, {2 * big, total}} {
		lo, hi := piece[0], piece[1]
		send(t, c, remoting.FrameCall, remoting.FlagAsync, uint64(10+k), remoting.AppendCall(nil, &remoting.Call{
			Fn: uint32(fid), Scalars: []uint64{dev + uint64(lo), uint64(hi - lo), 0}, Bufs: [][]byte{want[lo:hi]}}))
	}
	if r := call(t, c, 20, "cuStreamSynchronize", []uint64{0}); r.Result != 0 {
		t.Fatalf("cuStreamSynchronize = %d (a deferred error: %d)", r.Result, r.DeferredCode)
	}
	got := download(t, c, 21, dev, total)
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("the GPU holds something else than was uploaded from byte %d on (of %d): an async upload's bytes were overwritten by a later frame before its DMA", i, total)
		}
	}
	if want := []bool{false, false, true}; !slices.Equal(probe.small, want) {
		t.Errorf("async uploads from pageable memory: %v, want %v (the page-locked buffer is for frames of %d bytes or more)", probe.small, want, pinnedPayloadMin)
	}
}

// The pieces of a large upload over a socket cross the network while the GPU copies the piece
// before: each but the last (sent without waiting for its reply) only queues its DMA, from one of
// two page-locked frame buffers in turn, and a buffer is read into again only once the event
// after its DMA is done. The bytes arrive unchanged though each DMA runs as late as the driver
// may run it, and the last piece, which the client waits for, comes after the others.
func TestUploadPiecesOverlapTheirCopy(t *testing.T) {
	probe := &dmaProbe{pinProbe: pinProbe{Sim: NewSim(), ctx: true}}
	c := sessionWithContext(t, probe)
	const piece, pieces = 2 << 20, 5
	r := call(t, c, 4, "cuMemAlloc_v2", []uint64{piece * pieces})
	if r.Result != 0 {
		t.Fatalf("cuMemAlloc_v2 = %d", r.Result)
	}
	dev := binary.LittleEndian.Uint64(r.Bufs[0])
	if r := call(t, c, 5, "cuMemcpyHtoD_v2", []uint64{dev, piece}, make([]byte, piece)); r.Result != 0 {
		t.Fatalf("cuMemcpyHtoD_v2 = %d", r.Result) // page-locks the frame buffer for the frames after it
	}
	want := make([]byte, piece*pieces)
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range want {
		want[i] = byte(rng.Uint32())
	}
	fid, _, _ := api.Lookup("cuMemcpyHtoD_v2")
	for k := range pieces - 1 { // as client.chunked sends them
		lo := k * piece
		send(t, c, remoting.FrameCall, remoting.FlagAsync, uint64(10+k), remoting.AppendCall(nil, &remoting.Call{
			Fn: uint32(fid), Scalars: []uint64{dev + uint64(lo), piece}, Bufs: [][]byte{want[lo : lo+piece]}}))
	}
	lo := (pieces - 1) * piece
	if r := call(t, c, 20, "cuMemcpyHtoD_v2", []uint64{dev + uint64(lo), piece}, want[lo:]); r.Result != 0 || r.DeferredCode != 0 {
		t.Fatalf("the last piece: cuMemcpyHtoD_v2 = %d (a deferred error: %d)", r.Result, r.DeferredCode)
	}
	if len(probe.queued) != 0 {
		t.Errorf("DMAs still queued after the last piece returned: %d", len(probe.queued))
	}
	got := download(t, c, 21, dev, len(want))
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("the GPU holds something else than was uploaded from byte %d on (of %d): a frame buffer was read into before its DMA ran", i, len(want))
		}
	}
	if len(probe.pinned) != 2 {
		t.Errorf("page-locked %d frame buffers, want 2", len(probe.pinned))
	}
	if probe.behind != 1 {
		t.Errorf("a piece arrived with at most %d DMAs still queued, want 1 (the piece before it, copied while this one crossed the network)", probe.behind)
	}
	if want := 1; probe.bySyncs != want {
		t.Errorf("%d DMAs waited for by a synchronisation, want %d (the piece before the last, which the last one's synchronous copy follows)", probe.bySyncs, want)
	}
}
