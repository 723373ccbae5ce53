package server

/*
#include <stdint.h>

typedef uintptr_t (*vgpu_fn24)(uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t, uintptr_t);

// Calls fn with 24 word arguments; a C function that takes fewer ignores the rest (the x86-64
// and arm64 C calling conventions let the caller pass more integer arguments than are read).
static uintptr_t vgpu_ccall(uintptr_t fn, uintptr_t a0, uintptr_t a1, uintptr_t a2, uintptr_t a3, uintptr_t a4, uintptr_t a5, uintptr_t a6, uintptr_t a7, uintptr_t a8, uintptr_t a9, uintptr_t a10, uintptr_t a11, uintptr_t a12, uintptr_t a13, uintptr_t a14, uintptr_t a15, uintptr_t a16, uintptr_t a17, uintptr_t a18, uintptr_t a19, uintptr_t a20, uintptr_t a21, uintptr_t a22, uintptr_t a23)
{
	return ((vgpu_fn24)fn)(a0, a1, a2, a3, a4, a5, a6, a7, a8, a9, a10, a11, a12, a13, a14, a15, a16, a17, a18, a19, a20, a21, a22, a23);
}
*/
import "C"

// ccall calls the C function at fn with the words in a (unused ones zero). This is a
// plain C call: no allocation, about a third of purego.SyscallN's cost, which matters on the
// launch path (the worker makes one per kernel launch).
func ccall(fn uintptr, a *[maxCallArgs]uintptr) uintptr {
	return uintptr(C.vgpu_ccall(C.uintptr_t(fn), C.uintptr_t(a[0]), C.uintptr_t(a[1]), C.uintptr_t(a[2]), C.uintptr_t(a[3]), C.uintptr_t(a[4]), C.uintptr_t(a[5]), C.uintptr_t(a[6]), C.uintptr_t(a[7]), C.uintptr_t(a[8]), C.uintptr_t(a[9]), C.uintptr_t(a[10]), C.uintptr_t(a[11]), C.uintptr_t(a[12]), C.uintptr_t(a[13]), C.uintptr_t(a[14]), C.uintptr_t(a[15]), C.uintptr_t(a[16]), C.uintptr_t(a[17]), C.uintptr_t(a[18]), C.uintptr_t(a[19]), C.uintptr_t(a[20]), C.uintptr_t(a[21]), C.uintptr_t(a[22]), C.uintptr_t(a[23])))
}
