package main

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vgpu/vgpu/internal/settings"
	"github.com/vgpu/vgpu/internal/testout"

	"github.com/vgpu/vgpu/internal/client"
	"github.com/vgpu/vgpu/internal/remoting"
)

// The tests run the CLI as a child process (this test binary, re-executed): each run gets its own
// client session and environment, as a real `vgpu` invocation does.
func TestMain(m *testing.M) {
	if settings.TestCLIRun.Raw() == "1" {
		os.Exit(run(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// outDir is build/out with the files these tests need.
func outDir(t *testing.T) string {
	return testout.Dir(t, "vgpu-server", "libcuda.so.1", "libvgpucore.so")
}

func startServer(t *testing.T) string {
	t.Helper()
	out := outDir(t)
	dir, err := os.MkdirTemp("", "vgc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s.sock")
	var log bytes.Buffer
	cmd := exec.Command(filepath.Join(out, "vgpu-server"), "--listen", "unix://"+sock, "--backend", "sim")
	cmd.Stdout, cmd.Stderr = &log, &log
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL); <-done })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			return "unix://" + sock
		}
		if time.Now().After(deadline) {
			t.Fatalf("server did not start:\n%s", log.String())
		}
	}
}

// cli runs `vgpu args...` with env and returns stdout, stderr and the exit status.
func cli(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append([]string{"VGPU_CLI_TEST_RUN=1", "PATH=/usr/bin:/bin"}, env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	rc := 0
	if ee, ok := err.(*exec.ExitError); ok {
		rc = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	t.Logf("vgpu %s -> %d\n%s%s", strings.Join(args, " "), rc, stdout.String(), stderr.String())
	return stdout.String(), stderr.String(), rc
}

const simUUID = "GPU-76677075-2d73-696d-0000-000000000001" // internal/server's simulated device

func TestSmiList(t *testing.T) {
	addr := startServer(t)
	stdout, _, rc := cli(t, []string{"VGPU_SERVER=" + addr}, "smi", "-L")
	if rc != 0 {
		t.Fatalf("rc %d", rc)
	}
	if want := "GPU 0: vgpu simulated device (no GPU) (UUID: " + simUUID + ")\n"; stdout != want {
		t.Errorf("vgpu smi -L = %q, want %q", stdout, want)
	}
}

func TestSmiTable(t *testing.T) {
	addr := startServer(t)
	stdout, _, rc := cli(t, []string{"VGPU_SERVER=" + addr}, "smi")
	if rc != 0 {
		t.Fatalf("rc %d", rc)
	}
	for _, want := range []string{"Driver Version: 580.00-vgpu-sim", "CUDA Version: 13.0", "Server: " + addr + " (env VGPU_SERVER)",
		"backend: sim", "| GPU |", "Memory-Usage", simUUID, "vgpu simulated device (no GPU)", "0MiB / 4096MiB"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("no %q in\n%s", want, stdout)
		}
	}
	// Every table line is as wide as the others.
	lines := strings.Split(strings.TrimRight(stdout, "\n"), "\n")[1:]
	for _, l := range lines {
		if len(l) != len(lines[0]) {
			t.Errorf("ragged table: %q is %d wide, the first line %d", l, len(l), len(lines[0]))
		}
	}
}

// The table leaves out columns no device has and fills N/A where one device lacks a value.
func TestWriteSMIColumns(t *testing.T) {
	temp := uint32(41)
	devs := []client.NVMLDevice{
		{Index: 0, Name: "NVIDIA H200", UUID: "GPU-a", Memory: client.NVMLMemory{Total: 143771 << 20, Used: 512 << 20}, TemperatureC: &temp},
		{Index: 1, Name: "NVIDIA H200", UUID: "GPU-b", Memory: client.NVMLMemory{Total: 143771 << 20}},
	}
	var b bytes.Buffer
	writeSMI(&b, time.Unix(0, 0), client.Server{Addr: "tcp://h:1", Source: "default", Backend: "real", ServerVersion: "0.1.0"}, "580.159.04", "13.0", devs)
	out := b.String()
	t.Log("\n" + out)
	if !strings.Contains(out, "Temp") || !strings.Contains(out, "41C") || !regexp.MustCompile(`\| +N/A \|`).MatchString(out) {
		t.Errorf("temperature column wrong:\n%s", out)
	}
	for _, absent := range []string{"GPU-Util", "Pwr:Usage/Cap"} {
		if strings.Contains(out, absent) {
			t.Errorf("column %s shown though no device has it:\n%s", absent, out)
		}
	}
	if !strings.Contains(out, "512MiB / 143771MiB") {
		t.Errorf("memory:\n%s", out)
	}
}

func TestSmiUnreachable(t *testing.T) {
	dir := t.TempDir()
	addr := "unix://" + filepath.Join(dir, "none.sock")
	if len(addr) > 100 {
		addr = "unix:///tmp/vgpu-cli-test-none.sock"
	}
	_, stderr, rc := cli(t, []string{"VGPU_SERVER=" + addr}, "smi")
	if rc != 1 || !strings.Contains(stderr, "cannot reach vgpu-server at "+addr) || !strings.Contains(stderr, "env VGPU_SERVER") {
		t.Errorf("rc %d, stderr %q", rc, stderr)
	}
}

func TestPing(t *testing.T) {
	addr := startServer(t)
	stdout, _, rc := cli(t, []string{"VGPU_SERVER=" + addr}, "ping")
	if rc != 0 || !strings.Contains(stdout, "at "+addr+" (from env VGPU_SERVER)") || !strings.Contains(stdout, "backend sim") {
		t.Errorf("rc %d, %q", rc, stdout)
	}
	if !strings.Contains(stdout, "protocol "+strconv.Itoa(int(remoting.ProtocolVersion))) {
		t.Errorf("no protocol version: %q", stdout)
	}
}

// `vgpu doctor` exits 1 and names the missing preload; 0 in a healthy environment.
func TestDoctorExitStatus(t *testing.T) {
	out := outDir(t)
	addr := startServer(t)
	missing := filepath.Join(t.TempDir(), "libmissing.so")
	stdout, _, rc := cli(t, []string{"VGPU_SERVER=" + addr, "LD_PRELOAD=" + missing}, "doctor", "--discover", "-")
	if rc != 1 || !strings.Contains(stdout, "FAIL preload "+missing+": missing") {
		t.Errorf("missing preload: rc %d\n%s", rc, stdout)
	}
	discover := filepath.Join(out, "vgpu-discover")
	if _, err := os.Stat(discover); err != nil {
		discover = "-"
	}
	stubs := strings.Join([]string{filepath.Join(out, "libcuda.so.1"), filepath.Join(out, "libcudart.so.13"), filepath.Join(out, "libnvidia-ml.so.1")}, ":")
	stdout, _, rc = cli(t, []string{"VGPU_SERVER=" + addr, "LD_PRELOAD=" + stubs}, "doctor", "--discover", discover)
	if rc != 0 || strings.Contains(stdout, "FAIL") {
		t.Errorf("healthy environment: rc %d\n%s", rc, stdout)
	}
	if _, _, rc := cli(t, nil, "doctor", "extra-arg"); rc != 2 {
		t.Errorf("bad usage: rc %d, want 2", rc)
	}
}
