package server

import (
	"encoding/binary"
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
)

// The flight record is a memfd shared by the server and a worker (the worker's flightFD). Its
// first word is the row the worker is running (its ID + 1; 0 between calls, Session.Serve), so
// when a host library kills the worker the server's log line names the call it died in, not
// only an exit status. After it come the worker's counters, which the server reads for its
// metrics (metrics.go) while the worker runs and once more when it has exited:
//
//	offset 0   uint32  the row running + 1, or 0
//	offset 8   uint64  bytes of frames the worker received from its client
//	offset 16  uint64  bytes of frames it sent
//	offset 24  uint64  device memory the session holds (as its memory limit counts it, quota.go)
//	offset 64  per row of api.Table: uint64 calls, uint64 calls whose result code was not 0
//
// Only the worker writes (atomic adds and stores from its serving thread, and the sent bytes of
// a keepalive from its keepalive goroutine); the server only loads. The server and the worker
// are one binary, so both agree on api.Table's length.

// flightFD is the worker's descriptor of its flight record (the connection is fd 3).
const flightFD = 4

// pageHeader is the flight record's first 64 bytes.
type pageHeader struct {
	flight uint32
	_      uint32
	rx     atomic.Uint64
	tx     atomic.Uint64
	mem    atomic.Uint64
	_      [4]uint64
}

// rowCounts are one row's counters.
type rowCounts struct {
	calls  atomic.Uint64
	errors atomic.Uint64
}

// flightRows is the offset of the per-row counters.
const flightRows = int(unsafe.Sizeof(pageHeader{}))

// flightSize is the record's size: the header and a rowCounts per row, in whole pages.
var flightSize = (flightRows + len(api.Table)*int(unsafe.Sizeof(rowCounts{})) + 4095) &^ 4095

// workerPage is a mapping of a flight record.
type workerPage struct {
	hdr  *pageHeader
	rows []rowCounts // by row id
	m    []byte
}

// newFlightRecord makes the record the server hands a new worker.
func newFlightRecord() (*os.File, error) {
	fd, err := unix.MemfdCreate("vgpu-flight", unix.MFD_CLOEXEC)
	if err != nil {
		return nil, err
	}
	f := os.NewFile(uintptr(fd), "vgpu-flight")
	if err := f.Truncate(int64(flightSize)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// flightNote reads a dead worker's record: " inside <row>" when it died in a call, else "".
func flightNote(f *os.File) string {
	v, name := flightRead(f)
	switch {
	case v == 0:
		return ""
	case name != "":
		return fmt.Sprintf(" inside %s (it was running that call: a crash in the host library leaves the worker's stack above)", name)
	}
	return fmt.Sprintf(" inside row %d", v-1)
}

// flightRow is the name of the row a dead worker was running, or "".
func flightRow(f *os.File) string {
	_, name := flightRead(f)
	return name
}

// flightRead reads the record's first word and the name of the row it names.
func flightRead(f *os.File) (uint32, string) {
	var b [4]byte
	if n, err := f.ReadAt(b[:], 0); n != 4 || err != nil {
		return 0, ""
	}
	v := binary.LittleEndian.Uint32(b[:])
	if v != 0 && int(v-1) < len(api.Table) {
		return v, api.Table[v-1].Name
	}
	return v, ""
}

// mapFlightRecord maps the record at fd (flightFD in a worker) for writing; nil when there is
// none, or it is not a whole record.
func mapFlightRecord(fd int) *workerPage {
	return mapPage(fd, unix.PROT_READ|unix.PROT_WRITE)
}

// mapPage maps the record at fd with protection prot (the server maps it read-only).
func mapPage(fd int, prot int) *workerPage {
	var st unix.Stat_t
	if unix.Fstat(fd, &st) != nil || st.Size < int64(flightSize) {
		return nil
	}
	m, err := unix.Mmap(fd, 0, flightSize, prot, unix.MAP_SHARED)
	if err != nil {
		return nil
	}
	return &workerPage{
		hdr:  (*pageHeader)(unsafe.Pointer(&m[0])),
		rows: unsafe.Slice((*rowCounts)(unsafe.Pointer(&m[flightRows])), len(api.Table)),
		m:    m,
	}
}

// unmap releases the mapping; p must not be used after.
func (p *workerPage) unmap() {
	if p != nil {
		unix.Munmap(p.m)
	}
}

// setFlight stores the row running (id + 1; 0 for none).
func (p *workerPage) setFlight(v uint32) { atomic.StoreUint32(&p.hdr.flight, v) }
