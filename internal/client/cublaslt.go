package client

import (
	"runtime"
	"sync"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/vlog"
)

// cuBLASLt matmul (PyTorch's GEMM path). The client remembers each matmul descriptor's scale
// type, which says how many bytes alpha and beta have; they travel by value, as the other
// cuBLAS scalars do (see internal/api/table_cublas.go).

var ltDescs struct {
	mu    sync.Mutex
	scale map[uint64]int32 // matmul descriptor -> scale type (cudaDataType)
}

const (
	ltDescScaleType   = 1 // CUBLASLT_MATMUL_DESC_SCALE_TYPE
	ltDescPointerMode = 2 // CUBLASLT_MATMUL_DESC_POINTER_MODE
)

func cublasLtMatmulDescCreate(c *call) int64 {
	r := remote(c)
	if r == 0 && c.a[0] != 0 {
		ltDescs.mu.Lock()
		if ltDescs.scale == nil {
			ltDescs.scale = map[uint64]int32{}
		}
		ltDescs.scale[*(*uint64)(ptrAt(c.a[0]))] = int32(uint32(c.a[2]))
		ltDescs.mu.Unlock()
	}
	return r
}

func cublasLtMatmulDescSetAttribute(c *call) int64 {
	attr, buf, size := int32(uint32(c.a[1])), c.a[2], c.a[3]
	if attr == ltDescPointerMode && buf != 0 && size >= 4 {
		if mode := *(*int32)(ptrAt(buf)); mode != 0 { // CUBLASLT_POINTER_MODE_HOST
			vlog.Once("lt-pointer-mode", "cublasLt: scalars in device memory (pointer mode %d) are not supported by vgpu yet", mode)
			return cublasNotSupported
		}
	}
	r := remote(c)
	if r == 0 && attr == ltDescScaleType && buf != 0 && size >= 4 {
		ltDescs.mu.Lock()
		if ltDescs.scale == nil {
			ltDescs.scale = map[uint64]int32{}
		}
		ltDescs.scale[c.a[0]] = *(*int32)(ptrAt(buf))
		ltDescs.mu.Unlock()
	}
	return r
}

// cublasLtMatmul sends alpha and beta by value (their size from the descriptor's scale type,
// zero-padded to the wire's 16 bytes) and the algo, if any, as 64 bytes; never waits.
func cublasLtMatmul(c *call) int64 {
	ltDescs.mu.Lock()
	scale, ok := ltDescs.scale[c.a[1]]
	ltDescs.mu.Unlock()
	if !ok {
		return cublasInvalidValue // not a descriptor of this process
	}
	n, ok := api.CudaDataTypeBytes(scale)
	if !ok || c.a[2] == 0 || c.a[7] == 0 {
		return cublasInvalidValue
	}
	const w = api.CublasScalarWire
	buf := heapBytes(2*w + 64)
	copy(buf[:n], hostBytes(c.a[2], n))
	copy(buf[w:w+n], hostBytes(c.a[7], n))
	algo, algoBytes := uint64(0), uint64(0)
	if c.a[12] != 0 {
		copy(buf[2*w:], hostBytes(c.a[12], 64))
		algo, algoBytes = ptrOf(&buf[2*w]), 64
	}
	a := []uint64{c.a[0], c.a[1], ptrOf(&buf[0]), c.a[3], c.a[4], c.a[5], c.a[6], ptrOf(&buf[w]),
		c.a[8], c.a[9], c.a[10], c.a[11], algo, c.a[13], c.a[14], c.a[15], algoBytes}
	r := cublasCall(&call{id: api.IDvgpuLtMatmul, f: &api.Table[api.IDvgpuLtMatmul], lib: c.lib, a: a})
	runtime.KeepAlive(buf)
	return r
}
