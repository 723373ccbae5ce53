package client

// The core's entry: a stub attaches once, then each call comes through dispatchCall.

import (
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/vlog"
)

// Attach is called by each stub once, when it first reaches the core. It refuses a stub built
// from another API table, which would send ids this core reads differently.
func Attach(hash uint64, soname string) int {
	if hash != api.TableHash() {
		vlog.Errorf("%s was generated from another API table than libvgpucore.so (stub %#x, core %#x): install the stubs and the core of one build together", soname, hash, api.TableHash())
		return -1
	}
	vlog.Debugf("%s attached", soname)
	return 0
}

// dispatchCall serves one call from the core (Dispatch, mem_unsafe.go); word is the table id
// with the calling api.Lib in its top byte. It runs the row's entry of the generated table
// (zz_dispatch.go), which goes on down to the wire without coming back through here.
func dispatchCall(word uint32, args func(n int) []uint64) (r int64) {
	id := api.ID(word & 0xffffff)
	lib := api.Lib(word >> 24)
	if int(id) >= len(api.Table) || int(lib) >= len(api.Libs) {
		vlog.Once("badid", "a stub called unknown function id %d (library %d): stub and core are from different builds", id, lib)
		return errUnknown
	}
	f := &api.Table[id]
	c := &call{id: id, f: f, lib: lib, a: args(len(f.Params))}
	defer func() {
		if p := recover(); p != nil {
			vlog.Errorf("internal error in %s: %v (returning %d)", f.Name, p, errUnknown)
			r = errUnknown
		}
	}()
	if statsOn {
		t0 := time.Now()
		r = dispatch[id](c)
		inCalls.ns.Add(uint64(time.Since(t0)))
		inCalls.n.Add(1)
	} else {
		r = dispatch[id](c)
	}
	recordError(c, r)
	if vlog.Debug() && !f.NoLog {
		if f.Serve == api.Stub {
			vlog.Debugf("%s(%v) = %d (not implemented by vgpu)", f.Name, c.a, r)
		} else {
			vlog.Debugf("%s(%v) = %d", f.Name, c.a, r)
		}
	}
	return r
}
