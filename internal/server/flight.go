package server

import (
	"encoding/binary"
	"fmt"
	"os"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
)

// The flight record is one word of memory shared by the server and a worker: the worker stores
// the row it is running (its ID + 1; 0 between calls, Session.Serve), so when a host library
// kills the worker the server's log line names the call it died in, not only an exit status.

// flightFD is the worker's descriptor of its flight record (the connection is fd 3).
const flightFD = 4

// newFlightRecord makes the record the server hands a new worker.
func newFlightRecord() (*os.File, error) {
	fd, err := unix.MemfdCreate("vgpu-flight", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "vgpu-flight")
	if err := f.Truncate(8); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// flightNote reads a dead worker's record: " inside <row>" when it died in a call, else "".
func flightNote(f *os.File) string {
	var b [4]byte
	if n, err := f.ReadAt(b[:], 0); n != 4 || err != nil {
		return ""
	}
	v := binary.LittleEndian.Uint32(b[:])
	if v == 0 {
		return ""
	}
	if int(v-1) < len(api.Table) {
		return fmt.Sprintf(" inside %s (it was running that call: a crash in the host library leaves the worker's stack above)", api.Table[v-1].Name)
	}
	return fmt.Sprintf(" inside row %d", v-1)
}

// mapFlightRecord maps the record at fd (flightFD in a worker); nil when there is none.
func mapFlightRecord(fd int) *uint32 {
	m, err := unix.Mmap(fd, 0, 8, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	return (*uint32)(unsafe.Pointer(&m[0]))
}
