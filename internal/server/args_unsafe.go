package server

import (
	"runtime"
	"unsafe"

	"github.com/vgpu/vgpu/internal/api"
)

// argWord is parameter i as the machine word the C function receives: a value, or the address
// of the session's copy of an input or of its output buffer. The buffers are heap memory, which
// Go does not move; keepAlive holds them until the C call returned.
func argWord(k api.Kind, a *Args, i int) uintptr {
	switch k {
	case api.InBuf, api.InStr:
		return bufAddr(a.In[i])
	case api.OutVal, api.OutBuf, api.OutHandle, api.OutDevPtr, api.InOutVal:
		return bufAddr(a.Out[i])
	}
	return uintptr(a.Vals[i])
}

func bufAddr(b []byte) uintptr {
	if len(b) == 0 {
		return 0
	}
	return uintptr(unsafe.Pointer(unsafe.SliceData(b)))
}

// inAlign is the boundary input values are given at (the widest type a host library loads
// with an aligned instruction: cuDoubleComplex, float4).
const inAlign = 16

// misaligned reports whether b starts off an inAlign boundary.
func misaligned(b []byte) bool { return bufAddr(b)%inAlign != 0 }

// alignPad is how many bytes from the start of b the next inAlign boundary is.
func alignPad(b []byte) int {
	return int((inAlign - uintptr(unsafe.Pointer(unsafe.SliceData(b)))%inAlign) % inAlign)
}

func keepAlive(a *Args) { runtime.KeepAlive(a) }

// addrOf is the address of a word the C callee writes (a pointer-sized output).
func addrOf(p *uintptr) uintptr { return uintptr(unsafe.Pointer(p)) }

// goString copies the NUL-terminated C string at p (a static string of the host library).
func goString(p uintptr) string {
	n := 0
	for *(*byte)(unsafe.Pointer(p + uintptr(n))) != 0 && n < 4096 {
		n++
	}
	return string(unsafe.Slice((*byte)(unsafe.Pointer(p)), n))
}

// unsafePointer is the address p as a pointer (a C global of a host library).
func unsafePointer(p uintptr) unsafe.Pointer { return unsafe.Pointer(p) }
