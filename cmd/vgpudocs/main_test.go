package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestREADMEFresh: the README's generated tables are what the declarations produce now (as
// `make check-generated` checks), so `go test` alone catches a stale one.
func TestREADMEFresh(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	got, err := Generate(b)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(b) {
		t.Error("README.md's generated tables are stale: run make generate")
	}
}

// TestGenerate: a section's old rows are replaced, the text around it is kept, and a README
// without a section's markers (or with two) is an error.
func TestGenerate(t *testing.T) {
	var readme strings.Builder
	for name := range Sections {
		readme.WriteString("text before " + name + "\n<!-- generated: " + name + " (note) -->\n| stale |\n<!-- end generated: " + name + " -->\nafter\n")
	}
	out, err := Generate([]byte(readme.String()))
	if err != nil {
		t.Fatal(err)
	}
	s := string(out)
	if strings.Contains(s, "| stale |") || !strings.Contains(s, "| `VGPU_SHM_MB` | client | MiB | 64 |") ||
		!strings.Contains(s, "| `max_sessions` | count | `256` |") || !strings.Contains(s, "| `tls_ca` |") ||
		!strings.Contains(s, "| `VGPU_OUT` | tests |") || strings.Count(s, "after\n") != len(Sections) {
		t.Errorf("generated:\n%s", s)
	}
	if _, err := Generate([]byte(strings.Replace(readme.String(), "<!-- generated: env ", "<!-- env ", 1))); err == nil {
		t.Error("a missing section is not an error")
	}
	if _, err := Generate([]byte(readme.String() + readme.String())); err == nil {
		t.Error("a section given twice is not an error")
	}
}
