package client

import (
	"github.com/vgpu/vgpu/internal/api"
)

// forward serves a runtime row that is a driver row with the same arguments (Func.Forward), in
// the calling thread's device context. A per-thread variant (Func.PTSZ) turns the NULL stream
// into CU_STREAM_PER_THREAD. Missing trailing arguments are zero (cudaStreamCreate is
// cuStreamCreate with flags 0).
func forward(c *call) int64 {
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	id, _ := api.ForwardRow(c.id) // (api.Validate: every Forward names a row)
	f := &api.Table[id]
	args := make([]uint64, len(f.Params))
	copy(args, c.a)
	if c.f.PTSZ {
		for i := range f.Params {
			p := &f.Params[i]
			if p.C == "CUstream" && args[i] == 0 {
				args[i] = streamPerThread
			}
		}
	}
	return dispatch[id](&call{id: id, f: f, lib: api.LibCuda, a: args})
}

// CallHostFunc is set by shims/core to call a C function pointer of the program:
// fn(a, b, c) with three word-sized arguments (cudaStreamCallback_t, cudaHostFn_t).
var CallHostFunc func(fn, a, b, c uint64)

// cudaStreamAddCallback runs the callback once the stream's earlier work is done: the stream is
// synchronised, then the callback is called on the calling thread with the stream's status.
func cudaStreamAddCallback(c *call) int64 {
	arg := cudaStreamAddCallbackArgs(c.a)
	if arg.callback() == 0 {
		return cudaErrorInvalidValue
	}
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	status := dispatchRow(api.LibCuda, api.IDcuStreamSynchronize, arg.stream())
	CallHostFunc(arg.callback(), arg.stream(), uint64(status), arg.userData())
	return 0
}

func cudaLaunchHostFunc(c *call) int64 {
	arg := cudaLaunchHostFuncArgs(c.a)
	if arg.fn() == 0 {
		return cudaErrorInvalidValue
	}
	if r := rtContext(); r != 0 {
		return int64(r)
	}
	if r := dispatchRow(api.LibCuda, api.IDcuStreamSynchronize, arg.stream()); r != 0 {
		return r
	}
	CallHostFunc(arg.fn(), arg.userData(), 0, 0)
	return 0
}
