// Command vgpu-netem is a test tool for vgpu over a network (docs/NETWORK.md); it is built into
// build/out but is no part of the packages.
//
//	vgpu-netem relay --listen HOST:PORT --target tcp://HOST:PORT --rtt 1ms
//	    forwards each connection to the target both ways, adding half the round-trip time to
//	    each direction, and with --gbit G carrying at most G Gbit/s each way; plain TCP or TLS
//	    pass alike
//	vgpu-netem bench [--calls N] [--size BYTES] [--reps N] [--plain=false]
//	    through the vgpu client (VGPU_SERVER, as any program): the round trip of a small call and
//	    host-to-device and device-to-host copy throughput, each copy read back and compared; and
//	    the throughput of a plain socket pair of the same kind (TCP or unix) in the same run,
//	    with Go's defaults, with vgpu's set-up and, over TCP, sending with MSG_ZEROCOPY
//
// Its output is "metric NAME VALUE UNIT" lines (as test/gpu/bench/bench.cu's) and one summary.
// bench is a Go program that links the client package (internal/client), so it never loads
// libvgpucore.so; the bytes take the same path as a C program's.
package main

import (
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"syscall"
	"time"

	"github.com/vgpu/vgpu/internal/remoting"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	if len(args) < 1 {
		usage()
		return 2
	}
	var err error
	switch args[0] {
	case "relay":
		err = relayMain(args[1:])
	case "bench":
		err = benchMain(args[1:])
	case "help", "-h", "--help":
		usage()
		return 0
	default:
		usage()
		return 2
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "vgpu-netem:", err)
		return 1
	}
	return 0
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage: vgpu-netem COMMAND
  relay --listen HOST:PORT --target tcp://HOST:PORT --rtt DURATION [--gbit G]
                          delay each direction by RTT/2, and carry at most G Gbit/s each way
  bench [--calls N] [--size BYTES] [--reps N]   round trip and copy throughput through VGPU_SERVER
  (-h after a command for its flags)`)
}

func relayMain(args []string) error {
	fs := flag.NewFlagSet("relay", flag.ExitOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to listen on (host:port)")
	target := fs.String("target", "", "the vgpu-server to forward to (tcp://host:port)")
	rtt := fs.Duration("rtt", 0, "round-trip time to add: each direction is delayed by half")
	gbit := fs.Float64("gbit", 0, "a link of this many Gbit/s each way: bytes wait for the ones before them to cross (0: no limit)")
	spin := fs.Duration("spin", 60*time.Microsecond, "how much of each wait polls the clock instead of sleeping")
	limit := fs.Int("queue", 64<<20, "bytes held per direction before the relay stops reading")
	quiet := fs.Bool("quiet", false, "no line per finished connection")
	fs.Parse(args)
	a, err := remoting.ParseAddr(*target)
	if err != nil {
		return err
	}
	if a.Scheme != "tcp" {
		return fmt.Errorf("--target %q: only tcp:// addresses are relayed", *target)
	}
	if *rtt < 0 || *limit < readSize || *gbit < 0 {
		return fmt.Errorf("--rtt and --gbit must not be negative, --queue at least %d", readSize)
	}
	ln, err := net.Listen("tcp", strings.TrimPrefix(*listen, "tcp://"))
	if err != nil {
		return err
	}
	// Its threads spend their time blocked in system calls: with a P for each, one that returns
	// from a read or a sleep never waits for another to give its P back.
	runtime.GOMAXPROCS(max(16, runtime.NumCPU()))
	r := &relay{target: net.JoinHostPort(a.Host, fmt.Sprint(a.Port)), delay: *rtt / 2, rate: *gbit * 1e9 / 8, spin: *spin, limit: *limit}
	if !*quiet {
		r.log = os.Stderr
	}
	// the address, once listening (a test reads it): tcp://HOST:PORT
	link := ""
	if *gbit > 0 {
		link = fmt.Sprintf(", %g Gbit/s each way", *gbit)
	}
	fmt.Printf("relay listening on tcp://%s, to %s, round trip +%v%s\n", ln.Addr(), *target, *rtt, link)
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sig; ln.Close() }()
	if err := r.serve(ln); err != nil && !strings.Contains(err.Error(), "use of closed") {
		return err
	}
	return nil
}
