package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vgpu/vgpu/gen/internal/cheader"
	"github.com/vgpu/vgpu/internal/genout"
)

// procaddr_data.go's rule: versions in order are <name>, <name>_v2, ...; a per-thread variant
// is the export serving its version plus the suffix.
func TestDeriveProcAddr(t *testing.T) {
	got, err := deriveProcAddr([]pfn{
		{"cuB", 2000, ""},
		{"cuA", 3020, ""}, {"cuA", 2000, ""}, {"cuA", 7000, "ptds"}, {"cuA", 11000, ""}, {"cuA", 12000, "ptds"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, s := range got {
		b.WriteString(s.goRow())
	}
	want := "\t{\"cuA\", []ProcVersion{{2000, \"cuA\"}, {3020, \"cuA_v2\"}, {11000, \"cuA_v3\"}}, []ProcVersion{{7000, \"cuA_v2_ptds\"}, {12000, \"cuA_v3_ptds\"}}},\n" +
		"\t{\"cuB\", []ProcVersion{{2000, \"cuB\"}}, nil},\n"
	if b.String() != want {
		t.Errorf("got\n%swant\n%s", b.String(), want)
	}
	if _, err := deriveProcAddr([]pfn{{"cuC", 7000, "ptsz"}}); err == nil {
		t.Error("a per-thread typedef without a legacy one: no error")
	}
	if _, err := deriveProcAddr([]pfn{{"cuC", 7000, ""}, {"cuC", 2000, "ptsz"}}); err == nil {
		t.Error("a per-thread typedef older than every legacy one: no error")
	}
}

// The cuBLAS row rules of zz_cublas_torch.go's comment.
func TestCublasRow(t *testing.T) {
	f, ok := cheader.ParseFunc("cublasStatus_t cublasZdotc_v2(cublasHandle_t handle, int n, const cuDoubleComplex *x, int incx, cuDoubleComplex *result)", nil)
	if !ok {
		t.Fatal("no prototype")
	}
	row, err := cublasRow(f)
	if err != nil {
		t.Fatal(err)
	}
	want := "\t{Name: \"cublasZdotc_v2\", Libs: cublas, Handler: \"cublasCall\", NoLog: true, Params: []P{\n" +
		"\t\tcublasH(), scalar(\"int\", \"n\"), dev(\"const cuDoubleComplex *\", \"x\"), scalar(\"int\", \"incx\"), out(\"cuDoubleComplex *\", \"result\", \"16\")}},\n"
	if row != want {
		t.Errorf("got\n%swant\n%s", row, want)
	}
	f, _ = cheader.ParseFunc("cublasStatus_t cublasSscal_v2(cublasHandle_t handle, int n, const float *alpha, float *x, int incx)", nil)
	if row, err := cublasRow(f); err != nil || !strings.Contains(row, "Serve: Async") || !strings.Contains(row, `hScalar("const float *", "alpha", "4")`) {
		t.Errorf("cublasSscal_v2: %q, %v", row, err)
	}
	for _, bad := range []string{
		"const char *cublasGetStatusString(cublasStatus_t status)",
		"cublasStatus_t cublasSetVector(int n, int elemSize, const void *x, int incx, void *y, int incy)",
		"cublasStatus_t cublasHalfScal(cublasHandle_t handle, const __half *alpha)",
	} {
		f, _ := cheader.ParseFunc(bad, nil)
		if row, err := cublasRow(f); err == nil {
			t.Errorf("%s: row %q, want an error", bad, row)
		}
	}
}

func TestComment(t *testing.T) {
	got := comment("\t", "A paragraph that is long enough to be wrapped once it passes the width that comments have in this file.\n\n- one item\nwhich goes on\n- two\n\n\tkept as it is")
	want := "\t// A paragraph that is long enough to be wrapped once it passes the width that comments have in\n" +
		"\t// this file.\n\t//\n\t//   - one item which goes on\n\t//   - two\n\t//\n\t//\tkept as it is\n"
	if got != want {
		t.Errorf("got\n%swant\n%s", got, want)
	}
}

// The committed files are what the committed inputs give (make check-generated checks the same
// for every generated file; this keeps `go test ./...` honest about these).
func TestCommittedUpToDate(t *testing.T) {
	t.Chdir(filepath.Join("..", "..", ".."))
	for _, o := range outputs {
		src, err := o.make()
		if err != nil {
			t.Fatalf("%s: %v", o.file, err)
		}
		w := genout.Writer{Root: t.TempDir()}
		w.WriteGo(o.file, src)
		if w.Err != nil {
			t.Fatal(w.Err)
		}
		got, _ := os.ReadFile(filepath.Join(w.Root, o.file))
		have, err := os.ReadFile(filepath.Join("internal", "api", o.file))
		if err != nil || !bytes.Equal(got, have) {
			t.Errorf("internal/api/%s is stale: run make generate", o.file)
		}
	}
}
