package doctor

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// PingResult is what a handshake with the server told.
type PingResult struct {
	Addr, Source string
	Welcome      remoting.Welcome
	RTT          time.Duration // connect plus handshake
}

// Ping connects to addr and runs the handshake a client runs, as process exe.
func Ping(ctx context.Context, addr, source, exe string) (PingResult, error) {
	res := PingResult{Addr: addr, Source: source}
	a, err := remoting.ParseAddr(addr)
	if err != nil {
		return res, fmt.Errorf("%s (from %s): %w", addr, source, err)
	}
	start := time.Now()
	nc, err := remoting.Dial(ctx, a)
	if err != nil {
		return res, fmt.Errorf("cannot reach vgpu-server at %s (address from %s): %w", addr, source, err)
	}
	defer nc.Close()
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	// tcp:// is TLS unless this process's settings say insecure (remoting.LoadClientSecurity).
	var rw io.ReadWriter = nc
	var tc *tls.Conn
	var sec remoting.ClientSecurity
	if a.Scheme == "tcp" {
		if sec, err = remoting.LoadClientSecurity(); err != nil {
			return res, err
		}
		if !sec.Insecure {
			cfg, err := sec.TLSConfig(a)
			if err != nil {
				return res, err
			}
			tc = tls.Client(nc, cfg)
			if err := tc.Handshake(); err != nil {
				return res, remoting.ExplainTLSError(err, a)
			}
			rw = tc
		}
	}
	c := remoting.NewConn(rw)
	host, _ := os.Hostname()
	hello := remoting.Hello{Version: remoting.ProtocolVersion, TableHash: api.TableHash(),
		PID: uint32(os.Getpid()), UID: uint32(os.Getuid()), Host: host, Exe: exe}
	if tc != nil {
		if err := sec.Authenticate(tc, &hello); err != nil {
			return res, err
		}
	}
	p := remoting.AppendHello(nil, &hello)
	if err := c.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameHello}, p); err != nil {
		return res, fmt.Errorf("vgpu-server at %s (from %s): sending the handshake: %w", addr, source, err)
	}
	if err := c.Flush(); err != nil {
		return res, fmt.Errorf("vgpu-server at %s (from %s): sending the handshake: %w", addr, source, err)
	}
	h, payload, err := c.ReadFrame()
	if err != nil {
		return res, fmt.Errorf("vgpu-server at %s (from %s) did not answer the handshake: %w", addr, source, err)
	}
	res.RTT = time.Since(start)
	switch h.Type {
	case remoting.FrameWelcome:
		w, err := remoting.DecodeWelcome(payload)
		if err != nil {
			return res, fmt.Errorf("vgpu-server at %s (from %s): bad welcome: %w", addr, source, err)
		}
		res.Welcome = w
		return res, nil
	case remoting.FrameError:
		e, err := remoting.DecodeError(payload)
		if err != nil {
			return res, fmt.Errorf("vgpu-server at %s (from %s): bad error frame: %w", addr, source, err)
		}
		return res, fmt.Errorf("vgpu-server at %s (from %s) refused the session: %w", addr, source, &e)
	}
	return res, fmt.Errorf("vgpu-server at %s (from %s): unexpected %v frame in the handshake", addr, source, h.Type)
}

// PingEnv is Ping at the address the environment env names (nil: this process's, found by
// remoting.ServerAddress exactly as the client core finds it); for a list of servers, the first.
func PingEnv(ctx context.Context, env []string, exe string) (PingResult, error) {
	rs, errs := PingAllEnv(ctx, env, exe)
	return rs[0], errs[0]
}

// PingAllEnv pings every server of the address the environment env names (one, or a
// comma-separated list), in order: one result and one error (nil: it answered) each.
func PingAllEnv(ctx context.Context, env []string, exe string) ([]PingResult, []error) {
	var addr, source string
	var err error
	if env == nil {
		addr, source, err = remoting.ServerAddress()
	} else {
		addr, source, err = remoting.ServerAddressIn(newEnviron(env).get)
	}
	if err != nil {
		return []PingResult{{Source: source}}, []error{fmt.Errorf("no usable vgpu server address: %w", err)}
	}
	addrs, _ := remoting.SplitServers(addr, source)
	var rs []PingResult
	var errs []error
	for _, a := range addrs {
		r, err := Ping(ctx, a, source, exe)
		rs, errs = append(rs, r), append(errs, err)
	}
	return rs, errs
}

type serverResult struct {
	PingResult
	err error
}

// checkServer is `vgpu ping` as a check: reachable, handshake accepted, backend, round trip; one
// line per server of a list (the first failure, else the first server, is the one remembered).
func (d *doctor) checkServer() {
	ctx, cancel := context.WithTimeout(context.Background(), d.o.ServerTimeout)
	defer cancel()
	rs, errs := PingAllEnv(ctx, d.envArg, "vgpu-doctor")
	for i := range rs {
		if d.server == nil || errs[i] != nil && d.server.err == nil {
			d.server = &serverResult{rs[i], errs[i]}
		}
		d.reportServer(rs[i], errs[i])
	}
}

func (d *doctor) reportServer(r PingResult, err error) {
	if err != nil {
		hint := "start vgpu-server there, or point VGPU_SERVER at a running one"
		if r.Source == "default" {
			hint = "VGPU_SERVER is not set and no config file names a server, so the default was used; set VGPU_SERVER"
		}
		d.rep.add(Fail, "server", "%v (%s)", err, hint)
		return
	}
	w := r.Welcome
	msg := fmt.Sprintf("vgpu-server %s at %s (from %s): protocol %d, backend %s, session %d, handshake %v",
		w.ServerVersion, r.Addr, r.Source, w.Version, w.Backend, w.Session, r.RTT.Round(time.Microsecond))
	if w.Backend == "sim" {
		d.rep.add(Warn, "server", "%s; the sim backend is a simulated device, not a GPU", msg)
	} else {
		d.rep.add(OK, "server", "%s", msg)
	}
	if a, err := remoting.ParseAddr(r.Addr); err == nil && a.Scheme == "unix" {
		d.checkSharedMemory()
	}
}

// checkSharedMemory: on a unix socket a client passes the worker shared memory (a sealed memfd)
// for bulk copies and for its calls and replies; where this process cannot make one (a seccomp
// profile refusing memfd_create), clients fall back to the socket, slower.
func (d *doctor) checkSharedMemory() {
	fd, m, err := remoting.NewSealedMemfd("vgpu-doctor", 4096)
	if err != nil {
		d.rep.add(Warn, "shared memory", "a sealed memfd cannot be made here (%v): clients send their calls and bulk copies through the socket, slower; allow memfd_create and F_ADD_SEALS (the container's seccomp profile)", err)
		return
	}
	unix.Munmap(m)
	unix.Close(fd)
	d.rep.add(OK, "shared memory", "sealed memfds work here: on the unix socket calls, replies and bulk copies go through shared memory")
}
