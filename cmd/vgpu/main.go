// Command vgpu is the vgpu command-line tool.
//
//	vgpu ping      connect to the server (VGPU_SERVER, else the config file) and print what answers
//	vgpu version
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

var version = "0.1.0"

func main() {
	if len(os.Args) < 2 {
		usage()
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "ping":
		err = ping()
	case "version":
		fmt.Printf("vgpu %s, protocol %d, API table %#x (%d functions)\n", version, remoting.ProtocolVersion, api.TableHash(), len(api.Table))
	default:
		usage()
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vgpu:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: vgpu ping | version")
}

func ping() error {
	addr, source, err := remoting.ServerAddress()
	if err != nil {
		return err
	}
	a, err := remoting.ParseAddr(addr)
	if err != nil {
		return fmt.Errorf("%s (from %s): %w", addr, source, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	start := time.Now()
	nc, err := remoting.Dial(ctx, a)
	if err != nil {
		return fmt.Errorf("cannot reach vgpu-server at %s (from %s): %w", addr, source, err)
	}
	defer nc.Close()
	nc.SetDeadline(time.Now().Add(5 * time.Second))
	c := remoting.NewConn(nc)
	host, _ := os.Hostname()
	p := remoting.AppendHello(nil, &remoting.Hello{Version: remoting.ProtocolVersion, TableHash: api.TableHash(), PID: uint32(os.Getpid()), UID: uint32(os.Getuid()), Host: host, Exe: "vgpu"})
	if err := c.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: remoting.FrameHello}, p); err != nil {
		return err
	}
	if err := c.Flush(); err != nil {
		return err
	}
	h, payload, err := c.ReadFrame()
	if err != nil {
		return err
	}
	switch h.Type {
	case remoting.FrameWelcome:
		w, err := remoting.DecodeWelcome(payload)
		if err != nil {
			return err
		}
		fmt.Printf("vgpu-server %s at %s (from %s): protocol %d, backend %s, session %d, %v\n", w.ServerVersion, addr, source, w.Version, w.Backend, w.Session, time.Since(start).Round(time.Microsecond))
		return nil
	case remoting.FrameError:
		e, err := remoting.DecodeError(payload)
		if err != nil {
			return err
		}
		return &e
	}
	return fmt.Errorf("unexpected %v frame", h.Type)
}
