// Package server is vgpu-server: it accepts client connections and serves each in its own worker
// process (a re-exec of the server binary), so a crash or a sticky CUDA error in one client never
// touches another, and everything a client allocated is released when its worker exits.
package server

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/vlog"
)

// Config is the server's configuration.
type Config struct {
	Backend string // "real", "sim" or "auto"
	// WorkerExe is the binary re-executed for each session (default: this executable).
	WorkerExe string
}

// Server accepts connections on its listeners and starts one worker per connection.
type Server struct {
	cfg     Config
	backend string // resolved: "real" or "sim"
	nextID  atomic.Uint64

	mu      sync.Mutex
	workers map[int]uint64 // pid -> session id
	wg      sync.WaitGroup
}

// New resolves the backend ("auto" probes the host) and logs which one serves, and why.
func New(cfg Config) (*Server, error) {
	s := &Server{cfg: cfg, workers: map[int]uint64{}}
	switch cfg.Backend {
	case "real", "sim":
		s.backend = cfg.Backend
	case "", "auto":
		p := ProbeHost()
		s.backend = p.Backend
		if p.Backend == "sim" {
			vlog.Printf("no usable GPU on this host (%s): serving the SIMULATED device %q", p.Reason, SimName)
		} else {
			vlog.Printf("real backend: %d GPU(s) %v, driver %s", len(p.Devices), p.Devices, p.Driver)
		}
	default:
		return nil, fmt.Errorf("unknown backend %q (want real, sim or auto)", cfg.Backend)
	}
	if s.backend == "real" {
		if _, err := OpenReal(); err != nil {
			return nil, fmt.Errorf("real backend: %w", err)
		}
	}
	if s.cfg.WorkerExe == "" {
		exe, err := os.Executable()
		if err != nil {
			return nil, err
		}
		s.cfg.WorkerExe = exe
	}
	return s, nil
}

// Backend is the resolved backend name.
func (s *Server) Backend() string { return s.backend }

// Serve accepts on l until it is closed. Running out of descriptors or memory is waited out
// (with a growing pause, logged), never a reason to stop serving everyone else.
func (s *Server) Serve(l net.Listener) error {
	var pause time.Duration
	for {
		c, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
				errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM) || errors.Is(err, syscall.ECONNABORTED) {
				pause = min(max(2*pause, 5*time.Millisecond), time.Second)
				vlog.Errorf("accept on %s: %v; retrying in %v", l.Addr(), err, pause)
				time.Sleep(pause)
				continue
			}
			return err
		}
		pause = 0
		id := s.nextID.Add(1)
		if err := s.startWorker(id, c); err != nil {
			vlog.Errorf("session %d: cannot start a worker: %v", id, err)
		}
		c.Close() // the worker has its own descriptor
	}
}

// Workers returns the pids of the running workers.
func (s *Server) Workers() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var pids []int
	for p := range s.workers {
		pids = append(pids, p)
	}
	return pids
}

// Wait waits for every worker to exit.
func (s *Server) Wait() { s.wg.Wait() }

type filer interface{ File() (*os.File, error) }

func (s *Server) startWorker(id uint64, c net.Conn) error {
	fc, ok := c.(filer)
	if !ok {
		return fmt.Errorf("%T has no file descriptor", c)
	}
	f, err := fc.File()
	if err != nil {
		return err
	}
	defer f.Close()
	cmd := exec.Command(s.cfg.WorkerExe, "worker", "--backend", s.backend, "--session", strconv.FormatUint(id, 10))
	flight, err := newFlightRecord()
	if err != nil {
		return fmt.Errorf("the worker's flight record: %w", err)
	}
	cmd.ExtraFiles = []*os.File{f, flight} // fd 3, flightFD
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// The worker dies with the server: no session outlives the daemon that owns it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		flight.Close()
		return err
	}
	pid := cmd.Process.Pid
	s.mu.Lock()
	s.workers[pid] = id
	s.mu.Unlock()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := cmd.Wait()
		s.mu.Lock()
		delete(s.workers, pid)
		s.mu.Unlock()
		if err != nil {
			vlog.Printf("session %d: worker %d ended: %v%s", id, pid, err, flightNote(flight))
		}
		flight.Close()
	}()
	return nil
}

// Timeouts are a session's limits after the handshake (Session.IdleTimeout, FrameTimeout,
// Keepalive): the worker's --idle-timeout, --frame-timeout and --keepalive.
type Timeouts struct {
	Idle, Frame, Keepalive time.Duration
}

// DefaultTimeouts are the limits of a session whose worker is given none.
var DefaultTimeouts = Timeouts{Idle: DefaultIdleTimeout, Frame: DefaultFrameTimeout, Keepalive: DefaultKeepalive}

// RunWorker serves the connection on fd 3 with a fresh backend and the default timeouts.
func RunWorker(backend string, id uint64, pol Policy) error {
	return RunWorkerWith(backend, id, pol, DefaultTimeouts)
}

// RunWorkerWith serves the connection on fd 3 with a fresh backend; it is the body of
// `vgpu-server worker`. The process exits when the session ends, which releases everything
// the client allocated on the GPU.
func RunWorkerWith(backend string, id uint64, pol Policy, to Timeouts) error {
	vlog.SetPrefix(fmt.Sprintf("vgpu-server[%d]: ", os.Getpid()))
	if path := os.Getenv("VGPU_CPUPROFILE"); path != "" {
		// a CPU profile of this worker, for performance work
		if f, err := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid())); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	// The session serves on one locked thread with blocking reads and writes on fd 3.
	nc, err := remoting.FDConnOf(3)
	if err != nil {
		return fmt.Errorf("worker: no connection on fd 3: %w", err)
	}
	defer nc.Close()
	var be Backend
	switch backend {
	case "real":
		r, err := OpenReal()
		if err != nil {
			return err
		}
		be = r
	case "sim":
		be = NewSim()
	default:
		return fmt.Errorf("worker: unknown backend %q", backend)
	}
	sess := NewSession(id, nc, be)
	sess.policy = pol
	sess.IdleTimeout, sess.FrameTimeout, sess.Keepalive = to.Idle, to.Frame, to.Keepalive
	sess.flight = mapFlightRecord(flightFD)
	sess.stats = newWorkerStats()
	if backend == "real" {
		// the driver prints a kernel's printf to stdout: it goes to the client
		if c, err := captureStdout(); err == nil {
			sess.stdout = c
		} else {
			vlog.Printf("session %d: kernel printf output stays on the server: %v", id, err)
		}
	}
	if err := sess.Serve(); err != nil {
		return err
	}
	return nil
}
