package remoting

import (
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// WakeFlag wakes one waiting thread through the kernel (futex(2)): Wait blocks the calling thread
// in a system call until Set, and Set wakes it there, with no hand-off through the Go scheduler
// (which a thread locked to its OS thread, a CUDA program's inside the client, otherwise needs).
type WakeFlag struct{ v uint32 }

// futex(2)'s operations (linux/futex.h), private to the process
const (
	futexWait = 0 | 128
	futexWake = 1 | 128
)

// Reset makes the flag unset, for the next Wait.
func (f *WakeFlag) Reset() { atomic.StoreUint32(&f.v, 0) }

// Set sets the flag and wakes the thread waiting on it; false when it was set already.
func (f *WakeFlag) Set() bool {
	if !atomic.CompareAndSwapUint32(&f.v, 0, 1) {
		return false
	}
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&f.v)), futexWake, 1, 0, 0, 0)
	return true
}

// Wait blocks until the flag is set (at once if it is).
func (f *WakeFlag) Wait() {
	for atomic.LoadUint32(&f.v) == 0 {
		// returns at a wake-up, at once if the flag changed before the call (EAGAIN), or on a
		// signal (EINTR): the loop looks again
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(&f.v)), futexWait, 0, 0, 0, 0)
	}
}
