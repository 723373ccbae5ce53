package server

import (
	"encoding/binary"

	"github.com/vgpu/vgpu/internal/api"
)

// Internal rows are vgpu's own batches: the session serves them with the backend's ordinary calls.
func (s *Session) internal(f *api.Func, a *Args) int32 {
	switch f.Name {
	case "vgpuDeviceGetAttributes":
		return s.deviceAttributes(a)
	case "vgpuGetErrorString":
		es, ok := s.be.(ErrorStringer)
		if !ok {
			return f.Lib().Info().NotSupported
		}
		text, ok := es.ErrorString(api.Lib(int32(uint32(a.Vals[0]))), int32(uint32(a.Vals[1])))
		if !ok {
			return 1 // CUDA_ERROR_INVALID_VALUE: the driver knows no such code
		}
		putString(a.Out[2], text)
		return 0
	}
	return f.Lib().Info().NotSupported
}

// deviceAttributes fills 8 bytes per attribute id 1, 2, ...: the value and the result of
// cuDeviceGetAttribute for it.
func (s *Session) deviceAttributes(a *Args) int32 {
	id, f, _ := api.Lookup("cuDeviceGetAttribute")
	out := a.Out[0]
	dev := a.Vals[2]
	one := &Args{Vals: make([]uint64, 3), In: make([][]byte, 3), Out: [][]byte{make([]byte, 4), nil, nil}}
	for k := 0; 8*k+8 <= len(out); k++ {
		one.Vals[1], one.Vals[2] = uint64(k+1), dev
		clear(one.Out[0])
		r := s.be.Invoke(id, f, one)
		copy(out[8*k:], one.Out[0])
		binary.LittleEndian.PutUint32(out[8*k+4:], uint32(r))
	}
	return 0
}

// ErrorStringer is a backend that knows its libraries' own texts for error codes.
type ErrorStringer interface {
	ErrorString(lib api.Lib, code int32) (string, bool)
}
