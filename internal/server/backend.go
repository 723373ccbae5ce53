package server

import (
	"github.com/vgpu/vgpu/internal/api"
)

// Args are one call's arguments after the session checked them, indexed by parameter:
// Vals for by-value parameters, In for input buffers (InStr ends with a NUL), Out for
// outputs, allocated by the session at the size the table gives and sent back on success.
type Args struct {
	Vals []uint64
	In   [][]byte
	Out  [][]byte
	// Thread is the client thread the call runs for (a backend that keeps state per thread,
	// as the simulated driver does its current context, keys it by this).
	Thread uint16
}

// Backend executes checked calls. A session owns one backend for its whole life. It calls it on
// one locked OS thread per client thread (CUDA's current context is per thread), one call at a
// time, except that calls of rows that only wait (api.Func.Wait) or wait before they free
// (api.Func.Drains) may run beside another call.
type Backend interface {
	// Name is "real" or "sim"; it is reported to the client in the handshake.
	Name() string
	// Invoke runs f and returns the API's result code. It must not retain Args.
	Invoke(id api.ID, f *api.Func, a *Args) int32
	// Close releases everything the session created.
	Close()
}

// Probe describes what backend this host can offer, for the server's start-up line.
type Probe struct {
	Backend string // "real" or "sim"
	Devices []string
	Driver  string
	Reason  string // why sim was chosen
}
