// Package server is vgpu-server: it accepts client connections and serves each in its own worker
// process (a re-exec of the server binary), so a crash or a sticky CUDA error in one client never
// touches another, and everything a client allocated is released when its worker exits.
package server

import (
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/remoting"
	"github.com/vgpu/vgpu/internal/settings"
)

// Server accepts connections on its listeners, authenticates each in the server process
// (front.go) and starts one worker per session.
type Server struct {
	cfg     Config
	backend string // resolved: "real" or "sim"
	nextID  atomic.Uint64
	tlsCfg  *tls.Config

	mu          sync.Mutex
	workers     map[int]*workerProc // pid -> its session
	sessions    int                 // sessions counted against the limits
	perIdentity map[string]int
	pinned      uint64 // the live sessions' shared memory their workers may page-lock (max_pinned_shared_memory)
	listeners   []*Listener
	wg          sync.WaitGroup // workers (and their relays)
	hsWG        sync.WaitGroup // handshakes under way

	pending  pendingSet
	refusals refusalLog
	tokens   tokenCache
	draining atomic.Bool

	metrics     *serverMetrics // metrics.go
	metricsHTTP *http.Server   // metrics_listen's server; nil when off
}

type workerProc struct {
	id       uint64
	identity string
}

// New checks the configuration, resolves the backend ("auto" probes the host) and logs which
// one serves, and why.
func New(cfg Config) (*Server, error) {
	def := DefaultConfig()
	if cfg.HandshakeTimeout <= 0 {
		cfg.HandshakeTimeout = def.HandshakeTimeout
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = def.DrainTimeout
	}
	if cfg.MaxPinned == 0 {
		cfg.MaxPinned = def.MaxPinned
	}
	for _, t := range []struct{ v, d *time.Duration }{
		{&cfg.Timeouts.Idle, &def.Timeouts.Idle}, {&cfg.Timeouts.Frame, &def.Timeouts.Frame}, {&cfg.Timeouts.Keepalive, &def.Timeouts.Keepalive},
	} {
		if *t.v <= 0 {
			*t.v = *t.d
		}
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = def.MaxPending
	}
	if cfg.MaxSessions <= 0 {
		cfg.MaxSessions = def.MaxSessions
	}
	if cfg.MaxPerIdentity <= 0 {
		cfg.MaxPerIdentity = def.MaxPerIdentity
	}
	if cfg.LogFormat == "" {
		cfg.LogFormat = LogText
	}
	s := &Server{cfg: cfg, workers: map[int]*workerProc{}, perIdentity: map[string]int{}, metrics: newServerMetrics()}
	s.refusals.interval = 10 * time.Second
	if err := s.setupSecurity(); err != nil {
		return nil, err
	}
	switch cfg.Backend {
	case "real", "sim":
		s.backend = cfg.Backend
	case "", "auto":
		p := ProbeHost()
		s.backend = p.Backend
		if p.Backend == "sim" {
			logger.Info(fmt.Sprintf("no usable GPU on this host (%s): serving the SIMULATED device %q", p.Reason, SimName), "backend", "sim")
		} else {
			logger.Info(fmt.Sprintf("real backend: %d GPU(s) %v, driver %s", len(p.Devices), p.Devices, p.Driver), "backend", "real", "gpus", len(p.Devices))
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

// startWorker starts the worker of session id: the client's connection (or, for TLS, one end
// of a socket pair the server relays to the TLS connection) is its fd 3, its flight record
// (flight.go) fd 4, the Policy and the Hello (hello64, base64) are on its command line.
// transport labels its metrics. release is called when the worker has ended.
func (s *Server) startWorker(id uint64, c net.Conn, tc *tls.Conn, pol Policy, hello64, transport string, release func()) error {
	var conn *os.File
	var pc *net.UnixConn
	var tlsState *os.File // the read end of a pipe holding a handed-off TLS session's state
	rc, _ := c.(*relayConn)
	if tc != nil && rc == nil {
		return errors.New("a TLS session without its relayConn")
	}
	if tc != nil && tlsMode == "worker" {
		var err error
		if tlsState, err = handTLSToWorker(rc, tc); err != nil {
			logger.Info(fmt.Sprintf("TLS through the server's relay: %v", err), append(sessionAttrs(id, pol.Identity), "tls", "relay")...)
		} else {
			suite := tls.CipherSuiteName(tc.ConnectionState().CipherSuite)
			logger.Info("TLS records in the worker ("+suite+")", append(sessionAttrs(id, pol.Identity), "tls", "worker", "suite", suite)...)
			defer tlsState.Close()
			tc = nil // the worker carries the session on: never close_notify from here
		}
	} else if tc != nil {
		rc.endCapture()
		logger.Info("TLS through the server's relay (VGPU_TLS_RELAY="+tlsMode+")", append(sessionAttrs(id, pol.Identity), "tls", "relay")...)
	}
	if tc == nil {
		raw := c
		if rc != nil {
			raw = rc.raw
		}
		f, err := connFile(raw)
		if err != nil {
			return err
		}
		conn = f
	} else {
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		conn = os.NewFile(uintptr(fds[1]), "worker")
		pf := os.NewFile(uintptr(fds[0]), "relay")
		fc, err := net.FileConn(pf)
		pf.Close()
		if err != nil {
			conn.Close()
			return err
		}
		pc = fc.(*net.UnixConn)
	}
	defer conn.Close()
	args := append([]string{"worker", "--backend", s.backend, "--session", strconv.FormatUint(id, 10)}, pol.Args()...)
	args = append(args, "--hello", hello64, "--idle-timeout", s.cfg.Timeouts.Idle.String(),
		"--frame-timeout", s.cfg.Timeouts.Frame.String(), "--keepalive", s.cfg.Timeouts.Keepalive.String(), "--handshake-timeout", s.cfg.HandshakeTimeout.String(), "--log-format", s.cfg.LogFormat)
	cmd := exec.Command(s.cfg.WorkerExe, args...)
	flight, err := newFlightRecord()
	if err != nil {
		if pc != nil {
			pc.Close()
		}
		return fmt.Errorf("the worker's flight record: %w", err)
	}
	cmd.ExtraFiles = []*os.File{conn, flight} // fd 3, flightFD
	if tlsState != nil {
		cmd.ExtraFiles = append(cmd.ExtraFiles, tlsState) // tlsStateFD
		cmd.Args = append(cmd.Args, "--tls-state")
	}
	cmd.Stdout = os.Stdout
	cmd.Stderr = os.Stderr
	// The worker dies with the server: no session outlives the daemon that owns it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		flight.Close()
		if pc != nil {
			pc.Close()
		}
		return err
	}
	var relayed chan struct{}
	if tc != nil {
		if relayed, err = relay(tc, rc, pc); err != nil {
			cmd.Process.Kill()
			pc.Close()
			cmd.Wait()
			flight.Close()
			return fmt.Errorf("the TLS relay: %w", err)
		}
	} else {
		c.Close() // the worker has its own descriptor
	}
	pid := cmd.Process.Pid
	s.mu.Lock()
	s.workers[pid] = &workerProc{id: id, identity: pol.Identity}
	s.mu.Unlock()
	s.metrics.started(pid, &liveWorker{id: id, identity: pol.Identity, transport: transport, page: mapPage(int(flight.Fd()), unix.PROT_READ)})
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := cmd.Wait()
		if relayed != nil {
			// what the worker wrote last (an Error frame) reaches the client first
			select {
			case <-relayed:
			case <-time.After(2 * time.Second):
			}
			tc.Close()
			pc.Close()
		}
		s.mu.Lock()
		delete(s.workers, pid)
		s.mu.Unlock()
		release()
		cause := ""
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok {
			switch {
			case ws.Signaled():
				cause = "signal"
			case ws.ExitStatus() != 0:
				cause = "exit_status"
			}
		}
		s.metrics.ended(pid, cause)
		if err != nil {
			attrs := append(sessionAttrs(id, pol.Identity), "worker_pid", pid, "cause", cause, "status", err.Error())
			if row := flightRow(flight); row != "" {
				attrs = append(attrs, "function", row)
			}
			logger.Warn(fmt.Sprintf("worker %d ended: %v%s", pid, err, flightNote(flight)), attrs...)
		}
		flight.Close()
	}()
	return nil
}

// Timeouts are a session's limits after the handshake (Session.IdleTimeout, FrameTimeout,
// Keepalive): the worker's --idle-timeout, --frame-timeout and --keepalive.
type Timeouts struct {
	Idle, Frame, Keepalive time.Duration
	// Handshake bounds what of the handshake the worker reads itself (Session.HandshakeTimeout;
	// the server's handshake_timeout, passed as --handshake-timeout); 0 keeps the default.
	Handshake time.Duration
}

// RunWorker serves the connection on fd 3 with a fresh backend; it is the body of
// `vgpu-server worker`. The process exits when the session ends, which releases everything
// the client allocated on the GPU.
//
// hello is the client's Hello, which the server process read and checked (nil: the worker reads
// it itself). SIGTERM (the server's drain timeout) ends the session between calls: the worker
// stops reading, tells the client with an ErrShutdown Error frame and exits.
//
// withTLS: the session is TLS, handed over by the server (its state at tlsStateFD); the worker
// reads and writes its records on fd 3 itself.
func RunWorker(backend string, id uint64, pol Policy, hello *remoting.Hello, to Timeouts, withTLS bool) error {
	// Not dumpable: no other process of the server's user (another session's worker, taken
	// over through a flaw in the driver) may ptrace this one or read its memory through /proc.
	if err := unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0); err != nil {
		logger.Error(fmt.Sprintf("worker: prctl(PR_SET_DUMPABLE, 0): %v", err))
	}
	if path := settings.CPUProfile.Get(); path != "" {
		// a CPU profile of this worker, for performance work
		if f, err := os.Create(fmt.Sprintf("%s.%d", path, os.Getpid())); err == nil {
			pprof.StartCPUProfile(f)
			defer pprof.StopCPUProfile()
		}
	}
	// The session serves on one locked thread with blocking reads and writes on fd 3.
	fc, err := remoting.FDConnOf(3)
	if err != nil {
		return fmt.Errorf("worker: no connection on fd 3: %w", err)
	}
	var nc StreamConn = fc
	if withTLS {
		st, err := readTLSState()
		if err != nil {
			fc.Close()
			return fmt.Errorf("worker: the TLS session's state: %w", err)
		}
		rc, err := remoting.NewRecordConn(fc, st)
		clear(st.ReadSecret)
		clear(st.WriteSecret)
		if err != nil {
			fc.Close()
			return fmt.Errorf("worker: the TLS session: %w", err)
		}
		nc = rc
	}
	defer nc.Close()
	var shutdown atomic.Bool
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	go func() {
		<-term
		shutdown.Store(true)
		unix.Shutdown(3, unix.SHUT_RD) // the session's next read sees the end
	}()
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
	sess.page = mapFlightRecord(flightFD) // before SetPolicy, which publishes memory there
	sess.SetPolicy(pol)
	sess.pre = hello
	sess.IdleTimeout, sess.FrameTimeout, sess.Keepalive = to.Idle, to.Frame, to.Keepalive
	if to.Handshake > 0 {
		sess.HandshakeTimeout = to.Handshake
	}
	sess.stats = newWorkerStats()
	if backend == "real" {
		// the driver prints a kernel's printf to stdout: it goes to the client
		if c, err := captureStdout(); err == nil {
			sess.stdout = c
		} else {
			logger.Warn(fmt.Sprintf("kernel printf output stays on the server: %v", err), sessionAttrs(id, pol.Identity)...)
		}
	}
	err = sess.Serve()
	if shutdown.Load() {
		e := &remoting.ErrorMsg{Code: remoting.ErrShutdown, Message: "the server is shutting down: its drain timeout for running sessions has passed"}
		sess.logNow(slog.LevelWarn, "ending the session: %s", e.Message)
		p := remoting.AppendError(nil, e)
		c := remoting.NewConn(nc)
		nc.SetWriteDeadline(time.Now().Add(time.Second))
		h := remoting.Header{Length: uint32(len(p)), Type: remoting.FrameError}
		if c.WriteFrame(h, p) == nil {
			sess.sent(h)
			c.Flush()
		}
		return nil
	}
	return err
}
