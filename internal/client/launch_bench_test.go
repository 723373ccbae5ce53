package client

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/remoting"
)

// BenchmarkLaunchSend: the client's cost of queueing one kernel launch (packing excluded), the
// part of a launch that runs on the program's thread. The far end of a socketpair only drains.
func BenchmarkLaunchSend(b *testing.B) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0)
	if err != nil {
		b.Fatal(err)
	}
	fc, err := remoting.FDConnOf(fds[0])
	if err != nil {
		b.Fatal(err)
	}
	go func() {
		buf := make([]byte, 1<<20)
		for {
			if _, err := unix.Read(fds[1], buf); err != nil {
				return
			}
		}
	}()
	s := newSession(fc, remoting.NewConn(fc), "test")
	sessMu.Lock()
	sess = s
	sessMu.Unlock()
	defer func() {
		sessMu.Lock()
		sess = nil
		sessMu.Unlock()
		fc.Close()
		unix.Close(fds[1])
	}()
	// as in the core, where the thread id comes from C thread-local storage, not a system call
	old := ThreadID
	ThreadID = func() int { return 1 }
	defer func() { ThreadID = old }()
	fn := &function{handle: 0xf00, layout: [][2]uint64{{0, 8}, {8, 8}, {16, 4}}, bytes: 20, maxDynMem: 48 << 10}
	params := make([]byte, 20)
	dims := []uint64{1, 1, 1, 32, 1, 1}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if r := send(fn, dims, 0, 0, 0, params, nil); r != 0 {
			b.Fatal(r)
		}
	}
}
