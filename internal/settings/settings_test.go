package settings

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// captureWarnings collects the lines reported for values that do not parse.
func captureWarnings(t *testing.T) *[]string {
	var lines []string
	SetWarn(func(l string) { lines = append(lines, l) })
	t.Cleanup(func() { SetWarn(func(l string) { os.Stderr.WriteString("vgpu: " + l + "\n") }) })
	return &lines
}

// TestParse: each kind of value parses valid values, and a value that does not parse gives the
// default and one line naming the variable, once per value.
func TestParse(t *testing.T) {
	warned := captureWarnings(t)
	t.Setenv("VGPU_SHM_MB", " 0 ")
	if v, ok := ShmMB.Lookup(); v != 0 || !ok {
		t.Errorf("VGPU_SHM_MB=0: %d, %v", v, ok)
	}
	t.Setenv("VGPU_SHM_MB", "")
	if v, ok := ShmMB.Lookup(); v != 64 || ok {
		t.Errorf("VGPU_SHM_MB unset: %d, %v; want the default 64", v, ok)
	}
	for _, bad := range []string{"-1", "lots", "lots"} {
		t.Setenv("VGPU_SHM_MB", bad)
		if v := ShmMB.Get(); v != 64 {
			t.Errorf("VGPU_SHM_MB=%s: %d, want the default 64", bad, v)
		}
	}
	t.Setenv("VGPU_SIM_DEVICES", "9")
	if v := SimDevices.Get(); v != 1 {
		t.Errorf("VGPU_SIM_DEVICES=9: %d, want the default 1", v)
	}
	t.Setenv("VGPU_KEEPALIVE_S", "0.5")
	if v := KeepaliveS.Get(); v != 500*time.Millisecond {
		t.Errorf("VGPU_KEEPALIVE_S=0.5: %v", v)
	}
	t.Setenv("VGPU_WORKER_STATS", "yes")
	if !WorkerStats.Get() {
		t.Error("VGPU_WORKER_STATS=yes is off")
	}
	t.Setenv("VGPU_WORKER_STATS", "0")
	if WorkerStats.Get() {
		t.Error("VGPU_WORKER_STATS=0 is on")
	}
	t.Setenv("VGPU_LOG", "trace")
	if v := Log.Get(); v != "debug" {
		t.Errorf("VGPU_LOG=trace: %q, want debug", v)
	}
	t.Setenv("VGPU_LOG", "loud")
	if v := Log.Get(); v != "normal" {
		t.Errorf("VGPU_LOG=loud: %q, want normal", v)
	}
	t.Setenv("VGPU_TLS_RELAY", "netpoll")
	if v, ok := TLSRelay.Lookup(); v != "netpoll" || !ok {
		t.Errorf("VGPU_TLS_RELAY=netpoll: %q, %v", v, ok)
	}
	want := []string{
		`VGPU_SHM_MB="-1": want an integer from 0 to 1048576; using the default (64)`,
		`VGPU_SHM_MB="lots": want an integer from 0 to 1048576; using the default (64)`,
		`VGPU_SIM_DEVICES="9": want an integer from 1 to 8; using the default (1)`,
		`VGPU_LOG="loud": want normal, debug, quiet; using the default (normal)`,
	}
	if !slices.Equal(*warned, want) {
		t.Errorf("reported:\n%s\nwant:\n%s", strings.Join(*warned, "\n"), strings.Join(want, "\n"))
	}
	if _, err := Insecure.Parse("perhaps"); err == nil {
		t.Error(`Insecure.Parse("perhaps") accepted`)
	}
	env := map[string]string{"VGPU_SERVER": " tcp://h:1 "}
	if v := Server.RawIn(func(k string) string { return env[k] }); v != "tcp://h:1" {
		t.Errorf("Server.RawIn: %q", v)
	}
}

// TestDeclarations: names are unique VGPU_* names, every variable says who reads it, and
// config keys are unique.
func TestDeclarations(t *testing.T) {
	names, keys := map[string]bool{}, map[string]bool{}
	for _, v := range All() {
		if !regexp.MustCompile(`^VGPU_[A-Z0-9_]+$`).MatchString(v.Name) || names[v.Name] {
			t.Errorf("%q: not a VGPU_ name, or declared twice", v.Name)
		}
		names[v.Name] = true
		if len(v.ReadBy) == 0 || v.Type == "" || v.Default == "" || v.Meaning == "" {
			t.Errorf("%s: its type, default, meaning and readers must all be declared", v.Name)
		}
		if v.Key != "" {
			if keys[v.Key] {
				t.Errorf("config key %q declared twice", v.Key)
			}
			keys[v.Key] = true
		}
		if ByName(v.Name) != v {
			t.Errorf("ByName(%q) is not its declaration", v.Name)
		}
	}
}

var (
	// Go reading a variable, or a test setting one
	goRead = regexp.MustCompile(`(?:os\.Getenv|os\.LookupEnv)\("(VGPU_[A-Z0-9_]+)"`)
	goName = regexp.MustCompile(`"(VGPU_[A-Z0-9_]+)(?:=|")`)
	cRead  = regexp.MustCompile(`getenv\("(VGPU_[A-Z0-9_]+)"\)`)
	shRead = regexp.MustCompile(`\$\{?(VGPU_[A-Z0-9_]+)|environ(?:\.get\(|\[)["'](VGPU_[A-Z0-9_]+)`)
	// names that are C macros, or test strings, not variables
	notVariables = map[string]bool{"VGPU_EXPORT": true}
)

// TestEveryVariableDeclared: every VGPU_* variable the repository's Go, C and scripts name is
// declared here; Go reads one only through its declaration (except the packaging module, which
// cannot import this package, for its test-only variables); and each C file that reads one
// with getenv is among its CReaders, and each CReader reads it.
func TestEveryVariableDeclared(t *testing.T) {
	root := filepath.Join("..", "..")
	cReaders := map[string]map[string]bool{} // variable -> C files (generated ones as their generator)
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			switch rel {
			case ".git", "build", "docs", ".carry", "internal/settings":
				return filepath.SkipDir
			}
			return nil
		}
		ext := filepath.Ext(p)
		if ext != ".go" && ext != ".c" && ext != ".h" && ext != ".sh" && ext != ".py" {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		src := string(b)
		declared := func(name string) {
			if !notVariables[name] && ByName(name) == nil {
				t.Errorf("%s names %s, which internal/settings does not declare", rel, name)
			}
		}
		switch ext {
		case ".go":
			for _, m := range goName.FindAllStringSubmatch(src, -1) {
				declared(m[1])
			}
			for _, m := range goRead.FindAllStringSubmatch(src, -1) {
				v := ByName(m[1])
				if !strings.HasPrefix(rel, "packaging/") || v == nil || !v.TestOnly() {
					t.Errorf("%s reads %s with os.Getenv: read it through internal/settings", rel, m[1])
				}
			}
		case ".c", ".h":
			for _, m := range cRead.FindAllStringSubmatch(src, -1) {
				declared(m[1])
				file := rel
				if strings.HasPrefix(filepath.Base(rel), "zz_") {
					file = "cmd/vgpugen/main.go"
				}
				if cReaders[m[1]] == nil {
					cReaders[m[1]] = map[string]bool{}
				}
				cReaders[m[1]][file] = true
			}
		default:
			for _, m := range shRead.FindAllStringSubmatch(src, -1) {
				declared(m[1] + m[2])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range All() {
		var got []string
		for f := range cReaders[v.Name] {
			got = append(got, f)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(v.CReaders))
		if !slices.Equal(got, want) {
			t.Errorf("%s: C files that read it %v, declared CReaders %v", v.Name, got, want)
		}
	}
}
