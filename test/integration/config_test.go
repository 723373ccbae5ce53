package integration

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConfigUnknownKey: a client config file with a misspelt key ("sever") fails the program's
// first call with the API's error and one log line naming the key, the file and the line; it does
// not fall back to the default address. The same file spelt right connects.
func TestConfigUnknownKey(t *testing.T) {
	s := startServer(t, false)
	out := outDir(t)
	dir := t.TempDir()
	conf := filepath.Join(dir, "vgpu.conf")
	write := func(text string) {
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("# client config\n\nsever = " + s.unix + "\n")
	r := run(t, 10*time.Second, cleanEnv("VGPU_CONFIG="+conf, "LD_LIBRARY_PATH="+out), filepath.Join(out, "devicequery"))
	if r.signal != 0 || r.code != 1 {
		t.Fatalf("devicequery with a misspelt config key: want exit status 1, got %s", r)
	}
	want := conf + `:3: unknown key "sever"`
	if n := strings.Count(r.stderr, want); n != 1 {
		t.Errorf("stderr has %d lines with %q, want exactly 1:\n%s", n, want, r)
	}
	if strings.Contains(r.stderr, "cannot reach") {
		t.Errorf("the client fell back to another address:\n%s", r)
	}

	write("# client config\n\nserver = " + s.unix + "\n")
	r = run(t, 10*time.Second, cleanEnv("VGPU_CONFIG="+conf, "LD_LIBRARY_PATH="+out), filepath.Join(out, "devicequery"))
	if r.code != 0 || !strings.Contains(r.stdout, "vgpu simulated device") {
		t.Fatalf("devicequery with the key spelt right: %s", r)
	}
}

// TestBadVariableValue: a VGPU_* variable whose value does not parse costs one log line naming
// it, in the client and in the worker, and its default applies (internal/settings): the
// program runs, with the shared memory's default size and one simulated GPU.
func TestBadVariableValue(t *testing.T) {
	s := startServerWith(t, serverOpts{env: []string{"VGPU_SIM_DEVICES=many"}})
	r := devicequeryOK(t, s.unix, "VGPU_SHM_MB=lots", "VGPU_SPIN_US=fast")
	for _, want := range []string{
		`vgpu: VGPU_SHM_MB="lots": want an integer from 0 to 1048576; using the default (64)` + "\n",
		`vgpu: VGPU_SPIN_US="fast": want an integer from 0 to 1073741824; using the default (2000 with 4 or more cores, else 50)` + "\n",
	} {
		if n := strings.Count(r.stderr, want); n != 1 {
			t.Errorf("client stderr has %d lines %q, want 1:\n%s", n, want, r)
		}
	}
	if !strings.Contains(r.stdout, "devices: 1\n") {
		t.Errorf("want one simulated GPU:\n%s", r)
	}
	// the worker's log: its line, and the session's shared memory at the default size
	for _, want := range []string{`VGPU_SIM_DEVICES="many": want an integer from 1 to 8; using the default (1)`, "shared memory 64 MiB"} {
		deadline := time.Now().Add(5 * time.Second)
		for !strings.Contains(s.log(), want) && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if !strings.Contains(s.log(), want) {
			t.Errorf("the server's log lacks %q:\n%s", want, s.log())
		}
	}
}
