package main

import (
	"sync"
	"unsafe"

	"github.com/vgpu/vgpu/internal/client"
)

// The client makes C strings for cuGetErrorName-style results. In libvgpucore.so they are
// malloc'd C memory; in this Go program they are Go heap bytes that are never freed (kept
// reachable here, and Go's heap does not move), which is all an in-process caller needs.
var (
	cstrMu sync.Mutex
	cstrs  [][]byte
)

func init() {
	client.NewCString = func(s string) uint64 {
		b := make([]byte, len(s)+1)
		copy(b, s)
		cstrMu.Lock()
		cstrs = append(cstrs, b)
		cstrMu.Unlock()
		return uint64(uintptr(unsafe.Pointer(&b[0])))
	}
}
