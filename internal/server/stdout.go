package server

import (
	"fmt"
	"io"
	"os"
	"sync"

	"github.com/ebitengine/purego"
	"golang.org/x/sys/unix"
)

// stdoutCapture takes what the host driver writes to the worker's stdout (a kernel's printf,
// which the driver prints at synchronising calls) so the session can send it to the client's
// stdout. The worker's fd 1 becomes a pipe that a goroutine drains, so a large output never
// blocks the driver.
type stdoutCapture struct {
	mu     sync.Mutex
	buf    []byte
	r      *os.File // the pipe's read end (kept open)
	fd     int
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
	// The pipe is read without blocking, under c.mu, by both the drainer and take(): a byte is
	// either still in the pipe or already in c.buf, never in between when take() looks.
	c.fd = int(r.Fd())
	if err := unix.SetNonblock(c.fd, true); err != nil {
		r.Close()
		return nil, err
	}
	go func() {
		for {
			fds := []unix.PollFd{{Fd: int32(c.fd), Events: unix.POLLIN}}
			if _, err := unix.Poll(fds, -1); err != nil && err != unix.EINTR {
				logger.Debug(fmt.Sprintf("stdout capture ended: %v", err))
				return
			}
			c.mu.Lock()
			err := c.drain()
			c.mu.Unlock()
			if err != nil {
				logger.Debug(fmt.Sprintf("stdout capture ended: %v", err))
				return
			}
		}
	}()
	return c, nil
}

// drain moves what the pipe holds into c.buf; c.mu is held.
func (c *stdoutCapture) drain() error {
	var b [64 << 10]byte
	for {
		n, err := unix.Read(c.fd, b[:])
		if n > 0 {
			c.buf = append(c.buf, b[:n]...)
			continue
		}
		switch {
		case err == unix.EAGAIN:
			return nil
		case err == unix.EINTR:
			continue
		case err != nil:
			return err
		}
		return io.EOF
	}
}

// take flushes C's stdout and returns everything written since the last take.
func (c *stdoutCapture) take() []byte {
	if c.fflush != 0 {
		purego.SyscallN(c.fflush, 0)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drain()
	b := c.buf
	c.buf = nil
	return b
}
