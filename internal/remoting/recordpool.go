package remoting

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vgpu/vgpu/internal/settings"
)

// The record crew: a few goroutines, started once per process, that seal and open the records
// of bulk transfers beside the goroutine doing the transfer (record_bulk.go). AES-GCM keeps no
// state between records, so the records of one direction can be sealed or opened at once, each
// with its own sequence number.
//
// A member that finds no work polls for crewSpin before it parks, so the records of a transfer's
// next batch (the next system call's worth, microseconds later) find it awake; a parked member
// costs nothing and is woken by the next bulk transfer.

const (
	// crewSpin is how long an idle crew member polls for work before it parks.
	crewSpin = 100 * time.Microsecond
	// crewMax bounds the crew. On a 16-core host (BenchmarkBulkRatio2600K, both ends in one
	// process) a 2.6 MB message took the least time with 3 helpers: 2 and 4 were a little
	// slower, 5 and 7 slower still (more goroutines polling the same counters).
	crewMax = 3
	// crewWakeMin: a transfer of fewer bytes wakes no parked member (members still polling after
	// an earlier transfer help it). Waking one costs a futex wake-up on each side and then
	// crewSpin of polling, about what it saves on the few records of a small transfer: llama.cpp's
	// 128 KB of logits a token, every few milliseconds, would wake the parked crew each time.
	crewWakeMin = 512 << 10
)

// crewSize is how many goroutines help the transfer's own: VGPU_TLS_CREW, else half the
// processors (a transfer over loopback has its other end, and that end's crew, on the same
// host), less the transfer's goroutine, at most crewMax; none under 4 processors, where a
// helper only takes the time of the other end's goroutine (on 2 cores a crew of 1 made a 2.6 MB
// message slower than none).
var crewSize = func() int {
	if v := settings.TLSCrew.Get(); v >= 0 {
		return min(v, crewMax)
	}
	return max(min(runtime.GOMAXPROCS(0)/2-1, crewMax), 0)
}()

// crewJob is work the crew can help with: more reports whether a member calling help now
// would find something to do; help does items until it finds none.
type crewJob interface {
	more() bool
	help()
}

type recordCrew struct {
	job    atomic.Pointer[crewJobBox]
	parked atomic.Int32
	wake   chan struct{}
	start  sync.Once
	size   int
}

type crewJobBox struct{ j crewJob }

var theCrew = &recordCrew{}

// post makes j the crew's current job (a job posted earlier is still finished by its poster) and
// wakes up to want parked members, none for a job of fewer than crewWakeMin bytes. It starts
// the crew on first use.
func (c *recordCrew) post(j crewJob, want, bytes int) {
	if bytes < crewWakeMin {
		want = 0
	}
	c.start.Do(func() {
		c.size = crewSize
		c.wake = make(chan struct{}, max(c.size, 1))
		for range c.size {
			go c.member()
		}
	})
	if c.size == 0 {
		return
	}
	c.job.Store(&crewJobBox{j})
	c.poke(want)
}

// poke wakes up to want parked members (a job that had no room for them and now has).
func (c *recordCrew) poke(want int) {
	for k := min(int(c.parked.Load()), want); k > 0; k-- {
		select {
		case c.wake <- struct{}{}:
		default:
			return
		}
	}
}

// clear drops j as the current job, so that idle members do not keep polling it.
func (c *recordCrew) clear(j crewJob) {
	if b := c.job.Load(); b != nil && b.j == j {
		c.job.CompareAndSwap(b, nil)
	}
}

func (c *recordCrew) work() bool {
	b := c.job.Load()
	if b == nil || !b.j.more() {
		return false
	}
	b.j.help()
	return true
}

func (c *recordCrew) member() {
	for {
		if c.work() {
			continue
		}
		// poll for crewSpin, then park
		found := false
		for start, i := time.Now(), 0; ; i++ {
			if b := c.job.Load(); b != nil && b.j.more() {
				found = true
				break
			}
			if i&15 == 15 {
				if time.Since(start) > crewSpin {
					break
				}
				runtime.Gosched()
			}
		}
		if found {
			continue
		}
		c.parked.Add(1)
		if b := c.job.Load(); b != nil && b.j.more() { // posted while we went to park
			c.parked.Add(-1)
			continue
		}
		<-c.wake
		c.parked.Add(-1)
	}
}

// rangeJob runs f(0) … f(n-1), each once, on whoever helps.
type rangeJob struct {
	f    func(i int)
	n    int64
	next atomic.Int64
	left atomic.Int64
}

func (j *rangeJob) more() bool { return j.next.Load() < j.n }

func (j *rangeJob) help() {
	for i := j.next.Add(1) - 1; i < j.n; i = j.next.Add(1) - 1 {
		j.f(int(i))
		j.left.Add(-1)
	}
}

// inParallel runs f(0) … f(n-1), the work on bytes bytes, on this goroutine and the crew, and
// returns when all have returned.
func inParallel(n, bytes int, f func(i int)) {
	if n <= 1 || crewSize == 0 {
		for i := range n {
			f(i)
		}
		return
	}
	j := &rangeJob{f: f, n: int64(n)}
	j.left.Store(int64(n))
	theCrew.post(j, n-1, bytes)
	j.help()
	for i := 0; j.left.Load() > 0; i++ {
		if i&63 == 63 {
			runtime.Gosched()
		}
	}
	theCrew.clear(j)
}
