package main

import (
	"bytes"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/client"
	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// plainPiece is the size of each write of the plain socket pair: the client's chunk of a copy
// over TCP (internal/client/call.go, chunkSize).
const plainPiece = 16 << 20

func benchMain(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ExitOnError)
	calls := fs.Int("calls", 1000, "round trips to time (cuDriverGetVersion; 0: none)")
	size := fs.Int("size", 256<<20, "bytes of each copy (0: no copies)")
	reps := fs.Int("reps", 3, "copies each way (the best is reported; every one is checked)")
	plain := fs.Bool("plain", true, "also time a plain socket pair of the server's kind")
	fs.Parse(args)
	if *calls < 0 || *size > 0 && *reps < 1 {
		return fmt.Errorf("bench: --calls must not be negative, --reps at least 1")
	}
	runtime.LockOSThread() // as a C program's thread (the current context is per thread)
	defer printStats()

	srv, err := client.Connect()
	if err != nil {
		return err
	}
	a, err := remoting.ParseAddr(srv.Addr)
	if err != nil {
		return err
	}
	fmt.Printf("server %s (%s backend, %s)\n", srv.Addr, srv.Backend, srv.ServerVersion)
	if err := client.UsePrimaryContext(0); err != nil {
		return err
	}
	if *calls > 0 {
		d := make([]time.Duration, *calls)
		for i := range d {
			t0 := time.Now()
			if _, err := client.CUDADriverVersion(); err != nil {
				return err
			}
			d[i] = time.Since(t0)
		}
		slices.Sort(d)
		var sum time.Duration
		for _, x := range d {
			sum += x
		}
		us := func(x time.Duration) float64 { return float64(x) / 1e3 }
		metric("rtt_median_us", us(d[len(d)/2]), "us")
		metric("rtt_mean_us", us(sum/time.Duration(len(d))), "us")
		metric("rtt_p10_us", us(d[len(d)/10]), "us")
		metric("rtt_p90_us", us(d[len(d)*9/10]), "us")
	}
	if *size <= 0 {
		return nil
	}
	withPlain := *plain && (a.Scheme == "tcp" || a.Scheme == "unix")
	r, err := copies(a.Scheme, *size, *reps, withPlain)
	if err != nil {
		return err
	}
	metric("h2d_GBps", r.h2d, "GB/s")
	metric("d2h_GBps", r.d2h, "GB/s")
	metric("h2d_round_trips", float64(r.h2dTrips), "calls")
	metric("d2h_round_trips", float64(r.d2hTrips), "calls")
	sum := fmt.Sprintf("%s %d MiB copies, best of %d: host to device %.2f GB/s, device to host %.2f GB/s", a.Scheme, *size>>20, *reps, r.h2d, r.d2h)
	if withPlain {
		best := max(r.plain, r.plainFD)
		metric("plain_"+a.Scheme+"_GBps", r.plain, "GB/s")
		metric("plain_"+a.Scheme+"_fd_GBps", r.plainFD, "GB/s")
		metric("h2d_of_plain_pct", 100*r.h2d/best, "%")
		metric("d2h_of_plain_pct", 100*r.d2h/best, "%")
		sum += fmt.Sprintf("; a plain %s socket pair %.2f GB/s (%.2f with vgpu's socket set-up): %.0f %% and %.0f %% of the better", a.Scheme, r.plain, r.plainFD, 100*r.h2d/best, 100*r.d2h/best)
		if r.zcSends > 0 {
			metric("plain_tcp_zerocopy_GBps", r.plainZC, "GB/s")
			sum += fmt.Sprintf("; with MSG_ZEROCOPY %.2f GB/s (the kernel copied %d of its %d sends after all)", r.plainZC, r.zcCopied, r.zcSends)
		}
	}
	fmt.Println(sum)
	return nil
}

// printStats prints the client's VGPU_STATS line, as the core does at a C program's exit.
func printStats() {
	if settings.Stats.Raw() != "" {
		client.PrintStats()
	}
}

func metric(name string, v float64, unit string) {
	fmt.Printf("metric %s %.4f %s\n", name, v, unit)
}

// rates are the best GB/s of each kind of copy.
type rates struct {
	h2d, d2h, plain, plainFD float64
	// the plain TCP pair with MSG_ZEROCOPY, and of its sends those the kernel copied after all
	plainZC            float64
	zcCopied, zcSends  int
	h2dTrips, d2hTrips uint64 // round trips of one copy each way
}

// copies times reps host-to-device and device-to-host copies of size bytes through the client,
// checking that each read back what was written; with plain, each repetition also times a
// plain socket pair of the same kind (default options, then vgpu's), so that a busy spell of the
// machine slows both alike.
func copies(kind string, size, reps int, plain bool) (rates, error) {
	var r rates
	var pp *plainPair
	if plain {
		var err error
		if pp, err = newPlainPair(kind, size); err != nil {
			return r, err
		}
		defer pp.close()
	}
	dev, err := client.MemAlloc(uint64(size))
	if err != nil {
		return r, err
	}
	defer client.MemFree(dev)
	src, dst := client.HostBuffer(size), client.HostBuffer(size)
	x := uint64(0x9e3779b97f4a7c15)
	gbps := func(d time.Duration) float64 { return float64(size) / d.Seconds() / 1e9 }
	for rep := range reps {
		x = fillRandom(src, x) // new bytes each time: a copy that moved nothing would be caught
		s0 := client.SessionStats()
		t0 := time.Now()
		if err := client.MemcpyHtoD(dev, src); err != nil {
			return r, err
		}
		t1 := time.Now()
		s1 := client.SessionStats()
		if err := client.MemcpyDtoH(dst, dev); err != nil {
			return r, err
		}
		t2 := time.Now()
		s2 := client.SessionStats()
		r.h2dTrips, r.d2hTrips = s1.RoundTrips-s0.RoundTrips, s2.RoundTrips-s1.RoundTrips
		if !bytes.Equal(src, dst) {
			i := 0
			for src[i] == dst[i] {
				i++
			}
			return r, fmt.Errorf("copy %d: the bytes read back differ from those written, first at offset %d", rep, i)
		}
		r.h2d = max(r.h2d, gbps(t1.Sub(t0)))
		r.d2h = max(r.d2h, gbps(t2.Sub(t1)))
		if pp != nil {
			modes := []pairMode{goDefaults, vgpuSetUp}
			if kind == "tcp" {
				modes = append(modes, zeroCopy)
			}
			for _, mode := range modes {
				d, copied, sends, err := pp.once(mode)
				if err != nil {
					return r, err
				}
				switch mode {
				case goDefaults:
					r.plain = max(r.plain, gbps(d))
				case vgpuSetUp:
					r.plainFD = max(r.plainFD, gbps(d))
				case zeroCopy:
					r.plainZC = max(r.plainZC, gbps(d))
					r.zcCopied, r.zcSends = r.zcCopied+copied, r.zcSends+sends
				}
			}
		}
	}
	return r, nil
}

// plainPair moves bytes through a socket pair of one kind on this machine (loopback TCP, or a
// unix socket): written in 16 MiB pieces, read into one buffer of the whole size, as a copy's
// bytes are.
type plainPair struct {
	network, dir string
	ln           net.Listener
	src, dst     []byte
}

func newPlainPair(kind string, size int) (*plainPair, error) {
	p := &plainPair{network: "tcp", src: make([]byte, size), dst: make([]byte, size)}
	// Bytes the pair moves from memory, as a copy's are: a buffer never written reads the zero
	// page, which the CPU reads from its cache, not memory.
	fillRandom(p.src, 0x2545f4914f6cdd1d)
	addr := "127.0.0.1:0"
	if kind == "unix" {
		dir, err := os.MkdirTemp("", "vgpu-netem")
		if err != nil {
			return nil, err
		}
		p.network, p.dir, addr = "unix", dir, filepath.Join(dir, "s")
	}
	var err error
	if p.ln, err = net.Listen(p.network, addr); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *plainPair) close() {
	if p.ln != nil {
		p.ln.Close()
	}
	if p.dir != "" {
		os.RemoveAll(p.dir)
	}
}

// pairMode is how a plain pair's ends are set up.
type pairMode int

const (
	goDefaults pairMode = iota // Go's net.Conn, default options
	vgpuSetUp                  // as vgpu's (remoting.NewFDConn: blocking system calls, 8 MiB socket buffers)
	zeroCopy                   // as vgpu's, the writer sending with MSG_ZEROCOPY (TCP)
)

// once connects a new pair and times the bytes through it, its ends set up as mode says; for
// zeroCopy, copied is how many of the writer's sends the kernel reported it copied after all
// (SO_EE_CODE_ZEROCOPY_COPIED: on loopback, for one, where the bytes are delivered locally).
func (p *plainPair) once(mode pairMode) (el time.Duration, copied, sends int, err error) {
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := p.ln.Accept()
		if err != nil {
			c = nil
		}
		accepted <- c
	}()
	w, err := net.Dial(p.network, p.ln.Addr().String())
	if err != nil {
		return 0, 0, 0, err
	}
	r := <-accepted
	if r == nil {
		w.Close()
		return 0, 0, 0, fmt.Errorf("plain %s pair: accept failed", p.network)
	}
	var rw, ww io.ReadWriteCloser = r, w
	var wfd *remoting.FDConn
	if mode != goDefaults {
		if rw, err = remoting.NewFDConn(r); err == nil {
			wfd, err = remoting.NewFDConn(w)
			ww = wfd
		}
		if err != nil {
			r.Close()
			w.Close()
			return 0, 0, 0, err
		}
	}
	defer rw.Close()
	defer ww.Close()
	werr := make(chan error, 1)
	t0 := time.Now()
	go func() {
		var err error
		if mode == zeroCopy {
			copied, sends, err = zeroCopySend(wfd.Fd(), p.src)
		} else {
			for off := 0; off < len(p.src) && err == nil; off += plainPiece {
				_, err = ww.Write(p.src[off:min(off+plainPiece, len(p.src))])
			}
		}
		werr <- err
	}()
	_, err = io.ReadFull(rw, p.dst)
	el = time.Since(t0)
	if e := <-werr; err == nil {
		err = e
	}
	if err != nil {
		return 0, 0, 0, fmt.Errorf("plain %s pair: %w", p.network, err)
	}
	if !bytes.Equal(p.src, p.dst) {
		return 0, 0, 0, fmt.Errorf("plain %s pair: the bytes read differ from those written", p.network)
	}
	return el, copied, sends, nil
}

// zeroCopySend writes b to TCP socket fd in plainPiece sends with MSG_ZEROCOPY (the kernel
// pins the pages instead of copying them into the socket) and waits for the kernel's
// completion notices on the error queue, after which b could be written again; copied: the
// sends the kernel reported it had copied after all.
func zeroCopySend(fd int, b []byte) (copied, sends int, err error) {
	if err := unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_ZEROCOPY, 1); err != nil {
		return 0, 0, fmt.Errorf("SO_ZEROCOPY: %w", err)
	}
	done := 0 // sends the kernel reported complete
	reap := func(block bool) error {
		oob := make([]byte, 256)
		for {
			flags := unix.MSG_ERRQUEUE | unix.MSG_DONTWAIT
			_, oobn, _, _, err := unix.Recvmsg(fd, nil, oob, flags)
			if err == unix.EAGAIN {
				if !block || done == sends {
					return nil
				}
				pfd := []unix.PollFd{{Fd: int32(fd)}} // POLLERR is always reported
				if _, err := unix.Poll(pfd, 1000); err != nil && err != unix.EINTR {
					return err
				}
				continue
			}
			if err != nil {
				return err
			}
			msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
			if err != nil {
				return err
			}
			for _, m := range msgs {
				// struct sock_extended_err: errno u32, origin, type, code, pad u8, info u32, data u32
				if len(m.Data) < 16 || m.Data[4] != unix.SO_EE_ORIGIN_ZEROCOPY {
					continue
				}
				lo, hi := binary.LittleEndian.Uint32(m.Data[8:]), binary.LittleEndian.Uint32(m.Data[12:])
				n := int(hi-lo) + 1
				done += n
				if m.Data[6]&unix.SO_EE_CODE_ZEROCOPY_COPIED != 0 {
					copied += n
				}
			}
		}
	}
	for off := 0; off < len(b); {
		n, err := unix.SendmsgN(fd, b[off:min(off+plainPiece, len(b))], nil, nil, unix.MSG_ZEROCOPY)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.ENOBUFS: // too many notices unread: read them and send again
			if err := reap(false); err != nil {
				return copied, sends, err
			}
			continue
		case err != nil:
			return copied, sends, err
		}
		off += n
		sends++
	}
	return copied, sends, reap(true)
}

// fillRandom fills b with xorshift bytes from state x and returns the next state.
func fillRandom(b []byte, x uint64) uint64 {
	for i := 0; i+8 <= len(b); i += 8 {
		x ^= x << 13
		x ^= x >> 7
		x ^= x << 17
		binary.LittleEndian.PutUint64(b[i:], x)
	}
	for i := len(b) &^ 7; i < len(b); i++ {
		x ^= x << 13
		b[i] = byte(x)
	}
	return x
}
