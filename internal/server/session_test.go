package server

import (
	"encoding/binary"
	"net"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/sys/unix"

	"github.com/vgpu/vgpu/internal/api"
	"github.com/vgpu/vgpu/internal/remoting"
)

// pipeSession runs a sim session on one end of a pipe and returns the client end.
func pipeSession(t *testing.T) (*remoting.Conn, chan error) {
	t.Helper()
	return pipeSessionWith(t, NewSim())
}

// pipeSessionWith runs a session on backend b on one end of a pipe and returns the client end.
func pipeSessionWith(t *testing.T, b Backend) (*remoting.Conn, chan error) {
	t.Helper()
	c, _, done := pipeSessionSetup(t, b, nil)
	return c, done
}

// pipeSessionSetup is pipeSessionWith with setup run on the session before it serves; it also
// returns the pipe's client end (closing it ends the session).
func pipeSessionSetup(t *testing.T, b Backend, setup func(*Session)) (*remoting.Conn, net.Conn, chan error) {
	t.Helper()
	cli, srv := net.Pipe()
	t.Cleanup(func() { cli.Close(); srv.Close() })
	sess := NewSession(1, srv, b)
	if setup != nil {
		setup(sess)
	}
	done := make(chan error, 1)
	go func() { done <- sess.Serve() }()
	cli.SetDeadline(time.Now().Add(5 * time.Second))
	return remoting.NewConn(cli), cli, done
}

func send(t *testing.T, c *remoting.Conn, typ remoting.FrameType, flags uint8, id uint64, p []byte) {
	t.Helper()
	if err := c.WriteFrame(remoting.Header{Length: uint32(len(p)), Type: typ, Flags: flags, ReqID: id}, p); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(); err != nil {
		t.Fatal(err)
	}
}

func hello(t *testing.T, c *remoting.Conn, hash uint64) (remoting.Header, []byte) {
	t.Helper()
	send(t, c, remoting.FrameHello, 0, 0, remoting.AppendHello(nil, &remoting.Hello{Version: remoting.ProtocolVersion, TableHash: hash, PID: 1, Exe: "test"}))
	h, p, err := c.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	return h, p
}

// helloInit opens the session on c (its hello answered with a Welcome) and initialises the
// driver (cuInit, request 1).
func helloInit(t *testing.T, c *remoting.Conn) {
	t.Helper()
	if h, _ := hello(t, c, api.TableHash()); h.Type != remoting.FrameWelcome {
		t.Fatalf("hello answered with %v", h.Type)
	}
	if r := call(t, c, 1, "cuInit", []uint64{0}); r.Result != 0 {
		t.Fatalf("cuInit = %d", r.Result)
	}
}

func call(t *testing.T, c *remoting.Conn, id uint64, name string, scalars []uint64, bufs ...[]byte) remoting.Reply {
	t.Helper()
	fid, _, ok := api.Lookup(name)
	if !ok {
		t.Fatalf("no row %s", name)
	}
	send(t, c, remoting.FrameCall, 0, id, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: scalars, Bufs: bufs}))
	h, p, err := c.ReadFrame()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if h.Type != remoting.FrameReply || h.ReqID != id {
		t.Fatalf("%s: got %v frame for request %d", name, h.Type, h.ReqID)
	}
	return ownReply(t, p)
}

// ownReply decodes a reply into buffers of its own (the frame's are reused by the next read).
func ownReply(t *testing.T, p []byte) remoting.Reply {
	t.Helper()
	r, err := remoting.DecodeReply(p)
	if err != nil {
		t.Fatal(err)
	}
	r.Bufs = append([][]byte(nil), r.Bufs...)
	for i := range r.Bufs {
		r.Bufs[i] = append([]byte(nil), r.Bufs[i]...)
	}
	return r
}

func TestSessionRefusesOtherTable(t *testing.T) {
	c, done := pipeSession(t)
	h, p := hello(t, c, api.TableHash()+1)
	if h.Type != remoting.FrameError {
		t.Fatalf("got %v, want an error frame", h.Type)
	}
	e, _ := remoting.DecodeError(p)
	if e.Code != remoting.ErrVersion {
		t.Fatalf("code %v", e.Code)
	}
	if err := <-done; err == nil {
		t.Fatal("session did not end")
	}
}

func TestSessionChecksEveryCall(t *testing.T) {
	c, done := pipeSession(t)
	helloInit(t, c)
	r := call(t, c, 2, "cuMemAlloc_v2", []uint64{4096})
	if r.Result != 0 || len(r.Bufs) != 1 {
		t.Fatalf("cuMemAlloc = %d, %d outputs", r.Result, len(r.Bufs))
	}
	ptr := binary.LittleEndian.Uint64(r.Bufs[0])
	data := make([]byte, 4096)
	for i := range data {
		data[i] = byte(i)
	}
	if r := call(t, c, 3, "cuMemcpyHtoD_v2", []uint64{ptr + 16, 64}, data[:64]); r.Result != 0 {
		t.Fatalf("in-range copy = %d", r.Result)
	}
	// A copy past the allocation is refused with CUDA_ERROR_INVALID_VALUE and a note.
	if r := call(t, c, 4, "cuMemcpyHtoD_v2", []uint64{ptr + 4090, 64}, data[:64]); r.Result != 1 || r.Note == "" {
		t.Fatalf("copy past the end = %d %q", r.Result, r.Note)
	}
	// A pointer that is no allocation of this session.
	if r := call(t, c, 5, "cuMemcpyDtoH_v2", []uint64{0xdead0000, 8}); r.Result != 1 {
		t.Fatalf("foreign pointer = %d", r.Result)
	}
	// A handle this session never created.
	if r := call(t, c, 6, "cuStreamSynchronize", []uint64{0x12345678}); r.Result != 400 {
		t.Fatalf("foreign stream = %d", r.Result)
	}
	// Round trip of the data.
	r = call(t, c, 7, "cuMemcpyDtoH_v2", []uint64{ptr + 16, 64})
	if r.Result != 0 || string(r.Bufs[0]) != string(data[:64]) {
		t.Fatalf("read back = %d", r.Result)
	}
	// An async failure is reported with the next reply.
	fid, _, _ := api.Lookup("cuMemsetD8Async")
	send(t, c, remoting.FrameCall, remoting.FlagAsync, 8, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: []uint64{ptr, 1, 1 << 20, 0}}))
	r = call(t, c, 9, "cuCtxSynchronize", nil)
	if r.DeferredCode != 1 || r.DeferredFn != uint32(fid) {
		t.Fatalf("deferred = fn %d code %d", r.DeferredFn, r.DeferredCode)
	}
	// Free twice: the second is refused.
	if r := call(t, c, 10, "cuMemFree_v2", []uint64{ptr}); r.Result != 0 {
		t.Fatalf("free = %d", r.Result)
	}
	if r := call(t, c, 11, "cuMemFree_v2", []uint64{ptr}); r.Result != 1 {
		t.Fatalf("double free = %d", r.Result)
	}
	// A buffer whose length contradicts its size parameter is a protocol error: the session ends.
	fid, _, _ = api.Lookup("cuMemcpyHtoD_v2")
	send(t, c, remoting.FrameCall, 0, 12, remoting.AppendCall(nil, &remoting.Call{Fn: uint32(fid), Scalars: []uint64{ptr, 64}, Bufs: [][]byte{data[:8]}}))
	if h, _, err := c.ReadFrame(); err != nil || h.Type != remoting.FrameError {
		t.Fatalf("got %v %v, want an error frame", h.Type, err)
	}
	if err := <-done; err == nil {
		t.Fatal("session survived a lying frame")
	}
}

func TestSessionRejectsMalformedFrames(t *testing.T) {
	for name, frame := range map[string][]byte{
		"unknown function": remoting.AppendCall(nil, &remoting.Call{Fn: 1 << 20}),
		"too few args":     remoting.AppendCall(nil, &remoting.Call{Fn: uint32(mustID(t, "cuMemAlloc_v2"))}),
		"garbage":          {0xff, 0xff, 0xff},
	} {
		t.Run(name, func(t *testing.T) {
			c, done := pipeSession(t)
			hello(t, c, api.TableHash())
			send(t, c, remoting.FrameCall, 0, 1, frame)
			if h, _, err := c.ReadFrame(); err != nil || h.Type != remoting.FrameError {
				t.Fatalf("got %v %v, want an error frame", h.Type, err)
			}
			if err := <-done; err == nil {
				t.Fatal("session went on")
			}
		})
	}
}

func mustID(t *testing.T, name string) api.ID {
	id, _, ok := api.Lookup(name)
	if !ok {
		t.Fatalf("no row %s", name)
	}
	return id
}

// Unloading a module forgets the functions that came from it (and their layouts): the driver may
// reuse the addresses.
func TestModuleUnloadForgetsFunctions(t *testing.T) {
	s := NewSession(1, nil, NewSim())
	mod, fn, other := uint64(0x100), uint64(0x200), uint64(0x300)
	s.handles[mod] = api.HModule
	s.handles[other] = api.HFunction
	_, getFn, _ := api.Lookup("cuModuleGetFunction")
	a := &Args{Vals: []uint64{0, mod, 0}, In: make([][]byte, 3), Out: [][]byte{{0, 2, 0, 0, 0, 0, 0, 0}, nil, nil}}
	s.track(getFn, a)
	if s.handles[fn] != api.HFunction || s.owner[fn] != mod {
		t.Fatalf("function not tracked: %v %v", s.handles[fn], s.owner[fn])
	}
	s.layouts = map[uint64][][2]uint64{fn: {{0, 8}}}
	_, unload, _ := api.Lookup("cuModuleUnload")
	s.track(unload, &Args{Vals: []uint64{mod}, In: make([][]byte, 1), Out: make([][]byte, 1)})
	if _, ok := s.handles[fn]; ok {
		t.Fatal("the function outlived its module")
	}
	if _, ok := s.layouts[fn]; ok {
		t.Fatal("the function's layout outlived its module")
	}
	if _, ok := s.handles[other]; !ok {
		t.Fatal("a function of another module was forgotten")
	}
}

// alignProbe answers cuBLAS rows itself (a handle for cublasCreate_v2) and records the address
// alignment of every input buffer it is given.
type alignProbe struct {
	*Sim
	ins [][]byte
}

func (p *alignProbe) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	if f.Lib() != api.LibCublas13 {
		return p.Sim.Invoke(id, f, a)
	}
	if f.Name == "cublasCreate_v2" {
		binary.LittleEndian.PutUint64(a.Out[0], 0xb1a5)
	}
	for i := range f.Params {
		if f.Params[i].Kind == api.InBuf {
			p.ins = append(p.ins, a.In[i])
		}
	}
	return 0
}

// Host scalars reach the host library at 16-byte boundaries whatever their offset in the frame:
// cuBLAS loads a cuDoubleComplex alpha with an aligned instruction, and one at an odd address
// killed the worker (cublasZgemv_v2 from torch.mv on complex128, seen on the H100).
func TestInputsReachTheBackendAligned(t *testing.T) {
	probe := &alignProbe{Sim: NewSim()}
	c, _ := pipeSessionWith(t, probe)
	if h, _ := hello(t, c, api.TableHash()); h.Type != remoting.FrameWelcome {
		t.Fatalf("hello answered with %v", h.Type)
	}
	r := call(t, c, 1, "cublasCreate_v2", nil)
	if r.Result != 0 {
		t.Fatalf("cublasCreate_v2 = %d", r.Result)
	}
	alpha, beta := make([]byte, 16), make([]byte, 16)
	for i := range alpha {
		alpha[i], beta[i] = byte(i+1), byte(0x80+i)
	}
	for n := range 3 { // the second and third calls reuse the first one's arena
		probe.ins = nil
		r = call(t, c, uint64(10+n), "cublasZgemv_v2", []uint64{0xb1a5, 1, 30, 40, 0x1000, 30, 0x2000, 1, 0x3000, 1}, alpha, beta)
		if r.Result != 0 {
			t.Fatalf("cublasZgemv_v2 = %d", r.Result)
		}
		if len(probe.ins) != 2 {
			t.Fatalf("backend saw %d input buffers, want 2", len(probe.ins))
		}
		for i, in := range probe.ins {
			if misaligned(in) {
				t.Errorf("input %d at %#x, not on a 16-byte boundary", i, bufAddr(in))
			}
		}
		if string(probe.ins[0]) != string(alpha) || string(probe.ins[1]) != string(beta) {
			t.Errorf("inputs changed on the way: %x %x", probe.ins[0], probe.ins[1])
		}
	}
}

// flightProbe reads the flight record while the backend runs a call, as the server would read
// it after the worker died there.
type flightProbe struct {
	*Sim
	record *os.File
	notes  []string
}

func (p *flightProbe) Invoke(id api.ID, f *api.Func, a *Args) int32 {
	p.notes = append(p.notes, flightNote(p.record))
	return p.Sim.Invoke(id, f, a)
}

// While a host library runs a call, the flight record names it; between calls it names none.
func TestFlightRecordNamesTheRunningCall(t *testing.T) {
	record, err := newFlightRecord()
	if err != nil {
		t.Fatal(err)
	}
	defer record.Close()
	probe := &flightProbe{Sim: NewSim(), record: record}
	c, _, _ := pipeSessionSetup(t, probe, func(sess *Session) {
		if sess.page = mapFlightRecord(int(record.Fd())); sess.page == nil {
			t.Fatal("the flight record does not map")
		}
	})
	helloInit(t, c)
	if r := call(t, c, 2, "cuDriverGetVersion", nil); r.Result != 0 {
		t.Fatalf("cuDriverGetVersion = %d", r.Result)
	}
	if len(probe.notes) != 2 || !strings.Contains(probe.notes[0], "inside cuInit (") || !strings.Contains(probe.notes[1], "inside cuDriverGetVersion (") {
		t.Fatalf("records during the calls: %q", probe.notes)
	}
	if note := flightNote(record); note != "" {
		t.Fatalf("between calls the record says %q", note)
	}
}

// The flight record counts each row's calls and failures, the frames' bytes each way and the
// session's device memory; the server's read-only mapping of it sees them, and folding an
// ended worker into the metrics keeps every count.
func TestFlightRecordCounts(t *testing.T) {
	record, err := newFlightRecord()
	if err != nil {
		t.Fatal(err)
	}
	defer record.Close()
	srv := mapPage(int(record.Fd()), unix.PROT_READ)
	if srv == nil {
		t.Fatal("the server's mapping failed")
	}
	c, _, _ := pipeSessionSetup(t, NewSim(), func(sess *Session) {
		sess.page = mapFlightRecord(int(record.Fd()))
		sess.SetPolicy(Policy{Identity: "uid:test"})
	})
	helloInit(t, c)
	if r := call(t, c, 2, "cuDeviceGet", []uint64{99}); r.Result == 0 {
		t.Fatal("cuDeviceGet(99) succeeded")
	}
	r := call(t, c, 3, "cuDevicePrimaryCtxRetain", []uint64{0})
	call(t, c, 5, "cuCtxSetCurrent", []uint64{le64(r.Bufs[0])})
	r = call(t, c, 6, "cuMemAlloc_v2", []uint64{3 << 20})
	if r.Result != 0 {
		t.Fatalf("cuMemAlloc_v2 = %d", r.Result)
	}
	count := func(name string) (uint64, uint64) {
		id, _, _ := api.Lookup(name)
		return srv.rows[id].calls.Load(), srv.rows[id].errors.Load()
	}
	if n, e := count("cuInit"); n != 1 || e != 0 {
		t.Errorf("cuInit: %d calls, %d errors; want 1, 0", n, e)
	}
	if n, e := count("cuDeviceGet"); n != 1 || e != 1 {
		t.Errorf("cuDeviceGet: %d calls, %d errors; want 1, 1", n, e)
	}
	if got := srv.hdr.mem.Load(); got != 3<<20 {
		t.Errorf("device memory %d, want %d", got, 3<<20)
	}
	call(t, c, 7, "cuMemFree_v2", []uint64{le64(r.Bufs[0])})
	if got := srv.hdr.mem.Load(); got != 0 {
		t.Errorf("device memory after cuMemFree_v2: %d, want 0", got)
	}
	if rx, tx := srv.hdr.rx.Load(), srv.hdr.tx.Load(); rx == 0 || tx == 0 {
		t.Errorf("bytes received %d, sent %d", rx, tx)
	}

	m := newServerMetrics()
	m.started(42, &liveWorker{id: 1, identity: "uid:test", transport: "unix", page: mapPage(int(record.Fd()), unix.PROT_READ)})
	before := metricsText(t, m)
	m.ended(42, "signal")
	after := metricsText(t, m)
	for _, want := range []string{`vgpu_calls_total{function="cuInit"} 1`, `vgpu_call_errors_total{function="cuDeviceGet"} 1`,
		`vgpu_session_device_memory_bytes{identity="uid:test",session="1"} 0`, `vgpu_sessions_open{transport="unix"} 1`} {
		if !strings.Contains(before, want+"\n") {
			t.Errorf("live: no %q in\n%s", want, before)
		}
	}
	for _, want := range []string{`vgpu_calls_total{function="cuInit"} 1`, `vgpu_call_errors_total{function="cuDeviceGet"} 1`,
		`vgpu_sessions_open{transport="unix"} 0`, `vgpu_sessions_total{transport="unix"} 1`, `vgpu_worker_deaths_total{cause="signal"} 1`} {
		if !strings.Contains(after, want+"\n") {
			t.Errorf("ended: no %q in\n%s", want, after)
		}
	}
	if strings.Contains(after, "vgpu_session_device_memory_bytes{") {
		t.Errorf("an ended session's memory series is left:\n%s", after)
	}
}

// metricsText is m's registry in Prometheus's text format.
func metricsText(t *testing.T, m *serverMetrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{}).ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// statsSession runs a session on b with VGPU_WORKER_STATS=1, as pipeSessionSetup does, and
// returns it too (its stats are read once done is closed).
func statsSession(t *testing.T, b Backend) (*remoting.Conn, net.Conn, chan error, *Session) {
	t.Helper()
	t.Setenv("VGPU_WORKER_STATS", "1")
	var sess *Session
	c, cli, done := pipeSessionSetup(t, b, func(s *Session) {
		if s.stats = newWorkerStats(); s.stats == nil {
			t.Fatal("VGPU_WORKER_STATS=1 gave no stats")
		}
		sess = s
	})
	return c, cli, done, sess
}

// VGPU_WORKER_STATS: the session counts each row's calls and the time they took, and the line
// it logs at the end names them.
func TestWorkerStatsCountRows(t *testing.T) {
	c, cli, done, sess := statsSession(t, NewSim())
	hello(t, c, api.TableHash())
	call(t, c, 1, "cuInit", []uint64{0})
	for i := range 3 {
		call(t, c, uint64(2+i), "cuDriverGetVersion", nil)
	}
	cli.Close()
	<-done
	line := sess.stats.String()
	for _, want := range []string{"worker stats: 4 calls", " cuDriverGetVersion=3/", " cuInit=1/", "waiting for frames"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q does not say %q", line, want)
		}
	}
}

// VGPU_WORKER_STATS: the line counts the hand-offs of the reading between the session's threads
// (each a wake-up on every later frame's path): none after the first call of a client calling
// from one thread, one a call when two client threads take turns.
func TestWorkerStatsCountHandoffs(t *testing.T) {
	handoffs := func(threads ...uint16) (uint64, string) {
		c, cli, done, sess := statsSession(t, NewSim())
		hello(t, c, api.TableHash())
		for i := range 10 {
			if r := callOn(t, c, threads[i%len(threads)], uint64(1+i), "cuDriverGetVersion"); r.Result != 0 {
				t.Fatalf("cuDriverGetVersion = %d", r.Result)
			}
		}
		cli.Close()
		<-done
		return sess.stats.handoffs, sess.stats.String()
	}
	if n, line := handoffs(1); n != 1 || !strings.Contains(line, "the reading handed between threads 1 times") {
		t.Errorf("one client thread, 10 calls: %d hand-offs, want 1 (Serve's goroutine to the thread)\n%s", n, line)
	}
	if n, _ := handoffs(1, 2); n != 10 {
		t.Errorf("two client threads taking turns, 10 calls: %d hand-offs, want 10", n)
	}
}

// VGPU_WORKER_STATS: a synchronisation that waited while another thread's calls ran is counted
// apart from the worker's busy time (the two overlap), so the line's parts add up to its total.
func TestWorkerStatsWaitBeside(t *testing.T) {
	sim := NewSim()
	c, cli, done, sess := statsSession(t, sim)
	hello(t, c, api.TableHash())
	callOn(t, c, 1, 1, "cuInit", 0)
	a := out64(callOn(t, c, 1, 2, "cuMemAlloc_v2", 4096), 0)
	st := out64(callOn(t, c, 1, 3, "cuStreamCreate", 0), 0)
	sim.mu.Lock()
	sim.work = 200 * time.Millisecond
	sim.mu.Unlock()
	sendOn(t, c, 1, remoting.FlagAsync, 4, "cuMemcpyDtoDAsync_v2", a, a, 16, st)
	sendOn(t, c, 1, 0, 5, "cuStreamSynchronize", st)
	time.Sleep(10 * time.Millisecond)
	sendOn(t, c, 2, 0, 6, "cuDriverGetVersion") // runs while thread 1 waits
	for range 2 {
		if _, r := reply(t, c); r.Result != 0 {
			t.Fatalf("result %d", r.Result)
		}
	}
	cli.Close()
	<-done
	w := sess.stats
	if w.beside < 150*time.Millisecond {
		t.Errorf("waits beside other threads' calls: %v, want the 200 ms synchronisation", w.beside)
	}
	line := w.String()
	if m := regexp.MustCompile(`the rest \(replies, decoding\) (-?[0-9.]+) ms`).FindStringSubmatch(line); m == nil || strings.HasPrefix(m[1], "-") {
		t.Errorf("the rest is negative or missing: %s", line)
	}
}

// A host library's failure that goes back to the client is logged once per row and code, with
// the library's own text where the backend has it; the client gets the code each time.
func TestFailuresLoggedOnce(t *testing.T) {
	var lines []string
	c, _, _ := pipeSessionSetup(t, NewSim(), func(s *Session) {
		s.logSink = func(l string) { lines = append(lines, l) }
	})
	hello(t, c, api.TableHash())
	call(t, c, 1, "cuInit", []uint64{0})
	for i, flags := range []uint64{0x03, 0x04, 0x03, 0x05} { // 3 and 5 are no scheduling mode
		r := call(t, c, uint64(2+i), "cuDevicePrimaryCtxSetFlags_v2", []uint64{0, flags})
		want := int32(1) // CUDA_ERROR_INVALID_VALUE
		if flags == 0x04 {
			want = 0
		}
		if r.Result != want {
			t.Fatalf("flags %#x: result %d, want %d", flags, r.Result, want)
		}
	}
	var failures []string
	for _, l := range lines {
		if strings.Contains(l, " returned ") {
			failures = append(failures, l)
		}
	}
	if len(failures) != 1 || !strings.HasPrefix(failures[0], "cuDevicePrimaryCtxSetFlags_v2 returned 1;") {
		t.Fatalf("failure lines %q, want one for cuDevicePrimaryCtxSetFlags_v2 returning 1", failures)
	}
}
