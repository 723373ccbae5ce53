package integration

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/testout"
)

// Several vgpu-servers seen by one client as one device list (VGPU_SERVER a,b): two simulated
// hosts of 2 and 3 GPUs (the second numbered 1 with VGPU_SIM_HOST, so its UUIDs and device
// addresses differ from the first's, as two machines' do), and test/c/multidev.c, built by the
// Makefile, linked against the driver, the runtime and NVML.

// simUUID is simulated host host's GPU h's UUID (internal/server/sim.go: byte 14 the host, 15 h+1).
func simUUID(host, h int) string {
	return fmt.Sprintf("GPU-76677075-2d73-696d-0000-00000000%02x%02x", host, h+1)
}

// twoServers starts the simulated hosts of 2 and 3 GPUs and returns them and VGPU_SERVER for both.
func twoServers(t *testing.T) (a, b *server, list string) {
	t.Helper()
	a = startServerWith(t, serverOpts{env: []string{"VGPU_SIM_DEVICES=2"}})
	b = startServerWith(t, serverOpts{env: []string{"VGPU_SIM_DEVICES=3", "VGPU_SIM_HOST=1"}})
	return a, b, a.unix + "," + b.unix
}

// multidev is build/out/multidev (test/c/multidev.c).
func multidev(t *testing.T) string {
	t.Helper()
	return filepath.Join(testout.Dir(t, "multidev"), "multidev")
}

// TestMultiServerList: the five GPUs in the servers' order, the same in the driver API, the
// runtime and NVML (UUIDs, PCI locations shifted by 0x100 in the domain for the second server,
// lookups by UUID and PCI bus id), peer access only within a server; CUDA_VISIBLE_DEVICES
// selects over the combined list in both forms; one address is one server's list, as before.
func TestMultiServerList(t *testing.T) {
	_, _, list := twoServers(t)
	out := outDir(t)
	r := run(t, 30*time.Second, cleanEnv("VGPU_SERVER="+list, "LD_LIBRARY_PATH="+out), multidev(t), "list")
	if r.code != 0 {
		t.Fatalf("multidev list: %s", r)
	}
	type gpu struct {
		uuid, pci string
	}
	var want []gpu
	for h := 0; h < 2; h++ {
		want = append(want, gpu{simUUID(0, h), fmt.Sprintf("00000000:%02x:00.0", h)})
	}
	for h := 0; h < 3; h++ {
		want = append(want, gpu{simUUID(1, h), fmt.Sprintf("00000100:%02x:00.0", h)})
	}
	var lines []string
	for _, api := range []string{"driver", "runtime", "nvml"} {
		lines = append(lines, fmt.Sprintf("%s-count 5", api))
		for i, g := range want {
			switch api {
			case "driver":
				lines = append(lines, fmt.Sprintf("driver %d %s %s byPCI=%d vgpu simulated device (no GPU)", i, g.uuid, g.pci, i))
			case "runtime":
				lines = append(lines, fmt.Sprintf("runtime %d %s %s vgpu simulated device (no GPU)", i, g.uuid, g.pci))
			case "nvml":
				lines = append(lines, fmt.Sprintf("nvml %d %s %s index=%d byUUID=%d byPCI=%d domain=%s vgpu simulated device (no GPU)", i, g.uuid, g.pci, i, i, i, g.pci[:8]))
			}
		}
	}
	for a := 0; a < 5; a++ {
		for b := 0; b < 5; b++ {
			if a != b {
				can := 0
				if (a < 2) == (b < 2) {
					can = 1
				}
				lines = append(lines, fmt.Sprintf("peer %d %d %d", a, b, can))
			}
		}
	}
	for _, l := range lines {
		if !strings.Contains(r.stdout, l+"\n") {
			t.Errorf("no line %q", l)
		}
	}
	if t.Failed() {
		t.Fatalf("%s", r)
	}

	// CUDA_VISIBLE_DEVICES over the combined list: the second server's GPU 1 (index 3), then the
	// first server's GPU 1 by UUID. NVML ignores it, as natively.
	r = run(t, 30*time.Second, cleanEnv("VGPU_SERVER="+list, "LD_LIBRARY_PATH="+out, "CUDA_VISIBLE_DEVICES=3,"+simUUID(0, 1)), multidev(t), "list")
	for _, l := range []string{"driver-count 2", "runtime-count 2", "nvml-count 5",
		"driver 0 " + want[3].uuid + " " + want[3].pci + " byPCI=0", "driver 1 " + want[1].uuid + " " + want[1].pci + " byPCI=1",
		"runtime 0 " + want[3].uuid, "runtime 1 " + want[1].uuid, "peer 0 1 0", "peer 1 0 0"} {
		if !strings.Contains(r.stdout, l) {
			t.Errorf("CUDA_VISIBLE_DEVICES=3,%s: no %q", simUUID(0, 1), l)
		}
	}
	if r.code != 0 || t.Failed() {
		t.Fatalf("%s", r)
	}

	// vgpu smi: the five GPUs, each with the server it lives on
	addrs := strings.Split(list, ",")
	r = run(t, 30*time.Second, cleanEnv("VGPU_SERVER="+list), filepath.Join(out, "vgpu"), "smi", "-L")
	for i, g := range want {
		l := fmt.Sprintf("GPU %d: vgpu simulated device (no GPU) (UUID: %s) on %s\n", i, g.uuid, addrs[min(i/2, 1)])
		if !strings.Contains(r.stdout, l) {
			t.Errorf("vgpu smi -L: no line %q", l)
		}
	}
	r2 := run(t, 30*time.Second, cleanEnv("VGPU_SERVER="+list), filepath.Join(out, "vgpu"), "smi")
	if r.code != 0 || r2.code != 0 || !strings.Contains(r2.stdout, "| Server ") || strings.Count(r2.stdout, addrs[1]) != 4 ||
		!strings.Contains(r2.stdout, "Servers: "+addrs[0]+", "+addrs[1]+" ") {
		t.Errorf("vgpu smi with two servers: want both in the header and a Server column naming the second for its 3 GPUs\n%s\n%s", r, r2)
	}
	if t.Failed() {
		t.FailNow()
	}

	// one address: that server's devices alone
	a := addrs[1]
	r = run(t, 30*time.Second, cleanEnv("VGPU_SERVER="+a, "LD_LIBRARY_PATH="+out), multidev(t), "list")
	for _, l := range []string{"driver-count 3", "runtime-count 3", "nvml-count 3",
		"driver 0 " + simUUID(1, 0) + " 00000000:00:00.0 byPCI=0", "nvml 2 " + simUUID(1, 2) + " 00000000:02:00.0 index=2"} {
		if !strings.Contains(r.stdout, l) {
			t.Errorf("one server: no %q", l)
		}
	}
	if r.code != 0 || t.Failed() {
		t.Fatalf("%s", r)
	}
}

// TestMultiServerCopy: a buffer uploaded to device 0 (first server) is copied by peer copies to
// device 3 (second server: staged through the client) and on to device 4 (same server: run
// there), back by cudaMemcpyDefault and by an async peer copy on a stream of device 3, and by the
// driver's unified cuMemcpy; each read back and compared. cudaPointerGetAttributes names the
// device of the second server's memory.
func TestMultiServerCopy(t *testing.T) {
	_, _, list := twoServers(t)
	r := run(t, 60*time.Second, cleanEnv("VGPU_SERVER="+list, "LD_LIBRARY_PATH="+outDir(t)), multidev(t), "copy", "0", "3", "4")
	for _, l := range []string{"host->A ok", "peer A->B ok", "peer B->C ok", "attributes b type=2 device=3", "default B->A+1 ok",
		"async peer B->A ok", "wait ok", "cuMemcpy C->A ok"} {
		if !strings.Contains(r.stdout, l+"\n") {
			t.Errorf("no line %q", l)
		}
	}
	if n := strings.Count(r.stderr, "go through this process"); n != 1 {
		t.Errorf("%d lines saying cross-server copies are staged, want 1", n)
	}
	if r.code != 0 || t.Failed() {
		t.Fatalf("%s", r)
	}

	// Two simulated hosts of one number give the same device addresses, as two machines' drivers
	// may: the overlap is logged once, and copies that name their devices still find them.
	c := startServerWith(t, serverOpts{env: []string{"VGPU_SIM_DEVICES=2"}})
	d := startServerWith(t, serverOpts{env: []string{"VGPU_SIM_DEVICES=3"}})
	r = run(t, 60*time.Second, cleanEnv("VGPU_SERVER="+c.unix+","+d.unix, "LD_LIBRARY_PATH="+outDir(t)), multidev(t), "copy", "0", "3", "4")
	if !strings.Contains(r.stdout, "pointers a=0x7f0000000000 b=0x7f0000000000 ") {
		t.Errorf("the hosts' first allocations differ")
	}
	for _, l := range []string{"host->A ok", "peer A->B ok", "peer B->C ok", "async peer B->A ok"} {
		if !strings.Contains(r.stdout, l+"\n") {
			t.Errorf("colliding addresses: no line %q", l)
		}
	}
	if n := strings.Count(r.stderr, "overlaps device memory of vgpu-server 1"); n != 1 {
		t.Errorf("%d lines about overlapping addresses, want 1", n)
	}
	if t.Failed() {
		t.Fatalf("%s", r)
	}
}

// TestMultiServerKilled: with the second server killed while a program works on device 0 (first
// server) and device 3 (second), the calls on device 3 fail with the unreachable code (100,
// CUDA_ERROR_NO_DEVICE / cudaErrorNoDevice; NVML 9) and one log line names the lost server;
// device 0 goes on working.
func TestMultiServerKilled(t *testing.T) {
	_, b, list := twoServers(t)
	p := startLive(t, cleanEnv("VGPU_SERVER="+list, "LD_LIBRARY_PATH="+outDir(t), "VGPU_KEEPALIVE_S=1"), multidev(t), "loop", "0", "3")
	p.waitLines(t, "ROUND", 3, 20*time.Second)
	if l := p.line("ROUND 0 "); l != "ROUND 0 a=0 b=0 nvml=0" {
		t.Fatalf("first round %q\n%s", l, p.dump())
	}
	if err := syscall.Kill(-b.pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	p.waitLines(t, "END", 1, 30*time.Second)
	re := regexp.MustCompile(`^ROUND \d+ a=(\d+) b=(\d+) nvml=(\d+)$`)
	var after []string
	p.mu.Lock()
	for _, l := range p.out {
		m := re.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if m[1] != "0" {
			t.Errorf("device 0 failed: %q", l)
		}
		if m[2] != "0" || m[3] != "0" {
			after = append(after, l)
		}
	}
	errs := p.err.String()
	p.mu.Unlock()
	if len(after) < 20 {
		t.Fatalf("%d rounds after the server was killed, want 25\n%s", len(after), p.dump())
	}
	for _, l := range after[1:] {
		if m := re.FindStringSubmatch(l); m[2] != "100" || m[3] != "9" {
			t.Errorf("after the server was lost: %q, want b=100 nvml=9", l)
		}
	}
	if n := strings.Count(errs, "lost the vgpu-server connection ("+b.unix+")"); n != 1 {
		t.Errorf("%d lines about the lost server, want 1:\n%s", n, errs)
	}
	if strings.Contains(errs, strings.Split(list, ",")[0]) {
		t.Errorf("a line names the first server, which is alive:\n%s", errs)
	}
	if t.Failed() {
		t.Logf("%s", p.dump())
	}
}
