package client

import (
	"runtime"
	"sync"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/vlog"
)

// cuBLASLt matmul (PyTorch's GEMM path). Descriptors, layouts and preferences are handles the
// client mints (api.P.Minted: marshal in call.go), so their creators are sent without waiting.
// The client remembers each matmul descriptor's scale type, which says how many bytes alpha and
// beta have; they travel by value, as the other cuBLAS scalars do (see
// internal/api/table_cublas.go).

var ltDescs struct {
	mu    sync.Mutex
	scale map[uint64]int32 // matmul descriptor -> scale type (cudaDataType)
}

const (
	ltDescScaleType   = 1 // CUBLASLT_MATMUL_DESC_SCALE_TYPE
	ltDescPointerMode = 2 // CUBLASLT_MATMUL_DESC_POINTER_MODE
)

// cublasLtMatmulDescCreate sends the create without waiting (the handle is minted) and remembers
// the descriptor's scale type.
func cublasLtMatmulDescCreate(c *call) int64 {
	arg := cublasLtMatmulDescCreateArgs(c.a)
	r := remoteAsync(c)
	if r == 0 {
		ltDescs.mu.Lock()
		if ltDescs.scale == nil {
			ltDescs.scale = map[uint64]int32{}
		}
		ltDescs.scale[*(*uint64)(ptrAt(arg.matmulDesc()))] = int32(uint32(arg.scaleType()))
		ltDescs.mu.Unlock()
	}
	return r
}

// cublasLtMatmulDescDestroy forgets the descriptor's scale type (a minted handle is never
// handed out again, so nothing else would) and sends the destroy without waiting.
func cublasLtMatmulDescDestroy(c *call) int64 {
	arg := cublasLtMatmulDescDestroyArgs(c.a)
	r := remoteAsync(c)
	if r == 0 {
		ltDescs.mu.Lock()
		delete(ltDescs.scale, arg.matmulDesc())
		ltDescs.mu.Unlock()
	}
	return r
}

func cublasLtMatmulDescSetAttribute(c *call) int64 {
	arg := cublasLtMatmulDescSetAttributeArgs(c.a)
	attr, buf, size := int32(uint32(arg.attr())), arg.buf(), arg.sizeInBytes()
	if attr == ltDescPointerMode && buf != 0 && size >= 4 {
		if mode := *(*int32)(ptrAt(buf)); mode != 0 { // CUBLASLT_POINTER_MODE_HOST
			vlog.Once("lt-pointer-mode", "cublasLt: scalars in device memory (pointer mode %d) are not supported by vgpu yet", mode)
			return cublasNotSupported
		}
	}
	r := remoteAsync(c) // (the API's code for a bad attribute or size comes at the next synchronising call)
	if r == 0 && attr == ltDescScaleType && buf != 0 && size >= 4 {
		ltDescs.mu.Lock()
		if ltDescs.scale == nil {
			ltDescs.scale = map[uint64]int32{}
		}
		ltDescs.scale[arg.matmulDesc()] = *(*int32)(ptrAt(buf))
		ltDescs.mu.Unlock()
	}
	return r
}

// cublasLtMatmul sends alpha and beta by value (their size from the descriptor's scale type,
// zero-padded to the wire's 16 bytes) and the algo, if any, as 64 bytes; never waits.
func cublasLtMatmul(c *call) int64 {
	arg := cublasLtMatmulArgs(c.a)
	ltDescs.mu.Lock()
	scale, ok := ltDescs.scale[arg.computeDesc()]
	ltDescs.mu.Unlock()
	if !ok {
		return cublasInvalidValue // not a descriptor of this process
	}
	n, ok := api.CudaDataTypeBytes(scale)
	if !ok || arg.alpha() == 0 || arg.beta() == 0 {
		return cublasInvalidValue
	}
	const w = api.CublasScalarWire
	buf := heapBytes(2*w + 64)
	copy(buf[:n], hostBytes(arg.alpha(), n))
	copy(buf[w:w+n], hostBytes(arg.beta(), n))
	algo, algoBytes := uint64(0), uint64(0)
	if arg.algo() != 0 {
		copy(buf[2*w:], hostBytes(arg.algo(), 64))
		algo, algoBytes = ptrOf(&buf[2*w]), 64
	}
	a := []uint64{arg.lightHandle(), arg.computeDesc(), ptrOf(&buf[0]), arg.A(), arg.Adesc(), arg.B(), arg.Bdesc(), ptrOf(&buf[w]),
		arg.C(), arg.Cdesc(), arg.D(), arg.Ddesc(), algo, arg.workspace(), arg.workspaceSizeInBytes(), arg.stream(), algoBytes}
	r := cublasCall(&call{id: api.IDvgpuLtMatmul, f: &api.Table[api.IDvgpuLtMatmul], lib: c.lib, a: a})
	runtime.KeepAlive(buf)
	return r
}
