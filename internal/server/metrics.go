package server

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// Metrics: with metrics_listen set, the server process serves Prometheus's text format at
// http://ADDRESS/metrics (plain HTTP: bind it to localhost or a trusted network). The server
// process counts what it sees itself (sessions, refusals, worker deaths); what happens inside a
// session (calls, bytes, device memory) is counted by its worker in the flight record it shares
// with the server (flight.go) with a few atomic adds per call, and read by the server at each
// scrape. When a worker exits, its final counts are added to the server's totals of ended
// workers, so no counter goes backwards. prometheus is linked into vgpu-server only; the
// client core never imports this package (TestCoreLinksNoPrometheus).

// serverMetrics is the server's registry and the counters behind it.
type serverMetrics struct {
	reg      *prometheus.Registry
	open     *prometheus.GaugeVec   // by transport
	total    *prometheus.CounterVec // by transport
	refusals *prometheus.CounterVec // by reason
	deaths   *prometheus.CounterVec // by cause

	mu    sync.Mutex
	live  map[int]*liveWorker // by pid
	calls []uint64            // of ended workers, by row
	errs  []uint64
	rx    map[string]uint64 // of ended workers, by transport
	tx    map[string]uint64
}

// refusalReasons are the reasons a connection is refused for (the kinds front.go refuses with;
// TestRefusalReasonsListed checks that it names them all): each series exists from the start.
var refusalReasons = []string{
	"busy-client",      // max_pending_handshakes was full: the oldest waiting connection was closed
	"shutdown",         // the server is draining
	"plain-on-tls",     // a plain client on a TLS listener
	"tls",              // the TLS handshake failed (an unknown client certificate, ...)
	"timeout",          // no Hello within handshake_timeout
	"protocol",         // a malformed Hello or frame
	"version",          // another protocol version or API table
	"unix-allow",       // the uid is not in unix_allow
	"vsock-allow",      // the CID is not in vsock_allow
	"no-credentials",   // TLS without a client certificate or token
	"token",            // an unknown token or a wrong proof
	"max-sessions",     // max_sessions reached
	"max-per-identity", // max_sessions_per_identity (or limit[ID]'s max_sessions) reached
	"worker-start",     // the worker process could not be started
}

// liveWorker is a running worker's session and its flight record (nil if it could not be mapped).
type liveWorker struct {
	id                  uint64
	identity, transport string
	page                *workerPage
}

var (
	callsDesc = prometheus.NewDesc("vgpu_calls_total",
		"Calls served by the workers, by API function (rows that were called at least once).", []string{"function"}, nil)
	callErrorsDesc = prometheus.NewDesc("vgpu_call_errors_total",
		"Calls whose result code was not success (0), by API function.", []string{"function"}, nil)
	rxDesc = prometheus.NewDesc("vgpu_session_received_bytes_total",
		"Bytes of protocol frames the workers received from their clients (bulk copies through shared memory are not frames).", []string{"transport"}, nil)
	txDesc = prometheus.NewDesc("vgpu_session_sent_bytes_total",
		"Bytes of protocol frames the workers sent to their clients.", []string{"transport"}, nil)
	memDesc = prometheus.NewDesc("vgpu_session_device_memory_bytes",
		"Device memory a live session holds, as its memory limit counts it (one series per live session, removed when it ends).", []string{"session", "identity"}, nil)
)

func newServerMetrics() *serverMetrics {
	m := &serverMetrics{
		reg: prometheus.NewRegistry(),
		open: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "vgpu_sessions_open",
			Help: "Sessions (worker processes) running, by transport (unix, tls, tcp, vsock)."}, []string{"transport"}),
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vgpu_sessions_total",
			Help: "Sessions started, by transport."}, []string{"transport"}),
		refusals: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vgpu_sessions_refused_total",
			Help: "Connections refused before a session started, by reason."}, []string{"reason"}),
		deaths: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "vgpu_worker_deaths_total",
			Help: "Workers that ended abnormally: killed by a signal, or exited with a non-zero status."}, []string{"cause"}),
		live:  map[int]*liveWorker{},
		calls: make([]uint64, len(api.Table)),
		errs:  make([]uint64, len(api.Table)),
		rx:    map[string]uint64{},
		tx:    map[string]uint64{},
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{Name: "vgpu_build_info",
		Help: "1, labelled with the server's version, protocol and API table hash.",
		ConstLabels: prometheus.Labels{"version": Version, "protocol": strconv.Itoa(int(remoting.ProtocolVersion)),
			"api_table": fmt.Sprintf("%#x", api.TableHash())}})
	build.Set(1)
	// every series of a label that always exists starts at 0
	for _, t := range []string{"unix", "tls", "tcp", "vsock"} {
		m.open.WithLabelValues(t)
		m.total.WithLabelValues(t)
		m.rx[t], m.tx[t] = 0, 0
	}
	for _, r := range refusalReasons {
		m.refusals.WithLabelValues(r)
	}
	for _, c := range []string{"signal", "exit_status"} {
		m.deaths.WithLabelValues(c)
	}
	m.reg.MustRegister(m.open, m.total, m.refusals, m.deaths, build, (*workerCollector)(m),
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// refused counts a connection refused for reason (the refusal's kind, front.go).
func (m *serverMetrics) refused(reason string) {
	if m != nil {
		m.refusals.WithLabelValues(reason).Inc()
	}
}

// started records a worker: its session is open and its flight record readable.
func (m *serverMetrics) started(pid int, w *liveWorker) {
	if m == nil {
		return
	}
	m.open.WithLabelValues(w.transport).Inc()
	m.total.WithLabelValues(w.transport).Inc()
	m.mu.Lock()
	m.live[pid] = w
	m.mu.Unlock()
}

// ended folds an exited worker's final counts into the totals; cause is "signal",
// "exit_status" (abnormal ends) or "".
func (m *serverMetrics) ended(pid int, cause string) {
	if m == nil {
		return
	}
	m.mu.Lock()
	w := m.live[pid]
	delete(m.live, pid)
	if w != nil && w.page != nil {
		for i := range w.page.rows {
			r := &w.page.rows[i]
			m.errs[i] += r.errors.Load()
			m.calls[i] += r.calls.Load()
		}
		m.rx[w.transport] += w.page.hdr.rx.Load()
		m.tx[w.transport] += w.page.hdr.tx.Load()
	}
	m.mu.Unlock()
	if w != nil {
		m.open.WithLabelValues(w.transport).Dec()
		w.page.unmap()
	}
	if cause != "" {
		m.deaths.WithLabelValues(cause).Inc()
	}
}

// workerCollector collects the workers' counters: those of ended workers plus what the live
// workers' flight records say now.
type workerCollector serverMetrics

func (c *workerCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{callsDesc, callErrorsDesc, rxDesc, txDesc, memDesc} {
		ch <- d
	}
}

func (c *workerCollector) Collect(ch chan<- prometheus.Metric) {
	m := (*serverMetrics)(c)
	type mem struct {
		id       uint64
		identity string
		n        uint64
	}
	m.mu.Lock()
	calls := append([]uint64(nil), m.calls...)
	errs := append([]uint64(nil), m.errs...)
	rx, tx := map[string]uint64{}, map[string]uint64{}
	for t, n := range m.rx {
		rx[t] = n
	}
	for t, n := range m.tx {
		tx[t] = n
	}
	var mems []mem
	for _, w := range m.live {
		if w.page == nil {
			continue
		}
		for i := range w.page.rows {
			r := &w.page.rows[i]
			errs[i] += r.errors.Load() // before calls: errors never exceed calls
			calls[i] += r.calls.Load()
		}
		rx[w.transport] += w.page.hdr.rx.Load()
		tx[w.transport] += w.page.hdr.tx.Load()
		mems = append(mems, mem{id: w.id, identity: w.identity, n: w.page.hdr.mem.Load()})
	}
	m.mu.Unlock()
	for i, n := range calls {
		if n == 0 {
			continue
		}
		ch <- prometheus.MustNewConstMetric(callsDesc, prometheus.CounterValue, float64(n), api.Table[i].Name)
		ch <- prometheus.MustNewConstMetric(callErrorsDesc, prometheus.CounterValue, float64(errs[i]), api.Table[i].Name)
	}
	for t, n := range rx {
		ch <- prometheus.MustNewConstMetric(rxDesc, prometheus.CounterValue, float64(n), t)
	}
	for t, n := range tx {
		ch <- prometheus.MustNewConstMetric(txDesc, prometheus.CounterValue, float64(n), t)
	}
	for _, x := range mems {
		ch <- prometheus.MustNewConstMetric(memDesc, prometheus.GaugeValue, float64(x.n), strconv.FormatUint(x.id, 10), x.identity)
	}
}

// ServeMetrics serves /metrics over plain HTTP on addr (host:port; metrics_listen) until
// Shutdown, and returns the address it listens on.
func (s *Server) ServeMetrics(addr string) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	errLog := slog.NewLogLogger(logger.Handler(), slog.LevelWarn)
	mux := http.NewServeMux()
	mux.Handle("/metrics", promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{ErrorLog: errLog}))
	hs := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: time.Minute, ErrorLog: errLog}
	s.mu.Lock()
	s.metricsHTTP = hs
	s.mu.Unlock()
	go func() {
		if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			logger.Error(fmt.Sprintf("metrics on %s: %v", ln.Addr(), err))
		}
	}()
	return ln.Addr(), nil
}

// transport names the listener's transport in metrics and logs: unix, tls, tcp (plain, by the
// operator's insecure), vsock.
func (l *Listener) transport() string {
	switch {
	case l.tls != nil:
		return "tls"
	case l.Addr.Scheme == "tcp":
		return "tcp"
	}
	return l.Addr.Scheme
}
