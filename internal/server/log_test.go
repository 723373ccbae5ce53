package server

import (
	"bytes"
	"log/slog"
	"testing"
)

// TestTextLogLines: the text format is the human line: prefix, "session N [IDENTITY]: " for a
// session's line, the message; other attributes are left to the JSON format; levels below the
// threshold are dropped.
func TestTextLogLines(t *testing.T) {
	var b bytes.Buffer
	lv := new(slog.LevelVar)
	l := slog.New(newTextHandler(&b, "vgpu-server[7]: ", lv)).With("pid", 7)
	l.Info("connected", sessionAttrs(3, "uid:1000")...)
	l.With(sessionAttrs(4, "token:ci")...).Warn("cuMemAlloc_v2 failed", "function", "cuMemAlloc_v2", "code", 2)
	l.Info("listening", "listener", "unix:///s")
	l.Debug("not shown")
	want := "vgpu-server[7]: session 3 [uid:1000]: connected\n" +
		"vgpu-server[7]: session 4 [token:ci]: cuMemAlloc_v2 failed\n" +
		"vgpu-server[7]: listening\n"
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
