package cheader

import (
	"slices"
	"strings"
	"testing"
)

// A header of every shape Parse must handle: comments (one hiding a declaration), an extern "C"
// block, an inline body, a struct, a continued macro, a Windows-only block with an #else.
const shapes = `/* a comment; with a semicolon */
#ifndef SHAPES_H
#define SHAPES_H
#define LONG_MACRO(a) \
    ((a) + 1)
#ifdef __cplusplus
extern "C" {
#endif
// int hidden(void);
extern int CUDARTAPI cudaOne(int a, /* inline comment */ const char *s);
typedef struct shape_st {
    int x; /* ; */
} shape_t;
static inline int helper(int v) { if (v) { return 1; } return 0; }
#if defined(_WIN32)
extern int CUDARTAPI cudaWindowsOnly(void *h);
#else
extern int CUDARTAPI cudaPosixOnly(void);
#endif
const char *text = "a ; { quoted";
#ifdef __cplusplus
}
#endif
#endif
`

func TestParse(t *testing.T) {
	h := Parse([]byte(shapes))
	var got []string
	for _, s := range h.Stmts {
		body := ""
		if s.Body {
			body = " {body}"
		}
		got = append(got, s.Text+body)
	}
	want := []string{
		"extern int CUDARTAPI cudaOne(int a, const char *s)",
		"typedef struct shape_st {body}",
		"shape_t",
		"static inline int helper(int v) {body}",
		"extern int CUDARTAPI cudaPosixOnly(void)",
		`const char *text = "a ; { quoted"`,
	}
	if !slices.Equal(got, want) {
		t.Errorf("statements:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if !slices.Contains(h.Directives, "#define LONG_MACRO(a) ((a) + 1)") {
		t.Errorf("the continued macro is not one directive: %q", h.Directives)
	}
	for _, d := range h.Directives {
		if strings.Contains(d, "hidden") {
			t.Errorf("a comment became a directive: %q", d)
		}
	}
}

func TestParseFunc(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"extern __host__ cudaError_t CUDARTAPI cudaMalloc(void **devPtr, size_t size)", "cudaError_t cudaMalloc(void **devPtr, size_t size)"},
		{"CUBLASAPI cublasStatus_t CUBLASWINAPI cublasDtrsmBatched(cublasHandle_t handle, const double* alpha, const double* const A[], double* const B[], int lda)",
			"cublasStatus_t cublasDtrsmBatched(cublasHandle_t handle, const double *alpha, const double *const *A, double *const *B, int lda)"},
		{"extern __host__ cudaError_t CUDARTAPI cudaStreamCreate(cudaStream_t *pStream, unsigned int flags __dv(0))", "cudaError_t cudaStreamCreate(cudaStream_t *pStream, unsigned int flags)"},
		{"extern __CUDA_DEPRECATED __host__ cudaError_t CUDARTAPI cudaThreadExit(void)", "cudaError_t cudaThreadExit()"},
		{"const char* CUBLASWINAPI cublasGetStatusString(cublasStatus_t status)", "const char *cublasGetStatusString(cublasStatus_t status)"},
		{"size_t CUBLASWINAPI cublasGetCudartVersion(void)", "size_t cublasGetCudartVersion()"},
		{"void CUBLASWINAPI cublasXerbla(const char* srName, int info)", "void cublasXerbla(const char *srName, int info)"},
		{"int f(unsigned int, char *)", "int f(unsigned int, char *)"},
		{"int printf_like(const char *fmt, ...)", "int printf_like(const char *fmt, ...)"},
		{"__attribute__((visibility(\"default\"))) int g(int x) __attribute__((deprecated))", "int g(int x)"},
	} {
		f, ok := ParseFunc(c.in, macroWords)
		if !ok {
			t.Errorf("ParseFunc(%q): not a function", c.in)
			continue
		}
		if f.String() != c.want {
			t.Errorf("ParseFunc(%q) = %q, want %q", c.in, f.String(), c.want)
		}
		// The normalised form reads back as itself.
		if g, ok := ParseFunc(f.String(), nil); !ok || g.String() != c.want {
			t.Errorf("ParseFunc(%q) = %q, want it unchanged", c.want, g.String())
		}
	}
	for _, in := range []string{
		"typedef CUresult (CUDAAPI *PFN_cuInit_v2000)(unsigned int Flags)",
		"int x = 3",
		"void (*fp)(int)",
		"shape_t",
	} {
		if f, ok := ParseFunc(in, macroWords); ok {
			t.Errorf("ParseFunc(%q) = %q, want no function", in, f)
		}
	}
}
