// Package testout finds the build outputs (build/out) for tests that use the real artefacts.
package testout

import (
	"os"
	"path/filepath"
	"testing"
)

// Dir is build/out — $VGPU_OUT (make test sets it), else ../../build/out from the test's
// package — and fails the test unless each of the named files is there.
func Dir(t testing.TB, need ...string) string {
	t.Helper()
	dir := os.Getenv("VGPU_OUT")
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "out")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range need {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatalf("%v: run make build first", err)
		}
	}
	return dir
}
