package client

import (
	"fmt"
	"os"
	"sort"
	"strings"
	"sync/atomic"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// statsOn: VGPU_STATS is set (the C side prints the counters at exit; the core times its calls).
var statsOn = settings.Stats.Raw() != ""

// inCalls is the time the program's threads spent inside the core's calls, from entry to
// return (writing and waiting included), and how many calls: with statsOn only, for all servers.
// The client's own work is this time less the writing and the waiting.
var inCalls struct{ ns, n atomic.Uint64 }

// stats counts what crossed the connection, for VGPU_STATS=1 (printed at exit): how many
// round trips and async calls a workload makes, how many writes they took, how many bytes.
type stats struct {
	sync, async, writes uint64
	bytesOut, bytesIn   uint64
	shmBytes            uint64
	poolBytes           uint64 // uploaded from pinned memory in the pool, not copied (pool.go)
	// uploads sent as runs (runs.go): their bytes, and what crossed for them
	runsBytes, runsSent uint64
	// uploads sent as cached blocks (runs.go): their bytes, what crossed for them, and the
	// blocks named by their slot in the worker's cache
	blocksBytes, blocksSent, blocksNamed uint64
	calls                                map[uint32]uint64 // every call sent, per row
	waited                               map[uint32]uint64 // the synchronous ones (round trips), per row
	// time spent writing frames, and waiting for replies after the write (round trips)
	writeNs, waitNs uint64
	// the most synchronous calls sent and not yet answered at once (a pipelined download: 2)
	mostAwaited uint64
	// primary contexts' states answered by the session (primary.go)
	primaryHits uint64
	// threads woken while they waited (session.park): for their reply, which another thread
	// read, or to read the replies on when the thread that read them had its own; each with the
	// time from the wake-up to the thread running
	wokenForReply, wokenForReplyNs uint64
	wokenToRead, wokenToReadNs     uint64
}

func (st *stats) runs(n uint64, sent int) {
	st.runsBytes += n
	st.runsSent += uint64(sent)
}

func (st *stats) blocks(n uint64, sent, named int) {
	st.blocksBytes += n
	st.blocksSent += uint64(sent)
	st.blocksNamed += uint64(named)
}

func (st *stats) call(fn uint32, async bool, n int) {
	if st.calls == nil {
		st.calls = map[uint32]uint64{}
	}
	st.calls[fn]++
	if async {
		st.async++
	} else {
		st.sync++
		if st.waited == nil {
			st.waited = map[uint32]uint64{}
		}
		st.waited[fn]++
	}
	st.bytesOut += uint64(n) + 16
}

// PrintStats writes the session's counters to stderr (shims/core calls it at exit when
// VGPU_STATS is set).
// With several servers, one line per server that was connected, naming it.
func PrintStats() {
	for _, srv := range serverList() {
		if s := srv.openSession(); s != nil {
			name := ""
			if multiServers() {
				name = " for " + srv.String()
			}
			printStats(s, name)
		}
	}
}

func printStats(s *session, name string) {
	s.mu.Lock()
	st := s.st
	blocked, wakes, via := uint64(0), uint64(0), "the socket"
	if fc, ok := s.nc.(*remoting.FDConn); ok {
		blocked, wakes = fc.Blocked, fc.Wakes
		if fc.Rings() {
			via = "shared memory"
		}
	}
	calls, trips := busiest(st.calls), busiest(st.waited)
	s.mu.Unlock()
	streams.mu.Lock()
	local, deferred, waited, merged := streams.local, streams.deferred, streams.waited, streams.merged
	streams.mu.Unlock()
	memo.mu.Lock()
	cached := memo.hits
	memo.mu.Unlock()
	fmt.Fprintf(os.Stderr, "vgpu stats%s: %d round trips, %d async calls, %d writes, %d bytes out, %d bytes in, %d bytes through shared memory, %d uploaded as runs in %d, %d as cached blocks in %d (%d blocks named by their slot); %.1f ms writing, %.1f ms waiting for replies, %.1f ms inside vgpu's calls in all (%d calls, every thread and server), %d reads blocked after polling; frames through %s, %d wake-ups sent; %d bytes uploaded from pinned memory in place; threads woken for a reply another read %d times (%.1f ms from wake-up to running), to read on %d times (%.1f ms); stream synchronisations: %d answered here, %d after uploads held for the worker (%d of those merged into a later one), %d waited; holding work at exit:%s; answered from the client's cache (all servers): %d; primary contexts' states answered here: %d; calls:%s; round trips by call:%s\n",
		name, st.sync, st.async, st.writes, st.bytesOut, st.bytesIn, st.shmBytes, st.runsBytes, st.runsSent, st.blocksBytes, st.blocksSent, st.blocksNamed, float64(st.writeNs)/1e6, float64(st.waitNs)/1e6, float64(inCalls.ns.Load())/1e6, inCalls.n.Load(), blocked, via, wakes, st.poolBytes, st.wokenForReply, float64(st.wokenForReplyNs)/1e6, st.wokenToRead, float64(st.wokenToReadNs)/1e6, local, deferred, merged, waited, streams.busy(), cached, st.primaryHits, calls, trips)
}

// busiest lists the 12 rows of counts with the most, as " name=count" each.
func busiest(counts map[uint32]uint64) string {
	type kv struct {
		name string
		n    uint64
	}
	var top []kv
	for fn, n := range counts {
		name := fmt.Sprint(fn)
		if int(fn) < len(api.Table) {
			name = api.Table[fn].Name
		}
		top = append(top, kv{name, n})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].n > top[j].n || top[i].n == top[j].n && top[i].name < top[j].name })
	var b strings.Builder
	for i, t := range top {
		if i == 12 {
			break
		}
		fmt.Fprintf(&b, " %s=%d", t.name, t.n)
	}
	return b.String()
}
