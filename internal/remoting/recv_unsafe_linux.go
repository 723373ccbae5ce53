package remoting

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// recvNow reads what the socket holds into b without blocking (recvfrom with MSG_DONTWAIT and
// no address). unix.Recvfrom allocates an address buffer on every call, and the polling loop
// of FDConn.Read makes one per turn while a reply is on its way; this allocates nothing.
// len(b) > 0.
func recvNow(fd int, b []byte) (int, error) {
	n, _, e := unix.Syscall6(unix.SYS_RECVFROM, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), unix.MSG_DONTWAIT, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
