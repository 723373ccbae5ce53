package server

import (
	"os"
	"sync"
	"time"

	"github.com/ebitengine/purego"
	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/vlog"
)

// stdoutCapture takes what the host driver writes to the worker's stdout (a kernel's printf,
// which the driver prints at synchronising calls) so the session can send it to the client's
// stdout. The worker's fd 1 becomes a pipe that a goroutine drains, so a large output never
// blocks the driver.
type stdoutCapture struct {
	mu     sync.Mutex
	buf    []byte
	r      *os.File
	fflush uintptr
}

func captureStdout() (*stdoutCapture, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	if err := unix.Dup2(int(w.Fd()), 1); err != nil {
		r.Close()
		w.Close()
		return nil, err
	}
	w.Close()
	c := &stdoutCapture{r: r}
	// C's stdout unbuffered: what the driver prints reaches the pipe at once, so take() needs
	// no fflush per call.
	if libc, err := purego.Dlopen("libc.so.6", purego.RTLD_NOW|purego.RTLD_GLOBAL); err == nil {
		setvbuf, err1 := purego.Dlsym(libc, "setvbuf")
		stdout, err2 := purego.Dlsym(libc, "stdout")
		if err1 == nil && err2 == nil {
			const ioNBF = 2
			purego.SyscallN(setvbuf, *(*uintptr)(unsafePointer(stdout)), 0, ioNBF, 0)
		} else {
			c.fflush, _ = purego.Dlsym(libc, "fflush")
		}
	}
	go func() {
		b := make([]byte, 64<<10)
		for {
			n, err := r.Read(b)
			if n > 0 {
				c.mu.Lock()
				c.buf = append(c.buf, b[:n]...)
				c.mu.Unlock()
			}
			if err != nil {
				vlog.Debugf("stdout capture ended: %v", err)
				return
			}
		}
	}()
	return c, nil
}

// take flushes C's stdout and returns everything written since the last take.
func (c *stdoutCapture) take() []byte {
	if c.fflush != 0 {
		purego.SyscallN(c.fflush, 0)
	}
	// Wait (briefly) until the reader has the bytes still in the pipe.
	for i := 0; i < 200; i++ {
		n, err := unix.IoctlGetInt(int(c.r.Fd()), unix.TIOCINQ)
		if err != nil || n == 0 {
			break
		}
		time.Sleep(20 * time.Microsecond)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	b := c.buf
	c.buf = nil
	return b
}
