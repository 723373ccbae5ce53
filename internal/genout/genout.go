// Package genout writes the files the generators (cmd/vgpugen, gen/cmd/apidata) make: a file is
// written only when its content changed, so an unchanged output keeps its time stamp (make does
// not rebuild what depends on it), and Go sources are gofmt'ed first.
package genout

import (
	"bytes"
	"fmt"
	"go/format"
	"os"
	"path/filepath"
)

// Writer writes files below Root; the first failure is kept in Err and later writes do nothing.
type Writer struct {
	Root string
	Err  error
}

// Write writes content to Root/rel unless the file already holds exactly that.
func (w *Writer) Write(rel string, content []byte) {
	if w.Err != nil {
		return
	}
	p := filepath.Join(w.Root, rel)
	if old, err := os.ReadFile(p); err == nil && bytes.Equal(old, content) {
		return
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		w.Err = err
		return
	}
	w.Err = os.WriteFile(p, content, 0o644)
}

// WriteGo is Write for a Go source, formatted as gofmt would; a source that does not parse is
// the error (with the source, to see why).
func (w *Writer) WriteGo(rel string, src []byte) {
	if w.Err != nil {
		return
	}
	out, err := format.Source(src)
	if err != nil {
		w.Err = fmt.Errorf("%s: %w\n%s", rel, err, src)
		return
	}
	w.Write(rel, out)
}
