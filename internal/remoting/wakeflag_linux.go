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

// futex(2)'s operations (linux/futex.h): on memory shared between processes (the frame
// rings), and private to the process
const (
	futexWaitShared = 0
	futexWakeShared = 1
	futexWait       = futexWaitShared | 128
	futexWake       = futexWakeShared | 128
)

// futex makes the futex(2) system call op on addr (ts: the wait's limit, nil for none); the
// callers look at the word again whatever it returns.
func futex(addr *uint32, op int, val uint32, ts *unix.Timespec) {
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), uintptr(op), uintptr(val), uintptr(unsafe.Pointer(ts)), 0, 0)
}

// Reset makes the flag unset, for the next Wait.
func (f *WakeFlag) Reset() { atomic.StoreUint32(&f.v, 0) }

// Set sets the flag and wakes the thread waiting on it; false when it was set already.
func (f *WakeFlag) Set() bool {
	if !atomic.CompareAndSwapUint32(&f.v, 0, 1) {
		return false
	}
	futex(&f.v, futexWake, 1, nil)
	return true
}

// Wait blocks until the flag is set (at once if it is).
func (f *WakeFlag) Wait() {
	for atomic.LoadUint32(&f.v) == 0 {
		// returns at a wake-up, at once if the flag changed before the call (EAGAIN), or on a
		// signal (EINTR): the loop looks again
		futex(&f.v, futexWait, 0, nil)
	}
}
