//go:build !linux

package remoting

import (
	"context"
	"errors"
	"net"
)

var errNoVsock = errors.New("vsock is supported on Linux only")

func dialVsock(ctx context.Context, a Addr) (net.Conn, error) {
	return nil, &net.OpError{Op: "dial", Net: "vsock", Addr: a, Err: errNoVsock}
}

func listenVsock(a Addr) (net.Listener, error) {
	return nil, &net.OpError{Op: "listen", Net: "vsock", Addr: a, Err: errNoVsock}
}
