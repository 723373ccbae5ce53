package client

import (
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/ranges"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/vlog"
)

// Several servers, one device list. VGPU_SERVER (or the config file's `server`) may name a
// comma-separated list of servers; the program then sees their GPUs as one list, the first
// server's first. With one address nothing here runs on a call's path but one test of a flag
// (multiServers); everything below is for a list.
//
//   - Each server has its own connection and session (its own worker), opened on first use.
//   - Handles are tagged with the server they came from: a handle that server k > 0 returned has
//     k in bits 56..62 (tagShift); the first server's handles are unchanged. The server's own
//     values are user-space pointers or small integers, so those bits are free (a value that has
//     them is refused with a log line). marshal removes the tag before a call leaves.
//   - Device pointers are never rewritten (a kernel's arguments hold them in bytes the client
//     cannot read), so two servers' allocations may have the same address. The client keeps
//     each server's device ranges apart (memory.dev for the first, remoteServer.dev for the others)
//     and logs an overlap once; an address found in one server's ranges only is that server's;
//     one found in several, or none, is the calling thread's current server's.
//   - A call goes to the server its handles, CUdevice arguments or device pointers belong to
//     (routeCall), else to the calling thread's current server: the server of the context it
//     (or its runtime device) last made current.

// tagShift: a tagged handle carries its server's position in bits 56..62.
const (
	tagShift = 56
	tagMask  = uint64(0x7f) << tagShift
)

// remoteServer is one server of the list.
type remoteServer struct {
	idx    int
	tag    uint64 // idx << tagShift
	addr   string
	source string

	// the session of a server after the first (the first's is sess, through getSession)
	mu       sync.Mutex
	s        *session
	lastErr  error
	lastDial time.Time

	// dev: the device ranges of a server after the first (memory.mu; the first's are memory.dev)
	dev ranges.Set

	// nvmlCount is the server's NVML device count once known (nvmlMu), else -1
	nvmlCount int
}

func (r *remoteServer) String() string { return fmt.Sprintf("vgpu-server %d (%s)", r.idx+1, r.addr) }

var srvs struct {
	once  sync.Once
	list  []*remoteServer
	multi bool
	last  atomic.Pointer[remoteServer] // the server a context was last made current on
}

// loadServers reads the address list once. A list that cannot be read leaves one server, whose
// dial reports the reason as before.
func loadServers() {
	addrs, source, err := remoting.ServerAddresses()
	if err != nil || len(addrs) == 0 {
		addrs = []string{""}
	}
	for i, a := range addrs {
		srvs.list = append(srvs.list, &remoteServer{idx: i, tag: uint64(i) << tagShift, addr: a, source: source, nvmlCount: -1})
	}
	srvs.multi = len(srvs.list) > 1
}

// serverList is every server, in the order given.
func serverList() []*remoteServer {
	srvs.once.Do(loadServers)
	return srvs.list
}

// multiServers reports whether the client talks to several servers.
func multiServers() bool {
	srvs.once.Do(loadServers)
	return srvs.multi
}

// session returns the server's connected session, connecting on first use (at most one attempt
// a second; the reason of a failure is logged once).
func (r *remoteServer) session() (*session, error) {
	if r.idx == 0 {
		return getSession()
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.s != nil {
		return r.s, nil
	}
	if r.lastErr != nil && time.Since(r.lastDial) < time.Second {
		return nil, r.lastErr
	}
	r.lastDial = time.Now()
	s, err := dialAddr(r.addr, r.source)
	if err != nil {
		r.lastErr = err
		vlog.Once("dial:"+err.Error(), "%v", err)
		return nil, err
	}
	r.lastErr = nil
	r.s = s
	s.applySched()
	return s, nil
}

// openSession is the server's session if one was opened (nil otherwise); it connects nothing.
func (r *remoteServer) openSession() *session {
	if r.idx == 0 {
		sessMu.Lock()
		defer sessMu.Unlock()
		return sess
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.s
}

// lost reports whether the session broke.
func (s *session) lost() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.broken != nil
}

// serverOfHandle is the server a (tagged) handle came from.
func serverOfHandle(h uint64) (*remoteServer, bool) {
	list := serverList()
	k := int(h >> tagShift & 0x7f)
	if k >= len(list) {
		return nil, false
	}
	return list[k], true
}

// tagHandle marks a handle server srv returned as that server's. A value that already uses the
// tag's bits cannot be marked (logged once): it would be taken for another server's.
func tagHandle(srv *remoteServer, name string, h uint64) uint64 {
	if h == 0 || srv == nil || srv.idx == 0 {
		return h
	}
	if h&tagMask != 0 {
		vlog.Once("tagbits:"+name, "%s: %s returned the handle %#x, whose top bits vgpu uses to tell servers apart; calls with it will go to the wrong server", name, srv, h)
		return h
	}
	return h | srv.tag
}

// server is the server call c went (or goes) to: the first one when it was not routed.
func (c *call) server() *remoteServer {
	if c.srv != nil {
		return c.srv
	}
	return serverList()[0]
}

// tag is the tag of c's server (0 for the first, and for a call not routed).
func (c *call) tag() uint64 {
	if c.srv == nil {
		return 0
	}
	return c.srv.tag
}

// sessionFor returns the session call c goes to, routing it among several servers; with none,
// the result to return instead.
func sessionFor(c *call) (*session, int64) {
	if c.srv == nil {
		if !multiServers() {
			s, err := getSession()
			if err != nil {
				return nil, c.unreachable()
			}
			return s, 0
		}
		if r, ok := routeCall(c); !ok {
			return nil, r
		}
	}
	s, err := c.srv.session()
	if err != nil {
		return nil, c.unreachable()
	}
	return s, 0
}

// route sets c.srv where several servers are (nothing with one); r is the result to return
// when the call's arguments belong to different servers.
func route(c *call) (int64, bool) {
	if c.srv != nil || !multiServers() {
		return 0, true
	}
	return routeCall(c)
}

// routeCall picks the server of call c: the one its handles or CUdevice arguments belong to; else
// the one that alone holds one of its device pointers; else, for NVML, the first; else the
// calling thread's current server. Handles or devices of two servers in one call are refused
// with the library's invalid-handle code and one log line per function.
func routeCall(c *call) (int64, bool) {
	list := serverList()
	var by *remoteServer
	conflict := func(other *remoteServer) (int64, bool) {
		code := c.lib.Info().InvalidHandle
		vlog.Once("route:"+c.f.Name, "%s: its arguments belong to two vgpu servers (%s and %s); a call can reach one (returning %d)", c.f.Name, by, other, code)
		return int64(code), false
	}
	for i := range c.f.Params {
		p := &c.f.Params[i]
		v := c.a[i]
		var s *remoteServer
		switch {
		case p.Kind == api.Handle:
			if v == 0 || p.H == api.HStream && v <= 2 {
				continue // NULL, or a special stream: the current server's
			}
			k := int(v >> tagShift & 0x7f)
			if k >= len(list) {
				code := c.lib.Info().InvalidHandle
				vlog.Debugf("%s: handle %#x is of no vgpu server (returning %d)", c.f.Name, v, code)
				return int64(code), false
			}
			s = list[k]
		case p.C == "CUdevice" && !c.raw:
			d, r := dev(int32(uint32(v)))
			if r != 0 {
				continue // marshal refuses it, or the server answers
			}
			s = d.srv
		default:
			continue
		}
		if by != nil && s != by {
			return conflict(s)
		}
		by = s
	}
	if by == nil && c.f.Lib() != api.LibNVML {
		for i := range c.f.Params {
			if c.f.Params[i].Kind != api.DevPtr {
				continue
			}
			s, only := ownerOf(c.a[i])
			if s == nil || !only {
				continue
			}
			if by != nil && s != by {
				return conflict(s)
			}
			by = s
		}
	}
	switch {
	case by != nil:
	case c.f.Lib() == api.LibNVML:
		by = list[0]
	default:
		by = currentServer()
	}
	c.srv = by
	return 0, true
}

// currentServer is the server of the calling thread's current context; for a thread that made
// none current, the server a context was last made current on; else the first.
func currentServer() *remoteServer {
	if s := thread().srv; s != nil {
		return s
	}
	if s := srvs.last.Load(); s != nil {
		return s
	}
	return serverList()[0]
}

// setCurrentServer records that the calling thread's current context is now on srv.
func setCurrentServer(srv *remoteServer) {
	if srv == nil || !multiServers() {
		return
	}
	thread().srv = srv
	srvs.last.Store(srv)
}

// devRanges is server srv's set of device ranges; memory.mu is held.
func devRanges(srv *remoteServer) *ranges.Set {
	if srv == nil || srv.idx == 0 {
		return &memory.dev
	}
	return &srv.dev
}

// ownerOf is the server whose device ranges hold p: only is true when no other server's do.
// Without several servers it is the first, if p is a device address.
func ownerOf(p uint64) (srv *remoteServer, only bool) {
	memory.mu.Lock()
	defer memory.mu.Unlock()
	for _, s := range serverList() {
		if _, _, ok := devRanges(s).Find(p, 1); ok {
			if srv != nil {
				return srv, false
			}
			srv = s
		}
	}
	return srv, srv != nil
}

// ownerOrCurrent is the server a device address names: the one that alone holds it, else the
// calling thread's current server.
func ownerOrCurrent(p uint64) *remoteServer {
	if s, only := ownerOf(p); only {
		return s
	}
	return currentServer()
}

// addRange records a device range server srv created; with several servers an overlap with
// another server's range is logged (once): such addresses resolve to the current server.
func addRange(srv *remoteServer, base, size uint64) {
	memory.mu.Lock()
	defer memory.mu.Unlock()
	devRanges(srv).Add(base, size)
	if !srvs.multi {
		return
	}
	for _, o := range srvs.list {
		if o != srv && devRanges(o).Overlaps(base, size) {
			vlog.Once("overlap", "device memory at %#x (%d bytes) on %s overlaps device memory of %s: calls that name such an address without a device, stream or context (cudaMemcpyDefault, cuPointerGetAttributes) take it as the calling thread's current device's", base, size, srv, o)
		}
	}
}

// removeRange forgets a device range of server srv.
func removeRange(srv *remoteServer, base uint64) {
	memory.mu.Lock()
	defer memory.mu.Unlock()
	devRanges(srv).Remove(base)
}

// remoteOn makes the remote call of row id on server srv, with arguments in the server's terms
// (as remoteRow).
func remoteOn(srv *remoteServer, lib api.Lib, id api.ID, args ...uint64) int64 {
	return remote(&call{id: id, f: &api.Table[id], lib: lib, a: args, raw: true, srv: srv})
}

// callOn is dispatchRow with the call sent to server srv.
func callOn(srv *remoteServer, lib api.Lib, id api.ID, args ...uint64) int64 {
	return dispatch[id](&call{id: id, f: &api.Table[id], lib: lib, a: args, srv: srv})
}

// anySession is a session of any server (the first that answers): for what needs a server but
// no particular one (nvmlInit).
func anySession() (*session, error) {
	var first error
	for _, s := range serverList() {
		ss, err := s.session()
		if err == nil {
			return ss, nil
		}
		if first == nil {
			first = err
		}
	}
	return nil, first
}
