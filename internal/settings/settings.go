// Package settings declares every VGPU_* environment variable vgpu reads, once: its name, the
// kind of value, the default, what it means, which processes read it and, for the client's,
// the config file key that sets the same. Go code reads a variable only through its
// declaration (settings.ShmMB.Get()), which parses it in one place: a value that does not
// parse is reported in one line naming the variable (once per value and process) and the
// default is used. The README's tables of variables and config keys are generated from these
// declarations (cmd/vgpudocs; `make generate` writes them, `make test` fails when they are
// stale).
//
// It imports only the standard library: the client core (libvgpucore.so) imports it.
package settings

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Reader is a process, or a program, that reads a variable.
type Reader string

const (
	InClient   Reader = "client"    // libvgpucore.so, in a CUDA program's process
	InCLI      Reader = "vgpu"      // the vgpu command (ping, smi, doctor)
	InStubs    Reader = "C stubs"   // the C libraries, before (or without) the Go core
	InExecShim Reader = "exec shim" // libvgpu-exec.so (C)
	InServer   Reader = "server"    // vgpu-server, the process that accepts connections
	InWorker   Reader = "worker"    // vgpu-server's process for one session
	InTests    Reader = "tests"     // go test (make test) only
	InScripts  Reader = "scripts"   // test/gpu (on the GPU machine) and scripts/
)

// Var is the declaration of one environment variable.
type Var struct {
	Name    string   // VGPU_...
	Type    string   // the kind of value, as the docs say it
	Default string   // what applies when it is unset, or its value does not parse
	Meaning string   // what it does (Markdown: `code` spans)
	ReadBy  []Reader // who reads it
	Key     string   // the client config file key that sets the same (the variable wins), if any
	// CReaders are the C sources that read it themselves (getenv), since they run before the
	// Go core or without it; generated stubs (zz_*.c) are named by their generator,
	// cmd/vgpugen/main.go. TestEveryVariableDeclared checks the list.
	CReaders []string
}

// TestOnly reports whether only tests and test scripts read the variable.
func (v *Var) TestOnly() bool {
	for _, r := range v.ReadBy {
		if r != InTests && r != InScripts {
			return false
		}
	}
	return true
}

// Raw is the variable's value in this process's environment, spaces trimmed.
func (v *Var) Raw() string { return v.RawIn(os.Getenv) }

// RawIn is the variable's value in the environment getenv reads (`vgpu doctor` checks an
// environment that need not be its own), spaces trimmed.
func (v *Var) RawIn(getenv func(string) string) string { return strings.TrimSpace(getenv(v.Name)) }

// Setting is a variable with its parser.
type Setting[T any] struct {
	Var
	def   T
	parse func(string) (T, error)
}

// Lookup is the variable's value and true when it is set and parses. A value that does not
// parse is reported (see Warn) and counts as unset.
func (s *Setting[T]) Lookup() (T, bool) { return s.LookupIn(os.Getenv) }

// LookupIn is Lookup in the environment getenv reads.
func (s *Setting[T]) LookupIn(getenv func(string) string) (T, bool) {
	raw := s.RawIn(getenv)
	if raw == "" {
		return s.def, false
	}
	v, err := s.parse(raw)
	if err != nil {
		warnOnce(s.Name, raw, fmt.Sprintf("%s=%q: %v; using the default (%s)", s.Name, raw, err, s.Default))
		return s.def, false
	}
	return v, true
}

// Get is the variable's value if it is set and parses, else the default.
func (s *Setting[T]) Get() T {
	v, _ := s.Lookup()
	return v
}

// Parse parses a value as the variable's (for a value that comes from elsewhere, such as the
// config file key of the same meaning); it reports nothing.
func (s *Setting[T]) Parse(raw string) (T, error) { return s.parse(strings.TrimSpace(raw)) }

var (
	warnMu   sync.Mutex
	warned   = map[[2]string]bool{}
	warnLine = func(line string) { os.Stderr.WriteString("vgpu: " + line + "\n") }
)

// SetWarn sets where reports of values that do not parse go (internal/vlog sets its own
// logger, with its prefix); until then they go to stderr prefixed "vgpu: ".
func SetWarn(f func(line string)) {
	warnMu.Lock()
	warnLine = f
	warnMu.Unlock()
}

// warnOnce reports line the first time this process sees value in variable name.
func warnOnce(name, value, line string) {
	warnMu.Lock()
	seen := warned[[2]string{name, value}]
	warned[[2]string{name, value}] = true
	f := warnLine
	warnMu.Unlock()
	if !seen {
		f(line)
	}
}

var all []*Var

func declare[T any](v Var, def T, parse func(string) (T, error)) *Setting[T] {
	s := &Setting[T]{Var: v, def: def, parse: parse}
	all = append(all, &s.Var)
	return s
}

// All is every declared variable, in the order of the README's tables.
func All() []*Var { return all }

// ByName is the declaration of variable name, or nil.
func ByName(name string) *Var {
	for _, v := range all {
		if v.Name == name {
			return v
		}
	}
	return nil
}

// ConfigKeys is every client config file key: the Key of each variable that has one.
func ConfigKeys() []string {
	var keys []string
	for _, v := range all {
		if v.Key != "" {
			keys = append(keys, v.Key)
		}
	}
	return keys
}

// cOnly declares a variable that only C (or a script) reads: no Go accessor parses it.
func cOnly(v Var) *Var {
	all = append(all, &v)
	return &v
}

// text declares a variable whose value is any non-empty text (a path, an address); def is
// what Get returns when it is unset.
func text(v Var, def string) *Setting[string] {
	return declare(v, def, func(s string) (string, error) { return s, nil })
}

// integer declares a variable holding an integer from lo to hi.
func integer(v Var, def, lo, hi int) *Setting[int] {
	return declare(v, def, func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n < lo || n > hi {
			if hi == int(^uint(0)>>1) {
				return 0, fmt.Errorf("want an integer of at least %d", lo)
			}
			return 0, fmt.Errorf("want an integer from %d to %d", lo, hi)
		}
		return n, nil
	})
}

// ringKB declares a ring's size in KiB: 0, or a power of two from 64 to 16384 (default 1024).
func ringKB(v Var) *Setting[int] {
	return declare(v, 1024, func(s string) (int, error) {
		n, err := strconv.Atoi(s)
		if err != nil || n != 0 && (n < 64 || n > 16384 || n&(n-1) != 0) {
			return 0, fmt.Errorf("want 0 or a power of two from 64 to 16384")
		}
		return n, nil
	})
}

// seconds declares a variable holding a number of seconds, at least 0 (fractions allowed).
func seconds(v Var, def time.Duration) *Setting[time.Duration] {
	return declare(v, def, func(s string) (time.Duration, error) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || f < 0 || f > 1e9 {
			return 0, fmt.Errorf("want a number of seconds, 0 or more")
		}
		return time.Duration(f * float64(time.Second)), nil
	})
}

// boolean declares a variable holding a boolean (ParseBool).
func boolean(v Var, def bool) *Setting[bool] { return declare(v, def, ParseBool) }

// oneOf declares a variable holding one of the keys of values, each of which stands for its
// value (aliases map to the same one); def is what Get returns when it is unset.
func oneOf(v Var, def string, names []string, values map[string]string) *Setting[string] {
	return declare(v, def, func(s string) (string, error) {
		if c, ok := values[s]; ok {
			return c, nil
		}
		return "", fmt.Errorf("want %s", strings.Join(names, ", "))
	})
}

// ParseBool reads 1/0, true/false, yes/no, on/off (any case); "" is false.
func ParseBool(v string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "true", "yes", "on":
		return true, nil
	case "0", "false", "no", "off", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want 1/0, true/false, yes/no, on/off)", v)
}
