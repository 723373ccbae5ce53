// Package vlog is vgpu's logging: one line per event on stderr, prefixed "vgpu: ", so a user
// debugging a silent failure finds a line that says why. VGPU_LOG=debug adds call traces;
// VGPU_LOG=quiet keeps only errors.
package vlog

import (
	"fmt"
	"os"
	"sync"

	"github.com/vgpu/vgpu/internal/settings"
)

type level int

const (
	quiet level = iota
	normal
	debug
)

var (
	lvl    = parse(settings.Log.Get())
	mu     sync.Mutex
	once   = map[string]bool{}
	prefix = "vgpu: "
)

// parse maps settings.Log's value (normal, debug or quiet) to a level.
func parse(s string) level {
	switch s {
	case "debug":
		return debug
	case "quiet":
		return quiet
	}
	return normal
}

// A VGPU_* variable whose value does not parse is reported as a log line.
func init() { settings.SetWarn(func(line string) { emit("%s", []any{line}) }) }

// SetPrefix changes the line prefix (the server uses "vgpu-server: ").
func SetPrefix(p string) { prefix = p }

func emit(format string, args []any) {
	line := prefix + fmt.Sprintf(format, args...)
	if line[len(line)-1] != '\n' {
		line += "\n"
	}
	os.Stderr.WriteString(line) // one write per line
}

// Errorf logs always.
func Errorf(format string, args ...any) { emit(format, args) }

// Printf logs unless VGPU_LOG=quiet.
func Printf(format string, args ...any) {
	if lvl >= normal {
		emit(format, args)
	}
}

// Debugf logs with VGPU_LOG=debug.
func Debugf(format string, args ...any) {
	if lvl >= debug {
		emit(format, args)
	}
}

// Debug reports whether call tracing is on.
func Debug() bool { return lvl >= debug }

// Once logs the first time key is seen in this process (always, like Errorf).
func Once(key, format string, args ...any) {
	mu.Lock()
	seen := once[key]
	once[key] = true
	mu.Unlock()
	if !seen {
		emit(format, args)
	}
}
