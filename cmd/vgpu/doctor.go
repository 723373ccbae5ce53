package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/vgpu/vgpu/internal/doctor"
)

// stringList is a repeatable flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// doctorMain is `vgpu doctor`: exit 0 when no check failed, 1 otherwise (2: bad usage).
func doctorMain(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("vgpu doctor", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var consumers stringList
	fs.Var(&consumers, "consumer", "a library to check the loading of (e.g. libggml-cuda.so); repeatable")
	discover := fs.String("discover", "", "vgpu-discover to run (default: next to vgpu, else in the folder of the preloaded stubs); - skips discovery")
	verbose := fs.Bool("v", false, "print every discovery step")
	timeout := fs.Duration("timeout", 60*time.Second, "how long vgpu-discover may run")
	fs.Usage = func() {
		fmt.Fprintln(stderr, `usage: vgpu doctor [flags]

Checks, in this environment: each LD_PRELOAD entry (exists, loadable, vgpu's or foreign, not twice,
its dependencies resolve), which file each vgpu library name resolves to, the consumers given with
--consumer (every symbol and version they need from vgpu's libraries), the server (handshake,
backend) and GPU discovery through the stubs (vgpu-discover). One line per check: ok, WARN or FAIL.
Exit status 1 when a check failed.

Run it with the environment of the program that finds no GPU, e.g.
  LD_PRELOAD=... VGPU_SERVER=... vgpu doctor --consumer /usr/lib/ollama/libggml-cuda.so

Flags:`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fs.Usage()
		return 2
	}
	rep := doctor.Run(doctor.Options{
		Consumers:       consumers,
		Discover:        *discover,
		Verbose:         *verbose,
		DiscoverTimeout: *timeout,
		Out:             stdout,
	})
	if rep.Failed() {
		return 1
	}
	return 0
}
