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
