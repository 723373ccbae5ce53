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
}

// Backend executes checked calls. A session owns one backend for its whole life, on one locked
// OS thread (CUDA's current context is per thread).
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
