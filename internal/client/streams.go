package client

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/vgpu/vgpu/internal/api"
)

// Stream synchronisation without round trips. Every call that can put work on a stream passes
// through the client, so the client knows what each stream still holds:
//
//   - idle: synchronised through the server, with nothing sent to it since. Synchronising it is
//     answered locally: there is nothing to wait for and no failure left to report (those of
//     earlier calls were reported by that synchronisation).
//   - uploads: since then, only host-to-device copies and memsets, whose inputs travelled with
//     the calls. Waiting for them cannot change anything the program can see, except through
//     later GPU work, which the server runs after them: unless the legacy stream (which
//     blocking streams wait for) holds other work, the synchronisation is answered at once and
//     held, then sent ahead of the next call that is not another upload to the stream
//     (sendHeld); the server carries it out in order. A failure, which such a copy can only
//     have from a context already broken (by a kernel on another stream, which natively too
//     shows at whichever call comes after it), is reported at the next synchronising call that
//     waits; after a synchronisation has failed, every one waits.
//   - work: anything else (kernels, graphs, device-to-device copies, event waits, cuBLAS);
//     synchronising waits for the server.
//
// llama.cpp uploads each token's inputs with a copy and a synchronisation apiece, then launches
// the graph and reads the logits back: one round trip per token instead of eight.
type streamTracker struct {
	mu       sync.Mutex
	state    map[uint64]streamState // absent: nothing sent since the process started, or never synchronised
	synced0  map[uint64]bool        // streams synchronised through the server at least once
	work     int                    // streams in state work
	allDirty uint64                 // bit k: an async call whose stream is unknown was sent to server k
	// the call that last gave a stream work, and the one that set allDirty (for VGPU_STATS)
	workBy     map[uint64]api.ID
	allDirtyBy api.ID
	blockedBy  map[string]uint64 // why upload synchronisations waited: the busy streams
	failed     bool              // a synchronisation failed: every later one waits
	// synchronisations of upload-only streams not sent yet (sendHeld), by stream key
	held    map[uint64]heldSync
	anyHeld atomic.Bool
	merged  uint64 // held synchronisations a later one of the same stream made unnecessary
	// what cuStreamSynchronize did, for VGPU_STATS
	local, deferred, waited uint64
	// Threads: a synchronisation records streams idle only if no other thread's call gave a
	// stream work meanwhile, whose frame might follow it on the connection. gen counts the
	// calls that gave any stream work; sending those counted and not yet written.
	gen     uint64
	sending int
}

// syncSnap is what a synchronising call saw of other threads' work when it was sent.
type syncSnap struct {
	gen    uint64
	others bool // another thread's call that gives work was between markDirty and its writing
}

type streamState uint8

// heldSync is a held synchronisation: the stream as the program named it, its server, and the
// OS thread that made it (the worker runs it on that thread's thread, in that thread's context).
type heldSync struct {
	stream uint64
	srv    *remoteServer
	thread int
}

const (
	stIdle streamState = iota
	stUploads
	stWork
)

var streams streamTracker

// streamKey: the NULL stream and CU_STREAM_LEGACY are one stream. With several servers each
// has its own special streams (NULL, legacy, per-thread): their keys carry the server's tag, as
// the other streams' handles do (servers.go); the first server's tag is 0.
func streamKey(s, tag uint64) uint64 {
	if s == 1 {
		s = 0
	}
	if s <= 2 {
		s |= tag
	}
	return s
}

// tagBit is the bit of allDirty for the server of tag.
func tagBit(tag uint64) uint64 { return 1 << (tag >> tagShift) }

// rowStreamFacts: what classify needs of each row, worked out once (it runs on every call).
type rowStreamFacts struct {
	stream int  // index of the CUstream / cudaStream_t parameter, or -1
	device bool // takes a device address
	upload bool // its only effect is writing device memory from inputs it carries (api.StreamUpload)
	legacy bool // synchronous, yet may leave work queued (api.StreamWork, api.StreamUpload)
	cublas bool // a cuBLAS or cuBLASLt row
	none   bool // no work on any stream (api.StreamNone: cuBLAS handle configuration)
}

var streamFacts = func() []rowStreamFacts {
	facts := make([]rowStreamFacts, len(api.Table))
	for id := range api.Table {
		f := &api.Table[id]
		r := &facts[id]
		r.stream = -1
		for i := range f.Params {
			p := &f.Params[i]
			switch {
			case p.C == "CUstream" || p.C == "cudaStream_t":
				r.stream = i
			case p.Kind == api.DevPtr:
				r.device = true
			}
		}
		r.upload = f.Stream == api.StreamUpload
		r.legacy = f.Stream == api.StreamUpload || f.Stream == api.StreamWork
		r.cublas = isCublasLib(f.Lib())
		r.none = f.Stream == api.StreamNone
	}
	return facts
}()

// classify says what a call leaves on which stream. known is false for an async call whose
// stream the client cannot name.
func classify(c *call) (st streamState, stream uint64, known bool) {
	r := &streamFacts[c.id]
	hasStream := r.stream >= 0
	if hasStream {
		stream = c.a[r.stream]
	}
	if r.none {
		return stIdle, 0, true
	}
	if r.cublas {
		// every cuBLAS call but handle configuration (r.none) runs on its handle's stream or
		// the one it names
		if !hasStream && len(c.a) > 0 {
			stream, hasStream = cublasStream(c.a[0])
		}
		if !hasStream {
			return stWork, 0, false
		}
		return stWork, stream, true
	}
	if c.f.Serve != api.Async && (!r.device || !r.legacy) {
		// a query, a handle operation, or one on device memory that leaves nothing queued
		// (cuMemFree, cuMemSetAccess, cuMemMap ...): no work on any stream
		return stIdle, 0, true
	}
	if c.f.Serve == api.Async && !hasStream {
		return stWork, 0, false
	}
	if r.upload {
		return stUploads, stream, true
	}
	return stWork, stream, true
}

// markDirty records what a call about to be sent leaves on its stream, and for a call that
// records streams idle when done (recordsIdle) what other threads were doing (c.snap). Once the
// call is written, sent must be called.
func (t *streamTracker) markDirty(c *call) {
	st, stream, known := classify(c)
	if st == stIdle {
		if recordsIdle[c.id] {
			t.mu.Lock()
			c.snap = syncSnap{t.gen, t.sending > 0}
			t.mu.Unlock()
		}
		return
	}
	tag := c.tag()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gen++
	t.sending++
	c.dirty = true
	c.snap = syncSnap{t.gen, t.sending > 1}
	if !known {
		t.allDirty |= tagBit(tag)
		t.allDirtyBy = c.id
		return
	}
	if st == stWork {
		t.workOn(streamKey(stream, tag), c.id)
	} else {
		t.raise(streamKey(stream, tag), st)
	}
}

// workOn records that call id left work on stream k; t.mu is held.
func (t *streamTracker) workOn(k uint64, id api.ID) {
	t.raise(k, stWork)
	if t.workBy == nil {
		t.workBy = map[uint64]api.ID{}
	}
	t.workBy[k] = id
}

// markWork records that call c, which markDirty counted, leaves work on its stream after all
// (an upload whose bytes the worker reads when the stream reaches it: pool.go).
func (t *streamTracker) markWork(c *call) {
	_, stream, known := classify(c)
	if !known {
		return // (markDirty counted every stream then)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.workOn(streamKey(stream, c.tag()), c.id)
}

// sent records that call c has been written (or failed): markDirty counted it.
func (t *streamTracker) sent(c *call) {
	if !c.dirty {
		return
	}
	c.dirty = false
	t.mu.Lock()
	t.sending--
	t.mu.Unlock()
}

// recordsIdle: the rows after which the client records streams idle (synced): api.Func.Idles.
var recordsIdle = func() []bool {
	r := make([]bool, len(api.Table))
	for id := range api.Table {
		r[id] = api.Table[id].Idles
	}
	return r
}()

// busy describes, for VGPU_STATS, what keeps synchronisations waiting: the streams holding
// work and the calls that left it.
func (t *streamTracker) busy() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	var b strings.Builder
	if t.allDirty != 0 {
		fmt.Fprintf(&b, " every stream (after %s)", api.Table[t.allDirtyBy].Name)
	}
	for k, st := range t.state {
		if st == stWork {
			fmt.Fprintf(&b, " %#x (after %s)", k, api.Table[t.workBy[k]].Name)
		}
	}
	if b.Len() == 0 {
		b.WriteString(" none")
	}
	if len(t.blockedBy) > 0 {
		b.WriteString("; upload synchronisations waited for")
		for k, n := range t.blockedBy {
			fmt.Fprintf(&b, " %s x%d", k, n)
		}
	}
	return b.String()
}

// maps makes the per-stream maps on first use; t.mu is held.
func (t *streamTracker) maps() {
	if t.state == nil {
		t.state, t.synced0 = map[uint64]streamState{}, map[uint64]bool{}
	}
}

// raise moves stream k to state st if that is more than it holds; t.mu is held.
func (t *streamTracker) raise(k uint64, st streamState) {
	t.maps()
	old := t.state[k]
	if st <= old {
		return
	}
	t.state[k] = st
	if st == stWork {
		t.work++
	}
}

// set puts stream k in state st; t.mu is held.
func (t *streamTracker) set(k uint64, st streamState) {
	t.maps()
	if t.state[k] == stWork {
		t.work--
	}
	if st == stWork {
		t.work++
	}
	t.state[k] = st
}

type syncAction uint8

const (
	syncWait syncAction = iota
	syncLocal
	syncDefer
)

// action says how to synchronise stream s of the server of tag.
func (t *streamTracker) action(s, tag uint64) syncAction {
	t.mu.Lock()
	defer t.mu.Unlock()
	k := streamKey(s, tag)
	legacy := tag // the key of that server's legacy stream
	// the legacy stream also waits for other (blocking) streams' work
	if t.allDirty&tagBit(tag) != 0 || t.failed || !t.synced0[k] || (k == legacy && t.work > 0) {
		return syncWait
	}
	switch t.state[k] {
	case stIdle:
		return syncLocal
	case stUploads:
		// Work on another stream does not hold the synchronisation back (natively it waits
		// for that work only through the legacy stream, whose work does): where such work
		// fails, natively too the failure shows at this call or a later one, as it happens.
		if t.state[legacy] != stWork {
			return syncDefer
		}
		if t.blockedBy == nil {
			t.blockedBy = map[string]uint64{}
		}
		if len(t.blockedBy) < 8 {
			t.blockedBy[fmt.Sprintf("%#x (after %s)", legacy, api.Table[t.workBy[legacy]].Name)]++
		}
	}
	return syncWait
}

// fail records that a synchronisation through the server failed: a context that has failed
// (a kernel's illegal address is sticky) answers every later synchronisation with its error, so
// from then on each one waits for the server's answer.
func (t *streamTracker) fail() {
	t.mu.Lock()
	t.failed = true
	t.mu.Unlock()
}

// synced records a successful synchronisation through the server (of tag) of stream s, or of
// every stream of that server, made by call c: unless another thread gave a stream work while
// c was on its way (snap), whose frame may have followed c's, so that c did not cover it.
func (t *streamTracker) synced(s, tag uint64, all bool, c *call) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if c.snap.others || c.snap.gen != t.gen {
		return // the streams stay as they are: the next synchronisation waits
	}
	t.maps()
	if all {
		for k, st := range t.state {
			if k&tagMask != tag {
				continue
			}
			if st == stWork {
				t.work--
			}
			t.state[k] = stIdle
			t.synced0[k] = true
		}
		t.allDirty &^= tagBit(tag)
		return
	}
	if t.allDirty&tagBit(tag) == 0 {
		t.set(streamKey(s, tag), stIdle)
		t.synced0[streamKey(s, tag)] = true
	}
}

// idle: synchronised through the server, and nothing sent to it since.
func (t *streamTracker) idle(s uint64) bool { return t.action(s, 0) == syncLocal }

func cuStreamSynchronize(c *call) int64 {
	arg := cuStreamSynchronizeArgs(c.a)
	if r, ok := route(c); !ok {
		return r
	}
	tag := c.tag()
	switch streams.action(arg.hStream(), tag) {
	case syncLocal:
		streams.count(&streams.local)
		return 0
	case syncDefer:
		// Held back until a call that is not another upload to this stream: consecutive
		// upload-and-synchronise pairs (llama.cpp's inputs) then cost the worker one
		// synchronisation. What was queued is written now, so the GPU starts copying.
		streams.count(&streams.deferred)
		streams.hold(arg.hStream(), c.srv, c.tid())
		if s, err := c.server().session(); err == nil {
			s.flushQueued()
		}
		return 0 // the stream stays in state uploads: the result is not known yet
	}
	streams.count(&streams.waited)
	r := remote(c)
	if r == 0 {
		streams.synced(arg.hStream(), tag, false, c)
	} else {
		streams.fail()
	}
	return r
}

// hold records a synchronisation of stream s (of server srv; nil with one server) to be sent
// before the next call that is not an upload to s.
func (t *streamTracker) hold(s uint64, srv *remoteServer, tid int) {
	tag := uint64(0)
	if srv != nil {
		tag = srv.tag
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.held == nil {
		t.held = map[uint64]heldSync{}
	}
	if _, ok := t.held[streamKey(s, tag)]; ok {
		t.merged++
	}
	t.held[streamKey(s, tag)] = heldSync{s, srv, tid}
	t.anyHeld.Store(true)
}

var syncRowID, syncRow = api.IDcuStreamSynchronize, &api.Table[api.IDcuStreamSynchronize]

// sendHeld sends, ahead of call c, the held synchronisations c must come after: all of them,
// except that of the stream c only uploads to. The worker runs them in order, so whatever c
// does on another stream, or reads, comes after the uploads.
func sendHeld(c *call) {
	if c.held || !streams.anyHeld.Load() {
		return
	}
	keep := uint64(1 << 63)
	if st, stream, known := classify(c); known && st == stUploads {
		keep = streamKey(stream, c.tag())
	}
	streams.sendHeldWhere(func(k uint64, _ heldSync) bool { return k != keep })
}

// sendHeldOf sends the held synchronisations OS thread tid made (it has ended: they must reach
// the worker before its end does).
func (t *streamTracker) sendHeldOf(tid int) {
	if t.anyHeld.Load() {
		t.sendHeldWhere(func(_ uint64, s heldSync) bool { return s.thread == tid })
	}
}

// sendHeldWhere sends (and forgets) the held synchronisations that send says must go now.
func (t *streamTracker) sendHeldWhere(send func(key uint64, s heldSync) bool) {
	t.mu.Lock()
	var out []heldSync
	for k, s := range t.held {
		if send(k, s) {
			out = append(out, s)
			delete(t.held, k)
		}
	}
	t.anyHeld.Store(len(t.held) > 0)
	t.mu.Unlock()
	for _, s := range out {
		remoteAsync(&call{id: syncRowID, f: syncRow, lib: api.LibCuda, a: []uint64{s.stream}, held: true, srv: s.srv, thread: s.thread})
	}
}

func (t *streamTracker) count(n *uint64) {
	t.mu.Lock()
	*n++
	t.mu.Unlock()
}

func cuCtxSynchronize(c *call) int64 {
	r := remote(c)
	if r == 0 {
		streams.synced(0, c.tag(), true, c)
	} else {
		streams.fail()
	}
	return r
}

// cuMemcpyDtoHAsync_v2 returns once the data is in the caller's memory: the server
// synchronises the stream before it replies, so the stream is idle after it.
func cuMemcpyDtoHAsync_v2(c *call) int64 {
	arg := cuMemcpyDtoHAsync_v2Args(c.a)
	r := remote(c)
	if r == 0 {
		streams.synced(arg.hStream(), c.tag(), false, c)
	}
	return r
}

// cuMemcpyDtoH_v2 runs on the legacy stream and returns once the data has arrived: the legacy
// stream's earlier work is done.
func cuMemcpyDtoH_v2(c *call) int64 {
	r := remote(c)
	if r == 0 {
		streams.synced(0, c.tag(), false, c)
	}
	return r
}

// cuCtxSynchronize_v2 (CUDA 13) names the context; this process works in the current one.
func cuCtxSynchronize_v2(c *call) int64 {
	return dispatchRow(api.LibCuda, api.IDcuCtxSynchronize)
}
