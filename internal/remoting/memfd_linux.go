package remoting

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// NewSealedMemfd creates shared memory to pass to a worker: a memfd of size bytes, sealed so
// that its size never changes (a worker maps only such a one, MapSealedMemfd), and mapped.
func NewSealedMemfd(name string, size int) (int, []byte, error) {
	fd, err := unix.MemfdCreate(name, unix.MFD_CLOEXEC|unix.MFD_ALLOW_SEALING)
	if err != nil {
		return -1, nil, err
	}
	if err := unix.Ftruncate(fd, int64(size)); err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	if _, err := unix.FcntlInt(uintptr(fd), unix.F_ADD_SEALS, unix.F_SEAL_SHRINK|unix.F_SEAL_GROW|unix.F_SEAL_SEAL); err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	m, err := unix.Mmap(fd, 0, size, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		unix.Close(fd)
		return -1, nil, err
	}
	return fd, m, nil
}

// MapSealedMemfd maps the first size bytes of descriptor fd, which a peer passed: only a memfd
// sealed against shrinking, since a mapping of a file that someone then shrinks faults (SIGBUS)
// where the pages went, and only one at least size bytes long.
func MapSealedMemfd(fd int, size uint64) ([]byte, error) {
	seals, err := unix.FcntlInt(uintptr(fd), unix.F_GET_SEALS, 0)
	if err != nil {
		return nil, fmt.Errorf("the descriptor passed is not a memfd (F_GET_SEALS: %v): pass one sealed with F_SEAL_SHRINK", err)
	}
	if seals&unix.F_SEAL_SHRINK == 0 {
		return nil, fmt.Errorf("the memfd passed is not sealed against shrinking (seals %#x): create it with MFD_ALLOW_SEALING and add F_SEAL_SHRINK", seals)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil || uint64(st.Size) < size {
		return nil, fmt.Errorf("descriptor of %d bytes, %d announced", st.Size, size)
	}
	return unix.Mmap(fd, 0, int(size), unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
}
