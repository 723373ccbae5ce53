package integration

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// policyWorkers listens on a unix socket and serves each connection with a real
// `vgpu-server worker` started with the given policy flags (as vgpu-server starts its workers:
// the connection as fd 3). It returns the socket's VGPU_SERVER address and the workers' log.
func policyWorkers(t *testing.T, env []string, flags ...string) (string, func() string) {
	t.Helper()
	out := outDir(t)
	sock := filepath.Join(shortTempDir(t), "w.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var log bytes.Buffer
	var wg sync.WaitGroup
	go func() {
		for n := 1; ; n++ {
			c, err := l.Accept()
			if err != nil {
				return
			}
			f, err := c.(*net.UnixConn).File()
			c.Close()
			if err != nil {
				t.Error(err)
				return
			}
			args := append([]string{"worker", "--backend", "sim", "--session", fmt.Sprint(n), "--identity", "uid:test"}, flags...)
			cmd := exec.Command(filepath.Join(out, "vgpu-server"), args...)
			cmd.Env = cleanEnv(env...)
			cmd.ExtraFiles = []*os.File{f}
			w := &lockedWriter{mu: &mu, w: &log}
			cmd.Stdout, cmd.Stderr = w, w
			if err := cmd.Start(); err != nil {
				t.Error(err)
				f.Close()
				return
			}
			f.Close()
			wg.Add(1)
			go func() {
				defer wg.Done()
				done := make(chan struct{})
				go func() { cmd.Wait(); close(done) }()
				select {
				case <-done:
				case <-time.After(30 * time.Second):
					cmd.Process.Kill()
					<-done
				}
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); wg.Wait() })
	return "unix://" + sock, func() string {
		wg.Wait() // the workers end with their clients
		mu.Lock()
		defer mu.Unlock()
		return log.String()
	}
}

func buildQuotaProg(t *testing.T) string {
	t.Helper()
	out := outDir(t)
	return compileC(t, t.TempDir(), "quota", []string{filepath.Join("testdata", "quota.c")},
		"-I"+filepath.Join("..", "..", "include"), "-L"+out, "-l:libcudart.so.13", "-l:libcuda.so.1", "-l:libnvidia-ml.so.1")
}

// TestWorkerMemLimit: a program linked against the stubs, served by a real worker started with
// --mem-limit 256 MiB, reads 256 MiB as the total from every API (runtime, driver, device
// properties, NVML v1 and v2) and the same free memory from each; an allocation past the limit
// fails with cudaErrorMemoryAllocation and one log line on each side, and the next smaller
// allocation succeeds.
func TestWorkerMemLimit(t *testing.T) {
	prog := buildQuotaProg(t)
	const limit = 256 << 20
	addr, workerLog := policyWorkers(t, nil, "--mem-limit", fmt.Sprint(limit))
	r := run(t, 20*time.Second, cleanEnv("VGPU_SERVER="+addr, "LD_LIBRARY_PATH="+outDir(t)), prog, fmt.Sprint(300<<20), fmt.Sprint(100<<20))
	if r.code != 0 {
		t.Fatalf("%s\nworker log:\n%s", r, workerLog())
	}
	num := func(re string) []string {
		m := regexp.MustCompile(re).FindStringSubmatch(r.stdout)
		if m == nil {
			t.Fatalf("no %q in\n%s", re, r.stdout)
		}
		return m[1:]
	}
	want := fmt.Sprint(limit)
	for _, got := range [][]string{
		num(`cudaMemGetInfo: free (\d+) total (\d+)`),
		num(`cuMemGetInfo_v2: free (\d+) total (\d+)`),
		num(`nvmlDeviceGetMemoryInfo: total \d+ free (\d+) used \d+`),
		num(`nvmlDeviceGetMemoryInfo_v2: total \d+ reserved \d+ free (\d+) used \d+`),
	} {
		if got[0] != want || len(got) > 1 && got[1] != want {
			t.Errorf("free/total %v, want %s of %s:\n%s", got, want, want, r.stdout)
		}
	}
	for _, line := range []string{"cuDeviceTotalMem_v2: " + want, "totalGlobalMem: " + want,
		"nvmlDeviceGetMemoryInfo: total " + want + " free " + want + " used 0",
		"nvmlDeviceGetMemoryInfo_v2: total " + want + " reserved 0 free " + want + " used 0",
		"PASS over the limit", fmt.Sprintf("PASS smaller allocation; free now %d", limit-100<<20)} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("no %q in\n%s", line, r.stdout)
		}
	}
	if n := strings.Count(r.stderr, "memory limit"); n != 1 {
		t.Errorf("the client logged the refusal %d times, want once:\n%s", n, r.stderr)
	}
	if n := strings.Count(workerLog(), "memory limit"); n != 1 {
		t.Errorf("the worker logged the refusal %d times, want once:\n%s", n, workerLog())
	}
}

// TestWorkerDevices: a worker started with --devices 2 on a simulated host of three GPUs shows
// the program one GPU, host GPU 2, through the driver and NVML.
func TestWorkerDevices(t *testing.T) {
	prog := buildQuotaProg(t)
	addr, workerLog := policyWorkers(t, []string{"VGPU_SIM_DEVICES=3"}, "--devices", "2")
	r := run(t, 20*time.Second, cleanEnv("VGPU_SERVER="+addr, "LD_LIBRARY_PATH="+outDir(t)), prog)
	if r.code != 0 {
		t.Fatalf("%s\nworker log:\n%s", r, workerLog())
	}
	for _, line := range []string{"cuda devices: 1\n", "nvml devices: 1\n", "nvml device 0: GPU-76677075-2d73-696d-0000-000000000003\n"} {
		if !strings.Contains(r.stdout, line) {
			t.Errorf("no %q in\n%s", line, r.stdout)
		}
	}
}
