package server

import (
	"context"
	"fmt"
	"github.com/vgpu/vgpu/internal/settings"
	"io"
	"log/slog"
	"os"
	"sync"
)

// The server's and its workers' log: every line goes through log/slog, one line per event on
// stderr, with attributes (session, identity, function, code, reason, ...) that the JSON format
// carries as fields. log_format (config key; the worker's --log-format) chooses:
//
//	text  the human line of earlier releases: "vgpu-server: " ("vgpu-server[PID]: " in a
//	      worker), "session N [IDENTITY]: " when the line is a session's, then the message.
//	      The message says in words what the other attributes say (their JSON form), so they
//	      are not repeated.
//	json  one JSON object per line: time, level, msg, pid, and every attribute.
//
// VGPU_LOG=debug adds call traces (level DEBUG); VGPU_LOG=quiet keeps only errors (ERROR).

// logger is this process's log; SetLogFormat and SetWorkerLog configure it.
var logger = slog.New(newTextHandler(os.Stderr, "vgpu-server: ", logLevel))

// logLevel is VGPU_LOG's level.
var logLevel = func() *slog.LevelVar {
	v := new(slog.LevelVar)
	switch settings.Log.Get() {
	case "debug":
		v.Set(slog.LevelDebug)
	case "quiet":
		v.Set(slog.LevelError)
	}
	return v
}()

// Log-format names (config key log_format).
const (
	LogText = "text"
	LogJSON = "json"
)

// Logger is this process's log.
func Logger() *slog.Logger { return logger }

// SetLogFormat makes the server process log in format (LogText or LogJSON).
func SetLogFormat(format string) error {
	return setLog(format, "vgpu-server: ")
}

// SetWorkerLog makes a worker log in format (its --log-format, the server's log_format).
func SetWorkerLog(format string) error {
	return setLog(format, fmt.Sprintf("vgpu-server[%d]: ", os.Getpid()))
}

func setLog(format, prefix string) error {
	var h slog.Handler
	switch format {
	case "", LogText:
		h = newTextHandler(os.Stderr, prefix, logLevel)
	case LogJSON:
		h = slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: logLevel})
	default:
		return fmt.Errorf("log format %q: want text or json", format)
	}
	logger = slog.New(h).With("pid", os.Getpid())
	slog.SetDefault(logger) // anything logged through package log comes here too
	return nil
}

// debugLog reports whether call tracing is on (VGPU_LOG=debug).
func debugLog() bool { return logLevel.Level() <= slog.LevelDebug }

var (
	onceMu   sync.Mutex
	onceSeen = map[string]bool{}
)

// logOnce logs at level WARN the first time key is seen in this process.
func logOnce(key, msg string, args ...any) {
	onceMu.Lock()
	seen := onceSeen[key]
	onceSeen[key] = true
	onceMu.Unlock()
	if !seen {
		logger.Warn(msg, args...)
	}
}

// textHandler writes the text format: prefix, "session N [IDENTITY]: " when the record (or the
// logger) has a session attribute, and the message; one write per line.
type textHandler struct {
	w      io.Writer
	mu     *sync.Mutex
	prefix string
	level  slog.Leveler
	attrs  []slog.Attr // from WithAttrs (groups are flattened: the text shows no attributes but these two)
}

func newTextHandler(w io.Writer, prefix string, level slog.Leveler) *textHandler {
	return &textHandler{w: w, mu: new(sync.Mutex), prefix: prefix, level: level}
}

func (h *textHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

func (h *textHandler) WithAttrs(as []slog.Attr) slog.Handler {
	c := *h
	c.attrs = append(append([]slog.Attr(nil), h.attrs...), as...)
	return &c
}

func (h *textHandler) WithGroup(string) slog.Handler { return h }

func (h *textHandler) Handle(_ context.Context, r slog.Record) error {
	var session, identity string
	see := func(a slog.Attr) bool {
		switch a.Key {
		case "session":
			session = a.Value.Resolve().String()
		case "identity":
			identity = a.Value.Resolve().String()
		}
		return true
	}
	for _, a := range h.attrs {
		see(a)
	}
	r.Attrs(see)
	b := make([]byte, 0, len(h.prefix)+len(r.Message)+48)
	b = append(b, h.prefix...)
	if session != "" {
		b = append(b, "session "...)
		b = append(b, session...)
		if identity != "" {
			b = append(b, " ["...)
			b = append(b, identity...)
			b = append(b, ']')
		}
		b = append(b, ": "...)
	}
	b = append(b, r.Message...)
	if len(b) == 0 || b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	_, err := h.w.Write(b)
	return err
}

// sessionAttrs are the attributes that name a session: its id and the identity the transport
// proved (escaped by the server: sanitize).
func sessionAttrs(id uint64, identity string) []any {
	return []any{slog.Uint64("session", id), slog.String("identity", identity)}
}
