package client

import (
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/vlog"
)

// call is one C call as the stub delivered it: the table row, the library that was called
// (one row may serve several), and the arguments widened to 64 bits.
type call struct {
	id  api.ID
	f   *api.Func
	lib api.Lib
	a   []uint64
	// raw: the arguments are already in the server's terms (device ordinals not translated).
	raw bool
	// held: a held stream synchronisation being sent (sendHeld), which needs none sent first
	held bool
	// srv: the server the call goes to, once routed among several (servers.go); nil with one
	srv *remoteServer
	// thread: the OS thread the call is made for, if not the calling one (a held stream
	// synchronisation goes out with the thread that held it)
	thread int
	// dirty: markDirty counted the call as giving a stream work until it is written (sent);
	// snap: the stream tracker's generation after that (synchronisations that record idle
	// streams; streams.go)
	dirty bool
	snap  syncSnap
}

// tid is the OS thread the call is made for.
func (c *call) tid() int {
	if c.thread != 0 {
		return c.thread
	}
	return ThreadID()
}

// errUnknown is CUDA_ERROR_UNKNOWN, cudaErrorUnknown and NVML_ERROR_UNKNOWN alike.
const errUnknown = 999

// tailThreshold: input buffers at least this big are written straight from the caller's memory.
const tailThreshold = 64 << 10

// unsupported serves the exported functions vgpu does not implement yet.
func unsupported(c *call) int64 {
	code := c.lib.Info().NotSupported
	vlog.Once("unsupported:"+c.f.Name, "%s is not implemented by vgpu yet (returning %d)", c.f.Name, code)
	return int64(code)
}

// unreachable is the result when there is no server session (the reason was logged once).
func (c *call) unreachable() int64 { return int64(c.lib.Info().Unreachable) }

func (c *call) invalid(why string) int64 {
	code := c.lib.Info().InvalidValue
	vlog.Debugf("%s: %s (returning %d)", c.f.Name, why, code)
	return int64(code)
}

// size is the byte count a Size or Range names: a number, another parameter's value, or the
// count an InOutVal parameter points to, times elem.
func (c *call) size(spec string, elem int) (int, error) {
	if n, ok := api.SpecNumber(spec); ok {
		return int(n), nil
	}
	i := c.f.ParamIndex(spec)
	v := int64(c.a[i])
	switch {
	case c.f.Params[i].Kind == api.InOutVal:
		v = 0
		if c.a[i] != 0 {
			v = int64(*(*uint32)(ptrAt(c.a[i])))
		}
	case c.f.Params[i].C == "int":
		v = int64(int32(uint32(c.a[i])))
	case c.f.Params[i].C == "unsigned int":
		v = int64(uint32(c.a[i]))
	}
	v *= int64(max(elem, 1))
	if v < 0 || v > remoting.MaxPayload {
		return 0, fmt.Errorf("%s = %d is out of range", spec, v)
	}
	return int(v), nil
}

type outSpec struct {
	ptr    uint64
	n      int
	device bool // a CUdevice, translated back to the client's numbering
	handle bool // a handle, tagged with its server's position (servers.go)
}

var errBadReply = errors.New("reply does not match the call's outputs")

// wireArgs is the storage of a wire call's scalars and bufs, on the caller's stack: marshal
// allocates none for them (a launch is a call of 12 scalars and 2 bufs).
type wireArgs struct {
	scalars [api.MaxParams]uint64
	bufs    [api.MaxParams][]byte
}

// mintCount counts the handles this process minted (api.P.Minted): the n-th is api.MintedHandle(n).
var mintCount atomic.Uint64

// marshal builds the wire call from the C arguments, its scalars and bufs in w. tail is the
// last input buffer when it is big enough to be written straight from the caller's memory.
// A handle the client mints (api.P.Minted) goes as a scalar, and is written to the caller's
// pointer (tagged with its server's position) once the rest of the call has marshalled.
func (c *call) marshal(w *wireArgs) (rc remoting.Call, tail []byte, outs []outSpec, bad string) {
	rc.Fn = uint32(c.id)
	rc.Scalars = w.scalars[:0]
	if nb := bufParams(c.f); nb > 0 {
		rc.Bufs = w.bufs[:0]
	}
	var mintAt, mint uint64 // the caller's pointer and the handle minted for it
	for i := range c.f.Params {
		p := &c.f.Params[i]
		v := c.a[i]
		if p.Minted {
			if v == 0 {
				return rc, nil, nil, p.Name + " is NULL"
			}
			mintAt, mint = v, api.MintedHandle(mintCount.Add(1))
			rc.Scalars = append(rc.Scalars, mint)
			continue
		}
		switch p.Kind {
		case api.Scalar, api.Handle, api.DevPtr, api.HostPtr:
			if p.Kind == api.Handle && c.srv != nil && c.srv.idx > 0 {
				v &^= tagMask // the server's own value
			}
			if p.C == "CUdevice" && !c.raw {
				o, ok := serverOrdinal(v)
				if !ok {
					return rc, nil, nil, fmt.Sprintf("%s %d is not a visible device", p.Name, int32(uint32(v)))
				}
				v = o
			}
			rc.Scalars = append(rc.Scalars, v)
		case api.InBuf:
			n, err := c.size(p.Size, p.Elem)
			if err != nil {
				return rc, nil, nil, err.Error()
			}
			if v == 0 && n > 0 {
				return rc, nil, nil, p.Name + " is NULL"
			}
			rc.Bufs = append(rc.Bufs, hostBytes(v, n))
		case api.InStr:
			if v == 0 {
				return rc, nil, nil, p.Name + " is NULL"
			}
			rc.Bufs = append(rc.Bufs, cStringBytes(v, 4096))
		case api.OutVal, api.OutHandle, api.OutDevPtr, api.OutBuf, api.InOutVal:
			n := 8
			if p.Kind != api.OutHandle && p.Kind != api.OutDevPtr {
				elem := 1
				if p.Kind == api.OutBuf || p.Kind == api.InOutVal {
					elem = p.Elem // records (NVML's process lists, field values)
				}
				var err error
				if n, err = c.size(p.Size, elem); err != nil {
					return rc, nil, nil, err.Error()
				}
			}
			if v == 0 && !p.Nullable {
				return rc, nil, nil, p.Name + " is NULL"
			}
			if p.Kind == api.InOutVal {
				rc.Bufs = append(rc.Bufs, hostBytes(v, n))
			}
			outs = append(outs, outSpec{ptr: v, n: n, device: p.C == "CUdevice *",
				handle: n == 8 && (p.Kind == api.OutHandle || p.C == "cudaStream_t *" || p.C == "CUstream *")})
		}
	}
	if k := len(rc.Bufs) - 1; k >= 0 && len(rc.Bufs[k]) >= tailThreshold {
		tail = rc.Bufs[k]
		rc.Bufs = rc.Bufs[:k]
	}
	if mintAt != 0 {
		store(mintAt, tagHandle(c.srv, c.f.Name, mint))
	}
	return rc, tail, outs, ""
}

// nvmlErrArgumentVersionMismatch is NVML_ERROR_ARGUMENT_VERSION_MISMATCH.
const nvmlErrArgumentVersionMismatch = 25

// versionMismatch says why a versioned NVML struct (api.P.Versioned) the caller passed is not
// the one the row describes ("" when every one is): its size, from the version, is not the
// row's, so the call would read or write the caller's memory at the wrong length.
func (c *call) versionMismatch() string {
	for i := range c.f.Params {
		p := &c.f.Params[i]
		if !p.Versioned || c.a[i] == 0 {
			continue
		}
		n, _ := api.SpecNumber(p.Size)
		if ver := *(*uint32)(ptrAt(c.a[i])); uint64(ver&0xffffff) != n {
			return fmt.Sprintf("%s has version %#x, not one of %d bytes", p.Name, ver, n)
		}
	}
	return ""
}

// chunkSize is the largest piece of a copy sent in one frame.
const chunkSize = 16 << 20

// chunked runs a copy larger than chunkSize as consecutive pieces through fn. The pieces of a
// synchronous host-to-device copy but the last go through remoteAsync: their bytes are in the
// socket when it returns, and the worker copies one piece to the device while the next crosses
// the network instead of after it; the last piece waits, and since the row synchronises its
// reply reports the first failure of any piece (finishSync).
func chunked(c *call, fn func(*call) int64) (int64, bool) {
	if c.f.Chunk == "" {
		return 0, false
	}
	k := c.f.ParamIndex(c.f.Chunk)
	total := c.a[k]
	if total <= chunkSize {
		return 0, false
	}
	upload := c.f.Syncs && c.f.Serve != api.Async && chunkIsInput(c.f)
	for off := uint64(0); off < total; off += chunkSize {
		piece := *c
		piece.a = append([]uint64(nil), c.a...)
		piece.a[k] = min(chunkSize, total-off)
		for i := range c.f.Params {
			p := &c.f.Params[i]
			if p.Range == c.f.Chunk || p.Size == c.f.Chunk {
				piece.a[i] += off
			}
		}
		send := fn
		if upload && off+chunkSize < total {
			send = remoteAsync
		}
		if r := send(&piece); r != 0 {
			if upload {
				if s, _ := sessionFor(c); s != nil {
					s.forgetDeferredOf(uint32(c.id)) // this result reports its pieces' failure
				}
			}
			return r, true
		}
	}
	return 0, true
}

// chunkIsOutput reports whether the bytes a row's Chunk counts are written to the caller (OutBuf).
func chunkIsOutput(f *api.Func) bool {
	for i := range f.Params {
		if f.Params[i].Size == f.Chunk && f.Params[i].Kind == api.OutBuf {
			return true
		}
	}
	return false
}

// chunkIsInput reports whether the bytes a row's Chunk counts are read from the caller (InBuf).
func chunkIsInput(f *api.Func) bool {
	for i := range f.Params {
		if f.Params[i].Size == f.Chunk && f.Params[i].Kind == api.InBuf {
			return true
		}
	}
	return false
}

// bufParams counts the parameters that travel as buffers.
func bufParams(f *api.Func) int {
	n := 0
	for i := range f.Params {
		switch f.Params[i].Kind {
		case api.InBuf, api.InStr, api.InOutVal:
			n++
		}
	}
	return n
}

// remote serves a synchronous call through the server.
func remote(c *call) int64 {
	if c.f.Lib() == api.LibNVML {
		if !nvmlInitialized() {
			return int64(nvmlErrorUninitialized)
		}
		if why := c.versionMismatch(); why != "" {
			vlog.Debugf("%s: %s (returning %d)", c.f.Name, why, nvmlErrArgumentVersionMismatch)
			return nvmlErrArgumentVersionMismatch
		}
	}
	s, r := sessionFor(c)
	if s == nil {
		return r
	}
	var miss memoMiss
	if memoFacts[c.id]&memoCached != 0 {
		var hit bool
		if miss, hit = memoLookup(c); hit {
			if s.lost() {
				return c.unreachable()
			}
			return 0
		}
	}
	sendHeld(c)
	streams.markDirty(c)
	defer streams.sent(c)
	if r, done := viaShm(c, s); done {
		return finishSync(c, s, r)
	}
	if r, done := chunkedDownload(c, s); done {
		return r
	}
	if r, done := chunked(c, remote); done {
		return r
	}
	p, r := startRemote(c, s)
	if p == nil {
		return r
	}
	r = p.finish()
	memoStore(miss, s, r)
	return r
}

// pendingCall is a synchronous call sent to the server whose reply is not read yet.
type pendingCall struct {
	c   *call
	s   *session
	req uint64
	w   *waiter
	// the call's outputs, and which of them came as FrameData (straight into the caller's
	// memory) rather than in the reply
	outs      []outSpec
	delivered []bool
}

// startRemote marshals and sends c through s and returns it pending; nil and the result when
// it could not be sent.
func startRemote(c *call, s *session) (*pendingCall, int64) {
	var wa wireArgs
	rc, tail, outs, bad := c.marshal(&wa)
	if bad != "" {
		return nil, c.invalid(bad)
	}
	p := &pendingCall{c: c, s: s, outs: outs, delivered: make([]bool, len(outs))}
	s.mu.Lock()
	req, w, err := s.sendWaiting(&rc, tail, c.tid(), p)
	s.mu.Unlock()
	if err != nil {
		return nil, c.unreachable()
	}
	p.req, p.w = req, w
	return p, 0
}

// direct is where output k's FrameData goes: the caller's memory (replyTarget).
func (p *pendingCall) direct(k uint32) []byte {
	if int(k) >= len(p.outs) || p.outs[k].ptr == 0 {
		return nil
	}
	p.delivered[k] = true
	return hostBytes(p.outs[k].ptr, p.outs[k].n)
}

// fill copies the reply's outputs into the caller's memory (replyTarget).
func (p *pendingCall) fill(r *remoting.Reply) error {
	c := p.c
	if r.Note != "" {
		vlog.Printf("%s: the server refused the call: %s (returning %d)", c.f.Name, r.Note, r.Result)
	}
	if r.Result != 0 && (!c.f.OutsOnError || len(r.Bufs) == 0) {
		return nil // outputs are only sent on success
	}
	if len(r.Bufs) != len(p.outs) {
		return errBadReply
	}
	for k, o := range p.outs {
		if p.delivered[k] && len(r.Bufs[k]) == 0 {
			continue
		}
		if len(r.Bufs[k]) != o.n {
			return errBadReply
		}
		if o.ptr != 0 {
			copy(hostBytes(o.ptr, o.n), r.Bufs[k])
			if o.device && !c.raw {
				store(o.ptr, clientOrdinal(c.srv, *(*int32)(ptrAt(o.ptr))))
			}
			if o.handle && c.srv != nil && c.srv.idx > 0 {
				store(o.ptr, tagHandle(c.srv, c.f.Name, *(*uint64)(ptrAt(o.ptr))))
			}
		}
	}
	return nil
}

// finish waits for the reply of p and returns the call's result.
func (p *pendingCall) finish() int64 {
	p.s.mu.Lock()
	result, err := p.s.await(p.req, p.w)
	if err != nil {
		return p.c.unreachable()
	}
	if result == 0 {
		trackDevice(p.c)
		if memoFacts[p.c.id]&^memoCached != 0 {
			memoNote(p.c)
		}
	}
	return finishSync(p.c, p.s, int64(result))
}

// chunkedDownload runs a device-to-host copy larger than chunkSize as pieces with two in
// flight: the worker copies the next piece from the device while this one's bytes cross the
// network (their reply was asked for before this one's was read), so neither the round trip
// nor the worker's copy sits between pieces. The first failing piece's result is returned,
// after every piece sent has been answered.
func chunkedDownload(c *call, s *session) (int64, bool) {
	if c.f.Chunk == "" || !chunkIsOutput(c.f) {
		return 0, false
	}
	k := c.f.ParamIndex(c.f.Chunk)
	total := c.a[k]
	if total <= chunkSize {
		return 0, false
	}
	var result int64
	var inFlight []*pendingCall
	wait := func() {
		if r := inFlight[0].finish(); r != 0 && result == 0 {
			result = r
		}
		inFlight = inFlight[1:]
	}
	for off := uint64(0); off < total && result == 0; off += chunkSize {
		piece := &call{}
		*piece = *c
		piece.a = append([]uint64(nil), c.a...)
		piece.a[k] = min(chunkSize, total-off)
		for i := range c.f.Params {
			p := &c.f.Params[i]
			if p.Range == c.f.Chunk || p.Size == c.f.Chunk {
				piece.a[i] += off
			}
		}
		p, r := startRemote(piece, s)
		if p == nil {
			result = r
			break
		}
		if inFlight = append(inFlight, p); len(inFlight) == 2 {
			wait()
		}
	}
	for len(inFlight) > 0 {
		wait()
	}
	return result, true
}

// finishSync reports an earlier async failure. Its own code space first (codeSpace): at a
// synchronising call that succeeded (the CUDA APIs report an async failure there), and at any
// cuBLAS call that waited, whatever its own result (natively a cuBLAS call fails where it is
// made, and a call after one whose failure was deferred, such as a matmul on a layout whose
// create failed, fails because of it). A synchronising call that succeeded and finds only a
// failure of the other space reports it as its library's Foreign code, so no failure is lost
// and no code is read in the wrong API's terms.
func finishSync(c *call, s *session, result int64) int64 {
	sp := spaceOf(c.lib)
	syncOK := result == 0 && c.f.Syncs
	if !syncOK && sp != spaceCublas {
		return result
	}
	fn, code := s.takeDeferred(sp)
	foreign := false
	if code == 0 && syncOK {
		other := spaceCublas
		if sp == spaceCublas {
			other = spaceCUDA
		}
		fn, code = s.takeDeferred(other)
		foreign = code != 0
	}
	if code == 0 {
		return result
	}
	name := "an earlier call"
	if int(fn) < len(api.Table) {
		name = api.Table[fn].Name
	}
	if foreign {
		as := c.lib.Info().Foreign
		vlog.Printf("%s failed asynchronously with error %d; reported at %s as %d (%s cannot return %s's codes)", name, code, c.f.Name, as, c.f.Name, name)
		return int64(as)
	}
	vlog.Printf("%s failed asynchronously with error %d; reported at %s", name, code, c.f.Name)
	return int64(code)
}

// remoteAsync queues a call whose reply nobody waits for.
func remoteAsync(c *call) int64 {
	s, r := sessionFor(c)
	if s == nil {
		return r
	}
	sendHeld(c)
	streams.markDirty(c)
	defer streams.sent(c)
	// A large async host-to-device copy: the host buffer may be reused once the call returns,
	// so it goes through the shared memory now (as a pageable copy does natively), unless it is
	// pinned memory in the pool, which the worker reads in place (pool.go).
	if r, done := viaShm(c, s); done {
		return r
	}
	if r, done := chunked(c, remoteAsync); done {
		return r
	}
	if r, done := viaRuns(c, s); done {
		return r
	}
	var wa wireArgs
	rc, tail, _, bad := c.marshal(&wa)
	if bad != "" {
		return c.invalid(bad)
	}
	if err := s.sendAsync(&rc, tail, c.tid()); err != nil {
		return c.unreachable()
	}
	if memoFacts[c.id] != 0 {
		memoNote(c)
	}
	return 0
}

// remoteRow makes the remote call of row id directly, whatever serves the row on the client,
// with arguments in the server's terms (device ordinals not translated); lib is the library
// whose result codes the caller answers in. Pointers must point to memory that does not move.
// Compare dispatchRow.
func remoteRow(lib api.Lib, id api.ID, args ...uint64) int64 {
	return remote(&call{id: id, f: &api.Table[id], lib: lib, a: args, raw: true})
}

// dispatchRow calls row id as the program's own call would go: through dispatch, so a row the
// client serves itself (Local, Forward) runs here, and arguments are in the program's terms, as
// a C caller passes them (pointers must point to memory that does not move, e.g. from new()).
// Hand-written functions use it to call other rows; remoteRow goes to the server directly.
func dispatchRow(lib api.Lib, id api.ID, args ...uint64) int64 {
	return dispatch[id](&call{id: id, f: &api.Table[id], lib: lib, a: args})
}
