package client

import "unsafe"

// hostBytes views n bytes of the calling process's memory at address p (a pointer a C caller
// passed). The caller guarantees the memory is valid for the duration of the call, as the CUDA
// API requires of its callers.
//
// go:nocheckptr: p is a caller's address (C memory in the core; tests pass Go memory).
//
//go:nocheckptr
func hostBytes(p uint64, n int) []byte {
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(uintptr(p))), n)
}

// cStringBytes returns the bytes of the NUL-terminated string at p, without the NUL, reading at
// most max bytes.
//
// go:nocheckptr: p is a caller's address (C memory in the core; tests pass Go memory).
//
//go:nocheckptr
func cStringBytes(p uint64, max int) []byte {
	base := unsafe.Pointer(uintptr(p))
	n := 0
	for n < max && *(*byte)(unsafe.Add(base, n)) != 0 {
		n++
	}
	return unsafe.Slice((*byte)(base), n)
}

// argsAt views the n widened arguments a stub passed.
func argsAt(p unsafe.Pointer) func(n int) []uint64 {
	return func(n int) []uint64 {
		if n == 0 || p == nil {
			return nil
		}
		return unsafe.Slice((*uint64)(p), n)
	}
}

// Dispatch is the core's one entry point for every stub call: id is the table id with the
// calling library in its top byte, args the stub's array of widened arguments.
func Dispatch(id uint32, args unsafe.Pointer) int64 {
	return dispatchCall(id, argsAt(args))
}

// ptrOf is the address of a value that must not move while a call uses it (allocate with new).
func ptrOf[T any](v *T) uint64 { return uint64(uintptr(unsafe.Pointer(v))) }

// store writes v to the C pointer p.
//
// go:nocheckptr: p is a caller's address (C memory in the core; tests pass Go memory).
//
//go:nocheckptr
func store[T any](p uint64, v T) { *(*T)(unsafe.Pointer(uintptr(p))) = v }

// NewCString is set by shims/core to make C strings that live as long as the process (C memory:
// Go memory may not be handed to C and kept).
var NewCString func(string) uint64

// ptrAt is the C address p as a pointer.
//
// go:nocheckptr: p is a caller's address (C memory in the core; tests pass Go memory).
//
//go:nocheckptr
func ptrAt(p uint64) unsafe.Pointer { return unsafe.Pointer(uintptr(p)) }
