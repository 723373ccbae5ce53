package client

import (
	"testing"

	"github.com/vgpu/vgpu/internal/api"
)

// VGPU_STATS lists the busiest rows of all calls and, apart, of the round trips (synchronous
// calls): which calls a workload waits for.
func TestStatsRoundTripsByCall(t *testing.T) {
	var st stats
	st.call(uint32(api.IDcuInit), false, 8)
	st.call(uint32(api.IDcuInit), false, 8)
	for range 3 {
		st.call(uint32(api.IDvgpuLaunchKernel), true, 40)
	}
	if got, want := busiest(st.calls), " vgpuLaunchKernel=3 cuInit=2"; got != want {
		t.Errorf("calls: %q, want %q", got, want)
	}
	if got, want := busiest(st.waited), " cuInit=2"; got != want {
		t.Errorf("round trips by call: %q, want %q", got, want)
	}
	if st.sync != 2 || st.async != 3 {
		t.Errorf("%d round trips, %d async calls, want 2 and 3", st.sync, st.async)
	}
}
