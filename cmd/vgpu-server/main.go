// Command vgpu-server serves GPU calls of vgpu clients. Each connection gets its own worker
// process running on the host's driver (backend real) or on the simulated device (backend sim,
// for hosts without a GPU).
//
//	vgpu-server [--config /etc/vgpu/server.conf] [--listen unix:///run/vgpu/vgpu.sock] [--listen tcp://0.0.0.0:7070] [--backend auto|real|sim] ...
//	vgpu-server pki init|client|token ...
//	vgpu-server --version
//
// `vgpu-server --help` lists every configuration key (internal/server/config.go).
package main

import (
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/server"
	"github.com/vgpu/vgpu/internal/version"
)

func main() {
	// A closed stderr (the reader of the server's log went away) must not end the server or a
	// worker: writes then fail with EPIPE instead of raising SIGPIPE.
	signal.Ignore(syscall.SIGPIPE)
	if len(os.Args) > 1 {
		var err error
		switch os.Args[1] {
		case "worker":
			err = worker(os.Args[2:])
		case "pki":
			err = server.PKICommand(os.Args[2:], os.Stdout)
		case "--version", "-version", "version":
			fmt.Printf("vgpu-server %s, protocol %d, API table %#x\n", version.Version, remoting.ProtocolVersion, api.TableHash())
		default:
			err = run(os.Args[1:])
			if errors.Is(err, flag.ErrHelp) {
				return
			}
		}
		if err != nil {
			server.Logger().Error(err.Error())
			os.Exit(1)
		}
		return
	}
	if err := run(nil); err != nil {
		server.Logger().Error(err.Error())
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
	noPin := fs.Bool("no-pin", false, "leave the client's shared memory pageable")
	hello64 := fs.String("hello", "", "the client's Hello, read and checked by the server (base64)")
	// a session's limits after the handshake (0 turns one off)
	idle := fs.Duration("idle-timeout", server.DefaultIdleTimeout, "end the session when the client sent no frame for this long")
	frame := fs.Duration("frame-timeout", server.DefaultFrameTimeout, "end the session when a frame's payload has not come this long after its header")
	keepalive := fs.Duration("keepalive", server.DefaultKeepalive, "while a call runs longer than this, send the client a keepalive this often")
	handshake := fs.Duration("handshake-timeout", server.DefaultHandshakeTimeout, "end the session when the shared memory its Hello announced has not come this long after the Welcome")
	withTLS := fs.Bool("tls-state", false, "the session is TLS, its state on fd 5 (the server handed it over)")
	logFormat := fs.String("log-format", server.LogText, "text or json (the server's log_format)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := server.SetWorkerLog(*logFormat); err != nil {
		return err
	}
	id, _ := strconv.ParseUint(*session, 10, 64)
	pol, err := server.ParsePolicyFlags(*identity, *memLimit, *devices, *noPin)
	if err != nil {
		return err
	}
	var hello *remoting.Hello
	if *hello64 != "" {
		p, err := base64.RawURLEncoding.DecodeString(*hello64)
		if err != nil {
			return fmt.Errorf("worker --hello: %w", err)
		}
		h, err := remoting.DecodeHello(p)
		if err != nil {
			return fmt.Errorf("worker --hello: %w", err)
		}
		hello = &h
	}
	return server.RunWorker(*backend, id, pol, hello, server.Timeouts{Idle: *idle, Frame: *frame, Keepalive: *keepalive, Handshake: *handshake}, *withTLS)
}

func run(args []string) error {
	cfg, err := server.LoadConfig(args)
	if err != nil {
		return err
	}
	if err := server.SetLogFormat(cfg.LogFormat); err != nil {
		return err
	}
	log := server.Logger()
	srv, err := server.New(cfg)
	if err != nil {
		return err
	}
	if cfg.Insecure {
		log.Warn("WARNING: insecure is set: tcp listeners speak plain TCP and accept ANY client without authentication; use it only on a network you trust")
	}
	if cfg.MetricsListen != "" {
		a, err := srv.ServeMetrics(cfg.MetricsListen)
		if err != nil {
			return fmt.Errorf("metrics_listen %s: %w", cfg.MetricsListen, err)
		}
		log.Info(fmt.Sprintf("metrics at http://%s/metrics (plain HTTP without authentication)", a), "metrics", a.String())
	}
	errc := make(chan error, len(cfg.Listen))
	for _, a := range cfg.Listen {
		l, err := srv.Listen(a)
		if err != nil {
			return fmt.Errorf("listen %s: %w", a, err)
		}
		log.Info(fmt.Sprintf("listening on %s (backend %s, pid %d): %s", l.Addr, srv.Backend(), os.Getpid(), l.Describe(srv)), "listener", l.Addr.String(), "backend", srv.Backend())
		go func() { errc <- srv.Serve(l) }()
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	select {
	case s := <-sig:
		log.Info(fmt.Sprintf("%v: shutting down: no new connections; running sessions have up to %v (drain_timeout)", s, cfg.DrainTimeout), "signal", s.String())
		go func() {
			<-sig
			log.Warn("second signal: exiting now")
			os.Exit(1)
		}()
	case err = <-errc:
	}
	srv.Shutdown(cfg.DrainTimeout)
	if err == nil {
		log.Info("shut down")
	}
	return err
}
