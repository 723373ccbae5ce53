package integration

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// scrape GETs url (a /metrics endpoint) and returns its samples by "name{labels}" as the text
// format writes them (labels sorted by name), and the text itself.
func scrape(t *testing.T, url string) (map[string]float64, string) {
	t.Helper()
	c := http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET %s: %s, %v\n%s", url, resp.Status, err, body)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("GET %s: Content-Type %q, want Prometheus's text format", url, ct)
	}
	m := map[string]float64{}
	for _, l := range strings.Split(string(body), "\n") {
		if l == "" || l[0] == '#' {
			continue
		}
		i := strings.LastIndexByte(l, ' ')
		v, err := strconv.ParseFloat(l[i+1:], 64)
		if i < 0 || err != nil {
			t.Fatalf("GET %s: malformed sample %q", url, l)
		}
		m[l[:i]] = v
	}
	return m, string(body)
}

// sample is m's value of series, failing the test when it is missing.
func sample(t *testing.T, m map[string]float64, text, series string) float64 {
	t.Helper()
	v, ok := m[series]
	if !ok {
		t.Fatalf("no series %s in\n%s", series, text)
	}
	return v
}

// TestMetricsEndpoint: a server with metrics_listen serves Prometheus's text format at /metrics.
// A real client program (devicequery) counts a session, its calls by function and its bytes;
// while another (memloop idle) holds an allocation, its session's memory gauge shows it and its
// calls are counted from the live worker's flight record; killing that worker with SIGKILL
// counts a worker death, removes the memory series and loses no call; a malformed hello counts
// a refusal.
func TestMetricsEndpoint(t *testing.T) {
	exe := buildMemloop(t)
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d/metrics", port)
	s := startServerWith(t, serverOpts{args: []string{"--metrics-listen", fmt.Sprintf("127.0.0.1:%d", port)}})
	m, text := scrape(t, url)
	if !strings.Contains(text, "vgpu_build_info{") || sample(t, m, text, `vgpu_sessions_total{transport="unix"}`) != 0 ||
		sample(t, m, text, `vgpu_worker_deaths_total{cause="signal"}`) != 0 {
		t.Fatalf("a fresh server:\n%s", text)
	}

	devicequeryOK(t, s.unix)
	s.waitWorkers(t, 0, 5*time.Second)
	m, text = scrape(t, url)
	allocs := sample(t, m, text, `vgpu_calls_total{function="cuMemAlloc_v2"}`)
	for series, want := range map[string]float64{
		`vgpu_sessions_total{transport="unix"}`:               1,
		`vgpu_sessions_open{transport="unix"}`:                0,
		`vgpu_calls_total{function="cuDeviceGetCount"}`:       1,
		`vgpu_call_errors_total{function="cuDeviceGetCount"}`: 0,
		`vgpu_calls_total{function="cuInit"}`:                 1,
		// "copy past the allocation: refused" is devicequery's one failing call
		`vgpu_call_errors_total{function="cuMemcpyHtoD_v2"}`: 1,
	} {
		if got := sample(t, m, text, series); got != want {
			t.Errorf("after devicequery: %s = %v, want %v", series, got, want)
		}
	}
	if allocs < 1 {
		t.Errorf("after devicequery: %v calls of cuMemAlloc_v2", allocs)
	}
	rx, tx := sample(t, m, text, `vgpu_session_received_bytes_total{transport="unix"}`), sample(t, m, text, `vgpu_session_sent_bytes_total{transport="unix"}`)
	if rx < 500 || tx < 500 {
		t.Errorf("after devicequery: %v bytes received, %v sent", rx, tx)
	}
	t.Logf("devicequery: %v calls of cuMemAlloc_v2, %v bytes received, %v sent", allocs, rx, tx)

	// A live session: its memory and calls, read from the running worker.
	c := startLive(t, cleanEnv("VGPU_SERVER="+s.unix, "LD_LIBRARY_PATH="+outDir(t)), exe, "idle", "30")
	c.waitLines(t, "IDLE", 1, 15*time.Second)
	w := s.waitWorkers(t, 1, 5*time.Second)
	m, text = scrape(t, url)
	mem := fmt.Sprintf(`vgpu_session_device_memory_bytes{identity="uid:%d",session="`, os.Getuid())
	var mems []string
	for k, v := range m {
		if strings.HasPrefix(k, "vgpu_session_device_memory_bytes{") {
			mems = append(mems, fmt.Sprintf("%s %v", k, v))
			if !strings.HasPrefix(k, mem) || v != 64 {
				t.Errorf("while memloop holds 64 bytes: %s = %v, want %s…} 64", k, v, mem)
			}
		}
	}
	if len(mems) != 1 {
		t.Errorf("while memloop runs: memory series %q, want one", mems)
	}
	if got := sample(t, m, text, `vgpu_calls_total{function="cuMemAlloc_v2"}`); got != allocs+1 {
		t.Errorf("while memloop runs: %v calls of cuMemAlloc_v2, want %v", got, allocs+1)
	}
	if got := sample(t, m, text, `vgpu_sessions_open{transport="unix"}`); got != 1 {
		t.Errorf("while memloop runs: %v sessions open", got)
	}

	if err := syscall.Kill(w[0], syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.waitWorkers(t, 0, 5*time.Second)
	m, text = scrape(t, url)
	for series, want := range map[string]float64{
		`vgpu_worker_deaths_total{cause="signal"}`:      1,
		`vgpu_worker_deaths_total{cause="exit_status"}`: 0,
		`vgpu_sessions_open{transport="unix"}`:          0,
		`vgpu_sessions_total{transport="unix"}`:         2,
		`vgpu_calls_total{function="cuMemAlloc_v2"}`:    allocs + 1,
	} {
		if got := sample(t, m, text, series); got != want {
			t.Errorf("after SIGKILL of worker %d: %s = %v, want %v", w[0], series, got, want)
		}
	}
	if strings.Contains(text, "vgpu_session_device_memory_bytes{") {
		t.Errorf("the killed session's memory series is left:\n%s", text)
	}

	// A refusal, by reason.
	nc, err := net.Dial("unix", strings.TrimPrefix(s.unix, "unix://"))
	if err != nil {
		t.Fatal(err)
	}
	nc.Write(make([]byte, 16)) // a header of frame type 0
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(nc) // the Error frame, then the end
	nc.Close()
	m, text = scrape(t, url)
	if got := sample(t, m, text, `vgpu_sessions_refused_total{reason="protocol"}`); got != 1 {
		t.Errorf("after a malformed hello: %v refusals for protocol", got)
	}
	if t.Failed() {
		t.Logf("/metrics:\n%s\nserver log:\n%s", text, s.log())
	}
}

// TestLogFormatJSON: with log_format json, every line the server and its workers write to
// stderr is a JSON object with time, level and msg; session lines carry the session and the
// proved identity as attributes, failed calls the function and code, refusals the reason.
func TestLogFormatJSON(t *testing.T) {
	s := startServerWith(t, serverOpts{args: []string{"--log-format", "json"}})
	devicequeryOK(t, s.unix)
	nc, err := net.Dial("unix", strings.TrimPrefix(s.unix, "unix://"))
	if err != nil {
		t.Fatal(err)
	}
	nc.Write(make([]byte, 16))
	nc.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadAll(nc)
	nc.Close()
	s.waitWorkers(t, 0, 5*time.Second)
	time.Sleep(100 * time.Millisecond) // the worker's last line
	identity := fmt.Sprintf("uid:%d", os.Getuid())
	var lines, workerLines, serverLines int
	var failed, refused bool
	sc := bufio.NewScanner(strings.NewReader(s.log()))
	for sc.Scan() {
		lines++
		var rec map[string]any
		if err := json.Unmarshal(sc.Bytes(), &rec); err != nil {
			t.Fatalf("line %d is not JSON (%v): %s", lines, err, sc.Text())
		}
		for _, k := range []string{"time", "level", "msg", "pid"} {
			if _, ok := rec[k]; !ok {
				t.Errorf("line %d has no %q: %s", lines, k, sc.Text())
			}
		}
		if _, ok := rec["session"]; ok {
			if rec["identity"] != identity {
				t.Errorf("line %d: session without identity %s: %s", lines, identity, sc.Text())
			}
			if rec["pid"] == float64(s.pid) {
				serverLines++
			} else {
				workerLines++
			}
		}
		if rec["function"] == "cuMemcpyHtoD_v2" && rec["code"] == float64(1) && rec["level"] == "WARN" {
			failed = true
		}
		if rec["reason"] == "protocol" {
			refused = true
		}
	}
	if lines < 5 || serverLines == 0 || workerLines < 2 || !failed || !refused {
		t.Errorf("%d lines, %d session lines of the server and %d of the worker; a failed call with function and code: %v; a refusal with its reason: %v\n%s",
			lines, serverLines, workerLines, failed, refused, s.log())
	}
}

// TestCoreLinksNoPrometheus: the Prometheus client is linked into vgpu-server only: neither the
// client core (libvgpucore.so, which every CUDA program loads) nor the CLI imports it, by `go
// list -deps` and by the module list in the built files (`go version -m`).
func TestCoreLinksNoPrometheus(t *testing.T) {
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go tool on PATH")
	}
	out := outDir(t)
	deps := func(pkg string) string {
		cmd := exec.Command(goTool, "list", "-deps", pkg)
		cmd.Dir = repoRoot(t)
		b, err := cmd.Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		return string(b)
	}
	mods := func(file string) string {
		b, err := exec.Command(goTool, "version", "-m", file).Output()
		if err != nil {
			t.Fatalf("go version -m %s: %v", file, err)
		}
		return string(b)
	}
	const prom = "github.com/prometheus/"
	for _, pkg := range []string{"./shims/core", "./cmd/vgpu"} {
		if d := deps(pkg); strings.Contains(d, prom) || !strings.Contains(d, "github.com/vgpu/vgpu/internal/remoting") {
			t.Errorf("go list -deps %s: want internal/remoting and no %s:\n%s", pkg, prom, d)
		}
	}
	for _, f := range []string{coreName, "vgpu"} {
		if m := mods(out + "/" + f); strings.Contains(m, prom) {
			t.Errorf("%s links %s:\n%s", f, prom, m)
		}
	}
	if !strings.Contains(deps("./cmd/vgpu-server"), prom+"client_golang/prometheus\n") || !strings.Contains(mods(out+"/vgpu-server"), prom+"client_golang") {
		t.Error("vgpu-server does not link the Prometheus client: this test would not notice it elsewhere")
	}
}
