package server

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/settings"
)

// workerStats is where a worker's time went, for performance work: VGPU_WORKER_STATS=1 in the
// server's environment logs, when each session ends, the time spent waiting for frames, the
// hand-offs of the reading between the session's threads, and per row the calls and the time
// from decoded frame to result (checks and the host library).
type workerStats struct {
	start time.Time
	wait  time.Duration
	pin   time.Duration // page-locking the shared memory (in the first bulk copy)
	rows  map[uint32]*rowStat
	// beside: the time of calls that waited while other threads' calls ran (in rows too)
	beside time.Duration
	// hand-offs of the reading (threads.go): how many, and their time from the send to the
	// receiving goroutine running, while no frame is read. Counted by the goroutine that
	// receives the reading, which alone holds it.
	handoffs    uint64
	handoffTime time.Duration
}

type rowStat struct {
	n   uint64
	dur time.Duration
}

// newWorkerStats is nil unless VGPU_WORKER_STATS is on.
func newWorkerStats() *workerStats {
	if !settings.WorkerStats.Get() {
		return nil
	}
	return &workerStats{start: time.Now(), rows: map[uint32]*rowStat{}}
}

// add counts a call of row fn that took d; beside: it waited while other threads' calls ran
// (its time overlaps theirs, so it is not the worker's busy time).
func (w *workerStats) add(fn uint32, d time.Duration, beside bool) {
	if beside {
		w.beside += d
	}
	r := w.rows[fn]
	if r == nil {
		r = &rowStat{}
		w.rows[fn] = r
	}
	r.n++
	r.dur += d
}

// handedOff counts a hand-off of the reading sent at sent (zero: not timed, stats were off).
func (w *workerStats) handedOff(sent time.Time) {
	if w == nil || sent.IsZero() {
		return
	}
	w.handoffs++
	w.handoffTime += time.Since(sent)
}

// stamp is the time a hand-off is sent, zero when stats are off.
func (w *workerStats) stamp() time.Time {
	if w == nil {
		return time.Time{}
	}
	return time.Now()
}

// String is the one log line: totals, then the rows that took the most time.
func (w *workerStats) String() string {
	total := time.Since(w.start)
	var calls uint64
	var busy time.Duration
	type kv struct {
		fn uint32
		r  *rowStat
	}
	var rows []kv
	for fn, r := range w.rows {
		calls += r.n
		busy += r.dur
		rows = append(rows, kv{fn, r})
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].r.dur > rows[j].r.dur })
	var b strings.Builder
	busy -= w.beside
	fmt.Fprintf(&b, "worker stats: %d calls in %.1f ms; running calls %.1f ms (page-locking the shared memory %.1f ms of it), waiting for frames %.1f ms, the rest (replies, decoding) %.1f ms; waits beside other threads' calls %.1f ms; the reading handed between threads %d times, %.1f ms from hand-off to the next thread running; by row (calls, ms, µs each):",
		calls, ms(total), ms(busy), ms(w.pin), ms(w.wait), ms(total-busy-w.wait), ms(w.beside), w.handoffs, ms(w.handoffTime))
	for i, r := range rows {
		if i == 12 {
			break
		}
		name := fmt.Sprint(r.fn)
		if int(r.fn) < len(api.Table) {
			name = api.Table[r.fn].Name
		}
		fmt.Fprintf(&b, " %s=%d/%.1f/%.2f", name, r.r.n, ms(r.r.dur), float64(r.r.dur.Microseconds())/float64(r.r.n))
	}
	return b.String()
}

func ms(d time.Duration) float64 { return float64(d) / 1e6 }
