package server

import (
	"testing"

	"github.com/ebitengine/purego"
)

// ccall passes every word to the C function and returns its result (labs(-7) = 7; a function of
// fewer parameters ignores the rest).
func TestCcall(t *testing.T) {
	lib, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW)
	if err != nil {
		t.Skip("no libc.so.6:", err)
	}
	labs, err := purego.Dlsym(lib, "labs")
	if err != nil {
		t.Fatal(err)
	}
	var a [maxCallArgs]uintptr
	a[0] = uintptr(^uint64(6)) // -7
	for i := 1; i < maxCallArgs; i++ {
		a[i] = uintptr(i)
	}
	if r := ccall(labs, &a); r != 7 {
		t.Fatalf("labs(-7) through ccall = %d", r)
	}
}

// BenchmarkCcall: the cost of one driver call's FFI (the worker makes one per launch).
func BenchmarkCcall(b *testing.B) {
	lib, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW)
	if err != nil {
		b.Skip(err)
	}
	labs, _ := purego.Dlsym(lib, "labs")
	var a [maxCallArgs]uintptr
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		ccall(labs, &a)
	}
}
