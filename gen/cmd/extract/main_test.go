package main

import (
	"os"
	"path/filepath"
	"testing"
)

// extract run on made-up headers in NVIDIA's shapes (testdata/include) and on an nm list
// writes exactly testdata/want: the rules, comments, Windows-only blocks, macros, default
// arguments, array parameters and inline bodies.
func TestExtract(t *testing.T) {
	out := t.TempDir()
	if err := run([]string{"headers", "-dir", "testdata/include", "-out", out, "-label", "Test 1.0"}); err != nil {
		t.Fatal(err)
	}
	if err := run([]string{"exports", "-out", out, "-label", "Test 1.0", "testdata/libtest.so.1.exports"}); err != nil {
		t.Fatal(err)
	}
	want, err := filepath.Glob("testdata/want/*.txt")
	if err != nil || len(want) == 0 {
		t.Fatal("no testdata/want files", err)
	}
	for _, w := range want {
		exp, err := os.ReadFile(w)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(out, filepath.Base(w)))
		if err != nil {
			t.Error(err)
			continue
		}
		if string(got) != string(exp) {
			t.Errorf("%s:\n%s\nwant:\n%s", filepath.Base(w), got, exp)
		}
	}
	written, _ := filepath.Glob(filepath.Join(out, "*.txt"))
	if len(written) != len(want) {
		t.Errorf("extract wrote %d files, testdata/want has %d", len(written), len(want))
	}
}

// -only picks headers; a header it names must be there.
func TestExtractOnly(t *testing.T) {
	out := t.TempDir()
	if err := run([]string{"headers", "-dir", "testdata/include", "-out", out, "-label", "T", "-only", "cublas"}); err != nil {
		t.Fatal(err)
	}
	if written, _ := filepath.Glob(filepath.Join(out, "*.txt")); len(written) != 1 || filepath.Base(written[0]) != "cublas_api.txt" {
		t.Errorf("-only cublas wrote %v", written)
	}
	if err := run([]string{"headers", "-dir", "testdata/include", "-out", out, "-label", "T", "-only", "cublasLt.h"}); err == nil {
		t.Error("-only cublasLt.h with no such file: no error")
	}
}
