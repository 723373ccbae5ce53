package client

import (
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/server"
)

// The scheduling flag a program gives (the runtime's device flags, the primary context's flags,
// a new context's) sets how long the client polls for replies: briefly under BLOCKING_SYNC and
// YIELD, the default under SPIN and AUTO; VGPU_SPIN_US wins over it.
func TestSchedFlagsSetPolling(t *testing.T) {
	defer schedSpin.Store(-1)
	defer func(n int) { remoting.SpinCores = n }(remoting.SpinCores)
	remoting.SpinCores = 1 // the long default, whatever this machine's cores
	connect(t, &recorder{Sim: server.NewSim()})
	spin := func() time.Duration {
		sess.mu.Lock()
		defer sess.mu.Unlock()
		return sess.nc.(*remoting.FDConn).Spin()
	}
	def := remoting.DefaultSpin()
	if def <= briefSpin {
		t.Fatalf("default polling %v, want more than %v", def, briefSpin)
	}
	if r := dispatchByName(api.LibCuda, "cuInit", 0); r != 0 {
		t.Fatalf("cuInit = %d", r)
	}
	steps := []struct {
		lib  api.Lib
		name string
		args []uint64
		want time.Duration
	}{
		{api.LibCudart13, "cudaSetDeviceFlags", []uint64{schedBlockingSync}, briefSpin},
		{api.LibCuda, "cuDevicePrimaryCtxSetFlags_v2", []uint64{0, 1}, def}, // SPIN
		{api.LibCuda, "cuDevicePrimaryCtxSetFlags_v2", []uint64{0, schedYield}, briefSpin},
		{api.LibCudart13, "cudaSetDeviceFlags", []uint64{0}, def}, // AUTO
	}
	for _, st := range steps {
		if r := dispatchByName(st.lib, st.name, st.args...); r != 0 {
			t.Fatalf("%s(%v) = %d", st.name, st.args, r)
		}
		if got := spin(); got != st.want {
			t.Fatalf("after %s(%v): polling %v, want %v", st.name, st.args, got, st.want)
		}
	}
	t.Setenv("VGPU_SPIN_US", "7")
	sess.mu.Lock()
	sess.nc.(*remoting.FDConn).SetSpin(7 * time.Microsecond)
	sess.mu.Unlock()
	if r := dispatchByName(api.LibCudart13, "cudaSetDeviceFlags", schedBlockingSync); r != 0 {
		t.Fatalf("cudaSetDeviceFlags = %d", r)
	}
	if got := spin(); got != 7*time.Microsecond {
		t.Fatalf("with VGPU_SPIN_US=7 the flag changed the polling to %v", got)
	}
}
