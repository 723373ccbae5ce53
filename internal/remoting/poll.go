package remoting

import (
	"runtime"
	"sync/atomic"
	"time"

	"github.com/vgpu/vgpu/internal/settings"
)

// Poll receives from ch, polling it for up to spin before it blocks (0: it blocks at once). A
// value sent to a goroutine that sleeps on a channel wakes it, and when that goroutine is locked
// to an OS thread (a worker's client threads, a CUDA program's thread waiting for its reply) the
// wake-up is a futex on another thread's path, tens of µs on an idle core; a goroutine that
// polls takes the value within a fraction of a µs. Polling is what reads do too (FDConn.Spin),
// and so, by default, what CUDA's own synchronisation does while contexts are fewer than cores.
// At most half the processors (GOMAXPROCS) poll at once in a process; a receiver beyond that
// blocks at once, so pollers never hold every processor the senders need.
func Poll[T any](ch <-chan T, spin time.Duration) (T, bool) {
	if spin > 0 {
		if pollers.Add(1) <= MaxPollers.Load() {
			v, ok, got := pollFor(ch, spin)
			pollers.Add(-1)
			if got {
				polled.Add(1)
				return v, ok
			}
		} else {
			pollers.Add(-1)
		}
		slept.Add(1)
	}
	v, ok := <-ch
	return v, ok
}

// polled and slept count the receives of Poll asked to poll: taken while polling, and taken
// after sleeping (the polling ran out, or no slot was free).
var polled, slept atomic.Uint64

// PollCounts is how many receives of this process that were to poll took their value while
// polling, and how many slept for it.
func PollCounts() (polledN, sleptN uint64) { return polled.Load(), slept.Load() }

// pollFor polls ch for up to spin; got reports whether it received (ok: a value, not a close).
func pollFor[T any](ch <-chan T, spin time.Duration) (v T, ok, got bool) {
	start := time.Now()
	for i := 1; ; i++ {
		select {
		case v, ok = <-ch:
			return v, ok, true
		default:
		}
		if i%32 == 0 && time.Since(start) > spin {
			return v, false, false
		}
	}
}

// pollers is how many goroutines of this process poll in Poll now.
var pollers atomic.Int32

// MaxPollers is how many may: half of GOMAXPROCS when the process started (so none with one
// processor). Tests set it.
var MaxPollers atomic.Int32

func init() { MaxPollers.Store(int32(runtime.GOMAXPROCS(0) / 2)) }

// HandoffSpin is how long a hand-off is polled for (Poll): VGPU_HANDOFF_SPIN_US microseconds;
// unset, as long as reads poll (DefaultSpin) where the machine has at least HandoffCores
// processors, else not at all: with fewer, pollers take the processors from the threads they
// wait for (a CUDA program's threads and the worker's, on one machine in tests).
func HandoffSpin() time.Duration {
	if v, ok := settings.HandoffSpinUS.Lookup(); ok {
		return time.Duration(v) * time.Microsecond
	}
	if runtime.NumCPU() < HandoffCores {
		return 0
	}
	return DefaultSpin()
}

// HandoffCores is how many processors a machine needs for hand-offs to be polled by default.
var HandoffCores = 8
