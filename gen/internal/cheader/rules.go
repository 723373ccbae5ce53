package cheader

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// The rules by which gen/cmd/extract turns a header into the lines of a declaration file
// (gen/README.md describes each file). Each returns its lines sorted, without duplicates, and
// warnings: what it left out that a person should know of.

// macroWords are the macros NVIDIA's headers write around a declaration: calling conventions,
// export, host/device and deprecation markers, storage classes.
var macroWords = map[string]bool{
	"extern": true, "static": true, "inline": true, "__inline__": true, "__forceinline__": true,
	"__host__": true, "__device__": true, "__cudart_builtin__": true, "CUDARTAPI": true, "CUDAAPI": true,
	"CUBLASAPI": true, "CUBLASWINAPI": true, "__CUDA_DEPRECATED": true, "CUDART_DEVICE": true,
	"EXCLUDE_FROM_RTC": true, "__stdcall": true, "__cdecl": true, "CUDA_CB": true, "CUDART_CB": true,
}

// pfnTypedef matches a driver entry point's versioned pointer typedef:
// typedef CUresult (CUDAAPI *PFN_cuMemcpy_v7000_ptds)(...).
var (
	pfnTypedef     = regexp.MustCompile(`^typedef \w+ ?\( ?CUDAAPI ?\* ?PFN_(\w+?)_v(\d+)(_ptds|_ptsz)? ?\) ?\(`)
	unversionedPFN = regexp.MustCompile(`^typedef \w+ ?\( ?CUDAAPI ?\* ?PFN_\w+ ?\) ?\(`)
)

// PFNTypedefs is the rule for cudaTypedefs.h and its siblings (cudaProfilerTypedefs.h,
// cudaGLTypedefs.h, ...): one line "name version [ptds|ptsz]" per PFN_<name>_v<version>[_ptds|_ptsz]
// typedef, the __CUDA_API_VERSION_INTERNAL block's older versions included. A PFN typedef
// without a version (12.9 has PFN_cuModuleGetFunctionCount) says nothing of one: it is left out
// and named among the warnings.
func PFNTypedefs(h Header) (lines, warnings []string, err error) {
	var out []string
	for _, s := range h.Stmts {
		m := pfnTypedef.FindStringSubmatch(s.Text)
		if m == nil {
			if unversionedPFN.MatchString(s.Text) {
				warnings = append(warnings, "PFN typedef without a version, left out: "+s.Text)
			} else if strings.HasPrefix(s.Text, "typedef") && strings.Contains(s.Text, "PFN_") {
				return nil, nil, fmt.Errorf("a PFN typedef of an unknown shape: %s", s.Text)
			}
			continue
		}
		line := m[1] + " " + m[2]
		if m[3] != "" {
			line += " " + m[3][1:]
		}
		out = append(out, line)
	}
	return sortedUnique(out, pfnLess), warnings, nil
}

// pfnLess orders PFN lines by name, then numerically by version, the legacy variant first.
func pfnLess(a, b string) bool {
	fa, fb := strings.Fields(a), strings.Fields(b)
	if fa[0] != fb[0] {
		return fa[0] < fb[0]
	}
	if len(fa[1]) != len(fb[1]) {
		return len(fa[1]) < len(fb[1])
	}
	if fa[1] != fb[1] {
		return fa[1] < fb[1]
	}
	return len(fa) < len(fb) || len(fa) == len(fb) && a < b
}

// ptMacro matches "#define cudaX __CUDART_API_PTDS(cudaY)" (or _PTSZ); aliasMacro
// "#define cudaX cudaY".
var (
	ptMacro    = regexp.MustCompile(`^#define (cuda\w+) __CUDART_API_PT(DS|SZ)\((cuda\w+)\)$`)
	aliasMacro = regexp.MustCompile(`^#define (cuda\w+) (cuda\w+)$`)
)

// RuntimeExports is the rule for cuda_runtime_api.h: the export names it yields. Every
// function it declares (extern ... cuda*(...), whatever #if block it is in, so the
// __CUDA_API_VERSION_INTERNAL block's plain names too); the target of every "#define cudaX
// cudaY"; for "#define cudaX __CUDART_API_PTDS(cudaY)" (or PTSZ) both cudaY and cudaY_ptds (or
// cudaY_ptsz), the per-thread default stream variant.
func RuntimeExports(h Header) (lines, warnings []string, err error) {
	out := declaredCuda(h)
	for _, d := range h.Directives {
		if m := ptMacro.FindStringSubmatch(d); m != nil {
			out = append(out, m[3], m[3]+"_pt"+strings.ToLower(m[2]))
		} else if m := aliasMacro.FindStringSubmatch(d); m != nil {
			out = append(out, m[2])
		}
	}
	return sortedUnique(out, nil), nil, nil
}

// InteropExports is the rule for the runtime's interop headers (cuda_gl_interop.h,
// cuda_egl_interop.h, cuda_vdpau_interop.h): every cuda* function they declare, the
// Windows-only ones (#ifdef _WIN32) left out.
func InteropExports(h Header) (lines, warnings []string, err error) {
	return sortedUnique(declaredCuda(h), nil), nil, nil
}

// PrivateExports is the rule for crt/host_runtime.h and crt/device_functions.h: every __cuda*
// function they declare with extern (no body), the runtime's private entry points that nvcc's
// generated code calls.
func PrivateExports(h Header) (lines, warnings []string, err error) {
	return sortedUnique(declared(h, "__cuda"), nil), nil, nil
}

// declaredCuda: the names of the functions h declares with extern whose name starts with cuda.
func declaredCuda(h Header) []string { return declared(h, "cuda") }

// declared: the names of the functions h declares with extern whose name starts with prefix.
func declared(h Header, prefix string) []string {
	var out []string
	for _, s := range h.Stmts {
		if s.Body || !strings.HasPrefix(s.Text, "extern ") {
			continue
		}
		if f, ok := ParseFunc(s.Text, macroWords); ok && strings.HasPrefix(f.Name, prefix) {
			out = append(out, f.Name)
		}
	}
	return out
}

// CublasPrototypes is the rule for cublas_api.h: the prototype of every function it declares
// with CUBLASWINAPI (its static inline C++ wrappers have bodies and are left out).
func CublasPrototypes(h Header) (lines, warnings []string, err error) {
	lines, err = prototypes(h, "CUBLASWINAPI")
	return lines, nil, err
}

// CublasLtPrototypes is the rule for cublasLt.h: the prototype of every function it declares
// (the *Init_internal entries its static inline *Init wrappers call included, the wrappers
// themselves, which have bodies, not).
func CublasLtPrototypes(h Header) (lines, warnings []string, err error) {
	lines, err = prototypes(h, "")
	return lines, nil, err
}

// prototypes: the declarations (no bodies) of functions, with marker among the tokens before
// the name when marker is not "", sorted by name.
func prototypes(h Header, marker string) ([]string, error) {
	byName := map[string]string{}
	var names []string
	for _, s := range h.Stmts {
		if s.Body {
			continue
		}
		f, ok := ParseFunc(s.Text, macroWords)
		if !ok || marker != "" && !contains(f.Prefix, marker) {
			continue
		}
		p := f.String()
		if old, dup := byName[f.Name]; dup {
			if old != p {
				return nil, fmt.Errorf("%s declared twice, differently:\n\t%s\n\t%s", f.Name, old, p)
			}
			continue
		}
		byName[f.Name] = p
		names = append(names, f.Name)
	}
	sort.Strings(names)
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = byName[n]
	}
	return out, nil
}

func contains(s []string, w string) bool {
	for _, t := range s {
		if t == w {
			return true
		}
	}
	return false
}

// sortedUnique sorts lines (byte order, or by less) and drops repeats.
func sortedUnique(lines []string, less func(a, b string) bool) []string {
	if less == nil {
		less = func(a, b string) bool { return a < b }
	}
	sort.Slice(lines, func(i, j int) bool { return less(lines[i], lines[j]) })
	out := lines[:0]
	for i, l := range lines {
		if i == 0 || l != lines[i-1] {
			out = append(out, l)
		}
	}
	return out
}
