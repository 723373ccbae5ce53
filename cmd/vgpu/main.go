// Command vgpu is the vgpu command-line tool.
//
//	vgpu ping               connect to the server (VGPU_SERVER, else the config file) and print what answers
//	vgpu smi [-L]           list the server's GPUs, like nvidia-smi (-L: one line per GPU)
//	vgpu doctor [flags]     check this environment for what keeps CUDA programs from finding a GPU
//	vgpu enable|disable ollama|system [flags]   connect Ollama (a systemd drop-in) or every program (ld.so.conf.d) to vgpu
//	vgpu run [flags] -- PROGRAM ARGS   run one program with vgpu's libraries preloaded
//	vgpu cdi generate [flags]          write a Container Device Interface spec (vgpu.dev/gpu=all)
//	vgpu version, vgpu --version
//
// The CLI is a Go program: it never loads libvgpucore.so (that would be a second Go runtime);
// smi uses the client package in-process.
package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/doctor"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/version"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

// run is the CLI; it returns the exit status.
func run(args []string) int {
	if len(args) < 1 {
		usage()
		return 2
	}
	var err error
	switch args[0] {
	case "ping":
		err = ping()
	case "smi":
		return smiMain(args[1:], os.Stdout, os.Stderr)
	case "doctor":
		return doctorMain(args[1:], os.Stdout, os.Stderr)
	case "enable", "disable":
		return enableMain(args[0] == "enable", args[1:], os.Stdout, os.Stderr)
	case "run":
		return runMain(args[1:], os.Stderr)
	case "cdi":
		return cdiMain(args[1:], os.Stdout, os.Stderr)
	case "version", "--version":
		fmt.Printf("vgpu %s, protocol %d, API table %#x (%d functions)\n", version.Version, remoting.ProtocolVersion, api.TableHash(), len(api.Table))
	case "help", "-h", "--help":
		usage()
		return 0
	default:
		usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vgpu:", err)
		return 1
	}
	return 0
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: vgpu COMMAND
  ping               connect to vgpu-server and print what answers
  smi [-L]           list the server's GPUs like nvidia-smi (-L: one line each)
  doctor [flags]     check this environment (LD_PRELOAD, libraries, server, discovery); -h for flags
  enable ollama      write the systemd drop-in that preloads vgpu into Ollama (disable ollama removes it)
  enable system      add vgpu's folder to the linker cache (GPU-less machines; disable system removes it)
  run -- PROG ARGS   run one program with vgpu's libraries preloaded
  cdi generate       write a Container Device Interface spec (--device vgpu.dev/gpu=all)
  version            print the version, protocol and API table (also --version)`)
}

func ping() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rs, errs := doctor.PingAllEnv(ctx, nil, "vgpu")
	var first error
	for i, r := range rs {
		if errs[i] != nil {
			if first == nil {
				first = errs[i] // printed by main
			} else {
				fmt.Println(errs[i])
			}
			continue
		}
		w := r.Welcome
		fmt.Printf("vgpu-server %s at %s (from %s): protocol %d, backend %s, session %d, %v\n", w.ServerVersion, r.Addr, r.Source, w.Version, w.Backend, w.Session, r.RTT.Round(time.Microsecond))
	}
	return first
}
