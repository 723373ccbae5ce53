package integration

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// rawSession is a client that speaks the wire protocol itself, as a hostile program would.
type rawSession struct {
	nc   net.Conn
	conn *remoting.Conn
	req  uint64
}

func dialHostile(t testing.TB, sock string) (*rawSession, error) {
	nc, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return nil, err
	}
	s := &rawSession{nc: nc, conn: remoting.NewConn(nc)}
	nc.SetDeadline(time.Now().Add(10 * time.Second))
	hello := remoting.Hello{Version: remoting.ProtocolVersion, TableHash: api.TableHash(), PID: 1, UID: 0, Host: "hostile", Exe: "hostile"}
	p := remoting.AppendHello(nil, &hello)
	if err := s.conn.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameHello}, p); err != nil {
		nc.Close()
		return nil, err
	}
	if err := s.conn.Flush(); err != nil {
		nc.Close()
		return nil, err
	}
	h, _, err := s.conn.ReadFrame()
	if err != nil || h.Type != remoting.FrameWelcome {
		nc.Close()
		return nil, fmt.Errorf("handshake: %v frame, %v", h.Type, err)
	}
	return s, nil
}

// call sends c (async when async is set) and, for a synchronous call, waits for its reply,
// skipping what the server may send before it. It returns the reply, or an error when the
// server ended the session (an Error frame or a closed connection).
func (s *rawSession) call(c *remoting.Call, async bool) (*remoting.Reply, error) {
	s.req++
	p := remoting.AppendCall(nil, c)
	h := remoting.Header{Length: uint32(len(p)), Type: remoting.FrameCall, ReqID: s.req}
	if async {
		h.Flags = remoting.FlagAsync
	}
	s.nc.SetDeadline(time.Now().Add(20 * time.Second))
	if err := s.conn.WriteFrame(h, p); err != nil {
		return nil, err
	}
	if err := s.conn.Flush(); err != nil {
		return nil, err
	}
	if async {
		return nil, nil
	}
	for {
		h, payload, err := s.conn.ReadFrame()
		if err != nil {
			return nil, err
		}
		switch h.Type {
		case remoting.FrameReply:
			r, err := remoting.DecodeReply(payload)
			if err != nil {
				return nil, err
			}
			return &r, nil
		case remoting.FrameError:
			e, _ := remoting.DecodeError(payload)
			return nil, &e
		}
	}
}

// hostileCall makes a call of row id whose shape fits the row (so it passes the frame checks and
// reaches the argument checks and the backend) with hostile values: zero, small, huge and
// sign-bit numbers, and handles and addresses the server handed this session or another.
func hostileCall(r *rand.Rand, id int, pool []uint64) *remoting.Call {
	f := &api.Table[id]
	c := &remoting.Call{Fn: uint32(id)}
	vals := make([]uint64, len(f.Params))
	pick := func() uint64 {
		switch r.IntN(8) {
		case 0:
			return 0
		case 1:
			return uint64(r.IntN(16))
		case 2:
			return 1 << (r.IntN(64))
		case 3:
			return ^uint64(0) - uint64(r.IntN(4))
		case 4:
			return uint64(r.IntN(1 << 20))
		default:
			if len(pool) > 0 {
				return pool[r.IntN(len(pool))] + uint64(r.IntN(3))*uint64(r.IntN(1<<16))
			}
			return r.Uint64()
		}
	}
	for i := range f.Params {
		vals[i] = pick()
	}
	// Size parameters of input buffers are kept small, so the frame can carry them.
	for i := range f.Params {
		p := &f.Params[i]
		if p.Kind != api.InBuf && p.Kind != api.InOutVal {
			continue
		}
		if j := f.ParamIndex(p.Size); j >= 0 {
			vals[j] = uint64(r.IntN(256))
		}
	}
	for i := range f.Params {
		p := &f.Params[i]
		switch p.Kind {
		case api.Scalar, api.Handle, api.DevPtr, api.HostPtr:
			c.Scalars = append(c.Scalars, vals[i])
		case api.InBuf, api.InOutVal:
			n, ok := api.SpecNumber(p.Size)
			if j := f.ParamIndex(p.Size); j >= 0 {
				n, ok = vals[j], true
			}
			if !ok || n > 1<<16 {
				n = uint64(r.IntN(64))
			}
			if p.Kind == api.InBuf && p.Elem > 1 {
				n *= uint64(p.Elem)
			}
			b := make([]byte, n)
			for k := range b {
				b[k] = byte(r.Uint32())
			}
			c.Bufs = append(c.Bufs, b)
		case api.InStr:
			s := []byte("x\x00\xff\n\x1b[31m")
			c.Bufs = append(c.Bufs, s[:r.IntN(len(s)+1)])
		}
	}
	return c
}

// TestHostileClients: sessions that send calls of every remoted row with hostile arguments
// (VGPU_HOSTILE_CALLS of them, 10,000 by default), and now and then a frame of garbage, never
// crash a worker or the server: each bad call is answered with an error code (or, for a frame
// that breaks the protocol, the session ends with an Error frame), and a normal client works
// afterwards. Handles and device addresses one session received are tried in the next one, so
// no session reaches another's objects.
func TestHostileClients(t *testing.T) {
	calls := settings.TestHostileCalls.Get()
	s := startServer(t, false)
	sock := strings.TrimPrefix(s.unix, "unix://")
	var remoted []int
	for id := range api.Table {
		f := &api.Table[id]
		if f.Serve != api.Remote && f.Serve != api.Async {
			continue
		}
		if strings.Contains(f.Name, "Synchronize") || strings.HasPrefix(f.Name, "cuStreamWait") || strings.HasPrefix(f.Name, "cuEventSynchronize") {
			continue // a wait on the simulated device's work is legal and may be long
		}
		remoted = append(remoted, id)
	}
	r := rand.New(rand.NewPCG(1, uint64(calls)))
	var pool []uint64 // handles and addresses replies carried, across sessions
	var sent, answered, refused, ended, garbage int
	start := time.Now()
	var sess *rawSession
	for sent < calls {
		if sess == nil {
			var err error
			if sess, err = dialHostile(t, sock); err != nil {
				t.Fatalf("after %d calls: a new session failed: %v\nserver log:\n%s", sent, err, s.log())
			}
		}
		if r.IntN(500) == 0 { // a frame of garbage: the session must end cleanly
			b := make([]byte, 16+r.IntN(64))
			for k := range b {
				b[k] = byte(r.Uint32())
			}
			sess.nc.Write(b)
			sess.nc.Close()
			sess = nil
			garbage++
			continue
		}
		id := remoted[r.IntN(len(remoted))]
		async := api.Table[id].Serve == api.Async && r.IntN(2) == 0
		rep, err := sess.call(hostileCall(r, id, pool), async)
		sent++
		var em *remoting.ErrorMsg
		switch {
		case err == nil && rep != nil:
			answered++
			if rep.Result != 0 {
				refused++
			}
			for _, b := range rep.Bufs {
				if len(b) == 8 {
					if v := le64(b); v != 0 && len(pool) < 4096 {
						pool = append(pool, v)
					}
				}
			}
		case err == nil:
		case errors.As(err, &em):
			ended++ // the server refused the frame and ended the session
			sess.nc.Close()
			sess = nil
		default:
			t.Fatalf("after %d calls: %s (%s): the session broke without an Error frame: %v\nserver log:\n%s",
				sent, api.Table[id].Name, hostileDesc(id), err, s.log())
		}
		if sess != nil && r.IntN(200) == 0 { // a fresh session now and then: the pool crosses over
			sess.nc.Close()
			sess = nil
		}
	}
	if sess != nil {
		sess.nc.Close()
	}
	t.Logf("%d hostile calls in %v: %d answered (%d with an error code), %d sessions ended by the server, %d garbage frames",
		sent, time.Since(start).Round(time.Millisecond), answered, refused, ended, garbage)
	if !s.alive() {
		t.Fatalf("vgpu-server exited: %v", s.waitErr)
	}
	if log := s.log(); strings.Contains(log, "signal") || strings.Contains(log, "panic") {
		t.Fatalf("a worker died of a signal or panicked:\n%s", log)
	}
	devicequeryOK(t, s.unix)
}

func hostileDesc(id int) string {
	f := &api.Table[id]
	var k []string
	for _, p := range f.Params {
		k = append(k, p.Kind.String())
	}
	return strings.Join(k, ",")
}

func le64(b []byte) uint64 {
	var v uint64
	for i := 7; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v
}
