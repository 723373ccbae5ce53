package server

import (
	"encoding/binary"
	"runtime"
	"unsafe"

	"github.com/vgpu/vgpu/internal/api"
)

// The real backend's kernel launches and 2D copies: the calls whose arguments are pointer
// structures (kernelParams, CUlaunchConfig, CUDA_MEMCPY2D) built here from checked data.

// call runs the function row id names on the host's driver.
func (r *Real) call(id api.ID, args ...uintptr) int32 {
	p := r.sym(id, id.Func())
	if p == 0 {
		return 801
	}
	var a [maxCallArgs]uintptr
	copy(a[:], args)
	return int32(uint32(ccall(p, &a)))
}

func (r *Real) ParamLayout(fn uint64, kernel bool) ([][2]uint64, int32) {
	id := api.IDcuFuncGetParamInfo
	if kernel {
		id = api.IDcuKernelGetParamInfo
	}
	var out [][2]uint64
	off, size := new(uint64), new(uint64)
	for i := uintptr(0); i < 4096; i++ {
		res := r.call(id, uintptr(fn), i, uintptr(unsafe.Pointer(off)), uintptr(unsafe.Pointer(size)))
		if res == 1 { // CUDA_ERROR_INVALID_VALUE: past the last parameter
			break
		}
		if res != 0 {
			return nil, res
		}
		out = append(out, [2]uint64{*off, *size})
	}
	return out, 0
}

func (r *Real) Launch(l *Launch) int32 {
	// kernelParams: one pointer per parameter, into the packed buffer.
	if cap(r.ptrs) < len(l.Layout)+1 {
		r.ptrs = make([]uintptr, len(l.Layout)+1)
	}
	ptrs := r.ptrs[:len(l.Layout)+1]
	base := uintptr(0)
	if len(l.Params) > 0 {
		base = uintptr(unsafe.Pointer(&l.Params[0]))
	}
	for i, p := range l.Layout {
		ptrs[i] = base + uintptr(p[0])
	}
	kp := uintptr(unsafe.Pointer(&ptrs[0]))
	var res int32
	switch {
	case len(l.Attrs) > 0:
		// CUlaunchConfig: grid xyz, block xyz, sharedMemBytes, hStream, attrs, numAttrs
		cfg := make([]byte, 56)
		le := binary.LittleEndian
		for i := 0; i < 3; i++ {
			le.PutUint32(cfg[4*i:], l.Grid[i])
			le.PutUint32(cfg[12+4*i:], l.Block[i])
		}
		le.PutUint32(cfg[24:], l.SharedMem)
		le.PutUint64(cfg[32:], l.Stream)
		le.PutUint64(cfg[40:], uint64(uintptr(unsafe.Pointer(&l.Attrs[0]))))
		le.PutUint32(cfg[48:], uint32(len(l.Attrs)/72))
		res = r.call(api.IDcuLaunchKernelEx, uintptr(unsafe.Pointer(&cfg[0])), uintptr(l.Func), kp, 0)
		runtime.KeepAlive(cfg)
	case l.Cooperative:
		res = r.call(api.IDcuLaunchCooperativeKernel, uintptr(l.Func), uintptr(l.Grid[0]), uintptr(l.Grid[1]), uintptr(l.Grid[2]),
			uintptr(l.Block[0]), uintptr(l.Block[1]), uintptr(l.Block[2]), uintptr(l.SharedMem), uintptr(l.Stream), kp)
	default:
		res = r.call(api.IDcuLaunchKernel, uintptr(l.Func), uintptr(l.Grid[0]), uintptr(l.Grid[1]), uintptr(l.Grid[2]),
			uintptr(l.Block[0]), uintptr(l.Block[1]), uintptr(l.Block[2]), uintptr(l.SharedMem), uintptr(l.Stream), kp, 0)
	}
	runtime.KeepAlive(l)
	runtime.KeepAlive(ptrs)
	return res
}

func (r *Real) Memcpy2D(desc, in, out []byte, stream uint64) int32 {
	d := make([]byte, 128)
	copy(d, desc)
	le := binary.LittleEndian
	if len(in) > 0 {
		le.PutUint64(d[24:], uint64(uintptr(unsafe.Pointer(&in[0]))))
	}
	if len(out) > 0 {
		le.PutUint64(d[80:], uint64(uintptr(unsafe.Pointer(&out[0]))))
	}
	// Ordered on the caller's stream, finished before the buffers go back.
	res := r.call(api.IDcuMemcpy2DAsync_v2, uintptr(unsafe.Pointer(&d[0])), uintptr(stream))
	if res == 0 {
		res = r.call(api.IDcuStreamSynchronize, uintptr(stream))
	}
	runtime.KeepAlive(in)
	runtime.KeepAlive(out)
	runtime.KeepAlive(d)
	return res
}

func (r *Real) CaptureInfo(stream uint64) (uint32, uint64, uint64, []uint64, int32) {
	var status uint32
	var id, graph, n uint64
	var deps, edges uintptr
	res := r.call(api.IDcuStreamGetCaptureInfo_v3, uintptr(stream), uintptr(unsafe.Pointer(&status)), uintptr(unsafe.Pointer(&id)),
		uintptr(unsafe.Pointer(&graph)), uintptr(unsafe.Pointer(&deps)), uintptr(unsafe.Pointer(&edges)), uintptr(unsafe.Pointer(&n)))
	if res != 0 {
		return 0, 0, 0, nil, res
	}
	var out []uint64
	if deps != 0 {
		out = append(out, unsafe.Slice((*uint64)(unsafe.Pointer(deps)), min(n, 64))...)
	}
	return status, id, graph, out, 0
}

// Pin page-locks b for every context (cuMemHostRegister, CU_MEMHOSTREGISTER_PORTABLE), once a
// context exists; b must stay alive for the session (the session keeps it).
func (r *Real) Pin(b []byte) bool {
	if len(b) == 0 || !r.ContextCurrent() {
		return false
	}
	return r.call(api.IDcuMemHostRegister_v2, uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), 1) == 0
}

// ContextCurrent reports whether the calling thread has a context current (what Pin needs).
func (r *Real) ContextCurrent() bool {
	var ctx uintptr
	return r.call(api.IDcuCtxGetCurrent, uintptr(unsafe.Pointer(&ctx))) == 0 && ctx != 0
}

func (r *Real) CopyHtoD(dst uint64, src []byte, stream uint64) int32 {
	if stream == 0 {
		return r.call(api.IDcuMemcpyHtoD_v2, uintptr(dst), uintptr(unsafe.Pointer(&src[0])), uintptr(len(src)))
	}
	res := r.call(api.IDcuMemcpyHtoDAsync_v2, uintptr(dst), uintptr(unsafe.Pointer(&src[0])), uintptr(len(src)), uintptr(stream))
	if res == 0 {
		res = r.call(api.IDcuStreamSynchronize, uintptr(stream))
	}
	return res
}

// CopyHtoDAsync queues the copy and records a fence event after it, one per context and stream
// until the next ShmFence (each copy records it again: stream order makes the last record cover
// the earlier copies).
func (r *Real) CopyHtoDAsync(dst uint64, src []byte, stream uint64) int32 {
	res := r.call(api.IDcuMemcpyHtoDAsync_v2, uintptr(dst), uintptr(unsafe.Pointer(&src[0])), uintptr(len(src)), uintptr(stream))
	if res != 0 {
		return res
	}
	var ctx uintptr
	if res := r.call(api.IDcuCtxGetCurrent, uintptr(unsafe.Pointer(&ctx))); res != 0 {
		return res
	}
	key := [2]uint64{uint64(ctx), stream}
	ev, ok := r.fences[key]
	if !ok {
		const disableTiming = 0x2 // CU_EVENT_DISABLE_TIMING
		if res := r.call(api.IDcuEventCreate, uintptr(unsafe.Pointer(&ev)), disableTiming); res != 0 {
			return res
		}
		if r.fences == nil {
			r.fences = map[[2]uint64]uintptr{}
		}
		r.fences[key] = ev
	}
	return r.call(api.IDcuEventRecord, ev, uintptr(stream))
}

// ShmFence waits for every copy CopyHtoDAsync queued, then destroys the fence events.
func (r *Real) ShmFence() int32 {
	var first int32
	for key, ev := range r.fences {
		if res := r.call(api.IDcuEventSynchronize, ev); !fenceOK(res) && first == 0 {
			first = res
		}
		r.call(api.IDcuEventDestroy_v2, ev)
		delete(r.fences, key)
	}
	return first
}

// fenceOK reports whether a wait for a fence event of the worker's own succeeded, or found the event
// gone with its context (reset or destroyed since), which took the copies before it along: not
// an error of those copies.
func fenceOK(res int32) bool {
	const invalidHandle, contextDestroyed = 400, 709 // CUDA_ERROR_INVALID_HANDLE, CUDA_ERROR_CONTEXT_IS_DESTROYED
	return res == 0 || res == invalidHandle || res == contextDestroyed
}

func (r *Real) CopyDtoH(dst []byte, src uint64, stream uint64) int32 {
	if stream == 0 {
		return r.call(api.IDcuMemcpyDtoH_v2, uintptr(unsafe.Pointer(&dst[0])), uintptr(src), uintptr(len(dst)))
	}
	res := r.call(api.IDcuMemcpyDtoHAsync_v2, uintptr(unsafe.Pointer(&dst[0])), uintptr(src), uintptr(len(dst)), uintptr(stream))
	if res == 0 {
		res = r.call(api.IDcuStreamSynchronize, uintptr(stream))
	}
	return res
}

// PointerAttributes runs cuPointerGetAttributes twice, into slots filled with 0x00 and with
// 0xff: the bytes the driver wrote are those equal in both, which tells the client how many to
// copy into each of the caller's variables (a "boolean" attribute is not a documented size).
func (r *Real) PointerAttributes(attrs []byte, ptr uint64, out []byte) int32 {
	n := len(attrs) / 4
	if n == 0 || len(out) < 72*n {
		return 1
	}
	const slot = 64
	a, b := make([]byte, slot*n), make([]byte, slot*n)
	for i := range b {
		b[i] = 0xff
	}
	pa, pb := make([]uintptr, n), make([]uintptr, n)
	for i := 0; i < n; i++ {
		pa[i] = uintptr(unsafe.Pointer(&a[slot*i]))
		pb[i] = uintptr(unsafe.Pointer(&b[slot*i]))
	}
	res := r.call(api.IDcuPointerGetAttributes, uintptr(n), uintptr(unsafe.Pointer(&attrs[0])), uintptr(unsafe.Pointer(&pa[0])), uintptr(ptr))
	if res == 0 {
		res = r.call(api.IDcuPointerGetAttributes, uintptr(n), uintptr(unsafe.Pointer(&attrs[0])), uintptr(unsafe.Pointer(&pb[0])), uintptr(ptr))
	}
	runtime.KeepAlive(a)
	runtime.KeepAlive(b)
	runtime.KeepAlive(attrs)
	if res != 0 {
		return res
	}
	for i := 0; i < n; i++ {
		sa, sb := a[slot*i:slot*(i+1)], b[slot*i:slot*(i+1)]
		l := 0
		for l < slot && sa[l] == sb[l] {
			l++
		}
		binary.LittleEndian.PutUint64(out[72*i:], uint64(l))
		copy(out[72*i+8:72*i+72], sa)
	}
	return 0
}
