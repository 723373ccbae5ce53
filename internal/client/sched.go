package client

import (
	"sync/atomic"
	"time"

	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// A program's scheduling flag (CU_CTX_SCHED_*, cudaDeviceSchedule*: the same values) says how
// the driver waits for the GPU: spinning, yielding, or blocking on an interrupt. The client waits
// for the worker's replies the same way: with BLOCKING_SYNC or YIELD it polls only briefly
// (a short call's reply still comes within that), so a program that asked the driver not to
// burn a core while the GPU works does not get a core burnt by vgpu either. VGPU_SPIN_US, when
// set (to a value that parses), wins over the flag.
const (
	schedMask         = 0x07
	schedYield        = 0x02
	schedBlockingSync = 0x04
	// briefSpin is the polling under BLOCKING_SYNC and YIELD.
	briefSpin = 50 * time.Microsecond
)

// schedSpin is the polling the program's last scheduling flag asks for; -1 before any.
var schedSpin atomic.Int64

func init() { schedSpin.Store(-1) }

// setSched records a scheduling flag and applies it to the session, if there is one.
func setSched(flags uint32) {
	if _, set := settings.SpinUS.Lookup(); set {
		return
	}
	spin := remoting.DefaultSpin()
	if f := flags & schedMask; f == schedBlockingSync || f == schedYield {
		spin = min(spin, briefSpin)
	}
	schedSpin.Store(int64(spin))
	for _, srv := range serverList() {
		if s := srv.openSession(); s != nil {
			s.applySched()
		}
	}
}

// applySched sets the session's polling to the recorded flag's.
func (s *session) applySched() {
	v := schedSpin.Load()
	if v < 0 {
		return
	}
	s.mu.Lock()
	if fc, ok := s.nc.(*remoting.FDConn); ok {
		fc.SetSpin(time.Duration(v))
	}
	s.mu.Unlock()
}

// cuDevicePrimaryCtxSetFlags_v2 also forgets the primary contexts' states (primary.go).
func cuDevicePrimaryCtxSetFlags_v2(c *call) int64 {
	arg := cuDevicePrimaryCtxSetFlags_v2Args(c.a)
	r := remoteForgettingPrimary(c)
	if r == 0 {
		setSched(uint32(arg.flags()))
	}
	return r
}

// cuCtxCreate_v2 also records the new context as its server's current one (the driver makes it
// current).
func cuCtxCreate_v2(c *call) int64 {
	arg := cuCtxCreate_v2Args(c.a)
	primaryContexts.mu.Lock()
	r := remote(c)
	if r == 0 {
		ctxCreated(*(*uint64)(ptrAt(arg.pctx())))
	}
	primaryContexts.mu.Unlock()
	if r == 0 {
		setSched(uint32(arg.flags()))
	}
	return r
}
