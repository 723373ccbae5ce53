package remoting

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Well-known vsock context ids and ports.
const (
	VsockCIDLocal uint32 = 1          // this host, over the loopback transport ("local")
	VsockCIDHost  uint32 = 2          // the hypervisor host, seen from a guest ("host")
	VsockCIDAny   uint32 = 0xFFFFFFFF // any, for Listen ("any")
	VsockPortAny  uint32 = 0xFFFFFFFF // let the kernel pick, for Listen
)

// maxUnixPath is the longest unix socket path (sun_path less its NUL).
const maxUnixPath = 107

// Addr is a server address. Forms:
//
//	unix:///abs/path.sock    Scheme "unix", Path "/abs/path.sock" (a bare "/abs/path.sock" is accepted too)
//	unix:@abstract-name      Scheme "unix", Path "@abstract-name" (Linux abstract namespace)
//	tcp://host:port          Scheme "tcp", Host, Port (host may be empty, or an [IPv6] literal)
//	vsock://cid:port         Scheme "vsock", CID (a number, "local", "host" = 2 or "any"), Port
//
// Addr implements net.Addr.
type Addr struct {
	Scheme, Path, Host string
	CID, Port          uint32
}

// ParseAddr parses an address in one of the forms of Addr.
func ParseAddr(s string) (Addr, error) {
	bad := func(format string, args ...any) (Addr, error) {
		return Addr{}, fmt.Errorf("vgpu address %q: %s", s, fmt.Sprintf(format, args...))
	}
	scheme, rest, ok := strings.Cut(s, ":")
	if strings.HasPrefix(s, "/") {
		scheme, rest, ok = "unix", s, true
	}
	if !ok {
		return bad("no scheme; want unix:///path, unix:@name, tcp://host:port or vsock://cid:port")
	}
	switch scheme = strings.ToLower(scheme); scheme {
	case "unix":
		path := strings.TrimPrefix(rest, "//")
		switch {
		case path == "":
			return bad("missing socket path")
		case path == "@":
			return bad("empty abstract socket name")
		case path[0] != '/' && path[0] != '@':
			return bad("socket path %q is not absolute", path)
		case len(path) > maxUnixPath:
			return bad("socket path is %d bytes, at most %d", len(path), maxUnixPath)
		}
		return Addr{Scheme: scheme, Path: path}, nil
	case "tcp", "vsock":
		hp, ok := strings.CutPrefix(rest, "//")
		if !ok {
			return bad("want %s://host:port", scheme)
		}
		host, port, err := net.SplitHostPort(hp)
		if err != nil {
			var ae *net.AddrError
			if errors.As(err, &ae) {
				return bad("%s", ae.Err)
			}
			return bad("%v", err)
		}
		if port == "" {
			return bad("missing port")
		}
		bits := 16
		if scheme == "vsock" {
			bits = 32
		}
		p, err := strconv.ParseUint(port, 10, bits)
		if err != nil {
			return bad("bad port %q: want a number below %d", port, uint64(1)<<bits)
		}
		a := Addr{Scheme: scheme, Port: uint32(p)}
		if strings.ContainsAny(host, "/?#@ ") {
			return bad("bad host %q", host)
		}
		if scheme == "tcp" {
			a.Host = host
			return a, nil
		}
		switch host {
		case "":
			return bad("missing vsock CID")
		case "local":
			a.CID = VsockCIDLocal
		case "host":
			a.CID = VsockCIDHost
		case "any":
			a.CID = VsockCIDAny
		default:
			cid, err := strconv.ParseUint(host, 10, 32)
			if err != nil {
				return bad("bad vsock CID %q: want a number, \"local\", \"host\" or \"any\"", host)
			}
			a.CID = uint32(cid)
		}
		return a, nil
	}
	return bad("unknown scheme %q; want unix, tcp or vsock", scheme)
}

// String returns a in the form ParseAddr reads.
func (a Addr) String() string {
	switch a.Scheme {
	case "unix":
		if strings.HasPrefix(a.Path, "@") {
			return "unix:" + a.Path
		}
		return "unix://" + a.Path
	case "tcp":
		return "tcp://" + net.JoinHostPort(a.Host, strconv.FormatUint(uint64(a.Port), 10))
	case "vsock":
		cid := strconv.FormatUint(uint64(a.CID), 10)
		if a.CID == VsockCIDAny {
			cid = "any"
		}
		return "vsock://" + cid + ":" + strconv.FormatUint(uint64(a.Port), 10)
	}
	return a.Scheme + ":?"
}

// Network returns a.Scheme (net.Addr).
func (a Addr) Network() string { return a.Scheme }

// hostPort is the address for package net, for unix and tcp.
func (a Addr) hostPort() string {
	if a.Scheme == "unix" {
		return a.Path
	}
	return net.JoinHostPort(a.Host, strconv.FormatUint(uint64(a.Port), 10))
}

// Dial connects to a.
func Dial(ctx context.Context, a Addr) (net.Conn, error) {
	switch a.Scheme {
	case "unix", "tcp":
		var d net.Dialer
		return d.DialContext(ctx, a.Scheme, a.hostPort())
	case "vsock":
		return dialVsock(ctx, a)
	}
	return nil, fmt.Errorf("vgpu: dial %v: unknown scheme %q", a, a.Scheme)
}

// Listen listens on a. For a unix path, an existing socket file is removed
// first if nothing answers on it; when something does, Listen fails. The
// socket's directory must exist, and its mode follows the umask. Closing the
// listener removes the socket file.
func Listen(a Addr) (net.Listener, error) {
	switch a.Scheme {
	case "unix":
		if err := removeStaleSocket(a.Path); err != nil {
			return nil, err
		}
		fallthrough
	case "tcp":
		return net.Listen(a.Scheme, a.hostPort())
	case "vsock":
		return listenVsock(a)
	}
	return nil, fmt.Errorf("vgpu: listen %v: unknown scheme %q", a, a.Scheme)
}

func removeStaleSocket(path string) error {
	if strings.HasPrefix(path, "@") {
		return nil
	}
	fi, err := os.Lstat(path)
	if err != nil {
		return nil // absent, or net.Listen reports it
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("vgpu: listen unix %s: file exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("vgpu: listen unix %s: a server is already listening there", path)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("vgpu: listen unix %s: removing stale socket: %w", path, err)
		}
	}
	return nil
}
