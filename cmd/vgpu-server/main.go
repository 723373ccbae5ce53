// Command vgpu-server serves GPU calls of vgpu clients. Each connection gets its own worker
// process running on the host's driver (backend real) or on the simulated device (backend sim,
// for hosts without a GPU).
//
//	vgpu-server [--listen unix:///run/vgpu/vgpu.sock] [--listen tcp://0.0.0.0:7070] [--backend auto|real|sim]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/server"
	"github.com/vgpu/vgpu/internal/vlog"
)

type listFlag []string

func (l *listFlag) String() string     { return strings.Join(*l, ",") }
func (l *listFlag) Set(s string) error { *l = append(*l, s); return nil }

func main() {
	vlog.SetPrefix("vgpu-server: ")
	if len(os.Args) > 1 && os.Args[1] == "worker" {
		if err := worker(os.Args[2:]); err != nil {
			vlog.Errorf("%v", err)
			os.Exit(1)
		}
		return
	}
	if err := run(); err != nil {
		vlog.Errorf("%v", err)
		os.Exit(1)
	}
}

func worker(args []string) error {
	fs := flag.NewFlagSet("worker", flag.ContinueOnError)
	backend := fs.String("backend", "sim", "")
	session := fs.String("session", "0", "")
	identity := fs.String("identity", "", "")
	memLimit := fs.String("mem-limit", "", "")
	devices := fs.String("devices", "", "")
	// a session's limits after the handshake (0 turns one off)
	idle := fs.Duration("idle-timeout", server.DefaultIdleTimeout, "end the session when the client sent no frame for this long")
	frame := fs.Duration("frame-timeout", server.DefaultFrameTimeout, "end the session when a frame's payload has not come this long after its header")
	keepalive := fs.Duration("keepalive", server.DefaultKeepalive, "while a call runs longer than this, send the client a keepalive this often")
	if err := fs.Parse(args); err != nil {
		return err
	}
	id, _ := strconv.ParseUint(*session, 10, 64)
	pol, err := server.ParsePolicyFlags(*identity, *memLimit, *devices)
	if err != nil {
		return err
	}
	return server.RunWorkerWith(*backend, id, pol, server.Timeouts{Idle: *idle, Frame: *frame, Keepalive: *keepalive})
}

func run() error {
	var listens listFlag
	flag.Var(&listens, "listen", "address to serve (repeatable): unix:///path, tcp://host:port, vsock://cid:port (default: the client default, "+defaultAddr+")")
	backend := flag.String("backend", "auto", "real (the host's GPUs), sim (a simulated device) or auto")
	flag.Parse()
	if len(listens) == 0 {
		listens = listFlag{defaultAddr}
	}
	srv, err := server.New(server.Config{Backend: *backend})
	if err != nil {
		return err
	}
	errc := make(chan error, len(listens))
	var closers []func() error
	for _, s := range listens {
		a, err := remoting.ParseAddr(s)
		if err != nil {
			return err
		}
		l, err := remoting.Listen(a)
		if err != nil {
			return fmt.Errorf("listen %s: %w", s, err)
		}
		closers = append(closers, l.Close)
		vlog.Printf("listening on %s (backend %s, pid %d)", a, srv.Backend(), os.Getpid())
		go func() { errc <- srv.Serve(l) }()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		vlog.Printf("%v: shutting down", s)
	case err = <-errc:
	}
	for _, c := range closers {
		c()
	}
	return err
}

const defaultAddr = "unix:///run/vgpu/vgpu.sock"
