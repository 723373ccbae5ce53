// Command core is libvgpucore.so, the one Go runtime of a client process. It only converts
// between C and Go: every stub library (shims/cuda, shims/nvml, shims/cudart) forwards its calls
// to vgpu_call, and all logic lives in internal/client.
package main

/*
#include <stdint.h>
#include <stddef.h>
uint64_t vgpu_cstring(const char *s, size_t n);
void vgpu_call_host(uint64_t fn, uint64_t a, uint64_t b, uint64_t c);
void vgpu_write_stdout(const char *p, size_t n);
int vgpu_tid(void);
extern int vgpu_ended_pending;
int vgpu_take_ended(int *out, int n);
*/
import "C"

import (
	"sync/atomic"
	"unsafe"

	"github.com/vgpu/vgpu/internal/client"
)

func init() {
	client.ThreadID = func() int { return int(C.vgpu_tid()) }
	client.WriteStdout = func(b []byte) {
		if len(b) > 0 {
			C.vgpu_write_stdout((*C.char)(unsafe.Pointer(&b[0])), C.size_t(len(b)))
		}
	}
	client.CallHostFunc = func(fn, a, b, c uint64) {
		C.vgpu_call_host(C.uint64_t(fn), C.uint64_t(a), C.uint64_t(b), C.uint64_t(c))
	}
	client.NewCString = func(s string) uint64 {
		if len(s) == 0 {
			return uint64(C.vgpu_cstring(nil, 0))
		}
		return uint64(C.vgpu_cstring((*C.char)(unsafe.Pointer(unsafe.StringData(s))), C.size_t(len(s))))
	}
}

//export vgpu_call
func vgpu_call(id C.uint32_t, args *C.uint64_t) C.int64_t {
	if atomic.LoadInt32((*int32)(unsafe.Pointer(&C.vgpu_ended_pending))) != 0 {
		threadsEnded()
	}
	return C.int64_t(client.Dispatch(uint32(id), unsafe.Pointer(args)))
}

// threadsEnded passes the ids of threads that have ended (core.c) to the client.
func threadsEnded() {
	var buf [256]C.int
	for {
		n := int(C.vgpu_take_ended(&buf[0], C.int(len(buf))))
		if n == 0 {
			return
		}
		tids := make([]int, n)
		for i := range tids {
			tids[i] = int(buf[i])
		}
		client.ThreadsEnded(tids)
	}
}

//export vgpu_stats
func vgpu_stats() { client.PrintStats() }

//export vgpu_attach
func vgpu_attach(hash C.ulonglong, soname *C.char) C.int {
	return C.int(client.Attach(uint64(hash), C.GoString(soname)))
}

func main() {}
