package server

import (
	"bytes"
	"encoding/binary"
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
	c, _ := pipeSessionWith(t, probe)
	if h, _ := hello(t, c, api.TableHash()); h.Type != remoting.FrameWelcome {
		t.Fatalf("hello answered with %v", h.Type)
	}
	call(t, c, 1, "cuInit", []uint64{0})
	ctx := binary.LittleEndian.Uint64(call(t, c, 2, "cuDevicePrimaryCtxRetain", []uint64{0}).Bufs[0])
	call(t, c, 4, "cuCtxSetCurrent", []uint64{ctx})
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
