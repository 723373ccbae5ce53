package server

import (
	"net"
	"testing"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// execBackend is a backend whose launches do nothing: it measures the session's own cost.
type execBackend struct{ Sim }

func (e *execBackend) ParamLayout(fn uint64, kernel bool) ([][2]uint64, int32) {
	return [][2]uint64{{0, 8}, {8, 8}, {16, 4}}, 0
}
func (e *execBackend) Launch(l *Launch) int32                       { return 0 }
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

var _ = net.Pipe
