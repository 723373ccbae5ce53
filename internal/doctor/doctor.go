// Package doctor is `vgpu doctor`: it checks, in the environment a CUDA program would run in,
// everything the seed's users tripped over without one log line saying why: a missing file in
// LD_PRELOAD, vgpu loaded twice (a second Go runtime), a stub whose own dependencies do not
// resolve, a consumer library that needs a symbol or a version node the stub lacks (a silent
// RTLD_NOW failure in Ollama), an unreachable server, and a discovery that finds no GPU. Each
// check prints one line, "ok", "WARN" or "FAIL", with the reason. No cgo: it reads ELF files with
// debug/elf and runs vgpu-discover to see discovery through the stubs.
package doctor

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Options says what to check and where to write.
type Options struct {
	// Env is the environment checked and handed to vgpu-discover; nil means os.Environ().
	Env []string
	// Consumers are libraries (e.g. libggml-cuda.so) whose vgpu imports are checked.
	Consumers []string
	// Discover is vgpu-discover's path; "" finds it next to Self, then in the folders of the
	// preloaded vgpu libraries and of LD_LIBRARY_PATH. "-" skips discovery.
	Discover string
	// Self is the doctor's executable ("" = os.Executable()).
	Self string
	// Verbose prints every discovery step, not just the failing one.
	Verbose bool
	// Root is the root folder whose installed packages are checked ("" = "/"; for tests).
	Root string
	// PreloadFile is /etc/ld.so.preload (a variable for tests).
	PreloadFile string
	// ServerTimeout bounds the handshake (default 5 s), DiscoverTimeout vgpu-discover (60 s).
	ServerTimeout, DiscoverTimeout time.Duration
	Out                            io.Writer
}

// Status is a check's verdict.
type Status int

const (
	OK Status = iota
	Warn
	Fail
)

func (s Status) String() string { return [...]string{"ok", "WARN", "FAIL"}[s] }

// Result is one printed check.
type Result struct {
	Status  Status
	Subject string // e.g. "preload /path/libcuda.so.1", "server", "discovery step 3 cuDeviceGet"
	Msg     string
}

func (r Result) String() string { return fmt.Sprintf("%-4s %s: %s", r.Status, r.Subject, r.Msg) }

// Report is every check of one run.
type Report struct {
	Results []Result
	out     io.Writer
}

func (rep *Report) add(s Status, subject, format string, args ...any) {
	r := Result{Status: s, Subject: subject, Msg: fmt.Sprintf(format, args...)}
	rep.Results = append(rep.Results, r)
	if rep.out != nil {
		fmt.Fprintln(rep.out, r)
	}
}

// Failed reports whether any check failed.
func (rep *Report) Failed() bool {
	for _, r := range rep.Results {
		if r.Status == Fail {
			return true
		}
	}
	return false
}

// environ is an environment as a lookup.
type environ struct {
	vars map[string]string
	list []string
}

func newEnviron(list []string) *environ {
	e := &environ{vars: map[string]string{}, list: list}
	// getenv returns the first occurrence of a name: fill from the end so that the first wins.
	for i := len(list) - 1; i >= 0; i-- {
		if k, v, ok := strings.Cut(list[i], "="); ok {
			e.vars[k] = v
		}
	}
	return e
}

func (e *environ) get(k string) string { return e.vars[k] }

func (e *environ) lookup(k string) (string, bool) {
	v, ok := e.vars[k]
	return v, ok
}

// Run runs every check, printing one line each to o.Out, and returns the report. The process
// exit status of `vgpu doctor` is 1 when any check failed (a WARN does not fail).
func Run(o Options) *Report {
	envArg := o.Env
	if o.Env == nil {
		o.Env = os.Environ()
	}
	if o.Root == "" {
		o.Root = "/"
	}
	if o.PreloadFile == "" {
		o.PreloadFile = "/etc/ld.so.preload"
	}
	if o.ServerTimeout == 0 {
		o.ServerTimeout = 5 * time.Second
	}
	if o.DiscoverTimeout == 0 {
		o.DiscoverTimeout = 60 * time.Second
	}
	if o.Self == "" {
		o.Self, _ = os.Executable()
	}
	rep := &Report{out: o.Out}
	env := newEnviron(o.Env)
	d := &doctor{o: o, env: env, envArg: envArg, rep: rep, cache: &ldCache{}}
	d.res = newResolver(env, d.cache)

	d.checkPreload()
	d.checkLibraryPath()
	d.checkInstall()
	for _, c := range o.Consumers {
		d.checkConsumer(c)
	}
	d.checkServer()
	if o.Discover != "-" {
		d.checkDiscovery()
	}
	return rep
}

// doctor is one run's state.
type doctor struct {
	o   Options
	env *environ
	// envArg is Options.Env as given: nil means the process's own environment, whose server
	// address remoting.ServerAddress finds.
	envArg []string
	rep    *Report
	cache  *ldCache
	res    *resolver

	preloads []*preloadEntry // LD_PRELOAD and ld.so.preload entries, in load order
	server   *serverResult   // nil until checked
}
