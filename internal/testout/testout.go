// Package testout finds the build outputs (build/out) for tests that use the real artefacts.
package testout

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/vgpu/vgpu/internal/settings"
)

// Dir is build/out — $VGPU_OUT (make test sets it), else ../../build/out from the test's
// package. A test that calls it is an integration test of the built artefacts: unless each of
// the named files is there, it fails under make test (VGPU_OUT set) and is skipped under a plain
// `go test` in a fresh clone, saying how to run it.
func Dir(t testing.TB, need ...string) string {
	t.Helper()
	dir := settings.TestOut.Get()
	required := dir != ""
	if dir == "" {
		dir = filepath.Join("..", "..", "build", "out")
	}
	dir, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range need {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			if !required {
				t.Skipf("integration test: %v (make test builds and runs it)", err)
			}
			t.Fatalf("%v: run make build first", err)
		}
	}
	return dir
}

// ReferenceDir is the folder of NVIDIA's own facts the tests compare with (its headers, the
// real libraries' export lists): $VGPU_REFERENCE, else a `shared/reference` folder beside the
// checkout where a workspace keeps one. It is not part of the repository; the tests that need
// it skip without it.
func ReferenceDir() string {
	if d := settings.TestReference.Get(); d != "" {
		return d
	}
	return filepath.Join("..", "..", "..", "shared", "reference")
}
