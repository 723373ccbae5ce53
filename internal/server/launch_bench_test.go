package server

import (
	"encoding/binary"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// execBackend is a backend whose launches do nothing: it measures the session's own cost.
type execBackend struct{ Sim }

func (e *execBackend) ParamLayout(fn uint64, kernel bool) ([][2]uint64, int32) {
	return [][2]uint64{{0, 8}, {8, 8}, {16, 4}}, 0
}
func (e *execBackend) Launch(l *Launch) int32                        { return 0 }
func (e *execBackend) Memcpy2D(desc, in, out []byte, s uint64) int32 { return 0 }
func (e *execBackend) CaptureInfo(s uint64) (uint32, uint64, uint64, []uint64, int32) {
	return 0, 0, 0, nil, 0
}

// BenchmarkSessionLaunch: the server-side cost of one async kernel launch, from the frame to
// the backend (the backend's launch itself excluded).
func BenchmarkSessionLaunch(b *testing.B) {
	be := &execBackend{Sim: *NewSim()}
	s := NewSession(1, nil, be)
	fn := uint64(0xf00)
	s.handles[fn] = api.HFunction
	id, _, _ := api.Lookup("vgpuLaunchKernel")
	params := make([]byte, 20)
	p := remoting.AppendCall(nil, &remoting.Call{Fn: uint32(id), Scalars: []uint64{fn, 1, 1, 1, 32, 1, 1, 0, 0, 0, 20, 0}, Bufs: [][]byte{params, nil}})
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := remoting.DecodeCallInto(p, &s.call); err != nil {
			b.Fatal(err)
		}
		if r, _, _, err := s.exec(&s.call); err != nil || r != 0 {
			b.Fatal(r, err)
		}
	}
}

// The worker checks a launch against its own copy of the function's layout and the launch
// attributes against those that carry no pointer; a 2D copy's rows against the session's
// allocations and its host side against the bytes that came.
func TestLaunchAndCopy2DChecks(t *testing.T) {
	be := &execBackend{Sim: *NewSim()}
	s := NewSession(1, nil, be)
	fn := uint64(0xf00)
	s.handles[fn] = api.HFunction
	s.allocs.Add(0x10000, 4096)
	launch := func(params []byte, attrs []byte) int32 {
		id, _, _ := api.Lookup("vgpuLaunchKernel")
		c := remoting.Call{Fn: uint32(id), Scalars: []uint64{fn, 1, 1, 1, 32, 1, 1, 0, 0, 0, uint64(len(params)), uint64(len(attrs))}, Bufs: [][]byte{params, attrs}}
		r, _, _, err := s.exec(&c)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	if r := launch(make([]byte, 20), nil); r != 0 {
		t.Fatalf("a launch with the layout's 20 bytes = %d", r)
	}
	if r := launch(make([]byte, 16), nil); r != 1 {
		t.Fatalf("a launch with 16 parameter bytes for a 20-byte layout = %d, want 1", r)
	}
	attr := make([]byte, 72)
	attr[0] = 8 // priority: allowed
	if r := launch(make([]byte, 20), attr); r != 0 {
		t.Fatalf("a launch with a priority attribute = %d", r)
	}
	attr[0] = 12 // launch completion event: carries an event handle
	if r := launch(make([]byte, 20), attr); r != 801 {
		t.Fatalf("a launch with an event attribute = %d, want 801", r)
	}
	if r := launch(make([]byte, 20), make([]byte, 70)); r != 1 {
		t.Fatalf("a launch with a torn attribute record = %d, want 1", r)
	}

	copy2D := func(desc []byte, in []byte, outBytes uint64) int32 {
		id, _, _ := api.Lookup("vgpuMemcpy2D")
		c := remoting.Call{Fn: uint32(id), Scalars: []uint64{uint64(len(in)), outBytes, 0}, Bufs: [][]byte{desc, in}}
		r, _, _, err := s.exec(&c)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	le := binary.LittleEndian
	desc := func(dev, pitch, w, h uint64) []byte {
		d := make([]byte, 128)
		le.PutUint32(d[16:], 1) // source: host (packed)
		le.PutUint64(d[48:], w)
		le.PutUint32(d[72:], 2) // destination: device
		le.PutUint64(d[88:], dev)
		le.PutUint64(d[104:], pitch)
		le.PutUint64(d[112:], w)
		le.PutUint64(d[120:], h)
		return d
	}
	if r := copy2D(desc(0x10000, 512, 100, 8), make([]byte, 800), 0); r != 0 {
		t.Fatalf("a 2D copy inside the allocation = %d", r)
	}
	if r := copy2D(desc(0x10000, 512, 100, 9), make([]byte, 900), 0); r != 1 {
		t.Fatalf("a 2D copy whose last row passes the allocation = %d, want 1", r)
	}
	if r := copy2D(desc(0x10000, 512, 100, 8), make([]byte, 799), 0); r != 1 {
		t.Fatalf("a 2D copy with a short host side = %d, want 1", r)
	}
	if r := copy2D(desc(0x10000, 64, 100, 2), make([]byte, 200), 0); r != 1 {
		t.Fatalf("a 2D copy with pitch < width = %d, want 1", r)
	}
}

// BenchmarkServeLaunches: the worker's whole cost of an async launch, frames read from a socket
// included (a backend whose launches do nothing), as the launch-rate benchmark drives it: the
// client writes batches of launches, then one synchronising call.
func BenchmarkServeLaunches(b *testing.B) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	sc, _ := remoting.FDConnOf(fds[1])
	be := &execBackend{Sim: *NewSim()}
	s := NewSession(1, sc, be)
	fn := uint64(0xf00)
	s.handles[fn] = api.HFunction
	go s.Serve()
	cc, _ := remoting.FDConnOf(fds[0])
	c := remoting.NewConn(cc)
	defer cc.Close()
	hello := remoting.AppendHello(nil, &remoting.Hello{Version: remoting.ProtocolVersion, TableHash: api.TableHash(), PID: 1})
	if err := c.WriteFrame(remoting.Header{Length: uint32(len(hello)), Type: remoting.FrameHello}, hello); err != nil {
		b.Fatal(err)
	}
	c.Flush()
	if _, _, err := c.ReadFrame(); err != nil {
		b.Fatal(err)
	}
	id, _, _ := api.Lookup("vgpuLaunchKernel")
	params := make([]byte, 20)
	launch := remoting.AppendCall(nil, &remoting.Call{Fn: uint32(id), Scalars: []uint64{fn, 1, 1, 1, 32, 1, 1, 0, 0, 0, 20, 0}, Bufs: [][]byte{params, nil}})
	syncID, _, _ := api.Lookup("cuCtxSynchronize")
	sync := remoting.AppendCall(nil, &remoting.Call{Fn: uint32(syncID)})
	req := uint64(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req++
		if err := c.WriteFrame(remoting.Header{Length: uint32(len(launch)), Type: remoting.FrameCall, Flags: remoting.FlagAsync, ReqID: req}, launch); err != nil {
			b.Fatal(err)
		}
		if i%64 == 63 || i == b.N-1 {
			if err := c.Flush(); err != nil {
				b.Fatal(err)
			}
		}
	}
	req++
	c.WriteFrame(remoting.Header{Length: uint32(len(sync)), Type: remoting.FrameCall, ReqID: req}, sync)
	c.Flush()
	for {
		h, _, err := c.ReadFrame()
		if err != nil {
			b.Fatal(err)
		}
		if h.Type == remoting.FrameReply && h.ReqID == req {
			break
		}
	}
}
